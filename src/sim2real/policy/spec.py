"""Resolve a policy SPEC from the command line into a Policy."""

from __future__ import annotations

from pathlib import Path

from sim2real.errors import invalid
from sim2real.core.policy import Policy

SPEC_HELP = "expert, zero, replay:ACTIONS.npy, ws://HOST:PORT, or a VLA checkpoint (.pt)"


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
    if spec.endswith(".pt"):
        from sim2real.policy.vla.policy import VLAPolicy

        return VLAPolicy.load(Path(spec))
    raise invalid("policy", spec, SPEC_HELP)
