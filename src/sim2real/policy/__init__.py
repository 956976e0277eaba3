"""Policies: the protocol every policy speaks, built-in baselines, and remote policies."""

from sim2real.policy.protocol import Policy, PolicyError, PolicyMetadata, check_chunk

__all__ = ["Policy", "PolicyError", "PolicyMetadata", "check_chunk"]
