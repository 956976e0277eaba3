"""Real stations behind the simulator's contract: a `RobotStation` is a `core` Environment
(same observation keys, same 14-number actions) driven by the rollout engine at B = 1.

* `config`: the station's YAML (backend, addresses, cameras, safety, rate);
* `robot`: the `Robot` interface (connect / get_observation / send_action / disconnect);
* `backends/`: `sim` (the MuJoCo station), `trossen-wxai` (trossen_arm), `piper` (piper_sdk);
* `cameras/`: RealSense (pyrealsense2) and OpenCV (UVC / URL) cameras, intrinsics check;
* `safety`, `guard`, `clock`: limits and step caps, the staleness watchdog and safe stops,
  the fixed-rate loop; `station`: the Environment; `operator`: outcomes and stops;
* `recording`: episodes into the same LeRobot v3 layout as simulated demos;
* `runtime`: `run_episodes(...)`, the API the CLI and the operator console use.
"""
