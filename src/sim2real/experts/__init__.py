"""Scripted experts: Cartesian motion planning on top of IK, and the episode runner."""
