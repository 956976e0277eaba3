"""Supervised fine-tuning of the reference VLA on demonstration datasets (OFT-style).

Several datasets are mixed frame by frame; images get OpenVLA-OFT's augmentation; the learning
rate warms up then decays; gradients are clipped; mixed precision (bf16) on GPU; DDP when run
under `torchrun`; tensorboard logs; checkpoints with optimiser state that `--resume` continues.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from sim2real.policy.vla.augment import colour_jitter, random_resized_crop
from sim2real.policy.vla.config import VLAConfig, preset
from sim2real.policy.vla.model import ReferenceVLA
from sim2real.policy.vla.normalize import Bounds
from sim2real.policy.vla.vision import load_encoder_weights, read_encoder_weights
from sim2real.policy.vla.checkpoint import load_checkpoint, save_checkpoint
from sim2real.train.data import TrainingFrames
from sim2real.train.schedule import warmup_cosine


class SFTConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data: tuple[Path, ...]
    out: Path
    model: Literal["tiny", "base"] = "tiny"
    head: Literal["continuous", "discrete"] = "continuous"
    encoder: Literal["vit", "resnet"] | None = None  # None = the preset's encoder
    cameras: tuple[str, ...] | None = None  # None = the preset's cameras
    steps: int = Field(1000, ge=1)
    batch_size: int = Field(32, ge=1)
    learning_rate: float = Field(3e-4, gt=0, le=1)
    warmup_steps: int = Field(100, ge=0)
    weight_decay: float = Field(0.01, ge=0)
    grad_clip: float = Field(1.0, gt=0)
    augment: bool = True
    seed: int = 0
    checkpoint_every: int = Field(500, ge=1)
    log_dir: Path | None = None  # tensorboard; default: <out>.logs
    resume: bool = False
    # A state dict of one camera encoder (FiLMViT or FiLMResNet) saved with torch.save, loaded
    # into every camera's encoder before training (FiLM layers the file lacks keep their
    # initialisation).
    vision_weights: Path | None = None


class Distributed:
    """torchrun's environment, or a single process."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            self.device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
        if self.world > 1:
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def close(self) -> None:
        if self.world > 1:
            torch.distributed.destroy_process_group()


def prepare_images(batch_images: dict[str, torch.Tensor], size: int, augment: bool,
                   generator: torch.Generator) -> dict[str, torch.Tensor]:
    """uint8 B x S x S x 3 -> float B x 3 x size x size in [0, 1], augmented when training."""
    from sim2real.policy.vla.augment import centre_crop

    prepared = {}
    for camera, images in batch_images.items():
        x = images.permute(0, 3, 1, 2).float() / 255.0
        if augment:
            x = colour_jitter(random_resized_crop(x, size, generator=generator), generator=generator)
        else:
            x = centre_crop(x, size)
        prepared[camera] = x
    return prepared


def _check_resumable(config: SFTConfig, saved: VLAConfig) -> None:
    """A resumed run continues the checkpoint's model: asking for another one is a mistake."""
    from sim2real.errors import Sim2RealError

    for field, asked, have in (("model", config.model, saved.size), ("head", config.head, saved.head),
                               ("encoder", config.encoder or saved.encoder, saved.encoder)):
        if asked != have:
            raise Sim2RealError(
                f"invalid {field}: {asked!r} with --resume; {config.out} holds a {have!r} {field} "
                "(resume with the same settings, or write to another --out)"
            )


def train_sft(config: SFTConfig, on_step: Callable[[int, float, float], None] | None = None) -> dict[str, Any]:
    """Train and return a summary: loss_first, loss_last, steps, samples_per_second, checkpoint."""
    dist = Distributed()
    torch.manual_seed(config.seed + dist.rank)
    generator = torch.Generator().manual_seed(config.seed + dist.rank)

    resumed = load_checkpoint(config.out) if config.resume and config.out.is_file() else None
    if resumed is not None:
        vla_config = VLAConfig(**resumed["config"])
        _check_resumable(config, vla_config)
    else:
        overrides = {"head": config.head}
        if config.cameras is not None:
            overrides["cameras"] = config.cameras
        if config.encoder is not None:
            overrides["encoder"] = config.encoder
        vla_config = preset(config.model, **overrides)
    frames = TrainingFrames.load(config.data, vla_config.cameras, vla_config.image_size)
    action_bounds = Bounds(frames.action_low, frames.action_high)
    state_bounds = Bounds(frames.state_low, frames.state_high)
    language = torch.as_tensor(frames.instruction_embeddings)

    model = ReferenceVLA(vla_config).to(dist.device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: warmup_cosine(step, config.steps, config.warmup_steps)
    )
    start_step = 0
    if resumed is None and config.vision_weights is not None:
        weights = read_encoder_weights(config.vision_weights)
        for encoder in model.encoders.values():
            load_encoder_weights(encoder, weights, config.vision_weights)
    elif resumed is not None:
        model.load_state_dict(resumed["model"])
        optimiser.load_state_dict(resumed["optimizer"])
        scheduler.load_state_dict(resumed["scheduler"])
        start_step = int(resumed["step"])
        if "sampler_rng" in resumed:  # the batches and augmentations continue where they were
            generator.set_state(resumed["sampler_rng"])
    trained = model
    if dist.world > 1:
        trained = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dist.local_rank] if dist.device.type == "cuda" else None
        )
    writer = None
    if dist.main:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(config.log_dir or config.out.with_suffix(".logs")))

    def checkpoint(step: int) -> None:
        if not dist.main:
            return
        save_checkpoint(config.out, {
            "model": model.state_dict(),
            "optimizer": optimiser.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "sampler_rng": generator.get_state(),
            "config": vla_config.model_dump(mode="json"),
            "train_config": config.model_dump(mode="json"),
            "normalisation": {"action": action_bounds.as_dict(), "state": state_bounds.as_dict()},
            "language_model": vla_config.language_model,
            "datasets": [str(p) for p in config.data],
        })

    use_amp = dist.device.type == "cuda"
    losses: list[float] = []
    samples = 0
    started = time.perf_counter()
    model.train()
    for step in range(start_step, config.steps):
        batch = frames.sample(config.batch_size, vla_config.chunk_size, generator)
        images = {c: v.to(dist.device) for c, v in prepare_images(
            batch.images, vla_config.image_size, config.augment, generator).items()}
        state = state_bounds.normalise(batch.state).to(dist.device)
        target = action_bounds.normalise(batch.actions).to(dist.device)
        lang = language[batch.instruction_ids].to(dist.device)
        with torch.autocast(dist.device.type, dtype=torch.bfloat16, enabled=use_amp):
            prediction = trained(images, lang, state)
            loss = model.loss(prediction.float(), target)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimiser.step()
        scheduler.step()
        value = float(loss.detach())
        losses.append(value)
        samples += config.batch_size * dist.world
        if writer is not None:
            writer.add_scalar("train/loss", value, step)
            writer.add_scalar("train/grad_norm", float(grad_norm), step)
            writer.add_scalar("train/lr", scheduler.get_last_lr()[0], step)
        if on_step is not None and dist.main:
            on_step(step + 1, value, samples / (time.perf_counter() - started))
        if (step + 1) % config.checkpoint_every == 0:
            checkpoint(step + 1)
    checkpoint(config.steps)
    elapsed = time.perf_counter() - started
    if writer is not None:
        writer.close()
    dist.close()
    window = max(1, min(10, len(losses) // 4))
    return {
        "loss_first": float(np.mean(losses[:window])) if losses else None,
        "loss_last": float(np.mean(losses[-window:])) if losses else None,
        "steps": config.steps,
        "steps_this_run": len(losses),
        "samples_per_second": samples / elapsed if elapsed > 0 else 0.0,
        "seconds": elapsed,
        "checkpoint": str(config.out),
        "device": str(dist.device),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
