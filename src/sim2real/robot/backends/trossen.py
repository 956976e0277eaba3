"""Two Trossen WidowX AI arms through the real `trossen_arm` driver, one controller (one IP
address) per arm, in position mode.

Units: the driver takes radians for the six arm joints and metres of finger travel for the
gripper, the simulator's own units, so joints pass through unchanged and the gripper goes
through the simulator's mapping (`gripper_to_metres` / `metres_to_gripper`): a policy's 0.7
opens the real fingers exactly as far as it opened the simulated ones.

Timing: each target is handed to the driver with `goal_time` = one control period, so its
daemon interpolates linearly between the 25 Hz targets instead of stepping the motors. The
driver's output header (id, timestamp) is passed on as each arm's feedback stamp: a controller
that stops answering leaves it frozen while the driver keeps returning its last values, and
only the runtime's watchdog can tell.

Faults: a controller in an error state makes every driver call raise; the runtime treats that
as a lost connection. Connecting never clears a controller's error (`clear_error=False`): a
fault is for the operator to look at (`robot check` shows it) before the arms move again.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import numpy as np

from sim2real.core.contract import ARM_SIDES, CONTROL_HZ
from sim2real.embodiment.dual_arm import gripper_to_metres, metres_to_gripper
from sim2real.errors import invalid
from sim2real.robot.cameras.base import Camera
from sim2real.robot.config import TrossenRobotConfig
from sim2real.robot.robot import ConnectionLost, Robot, RobotError, both_arms, per_arm


def to_driver(arm: np.ndarray) -> np.ndarray:
    """7 contract values of one arm (6 joints in rad, gripper in [0, 1]) -> the driver's units
    (rad, gripper in metres), rounded to the float32 the controller's wire format carries."""
    values = np.asarray(arm, dtype=np.float64).copy()
    values[6] = gripper_to_metres(values[6])
    return values.astype(np.float32).astype(np.float64)


def from_driver(arm) -> np.ndarray:
    """7 driver values of one arm (rad, gripper in metres) -> the contract's units."""
    values = np.asarray(list(arm), dtype=np.float64)
    values[6] = metres_to_gripper(values[6])
    return values


class TrossenRobot(Robot):
    kind = "trossen-wxai"

    def __init__(self, config: TrossenRobotConfig, cameras: dict[str, Camera] | None = None,
                 control_hz: float = CONTROL_HZ) -> None:
        super().__init__(cameras)
        import trossen_arm

        self.config = config
        self.goal_time_s = 1.0 / control_hz
        self._end_effector = getattr(trossen_arm.StandardEndEffector, config.end_effector, None)
        if self._end_effector is None:
            known = [n for n in dir(trossen_arm.StandardEndEffector) if not n.startswith("_")]
            raise invalid("robot.end_effector", config.end_effector, ", ".join(known))
        self._drivers: dict[str, Any] = {}
        self._limits: tuple[np.ndarray, np.ndarray] | None = None
        self._versions: dict[str, str] = {}

    @property
    def limits(self) -> tuple[np.ndarray, np.ndarray]:
        if self._limits is None:
            raise ConnectionLost("trossen-wxai is not connected: its controllers report the limits")
        return self._limits[0].copy(), self._limits[1].copy()

    def versions(self) -> dict[str, Any]:
        return dict(self._versions)

    # -- connection ------------------------------------------------------------------------------

    def _arms_connect(self) -> None:
        self._drivers = {}
        try:
            for side in ARM_SIDES:
                self._drivers[side] = self._configure(side, self.config.arms[side])
            lows, highs = [], []
            for side in ARM_SIDES:
                low, high = self._arm_limits(self._drivers[side])
                lows.append(low)
                highs.append(high)
            self._limits = (both_arms(*lows), both_arms(*highs))
        except BaseException:
            self._arms_disconnect()
            raise

    def _configure(self, side: str, ip: str):
        """One arm's driver, configured and in position mode, holding where it stands."""
        import trossen_arm

        driver = trossen_arm.TrossenArmDriver()
        # The driver writes its log to stderr itself; its info lines (every connection step)
        # would bury ours. Its errors are also raised, and reported below in one line.
        driver.set_log_level(trossen_arm.LogLevel.warn)
        try:
            driver.configure(trossen_arm.Model.wxai_v0, self._end_effector, ip, False,
                             self.config.connect_timeout_s)
        except Exception as error:  # noqa: BLE001 - the driver's own exception types
            _try_cleanup(driver)
            if "versions of the driver and controller firmware must match" in str(error):
                raise RobotError(_version_mismatch(side, ip)) from None
            raise RobotError(f"could not connect to the {side} arm's controller at {ip} "
                             f"(within {self.config.connect_timeout_s:g} s): {_first_line(error)}") from None
        try:
            self._versions[f"{side}_firmware"] = driver.get_controller_version()
            self._versions["driver"] = driver.get_driver_version()
            driver.set_all_modes(trossen_arm.Mode.position)
            # Position mode keeps the last goal; make it the measured pose before anything moves.
            driver.set_all_positions(driver.get_all_positions(), 0.0, False)
        except Exception as error:  # noqa: BLE001
            _try_cleanup(driver)
            raise RobotError(f"the {side} arm's controller at {ip} refused position mode: "
                             f"{_first_line(error)}") from None
        return driver

    @staticmethod
    def _arm_limits(driver) -> tuple[np.ndarray, np.ndarray]:
        """One arm's position limits as its controller reports them, in the contract's units.
        The controller sends float32: 0.044 m arrives as 0.04399999976, which would make the
        simulator's fully open 1.0 an out-of-range target; float32 precision is all it has."""
        limits = driver.get_joint_limits()
        low = from_driver([limit.position_min for limit in limits])
        high = from_driver([limit.position_max for limit in limits])
        return (low.astype(np.float32).astype(np.float64), high.astype(np.float32).astype(np.float64))

    def _arms_disconnect(self) -> None:
        """`cleanup` idles the joints where the connection works, then releases the sockets."""
        for driver in self._drivers.values():
            _try_cleanup(driver)
        self._drivers = {}

    # -- reading and commanding --------------------------------------------------------------------

    def _arms_read(self) -> tuple[np.ndarray, dict[str, tuple[int, float]]]:
        states, stamps = [], {}
        for side in ARM_SIDES:
            output = self._drivers[side].get_robot_output()
            states.append(from_driver(output.joint.all.positions))
            stamps[side] = (int(output.header.id), output.header.timestamp * 1e-6)
        return both_arms(*states), stamps

    def _arms_send(self, target: np.ndarray) -> np.ndarray:
        import trossen_arm

        sent = {}
        for side, arm in per_arm(target).items():
            values = to_driver(arm)
            self._drivers[side].set_all_positions(trossen_arm.VectorDouble(values.tolist()),
                                                  self.goal_time_s, False)
            sent[side] = from_driver(values)
        return both_arms(sent["left"], sent["right"])

    def hold(self) -> None:
        """Command each arm's measured position, at once (no interpolation)."""
        self._each(lambda driver: driver.set_all_positions(driver.get_all_positions(), 0.0, False))

    def idle(self) -> None:
        """The controller's idle mode: the joints brake where they stand. Against a controller
        that stopped answering this raises after `connect_timeout_s` (the driver's TCP timeout)."""
        import trossen_arm

        self._each(lambda driver: driver.set_all_modes(trossen_arm.Mode.idle))

    def _each(self, command) -> None:
        """Run `command` on both arms even if the first fails; then raise the first failure."""
        failure: Exception | None = None
        for driver in self._drivers.values():
            try:
                command(driver)
            except Exception as error:  # noqa: BLE001
                failure = failure or error
        if failure is not None:
            raise ConnectionLost(_first_line(failure))


def _version_mismatch(side: str, ip: str) -> str:
    """One line: which versions differ and what to install."""
    import trossen_arm

    driver = version("trossen-arm")
    host, _, last = ip.rpartition(".")
    try:
        found = trossen_arm.TrossenArmDriver.discover(host, int(last), int(last), 0.5)
        firmware = found[0].firmware_version if found else "unknown"
    except Exception:  # noqa: BLE001 - the message matters more than the detail
        firmware = "unknown"
    wanted = ".".join(firmware.lstrip("v").split(".")[:2]) if firmware != "unknown" else "its"
    return (f"the {side} arm's controller at {ip} runs firmware {firmware}, the driver is "
            f"trossen-arm {driver}: major.minor must match (install trossen-arm=={wanted}.* or "
            f"update the controller's firmware)")


def _try_cleanup(driver) -> None:
    try:
        driver.cleanup()
    except Exception:  # noqa: BLE001 - a dead controller cannot be idled; the sockets still close
        pass


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
