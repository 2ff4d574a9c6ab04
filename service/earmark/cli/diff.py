"""`earmark diff`: what publishing one pack instead of another does, to the contract and to
a catalog's verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from earmark.authoring.contract import contract_changes
from earmark.authoring.impact import compare, render
from earmark.cli.common import catalog_option, load_evaluator, read_catalog_or_fail


@click.command("diff")
@click.argument("old_pack", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("new_pack", type=click.Path(file_okay=False, exists=True, path_type=Path))
@catalog_option("catalog_file", "Products as JSON Lines, to preview the change on.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Exit 0 even if some catalog products are invalid under the old pack.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["breaking"]),
    help="Exit 1 if the change can refuse requests that worked, or removes what clients read.",
)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def command(
    ctx: click.Context,
    old_pack: Path,
    new_pack: Path,
    catalog_file: Path | None,
    skip_invalid: bool,
    fail_on: str | None,
    output_format: str,
) -> None:
    """Preview what publishing NEW_PACK instead of OLD_PACK does: to the contract clients
    rely on (attributes, values, ranges, use cases, categories) and, with --catalog, to
    every product's verdict."""
    old, new = load_evaluator(old_pack), load_evaluator(new_pack)
    changes = contract_changes(old.pack, new.pack)
    report: dict[str, Any] = {}
    if catalog_file is not None:
        report = compare(old, new, read_catalog_or_fail(catalog_file))
    if output_format == "json":
        contract = [{"subject": c.subject, "change": c.change, "breaking": c.breaking} for c in changes]
        click.echo(json.dumps({"contract": contract, **report}, indent=2, ensure_ascii=False))
    else:
        breaking = sum(c.breaking for c in changes)
        click.echo(f"contract: {len(changes)} changes, {breaking} breaking")
        for change in changes:
            click.echo(f"  {change}")
        if report:
            click.echo(render(report))
    broke = any(c.breaking for c in changes) or bool(report.get("newly_refused"))
    # A catalog product the old pack already refuses was left out of the comparison: the
    # preview is incomplete, and says so by its exit code unless that is expected.
    invalid = bool(report.get("invalid")) and not skip_invalid
    ctx.exit(1 if (fail_on == "breaking" and broke) or invalid else 0)
