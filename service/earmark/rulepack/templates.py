"""Texts with {placeholders}, parsed once at load time (evaluation/wording.py renders them)."""

from __future__ import annotations

import string

from earmark.errors import TemplateSyntaxError
from earmark.rulepack.model import Template


def parse_template(text: str) -> Template:
    """Split `text` into literal parts and placeholder names.

    Only bare names are allowed ({battery_hours}, {shopper.budget_usd}): no format specs,
    no conversions, no indexing, so a fragment can never reach into Python objects.
    """
    parts: list[tuple[str, str | None]] = []
    try:
        for literal, name, spec, conversion in string.Formatter().parse(text):
            if name is not None and (spec or conversion or not _is_plain_name(name)):
                raise TemplateSyntaxError(
                    f"placeholder {{{name}}} must be a plain attribute name such as {{weight_g}}"
                )
            parts.append((literal, name))
    except ValueError as exc:  # unbalanced braces
        raise TemplateSyntaxError(f"{exc}; write {{{{ or }}}} for a literal brace") from None
    return Template(source=text, parts=tuple(parts))


def _is_plain_name(name: str) -> bool:
    pieces = name.split(".")
    return 1 <= len(pieces) <= 2 and all(p.isidentifier() for p in pieces)
