"""The `earmark` command: check and test in-process, serve as a real process."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner

from earmark.cli import main
from earmark.v1 import earmark_pb2_grpc

from helpers import BOOM_GAMING_HEADSET, evaluate_request, free_port, serve_process, wait_serving


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
            'scores: ["music >= 85", "commute <= 30", "calls <= 15"]', 'scores: ["music <= 10"]'
        )
    )
    result = CliRunner().invoke(main, ["test", str(pack_copy)])
    assert 1 == result.exit_code
    assert "examples/listening.yaml:" in result.output
    assert "expected music <= 10, got music = " in result.output
    assert "rules that fired:" in result.output


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_then_drains_on_a_signal_and_exits_0(stop_signal: signal.Signals) -> None:
    port = free_port()
    process = serve_process({"EARMARK_ADDRESS": f"127.0.0.1:{port}", "EARMARK_LOG_FORMAT": "json"})
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            wait_serving(channel, process)
            stub = earmark_pb2_grpc.EarmarkStub(channel)
            assert "headset" == stub.Evaluate(evaluate_request("p", BOOM_GAMING_HEADSET)).verdict.category
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=30)
        assert 0 == process.returncode, stderr
    finally:
        process.kill()
    lines = [json.loads(line) for line in stderr.splitlines()]
    events = [line["event"] for line in lines]
    assert ["serving", "stopping", "stopped"] == [e for e in events if e != "rpc"]
    rpc = next(line for line in lines if line["event"] == "rpc" and line["method"].endswith("/Evaluate"))
    assert {"method", "request_id", "products", "status", "outcome", "duration_ms", "ruleset_version"} <= set(
        rpc
    )
    assert ("OK", 1) == (rpc["status"], rpc["products"])


def test_serve_refuses_a_broken_pack_and_lists_every_problem(pack_copy: Path) -> None:
    (pack_copy / "zz.yaml").write_text(
        "rules:\n  - id: x\n    description: d\n    when: {mic: boom_arm, weight_g: {at_least: heavy}}\n    then: {fit: 1}\n"
    )
    process = serve_process({"EARMARK_ADDRESS": f"127.0.0.1:{free_port()}", "EARMARK_RULES": str(pack_copy)})
    _, stderr = process.communicate(timeout=30)
    assert 1 == process.returncode
    assert "not serving" in stderr
    assert 2 == stderr.count("zz.yaml:4:")


def test_serve_with_invalid_config_exits_2_naming_the_variable() -> None:
    process = serve_process({"EARMARK_THREADS": "lots"})
    _, stderr = process.communicate(timeout=30)
    assert 2 == process.returncode
    assert "EARMARK_THREADS='lots'" in stderr


def test_serve_on_a_taken_port_says_so_and_exits_1() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        process = serve_process({"EARMARK_ADDRESS": f"127.0.0.1:{sock.getsockname()[1]}"})
        _, stderr = process.communicate(timeout=30)
    assert 1 == process.returncode
    assert "cannot listen on" in stderr


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


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_explain_shows_the_deciding_rule_and_each_waterfall() -> None:
    result = CliRunner().invoke(
        main,
        ["explain", str(EXAMPLES / "arctis-nova-7.yaml"), "--shopper", str(EXAMPLES / "shopper-gamer.json")],
    )
    assert 0 == result.exit_code, result.output
    assert result.output.startswith("arctis-nova-7: headset — Wireless gaming headset")
    assert "category from boom-mic-makes-a-headset (rules/audio/category.yaml:" in result.output
    assert "Gaming with friends: " in result.output and "  +35  boom-mic-for-talking" in result.output
    assert "Fit for this shopper: " in result.output and "mean of gaming_social, gaming_solo" in result.output


def test_explain_as_json_adds_up() -> None:
    result = CliRunner().invoke(
        main,
        [
            "explain",
            str(EXAMPLES / "arctis-nova-7.yaml"),
            "--shopper",
            str(EXAMPLES / "shopper-gamer.json"),
            "--format",
            "json",
        ],
    )
    assert 0 == result.exit_code, result.output
    data = json.loads(result.output)
    assert "headset" == data["category"]["id"]
    for part in [*data["scores"], data["fit"]]:
        start = part.get("default", part.get("start"))
        assert start + sum(step["amount"] for step in part["steps"]) == part["total"]
        low, high = part["clamped_to"]
        assert max(low, min(high, part["total"])) == part["score"]
    assert any(s["total"] != s["score"] for s in data["scores"])  # this product hits the 100 ceiling


def test_explain_reports_a_bad_product_and_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"mic": "boom_arm"}')
    result = CliRunner().invoke(main, ["explain", str(bad)])
    assert 1 == result.exit_code and "specs.mic='boom_arm'" in result.output
    listing = tmp_path / "list.yaml"
    listing.write_text("- mic: boom\n")
    assert 2 == CliRunner().invoke(main, ["explain", str(listing)]).exit_code


def test_diff_previews_category_changes_and_score_shifts(pack_copy: Path) -> None:
    category = pack_copy / "category.yaml"
    category.write_text(
        category.read_text().replace("      category: unclassified\n", "      category: headphones\n")
    )
    talking = pack_copy / "talking.yaml"
    talking.write_text(
        talking.read_text().replace(
            "scores: {meetings: 15, calls: 8, call_center: 10}",
            "scores: {meetings: 20, calls: 8, call_center: 10}",
        )
    )
    examples = pack_copy / "examples" / "listening.yaml"
    examples.write_text(examples.read_text().replace("category: unclassified", "category: headphones"))
    args = ["diff", "rules/audio", str(pack_copy), "--catalog", str(EXAMPLES / "catalog.jsonl")]
    text = CliRunner().invoke(main, args)
    assert 0 == text.exit_code, text.output
    assert "compared 57 products" in text.output
    assert (
        "listing-without-mic-info: unclassified -> headphones (decided by unknown-mic-leaves-it-unclassified)"
        in text.output
    )
    assert "certified-for-meetings +5" in text.output
    report = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    changed = {c["id"] for c in report["category_changes"]}
    assert {"listing-without-mic-info", "listing-nearly-empty"} == changed
    meetings = next(u for u in report["use_cases"] if u["use_case"] == "meetings")
    assert meetings["largest_increase"]["shift"] == 5
    assert all(m["rules"] == ["certified-for-meetings +5"] for m in meetings["top_movers"])
    assert report["explanations_changed"] >= 2


def test_diff_names_a_bad_catalog_line(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text('{"id": "a", "specs": {}}\n{not json\n')
    result = CliRunner().invoke(main, ["diff", "rules/audio", "rules/audio", "--catalog", str(catalog)])
    assert 2 == result.exit_code
    assert "line 2: not JSON" in result.output


def test_check_shows_missing_translations_and_explain_speaks_german(pack_copy: Path) -> None:
    (pack_copy / "zz.yaml").write_text(
        "rules:\n  - id: lonely\n    description: d\n    when: {weight_g: {at_least: 9000}}\n    then: {fit: 1, say: english only}\n"
    )
    result = CliRunner().invoke(main, ["check", "--strict", str(pack_copy)])
    assert 1 == result.exit_code
    assert "zz.yaml:5:" in result.output and "warning[missing-translation]" in result.output
    german = CliRunner().invoke(main, ["explain", str(EXAMPLES / "arctis-nova-7.yaml"), "--locale", "de-AT"])
    assert 0 == german.exit_code, german.output
    assert "Kabelloses Gaming-Headset" in german.output and "Spielen mit Freunden: " in german.output


def test_health_reports_serving_and_exits_0(running) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["health", "--address", running.address])
    assert 0 == result.exit_code, result.output
    assert f"{running.address}: SERVING" in result.output.splitlines()


def test_health_of_nothing_listening_exits_1() -> None:
    result = CliRunner().invoke(main, ["health", "--address", f"127.0.0.1:{free_port()}", "--timeout", "0.5"])
    assert 1 == result.exit_code
    assert "UNREACHABLE" in result.output
