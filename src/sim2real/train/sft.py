"""Supervised fine-tuning of the reference VLA on demonstration datasets (OFT-style).

Several datasets are mixed frame by frame; images get OpenVLA-OFT's augmentation; the learning
rate warms up then decays; gradients are clipped; mixed precision (bf16) on GPU; DDP when run
under `torchrun`; tensorboard logs; checkpoints with optimiser state that `--resume` continues.
Everything that can be wrong with the output path, the datasets or a resumed run's settings is
checked before the first step (`train/resume.py`, `data/validate.py`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sim2real.data.validate import check_readable
from sim2real.policy.transforms import Normalisation, model_images
from sim2real.policy.vla.checkpoint import load_checkpoint, save_checkpoint
from sim2real.policy.vla.config import VLAConfig, preset
from sim2real.policy.vla.model import ReferenceVLA
from sim2real.policy.vla.vision import load_encoder_weights, read_encoder_weights
from sim2real.train.config import SFTConfig
from sim2real.train.data import TrainingFrames
from sim2real.train.features import FeatureViews, load_features, sample_views, uses_feature_cache
from sim2real.train.resume import check_output, check_same_data, continue_run, dataset_summary
from sim2real.train.schedule import warmup_cosine

__all__ = ["SFTConfig", "train_sft"]


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


def model_config(config: SFTConfig) -> VLAConfig:
    """The model a new run trains: the size's preset with what the run overrides."""
    from pydantic import ValidationError

    overrides: dict[str, Any] = {"head": config.head}
    for field in ("cameras", "encoder", "image_size", "camera_aspect", "frozen_stages"):
        if getattr(config, field) is not None:
            overrides[field] = getattr(config, field)
    try:
        return preset(config.model, **overrides)
    except ValidationError as error:  # a combination the model cannot have
        from sim2real.errors import Sim2RealError, describe_validation_error

        raise Sim2RealError(describe_validation_error(error, VLAConfig)) from None


def _continue_schedule(optimiser: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LambdaLR,
                       config: SFTConfig, step: int) -> None:
    """After loading a resumed run's optimiser and scheduler: this run's learning rate, weight
    decay, warmup and length from `step` on (the same values when nothing changed)."""
    for group in optimiser.param_groups:
        group["initial_lr"] = config.learning_rate
        group["weight_decay"] = config.weight_decay
        group["lr"] = config.learning_rate * warmup_cosine(step, config.steps, config.warmup_steps)
    scheduler.base_lrs = [config.learning_rate] * len(optimiser.param_groups)
    scheduler._last_lr = [group["lr"] for group in optimiser.param_groups]


def _already_done(config: SFTConfig, step: int) -> dict[str, Any]:
    return {"loss_first": None, "loss_last": None, "steps": step, "steps_this_run": 0,
            "samples_per_second": 0.0, "seconds": 0.0, "checkpoint": str(config.out),
            "already_at_step": step, "asked_steps": config.steps, "message": f"already at step {step}"}


def train_sft(config: SFTConfig, on_step: Callable[[int, float, float], None] | None = None,
              on_start: Callable[[int, int], None] | None = None,
              on_features: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Train and return a summary: loss_first, loss_last, steps, samples_per_second, checkpoint.

    `on_start(first_step, steps)` is called once before the first step, `on_step(step, loss,
    samples_per_second)` after each (on the main process), `on_features(frames, total)` while a
    feature cache is built.

    A resumed run whose checkpoint is already at `config.steps` or beyond trains nothing,
    leaves the checkpoint untouched and says so (`already_at_step`)."""
    check_output(config)
    resumed = load_checkpoint(config.out) if config.resume and config.out.is_file() else None
    history: list[dict[str, Any]] = []
    if resumed is not None:
        config, changes = continue_run(config, resumed)
        if int(resumed["step"]) >= config.steps:
            return _already_done(config, int(resumed["step"]))
        history = [*resumed.get("resumes", []), {"step": int(resumed["step"]), "changes": changes}]
    for root in config.data:
        check_readable(root)
    normalisation = Normalisation.from_datasets(config.data)
    if resumed is not None:
        check_same_data(config, normalisation, resumed)
    vla_config = VLAConfig(**resumed["config"]) if resumed is not None else model_config(config)
    datasets = dataset_summary(config.data)
    cached = uses_feature_cache(config, vla_config)
    # With the cache, images are read only to build it (once); training reads features.
    frames = TrainingFrames.load(config.data, () if cached else vla_config.cameras, vla_config.image_size)
    language = torch.as_tensor(frames.instruction_embeddings)

    dist = Distributed()
    torch.manual_seed(config.seed + dist.rank)
    generator = torch.Generator().manual_seed(config.seed + dist.rank)
    # A resumed run's checkpoint holds every weight: the ImageNet ones need not be read.
    model = ReferenceVLA(vla_config, pretrained=resumed is None).to(dist.device)
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
        _continue_schedule(optimiser, scheduler, config, start_step)
        if "sampler_rng" in resumed:  # the batches and augmentations continue where they were
            generator.set_state(resumed["sampler_rng"])
        if "torch_rng" in resumed:  # dropout, when a model has it
            torch.set_rng_state(resumed["torch_rng"])
    features = load_features(config, vla_config, model, on_features) if cached else None
    views = FeatureViews(config.feature_views, config.seed) if cached else None
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
            "torch_rng": torch.get_rng_state(),
            "config": vla_config.model_dump(mode="json"),
            "train_config": config.model_dump(mode="json"),
            "resumes": history,
            "normalisation": normalisation.as_dict(),
            "language_model": vla_config.language_model,
            "datasets": datasets,
        })

    use_amp = dist.device.type == "cuda"
    losses: list[float] = []
    samples = 0
    started = time.perf_counter()
    model.train()
    if on_start is not None and dist.main:
        on_start(start_step, config.steps)
    for step in range(start_step, config.steps):
        batch = frames.sample(config.batch_size, vla_config.chunk_size, generator)
        if features is not None:
            chosen = sample_views(len(batch.frames), views, config.augment, generator)
            images = {c: f.gather(batch.frames, chosen).to(dist.device) for c, f in features.items()}
        else:
            images = {c: model_images(v, vla_config.image_size, config.augment, generator).to(dist.device)
                      for c, v in batch.images.items()}
        state = normalisation.state.normalise(batch.state).to(dist.device)
        target = normalisation.action.normalise(batch.actions).to(dist.device)
        lang = language[batch.instruction_ids].to(dist.device)
        with torch.autocast(dist.device.type, dtype=torch.bfloat16, enabled=use_amp):
            prediction = trained(images, lang, state, encoded=features is not None)
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
        "loss_first": float(np.mean(losses[:window])),
        "loss_last": float(np.mean(losses[-window:])),
        "steps": config.steps,
        "steps_this_run": len(losses),
        "samples_per_second": samples / elapsed if elapsed > 0 else 0.0,
        "seconds": elapsed,
        "checkpoint": str(config.out),
        "device": str(dist.device),
        "parameters": sum(p.numel() for p in model.parameters()),
        "changed": history[-1]["changes"] if history else {},
    }
