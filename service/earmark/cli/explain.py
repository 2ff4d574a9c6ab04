"""`earmark explain`: why a product gets its verdict, score by score."""

from __future__ import annotations

import json
from pathlib import Path

import click

from earmark.authoring.explain import breakdown, render
from earmark.cli.common import load_evaluator, pack_argument, read_data
from earmark.evaluation.request_notes import RequestNotes


@click.command("explain")
@click.argument("product_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
# Before every command took the pack the same way (as its argument), explain took it as an
# option; --rules still works for scripts written then.
@pack_argument(hidden_option="--rules")
@click.option(
    "--shopper",
    "shopper_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A shopper, as JSON or YAML.",
)
@click.option("--locale", default="", help="BCP 47 language tag for the texts, e.g. de-DE.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def command(
    product_file: Path,
    pack_dir: Path,
    pack_option: Path | None,
    shopper_file: Path | None,
    locale: str,
    output_format: str,
) -> None:
    """Show why a product gets its verdict: the deciding rules and each score's waterfall.

    PRODUCT_FILE is JSON or YAML: either {"id": ..., "specs": {...}} or the specs alone.
    PACK_DIR is the rule pack, as for every command (default: the bundled one).
    """
    evaluator = load_evaluator(pack_option or pack_dir)
    product = read_data(product_file)
    specs = product.get("specs", product)
    product_id = str(product.get("id", product_file.stem)) if "specs" in product else product_file.stem
    shopper = read_data(shopper_file) if shopper_file else None
    notes = RequestNotes(evaluator.validator, strict=False)
    verdict = evaluator.verdict_for(
        product_id, specs, shopper, locale, notes=notes
    )  # InvalidArgument: exit 1
    data = breakdown(verdict, evaluator.pack, notes.warnings)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if output_format == "json" else render(data))
