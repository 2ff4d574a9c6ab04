"""`earmark serve`: the gRPC service, one process or a supervisor of workers."""

from __future__ import annotations

from pathlib import Path

import click

from earmark.config import load_settings
from earmark.logs import configure_logging
from earmark.server.grpc_server import serve
from earmark.server.supervisor import Supervisor


@click.command("serve")
# The supervisor's workers share its port and leave /metrics to it. Not a setting: set on a
# lone server it would let a second server join the port and silently split its traffic.
@click.option("--as-worker", is_flag=True, hidden=True)
@click.option("--heartbeat", type=click.Path(path_type=Path), hidden=True)  # the supervisor's
@click.pass_context
def command(ctx: click.Context, as_worker: bool, heartbeat: Path | None) -> None:
    """Serve the rule pack over gRPC. Configured by EARMARK_* environment variables."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.workers > 1:
        ctx.exit(Supervisor(settings).run())
    ctx.exit(serve(settings, as_worker=as_worker, heartbeat=heartbeat))
