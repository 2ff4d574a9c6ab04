"""docs/rules.md: its examples are real files that load and pass, and every problem code
the checker can report has a section (and no section documents a code that is gone)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from earmark.cli import main
from earmark.diagnostics import PROBLEM_CODES
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.examples import run_examples

from helpers import ROOT

GUIDE = ROOT / "docs" / "rules.md"
EXAMPLES = ROOT / "docs" / "examples"


def _quoted_files() -> dict[str, str]:
    blocks = re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(), flags=re.S)
    return {m.group(1): block for block in blocks if (m := re.match(r"# file: (\S+)\n", block))}


def test_every_example_file_is_quoted_word_for_word() -> None:
    quoted = _quoted_files()
    files = sorted(str(p.relative_to(ROOT)) for p in EXAMPLES.rglob("*.yaml"))
    assert files == sorted(quoted)
    for name, block in quoted.items():
        assert (ROOT / name).read_text() == block, f"{name} differs from its quote in docs/rules.md"


def test_the_examples_load_into_the_audio_pack_and_their_cases_pass(pack_copy: Path) -> None:
    for path in EXAMPLES.glob("*.yaml"):
        target = pack_copy / "examples" if path.read_text().count("\nexamples:") else pack_copy
        shutil.copy(path, target / f"doc-{path.name}")
    evaluator = Evaluator.from_directory(pack_copy)
    assert {"doc-light-wireless-headphones", "doc-price-against-budget", "doc-every-effect"} <= set(
        evaluator.pack.rules_by_id
    )
    results = run_examples(evaluator)
    doc_cases = [r for r in results if "doc-" in r.case.location.path]
    assert 2 == len(doc_cases)
    assert all(r.passed for r in results), [r.failures for r in results if not r.passed]
    assert [] == [str(w) for w in evaluator.pack.warnings]


def test_every_problem_code_has_a_section_and_every_section_a_code() -> None:
    documented = set(re.findall(r"^### `([a-z-]+)`$", GUIDE.read_text(), flags=re.M))
    assert sorted(PROBLEM_CODES - documented) == [], "codes without a section in docs/rules.md"
    assert sorted(documented - PROBLEM_CODES) == [], "sections for codes the checker no longer reports"


def test_the_whole_example_pack_passes_a_strict_check_and_its_cases() -> None:
    """The pack.yaml chapter's example is a pack of its own, checked as an author would."""
    pack = str(EXAMPLES / "pack")
    checked = CliRunner().invoke(main, ["check", "--strict", pack])
    assert 0 == checked.exit_code, checked.output
    assert "earbuds: 3 rules, 2 use cases, 1 example cases, 0 warning(s)" in checked.output
    version = checked.output.split("version ")[1].strip()
    assert f"as in `{version}`" in GUIDE.read_text()  # the chapter quotes the real version
    tested = CliRunner().invoke(main, ["test", pack])
    assert 0 == tested.exit_code and "1 passed, 0 failed" in tested.output, tested.output
