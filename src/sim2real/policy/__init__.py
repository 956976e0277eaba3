"""Policies: built-in baselines, the websocket server and client, and the reference VLA. The
protocol they all speak lives in `sim2real.core.policy`."""
