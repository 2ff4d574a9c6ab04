"""The `earmark` command, one module per subcommand (as OPA's cmd/ has one file per
command). Each is a short function handing over to the layer that does the work;
common.py holds what they share: how a pack and a catalog are named, and how a command
fails (exit 1 for findings, 2 for usage)."""

from __future__ import annotations

import click

from earmark.cli import (
    check,
    diff,
    explain,
    health,
    publish,
    rank,
    replay,
    schemas,
    score,
    serve,
    status,
    studio,
    test,
)
from earmark.cli.common import EarmarkGroup


@click.group(cls=EarmarkGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Earmark: labels audio gear, scores it for each use case, and explains why."""


for module in (
    serve,
    studio,
    check,
    test,
    schemas,
    explain,
    rank,
    diff,
    replay,
    score,
    publish,
    status,
    health,
):
    main.add_command(module.command)

__all__ = ["main"]
