"""The dual-arm station, built with MjSpec: table, wall, floor, lights, cameras and the robot.

World frame: origin on the floor under the table centre, x to the robot's right, y away from
the robot (towards the wall), z up. Task placements are given relative to the table-top centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np

from sim2real.core.contract import ArmSide
from sim2real.embodiment.dual_arm import ArmMount, attach_dual_arm
from sim2real.scene.physics import PhysicsSettings

HEAD_CAMERA = "head"


@dataclass(frozen=True)
class StationLayout:
    """Fixed dimensions of the station (metres)."""

    table_size: tuple[float, float] = (1.2, 0.7)  # x, y
    table_top: float = 0.74
    table_thickness: float = 0.04
    arm_spacing: float = 0.6  # distance between the two bases
    arm_y: float = -0.30  # bases at the near edge of the table
    wall_y: float = 0.65
    # Head camera as RoboTwin 2.0's: high behind the arms, looking down at the table.
    head_pos: tuple[float, float, float] = (0.0, -0.45, 1.35)
    head_forward: tuple[float, float, float] = (0.0, 0.6, -0.8)
    head_fovy: float = 42.0  # D435 colour stream, vertical
    mounts: dict[ArmSide, ArmMount] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.mounts:
            half = self.arm_spacing / 2
            object.__setattr__(
                self,
                "mounts",
                {
                    "left": ArmMount(-half, self.arm_y, self.table_top),
                    "right": ArmMount(half, self.arm_y, self.table_top),
                },
            )


def camera_xyaxes(forward: np.ndarray, world_up: np.ndarray = np.array([0.0, 0.0, 1.0])) -> list:
    """MuJoCo cameras look along their -z; return their x (right) and y (up) axes."""
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, world_up)
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return [*right, *up]


def build_station_spec(
    physics: PhysicsSettings = PhysicsSettings(), layout: StationLayout = StationLayout()
) -> mujoco.MjSpec:
    """A spec of the empty station with both arms attached; tasks add their objects to it.
    (The renderer sizes its offscreen buffer: `sim2real.render.fidelity.configure_offscreen`.)"""
    spec = mujoco.MjSpec()
    spec.modelname = "sim2real_station"
    spec.option.timestep = physics.timestep
    spec.option.gravity = [0.0, 0.0, -physics.gravity]
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.noslip_iterations = 2  # keeps grasped objects from creeping out of the fingers
    spec.visual.quality.shadowsize = 4096
    spec.visual.headlight.ambient = [0.25, 0.25, 0.25]
    spec.visual.headlight.diffuse = [0.35, 0.35, 0.35]
    spec.visual.headlight.specular = [0.0, 0.0, 0.0]
    spec.stat.center = [0.0, 0.0, layout.table_top]
    spec.stat.extent = 1.2

    _add_materials(spec)
    world = spec.worldbody
    world.add_geom(
        name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[3, 3, 0.05], material="floor"
    )
    _add_table(spec, layout)
    _add_wall(spec, layout)
    _add_lights(spec, layout)
    world.add_camera(
        name=HEAD_CAMERA,
        pos=list(layout.head_pos),
        xyaxes=camera_xyaxes(np.array(layout.head_forward)),
        fovy=layout.head_fovy,
    )
    attach_dual_arm(spec, layout.mounts)
    return spec


def _add_materials(spec: mujoco.MjSpec) -> None:
    spec.add_texture(
        name="floor",
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=[0.32, 0.33, 0.35],
        rgb2=[0.28, 0.29, 0.31],
        width=256,
        height=256,
    )
    floor = spec.add_material(name="floor", texrepeat=[6, 6], reflectance=0.05)
    floor.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "floor"
    spec.add_material(name="table", rgba=[0.62, 0.5, 0.38, 1.0], specular=0.2, shininess=0.3)
    spec.add_material(name="table_leg", rgba=[0.25, 0.25, 0.27, 1.0])
    spec.add_material(name="wall", rgba=[0.86, 0.86, 0.84, 1.0], specular=0.05)


def _add_table(spec: mujoco.MjSpec, layout: StationLayout) -> None:
    half_x, half_y = layout.table_size[0] / 2, layout.table_size[1] / 2
    half_t = layout.table_thickness / 2
    table = spec.worldbody.add_body(name="table", pos=[0.0, 0.0, layout.table_top])
    table.add_geom(
        name="table_top",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[half_x, half_y, half_t],
        pos=[0.0, 0.0, -half_t],
        material="table",
    )
    leg_height = layout.table_top - layout.table_thickness
    for sx in (-1, 1):
        for sy in (-1, 1):
            table.add_geom(
                type=mujoco.mjtGeom.mjGEOM_BOX,
                size=[0.025, 0.025, leg_height / 2],
                pos=[sx * (half_x - 0.05), sy * (half_y - 0.05), -layout.table_thickness - leg_height / 2],
                material="table_leg",
                contype=0,
                conaffinity=0,
            )


def _add_wall(spec: mujoco.MjSpec, layout: StationLayout) -> None:
    spec.worldbody.add_geom(
        name="wall",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[2.0, 0.02, 1.2],
        pos=[0.0, layout.wall_y, 1.2],
        material="wall",
        contype=0,
        conaffinity=0,
    )


def _add_lights(spec: mujoco.MjSpec, layout: StationLayout) -> None:
    """One directional and two point lights, as RoboTwin 2.0 (the LT factor varies them)."""
    top = layout.table_top
    spec.worldbody.add_light(
        name="sun",
        type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL,
        pos=[0.3, -0.6, top + 1.6],
        dir=[0.1, 0.15, -1.0],
        diffuse=[0.55, 0.55, 0.55],
        specular=[0.1, 0.1, 0.1],
        castshadow=True,
    )
    for name, x in (("lamp_left", -0.8), ("lamp_right", 0.8)):
        spec.worldbody.add_light(
            name=name,
            type=mujoco.mjtLightType.mjLIGHT_POINT,
            pos=[x, -0.2, top + 1.0],
            diffuse=[0.25, 0.25, 0.25],
            specular=[0.05, 0.05, 0.05],
            attenuation=[1.0, 0.0, 0.0],
            castshadow=False,
        )
