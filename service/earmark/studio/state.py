"""What one Studio process works on: the working copy, the live folder, the catalog, and
the evaluators and evaluated catalogs it keeps while their files don't change.

Everything is read through the same code a server runs (load_pack, Evaluator, the
publish gate), so what Studio shows is what a storefront gets. The engine's rulesets are
freed when their pack is replaced; one lock keeps that from racing a page being drawn.
"""

from __future__ import annotations

import getpass
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from earmark.authoring.check import pack_warnings
from earmark.authoring.contract import ContractChange, contract_changes
from earmark.authoring.impact import compare
from earmark.authoring.publish import Published, publish
from earmark.diagnostics import Problem
from earmark.errors import FileRefused, PackError
from earmark.evaluation.catalog import CatalogProduct, evaluate_catalog, read_catalog
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import CaseResult, run_examples
from earmark.evaluation.verdict import Verdict
from earmark.rulepack.loader import load_pack
from earmark.rulepack.model import Pack
from earmark.server.status import live_status
from earmark.studio.catalog import EvaluatedCatalog, Row
from earmark.studio.history import History, Version
from earmark.studio.workspace import CheckedText, Workspace

WAIT_FOR_SERVER_SECONDS = 15.0
TRIED_PRODUCT_ID = "tried"  # the id a product typed into "Try a product" is evaluated under


@dataclass(frozen=True)
class Preview:
    working_version: str
    live_version: str
    contract: list[ContractChange]
    impact: dict[str, Any]
    examples: list[CaseResult]

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.contract)

    @property
    def examples_pass(self) -> bool:
        return all(r.passed for r in self.examples)


@dataclass(frozen=True)
class PublishResult:
    published: Published
    version: Version
    server_reports: str | None  # what the server serves once it took it (None: no server given)
    warnings: tuple[str, ...] = ()  # what went wrong after the pack went live (a git failure)


class Studio:
    def __init__(
        self,
        working_copy: Path,
        live_dir: Path,
        catalog: Path,
        *,
        server: str | None = None,
        metrics_url: str | None = None,
    ) -> None:
        self.working = Workspace(working_copy)
        self.live = Workspace(live_dir)
        self.history = History(live_dir)
        self.catalog_path = catalog
        with catalog.open(encoding="utf-8") as lines:
            self.products: list[CatalogProduct] = list(read_catalog(lines))
        self.server = server
        self.metrics_url = metrics_url
        self.lock = threading.RLock()
        self._loaded: dict[str, tuple[object, Evaluator | PackError]] = {}
        self._catalogs: dict[str, EvaluatedCatalog] = {}
        self._warnings: dict[str, list[tuple[str, Problem]]] = {}  # the working copy's, by version

    # ---- packs and catalogs -------------------------------------------------------------

    def evaluator(self, role: str) -> Evaluator | PackError:
        """The working copy's or the live folder's pack, loaded again only when a file of
        it changed; a PackError when it doesn't load."""
        folder = self.working if role == "working" else self.live
        stamp = _stamp(folder)
        with self.lock:
            kept = self._loaded.get(role)
            if kept is not None and kept[0] == stamp:
                return kept[1]
            try:
                loaded: Evaluator | PackError = Evaluator.from_directory(folder.root)
            except PackError as exc:
                loaded = exc
            if kept is not None and isinstance(kept[1], Evaluator):
                # Every use of an evaluator holds the lock, so none is using this one now.
                self._catalogs.pop(kept[1].pack.version, None)
                kept[1].close()
            self._loaded[role] = (stamp, loaded)
            return loaded

    def warnings(self) -> list[tuple[str, Problem]]:
        """The working copy's warnings as `earmark check` lists them (a text missing in a
        declared language, a rule no example exercises, stale schemas), each with its file
        relative to the working copy; none when the pack doesn't load."""
        with self.lock:  # every use of an evaluator holds the lock (see evaluator())
            evaluator = self.evaluator("working")
            if isinstance(evaluator, PackError):
                return []
            version = evaluator.pack.version
            if version not in self._warnings:
                root = self.working.root
                self._warnings = {
                    version: [
                        (_relative(problem.location.path, root), problem)
                        for problem in pack_warnings(evaluator, root)
                    ]
                }
            return self._warnings[version]

    def try_product(self, specs: dict[str, Any]) -> tuple[Row, dict[str, Verdict], Pack]:
        """A product that is not in the catalog, under the working copy: its row (with the
        pack's refusal or its warnings), its verdict in every language of the pack, and the
        pack."""
        with self.lock:
            evaluator = self.evaluator("working")
            if isinstance(evaluator, PackError):
                raise evaluator
            product = CatalogProduct(TRIED_PRODUCT_ID, specs, 1)
            (outcome,) = evaluate_catalog(evaluator, [product])
            row = Row(product, outcome.verdict, outcome.error, outcome.warnings)
            pack = evaluator.pack
            if outcome.verdict is None:
                return row, {}, pack
            return (
                row,
                {loc: evaluator.verdict_for(product.id, specs, None, loc) for loc in pack.locales},
                pack,
            )

    def verdict(
        self,
        role: str,
        product_id: str,
        specs: dict[str, Any],
        shopper: dict[str, Any] | None,
        locale: str | None = None,
    ) -> Verdict:
        """One product's verdict under the working or live pack (EarmarkError if refused)."""
        with self.lock:
            evaluator = self.evaluator(role)
            if isinstance(evaluator, PackError):
                raise evaluator
            return evaluator.verdict_for(product_id, specs, shopper, locale)

    def catalog(self, role: str) -> EvaluatedCatalog | PackError:
        evaluator = self.evaluator(role)
        if isinstance(evaluator, PackError):
            return evaluator
        with self.lock:
            version = evaluator.pack.version
            if version not in self._catalogs:
                self._catalogs[version] = EvaluatedCatalog(evaluator, self.products)
            return self._catalogs[version]

    # ---- editing --------------------------------------------------------------------------

    def save(self, path: str, text: str) -> None:
        """Write one file of the working copy. Saves and publishes take the same lock, so
        a publish stages the working copy as it was when it began, and a save waits."""
        with self.lock:
            self.working.write(path, text)

    def edit(self, changes: dict[str, Callable[[str | None], str]]) -> tuple[CheckedText, bool]:
        """Change files of the working copy from a form: each file's text (None for a new
        file) is changed by its function, the pack is checked with all of them as the
        editor's text is, and they are saved only if none of them then has an error. All
        under the lock, so that no save lands between the read and the write. A new use
        case and the first rule that scores it are saved together this way: neither loads
        without the other. Returns what the check found and whether it was saved."""
        with self.lock:
            texts = {path: change(self._current(path)) for path, change in changes.items()}
            checked = self.working.check(texts, lambda folder: load_pack(folder).version)
            # A working copy that loads must still load after a form's change (deleting
            # the last rule that scores a use case breaks pack.yaml, not the rule file);
            # one broken already may still take a change that leaves these files clean.
            loads_now = not isinstance(self.evaluator("working"), PackError)
            broken = any(p.severity == "error" and (loads_now or p.path in texts) for p in checked.problems)
            if not broken:
                for path, text in texts.items():
                    self.working.write(path, text)
            return checked, not broken

    def _current(self, path: str) -> str | None:
        try:
            return self.working.read(path)
        except FileRefused:
            self.working.path(path)  # a path outside the pack is refused, not created
            return None

    def check(self, path: str, text: str) -> CheckedText:
        """The working copy's problems if `path` held `text` (nothing is saved)."""
        return self.working.check({path: text}, lambda folder: load_pack(folder).version)

    # ---- preview and publish --------------------------------------------------------------

    def preview(self) -> Preview | PackError:
        working, live = self.evaluator("working"), self.evaluator("live")
        if isinstance(working, PackError):
            return working
        with self.lock:
            examples = run_examples(working)
            if isinstance(live, PackError):  # nothing good is live: everything is new
                return Preview(working.pack.version, "none", [], {}, examples)
            return Preview(
                working.pack.version,
                live.pack.version,
                list(contract_changes(live.pack, working.pack)),
                compare(live, working, self.products),
                examples,
            )

    def publish(self, *, who: str, summary: str, allow_breaking: bool) -> PublishResult:
        """The working copy made live through `earmark publish`'s own gate, then kept."""
        return self._publish(
            self.working.folder, who=who, summary=summary, allow_breaking=allow_breaking, action="publish"
        )

    def restore(self, version_id: str, *, who: str, allow_breaking: bool) -> PublishResult:
        """An earlier version published again, through the same gate."""
        folder = self.history.files_of(version_id)
        summary = f"restored {version_id}"
        return self._publish(
            folder, who=who, summary=summary, allow_breaking=allow_breaking, action="restore"
        )

    def _publish(
        self, source: Path, *, who: str, summary: str, allow_breaking: bool, action: str
    ) -> PublishResult:
        recorded: list[Version] = []

        def record(done: Published) -> None:  # with the flip: History names what goes live
            recorded.append(
                self.history.record(
                    done.files,
                    ruleset_version=done.version,
                    previous=done.previous,
                    who=who or getpass.getuser(),
                    action=action,
                    summary=summary or f"{action} from Studio",
                )
            )

        with self.lock:
            self._keep_what_was_live()
            try:
                done = publish(source, self.live.folder, allow_breaking=allow_breaking, before_live=record)
            except BaseException:
                for version in recorded:  # kept, but it never went live
                    self.history.forget(version)
                raise
            git_problem = self.history.confirm(recorded[0])
        warnings = (f"the publish is live, but {git_problem}",) if git_problem else ()
        return PublishResult(done, recorded[0], self._wait_for_server(done.version), warnings)

    def _keep_what_was_live(self) -> None:
        """Before Studio's first publish, keep the pack that was live, so that it can be
        restored like any version Studio published."""
        live = self.evaluator("live")
        if self.history.versions() or isinstance(live, PackError):
            return
        found = self.history.record(
            self.live.root,
            ruleset_version=live.pack.version,
            previous=None,
            who="-",
            action="found",
            summary="what was live before Studio's first publish",
        )
        self.history.confirm(found)

    def _wait_for_server(self, version: str) -> str | None:
        """What the server serves once it reports `version`, or what it still serves when
        it hasn't within the wait (the page says which)."""
        if self.server is None:
            return None
        deadline = time.monotonic() + WAIT_FOR_SERVER_SECONDS
        serving = "no answer"
        answered = False
        while time.monotonic() < deadline:
            try:
                serving = live_status(self.server, timeout=2.0).version
                answered = True
            except Exception as exc:  # grpc.RpcError; the page shows the server is unreachable
                serving = f"no answer ({type(exc).__name__})"
                # Waiting is for a server that answers and hasn't reloaded yet; one that
                # doesn't answer at all won't within a few seconds (issue 24: the publish
                # page hung 15 s for a server that was not running).
                if not answered:
                    break
            if serving == version:
                break
            time.sleep(0.2)
        return serving

    # ---- production ---------------------------------------------------------------------

    def production_hits(self) -> dict[str, int] | None:
        """Each rule's hits on the server's metrics endpoint, or None without one."""
        if not self.metrics_url:
            return None
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=3) as answer:
                text = answer.read(8 * 1024 * 1024).decode("utf-8", "replace")
        except OSError:
            return None
        hits: dict[str, int] = {}
        for family in text_string_to_metric_families(text):
            if family.name == "earmark_rule_hits":
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        rule = sample.labels.get("rule_id", "")
                        hits[rule] = hits.get(rule, 0) + int(sample.value)
        return hits

    def close(self) -> None:
        with self.lock:
            for _, loaded in self._loaded.values():
                if isinstance(loaded, Evaluator):
                    loaded.close()
            self._loaded.clear()


def _relative(path: str, root: Path) -> str:
    """A problem's file as the editor names it: relative to the working copy."""
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).name


def _stamp(folder: Workspace) -> object:
    """What changes whenever a file of the folder does: names, sizes and change times."""
    entries = []
    for name in folder.files():
        status = (folder.root / name).stat()
        entries.append((name, status.st_size, status.st_mtime_ns))
    return (folder.root.resolve(), tuple(entries))
