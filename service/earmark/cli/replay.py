"""`earmark replay`: logged decisions re-evaluated under a candidate pack."""

from __future__ import annotations

import json
from pathlib import Path

import click

from earmark.authoring.replay import read_decisions, render, replay
from earmark.cli.common import load_evaluator


@click.command("replay")
@click.argument("decisions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--pack",
    "pack_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The candidate pack to replay the decisions under.",
)
@click.option("--fail-on-change", is_flag=True, help="Exit 1 if any decision would change or be refused.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def command(
    ctx: click.Context, decisions: Path, pack_dir: Path, fail_on_change: bool, output_format: str
) -> None:
    """Re-evaluate the decisions in DECISIONS (a decision log, EARMARK_DECISION_LOG) under
    the pack in --pack, and report which would change: `earmark diff` on live traffic."""
    candidate = load_evaluator(pack_dir)
    try:
        with decisions.open(encoding="utf-8") as lines:
            report = replay(candidate, read_decisions(lines))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{decisions}: {exc}") from None
    if output_format == "json":
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render(report))
    ctx.exit(1 if fail_on_change and (report.changed or report.refused) else 0)
