"""`sim2real bench policy`: reference-VLA latency per action chunk, vs its bare forward pass."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import print_json, stdout


def bench_policy_command(
    model: Annotated[str, typer.Option(help="comma list of model sizes with random weights: tiny, base")] = "tiny,base",
    checkpoint: Annotated[Path | None, typer.Option(help="time this checkpoint instead of the presets")] = None,
    iterations: Annotated[int, typer.Option(min=1, help="timed chunks per model")] = 20,
    warmup: Annotated[int, typer.Option(min=0, help="untimed chunks first")] = 3,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda when available)")] = None,
    encoder: Annotated[str | None, typer.Option(
        help="image encoder of the presets: resnet, vit or efficientnet-lite0 (default: each "
        "size's own)")] = None,
    cameras: Annotated[str, typer.Option(help="comma list of cameras the presets see: head, left_wrist, right_wrist")] = "head",
    image_size: Annotated[int | None, typer.Option(help="square model input of the presets (default: each size's own)")] = None,
    camera_aspect: Annotated[str | None, typer.Option(
        help="aspect of the rendered frames the policy resizes: 1:1 or 4:3")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Median and p90 latency per action chunk of VLAPolicy.infer and of the bare model forward
    pass; their ratio is the policy's preprocessing overhead. With efficientnet-lite0 also the
    bare forward over the package's own network at the same input (load-independent)."""
    from rich.table import Table

    from sim2real.bench.policy_bench import bench_policy
    from sim2real.errors import invalid
    from sim2real.policy.vla.config import PRESETS

    sizes = tuple(s.strip() for s in model.split(",") if s.strip())
    for size in sizes:
        if size not in PRESETS:
            raise invalid("model size", size, ", ".join(PRESETS))
    if device is not None and device not in ("cpu", "cuda"):
        raise invalid("device", device, "cpu, cuda")
    overrides = {"cameras": tuple(c.strip() for c in cameras.split(",") if c.strip())}
    for field, value in (("encoder", encoder), ("image_size", image_size), ("camera_aspect", camera_aspect)):
        if value is not None:
            overrides[field] = value
    report = bench_policy(sizes, checkpoint, iterations, warmup, device, overrides)
    if as_json:
        print_json(report)
        return
    table = Table("model", "parameters", "input", "policy median ms", "policy p90 ms",
                  "forward median ms", "forward p90 ms", "ratio policy / forward",
                  "ratio forward / raw library",
                  title=f"bench policy on {report['device']} ({report['torch_threads']} threads)")
    for name, row in report["models"].items():
        table.add_row(
            name, f"{row['parameters'] / 1e6:.1f} M",
            f"{row['encoder']}, {len(row['cameras'])} x {row['image_size']} px, K={row['chunk_size']}",
            f"{row['policy_median_ms']:.1f}", f"{row['policy_p90_ms']:.1f}",
            f"{row['forward_median_ms']:.1f}", f"{row['forward_p90_ms']:.1f}",
            f"{row['ratio_over_forward']:.2f}",
            f"{row['ratio_over_raw_library']:.2f}" if "ratio_over_raw_library" in row else "-",
        )
    stdout.print(table)


def register(app: typer.Typer) -> None:
    from sim2real.cli.commands.bench import bench_app

    bench_app.command("policy")(bench_policy_command)
