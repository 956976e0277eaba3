"""The dual-arm robot: two WidowX AI arms, their joint layout, gripper mapping and IK."""

from sim2real.embodiment.dual_arm import (
    ARM_SIDES,
    ACTION_DIM,
    GRIPPER_TRAVEL_M,
    ArmSide,
    DualArm,
    attach_dual_arm,
)

__all__ = ["ARM_SIDES", "ACTION_DIM", "GRIPPER_TRAVEL_M", "ArmSide", "DualArm", "attach_dual_arm"]
