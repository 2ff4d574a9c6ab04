"""`earmark check`: every problem of a pack, as path:line:col: severity[code]: message."""

from __future__ import annotations

from pathlib import Path

import click

from earmark.authoring.check import pack_warnings
from earmark.cli.common import load_evaluator, pack_argument


@click.command("check")
@pack_argument()
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.pass_context
def command(ctx: click.Context, pack_dir: Path, strict: bool) -> None:
    """Check a rule pack: print every problem as path:line:col: severity[code]: message.

    Exits 1 on errors (or on warnings with --strict), 2 on usage errors.
    """
    evaluator = load_evaluator(pack_dir)
    pack = evaluator.pack
    warnings = pack_warnings(evaluator, pack_dir)
    for warning in warnings:
        click.echo(str(warning))
    click.echo(
        f"{pack.name}: {len(pack.rules)} rules, {len(pack.use_cases)} use cases, {len(pack.examples)} example cases, "
        f"{len(warnings)} warning(s); version {pack.version}"
    )
    ctx.exit(1 if strict and warnings else 0)
