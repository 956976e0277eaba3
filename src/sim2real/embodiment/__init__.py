"""The dual-arm robot: two WidowX AI arms, their joint layout, gripper mapping and IK."""

from sim2real.embodiment.dual_arm import GRIPPER_TRAVEL_M, DualArm, attach_dual_arm

__all__ = ["GRIPPER_TRAVEL_M", "DualArm", "attach_dual_arm"]
