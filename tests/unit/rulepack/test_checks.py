"""Checks across the whole pack (rulepack/checks.py): rule ids unique, every use case
scored, and these checks quiet while a file they would count could not be read."""

from __future__ import annotations

from pathlib import Path

from pack_problems import assert_reported_at, edit, only_problem, refusal


def test_a_rule_id_used_twice_names_the_other_file(pack_copy: Path) -> None:
    assert_reported_at(
        pack_copy,
        "rules:\n  - id: boom-mic-for-talking\n    description: d\n    when: {mic: boom}\n    then: {fit: 1}\n",
        2,
        "duplicate-rule-id",
        "talking.yaml",
    )


def test_a_use_case_no_rule_scores_is_reported_in_the_manifest(pack_copy: Path) -> None:
    manifest = pack_copy / "pack.yaml"
    edit(manifest, "specs:\n", "  - id: podcasts\n    title: Podcasts\n    default: 50\n\nspecs:\n")
    line = manifest.read_text().splitlines().index("  - id: podcasts") + 1
    problem = only_problem(pack_copy, "pack.yaml")
    assert (
        f"pack.yaml:{line}:" in problem and "error[unscored-use-case]" in problem and "'podcasts'" in problem
    )


def test_unreadable_rule_files_do_not_also_show_up_as_unscored_use_cases(pack_copy: Path) -> None:
    """The whole-pack checks wait until every file has been read: with every scoring file
    broken, 'no rule scores ...' would only repeat the real problem seven times."""
    for name in ("talking.yaml", "comfort.yaml", "connection.yaml", "listening.yaml"):
        edit(pack_copy / name, "rules:\n", "rules:\n\t")
    assert {"yaml-syntax"} == {p.code for p in refusal(pack_copy)}
