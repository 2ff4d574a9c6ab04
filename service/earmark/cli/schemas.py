"""`earmark schemas`: the pack's JSON Schemas, for editors with a YAML language server."""

from __future__ import annotations

from pathlib import Path

import click

from earmark.authoring.schemas import stale_schemas, write_schemas
from earmark.cli.common import Failed, pack_argument
from earmark.errors import PackError
from earmark.rulepack.files import display_path


@click.command("schemas")
@pack_argument()
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if they are out of date.")
@click.pass_context
def command(ctx: click.Context, pack_dir: Path, check_only: bool) -> None:
    """Write the pack's JSON Schemas to PACK_DIR/schemas/, for completion and inline errors
    in any editor with a YAML language server. Run it again after changing pack.yaml."""
    try:
        stale = stale_schemas(pack_dir)
        if check_only:
            for name in stale:
                click.echo(f"{display_path(pack_dir / name)}: out of date; run `earmark schemas {pack_dir}`")
            ctx.exit(1 if stale else 0)
        for path in write_schemas(pack_dir):
            click.echo(f"wrote {display_path(path)}")
    except PackError as exc:
        raise Failed(exc.report(str(pack_dir))) from None
