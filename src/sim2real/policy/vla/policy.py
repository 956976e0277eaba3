"""The reference VLA as a Policy: a checkpoint in, action chunks out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from sim2real.core.contract import image_key
from sim2real.core.environment import Observation
from sim2real.core.policy import ActionSample, PolicyMetadata
from sim2real.core.records import EpisodeInfo
from sim2real.errors import Sim2RealError
from sim2real.policy.transforms import Normalisation, model_images, resize_square
from sim2real.policy.vla.config import VLAConfig
from sim2real.policy.vla.language import InstructionEncoder
from sim2real.policy.vla.model import ReferenceVLA, from_bins


def vla_metadata(config: VLAConfig) -> PolicyMetadata:
    """What a server of this model announces (also read from a checkpoint without loading it)."""
    # The env renders at the model's input height (4:3 wide for the paper's head view, else
    # square), so little detail is lost before resizing.
    return PolicyMetadata(
        name=f"reference-vla-{config.size}-{config.head}",
        cameras=tuple(config.cameras),
        image_size=config.render_size,
        chunk_size=config.chunk_size,
        action_dim=config.action_dim,
        stateful=False,
    )


def checkpoint_metadata(path: Path | str) -> PolicyMetadata:
    """A checkpoint's metadata from its config alone (tensors mapped, not read; weights_only
    loading, so a file carrying pickled objects is refused with one line)."""
    from sim2real.policy.vla.checkpoint import load_checkpoint

    payload = load_checkpoint(Path(path), mmap=True)
    try:
        return vla_metadata(VLAConfig(**payload["config"]))
    except (KeyError, TypeError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise Sim2RealError(f"{path} is a sim2real VLA checkpoint without a usable config: {first}") from None


# Intra-op threads for no-grad inference on a CPU. A policy's batches are a few frames, and
# at that size the few hundred small ops of a chunk (EfficientNet's, the trunk's) gain nothing
# from being split: every op hands work to the other threads and waits for them, and under
# OMP_WAIT_POLICY=PASSIVE (our scripts' setting for a shared CPU) each hand-off is a thread
# wake-up. Measured on 2 idle cores, tiny + efficientnet-lite0 at 128 px, batch 1: 28-30 ms
# per forward with 2 passive threads, 9-10 ms with 1 (docs/vla_encoder.md, "Latency per chunk").
CPU_INFERENCE_THREADS = 1


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with `threads` intra-op threads (None: leave torch's setting), then
    restore the previous count."""
    previous = torch.get_num_threads()
    if threads is None or threads == previous:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class VLAPolicy:
    """Runs a trained ReferenceVLA on a batch of observations; returns B x K x 14 absolute joint
    targets. Stateless between calls, so one instance serves any number of episodes at once.

    On a CPU, `infer` and `sample` run with `cpu_threads` intra-op threads (default 1, see
    CPU_INFERENCE_THREADS; None keeps torch's setting); `log_prob`, the training path, keeps
    torch's. The model computes the same either way."""

    def __init__(self, model: ReferenceVLA, normalisation: Normalisation,
                 device: str | torch.device = "cpu",
                 cpu_threads: int | None = CPU_INFERENCE_THREADS) -> None:
        self.model = model.eval().to(device)
        self.config: VLAConfig = model.config
        self.normalisation = normalisation
        self.device = torch.device(device)
        self.cpu_threads = cpu_threads
        self.language = InstructionEncoder()
        self._embeddings: dict[str, torch.Tensor] = {}  # instruction -> 384-vector, a pure cache

    @classmethod
    def load(cls, path: Path | str, device: str | None = None) -> VLAPolicy:
        """The policy in a checkpoint; a discrete-head one can also sample (`SamplingVLAPolicy`)."""
        from sim2real.policy.vla.checkpoint import load_checkpoint

        payload = load_checkpoint(Path(path))
        config = VLAConfig(**payload["config"])
        model = ReferenceVLA(config, pretrained=False)  # the checkpoint holds every weight
        model.load_state_dict(payload["model"])
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        kind = SamplingVLAPolicy if config.head == "discrete" and cls is VLAPolicy else cls
        return kind(model, Normalisation.from_dict(payload["normalisation"]), device)

    @property
    def metadata(self) -> PolicyMetadata:
        return vla_metadata(self.config)

    def reset(self, episode: EpisodeInfo | None = None) -> None:
        pass  # nothing carries over between calls

    def inference_threads(self) -> contextlib.AbstractContextManager[None]:
        """The thread setting `infer` and `sample` run under (a no-op off the CPU)."""
        return torch_threads(self.cpu_threads if self.device.type == "cpu" else None)

    @torch.no_grad()
    def infer(self, observations: Sequence[Observation]) -> np.ndarray:
        with self.inference_threads():
            prediction = self.model(*self.inputs(observations))
        return self._to_actions(self.model.actions(prediction))

    def inputs(self, observations: Sequence[Observation]) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """The model's inputs for a batch of observations (images, language, state), on its
        device: the same transforms training applies, without augmentation."""
        for observation in observations:
            missing = [c for c in self.config.cameras if image_key(c) not in observation]
            if missing:
                raise Sim2RealError(
                    f"observation lacks {image_key(missing[0])}; this policy needs cameras "
                    f"{list(self.config.cameras)}"
                )
        size = self.config.image_size
        images = {}
        for camera in self.config.cameras:
            batch = np.stack([np.asarray(o[image_key(camera)]) for o in observations])
            images[camera] = model_images(resize_square(batch, size), size).to(self.device)
        language = torch.stack([self._embedding(str(o["instruction"])) for o in observations])
        state = torch.as_tensor(np.stack([np.asarray(o["state"], dtype=np.float32) for o in observations]))
        return images, language, self.normalisation.state.normalise(state).to(self.device)

    def _to_actions(self, normalised: torch.Tensor) -> np.ndarray:
        """Normalised B x K x 14 model outputs -> float64 absolute joint targets."""
        actions = self.normalisation.action.denormalise(normalised.float().cpu())
        return actions.numpy().astype(np.float64)

    def _embedding(self, instruction: str) -> torch.Tensor:
        if instruction not in self._embeddings:
            vector = self.language.encode([instruction])[0]
            self._embeddings[instruction] = torch.as_tensor(vector, device=self.device)
        return self._embeddings[instruction]


class SamplingVLAPolicy(VLAPolicy):
    """A discrete-head VLA as a `SamplingPolicy` (what GRPO fine-tunes): each of the K x 14
    action tokens (bins) is drawn independently from softmax(logits / temperature) and can be
    scored under the current weights. `infer` stays greedy (argmax), for evaluation."""

    def __init__(self, model: ReferenceVLA, normalisation: Normalisation,
                 device: str | torch.device = "cpu",
                 cpu_threads: int | None = CPU_INFERENCE_THREADS) -> None:
        if model.config.head != "discrete":
            raise Sim2RealError(
                f"a {model.config.head}-head VLA has no action tokens to sample; train a discrete one "
                "(sim2real train sft --head discrete)"
            )
        super().__init__(model, normalisation, device, cpu_threads)

    @torch.no_grad()
    def sample(self, observations: Sequence[Observation], temperature: float,
               generator: torch.Generator | None = None) -> ActionSample:
        """Actions, tokens and their log-probabilities under softmax(logits / temperature), each
        B x K x 14; `generator` (on the policy's device) makes the draw reproducible."""
        if not temperature > 0:
            raise Sim2RealError(f"invalid temperature: {temperature!r}; allowed: a number > 0")
        with self.inference_threads():
            logits = self.model(*self.inputs(observations)).float() / temperature
        log_probs = torch.log_softmax(logits, dim=-1)
        tokens = torch.multinomial(log_probs.exp().flatten(0, 2), 1, generator=generator).view(logits.shape[:-1])
        chosen = log_probs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
        actions = self._to_actions(from_bins(tokens, self.config.bins))
        return ActionSample(actions, tokens.cpu().numpy().astype(np.int64), chosen.cpu().numpy().astype(np.float32))

    def log_prob(self, observations: Sequence[Observation], tokens: np.ndarray | torch.Tensor,
                 temperature: float = 1.0) -> torch.Tensor:
        """Differentiable log-probabilities (B x K x 14, on the policy's device) of `tokens`
        under the current weights (temperature 1 unless given)."""
        tokens = torch.as_tensor(np.asarray(tokens) if not isinstance(tokens, torch.Tensor) else tokens,
                                 dtype=torch.long, device=self.device)
        expected = (len(observations), self.config.chunk_size, self.config.action_dim)
        if tuple(tokens.shape) != expected:
            raise Sim2RealError(f"invalid tokens shape: {tuple(tokens.shape)}; allowed: {expected}")
        logits = self.model(*self.inputs(observations)).float() / temperature
        return torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
