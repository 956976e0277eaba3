"""`sim2real train sft`: supervised fine-tuning of the reference VLA."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import console, print_json, progress_bar

train_app = typer.Typer(help="Train policies: SFT of the reference VLA.", no_args_is_help=True)


@train_app.command("sft")
def sft_command(
    data: Annotated[list[Path], typer.Option("--data", help="dataset folder; repeat to mix several")],
    out: Annotated[Path, typer.Option(help="checkpoint file to write (.pt)")],
    model: Annotated[str, typer.Option(help="model size: tiny or base")] = "tiny",
    head: Annotated[str, typer.Option(help="action head: continuous (L1) or discrete (256 bins)")] = "continuous",
    encoder: Annotated[str | None, typer.Option(
        help="image encoder per camera: resnet or vit (default: the size's preset)")] = None,
    steps: Annotated[int, typer.Option(min=1, help="optimiser steps in total")] = 1000,
    batch_size: Annotated[int, typer.Option(min=1, help="samples per step and process")] = 32,
    learning_rate: Annotated[float, typer.Option(help="peak learning rate")] = 3e-4,
    warmup_steps: Annotated[int, typer.Option(min=0, help="steps of linear learning-rate warm-up before the cosine decay")] = 100,
    cameras: Annotated[str | None, typer.Option(help="comma list of cameras the model sees")] = None,
    no_augment: Annotated[bool, typer.Option("--no-augment", help="turn off image augmentation")] = False,
    checkpoint_every: Annotated[int, typer.Option(min=1, help="save the checkpoint every this many steps (and at the end)")] = 500,
    seed: Annotated[int, typer.Option(help="seed of the weights' initialisation, sampling and augmentation")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="continue from --out if it exists")] = False,
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

    try:
        config = SFTConfig(
            data=tuple(data), out=out, model=model, head=head, encoder=encoder, steps=steps,
            batch_size=batch_size, learning_rate=learning_rate, warmup_steps=warmup_steps,
            cameras=tuple(cameras.split(",")) if cameras else None, augment=not no_augment,
            checkpoint_every=checkpoint_every, seed=seed, resume=resume,
            vision_weights=vision_weights,
        )
    except ValidationError as error:
        raise Sim2RealError(describe_validation_error(error, SFTConfig)) from None
    with progress_bar() as progress:
        bar = progress.add_task("train sft", total=steps, status="")

        def on_step(step: int, loss: float, throughput: float) -> None:
            progress.update(bar, completed=step, status=f"loss {loss:.4f}  {throughput:.0f} samples/s")

        summary = train_sft(config, on_step)
    if int(os.environ.get("RANK", "0")) != 0:
        return  # under torchrun every rank trains; one reports
    if as_json:
        print_json(summary)
        return
    console.print(
        f"trained {summary['steps_this_run']} steps in {summary['seconds']:.0f} s "
        f"({summary['samples_per_second']:.0f} samples/s on {summary['device']}): loss "
        f"{summary['loss_first']:.4f} -> {summary['loss_last']:.4f}; checkpoint {summary['checkpoint']}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
