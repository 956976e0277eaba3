"""Checkpoints a submission uploads instead of serving, and the seeded baselines: stored by
sha256 once, read only with torch.load(weights_only=True) (a crafted pickle is refused without
running it), checked against the benchmark like a server's metadata, served on loopback by the
station for its job; `seed-baselines` submits the expert and the reference VLA once.

SQLite only (the tables are the ones test_platform_queue runs on PostgreSQL too); the HTTP
upload and download are in test_platform_api."""

import hashlib

import pytest
import torch
from sqlalchemy.orm import Session

from platform_peers import seed_platform, tiny_checkpoint
from sim2real.errors import Sim2RealError
from sim2real.platform.admin import add_benchmark, seed_baselines
from sim2real.platform.auth import authenticate
from sim2real.platform.checkpoints import BUILTIN_EXPERT, CheckpointStore, checkpoint_policy, serve_locally
from sim2real.platform.db import open_database
from sim2real.platform.endpoint import fetch_metadata
from sim2real.platform.errors import Forbidden, Refused
from sim2real.platform.leaderboard import leaderboard
from sim2real.platform.service import Platform
from sim2real.policy.vla.checkpoint import FORMAT
from test_checkpoint import RunsCode  # unpickling it would touch a marker file

TINY_SIZE = (96, 96)  # what the tiny head-camera model renders at


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("checkpoint") / "tiny.pt")


def chunks_of(path):
    data = path.read_bytes()
    return [data[i:i + 2**20] for i in range(0, len(data), 2**20)]


def test_stored_by_digest_once_and_a_crafted_pickle_is_refused(tmp_path, tiny):
    store = CheckpointStore(tmp_path / "store")
    view, created = store.put(chunks_of(tiny))
    sha = hashlib.sha256(tiny.read_bytes()).hexdigest()
    assert created and view["sha256"] == sha and view["policy"] == f"checkpoint:sha256:{sha}"
    assert view["metadata"]["name"] == "reference-vla-tiny-continuous" and view["metadata"]["cameras"] == ["head"]
    again, created = store.put(chunks_of(tiny))
    assert not created and again == view
    assert [p.name for p in (tmp_path / "store").iterdir()] == [f"{sha}.pt"]  # no temporaries left

    marker = tmp_path / "code-ran"
    crafted = tmp_path / "crafted.pt"
    torch.save({"format": FORMAT, "config": {}, "hook": RunsCode(marker)}, crafted)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    for path, said in ((crafted, "it holds pickled Python objects"), (foreign, "not a sim2real VLA checkpoint")):
        with pytest.raises(Refused, match=said) as error:
            store.put(chunks_of(path))
        assert str(error.value).startswith("invalid checkpoint: refusing the upload" if path == crafted
                                           else "invalid checkpoint: the upload is a torch file")
    with pytest.raises(Refused, match="0 bytes"):
        store.put([])
    assert not marker.exists()
    assert [p.name for p in (tmp_path / "store").iterdir()] == [f"{sha}.pt"]


def test_submitted_by_digest_checked_against_the_benchmark_and_seeded_as_baselines(tmp_path, tiny):
    database = str(tmp_path / "platform.sqlite")
    tokens = seed_platform(database, image_size=TINY_SIZE)
    engine = open_database(database)
    add_benchmark(engine, "tiny-224", ["click_bell"], preset="smoke", kind="sim", cameras=["head"],
                  image_size=(224, 224))
    with Session(engine) as session:
        who = {name: authenticate(session, token) for name, token in tokens.items()}
    store = CheckpointStore(tmp_path / "store")
    platform = Platform(engine, probe=lambda url: pytest.fail(f"dialled {url}"), checkpoints=store)
    try:
        stored, _ = store.put(chunks_of(tiny))
        view = platform.submit(who["alice"], "tiny", stored["policy"])
        assert view["name"] == "reference-vla-tiny-continuous" and view["jobs"][0]["state"] == "queued"
        with pytest.raises(Refused, match=r"invalid image_size: \[96, 96\]; allowed: \[224, 224\]"):
            platform.submit(who["alice"], "tiny-224", stored["policy"])
        with pytest.raises(Refused, match="allowed: one uploaded with PUT /api/checkpoints"):
            platform.submit(who["alice"], "tiny", checkpoint_policy("0" * 64))
        with pytest.raises(Refused, match="64 lowercase hex digits"):
            platform.submit(who["alice"], "tiny", "checkpoint:sha256:abc")
        with pytest.raises(Forbidden, match="only an admin submits a built-in policy"):
            platform.submit(who["alice"], "tiny", BUILTIN_EXPERT)

        seeded = seed_baselines(engine, "tiny", vla=str(tiny), checkpoints=store)
        assert [(s["baseline"], s["policy"], s["created"]) for s in seeded] == [
            ("expert", BUILTIN_EXPERT, True), ("reference VLA", stored["policy"], True)]
        again = seed_baselines(engine, "tiny", vla=str(tiny), checkpoints=store)
        assert [(s["submission"], s["created"]) for s in again] == [(s["submission"], False) for s in seeded]
        # once a station ran one, the leaderboard lists it as a baseline (one entry: no Barnard test to wait for)
        platform.cancel(who["alice"], view["id"])
        job = platform.lease(who["station"])["job"]
        assert job["endpoint"] == BUILTIN_EXPERT and job["submission"] == seeded[0]["submission"]
        for index in range(job["planned"]):
            platform.upload_trial(who["station"], job["id"], job["lease"], index, f"k{job['id']}.{index}", True)
        platform.finish(who["station"], job["id"], job["lease"])
        board = leaderboard(engine, "tiny")
        assert [(e["name"], e["user"], e["baseline"]) for e in board["entries"]] == [("expert", "baselines", True)]
    finally:
        engine.dispose()


def test_the_station_serves_the_checkpoint_and_the_expert_on_loopback(tmp_path, tiny):
    store = CheckpointStore(tmp_path / "store")
    stored, _ = store.put(chunks_of(tiny))

    def download(sha, path):  # what the station's client does over GET /api/checkpoints/SHA
        path.write_bytes(store.path(sha).read_bytes())

    cache = tmp_path / "station-cache"
    with serve_locally(stored["policy"], download, cache) as url:
        assert url.startswith("ws://127.0.0.1:")
        assert fetch_metadata(url)["name"] == "reference-vla-tiny-continuous"
    assert (cache / f"{stored['sha256']}.pt").is_file()  # kept for the next job
    with serve_locally(BUILTIN_EXPERT, download, cache) as url:
        assert fetch_metadata(url)["privileged"] is True

    def tampered(sha, path):
        path.write_bytes(store.path(sha).read_bytes() + b"x")

    with pytest.raises(Sim2RealError, match="whose sha256 is not"):
        with serve_locally(stored["policy"], tampered, tmp_path / "other-cache"):
            pass
    assert not list((tmp_path / "other-cache").iterdir())


def test_a_killed_servers_half_written_uploads_are_swept_but_live_ones_kept(tmp_path):
    """A server SIGKILLed mid-upload leaves its temporaries; the next `platform serve` removes
    those not written to for an hour, keeps a fresh one (a second server may be receiving it)
    and never touches finished files or a user's own .tmp- files."""
    import os
    import time

    from sim2real.media import TEMP_PREFIX
    from sim2real.platform.server import STALE_UPLOAD_SECONDS, sweep_stale_uploads

    videos, checkpoints = tmp_path / "videos", tmp_path / "checkpoints"
    videos.mkdir()
    checkpoints.mkdir()
    old_video = videos / f"{TEMP_PREFIX}job3-trial1.mp4.ab12cd34.mp4"
    old_upload = checkpoints / f"{TEMP_PREFIX}upload.zz9_8y7x.pt"
    live_upload = checkpoints / f"{TEMP_PREFIX}upload.aaaabbbb.pt"
    kept = [live_upload, videos / "job3-trial0.mp4", checkpoints / f"{'0' * 64}.pt", videos / f"{TEMP_PREFIX}notes.txt"]
    for path in (old_video, old_upload, *kept):
        path.write_bytes(b"x")
    long_ago = time.time() - STALE_UPLOAD_SECONDS - 60
    for path in (old_video, old_upload, kept[-1]):
        os.utime(path, (long_ago, long_ago))

    assert sweep_stale_uploads(videos, checkpoints) == 2
    assert not old_video.exists() and not old_upload.exists()
    assert all(path.exists() for path in kept)
