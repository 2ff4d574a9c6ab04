"""`earmark health`: a running server's health, for container health checks."""

from __future__ import annotations

import click

from earmark.cli.common import Unusable
from earmark.config import Address, load_settings
from earmark.server.grpc_server import check_health


@click.command("health")
@click.option(
    "--address",
    default=None,
    help="HOST:PORT to ask (default: EARMARK_HEALTH_ADDRESS if set, else EARMARK_ADDRESS).",
)
@click.option("--timeout", default=3.0, show_default=True, help="Seconds to wait for an answer.")
@click.pass_context
def command(ctx: click.Context, address: str | None, timeout: float) -> None:
    """Ask a running server's gRPC health service; exit 0 only if it is SERVING.

    Made for container health checks, where no grpc_health_probe binary is available.
    It speaks plaintext: with TLS on, it asks EARMARK_HEALTH_ADDRESS.
    """
    settings = load_settings()
    if address is None and settings.tls_cert is not None and not settings.health_address:
        raise Unusable(
            "EARMARK_TLS_CERT is set, so the main port refuses plaintext health checks;"
            " set EARMARK_HEALTH_ADDRESS to serve them on a port of their own"
        )
    target = str(Address.parse(address or settings.health_address or settings.address).to_dial())
    status = check_health(target, timeout)
    click.echo(f"{target}: {status}")
    ctx.exit(0 if status == "SERVING" else 1)
