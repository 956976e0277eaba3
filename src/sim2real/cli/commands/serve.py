"""`sim2real serve`: serve any policy over websocket (msgpack + numpy, openpi's exchange)."""

from __future__ import annotations

from typing import Annotated

import typer

from sim2real.cli.output import console
from sim2real.policy.spec import SPEC_HELP


def serve_command(
    policy: Annotated[str, typer.Option(help=SPEC_HELP)],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port (0: any free port)")] = 8000,
    max_connections: Annotated[int, typer.Option(
        min=1, help="clients served at once; more are refused with HTTP 503")] = 64,
) -> None:
    """Serve a policy until interrupted. A stateless policy (a VLA checkpoint) is loaded once
    and shared by all clients; a stateful one gets an instance per client."""
    import asyncio

    from sim2real.cli.checks import check_listen_address
    from sim2real.policy.server import PolicyServer
    from sim2real.policy.spec import load_policy

    check_listen_address(host, port)  # before the policy loads, which may take a while
    server = PolicyServer(lambda: load_policy(policy), host, port, max_connections)

    def ready(bound: int) -> None:
        console.print(f"serving {policy} on ws://{host}:{bound}", highlight=False)

    try:
        asyncio.run(server.serve_forever(ready))
    except KeyboardInterrupt:
        console.print("stopped")
    except OSError as error:  # the port was taken between the check and the bind
        from sim2real.errors import invalid

        raise invalid("port", port, f"a free port ({error.strerror or error})") from None


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
