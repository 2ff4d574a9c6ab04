"""The `earmark` command: check and test in-process, serve as a real process."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from earmark.cli import main

from helpers import unanswered_address


def test_check_prints_one_summary_line_for_a_good_pack() -> None:
    result = CliRunner().invoke(main, ["check"])
    assert 0 == result.exit_code, result.output
    assert 1 == len(result.output.strip().splitlines())
    assert result.output.startswith("audio: ")


def test_check_lists_problems_as_file_line_and_exits_1(pack_copy: Path) -> None:
    (pack_copy / "zz.yaml").write_text(
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom_arm}\n    then: {fit: 1}\n"
    )
    result = CliRunner().invoke(main, ["check", str(pack_copy)])
    assert 1 == result.exit_code
    assert "zz.yaml:4:" in result.output and "error[unknown-value]" in result.output


def test_check_of_a_missing_directory_is_reported(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(tmp_path / "nope")])
    assert 1 == result.exit_code and "no-pack" in result.output


def test_test_runs_the_examples_and_reports_coverage() -> None:
    result = CliRunner().invoke(main, ["test"])
    assert 0 == result.exit_code, result.output
    assert "coverage:" in result.output
    assert result.output.strip().endswith("0 failed")


def test_test_shows_a_failing_case_with_its_line(pack_copy: Path) -> None:
    listening = pack_copy / "examples" / "listening.yaml"
    listening.write_text(
        listening.read_text().replace(
            'scores: ["music >= 80", "commute <= 30", "calls <= 15"]', 'scores: ["music <= 10"]'
        )
    )
    result = CliRunner().invoke(main, ["test", str(pack_copy)])
    assert 1 == result.exit_code
    assert "examples/listening.yaml:" in result.output
    assert "expected music <= 10, got music = " in result.output
    assert "rules that fired:" in result.output


def test_check_warns_about_rules_no_example_exercises_and_strict_fails_on_it(pack_copy: Path) -> None:
    (pack_copy / "zz.yaml").write_text(
        "rules:\n  - id: lonely\n    description: d\n    when: {weight_g: {at_least: 9000}}\n    then: {fit: 1}\n"
    )
    relaxed = CliRunner().invoke(main, ["check", str(pack_copy)])
    assert 0 == relaxed.exit_code
    assert "zz.yaml:2:5: warning[unexercised-rule]: no example case makes 'lonely' fire" in relaxed.output
    assert "1 warning(s)" in relaxed.output
    strict = CliRunner().invoke(main, ["check", "--strict", str(pack_copy)])
    assert 1 == strict.exit_code


def test_check_with_an_unknown_option_is_a_usage_error() -> None:
    assert 2 == CliRunner().invoke(main, ["check", "--stirct"]).exit_code


def test_a_case_can_compare_with_another_products_score(pack_copy: Path) -> None:
    talking = pack_copy / "examples" / "talking.yaml"
    talking.write_text(
        talking.read_text().replace('"music < sennheiser-hd-600.music"', '"music > sennheiser-hd-600.music"')
    )
    result = CliRunner().invoke(main, ["test", str(pack_copy)])
    assert 1 == result.exit_code
    assert "expected music > sennheiser-hd-600.music, got music = " in result.output
    assert ", sennheiser-hd-600.music = " in result.output


def test_health_reports_serving_and_exits_0(running) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["health", "--address", running.address])
    assert 0 == result.exit_code, result.output
    assert f"{running.address}: SERVING" in result.output.splitlines()


def test_health_of_nothing_listening_exits_1() -> None:
    with unanswered_address() as address:
        result = CliRunner().invoke(main, ["health", "--address", address, "--timeout", "0.5"])
    assert 1 == result.exit_code
    assert "UNREACHABLE" in result.output


def test_every_command_takes_the_pack_as_its_argument_rank_too(pack_copy: Path) -> None:
    """rank took the pack as --pack while the others took it as PACK_DIR; --pack still works."""
    catalog = str(Path(__file__).parents[2] / "examples" / "catalog.jsonl")
    (pack_copy / "zz.yaml").write_text("rules: [\n")  # a broken pack: which one was read shows
    for args in (["rank", str(pack_copy)], ["rank", "--pack", str(pack_copy)]):
        result = CliRunner().invoke(main, [*args, "--use-case", "music", "--catalog", catalog])
        assert 1 == result.exit_code, result.output
        assert result.output.startswith("earmark: the rule pack in ") and "zz.yaml:" in result.output


def test_a_bad_setting_is_a_usage_error_named_once_for_every_command() -> None:
    for command in (["serve"], ["health"], ["status"]):
        result = CliRunner().invoke(main, command, env={"EARMARK_THREADS": "zero"})
        assert 2 == result.exit_code, (command, result.output)
        assert result.output.startswith("earmark: ") and "EARMARK_THREADS" in result.output


MISSPELT = "specs.micc is not an attribute of this pack and was ignored (did you mean 'mic'?)"


def test_explain_warns_of_a_misspelt_attribute_as_the_server_does(tmp_path: Path) -> None:
    """Was: {"micc": "boom"} was dropped without a word."""
    product = tmp_path / "product.json"
    product.write_text('{"micc": "boom", "form_factor": "over_ear"}')
    result = CliRunner().invoke(main, ["explain", str(product)])
    assert 0 == result.exit_code, result.output
    assert f"warning: {MISSPELT}" == result.output.strip().splitlines()[-1]


def test_rank_and_diff_list_a_catalogs_misspelt_attributes(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text('{"id": "a", "specs": {"mic": "boom"}}\n{"id": "b", "specs": {"micc": "boom"}}\n')
    for command in (["rank", "--use-case", "calls"], ["diff", "rules/audio"]):
        result = CliRunner().invoke(main, [*command, "rules/audio", "--catalog", str(catalog)])
        assert 0 == result.exit_code, result.output
        assert f"  line 2 b: {MISSPELT}" in result.output.splitlines(), (command, result.output)
