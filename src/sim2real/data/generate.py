"""Generate demonstration datasets: only successful expert episodes, exactly reproducible,
parallel, and safe to kill at any moment.

Two phases, as RoboTwin 2.0: (1) find the first N seeds whose expert episode succeeds, without
rendering (physics only: ~0.1 s per episode, and failures cost nothing else); (2) replay exactly
those seeds with cameras and write each as its own set of files. The env is a pure function of
(task, settings, seed) and rendering never touches the physics, so the replay is the same
episode. Phase 1's plan fixes every episode's index, global frame offset and task index before
any rendering starts, so phase 2 can run in any order, on any number of workers, and resume.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim2real.data import layout
from sim2real.data.finalize import finalize
from sim2real.data.writer import EpisodeFrames, write_episode
from sim2real.errors import Sim2RealError, invalid
from sim2real.parallel import Pool, split
from sim2real.locks import LOCK_NAME, FolderLock
from sim2real.media import TEMP_PREFIX, atomic_path, remove_temporaries, why_not_a_folder

PLAN_FILE = layout.PLAN_PATH


@dataclass(frozen=True)
class GenerateSpec:
    task: str
    settings: dict[str, Any]
    episodes: int
    first_seed: int

    def __post_init__(self) -> None:
        rate = self.settings.get("control_hz", 25)
        if rate != int(rate):  # checked before any work: a LeRobot dataset's fps is an integer
            raise invalid("control_hz", rate, "a whole number of Hz for a dataset (LeRobot's fps is an integer)")

    def key(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlannedEpisode:
    index: int
    seed: int
    length: int
    start: int
    task_index: int
    instruction: str


def _try_seeds(task: str, settings: dict[str, Any], seeds: list[int]) -> list[tuple[int, bool, int, str]]:
    """(seed, success, steps, instruction) for each seed, physics only."""
    from sim2real.env import make
    from sim2real.experts.runner import ScriptedExpert

    env = make(task, **{**settings, "cameras": (), "fidelity": "low"})
    expert = ScriptedExpert(env)
    try:
        out = []
        for seed in seeds:
            result = expert.run(seed)
            out.append((seed, result.success, result.steps, env.instruction))
        return out
    finally:
        env.close()


def plan_episodes(spec: GenerateSpec, pool: Pool, on_seed: Callable[[bool], None] | None = None
                  ) -> tuple[list[PlannedEpisode], int]:
    """The first `spec.episodes` successful seeds in order, and how many failed before them."""
    kept: list[tuple[int, int, str]] = []
    failures = 0
    candidate = spec.first_seed
    while len(kept) < spec.episodes:
        needed = spec.episodes - len(kept)
        batch = list(range(candidate, candidate + max(needed + needed // 4, 2)))
        candidate += len(batch)
        chunks = split(batch, max(pool.workers, -(-len(batch) // 10)))
        results = sorted(r for part in pool.map(_try_seeds, [(spec.task, spec.settings, c) for c in chunks])
                         for r in part)
        for seed, success, steps, instruction in results:
            if len(kept) == spec.episodes:
                break
            if success:
                kept.append((seed, steps, instruction))
            else:
                failures += 1
            if on_seed is not None:
                on_seed(success)
        if failures > 20 * spec.episodes + 50:
            raise Sim2RealError(f"the expert fails too often on {spec.task} with these settings "
                                f"({failures} failures for {len(kept)} successes)")
    tasks: dict[str, int] = {}
    plan, start = [], 0
    for index, (seed, steps, instruction) in enumerate(kept):
        task_index = tasks.setdefault(instruction, len(tasks))
        plan.append(PlannedEpisode(index, seed, steps, start, task_index, instruction))
        start += steps
    return plan, failures


def record_expert_episodes(
    spec: GenerateSpec, root: str, episodes: list[PlannedEpisode]
) -> list[int]:
    """Run the expert again on planned seeds, now with cameras, and write each episode (frames,
    actions, randomization records); returns the episode indices written."""
    from sim2real.env import make
    from sim2real.experts.runner import ScriptedExpert

    env = make(spec.task, **spec.settings)
    expert = ScriptedExpert(env)
    written = []
    try:
        for planned in episodes:
            observations, actions, infos = [], [], []

            def record(observation, action, info):
                observations.append(observation)
                actions.append(action)
                infos.append(info)

            result = expert.run(planned.seed, record)
            if not result.success or result.steps != planned.length:
                raise Sim2RealError(
                    f"seed {planned.seed} did not replay as planned (success {result.success}, "
                    f"{result.steps} steps vs {planned.length}): the episode is not reproducible"
                )
            frames = EpisodeFrames(
                states=np.array([o["state"] for o in observations[:-1]]),
                actions=np.array(actions[1:]),
                images={c: np.array([o[f"images/{c}"] for o in observations[:-1]]) for c in env.settings.cameras},
                randomization=[info["randomization"] for info in infos[:-1]],
                instruction=planned.instruction,
                episode=infos[0]["episode"].as_dict(),
            )
            write_episode(Path(root), planned.index, planned.start, planned.task_index, frames,
                          env.settings.control_hz)
            written.append(planned.index)
    finally:
        env.close()
    return written


def check_output_folder(root: Path) -> None:
    """Refuse to write into anything but a new or empty folder, or one of our own datasets
    (finished, or interrupted: it has our staging folder), so a user's files are never replaced."""
    reason = why_not_a_folder(root)
    if reason is not None:
        raise invalid("out", str(root), f"a new, empty or sim2real dataset folder; {reason}")
    if not root.exists():
        return
    if (root / layout.STAGING).is_dir() or _is_our_dataset(root):
        return
    theirs = sorted(p.name for p in root.iterdir() if not p.name.startswith((LOCK_NAME, f"{TEMP_PREFIX}{LOCK_NAME}")))
    if theirs:
        shown = ", ".join(theirs[:3]) + (f" and {len(theirs) - 3} more" if len(theirs) > 3 else "")
        raise Sim2RealError(f"invalid out: {str(root)!r} is not empty and not a sim2real dataset "
                            f"(it holds {shown}); allowed: a new or empty folder, or a dataset "
                            "to resume")


def _is_our_dataset(root: Path) -> bool:
    try:
        return "sim2real" in json.loads((root / "meta" / "info.json").read_text())
    except (OSError, ValueError):
        return False


def load_or_make_plan(root: Path, spec: GenerateSpec, pool: Pool, on_seed=None) -> tuple[list[PlannedEpisode], int]:
    """Phase 1, or its saved result when resuming the same command."""
    path = root / PLAN_FILE
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved["spec"] != json.loads(json.dumps(spec.key())):
            raise Sim2RealError(
                f"{root} holds a dataset generated by a different command; use another --out "
                "or remove it"
            )
        return [PlannedEpisode(**e) for e in saved["episodes"]], saved["failures"]
    if (root / "meta" / "info.json").exists():
        raise Sim2RealError(f"{root} already holds a dataset; use another --out or remove it")
    plan, failures = plan_episodes(spec, pool, on_seed)
    with atomic_path(path, ".json") as tmp:
        tmp.write_text(json.dumps({"spec": spec.key(), "failures": failures,
                                   "episodes": [asdict(e) for e in plan]}))
    return plan, failures


@contextmanager
def output_folder(out: Path, on_note: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold `out` for writing a dataset: refused (before anything is written, even the lock)
    unless it is new, empty or ours, then locked exclusively until the block ends."""
    check_output_folder(out)
    with FolderLock(out, on_note):
        check_output_folder(out)  # again under the lock: another run may have written meanwhile
        remove_temporaries(out, layout.OWN_FILES)  # half-written files of a killed run
        yield out


def generate(spec: GenerateSpec, out: Path, workers: int = 1, ray_address: str | None = None,
             on_seed: Callable[[bool], None] | None = None,
             on_episode: Callable[[int], None] | None = None,
             on_note: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Generate (or resume) the dataset `spec` describes in `out`, holding its lock."""
    with output_folder(out, on_note):
        return generate_into(spec, out, workers, ray_address, on_seed, on_episode)


def generate_into(spec: GenerateSpec, out: Path, workers: int = 1, ray_address: str | None = None,
                  on_seed: Callable[[bool], None] | None = None,
                  on_episode: Callable[[int], None] | None = None) -> dict[str, Any]:
    """`generate` in a folder the caller holds with `output_folder`."""
    pool = Pool(workers, ray_address)
    plan, failures = load_or_make_plan(out, spec, pool, on_seed)
    todo = [e for e in plan if not layout.record_file(out, e.index).is_file()]
    if on_episode is not None:
        on_episode(len(plan) - len(todo))
    # Small chunks: a kill loses at most one unfinished episode per worker.
    for written in pool.map(record_expert_episodes, [(spec, str(out), [e]) for e in todo]):
        if on_episode is not None:
            on_episode(len(written))
    summary = finalize(out, spec.settings)
    summary["failures"] = failures
    return summary
