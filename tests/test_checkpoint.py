"""The checkpoint format: plain values only, loaded without unpickling code, recognised by
content rather than by file name; paths that are not policies are named for what they are."""

import functools

import numpy as np
import pytest
import torch

from sim2real.errors import Sim2RealError
from sim2real.policy.spec import load_policy
from sim2real.policy.vla.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from sim2real.policy.vla.config import preset
from sim2real.policy.vla.model import ReferenceVLA


@functools.cache
def _payload(head: str) -> dict:
    """What `train sft` writes, with random weights and unit bounds (no training needed)."""
    config = preset("tiny", cameras=("head",), head=head)
    model = ReferenceVLA(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(dict(head=torch.rand(1, 3, 96, 96)), torch.randn(1, 384), torch.randn(1, 14)).sum().backward()
    optimiser.step()  # an optimiser state with moments, as after training
    unit = {"q01": [-1.0] * 14, "q99": [1.0] * 14}
    return {
        "model": model.state_dict(), "optimizer": optimiser.state_dict(), "step": 1,
        "sampler_rng": torch.Generator().manual_seed(0).get_state(),
        "torch_rng": torch.get_rng_state(),
        "config": config.model_dump(mode="json"), "normalisation": {"action": unit, "state": unit},
        "language_model": config.language_model,
    }


def tiny_payload(head: str = "continuous") -> dict:
    return dict(_payload(head))


class RunsCode:
    """Unpickling this runs `touch <marker>`: what a crafted checkpoint would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def test_a_checkpoint_round_trips_with_only_plain_values(tmp_path):
    path = save_checkpoint(tmp_path / "ck.pt", tiny_payload())
    payload = load_checkpoint(path)
    assert payload["format"] == FORMAT and payload["step"] == 1
    assert isinstance(payload["optimizer"]["state"][0]["exp_avg"], torch.Tensor)
    with pytest.raises(TypeError, match=r"payload\['extra'\] is a RunsCode"):
        save_checkpoint(tmp_path / "bad.pt", {**tiny_payload(), "extra": RunsCode(tmp_path / "x")})
    assert not (tmp_path / "bad.pt").exists()


def test_a_checkpoint_carrying_a_pickled_object_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"
    crafted = tmp_path / "crafted.pt"
    torch.save({**tiny_payload(), "format": FORMAT, "hook": RunsCode(marker)}, crafted)
    for load in (lambda: load_checkpoint(crafted), lambda: load_policy(str(crafted))):
        with pytest.raises(Sim2RealError) as error:
            load()
        message = str(error.value)
        assert "\n" not in message and "pickled Python objects" in message and str(crafted) in message
    assert not marker.exists()


def test_a_checkpoint_is_recognised_by_content_not_suffix(tmp_path):
    path = save_checkpoint(tmp_path / "no_suffix", tiny_payload("discrete"))
    assert path.is_file() and not list(tmp_path.glob(".tmp-*"))
    policy = load_policy(str(path))
    assert policy.metadata.name == "reference-vla-tiny-discrete" and policy.metadata.chunk_size == 25


@pytest.mark.parametrize(("make", "said"), [
    (lambda p: p.mkdir(), "is a folder, not a checkpoint file"),
    (lambda p: (p / "meta").mkdir(parents=True) or (p / "meta" / "info.json").write_text("{}"),
     "is a dataset folder, not a policy"),
    (lambda p: p.write_text("hello"), "is a 5-byte file that is not a checkpoint"),
    (lambda p: np.save(p, np.zeros((3, 14))), "use replay:"),
    (lambda p: torch.save({"weights": torch.zeros(2)}, p), "torch file but not a sim2real VLA checkpoint"),
    (lambda p: None, "neither a built-in policy nor an existing file"),
])
def test_a_path_that_is_not_a_policy_is_named_for_what_it_is(tmp_path, make, said):
    path = tmp_path / ("thing.npy" if "replay" in said else "thing")
    make(path)
    with pytest.raises(Sim2RealError, match=said) as error:
        load_policy(str(path))
    assert "\n" not in str(error.value)
