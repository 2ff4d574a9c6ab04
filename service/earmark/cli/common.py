"""What every command shares: how it names a pack and a catalog, reads a data file the
user names, loads a pack, and fails.

Exit codes: 0 success, 1 findings or failures, 2 usage or configuration errors. A command
fails by raising Failed (1) or Unusable (2), or by letting a ConfigError or an
InvalidArgument through, which the `earmark` group turns into one of them; click prints
the message after "earmark: " and exits with the code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from earmark.config import BUNDLED_RULES
from earmark.errors import ConfigError, InvalidArgument, ListenFailed, PackError
from earmark.evaluation.catalog import CatalogProduct, read_catalog
from earmark.evaluation.evaluator import Evaluator

_Command = TypeVar("_Command", bound=Callable[..., Any])


class Failed(click.ClickException):
    """A command found problems, or what it was asked to do failed: exit 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"earmark: {self.format_message()}", err=True, file=file)


class Unusable(Failed):
    """A command can't run as called, or a setting is invalid: exit 2."""

    exit_code = 2


class EarmarkGroup(click.Group):
    """The `earmark` group: the Earmark exceptions any command may meet become Failed or
    Unusable here, once, instead of in each command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise Unusable(str(exc)) from None
        except InvalidArgument as exc:
            raise Failed(exc.message) from None
        except ListenFailed as exc:
            raise Failed(str(exc)) from None


def pack_argument(*, hidden_option: str | None = None) -> Callable[[_Command], _Command]:
    """PACK_DIR, as every command takes the pack: an optional argument, the bundled pack by
    default. `hidden_option` keeps an older spelling working for scripts written then."""

    def decorate(command: _Command) -> _Command:
        command = click.argument(
            "pack_dir",
            required=False,
            default=str(BUNDLED_RULES),
            type=click.Path(file_okay=False, path_type=Path),
        )(command)
        if hidden_option is not None:
            command = click.option(
                hidden_option, "pack_option", type=click.Path(file_okay=False, path_type=Path), hidden=True
            )(command)
        return command

    return decorate


def catalog_option(name: str, help_text: str, *, required: bool = False) -> Callable[[_Command], _Command]:
    """--catalog as diff, rank and studio take it: a JSON Lines file of products."""
    return click.option(
        "--catalog",
        name,
        required=required,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=help_text,
    )


def read_catalog_or_fail(path: Path) -> list[CatalogProduct]:
    """Every product of a catalog file; a line that isn't a product stops the command
    with its file and line."""
    try:
        with path.open(encoding="utf-8") as lines:
            return list(read_catalog(lines))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}") from None


def read_data(path: Path) -> dict[str, Any]:
    """A JSON or YAML mapping from a file the user named (YAML's safe loader: data only)."""
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        raise click.BadParameter(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path}: expected a mapping of attributes")
    return data


def load_evaluator(pack_dir: Path) -> Evaluator:
    """The pack in `pack_dir`, compiled; every problem it has fails the command."""
    try:
        return Evaluator.from_directory(pack_dir)
    except PackError as exc:
        raise Failed(exc.report(str(pack_dir))) from None
