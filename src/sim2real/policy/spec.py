"""Resolve a policy SPEC from the command line into a Policy.

A path is recognised by what it holds, not by its name: a file written by `train sft` is a
checkpoint whatever its suffix. A path that is not a policy gets one line saying what it is.
"""

from __future__ import annotations

from pathlib import Path

from sim2real.core.policy import Policy
from sim2real.errors import Sim2RealError

SPEC_HELP = "expert, zero, replay:ACTIONS.npy, ws://HOST:PORT, or a VLA checkpoint file (CKPT.pt; recognised by its content, any name)"


def load_policy(spec: str) -> Policy:
    from sim2real.policy.builtin import ExpertPolicy, ReplayPolicy, ZeroMotionPolicy

    if spec == "expert":
        return ExpertPolicy()
    if spec == "zero":
        return ZeroMotionPolicy()
    if spec.startswith("replay:"):
        return ReplayPolicy.from_file(Path(spec.removeprefix("replay:")))
    if spec.startswith(("ws://", "wss://")):
        from sim2real.policy.client import RemotePolicy

        return RemotePolicy(spec)
    from sim2real.policy.vla.checkpoint import looks_like_torch_file

    path = Path(spec)
    if path.is_file() and looks_like_torch_file(path):
        from sim2real.policy.vla.policy import VLAPolicy

        return VLAPolicy.load(path)  # a torch file that is not ours is refused there, in one line
    raise Sim2RealError(f"invalid policy: {spec!r} is {describe_path(path)}; allowed: {SPEC_HELP}")


def check_spec(spec: str) -> None:
    """Refuse, without loading anything, a spec that can name no policy: not a built-in, not a
    remote address, and no such file (what the file holds is checked when it is loaded)."""
    if spec in ("expert", "zero") or spec.startswith(("ws://", "wss://")) or policy_file(spec) is not None:
        return
    raise Sim2RealError(f"invalid policy: {spec!r} is {describe_path(Path(spec.removeprefix('replay:')))}; "
                        f"allowed: {SPEC_HELP}")


def policy_file(spec: str) -> Path | None:
    """The local file a spec loads (a checkpoint, or the actions of `replay:`), if it names one
    that exists; None for the built-ins and remote policies."""
    if spec in ("expert", "zero") or spec.startswith(("ws://", "wss://")):
        return None
    path = Path(spec.removeprefix("replay:")).expanduser()
    return path if path.is_file() else None


def spec_sha256(spec: str) -> str | None:
    """sha256 (hex) of the file a spec loads, streamed (a checkpoint may be large);
    None when the spec names no file."""
    import hashlib

    path = policy_file(spec)
    if path is None:
        return None
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def describe_path(path: Path) -> str:
    """What a path that is not a policy holds, in words, with the command it was probably for."""
    if not path.exists():
        return "neither a built-in policy nor an existing file"
    if path.is_dir():
        if (path / "meta" / "info.json").is_file():
            return (f"a dataset folder, not a policy (train one on it: sim2real train sft --data "
                    f"{path} --out CKPT)")
        if (path / "summary.json").is_file():
            return "an evaluation results folder, not a policy"
        return "a folder, not a checkpoint file"
    if path.suffix == ".npy":
        return f"a NumPy file (to replay its actions, use replay:{path})"
    size = path.stat().st_size
    return f"a {size}-byte file that is not a checkpoint (not a torch archive)"
