"""Translatable texts: one string in the pack's default locale, or one per locale, each
parsed once into a Template whose placeholders are checked against what the text may use."""

from __future__ import annotations

from typing import Any

from earmark.diagnostics import Findings, did_you_mean
from earmark.errors import TemplateSyntaxError
from earmark.rulepack.files import MANIFEST
from earmark.rulepack.model import Template, Texts
from earmark.rulepack.source import SourceFile
from earmark.rulepack.templates import parse_template


class TextReader:
    """Builds Texts for one pack's locales (the default first), recording their problems
    in `findings`."""

    def __init__(self, locales: tuple[str, ...], findings: Findings) -> None:
        self.locales = locales
        self.findings = findings

    def texts(
        self,
        value: str | dict[str, str],
        source: SourceFile,
        loc: tuple[Any, ...],
        allowed: set[str] | None,
        *,
        limit: int | None = None,
    ) -> Texts | None:
        """The text at `loc`, or None if it has problems. `allowed` is the set of
        placeholders it may use (None: any); `limit` its length in characters."""
        default_locale = self.locales[0]
        given = value if isinstance(value, dict) else {default_locale: value}
        templates: dict[str, Template] = {}
        for locale, text in given.items():
            where = (*loc, locale) if isinstance(value, dict) else loc
            if locale not in self.locales:
                hint = did_you_mean(
                    locale, self.locales, otherwise=f"; the pack's locales: {', '.join(self.locales)}"
                )
                self.findings.error(
                    source.location(where), "unknown-locale", f"'{locale}' is not a locale of this pack{hint}"
                )
                continue
            if limit is not None and len(text) > limit:
                self.findings.error(
                    source.location(where),
                    "fragment-too-long",
                    f"{len(text)} characters; the widget allows {limit} (limits.fragment in {MANIFEST})",
                )
            template = self.template(text, source, where, allowed)
            if template is not None:
                templates[locale] = template
        if default_locale not in given:
            self.findings.error(
                source.location(loc),
                "missing-default-text",
                f"give a text for the default locale '{default_locale}'",
            )
            return None
        if len(templates) != len(given):
            return None
        for locale in self.locales[1:]:
            if locale not in templates:
                self.findings.warning(
                    source.location(loc),
                    "missing-translation",
                    f"no '{locale}' text; the '{default_locale}' one is used",
                )
        default = templates.pop(default_locale)
        return Texts(default, tuple(templates.items()))

    def template(
        self, text: str, source: SourceFile, loc: tuple[Any, ...], allowed: set[str] | None
    ) -> Template | None:
        try:
            template = parse_template(text)
        except TemplateSyntaxError as exc:
            self.findings.error(source.location(loc), "bad-placeholder", str(exc))
            return None
        if allowed is not None:
            for name in template.placeholders:
                if name not in allowed:
                    known = ", ".join(f"{{{a}}}" for a in sorted(allowed)) or "none"
                    self.findings.error(
                        source.location(loc),
                        "unknown-placeholder",
                        f"{{{name}}} is not known here; this text may use: {known}",
                    )
        return template
