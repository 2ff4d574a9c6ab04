"""The `earmark` command: serve, studio, check, test, schemas, explain, diff, publish, status,
health.

Exit codes: 0 success, 1 findings or failures, 2 usage or configuration errors.

Over the house's 300 lines because it is the whole command-line surface in one place:
each command is a short function handing over to the layer that does the work, and
reading them together is how one keeps their arguments and wording consistent.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import grpc
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from earmark.authoring.contract import contract_changes
from earmark.authoring.explain import breakdown, render
from earmark.authoring.impact import CatalogProduct, compare, read_catalog
from earmark.authoring.impact import render as render_impact
from earmark.authoring.publish import publish
from earmark.authoring.rank import rank
from earmark.authoring.rank import render as render_ranking
from earmark.authoring.schemas import stale_schemas, write_schemas
from earmark.config import BUNDLED_RULES, load_settings
from earmark.diagnostics import Location, Problem
from earmark.errors import ConfigError, InvalidArgument, PackError, PublishRefused
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import run_examples, unexercised_rules
from earmark.logs import configure_logging
from earmark.rulepack.files import display_path
from earmark.rulepack.json_schema import SCHEMA_DIR
from earmark.server.grpc_server import check_health, serve
from earmark.server.status import live_status
from earmark.server.supervisor import Supervisor
from earmark.studio.run import sample, serve_studio

PACK_DIR = click.argument(
    "pack_dir", required=False, default=str(BUNDLED_RULES), type=click.Path(file_okay=False, path_type=Path)
)


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _catalog_option(name: str, help_text: str, *, required: bool = False) -> Callable[[_Command], _Command]:
    """--catalog as diff, rank and studio take it: a JSON Lines file of products."""
    return click.option(
        "--catalog",
        name,
        required=required,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=help_text,
    )


def _read_catalog_or_fail(path: Path) -> list[CatalogProduct]:
    """Every product of a catalog file; a line that isn't a product stops the command
    with its file and line."""
    try:
        with path.open(encoding="utf-8") as lines:
            return list(read_catalog(lines))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Earmark: labels audio gear, scores it for each use case, and explains why."""


@main.command("serve")
# The supervisor's workers share its port and leave /metrics to it. Not a setting: set on a
# lone server it would let a second server join the port and silently split its traffic.
@click.option("--as-worker", is_flag=True, hidden=True)
@click.option("--heartbeat", type=click.Path(path_type=Path), hidden=True)  # the supervisor's
def serve_command(as_worker: bool, heartbeat: Path | None) -> None:
    """Serve the rule pack over gRPC. Configured by EARMARK_* environment variables."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        click.echo(f"earmark: {exc}", err=True)
        sys.exit(2)
    configure_logging(settings.log_level, settings.log_format)
    if settings.workers > 1:
        sys.exit(Supervisor(settings).run())
    sys.exit(serve(settings, as_worker=as_worker, heartbeat=heartbeat))


@main.command("health")
@click.option(
    "--address",
    default=None,
    help="HOST:PORT to ask (default: EARMARK_HEALTH_ADDRESS if set, else EARMARK_ADDRESS).",
)
@click.option("--timeout", default=3.0, show_default=True, help="Seconds to wait for an answer.")
def health_command(address: str | None, timeout: float) -> None:
    """Ask a running server's gRPC health service; exit 0 only if it is SERVING.

    Made for container health checks, where no grpc_health_probe binary is available.
    It speaks plaintext: with TLS on, it asks EARMARK_HEALTH_ADDRESS.
    """
    try:
        settings = load_settings()
    except ConfigError as exc:
        click.echo(f"earmark: {exc}", err=True)
        sys.exit(2)
    if address is None and settings.tls_cert is not None and not settings.health_address:
        click.echo(
            "earmark: EARMARK_TLS_CERT is set, so the main port refuses plaintext health checks;"
            " set EARMARK_HEALTH_ADDRESS to serve them on a port of their own",
            err=True,
        )
        sys.exit(2)
    target = address or settings.health_address or settings.address
    target = target.replace("0.0.0.0", "127.0.0.1", 1)
    status = check_health(target, timeout)
    click.echo(f"{target}: {status}")
    sys.exit(0 if status == "SERVING" else 1)


@main.command("check")
@PACK_DIR
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def check_command(pack_dir: Path, strict: bool) -> None:
    """Check a rule pack: print every problem as path:line:col: severity[code]: message.

    Exits 1 on errors (or on warnings with --strict), 2 on usage errors.
    """
    evaluator = _load_or_exit(pack_dir)
    pack = evaluator.pack
    unexercised = [
        Problem(r.location, "unexercised-rule", f"no example case makes '{r.id}' fire", "warning")
        for r in unexercised_rules(evaluator, run_examples(evaluator))
    ]
    warnings = sorted([*pack.warnings, *unexercised, *_stale_schema_warnings(pack_dir)])
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


@main.command("schemas")
@PACK_DIR
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if they are out of date.")
def schemas_command(pack_dir: Path, check_only: bool) -> None:
    """Write the pack's JSON Schemas to PACK_DIR/schemas/, for completion and inline errors
    in any editor with a YAML language server. Run it again after changing pack.yaml."""
    try:
        stale = stale_schemas(pack_dir)
        if check_only:
            for name in stale:
                click.echo(f"{display_path(pack_dir / name)}: out of date; run `earmark schemas {pack_dir}`")
            sys.exit(1 if stale else 0)
        for path in write_schemas(pack_dir):
            click.echo(f"wrote {display_path(path)}")
    except PackError as exc:
        click.echo(f"earmark: {exc.report(str(pack_dir))}", err=True)
        sys.exit(1)


@main.command("explain")
@click.argument("product_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument(
    "pack_dir", required=False, default=str(BUNDLED_RULES), type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--shopper",
    "shopper_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A shopper, as JSON or YAML.",
)
# Before every command took the pack the same way (as its argument), explain took it as an
# option; the option still works for scripts written then.
@click.option("--rules", "rules_option", type=click.Path(file_okay=False, path_type=Path), hidden=True)
@click.option("--locale", default="", help="BCP 47 language tag for the texts, e.g. de-DE.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def explain_command(
    product_file: Path,
    pack_dir: Path,
    shopper_file: Path | None,
    rules_option: Path | None,
    locale: str,
    output_format: str,
) -> None:
    """Show why a product gets its verdict: the deciding rules and each score's waterfall.

    PRODUCT_FILE is JSON or YAML: either {"id": ..., "specs": {...}} or the specs alone.
    PACK_DIR is the rule pack, as for every command (default: the bundled one).
    """
    evaluator = _load_or_exit(rules_option or pack_dir)
    product = read_data(product_file)
    specs = product.get("specs", product)
    product_id = str(product.get("id", product_file.stem)) if "specs" in product else product_file.stem
    shopper = read_data(shopper_file) if shopper_file else None
    try:
        verdict = evaluator.verdict_for(product_id, specs, shopper, locale)
    except InvalidArgument as exc:
        click.echo(f"earmark: {exc.message}", err=True)
        sys.exit(1)
    data = breakdown(verdict, evaluator.pack)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if output_format == "json" else render(data))


@main.command("rank")
@click.option("--use-case", "use_case", required=True, help="The use case to rank by, e.g. call_center.")
@_catalog_option("catalog_file", "Products as JSON Lines.", required=True)
@click.option(
    "--pack",
    "pack_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=BUNDLED_RULES,
    show_default=True,
)
@click.option("--top", default=10, show_default=True, help="How many of the best to list.")
@click.option("--bottom", default=5, show_default=True, help="How many of the worst to list.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def rank_command(
    use_case: str, catalog_file: Path, pack_dir: Path, top: int, bottom: int, output_format: str
) -> None:
    """List a catalog's best and worst products for one use case, with their scores and the
    rules that moved them most: is the pack's order what a shop assistant would say?"""
    evaluator = _load_or_exit(pack_dir)
    names = [u.id for u in evaluator.pack.use_cases]
    if use_case not in names:
        raise click.BadParameter(f"{use_case!r} is not a use case of this pack; it has {', '.join(names)}")
    report = rank(evaluator, _read_catalog_or_fail(catalog_file), use_case)
    click.echo(
        json.dumps(report, indent=2, ensure_ascii=False)
        if output_format == "json"
        else render_ranking(report, top, bottom)
    )


@main.command("diff")
@click.argument("old_pack", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("new_pack", type=click.Path(file_okay=False, exists=True, path_type=Path))
@_catalog_option("catalog_file", "Products as JSON Lines, to preview the change on.")
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
def diff_command(
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
    old, new = _load_or_exit(old_pack), _load_or_exit(new_pack)
    changes = contract_changes(old.pack, new.pack)
    report: dict[str, Any] = {}
    if catalog_file is not None:
        report = compare(old, new, _read_catalog_or_fail(catalog_file))
    if output_format == "json":
        contract = [{"subject": c.subject, "change": c.change, "breaking": c.breaking} for c in changes]
        click.echo(json.dumps({"contract": contract, **report}, indent=2, ensure_ascii=False))
    else:
        breaking = sum(c.breaking for c in changes)
        click.echo(f"contract: {len(changes)} changes, {breaking} breaking")
        for change in changes:
            click.echo(f"  {change}")
        if report:
            click.echo(render_impact(report))
    broke = any(c.breaking for c in changes) or bool(report.get("newly_refused"))
    # A catalog product the old pack already refuses was left out of the comparison: the
    # preview is incomplete, and says so by its exit code unless that is expected.
    invalid = bool(report.get("invalid")) and not skip_invalid
    sys.exit(1 if (fail_on == "breaking" and broke) or invalid else 0)


@main.command("publish")
@click.argument("working_copy", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("live_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--allow-breaking", is_flag=True, help="Publish even if requests that work today could be refused."
)
def publish_command(working_copy: Path, live_dir: Path, allow_breaking: bool) -> None:
    """Make WORKING_COPY the pack in LIVE_DIR, the folder a server watches.

    The working copy must pass the same gate as a reload (every check and its own example
    cases), and must not break the contract clients rely on unless --allow-breaking;
    then the live files are replaced in one step, so that the server never reads a
    half-written pack. Nothing is written if the pack would be refused.
    """
    try:
        done = publish(working_copy, live_dir, allow_breaking=allow_breaking)
    except PackError as exc:
        click.echo(f"earmark: {exc.report(str(working_copy))}\nearmark: not published", err=True)
        sys.exit(1)
    except PublishRefused as exc:
        click.echo(f"earmark: not published: {exc}", err=True)
        sys.exit(1)
    for change in done.contract:
        click.echo(f"contract: {change}")
    was = f" (was {done.previous})" if done.previous else ""
    click.echo(f"published {done.version} to {live_dir}{was}; a watching server picks it up within a second")


@main.command("studio")
@click.argument("working_copy", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--live",
    "live_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The folder a server watches, that Publish replaces.",
)
@_catalog_option("catalog", "JSON Lines of products to score and preview on.")
@click.option("--server", help="HOST:PORT of the gRPC server on the live folder: Publish waits for it.")
@click.option(
    "--metrics",
    "metrics_url",
    help="Its metrics address, for production hit counts (default: http://HOST:9464/metrics with --server).",
)
@click.option("--address", help="HOST:PORT to serve on (default: EARMARK_STUDIO_ADDRESS, 127.0.0.1:8080).")
def studio_command(
    working_copy: Path | None,
    live_dir: Path | None,
    catalog: Path | None,
    server: str | None,
    metrics_url: str | None,
    address: str | None,
) -> None:
    """Earmark Studio: a web page to see why products score what they do, edit the working
    copy with checking as you type, preview the change on a catalog, and publish it.

    With no arguments it opens a sample: a working copy and a live folder made from the
    bundled pack, under build/studio-sample/, and examples/catalog.jsonl.
    """
    if working_copy is None:
        bundled = sample()
        working_copy, live_dir, catalog = (
            bundled.working_copy,
            live_dir or bundled.live_dir,
            catalog or bundled.catalog,
        )
    if live_dir is None or catalog is None:
        raise click.UsageError("with a WORKING_COPY, give --live LIVE_DIR and --catalog FILE too")
    if server and not metrics_url:
        metrics_url = f"http://{server.rpartition(':')[0]}:9464/metrics"
    try:
        serve_studio(
            load_settings(),
            working_copy,
            live_dir,
            catalog,
            server=server,
            metrics_url=metrics_url,
            address=address,
        )
    except ConfigError as exc:
        click.echo(f"earmark: {exc}", err=True)
        sys.exit(2)
    except ValueError as exc:  # a catalog line that is not a product
        click.echo(f"earmark: {catalog}: {exc}", err=True)
        sys.exit(2)


@main.command("status")
@click.argument("address", required=False)
@click.option("--timeout", default=3.0, show_default=True, help="Seconds to wait for an answer.")
def status_command(address: str | None, timeout: float) -> None:
    """Show a running server's live pack: its version, when it loaded, and the last reload.

    ADDRESS is HOST:PORT (default: EARMARK_ADDRESS). It speaks plaintext.
    """
    if address is None:
        try:
            address = load_settings().address.replace("0.0.0.0", "127.0.0.1", 1)
        except ConfigError as exc:
            click.echo(f"earmark: {exc}", err=True)
            sys.exit(2)
    try:
        status = live_status(address, timeout)
    except grpc.RpcError as exc:
        click.echo(f"earmark: {address} did not answer: {exc.code().name}", err=True)
        sys.exit(1)
    click.echo(f"{address}: serving {status.version} ({status.rules} rules), loaded {status.loaded_at}")
    if status.last_reload_at:
        click.echo(
            f"reloads: {status.reloads_succeeded} succeeded, {status.reloads_failed} refused; last at {status.last_reload_at}"
        )
    if status.last_reload_error:
        click.echo("the last reload was refused; the version above still serves:")
        click.echo("\n".join(f"  {line}" for line in status.last_reload_error.splitlines()))
    click.echo(
        "watching the rules folder" if status.watching else f"not watching: {status.watch_problem or 'off'}"
    )


def read_data(path: Path) -> dict[str, Any]:
    """A JSON or YAML mapping from a file the user named (YAML's safe loader: data only)."""
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        raise click.BadParameter(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path}: expected a mapping of attributes")
    return data


def _stale_schema_warnings(pack_dir: Path) -> list[Problem]:
    """A warning per schema file that no longer matches pack.yaml (when the pack has them)."""
    if not (pack_dir / SCHEMA_DIR).is_dir():
        return []
    return [
        Problem(
            Location(display_path(pack_dir / name)),
            "stale-schema",
            f"out of date with pack.yaml, so editors complete old names; run `earmark schemas {pack_dir}`",
            "warning",
        )
        for name in stale_schemas(pack_dir)
    ]


def _load_or_exit(pack_dir: Path) -> Evaluator:
    try:
        return Evaluator.from_directory(pack_dir)
    except PackError as exc:
        click.echo(f"earmark: {exc.report(str(pack_dir))}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
