"""`earmark score`: a whole catalog scored on this machine, for a search index or a feed."""

from __future__ import annotations

from pathlib import Path

import click

from earmark.cli.common import pack_argument
from earmark.config import usable_cpus


@click.command("score")
@pack_argument()
@click.option(
    "--catalog",
    "catalog",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help='Products as JSON Lines ({"id": ..., "specs": {...}} a line) or Parquet (id, specs).',
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where the scores go: .parquet for Parquet, anything else for JSON Lines.",
)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Processes to score with. [default: every usable CPU]"
)
@click.option(
    "--partition-rows",
    default=10_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Products per partition: the unit kept on disk, and resumed after an interruption.",
)
@click.option("--locale", help="Write explanations in this language (e.g. de); implies --explanations.")
@click.option(
    "--explanations", is_flag=True, help="Add each product's explanation and a sentence per use case."
)
@click.option(
    "--pin",
    help="Refuse to start unless the pack is this published version (e.g. audio-3fc4511575b4) or digest.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(
    pack_dir: Path,
    catalog: Path,
    out: Path,
    workers: int | None,
    partition_rows: int,
    locale: str | None,
    explanations: bool,
    pin: str | None,
    quiet: bool,
) -> None:
    """Score every product of a catalog with the pack, as Evaluate would answer for each,
    on every core of this machine. A product the pack refuses becomes a row with its
    error. Each partition is kept as it is done, so running the same command again after
    an interruption scores only what is left."""
    # pyarrow and tqdm are the bulk extra's; the service itself doesn't need them.
    from earmark.bulk.arrow_scoring import WrongPack
    from earmark.bulk.local_job import JobMismatch, run_job

    count = workers or usable_cpus()[0]
    try:
        summary = run_job(
            catalog,
            out,
            pack_dir,
            workers=count,
            partition_rows=partition_rows,
            locale=locale,
            explanations=explanations or locale is not None,
            pin=pin,
            progress=not quiet,
        )
    except (WrongPack, JobMismatch) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"scored {summary.products:,} products with {summary.pack_version} in {summary.seconds:.1f} s "
        f"({summary.per_second:,.0f} products/s, {count} process{'es' if count != 1 else ''})"
        + (
            f"; {summary.resumed_partitions} of {summary.partitions} partitions were already done"
            if summary.resumed_partitions
            else ""
        )
    )
    click.echo(f"wrote {out}")
    if summary.invalid:
        click.echo(f"{summary.invalid:,} rows could not be scored; each is in the output with its error:")
        for row in summary.invalid_rows:
            click.echo(f"  line {row['line']}: {row['id']}: {row['error']}")
        if summary.invalid > len(summary.invalid_rows):
            click.echo(f"  … and {summary.invalid - len(summary.invalid_rows):,} more")
