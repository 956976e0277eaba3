"""Export a dataset as RoboTwin 2.0 HDF5 files, holding what RoboTwin's own files hold, the way
its own `process_data.py` scripts (ACT, DP, DP3, pi0, RDT) read them.

One `data/episode{i}.hdf5` per episode, T frames each:
  observation/{head_camera,left_camera,right_camera}/
      rgb            JPEG bytes per frame, zero padded to one length
      intrinsic_cv   T x 3 x 3; extrinsic_cv T x 3 x 4 (world -> OpenCV camera);
      cam2world_gl   T x 4 x 4 (OpenGL camera -> world), as SAPIEN reports them
  joint_action/{left_arm, left_gripper, right_arm, right_gripper, vector}
  endpose/{left_endpose, left_gripper, right_endpose, right_gripper}
  pointcloud     T x N x 6 (x, y, z, r, g, b) from the head camera (see data/pointcloud.py)
and `instructions/episode{i}.json`.

Colours: RoboTwin hands RGB arrays to `cv2.imencode`, which takes them for BGR, and its scripts
decode with `cv2.imdecode` and never convert, so RGB comes back out. `jpeg="robotwin"` (the
default) writes frames exactly so, making every RoboTwin pipeline see the colours it sees in
RoboTwin's own data. `jpeg="standard"` writes standard JPEGs instead (colours right in any
decoder but OpenCV's, which gives BGR as always), for readers outside RoboTwin.

Actions: RoboTwin's `joint_action` at frame t is the joint target in effect when frame t was
taken (its drive targets), and its scripts pair frame t with `joint_action[t + 1]`. Ours pairs
frame t with the action chosen after it, so `joint_action[t]` is our action t - 1 (the home
pose at t = 0), and the scripts then see exactly our (frame, action) pairs but the last. Its
grippers, and `endpose/*_gripper`, are the commanded values, as RoboTwin's; end poses are the
gripper tips' measured world poses [x, y, z, qw, qx, qy, qz] (forward kinematics).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import h5py
import numpy as np

from sim2real.core.contract import HOME_ACTION
from sim2real.data.pointcloud import point_cloud
from sim2real.data.reader import Dataset
from sim2real.data.replay import replay_cameras
from sim2real.errors import invalid
from sim2real.media import atomic_path

CAMERA_NAMES = {"head": "head_camera", "left_wrist": "left_camera", "right_wrist": "right_camera"}
JPEG_ORDERS = ("robotwin", "standard")
JPEG_QUALITY = 95  # OpenCV's default, which RoboTwin uses
POINTCLOUD_POINTS = 1024  # RoboTwin's pcd_down_sample_num


def encode_jpeg(frames: np.ndarray, jpeg: str = "robotwin") -> np.ndarray:
    """Frames (T x H x W x 3 RGB) -> fixed-length byte strings, zero padded as RoboTwin stores
    them. "robotwin": the RGB array given to OpenCV's encoder as it is, as RoboTwin does."""
    encoded = []
    for frame in frames:
        pixels = frame if jpeg == "robotwin" else frame[..., ::-1]  # OpenCV expects BGR
        _, buffer = cv2.imencode(".jpg", np.ascontiguousarray(pixels), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        encoded.append(buffer.tobytes())
    width = max(len(e) for e in encoded)
    return np.array(encoded, dtype=f"S{width}")


def end_poses(states: np.ndarray) -> dict[str, np.ndarray]:
    """World tip poses [x, y, z, qw, qx, qy, qz] of both arms for every measured state."""
    from sim2real.embodiment.ik import ArmIK
    from sim2real.experts.rotations import matrix_to_quat
    from sim2real.scene.station import StationLayout

    ik, mounts = ArmIK(), StationLayout().mounts
    out = {}
    for side, joints in (("left", slice(0, 6)), ("right", slice(7, 13))):
        mount = mounts[side]
        rotation, origin = mount.rotation(), np.array([mount.x, mount.y, mount.z])
        poses = []
        for q in states[:, joints]:
            position, orientation = ik.forward(q)
            poses.append([*(rotation @ position + origin), *matrix_to_quat(rotation @ orientation)])
        out[side] = np.array(poses)
    return out


def targets_in_effect(actions: np.ndarray) -> np.ndarray:
    """RoboTwin's joint_action: at frame t, the target commanded before it (home at t = 0)."""
    return np.concatenate([HOME_ACTION[None].astype(np.float64), actions[:-1]])


def export_robotwin(root: Path, out: Path, jpeg: str = "robotwin",
                    pointcloud_points: int = POINTCLOUD_POINTS,
                    on_episode: Callable[[int], None] | None = None) -> list[Path]:
    if jpeg not in JPEG_ORDERS:
        raise invalid("jpeg", jpeg, ", ".join(JPEG_ORDERS))
    if pointcloud_points < 0:
        raise invalid("pointcloud points", pointcloud_points, "0 (an empty /pointcloud) or more")
    dataset = Dataset(root)
    task, settings = dataset.info["sim2real"]["task"], dataset.info["sim2real"]["settings"]
    written = []
    for index in range(len(dataset)):
        episode = dataset.episode(index)
        length = len(episode.actions)
        depth_cameras = ("head",) if pointcloud_points and "head" in dataset.cameras else ()
        replayed = replay_cameras(task, settings, episode.seed, length, dataset.cameras, depth_cameras)
        images = {camera: dataset.frames(index, camera) for camera in dataset.cameras}
        joint_action = targets_in_effect(episode.actions.astype(np.float64))
        poses = end_poses(episode.states.astype(np.float64))
        path = out / "data" / f"episode{index}.hdf5"
        with atomic_path(path, ".hdf5") as tmp:
            with h5py.File(tmp, "w") as file:
                for camera in dataset.cameras:
                    group = file.create_group(f"observation/{CAMERA_NAMES[camera]}")
                    group.create_dataset("rgb", data=encode_jpeg(images[camera], jpeg))
                    for matrix in ("intrinsic_cv", "extrinsic_cv", "cam2world_gl"):
                        group[matrix] = np.array([getattr(f.cameras[camera], matrix) for f in replayed],
                                                 dtype=np.float32)
                joint = file.create_group("joint_action")
                joint["left_arm"], joint["left_gripper"] = joint_action[:, 0:6], joint_action[:, 6]
                joint["right_arm"], joint["right_gripper"] = joint_action[:, 7:13], joint_action[:, 13]
                joint["vector"] = joint_action
                endpose = file.create_group("endpose")
                endpose["left_endpose"], endpose["right_endpose"] = poses["left"], poses["right"]
                endpose["left_gripper"], endpose["right_gripper"] = joint_action[:, 6], joint_action[:, 13]
                # Without a head camera (or with 0 points) as RoboTwin with its point clouds off: T x 0.
                file["pointcloud"] = np.array(
                    [point_cloud(f.cameras["head"], images["head"][t], f.table_top, pointcloud_points)
                     for t, f in enumerate(replayed)]) if depth_cameras else np.zeros((length, 0))
        with atomic_path(out / "instructions" / f"episode{index}.json", ".json") as tmp:
            tmp.write_text(json.dumps({"seen": [episode.instruction], "unseen": []}))
        written.append(path)
        if on_episode is not None:
            on_episode(index)
    return written
