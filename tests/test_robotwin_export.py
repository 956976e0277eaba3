"""The RoboTwin 2.0 HDF5 export, read the way RoboTwin's own `process_data.py` scripts read
their files: h5py key paths, `cv2.imdecode` of the JPEG bytes with no colour conversion (ACT, DP,
pi0), `/pointcloud` (DP3), `joint_action[t + 1]` as frame t's action. RoboTwin itself cannot run
here (SAPIEN, CUDA); these are its readers' exact calls on our files."""

import io
import json

import cv2
import h5py
import mujoco
import numpy as np
import pytest
from PIL import Image

from sim2real.core.contract import HOME_ACTION
from sim2real.data.export_robotwin import export_robotwin
from sim2real.data.generate import GenerateSpec, generate
from sim2real.data.pointcloud import TABLE_HALF_EXTENT
from sim2real.data.reader import Dataset
from sim2real.data.replay import GL_TO_CV
from sim2real.settings import make_settings

# One episode, all three cameras at 40 x 30, the head camera moved every frame (CP).
SETTINGS = make_settings(cameras=("head", "left_wrist", "right_wrist"), image_size=(40, 30), randomize="CP",
                         granularity="frame", render={"shadows": False, "msaa": 0}).model_dump(mode="json")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("robotwin")
    generate(GenerateSpec("click_bell", SETTINGS, episodes=1, first_seed=0), root / "ds")
    files = export_robotwin(root / "ds", root / "rt", pointcloud_points=48)  # ~55 visible at 40 x 30
    return Dataset(root / "ds"), files[0], root


def _read_like_act(path):
    """policy/ACT/process_data.py's load_hdf5, call for call."""
    with h5py.File(path, "r") as root:
        left_gripper, left_arm = root["/joint_action/left_gripper"][()], root["/joint_action/left_arm"][()]
        right_gripper, right_arm = root["/joint_action/right_gripper"][()], root["/joint_action/right_arm"][()]
        image_dict = {cam: root[f"/observation/{cam}/rgb"][()] for cam in root["/observation/"].keys()}
    return left_gripper, left_arm, right_gripper, right_arm, image_dict


def _imdecode(bits) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(bits, np.uint8), cv2.IMREAD_COLOR).astype(int)


def test_frames_decode_to_rgb_with_cv2_imdecode_as_robotwins_own(exported):
    data, path, _ = exported
    *_, image_dict = _read_like_act(path)
    assert set(image_dict) == {"head_camera", "left_camera", "right_camera"}
    for name, camera in (("head_camera", "head"), ("left_camera", "left_wrist"), ("right_camera", "right_wrist")):
        original = data.frames(0, camera)[3].astype(int)
        decoded = _imdecode(image_dict[name][3])
        assert np.abs(decoded - original).mean() < 6  # JPEG-close, and in RGB order
        assert np.abs(decoded - original).mean() < np.abs(decoded - original[..., ::-1]).mean() / 2


def test_standard_jpeg_option_decodes_to_rgb_elsewhere(exported):
    data, _, root = exported
    (path,) = export_robotwin(root / "ds", root / "standard", jpeg="standard", pointcloud_points=0)
    with h5py.File(path) as file:
        bits = file["observation/head_camera/rgb"][3]
        assert file["pointcloud"].shape == (len(data.episode(0).actions), 0)  # RoboTwin's "off"
    original = data.frames(0, "head")[3].astype(int)
    decoded = np.asarray(Image.open(io.BytesIO(bits)).convert("RGB")).astype(int)
    assert np.abs(decoded - original).mean() < 6
    assert np.abs(_imdecode(bits)[..., ::-1] - original).mean() < 6  # OpenCV: BGR, as always


def test_joint_actions_as_robotwins_scripts_pair_them(exported):
    """RoboTwin's joint_action[t] is the target in effect at frame t; its scripts take
    joint_action[t + 1] as frame t's action, which must be our action t."""
    data, path, _ = exported
    left_gripper, left_arm, right_gripper, right_arm, _ = _read_like_act(path)
    actions = data.episode(0).actions
    vector = np.concatenate([left_arm, left_gripper[:, None], right_arm, right_gripper[:, None]], axis=1)
    np.testing.assert_allclose(vector[1:], actions[:-1], atol=1e-6)
    np.testing.assert_allclose(vector[0], HOME_ACTION, atol=1e-6)
    with h5py.File(path) as file:
        np.testing.assert_array_equal(file["joint_action/vector"][()], vector)
        np.testing.assert_array_equal(file["endpose/left_gripper"][()], left_gripper)
        np.testing.assert_array_equal(file["endpose/right_gripper"][()], right_gripper)
        assert file["endpose/left_endpose"].shape == (len(actions), 7)
    assert json.loads((path.parents[1] / "instructions/episode0.json").read_text())["seen"]


def test_camera_matrices_are_consistent_and_follow_the_camera(exported):
    data, path, _ = exported
    with h5py.File(path) as file:
        head = {k: file[f"observation/head_camera/{k}"][()] for k in ("intrinsic_cv", "extrinsic_cv", "cam2world_gl")}
        wrists = {side: file[f"observation/{side}_camera/cam2world_gl"][()] for side in ("left", "right")}
        tips = {side: file[f"endpose/{side}_endpose"][()][:, :3] for side in ("left", "right")}
    frames = len(data.episode(0).actions)
    assert head["intrinsic_cv"].shape == (frames, 3, 3) and head["extrinsic_cv"].shape == (frames, 3, 4)
    assert head["cam2world_gl"].shape == (frames, 4, 4)
    for t in range(frames):
        world_to_cv = np.linalg.inv(head["cam2world_gl"][t].astype(np.float64) @ GL_TO_CV)[:3]
        np.testing.assert_allclose(head["extrinsic_cv"][t], world_to_cv, atol=1e-5)
    assert len({tuple(np.round(m[:3, 3], 5)) for m in head["cam2world_gl"]}) == frames  # CP, frame-wise
    # The wrist cameras ride the arms: the one of the arm that rings the bell moves, and its
    # gripper tip, projected with the head camera's own matrices, lies in the head image (at
    # home both tips are just beyond its left and right edges).
    travel = {side: np.ptp(wrist[:, :3, 3], axis=0).max() for side, wrist in wrists.items()}
    moved = max(travel, key=travel.get)
    assert travel[moved] > 0.05
    x, y, z = head["intrinsic_cv"][-1] @ (head["extrinsic_cv"][-1] @ np.append(tips[moved][-1], 1.0))
    assert z > 0 and 0 <= x / z < 40 and 0 <= y / z < 30


def test_pointcloud_lies_on_what_the_head_camera_sees(exported):
    """DP3's /pointcloud: T x N x 6, world points above the table with their colours. Each point
    is where a ray from the camera through it first hits the scene (MuJoCo's own ray cast on the
    replayed frame 0), and projects onto a pixel of that colour."""
    from sim2real.env import make

    data, path, _ = exported
    with h5py.File(path) as file:
        clouds = file["pointcloud"][()]
        camera = file["observation/head_camera/cam2world_gl"][0].astype(np.float64)
        intrinsic, extrinsic = file["observation/head_camera/intrinsic_cv"][0], file["observation/head_camera/extrinsic_cv"][0]
    frames = len(data.episode(0).actions)
    assert clouds.shape == (frames, 48, 6) and clouds.dtype == np.float32
    points, colours = clouds[0, :, :3].astype(np.float64), clouds[0, :, 3:]
    assert (np.abs(points[:, 0]) <= TABLE_HALF_EXTENT[0]).all() and (points[:, 2] > 0.74).all()
    assert 0 <= colours.min() and colours.max() <= 1 and len(np.unique(points, axis=0)) == 48

    env = make("click_bell", **{**SETTINGS, "cameras": ()})
    env.reset(seed=data.episode(0).seed)
    with h5py.File(path) as file:  # end poses in the same world frame: MuJoCo's tip sites
        for side in ("left", "right"):
            site = env.data.site_xpos[env.model.site(f"{side}/ee_site").id]
            np.testing.assert_allclose(file[f"endpose/{side}_endpose"][0, :3], site, atol=1e-5)
    origin, visible = camera[:3, 3], np.array([1, 1, 1, 0, 0, 0], dtype=np.uint8)
    errors = []
    for point in points[::8]:
        direction = point - origin
        geom = np.zeros(1, dtype=np.int32)
        hit = mujoco.mj_ray(env.model, env.data, origin, direction / np.linalg.norm(direction), visible, 1, -1, geom)
        errors.append(abs(hit - np.linalg.norm(direction)))
    env.close()
    assert np.median(errors) < 0.005 and np.max(errors) < 0.05, sorted(errors)[-5:]

    pixels = intrinsic @ (extrinsic @ np.c_[points, np.ones(len(points))].T)
    u, v = (pixels[:2] / pixels[2]).astype(int)
    frame = data.frames(0, "head")[0]
    np.testing.assert_allclose(colours, frame[v, u] / 255.0, atol=1e-6)


def test_point_cloud_unprojects_crops_pads_and_spreads():
    """A camera 0.5 m above a flat surface at z = 1 m, looking straight down: every pixel is a
    known point. Too few points: zero-padded to the count, as RoboTwin's."""
    from sim2real.data.pointcloud import point_cloud
    from sim2real.data.replay import CameraFrame

    width, height, focal = 8, 6, 4.0
    cam2world = np.eye(4)
    cam2world[:3, 3] = [0.1, 0.0, 1.5]  # looking along -z, as an OpenGL camera, x right, y up
    intrinsic = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1.0]])
    camera = CameraFrame(intrinsic, np.linalg.inv(cam2world @ GL_TO_CV)[:3], cam2world,
                         np.full((height, width), 0.5))
    image = np.arange(height * width * 3, dtype=np.uint8).reshape(height, width, 3)
    cloud = point_cloud(camera, image, table_top=0.74, count=10)
    assert cloud.shape == (10, 6)
    np.testing.assert_allclose(cloud[:, 2], 1.0, atol=1e-6)
    u, v = (cloud[:, 0] - 0.1) / 0.5 * focal + width / 2 - 0.5, -cloud[:, 1] / 0.5 * focal + height / 2 - 0.5
    np.testing.assert_allclose(u, u.round(), atol=1e-4)  # pixel centres
    np.testing.assert_allclose(cloud[:, 3:] * 255, image[v.round().astype(int), u.round().astype(int)], atol=1e-3)
    corners = {(round(float(x), 3), round(float(y), 3)) for x, y in cloud[:4, :2]}
    assert len(corners) == 4  # farthest point sampling reaches for the extremes first
    padded = point_cloud(camera, image, table_top=0.74, count=60)  # 48 pixels
    assert (padded == 0).all(axis=1).sum() == 1 and len(np.unique(padded, axis=0)) == 49
