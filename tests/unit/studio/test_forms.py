"""Studio's forms (issue 24): a rule, a use case with its first rule, and an attribute,
made or changed without writing YAML. The form writes the real rule file, keeping the rest
of it byte for byte; the pack check decides, in its own words, and nothing is saved while
the change has an error."""

from __future__ import annotations

import difflib
import re
from html import unescape
from typing import Any

from earmark.evaluation.catalog import read_catalog

from conftest import LiveStudio
from helpers import EXAMPLES

UNSCORED_STUDIO_RECORDING = (
    "pack.yaml: no rule scores the use case 'studio_recording', so every product gets its default"
)
NEW_RULE = {
    "original_id": "",
    "tests": "2",
    "id": "bone-conduction-on-the-move",
    "description": "Bone conduction leaves the ears open to traffic.",
    "file": "comfort.yaml",
    "test-0-attribute": "driver_type",
    "test-0-test": "is",
    "test-0-value": "bone_conduction",
    "test-1-attribute": "weight_g",
    "test-1-test": "at_most",
    "test-1-value": "60",
    "score-commute": "6",
    "say-en": "ears left open to hear the traffic",
    "say-de": "offene Ohren, die den Verkehr hören",
    "action": "save",
}


def _post(studio: LiveStudio, url: str, data: dict[str, str]) -> str:
    with studio.client() as client:
        answer = client.post(url, data=data, headers={"X-CSRF-Token": studio.csrf})
    assert 200 == answer.status_code, answer.text[:500]
    return answer.text


def _problems(page: str) -> list[str]:
    block = re.search(r'id="form-problems".*?</ul>', page, re.S)
    return [unescape(p) for p in re.findall(r"<li>(.*?)</li>", block.group(0))] if block else []


def _added_lines(before: str, after: str) -> list[str]:
    return [
        line[1:]
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]


def test_a_new_rule_from_the_form_is_checked_saved_and_fires(running_studio: LiveStudio) -> None:
    before = (running_studio.working / "comfort.yaml").read_text(encoding="utf-8")
    page = _post(running_studio, "/rule", NEW_RULE)
    assert [] == _problems(page)
    assert re.search(r"It fires on <strong>[1-9]\d*</strong> of the catalog", page), page
    after = (running_studio.working / "comfort.yaml").read_text(encoding="utf-8")
    assert after.startswith(before)  # appended: nothing above it moved
    assert [
        "",
        "  - id: bone-conduction-on-the-move",
        "    description: Bone conduction leaves the ears open to traffic.",
        "    when:",
        "      driver_type: bone_conduction",
        "      weight_g: {at_most: 60}",
        "    then:",
        "      scores: {commute: 6}",
        "      say:",
        "        en: ears left open to hear the traffic",
        "        de: offene Ohren, die den Verkehr hören",
    ] == _added_lines(before, after)
    working = running_studio.studio.evaluator("working")
    assert not isinstance(working, Exception)
    assert "bone-conduction-on-the-move" in working.pack.rules_by_id
    # Issue 24: the products it can't decide for, lacking what it tests.
    assert f'id="form-undecided" class="warn">{_lacking("driver_type", "weight_g")} of them don' in page


def _lacking(*names: str) -> int:
    with (EXAMPLES / "catalog.jsonl").open() as lines:
        return sum(any(p.specs.get(n) in (None, [], "") for n in names) for p in read_catalog(lines))


def test_the_rules_page_says_how_many_products_each_rule_cant_decide_for(running_studio: LiveStudio) -> None:
    with running_studio.client() as client:
        page = client.get("/rules").text
    row = re.search(r'<tr id="rule-light-for-long-wear".*?</tr>', page, re.S)
    assert row is not None
    # It tests weight_g by value (after a presence test, which decides on a gap by design).
    assert f'data-undecided="{_lacking("weight_g")}"' in row.group(0)
    assert 0 < _lacking("weight_g")
    # A rule for a missing weight decides on that gap by design: only its other tests count.
    gap_rule = re.search(r'<tr id="rule-weight-not-listed-headband".*?</tr>', page, re.S)
    assert gap_rule is not None
    assert f'data-undecided="{_lacking("form_factor", "channels")}"' in gap_rule.group(0)
    assert _lacking("form_factor", "channels") < _lacking("form_factor", "channels", "weight_g")


def test_a_wrong_value_is_refused_in_the_checkers_words_and_nothing_is_saved(
    running_studio: LiveStudio,
) -> None:
    before = (running_studio.working / "comfort.yaml").read_text(encoding="utf-8")
    page = _post(running_studio, "/rule", {**NEW_RULE, "test-0-value": "bone_conductio"})
    assert ["'bone_conductio' is not a value of driver_type (did you mean 'bone_conduction'?)"] == _problems(
        page
    )
    assert before == (running_studio.working / "comfort.yaml").read_text(encoding="utf-8")
    page = _post(running_studio, "/rule", {**NEW_RULE, "score-commute": "six"})
    assert ["commute points: 'six' is not a whole number, like 8 or -5"] == _problems(page)
    page = _post(running_studio, "/rule", {**NEW_RULE, "id": "over-ear-comfort"})
    assert ["name: comfort.yaml already has a rule named 'over-ear-comfort'"] == _problems(page)
    assert before == (running_studio.working / "comfort.yaml").read_text(encoding="utf-8")


def test_editing_a_rule_changes_only_what_the_form_changed(running_studio: LiveStudio) -> None:
    path = running_studio.working / "comfort.yaml"
    before = path.read_text(encoding="utf-8")
    with running_studio.client() as client:
        form_page = client.get("/rule/light-for-long-wear").text
    fields = _fields_of(form_page)
    assert "weight_g" == fields["test-1-attribute"] and "250" == fields["test-1-value"]
    assert "7" == fields["score-call_center"]
    page = _post(running_studio, "/rule", {**fields, "score-call_center": "9", "action": "save"})
    assert [] == _problems(page)
    changed = _added_lines(before, path.read_text(encoding="utf-8"))
    assert [
        "      scores: {call_center: 7, meetings: 4, commute: 4, calls: 2}",
        "      scores: {call_center: 9, meetings: 4, commute: 4, calls: 2}",
    ] == changed  # the comment inside its conditions, and every other line, untouched


def test_a_new_use_case_and_its_first_rule_are_saved_together(running_studio: LiveStudio) -> None:
    data = {
        **NEW_RULE,
        "with_use_case": "1",
        "uc-id": "studio_recording",
        "uc-title-en": "Studio recording",
        "uc-phrase-en": "recording in a studio",
        "uc-default": "30",
        "id": "closed-back-for-recording",
        "tests": "1",
        "test-0-attribute": "back",
        "test-0-value": "closed",
        "score-commute": "",
        "score-new-use-case": "12",
        "file": "(a new file)",
        "new_file": "Studio Recording",
    }
    page = _post(running_studio, "/rule", data)
    assert [] == _problems(page)
    assert "Use case <code>studio_recording</code> added to pack.yaml" in page
    working = running_studio.studio.evaluator("working")
    assert not isinstance(working, Exception)
    assert "studio_recording" == working.pack.use_cases[-1].id
    assert (running_studio.working / "studio-recording.yaml").read_text().startswith("# yaml-language-server")
    # The rule that scores it can't go on its own: the use case would score nothing.
    page = _post(
        running_studio,
        "/rule",
        {"action": "delete", "original_id": "closed-back-for-recording", "file": "studio-recording.yaml"},
    )
    assert [UNSCORED_STUDIO_RECORDING] == _problems(page)
    assert "closed-back-for-recording" in (running_studio.working / "studio-recording.yaml").read_text()


def test_a_use_case_without_a_rule_is_not_saved(running_studio: LiveStudio) -> None:
    manifest = (running_studio.working / "pack.yaml").read_text(encoding="utf-8")
    data = {
        **NEW_RULE,
        "with_use_case": "1",
        "uc-id": "studio_recording",
        "uc-title-en": "Studio",
        "uc-phrase-en": "studio work",
        "uc-default": "30",
    }
    page = _post(running_studio, "/rule", data)  # the rule scores commute, not the new use case
    assert [UNSCORED_STUDIO_RECORDING] == _problems(page)
    assert manifest == (running_studio.working / "pack.yaml").read_text(encoding="utf-8")


def test_a_new_attribute_goes_into_pack_yaml_in_its_section(running_studio: LiveStudio) -> None:
    before = (running_studio.working / "pack.yaml").read_text(encoding="utf-8")
    data = {
        "side": "specs",
        "name": "headband",
        "type": "enum",
        "values": "padded, bare",
        "description": "The headband.",
    }
    page = _post(running_studio, "/attribute/new", data)
    assert [] == _problems(page) and 'id="form-saved"' in page
    after = (running_studio.working / "pack.yaml").read_text(encoding="utf-8")
    assert [
        "  headband:",
        "    type: enum",
        "    values: [padded, bare]",
        "    description: The headband.",
    ] == (_added_lines(before, after))
    assert after.index("  headband:") < after.index("\nshopper:")  # among the specs, before the shopper's
    page = _post(running_studio, "/attribute/new", {**data, "type": "enum", "values": ""})
    assert ["name: the pack already declares specs.headband"] == _problems(page)


def _fields_of(page: str) -> dict[str, Any]:
    """The values a browser would send for the form on `page`."""
    fields: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select name="([^"]+)".*?>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)', body)
        if chosen:
            fields[name] = unescape(chosen.group(1) if chosen.group(1) is not None else chosen.group(2))
    return fields


def test_a_rule_file_as_a_table_saves_a_changed_cell_and_refuses_a_wrong_one(
    running_studio: LiveStudio,
) -> None:
    path = running_studio.working / "grading.yaml"
    before = path.read_text(encoding="utf-8")
    with running_studio.client() as client:
        page = client.get("/table/grading.yaml").text
    assert page.count("<tr data-rule=") == before.count("\n  - id: ")
    fields = _fields_of(page)
    assert "24" == fields["r0-score-call_center"]  # lighter-wears-longer
    page = _post(running_studio, "/table/grading.yaml", {**fields, "r0-score-call_center": "lots"})
    assert [
        "lighter-wears-longer: call_center points: 'lots' is not a whole number, like 8 or -5"
    ] == _problems(page)
    assert before == path.read_text(encoding="utf-8")
    page = _post(running_studio, "/table/grading.yaml", {**fields, "r0-score-call_center": "22"})
    assert [] == _problems(page) and 'id="form-saved"' in page
    assert [
        "      scores: {call_center: 24, meetings: 12, calls: 6, commute: 12, music: 5, gaming_solo: 6, gaming_social: 8}",
        "      scores: {call_center: 22, meetings: 12, calls: 6, commute: 12, music: 5, gaming_solo: 6, gaming_social: 8}",
    ] == _added_lines(before, path.read_text(encoding="utf-8"))
