"""Real peers for the platform's tests (see peers.py): the platform server, a policy server
(`sim2real serve`) and stations, and a small platform to run them on."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from peers import HttpServer, Process, free_port
from sim2real.platform.admin import add_benchmark, add_station, add_token, add_user
from sim2real.platform.db import open_database

__all__ = ["PlatformServer", "PolicyServer", "Process", "free_port", "seed_platform", "tiny_checkpoint"]


class PlatformServer(HttpServer):
    def __init__(self, database: str, folder: Path, lease_seconds: float = 2.0, rate_limit: int = 0) -> None:
        super().__init__("platform", "serve", "--db", database, "--videos", str(folder / "videos"),
                         "--checkpoints", str(folder / "checkpoints"),
                         "--lease-seconds", str(lease_seconds), "--rate-limit", str(rate_limit),
                         what="the platform", log_folder=folder)

    def get(self, path: str):
        return json.loads(urllib.request.urlopen(self.url + path, timeout=10).read())


class PolicyServer(Process):
    def __init__(self, policy: str, folder: Path) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        super().__init__("serve", "--policy", policy, "--port", str(self.port), log=folder / f"policy-{self.port}.log")
        self.wait_until(lambda: "serving" in self.output(), "the policy server")


def seed_platform(database: str, *, image_size=(32, 32), tasks=("click_bell",), concurrent_jobs: int = 4) -> dict:
    """A small sim benchmark, a sim station, a user, an admin, and their tokens."""
    engine = open_database(database)
    try:
        add_benchmark(engine, "tiny", list(tasks), preset="smoke", kind="sim", cameras=["head"],
                      image_size=image_size)
        add_station(engine, "sim-1", "sim")
        add_user(engine, "alice", concurrent_jobs=concurrent_jobs)
        add_user(engine, "bob")
        add_user(engine, "root", admin=True)
        return {"alice": add_token(engine, "user", user="alice")["token"],
                "bob": add_token(engine, "user", user="bob")["token"],
                "admin": add_token(engine, "admin", user="root")["token"],
                "station": add_token(engine, "station", station="sim-1")["token"]}
    finally:
        engine.dispose()


def tiny_checkpoint(path: Path) -> Path:
    """A servable reference VLA checkpoint (the tiny head-camera model, 96 x 96, random weights,
    no optimiser state: about 5 MB, a second to make)."""
    from sim2real.policy.vla.checkpoint import save_checkpoint
    from sim2real.policy.vla.config import preset
    from sim2real.policy.vla.model import ReferenceVLA

    config = preset("tiny", cameras=("head",))
    unit = {"q01": [-1.0] * 14, "q99": [1.0] * 14}
    return save_checkpoint(path, {"model": ReferenceVLA(config, pretrained=False).state_dict(),
                                  "config": config.model_dump(mode="json"),
                                  "normalisation": {"action": unit, "state": unit},
                                  "language_model": config.language_model})
