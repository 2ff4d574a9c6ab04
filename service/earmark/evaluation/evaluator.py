"""One loaded pack, ready to evaluate: its validator, its compiled rules, its composers.

The CLI, the server, the example runner, `earmark diff` and the benchmark all evaluate
through this, so what `earmark test` checks is exactly what a client gets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from earmark.diagnostics import Location, Problem
from earmark.errors import EngineFailure, PackError
from earmark.evaluation.cache import VerdictCache
from earmark.evaluation.engine import CompiledRules
from earmark.evaluation.memo import Bounded
from earmark.evaluation.request_notes import RequestNotes, plain_values
from earmark.evaluation.validation import RequestValidator, Subject
from earmark.evaluation.verdict import Composer, Verdict
from earmark.rulepack.files import MANIFEST, display_path
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import Pack
from earmark.tracing import span


class Evaluator:
    """A pack compiled into the engine. Thread-safe; built once per (re)load."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.validator = RequestValidator(pack)
        self.rules = CompiledRules(pack)
        self.composers = {locale: Composer(pack, locale) for locale in pack.locales}
        self.loaded_at = datetime.now(UTC)
        self.cache: VerdictCache | None = None  # set by whoever serves it (EARMARK_CACHE_ENTRIES)

    @classmethod
    def from_directory(cls, directory: Path) -> Evaluator:
        """Load, check and compile a pack; raises PackError listing every problem."""
        pack = load_pack(directory)
        try:
            return cls(pack)
        except EngineFailure as exc:  # e.g. a pack past one of durable_rules' limits
            manifest = display_path(directory / MANIFEST)
            raise PackError([Problem(Location(manifest), "engine-refused", exc.message)]) from exc

    def subject_for(
        self,
        product_id: str,
        specs: dict[str, Any],
        shopper: dict[str, Any] | None = None,
        locale: str | None = None,
        *,
        notes: RequestNotes | None = None,
    ) -> Subject:
        """Plain data (specs and shopper as dicts, the locale as a BCP 47 tag) checked as a
        request is: InvalidArgument names the field and value, and an attribute the pack
        doesn't declare goes to `notes`, a near miss of a declared one as a warning."""
        validator = self.validator
        notes = notes if notes is not None else RequestNotes(validator, strict=False)
        declared_specs = plain_values(specs, validator.spec_names, notes, "specs")
        checked_shopper = None
        if shopper is not None:
            checked_shopper = validator.shopper(
                plain_values(shopper, validator.shopper_names, notes, "shopper")
            )
        return Subject(
            product_id,
            validator.specs(declared_specs),
            checked_shopper,
            validator.locale(locale) if locale else None,
        )

    def verdict_for(
        self,
        product_id: str,
        specs: dict[str, Any],
        shopper: dict[str, Any] | None = None,
        locale: str | None = None,
        *,
        notes: RequestNotes | None = None,
    ) -> Verdict:
        """The verdict for plain data, checked as `subject_for` says."""
        return self.evaluate(self.subject_for(product_id, specs, shopper, locale, notes=notes))

    def evaluate(self, subject: Subject, *, words: bool = True) -> Verdict:
        """The verdict for an already validated subject (a batch validates its shopper once);
        without `words`, its explanations are left empty and not composed."""
        cache = self.cache
        if cache is None:
            return self._evaluate(subject, words)
        key = cache.key(subject, words)
        verdict = cache.get(key, subject.product_id)
        if verdict is None:
            verdict = self._evaluate(subject, words)
            cache.put(key, verdict)
        return verdict

    def _evaluate(self, subject: Subject, words: bool) -> Verdict:
        with span("engine"):
            fired = self.rules.fired(subject.specs, subject.shopper)
        composer = self.composers[subject.locale or self.pack.default_locale]
        with span("compose"):
            return composer.compose(subject.product_id, subject.specs, subject.shopper, fired, words=words)

    def keep_composed(self, entries: int) -> None:
        """Keep at most `entries` composed verdicts per locale (0: none), starting empty."""
        for composer in self.composers.values():
            composer.memo = Bounded(entries)

    def close(self) -> None:
        """Free the engine's ruleset; only once no request uses this evaluator."""
        self.rules.close()
