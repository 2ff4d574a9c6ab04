"""Three bugs issue 24 found in Studio's pages, each pinned: a breaking contract change
read "BREAKING BREAKING:", the category filter offered "unclassified" twice, and every
rule about the shopper was flagged "fires on none" (the catalog has no shopper)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from conftest import start_studio


def test_a_breaking_change_is_marked_once(tmp_path: Path) -> None:
    for studio in start_studio(tmp_path):
        manifest = studio.working / "pack.yaml"
        narrowed = manifest.read_text().replace("    max: 24\n", "    max: 20\n", 1)  # hours_per_day
        assert narrowed != manifest.read_text()
        manifest.write_text(narrowed)
        with studio.client() as client:
            page = client.get("/preview")
    assert 200 == page.status_code, page.text[:500]
    items = [
        unescape(re.sub(r"<[^>]+>", "", li)).strip() for li in re.findall(r"<li>(.*?)</li>", page.text, re.S)
    ]
    change = next(item for item in items if "shopper.hours_per_day" in item)
    assert change.startswith("BREAKING shopper.hours_per_day: range narrowed"), change
    assert "BREAKING BREAKING" not in page.text and "BREAKING: " not in change


def _shipped_page(tmp_path: Path, path: str) -> str:
    """A Studio page over the bundled pack, unchanged."""
    for studio in start_studio(tmp_path):
        with studio.client() as client:
            page = client.get(path)
    assert 200 == page.status_code, page.text[:500]
    return page.text


def test_the_category_filter_offers_each_category_once(tmp_path: Path) -> None:
    select = re.search(r'<select name="category">(.*?)</select>', _shipped_page(tmp_path, "/"), re.S)
    assert select is not None
    values = re.findall(r'<option value="([^"]*)"', select.group(1))
    assert ["", "headphones", "headset", "unclassified"] == values


def test_a_shopper_rule_is_not_flagged_as_firing_on_none(tmp_path: Path) -> None:
    page = _shipped_page(tmp_path, "/rules")
    row = re.search(r'<tr id="rule-over-budget".*?</tr>', page, re.S)
    assert row is not None
    assert "fires on none" not in row.group(0)
    assert "needs a shopper" in row.group(0)
    never = re.search(r'<tr id="rule-no-mic-cannot-talk".*?</tr>', page, re.S)
    assert never is not None and "needs a shopper" not in never.group(0)


def test_a_disabled_publish_button_says_why(tmp_path: Path) -> None:
    """Issue 24: the button was greyed out with no word of why."""
    for studio in start_studio(tmp_path):
        cases = studio.working / "examples" / "talking.yaml"
        cases.write_text(cases.read_text().replace('"meetings >= 85"', '"meetings >= 99"', 1))
        with studio.client() as client:
            page = client.get("/preview")
    button = re.search(r"<button ([^>]*)>Publish", page.text)
    assert button is not None and "disabled" in button.group(1)
    why = re.search(r'<span id="why-not-publish" class="bad">(.*?)</span>', page.text, re.S)
    assert why is not None
    assert "Publishing is off: 1 example case fails (step 4)" in unescape(why.group(1))


def test_a_save_says_whether_the_working_copy_still_loads_and_its_version(tmp_path: Path) -> None:
    """Issue 24: saving a broken file said only "saved to the working copy", and the header
    kept the version from before the save."""
    for studio in start_studio(tmp_path):
        talking = studio.working / "talking.yaml"
        good = talking.read_text().replace("meetings: 11,", "meetings: 12,", 1)
        headers = {"X-CSRF-Token": studio.csrf}
        with studio.client() as client:
            fine = client.put("/api/files/talking.yaml", json={"text": good}, headers=headers).json()
            broken_text = good.replace("      mic: [boom", "      micc: [boom", 1)
            broken = client.put("/api/files/talking.yaml", json={"text": broken_text}, headers=headers).json()
            version = client.get("/").text
        assert {"saved": "talking.yaml", "loads": True} == {k: fine[k] for k in ("saved", "loads")}
        assert fine["working_version"].startswith("audio-")
        assert {"saved": "talking.yaml", "loads": False, "working_version": "does not load"} == {
            k: broken[k] for k in ("saved", "loads", "working_version")
        }
        assert broken["problems"] >= 1
        assert '<code id="working-version">does not load</code>' in version


def test_a_new_use_cases_preview_shows_its_bands_and_best_and_worst(tmp_path: Path) -> None:
    for studio in start_studio(tmp_path):
        manifest = studio.working / "pack.yaml"
        use_case = "  - id: karaoke\n    title: {en: Karaoke, de: Karaoke}\n    phrase: {en: karaoke, de: Karaoke}\n    default: 10\n"
        manifest.write_text(manifest.read_text().replace("\nspecs:\n", "\n" + use_case + "\nspecs:\n", 1))
        rule = "rules:\n  - id: boom-for-karaoke\n    description: d\n    when:\n      mic: boom\n    then:\n      scores: {karaoke: 60}\n"
        (studio.working / "karaoke.yaml").write_text(rule)
        with studio.client() as client:
            page = client.get("/preview")
    row = re.search(r'<tr class="new-use-case" data-use-case="karaoke">(.*?)</tr>', page.text, re.S)
    assert row is not None, page.text[:2000]
    text = unescape(re.sub(r"<[^>]+>", "", row.group(1)))
    assert "Products by band:" in text and "80+: " in text
    assert re.search(r"Best: [\w-]+ 70", text) and re.search(r"Worst: [\w-]+ 10", text), text
