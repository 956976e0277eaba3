"""The gymnasium environment: station + task + cameras, with 14-number joint-target actions."""

from __future__ import annotations

import string
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from sim2real.core.contract import ACTION_DIM, HOME_ACTION, SEED_LIMIT, action_label
from sim2real.core.environment import Observation, StepInfo
from sim2real.core.records import EpisodeInfo
from sim2real.embodiment.actuation import Actuation
from sim2real.embodiment.dual_arm import DualArm
from sim2real.errors import Sim2RealError, invalid
from sim2real.randomize.base import SceneHandles
from sim2real.randomize.objects import ObjectInstances
from sim2real.randomize.objects import record as object_record
from sim2real.randomize.randomizer import Randomizer
from sim2real.randomize.streams import episode_rng
from sim2real.render.detail import add_policy_detail
from sim2real.render.fidelity import configure_offscreen, make_camera_rig
from sim2real.render.sensor import SensorModel
from sim2real.scene.physics import finalize_physics
from sim2real.scene.station import StationLayout, build_station_spec
from sim2real.settings import EnvSettings, make_settings
from sim2real.tasks.base import InitialState, SimView, Task
from sim2real.tasks.registry import task_class

ACTION_TOLERANCE = 1e-6  # slack on the bounds, for values that went through float32
# independent random streams per episode seed
_STREAM_LAYOUT, _STREAM_INSTRUCTION, _STREAM_SENSOR, _STREAM_ACTUATION = 1, 2, 3, 4


class Sim2RealEnv(gym.Env):
    """A bimanual task in the dual-arm station.

    Observation: {'images/<camera>': uint8 HxWx3, 'state': 14 joint values, 'instruction': str}.
    Action: 14 absolute joint targets [left joints 1-6, left gripper, right joints, right gripper],
    grippers normalised to [0, 1] with 1 = open. Reward 1.0 on success, which also terminates.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}

    def __init__(self, task: str | Task, settings: EnvSettings | None = None, render_mode=None):
        self.settings = settings or EnvSettings()
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": self.settings.control_hz}
        fovy = self.settings.sensor.head_fovy  # the proxy-real world's other intrinsics
        self.layout = StationLayout(head_fovy=fovy) if fovy else StationLayout()
        self.substeps = self.settings.substeps
        self.control_dt = self.settings.control_dt
        self.cameras = None
        self._build(task_class(task)() if isinstance(task, str) else task)
        self.sensor = SensorModel(self.settings.sensor)  # noise and blur after rendering
        self.actuation = Actuation(self.settings.actuation)  # latency and tracking noise
        wants_instances = "OBJ" in self.randomizer.names
        self.object_instances = (
            ObjectInstances(self.task, self.settings.split) if wants_instances else None
        )
        self.home_action = HOME_ACTION.copy()
        self.action_space = gym.spaces.Box(
            low=self.robot.action_low.astype(np.float32),
            high=self.robot.action_high.astype(np.float32),
            dtype=np.float32,
        )
        width, height = self.settings.image_size
        spaces: dict[str, gym.Space] = {
            f"images/{name}": gym.spaces.Box(0, 255, (height, width, 3), np.uint8)
            for name in self.settings.cameras
        }
        spaces["state"] = gym.spaces.Box(-np.inf, np.inf, (ACTION_DIM,), np.float32)
        spaces["instruction"] = gym.spaces.Text(max_length=256, charset=string.printable)
        self.observation_space = gym.spaces.Dict(spaces)
        self.initial_state: InitialState | None = None
        self.instruction = ""
        self.steps = 0
        self.success = False

    # -- gymnasium API -----------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, StepInfo]:
        if seed is not None and not 0 <= seed < SEED_LIMIT:
            raise invalid("seed", seed, f"0 <= seed < 2^31 ({SEED_LIMIT})")
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(SEED_LIMIT - 1))
        if self.object_instances is not None:
            task = self.object_instances.task_with(self.task, self.object_instances.draw(seed))
            if task is not self.task:
                self._build(task)
        mujoco.mj_resetData(self.model, self.data)
        self.randomizer.start_episode(seed)
        if self.object_instances is not None:
            self.randomizer.note("OBJ", object_record(self.object_instances.held(self.task)))
        self.randomizer.apply_stage("scene")  # TH, PHY: before the task places its objects
        self.initial_state = self.task.sample(episode_rng(seed, _STREAM_LAYOUT), seed)
        self._set_robot(self.home_action)
        self.task.apply(self.view, self.initial_state)
        mujoco.mj_forward(self.model, self.data)
        self.randomizer.apply_stage("objects")  # TD: around the placed objects, then settled
        self.randomizer.apply_stage("view")  # BG, LT, CP
        self.instruction = self.task.instruction(
            self.initial_state, self.settings.instructions, episode_rng(seed, _STREAM_INSTRUCTION)
        )
        self.sensor.reset(episode_rng(seed, _STREAM_SENSOR))
        self.actuation.reset(episode_rng(seed, _STREAM_ACTUATION), self.home_action)
        self.steps = 0
        self.success = False
        self._episode_info = EpisodeInfo(
            task=self.task.name,
            seed=self.initial_state.seed,
            instruction=self.instruction,
            params=self.initial_state.params,
            settings=self.settings.model_dump(mode="json"),
        )
        return self.observe(), self._info()

    def step(self, action: np.ndarray) -> tuple[Observation, float, bool, bool, StepInfo]:
        if self.initial_state is None:
            raise Sim2RealError("call reset() before step()")
        action = self.validate_action(action)
        if self.actuation.active:  # what the arms execute of it: latency, tracking noise
            action = np.clip(self.actuation(action), self.robot.action_low, self.robot.action_high)
        self.apply_action(action)
        self.advance(self.substeps)
        self.steps += 1
        if self.randomizer.frame_factors:  # after physics: the view changes, dynamics do not
            self.randomizer.next_frame()
        terminated = self.success
        truncated = not terminated and self.steps >= self.max_steps
        return self.observe(), float(self.success), terminated, truncated, self._info()

    def apply_action(self, action: np.ndarray) -> None:
        """Set the servo targets to a validated action (physics does not advance)."""
        self.data.ctrl[self.robot.ctrl_index] = self.robot.action_to_ctrl(self.validate_action(action))

    def advance(self, physics_steps: int) -> None:
        """Step the physics; success is checked at every physics step (as RoboTwin 2.0), so
        brief events such as a press are not missed between control steps."""
        for _ in range(physics_steps):
            mujoco.mj_step(self.model, self.data)
            if not self.success and self.task.success(self.view):
                self.success = True

    def render(self):
        if self.cameras is None:
            return None
        return self.cameras.render(self.data, "head") if "head" in self.cameras.cameras else None

    def close(self) -> None:
        if self.cameras is not None:
            self.cameras.close()
            self.cameras = None

    # -- helpers -----------------------------------------------------------------------------

    def _build(self, task: Task) -> None:
        """Compile the station with `task`'s objects and bind the task, the randomizer and the
        cameras to the model (again whenever OBJ gives the task another object instance)."""
        self.close()
        self.task = task
        settings = self.settings
        spec = build_station_spec(settings.physics, self.layout)
        configure_offscreen(spec, settings.image_size, settings.render)
        task.build(spec, self.layout)
        self.randomizer = Randomizer(
            settings.randomize,
            settings.randomization,
            self.layout,
            split=settings.split,
            granularity=settings.granularity,
            task_categories=task.object_categories(),
        )
        self.randomizer.build(spec)
        finalize_physics(spec, settings.physics)
        self.model = spec.compile()
        self.policy_detail = None  # what policy detail replaced, when the cameras use it
        rasterizes = (settings.cameras or self.render_mode) and settings.fidelity == "low"
        if rasterizes and settings.mesh_detail == "policy":
            # The policy-detail copies are visual only: dynamics are those of the model above.
            self.policy_detail = add_policy_detail(spec, self.model)
            self.model = spec.compile()
        self.data = mujoco.MjData(self.model)
        self.robot = DualArm(self.model, self.layout.mounts)
        self.view = SimView(self.model, self.data, self.robot, self.layout)
        task.bind(self.view)
        self.max_steps = task.step_limit(settings.control_hz)
        self.cameras = (
            make_camera_rig(
                self.model, settings.cameras, settings.image_size, settings.render, settings.fidelity
            )
            if settings.cameras or self.render_mode
            else None
        )
        self.randomizer.bind(SceneHandles(self.model, self.data, self.view, self.cameras))

    def validate_action(self, action) -> np.ndarray:
        """A float64 copy of `action`, or a clear error saying what is wrong with it."""
        array = np.asarray(action)
        if array.shape != (ACTION_DIM,):
            raise Sim2RealError(
                f"invalid action shape: {array.shape}; allowed: ({ACTION_DIM},) = [left joint1..6, "
                "left gripper, right joint1..6, right gripper]"
            )
        if not np.issubdtype(array.dtype, np.number):
            raise Sim2RealError(f"invalid action dtype: {array.dtype}; allowed: numbers")
        array = array.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            raise Sim2RealError(
                f"invalid action[{bad[0]}]: {array[bad[0]]}; allowed: finite numbers"
            )
        low, high = self.robot.action_low, self.robot.action_high
        bad = np.flatnonzero((array < low - ACTION_TOLERANCE) | (array > high + ACTION_TOLERANCE))
        if bad.size:
            i = bad[0]
            raise Sim2RealError(
                f"invalid action[{i}] ({action_label(i)}): {array[i]:.6g}; "
                f"allowed: [{low[i]:.6g}, {high[i]:.6g}]"
            )
        return np.clip(array, low, high)

    def _set_robot(self, action: np.ndarray) -> None:
        """Place both arms exactly at `action`'s joints, at rest, with matching controls."""
        ctrl = self.robot.action_to_ctrl(action)
        self.data.qpos[self.robot.qpos_index] = ctrl
        for side in ("left", "right"):
            mirrored = self.model.joint(f"{side}/right_carriage_joint").qposadr[0]
            self.data.qpos[mirrored] = ctrl[6 if side == "left" else 13]
        self.data.ctrl[self.robot.ctrl_index] = ctrl

    def observe(self) -> Observation:
        """Render the cameras and read the joints of the current physics state."""
        obs: Observation = {}
        if self.settings.cameras:
            for name, image in self.cameras.render_all(self.data).items():
                # The rig reuses its buffers; this is the one copy an image gets (observations
                # must own their pixels: callers keep them across steps). C order, top row first.
                obs[f"images/{name}"] = self.sensor(name, image) if self.sensor.active else image.copy()
        obs["state"] = self.robot.state(self.data).astype(np.float32)
        obs["instruction"] = self.instruction
        return obs

    def _info(self) -> StepInfo:
        # The episode's record is immutable and shared; the randomization record is a fresh
        # copy each call, since callers keep infos and must not see later ones change them.
        return StepInfo(
            success=self.success,
            step=self.steps,
            max_steps=self.max_steps,
            episode=self._episode_info,
            randomization=self.randomizer.record(),
            control_hz=self.settings.control_hz,
        )


def make(task: str, settings: EnvSettings | None = None, **overrides: Any) -> Sim2RealEnv:
    """`sim2real.make('click_bell', cameras=('head',), image_size=(128, 96))`."""
    base = settings.model_dump() if settings is not None else {}
    return Sim2RealEnv(task, make_settings(**{**base, **overrides}))
