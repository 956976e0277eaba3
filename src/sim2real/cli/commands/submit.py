"""`sim2real submit`: submit a policy server to a benchmark of the platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim2real.cli.options import JsonFlag
from sim2real.cli.output import console, print_json


def submit_command(
    server: Annotated[str, typer.Option(help="the platform, http://HOST:PORT")],
    token: Annotated[str, typer.Option(envvar="SIM2REAL_TOKEN", help="your user token (or $SIM2REAL_TOKEN)")],
    benchmark: Annotated[str, typer.Option(help="the benchmark's name")],
    policy: Annotated[str | None, typer.Option(help="ws://HOST:PORT of your policy server (openpi's exchange), "
                                                    "reachable from the platform and its stations")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="instead of --policy: upload this checkpoint (`sim2real "
                                                         "train sft`); the stations serve it")] = None,
    name: Annotated[str, typer.Option(help="the leaderboard's name for it (default: the server's)")] = "",
    private: Annotated[bool, typer.Option("--private", help="only you see it (not on the leaderboard)")] = False,
    baseline: Annotated[bool, typer.Option("--baseline", help="mark as a baseline (admin token)")] = False,
    station: Annotated[str | None, typer.Option(help="run only on this station, waiting in its queue "
                                                     "(default: the first free station of the benchmark's kind)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check the policy server, queue one job per task, and show each job's place in its queue."""
    from sim2real.errors import invalid
    from sim2real.platform.client import PlatformClient
    from sim2real.platform.endpoint import check_policy

    if (policy is None) == (checkpoint is None):
        raise invalid("policy", "--policy and --checkpoint" if policy else "(none)",
                      "exactly one of --policy ws://HOST:PORT or --checkpoint CKPT.pt")
    if policy is not None:
        check_policy(policy)
    client = PlatformClient(server, token, retries=2)
    if checkpoint is not None:
        from sim2real.policy.vla.policy import checkpoint_metadata

        checkpoint_metadata(checkpoint)  # one line here, before the upload, if it is not a checkpoint
        stored = client.request("PUT", "/api/checkpoints", data=checkpoint.read_bytes(),
                                content_type="application/octet-stream")
        if not as_json:
            console.print(f"checkpoint {checkpoint} stored as {stored['policy']} ({stored['bytes']} bytes)",
                          highlight=False)
        policy = stored["policy"]
    reply = client.post("/api/submissions", {"benchmark": benchmark, "policy": policy, "name": name,
                                             "public": not private, "baseline": baseline, "station": station})
    if as_json:
        print_json(reply)
        return
    console.print(f"submission {reply['id']} ({reply['name']}) to {benchmark}: {reply['state']}", highlight=False)
    for job in reply["jobs"]:
        queue = f" in {job['queue']}'s queue" if job.get("queue") else ""
        console.print(f"  job {job['id']} {job['task']}: {job['state']}, position {job['position']}{queue}: "
                      f"{job['reason']}", highlight=False)
    console.print(f"  {server.rstrip('/')}/submissions/{reply['id']}" if reply["public"] else
                  f"  GET {server.rstrip('/')}/api/submissions/{reply['id']} with your token", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("submit")(submit_command)
