"""One set of transforms for training, the VLA at inference and the remote adapter."""

import asyncio
import threading

import numpy as np
import pytest

from sim2real.core.policy import PolicyMetadata
from sim2real.data.reader import Dataset
from sim2real.policy.transforms import Bounds, Normalisation, resize_images


def stats(low, high) -> dict:
    return {"action": {"q01": low, "q99": high}, "observation.state": {"q01": low, "q99": high}}


def test_several_datasets_pool_to_the_envelope_of_their_bounds():
    pooled = Normalisation.pooled([stats([0.0, -1.0], [1.0, 0.5]), stats([-0.5, -0.2], [0.4, 2.0])])
    np.testing.assert_allclose(pooled.action.low, [-0.5, -1.0])
    np.testing.assert_allclose(pooled.action.high, [1.0, 2.0])
    single = Normalisation.pooled([stats([0.0, -1.0], [1.0, 0.5])])
    np.testing.assert_allclose(single.state.high, [1.0, 0.5])


def test_bounds_from_stats_json_are_the_quantiles_of_the_frames(click_bell_demos):
    """What training used to compute from the loaded frames equals what stats.json holds."""
    dataset = Dataset(click_bell_demos)
    episodes = [dataset.episode(i) for i in range(len(dataset))]
    actions = np.concatenate([e.actions for e in episodes])
    states = np.concatenate([e.states for e in episodes])
    normalisation = Normalisation.from_datasets([click_bell_demos])
    for bounds, values in ((normalisation.action, actions), (normalisation.state, states)):
        np.testing.assert_allclose(bounds.low, np.quantile(values, 0.01, axis=0), atol=1e-6)
        np.testing.assert_allclose(bounds.high, np.quantile(values, 0.99, axis=0), atol=1e-6)
    import torch

    round_trip = normalisation.action.denormalise(normalisation.action.normalise(torch.as_tensor(actions[:5])))
    inside = (actions[:5] >= normalisation.action.low) & (actions[:5] <= normalisation.action.high)
    np.testing.assert_allclose(round_trip.numpy()[inside], actions[:5][inside], atol=1e-5)
    assert Normalisation.from_dict(normalisation.as_dict()).same_as(normalisation)
    assert not normalisation.same_as(Normalisation(Bounds(normalisation.action.low + 0.1,
                                                          normalisation.action.high), normalisation.state))


class ShapeRecorder:
    """A policy that declares a 32 x 24 input and records the image shapes it is sent."""

    metadata = PolicyMetadata(name="shapes", cameras=("head",), image_size=(32, 24))

    def __init__(self, seen: list) -> None:
        self.seen = seen

    def reset(self, episode=None) -> None:
        pass

    def infer(self, observations):
        self.seen.append(np.asarray(observations[0]["images/head"]))
        return np.zeros((1, 1, 14))


@pytest.fixture
def shape_server():
    """Our websocket server in this process, on a free port of 127.0.0.1, stopped after."""
    from sim2real.policy.server import PolicyServer

    seen: list = []
    server = PolicyServer(lambda: ShapeRecorder(seen), "127.0.0.1", 0)
    loop = asyncio.new_event_loop()
    ports: list[int] = []
    ready = threading.Event()
    task = loop.create_task(server.serve_forever(lambda port: (ports.append(port), ready.set())))
    thread = threading.Thread(target=lambda: loop.run_until_complete(asyncio.wait([task])), daemon=True)
    thread.start()
    assert ready.wait(30)
    yield f"ws://127.0.0.1:{ports[0]}", seen
    loop.call_soon_threadsafe(task.cancel)
    thread.join(10)
    loop.close()


def test_the_remote_adapter_resizes_images_to_the_size_the_server_declares(shape_server):
    from sim2real.policy.client import RemotePolicy

    url, seen = shape_server
    image = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    policy = RemotePolicy(url)
    policy.infer([{"images/head": image, "state": np.zeros(14), "instruction": "Click the bell."}])
    fitting = image[:24, :32].copy()
    policy.infer([{"images/head": fitting, "state": np.zeros(14), "instruction": "Click the bell."}])
    policy.close()
    assert seen[0].shape == (24, 32, 3) and seen[0].dtype == np.uint8
    np.testing.assert_array_equal(seen[0], resize_images(image[None], 24, 32)[0].numpy())
    np.testing.assert_array_equal(seen[1], fitting)  # already the declared size: sent as it is
