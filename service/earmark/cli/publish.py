"""`earmark publish`: a working copy made the live pack, through the reload's own gate."""

from __future__ import annotations

from pathlib import Path

import click

from earmark.authoring.publish import publish
from earmark.cli.common import Failed
from earmark.errors import PackError, PublishRefused


@click.command("publish")
@click.argument("working_copy", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("live_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--allow-breaking", is_flag=True, help="Publish even if requests that work today could be refused."
)
def command(working_copy: Path, live_dir: Path, allow_breaking: bool) -> None:
    """Make WORKING_COPY the pack in LIVE_DIR, the folder a server watches.

    The working copy must pass the same gate as a reload (every check and its own example
    cases), and must not break the contract clients rely on unless --allow-breaking;
    then the live files are replaced in one step, so that the server never reads a
    half-written pack. Nothing is written if the pack would be refused.
    """
    try:
        done = publish(working_copy, live_dir, allow_breaking=allow_breaking)
    except PackError as exc:
        raise Failed(f"{exc.report(str(working_copy))}\nearmark: not published") from None
    except PublishRefused as exc:
        raise Failed(f"not published: {exc}") from None
    for change in done.contract:
        click.echo(f"contract: {change}")
    was = f" (was {done.previous})" if done.previous else ""
    click.echo(f"published {done.version} to {live_dir}{was}; a watching server picks it up within a second")
