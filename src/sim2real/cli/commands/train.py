"""`sim2real train sft`: supervised fine-tuning of the reference VLA."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import console, print_json, progress_bar

train_app = typer.Typer(help="Train policies: SFT of the reference VLA.", no_args_is_help=True)

_KEPT = " (default {}; with --resume: the checkpoint's)"


@train_app.command("sft")
def sft_command(
    data: Annotated[list[Path], typer.Option("--data", help="dataset folder; repeat to mix several")],
    out: Annotated[Path, typer.Option(help="checkpoint file to write (any name; .pt by convention)")],
    model: Annotated[str | None, typer.Option(help="model size: tiny or base" + _KEPT.format("tiny"))] = None,
    head: Annotated[str | None, typer.Option(
        help="action head: continuous (L1) or discrete (256 bins)" + _KEPT.format("continuous"))] = None,
    encoder: Annotated[str | None, typer.Option(
        help="image encoder per camera: resnet or vit from scratch, or efficientnet-lite0 (ImageNet "
        "weights)" + _KEPT.format("the size's preset"))] = None,
    image_size: Annotated[int | None, typer.Option(
        help="square model input in pixels; 128 or 224 for efficientnet-lite0"
        + _KEPT.format("the size's preset"))] = None,
    camera_aspect: Annotated[str | None, typer.Option(
        help="aspect the cameras render at before the square resize: 4:3 (the paper's 640x480 "
        "head view) or 1:1" + _KEPT.format("1:1"))] = None,
    frozen_stages: Annotated[int | None, typer.Option(
        help="efficientnet-lite0: early stages kept at ImageNet weights, without FiLM (0-5 at "
        "the default patch 16)" + _KEPT.format(4))] = None,
    feature_cache: Annotated[bool | None, typer.Option(
        "--feature-cache/--no-feature-cache",
        help="efficientnet-lite0: compute the frozen stages once per frame and view, cached on "
        "disk with the dataset, instead of on every batch" + _KEPT.format("on"))] = None,
    feature_cache_dir: Annotated[Path | None, typer.Option(
        help="folder for the feature cache (default: <dataset>/cache/features)")] = None,
    feature_views: Annotated[int | None, typer.Option(
        min=1, help="views cached per frame: the inference view and augmented ones (1 = no "
        "augmentation)" + _KEPT.format(4))] = None,
    steps: Annotated[int | None, typer.Option(min=1, help="optimiser steps in total" + _KEPT.format(1000))] = None,
    batch_size: Annotated[int | None, typer.Option(
        min=1, help="samples per step and process" + _KEPT.format(32))] = None,
    learning_rate: Annotated[float | None, typer.Option(
        help="peak learning rate; a resumed run applies a new one from its step on" + _KEPT.format(3e-4))] = None,
    warmup_steps: Annotated[int | None, typer.Option(
        min=0, help="steps of linear warmup before the cosine decay" + _KEPT.format(100))] = None,
    cameras: Annotated[str | None, typer.Option(
        help="comma list of cameras the model sees" + _KEPT.format("the size's preset"))] = None,
    no_augment: Annotated[bool, typer.Option("--no-augment", help="turn off image augmentation")] = False,
    checkpoint_every: Annotated[int | None, typer.Option(
        min=1, help="write the checkpoint every this many steps (and at the end)" + _KEPT.format(500))] = None,
    seed: Annotated[int | None, typer.Option(
        help="seed of the weights' initialisation, batches and augmentation" + _KEPT.format(0))] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="continue the run in --out if it exists (settings it was trained for cannot change)")] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="replace an existing --out with a new run")] = False,
    vision_weights: Annotated[Path | None, typer.Option(
        help="pretrained weights of one camera's encoder (state dict) for every camera")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fine-tune the reference VLA on demonstrations (run under torchrun for several GPUs)."""
    from pydantic import ValidationError

    from sim2real.data.validate import check_readable
    from sim2real.errors import Sim2RealError, describe_validation_error

    for root in data:  # a broken dataset is refused in one line, before torch loads
        check_readable(root)
    from sim2real.train.sft import SFTConfig, train_sft

    given = dict(model=model, head=head, encoder=encoder, steps=steps, batch_size=batch_size,
                 learning_rate=learning_rate, warmup_steps=warmup_steps, checkpoint_every=checkpoint_every,
                 seed=seed, vision_weights=vision_weights, image_size=image_size, camera_aspect=camera_aspect,
                 frozen_stages=frozen_stages, feature_cache=feature_cache, feature_cache_dir=feature_cache_dir,
                 feature_views=feature_views,
                 cameras=tuple(cameras.split(",")) if cameras else None, augment=False if no_augment else None)
    try:  # only what was given: a resumed run keeps the checkpoint's value of everything else
        config = SFTConfig(data=tuple(data), out=out, resume=resume, overwrite=overwrite,
                           **{k: v for k, v in given.items() if v is not None})
    except ValidationError as error:
        raise Sim2RealError(describe_validation_error(error, SFTConfig)) from None
    with progress_bar() as progress:
        bar = None

        def on_start(step: int, total: int) -> None:
            nonlocal bar  # made when training starts: a run with nothing to do shows no bar
            bar = progress.add_task("train sft", total=total, completed=step, status="")

        def on_step(step: int, loss: float, throughput: float) -> None:
            progress.update(bar, completed=step, status=f"loss {loss:.4f}  {throughput:.0f} samples/s")

        cache_bar = None

        def on_features(frames: int, total: int) -> None:
            nonlocal cache_bar
            if cache_bar is None:
                cache_bar = progress.add_task("feature cache", total=total, status="frames")
            progress.update(cache_bar, completed=frames)

        summary = train_sft(config, on_step, on_start, on_features)
    if int(os.environ.get("RANK", "0")) != 0:
        return  # under torchrun every rank trains; one reports
    if as_json:
        print_json(summary)
        return
    if summary["steps_this_run"] == 0:
        console.print(f"{summary['message']} (--steps {summary['asked_steps']}): "
                      f"nothing to train; {summary['checkpoint']} is unchanged")
        return
    changed = "".join(f"; {field} {old} -> {new} from step {summary['steps'] - summary['steps_this_run']}"
                      for field, (old, new) in summary["changed"].items())
    console.print(
        f"trained {summary['steps_this_run']} steps in {summary['seconds']:.0f} s "
        f"({summary['samples_per_second']:.0f} samples/s on {summary['device']}): loss "
        f"{summary['loss_first']:.4f} -> {summary['loss_last']:.4f}; checkpoint {summary['checkpoint']}{changed}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
