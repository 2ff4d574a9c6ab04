"""`earmark studio`: the merchandisers' web page, over a working copy and a live folder."""

from __future__ import annotations

from pathlib import Path

import click

from earmark.cli.common import Unusable, catalog_option
from earmark.config import DEFAULT_METRICS_PORT, Address, load_settings
from earmark.studio.run import sample, serve_studio


@click.command("studio")
@click.argument("working_copy", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--live",
    "live_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The folder a server watches, that Publish replaces.",
)
@catalog_option("catalog", "JSON Lines of products to score and preview on.")
@click.option("--server", help="HOST:PORT of the gRPC server on the live folder: Publish waits for it.")
@click.option(
    "--metrics",
    "metrics_url",
    help=f"Its metrics address, for production hit counts (default: http://HOST:{DEFAULT_METRICS_PORT}/metrics with --server).",
)
@click.option("--address", help="HOST:PORT to serve on (default: EARMARK_STUDIO_ADDRESS, 127.0.0.1:8080).")
def command(
    working_copy: Path | None,
    live_dir: Path | None,
    catalog: Path | None,
    server: str | None,
    metrics_url: str | None,
    address: str | None,
) -> None:
    """Earmark Studio: a web page to see why products score what they do, edit the working
    copy with checking as you type, preview the change on a catalog, and publish it.

    With no arguments it opens a sample: a working copy and a live folder made from the
    bundled pack, under build/studio-sample/, and examples/catalog.jsonl.
    """
    if working_copy is None:
        bundled = sample()
        working_copy, live_dir, catalog = (
            bundled.working_copy,
            live_dir or bundled.live_dir,
            catalog or bundled.catalog,
        )
    if live_dir is None or catalog is None:
        raise click.UsageError("with a WORKING_COPY, give --live LIVE_DIR and --catalog FILE too")
    if server and not metrics_url:
        metrics_url = f"http://{Address.parse(server).host}:{DEFAULT_METRICS_PORT}/metrics"
    try:
        serve_studio(
            load_settings(),
            working_copy,
            live_dir,
            catalog,
            server=server,
            metrics_url=metrics_url,
            address=address,
        )
    except ValueError as exc:  # a catalog line that is not a product
        raise Unusable(f"{catalog}: {exc}") from None
