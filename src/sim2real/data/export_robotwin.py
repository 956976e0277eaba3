"""Export a dataset as RoboTwin 2.0 HDF5 files, for that ecosystem's policy converters.

One `data/episode{i}.hdf5` per episode:
  observation/{head_camera,left_camera,right_camera}/rgb   JPEG bytes per frame (RGB)
  joint_action/{left_arm, left_gripper, right_arm, right_gripper, vector}
  endpose/{left_endpose, left_gripper, right_endpose, right_gripper}
and `instructions/episode{i}.json`. RoboTwin's own files JPEG-encode RGB arrays with OpenCV,
which treats them as BGR, so a standard decoder returns R and B swapped; here frames are encoded
from RGB as RGB (Pillow), so any standard JPEG decoder gives RGB back (OpenCV, as always, BGR).
End poses are the gripper tip's world position and orientation quaternion (w, x, y, z),
computed by forward kinematics from the measured joints.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import h5py
import numpy as np
from PIL import Image

from sim2real.data.reader import Dataset
from sim2real.media import atomic_path

CAMERA_NAMES = {"head": "head_camera", "left_wrist": "left_camera", "right_wrist": "right_camera"}
JPEG_QUALITY = 95


def encode_jpeg(frames: np.ndarray) -> np.ndarray:
    """Frames (T x H x W x 3 RGB) -> fixed-length byte strings, zero padded as RoboTwin stores them."""
    encoded = []
    for frame in frames:
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="JPEG", quality=JPEG_QUALITY)
        encoded.append(buffer.getvalue())
    width = max(len(e) for e in encoded)
    return np.array(encoded, dtype=f"S{width}")


def end_poses(states: np.ndarray) -> dict[str, np.ndarray]:
    """World tip poses [x, y, z, qw, qx, qy, qz] of both arms for every measured state."""
    from sim2real.experts.rotations import matrix_to_quat
    from sim2real.embodiment.ik import ArmIK
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


def export_robotwin(root: Path, out: Path) -> list[Path]:
    dataset = Dataset(root)
    written = []
    for index in range(len(dataset)):
        episode = dataset.episode(index)
        actions = episode.actions.astype(np.float64)
        poses = end_poses(episode.states.astype(np.float64))
        path = out / "data" / f"episode{index}.hdf5"
        with atomic_path(path, ".hdf5") as tmp:
            with h5py.File(tmp, "w") as file:
                for camera in dataset.cameras:
                    group = file.create_group(f"observation/{CAMERA_NAMES[camera]}")
                    group.create_dataset("rgb", data=encode_jpeg(dataset.frames(index, camera)))
                joint = file.create_group("joint_action")
                joint["left_arm"], joint["left_gripper"] = actions[:, 0:6], actions[:, 6]
                joint["right_arm"], joint["right_gripper"] = actions[:, 7:13], actions[:, 13]
                joint["vector"] = actions
                endpose = file.create_group("endpose")
                endpose["left_endpose"], endpose["right_endpose"] = poses["left"], poses["right"]
                endpose["left_gripper"] = episode.states[:, 6].astype(np.float64)
                endpose["right_gripper"] = episode.states[:, 13].astype(np.float64)
        with atomic_path(out / "instructions" / f"episode{index}.json", ".json") as tmp:
            tmp.write_text(json.dumps({"seen": [episode.instruction], "unseen": []}))
        written.append(path)
    return written
