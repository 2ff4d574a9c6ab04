"""`earmark test`: the pack's example cases, through the real engine."""

from __future__ import annotations

from pathlib import Path

import click

from earmark.cli.common import load_evaluator, pack_argument
from earmark.evaluation.examples import run_examples, unexercised_rules


@click.command("test")
@pack_argument()
@click.pass_context
def command(ctx: click.Context, pack_dir: Path) -> None:
    """Run the pack's example cases through the real engine."""
    evaluator = load_evaluator(pack_dir)
    results = run_examples(evaluator)
    for result in results:
        if result.passed:
            continue
        case = result.case
        click.echo(f"{case.location}: FAIL {case.name}")
        for failure in result.failures:
            click.echo(f"    {failure}")
        if result.verdict is not None:
            fired = ", ".join(r.id for r in result.verdict.fired) or "none"
            click.echo(f"    rules that fired: {fired}")
    passed = sum(r.passed for r in results)
    unexercised = [r.id for r in unexercised_rules(evaluator, results)]
    if unexercised:
        click.echo(f"coverage: {len(unexercised)} rules no case exercises: {', '.join(unexercised)}")
    else:
        click.echo(f"coverage: every one of the {len(evaluator.pack.rules)} rules is exercised")
    click.echo(f"{passed} passed, {len(results) - passed} failed")
    ctx.exit(0 if passed == len(results) else 1)
