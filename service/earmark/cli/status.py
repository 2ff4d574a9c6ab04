"""`earmark status`: which pack a running server serves, and how its last reload went."""

from __future__ import annotations

import click
import grpc

from earmark.cli.common import Failed
from earmark.config import Address, load_settings
from earmark.server.status import live_status


@click.command("status")
@click.argument("address", required=False)
@click.option("--timeout", default=3.0, show_default=True, help="Seconds to wait for an answer.")
def command(address: str | None, timeout: float) -> None:
    """Show a running server's live pack: its version, when it loaded, and the last reload.

    ADDRESS is HOST:PORT (default: EARMARK_ADDRESS). It speaks plaintext.
    """
    target = address or str(Address.parse(load_settings().address).to_dial())
    try:
        status = live_status(target, timeout)
    except grpc.RpcError as exc:
        raise Failed(f"{target} did not answer: {exc.code().name}") from None
    click.echo(f"{target}: serving {status.version} ({status.rules} rules), loaded {status.loaded_at}")
    if status.last_reload_at:
        click.echo(
            f"reloads: {status.reloads_succeeded} succeeded, {status.reloads_failed} refused; last at {status.last_reload_at}"
        )
    if status.last_reload_error:
        click.echo("the last reload was refused; the version above still serves:")
        click.echo("\n".join(f"  {line}" for line in status.last_reload_error.splitlines()))
    click.echo(
        "watching the rules folder" if status.watching else f"not watching: {status.watch_problem or 'off'}"
    )
