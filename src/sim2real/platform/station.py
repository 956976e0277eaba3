"""A station: lease a job, check the submitted server is alive, run each unrecorded trial of
the job's plan (in the simulator, or on a robot through the robot runtime), upload every trial
as soon as it ends (idempotently), keep the lease alive with heartbeats from a thread, finish.

A station killed mid-job stops its heartbeats; its lease expires and the job goes back to the
queue, and the next station starts from the first trial the platform has not recorded. A
station whose lease was taken away (its heartbeat is refused) stops after the trial in hand:
its upload is refused too, so no trial is counted twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim2real.errors import Sim2RealError
from sim2real.platform.client import PlatformClient
from sim2real.platform.errors import PlatformError

Log = Callable[[str], None]


@dataclass(frozen=True)
class TrialResult:
    success: bool
    steps: int | None
    failure: str | None
    frames: list | None = None  # head-camera frames for the trial's video


class SimTrials:
    """Trials in the simulator: one environment per job (the benchmark's cameras and image
    size), the trial's episode seed, the submitted server through our websocket client."""

    def __init__(self, video: bool = True) -> None:
        self.video = video

    def open(self, job: dict[str, Any]):
        from sim2real.env import make
        from sim2real.policy.client import RemotePolicy

        bench = job["benchmark"]
        env = make(job["task"], cameras=tuple(bench["cameras"]), image_size=tuple(bench["image_size"]))
        return env, RemotePolicy(job["endpoint"])

    def run(self, opened, trial: dict[str, Any]) -> TrialResult:
        from sim2real.core.contract import image_key
        from sim2real.evaluate.rollout import run_episode

        env, policy = opened
        observations: list | None = [] if self.video else None
        record = run_episode(env, policy, int(trial["seed"]), observations=observations)
        frames = None
        if observations:
            key = image_key(trial_camera(observations[0]))
            frames = [o[key] for o in observations if key in o]
        return TrialResult(bool(record.success), int(record.steps), record.failure, frames)

    def close(self, opened) -> None:
        env, policy = opened
        policy.close()
        env.close()


def trial_camera(observation: dict[str, Any]) -> str:
    """The camera a trial's video shows: the head camera when the station has it."""
    cameras = [k.removeprefix("images/") for k in observation if k.startswith("images/")]
    return "head" if "head" in cameras else cameras[0]


class RobotTrials:
    """Trials on a robot through the robot runtime (`sim2real.robot.runtime.run_episodes`)."""

    def __init__(self, robot: Path) -> None:
        self.robot = robot

    def open(self, job: dict[str, Any]):
        return job

    def run(self, job, trial: dict[str, Any]) -> TrialResult:
        from sim2real.robot.runtime import run_episodes

        records = run_episodes(self.robot, job["endpoint"], job["task"], None, episodes=1, seed=int(trial["seed"]))
        if not records:
            raise Sim2RealError("the robot runtime ended the trial without an episode")
        record = records[0]
        return TrialResult(bool(record.success), int(record.steps), record.failure)

    def close(self, opened) -> None:
        pass


class Heartbeat(threading.Thread):
    """Extends the lease every third of its life; `lost` once the platform refuses it."""

    def __init__(self, client: PlatformClient, job: int, lease: str, every: float) -> None:
        super().__init__(daemon=True)
        self.client, self.job, self.lease, self.every = client, job, lease, every
        self.lost: str | None = None
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.client.post("/api/station/heartbeat", {"job": self.job, "lease": self.lease})
            except PlatformError as error:
                self.lost = str(error)
                return
            except Sim2RealError:
                continue  # the platform is unreachable: keep trying while the lease lasts

    def stop(self) -> None:
        self._stop.set()


class Station:
    def __init__(self, client: PlatformClient, trials, video_dir: Path | None = None, log: Log = print,
                 poll_seconds: float = 2.0, checkpoint_dir: Path | None = None) -> None:
        import tempfile

        self.client, self.trials, self.video_dir, self.log = client, trials, video_dir, log
        self.poll_seconds = poll_seconds
        # uploaded checkpoints, kept by digest between jobs (a digest names one content forever)
        self.checkpoint_dir = checkpoint_dir or Path(tempfile.gettempdir()) / "sim2real-station-checkpoints"

    def policy_server(self, job: dict[str, Any]) -> AbstractContextManager[str]:
        """The ws:// address the job's trials dial: the submitted server, or a loopback server of
        the uploaded checkpoint (or the built-in expert) for the length of the job."""
        from sim2real.platform.checkpoints import serve_locally, served_by_station

        if not served_by_station(job["endpoint"]):
            return nullcontext(job["endpoint"])
        self.log(f"job {job['id']}: serving {job['endpoint']} here")
        return serve_locally(job["endpoint"], self.download_checkpoint, self.checkpoint_dir)

    def download_checkpoint(self, sha256: str, path: Path) -> None:
        self.client.request("GET", f"/api/checkpoints/{sha256}", sink=path)

    def run(self, max_jobs: int | None = None, idle_exit: float | None = None) -> int:
        """Lease and run jobs until `max_jobs` are done or nothing came for `idle_exit` s."""
        done, idle_since = 0, time.monotonic()
        while max_jobs is None or done < max_jobs:
            try:
                reply = self.client.post("/api/station/lease")
            except PlatformError:
                raise  # refused (a revoked token, a station removed): the operator must act
            except Sim2RealError as error:  # unreachable: keep asking
                self.log(str(error))
                time.sleep(self.poll_seconds)
                continue
            job = reply.get("job")
            if job is None:
                if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                    break
                time.sleep(self.poll_seconds)
                continue
            self.run_job(job)
            done += 1
            idle_since = time.monotonic()
        return done

    def run_job(self, job: dict[str, Any]) -> dict[str, Any] | None:
        from sim2real.platform.endpoint import fetch_metadata

        job_id, lease = job["id"], job["lease"]
        remaining = [t for t in job["plan"]["trials"] if t["index"] not in set(job["recorded"])]
        self.log(f"job {job_id} ({job['task']}, attempt {job['attempt']}): {len(remaining)} of "
                 f"{job['planned']} trials to run against {job['endpoint']}")
        beat = Heartbeat(self.client, job_id, lease, max(0.2, job["lease_seconds"] / 3))
        beat.start()
        served = ExitStack()  # a policy this station serves itself, stopped when the job ends
        try:
            try:
                job = {**job, "endpoint": served.enter_context(self.policy_server(job))}
                fetch_metadata(job["endpoint"])  # alive now, not only when it was submitted
                opened = self.trials.open(job)
            except Exception as error:  # noqa: BLE001 - the submission's failure ends its job, not the station
                return self._finish(job_id, lease, f"the policy server could not be used: {error}")
            try:
                for trial in remaining:
                    if beat.lost:
                        self.log(f"job {job_id}: lease lost ({beat.lost}); stopping")
                        return None
                    result = self.trials.run(opened, trial)
                    self._upload(job, trial["index"], result)
            finally:
                self.trials.close(opened)
            return self._finish(job_id, lease, None)
        except PlatformError as error:  # the lease was taken away between heartbeats
            self.log(f"job {job_id}: {error}")
            return None
        except Sim2RealError as error:  # the platform stayed unreachable through the retries
            self.log(f"job {job_id}: {error}; the job returns to the queue when its lease expires")
            return None
        finally:
            served.close()
            beat.stop()

    def _upload(self, job: dict[str, Any], index: int, result: TrialResult) -> None:
        job_id, lease = job["id"], job["lease"]
        key = f"job{job_id}.trial{index}.{lease}"
        self.client.post(f"/api/jobs/{job_id}/trials", {
            "lease": lease, "index": index, "idempotency_key": key, "success": result.success,
            "steps": result.steps, "failure": (result.failure or None) and str(result.failure)[:2000]})
        self.log(f"job {job_id}: trial {index + 1}/{job['planned']} {'success' if result.success else 'failure'}")
        if result.frames and self.video_dir is not None:
            from sim2real.media import write_mp4

            path = write_mp4(self.video_dir / f"job{job_id}-trial{index}.mp4", result.frames, fps=25)
            self.client.request("PUT", f"/api/jobs/{job_id}/trials/{index}/video?lease={lease}",
                                data=path.read_bytes(), content_type="video/mp4")

    def _finish(self, job_id: int, lease: str, error: str | None) -> dict[str, Any]:
        reply = self.client.post(f"/api/jobs/{job_id}/finish", {"lease": lease, "error": error})
        self.log(f"job {job_id}: {reply['state']} ({reply['recorded']}/{reply['planned']} trials)"
                 + (f": {error}" if error else ""))
        return reply
