"""`sim2real bench serve`: websocket serving overhead over a bare echo of the same bytes."""

from __future__ import annotations

from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import print_json, stdout


def bench_serve_command(
    rounds: Annotated[int, typer.Option(min=10, help="round trips per measurement")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """Latency added by serving a policy (3 images at 224x224) on loopback, vs a bare echo."""
    from rich.table import Table

    from sim2real.bench.serve_bench import bench_serve

    report = bench_serve(rounds)
    if as_json:
        print_json(report)
        return
    table = Table("measure", "median ms", title=f"bench serve ({report['payload_bytes']} bytes per request)")
    table.add_row("policy inference, local", f"{report['local_inference_ms']:.3f}")
    table.add_row("policy inference, remote round trip", f"{report['remote_round_trip_ms']:.3f}")
    table.add_row("overhead (target <= 2 ms)", f"{report['overhead_ms']:.3f}")
    table.add_row("bare websocket echo of the same bytes", f"{report['bare_echo_ms']:.3f}")
    table.add_row("ratio remote / bare echo", f"{report['ratio_over_bare_echo']:.2f}")
    stdout.print(table)


def register(app: typer.Typer) -> None:
    from sim2real.cli.commands.bench import bench_app

    bench_app.command("serve")(bench_serve_command)
