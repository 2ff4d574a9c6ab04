"""`earmark rank`: a catalog best first for one use case, with the rules that moved each."""

from __future__ import annotations

import json
from pathlib import Path

import click

from earmark.authoring.rank import rank, render
from earmark.cli.common import catalog_option, load_evaluator, pack_argument, read_catalog_or_fail


@click.command("rank")
# It took the pack as --pack before every command took it as PACK_DIR; that still works.
@pack_argument(hidden_option="--pack")
@click.option("--use-case", "use_case", required=True, help="The use case to rank by, e.g. call_center.")
@catalog_option("catalog_file", "Products as JSON Lines.", required=True)
@click.option("--top", default=10, show_default=True, help="How many of the best to list.")
@click.option("--bottom", default=5, show_default=True, help="How many of the worst to list.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def command(
    pack_dir: Path,
    pack_option: Path | None,
    use_case: str,
    catalog_file: Path,
    top: int,
    bottom: int,
    output_format: str,
) -> None:
    """List a catalog's best and worst products for one use case, with their scores and the
    rules that moved them most: is the pack's order what a shop assistant would say?"""
    evaluator = load_evaluator(pack_option or pack_dir)
    names = [u.id for u in evaluator.pack.use_cases]
    if use_case not in names:
        raise click.BadParameter(f"{use_case!r} is not a use case of this pack; it has {', '.join(names)}")
    report = rank(evaluator, read_catalog_or_fail(catalog_file), use_case)
    click.echo(
        json.dumps(report, indent=2, ensure_ascii=False)
        if output_format == "json"
        else render(report, top, bottom)
    )
