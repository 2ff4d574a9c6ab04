"""The `earmark` command: serve the pack, check it, and run its example cases.

Exit codes: 0 success, 1 findings or failures, 2 usage or configuration errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from earmark.config import BUNDLED_RULES, load_settings
from earmark.errors import ConfigError, PackError, Problem
from earmark.evaluation import Evaluator
from earmark.examples import run_examples, unexercised_rules
from earmark.logs import configure_logging
from earmark.server import serve

PACK_DIR = click.argument(
    "pack_dir", required=False, default=str(BUNDLED_RULES), type=click.Path(file_okay=False, path_type=Path)
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Earmark: labels audio gear, scores it for each use case, and explains why."""


@main.command("serve")
def serve_command() -> None:
    """Serve the rule pack over gRPC. Configured by EARMARK_* environment variables."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        click.echo(f"earmark: {exc}", err=True)
        sys.exit(2)
    configure_logging(settings.log_level, settings.log_format)
    sys.exit(serve(settings))


@main.command("check")
@PACK_DIR
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def check_command(pack_dir: Path, strict: bool) -> None:
    """Check a rule pack: print every problem as path:line:col: severity[code]: message.

    Exits 1 on errors (or on warnings with --strict), 2 on usage errors.
    """
    evaluator = _load_or_exit(pack_dir)
    pack = evaluator.pack
    warnings = sorted(
        Problem(
            r.location.path,
            r.location.line,
            r.location.column,
            "unexercised-rule",
            f"no example case makes '{r.id}' fire",
            "warning",
        )
        for r in unexercised_rules(evaluator, run_examples(evaluator))
    )
    for warning in warnings:
        click.echo(str(warning))
    click.echo(
        f"{pack.name}: {len(pack.rules)} rules, {len(pack.use_cases)} use cases, {len(pack.examples)} example cases, "
        f"{len(warnings)} warning(s); version {pack.version}"
    )
    sys.exit(1 if strict and warnings else 0)


@main.command("test")
@PACK_DIR
def test_command(pack_dir: Path) -> None:
    """Run the pack's example cases through the real engine."""
    evaluator = _load_or_exit(pack_dir)
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
    sys.exit(0 if passed == len(results) else 1)


def _load_or_exit(pack_dir: Path) -> Evaluator:
    try:
        return Evaluator.from_directory(pack_dir)
    except PackError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
