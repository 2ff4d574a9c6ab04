"""A merchandiser's day in Earmark Studio, in headless Chromium driven by Playwright,
against real processes: `earmark serve` on a live folder and `earmark studio` on a working
copy beside it. Every page is saved as a PNG in build/screenshots/ for a reviewer.

The reading tests (sort the catalog by call-center shifts, count each rule's products,
read a product's waterfalls) change nothing and run in any order. The editing day is one
test, because each step starts where the last one left off: type a misspelt attribute and
see the plain-word error, fix it and raise an amount, preview the products that move,
publish and see the server take it, restore the old version, then find a damaged one.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from earmark.authoring.explain import breakdown
from earmark.config import BUNDLED_RULES
from earmark.evaluation.catalog import read_catalog
from earmark.evaluation.evaluator import Evaluator
from earmark.rulepack.loader import load_pack
from earmark.server.status import live_status
from earmark.studio.app import PAGE_SIZE
from earmark.v1 import earmark_pb2_grpc

from helpers import EXAMPLES, ROOT, evaluate_request, serve_process, studio_process, wait_for, wait_serving

SCREENSHOTS = ROOT / "build" / "screenshots"
# Beside the rest of the suite on a two-core machine, a page can take longer than
# Playwright's 5 s default to settle.
expect.set_options(timeout=20_000)
CATALOG = EXAMPLES / "catalog.jsonl"
CHROMIUM_ARGS = [
    "--no-sandbox",  # as root, Chromium's sandbox can't start
    "--disable-gpu",
    "--disable-background-networking",  # this network refuses Google's hosts
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Day:
    url: str
    server: str
    working: Path
    live: Path


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    folder = tmp_path_factory.mktemp("studio")
    working, live = folder / "working", folder / "live"
    shutil.copytree(BUNDLED_RULES, working)
    shutil.copytree(BUNDLED_RULES, live)
    server = serve_process({"EARMARK_RULES": str(live)})
    address, metrics = server.address, server.ports()["metrics_port"]
    studio, url = studio_process(
        *(str(working), "--live", str(live), "--catalog", str(CATALOG), "--server", address),
        *("--metrics", f"http://127.0.0.1:{metrics}/metrics"),
    )
    try:
        with grpc.insecure_channel(address) as channel:
            wait_serving(channel, server)
        assert wait_for(lambda: _answers(url), 30), studio.poll()
        yield Day(url, address, working, live)
    finally:
        for process in (studio, server):
            process.terminate()
            process.wait(20)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/static/studio.css", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def page(day: Day) -> Iterator[Page]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # "Publish this version again?"
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
        assert [] == errors, "the pages raised errors in the browser"


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _engine_scores(pack: Path, use_case: str) -> list[tuple[str, int]]:
    evaluator = Evaluator.from_directory(pack)
    try:
        with CATALOG.open() as lines:
            scored = [
                (
                    p.id,
                    next(
                        s.value
                        for s in evaluator.verdict_for(p.id, p.specs).scores
                        if s.use_case.id == use_case
                    ),
                )
                for p in read_catalog(lines)
            ]
    finally:
        evaluator.close()
    return sorted(scored, key=lambda item: (-item[1], item[0]))


def test_the_catalog_sorted_by_call_center_shifts_is_the_engines_order(day: Day, page: Page) -> None:
    page.goto(day.url + "/")
    page.select_option("#sort", "call_center")
    expect(page).to_have_url(f"{day.url}/?q=&category=&sort=call_center")
    rows = page.locator("#catalog tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)  # the sample catalog fills the first page
    shown = [
        (row.get_attribute("data-product"), int(row.locator('td[data-use-case="call_center"]').inner_text()))
        for row in rows.all()
    ]
    assert _engine_scores(day.working, "call_center")[:PAGE_SIZE] == shown
    _shot(page, "catalog")


def test_the_rules_page_counts_each_rules_catalog_products(day: Day, page: Page) -> None:
    evaluator = Evaluator.from_directory(day.working)
    try:
        with CATALOG.open() as lines:
            fired = [{r.id for r in evaluator.verdict_for(p.id, p.specs).fired} for p in read_catalog(lines)]
        rules = [r.id for r in evaluator.pack.rules]
        # The bundled pack keeps every rule about the shopper in shopper.yaml.
        about_shopper = {r.id for r in evaluator.pack.rules if Path(r.location.path).name == "shopper.yaml"}
        no_mic_line = next(r.location.line for r in evaluator.pack.rules if r.id == "no-mic-cannot-talk")
    finally:
        evaluator.close()
    # One storefront call, so that production has hits to show.
    with grpc.insecure_channel(day.server) as channel:
        request = evaluate_request("p", {"mic": "boom"}, trace=True)
        answer = earmark_pb2_grpc.EarmarkStub(channel).Evaluate(request, timeout=10)
    assert "boom-mic-makes-a-headset" in {hit.rule_id for hit in answer.verdict.trace}
    page.goto(f"{day.url}/rules")
    production = page.locator('tr[data-rule="boom-mic-makes-a-headset"] td.production')
    assert 1 == int(production.inner_text())
    shown = {
        row.get_attribute("data-rule"): int(row.get_attribute("data-hits") or -1)
        for row in page.locator("tr[data-rule]").all()
    }
    assert {rule: sum(rule in f for f in fired) for rule in rules} == shown
    never = [rule for rule, hits in shown.items() if hits == 0 and rule not in about_shopper]
    expect(page.locator("text=fires on none")).to_have_count(len(never))
    # A catalog has no shopper: a rule about one is not flagged, it is marked as needing one.
    expect(page.locator("text=needs a shopper")).to_have_count(len(about_shopper))
    # With --server, each file's table has the production column, read from /metrics.
    assert (
        page.locator("table.rules").count()
        == page.locator("table.rules th", has_text="production").count()
        > 0
    )
    _shot(page, "rules")
    # A rule's link opens the editor at its line, not at line 1 (issue 24).
    page.locator('tr[data-rule="no-mic-cannot-talk"] a.yaml-link').click()
    expect(page).to_have_url(f"{day.url}/edit/talking.yaml#line-{no_mic_line}")
    page.wait_for_function("window.studioEditor !== undefined")
    cursor_line = page.evaluate(
        "window.studioEditor.state.doc.lineAt(window.studioEditor.state.selection.main.head).number"
    )
    assert no_mic_line == cursor_line
    expect(page.locator(".cm-activeLine")).to_contain_text("- id: no-mic-cannot-talk")
    _shot(page, "edit-at-a-rule")


def test_hovering_a_key_in_the_editor_shows_plain_words_not_schema_jargon(day: Day, page: Page) -> None:
    """Issue 24: the tooltips read "anyOf: undefined, array, or object" and
    "stringpattern: ^[a-z0-9]..."; now they say what the pack says the key means."""
    page.goto(f"{day.url}/edit/comfort.yaml")
    expect(page.locator("#editor-status")).to_contain_text("no problems")
    for text, words in (
        ("form_factor: over_ear", "How it sits on or in the ear."),
        ("scores: {call_center: 3", "Points added to"),
    ):
        page.mouse.move(0, 0)
        where = page.evaluate(
            """(text) => { const view = window.studioEditor;
                           const pos = view.state.doc.toString().indexOf(text) + 2;
                           view.dispatch({selection: {anchor: pos}, scrollIntoView: true});
                           const box = view.coordsAtPos(pos);
                           return {x: box.left + 1, y: (box.top + box.bottom) / 2}; }""",
            text,
        )
        page.mouse.move(where["x"], where["y"])
        tooltip = page.locator(".cm-tooltip-hover")
        expect(tooltip).to_contain_text(words)
        shown = tooltip.inner_text()
        assert not any(
            jargon in shown for jargon in ("anyOf", "oneOf", "pattern", "undefined", "Reference")
        ), shown
    _shot(page, "edit-hover")


def test_a_family_of_tiers_reads_and_saves_as_a_table(day: Day, page: Page) -> None:
    """Issue 24: a rule file as a decision table, a row per rule, its values editable."""
    before = (day.working / "grading.yaml").read_text()
    page.goto(f"{day.url}/rules")
    page.locator('a[href="/table/grading.yaml"]').click()
    rows = page.locator("#rule-table tbody tr")
    expect(rows).to_have_count((day.working / "grading.yaml").read_text().count("\n  - id: "))
    _shot(page, "table-grading")
    cell = page.get_by_label("battery-keeps-going commute")
    expect(cell).to_have_value("18")
    cell.fill("20")
    page.click("#save-table")
    expect(page.locator("#form-saved")).to_contain_text("Saved to grading.yaml", timeout=90_000)
    assert "scores: {commute: 20, call_center: 3" in (day.working / "grading.yaml").read_text()
    expect(page.get_by_label("battery-keeps-going commute")).to_have_value("20")
    # Back as it was (an example case wants 18), and the file is byte for byte what it was.
    page.get_by_label("battery-keeps-going commute").fill("18")
    with page.expect_response(lambda answer: "/table/" in answer.url, timeout=90_000):
        page.click("#save-table")
    expect(page.locator("#form-saved")).to_be_visible()
    assert before == (day.working / "grading.yaml").read_text()


def test_a_product_typed_into_try_a_product_gets_its_waterfalls(day: Day, page: Page) -> None:
    """Issue 24: a merchandiser checks a product that is not in the catalog."""
    page.goto(f"{day.url}/try")
    specs = {"mic": "boom", "form_factor": "on_ear", "connectivity": ["dect"], "channels": "mono"}
    page.fill("#specs", json.dumps(specs))
    page.click("form.try button")
    expect(page.locator("#category")).to_have_text("headset")
    evaluator = Evaluator.from_directory(day.working)
    try:
        expected = evaluator.verdict_for("tried", specs)
    finally:
        evaluator.close()
    for score in expected.scores:
        card = page.locator(f'[data-score="{score.use_case.id}"]')
        expect(card.locator(".score-value")).to_have_text(str(score.value))
        expect(card.locator(f"#waterfall-{score.use_case.id}")).to_have_attribute("data-ready", "1")
    _shot(page, "try-a-product")


def test_a_products_waterfall_has_a_bar_per_rule_with_its_signed_amount(day: Day, page: Page) -> None:
    product = "steelseries-arctis-nova-7"
    page.goto(f"{day.url}/product/{product}")
    evaluator = Evaluator.from_directory(day.working)
    try:
        specs = next(p.specs for p in read_catalog(CATALOG.open()) if p.id == product)
        data = breakdown(evaluator.verdict_for(product, specs), evaluator.pack)
    finally:
        evaluator.close()
    for score in data["scores"]:
        chart = page.locator(f"#waterfall-{score['use_case']}")
        expect(chart).to_have_attribute("data-ready", "1")
        bars = [b.get_attribute("aria-label") for b in chart.locator('[aria-roledescription="bar"]').all()]
        rules = [label for label in bars if label and label.startswith(("up ", "down "))]
        expected = [
            f"{'up' if s['amount'] > 0 else 'down'} {s['rule']} {s['amount']:+d}" for s in score["steps"]
        ]
        assert expected == rules, score["use_case"]
        assert (
            bars[0] == f"start default {score['default']}" and bars[-1] == f"result = result {score['score']}"
        )
        # A chart with many bars is wider than its card: it scrolls inside the card
        # instead of drawing over the card beside it.
        assert chart.evaluate(
            """el => { const edge = el.closest(".card").getBoundingClientRect().right + 0.5;
                       const drawn = el.querySelector("svg").getBoundingClientRect().right;
                       const clipped = getComputedStyle(el).overflowX !== "visible";
                       return el.getBoundingClientRect().right <= edge && (drawn <= edge || clipped); }"""
        ), score["use_case"]
    expect(page.locator("#category")).to_have_text(data["category"]["id"])
    _shot(page, "product")
    page.select_option('#what-if select[name="uses"]', ["gaming_social", "gaming_solo"])
    page.fill('#what-if input[name="budget_usd"]', "100")
    page.locator('#what-if input[name="budget_usd"]').dispatch_event("change")
    # Each change swaps the panel; the last one (the budget) brings the over-budget bar.
    expect(
        page.locator('#waterfall-fit [aria-roledescription="bar"][aria-label^="down over-budget -"]')
    ).to_have_count(1)
    expect(page.locator("#fit")).to_contain_text("over your $100 budget")
    _shot(page, "product-what-if")


def _place_cursor_after(page: Page, text: str) -> None:
    """Put the editor's cursor right after the first `text`, as a click there would."""
    found = page.evaluate(
        """(text) => { const view = window.studioEditor; const at = view.state.doc.toString().indexOf(text);
                       if (at < 0) return false; view.focus();
                       view.dispatch({selection: {anchor: at + text.length}}); return true; }""",
        text,
    )
    assert found, text


def test_a_day_of_editing_from_a_typo_to_publish_and_restore(day: Day, page: Page) -> None:
    for step in (
        _the_editor_completes_the_packs_attributes,
        _a_misspelt_attribute_is_underlined_with_did_you_mean,
        _fixed_and_an_amount_raised_the_preview_shows_who_moves,
        _publish_and_the_running_server_reports_the_new_version,
        _restore_the_old_version,
        _a_damaged_kept_version_is_shown_and_skipped,
    ):
        step(day, page)


def _the_editor_completes_the_packs_attributes(day: Day, page: Page) -> None:
    page.goto(f"{day.url}/edit/talking.yaml")
    expect(page.locator("#editor-status")).to_contain_text("no problems")
    original = page.evaluate("() => window.studioEditor.state.doc.toString()")
    _place_cursor_after(page, "retractable_boom]")  # the end of the first rule's `when:`
    page.keyboard.press("Enter")
    page.keyboard.type("batt")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options).to_have_text(["battery_hours"])  # from the schema made of pack.yaml
    _shot(page, "edit-completion")
    page.keyboard.press("Escape")
    page.evaluate(
        """(text) => { const view = window.studioEditor;
                       view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}}); }""",
        original,
    )


def _a_misspelt_attribute_is_underlined_with_did_you_mean(day: Day, page: Page) -> None:
    expect(page.locator("#editor-status")).to_contain_text("no problems")
    _place_cursor_after(page, "      mic")  # the first rule's `mic: [boom, ...]`, line 10
    page.keyboard.type("c")
    expect(page.locator("#editor-status")).to_contain_text("1 problem(s) in this file")
    expect(page.locator(".cm-lintRange-error")).to_have_count(1)
    page.keyboard.press("Control+Shift+M")  # CodeMirror's lint panel lists the messages
    panel = page.locator(".cm-panel-lint")
    expect(panel).to_contain_text("'micc' is not an attribute declared in pack.yaml (did you mean 'mic'?)")
    _shot(page, "edit-error")


def _fixed_and_an_amount_raised_the_preview_shows_who_moves(day: Day, page: Page) -> None:
    page.keyboard.press("Escape")
    _place_cursor_after(page, "      micc")
    page.keyboard.press("Backspace")
    _place_cursor_after(page, "scores: {meetings: 11")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("21")
    expect(page.locator("#editor-status")).to_contain_text("no problems")
    page.click("#editor-save")
    expect(page.locator("#editor-saved")).to_contain_text("saved to the working copy")  # the save is done
    assert "scores: {meetings: 21, calls: 6, call_center: 7}" in (day.working / "talking.yaml").read_text()
    saved_version = load_pack(day.working).version
    expect(page.locator("#editor-saved")).to_have_text(f"saved to the working copy, now {saved_version}")
    expect(page.locator("#working-version")).to_have_text(saved_version)  # the header follows the save
    page.goto(f"{day.url}/preview")
    expect(page.locator("#contract")).to_contain_text("No change")
    meetings = page.locator('#shifts tr[data-use-case="meetings"]')
    assert int(meetings.get_attribute("data-changed") or 0) > 0
    expect(meetings).to_contain_text("certified-for-meetings +10")
    expect(page.locator("#histogram-meetings")).to_have_attribute("data-ready", "1")
    cases = len(load_pack(day.working).examples)
    expect(page.locator("#examples")).to_contain_text(f"{cases} of {cases} pass")
    _shot(page, "preview")


def _publish_and_the_running_server_reports_the_new_version(day: Day, page: Page) -> None:
    before = live_status(day.server, 5).version
    page.fill('#publish input[name="who"]', "Mia Merch")
    page.fill('#publish input[name="summary"]', "Teams certification counts for more in meetings")
    page.click("#publish button")
    expect(page.locator("#published-version")).to_be_visible(timeout=30_000)
    version = page.locator("#published-version").inner_text()
    assert version != before
    expect(page.locator("#live-version")).to_have_text(version)  # the header follows the publish
    expect(page.locator("#server-reports")).to_contain_text(f"The server now serves {version}")
    assert version == live_status(day.server, 5).version
    assert "scores: {meetings: 21, calls: 6, call_center: 7}" in (day.live / "talking.yaml").read_text()
    _shot(page, "published")


def _restore_the_old_version(day: Day, page: Page) -> None:
    old = live_status(day.server, 5).version
    page.goto(f"{day.url}/history")
    rows = page.locator("#versions tr[data-version]")
    expect(rows).to_have_count(2)  # what was live before, and the publish
    _shot(page, "history")
    found = page.locator("#versions tr[data-version]").last  # the oldest: what was live first
    first_version = found.get_attribute("data-version")
    assert first_version != old
    found.locator('input[name="who"]').fill("Mia Merch")
    found.locator("button").click()
    expect(page.locator("#published-version")).to_have_text(first_version or "", timeout=30_000)
    expect(page.locator("#live-version")).to_have_text(first_version or "")
    expect(page.locator("#server-reports")).to_contain_text(f"The server now serves {first_version}")
    assert first_version == live_status(day.server, 5).version
    assert "scores: {meetings: 11, calls: 6, call_center: 7}" in (day.live / "talking.yaml").read_text()
    audit = (day.live.parent / ".live.history" / "audit.jsonl").read_text().splitlines()
    assert ["found", "publish", "restore"] == [json.loads(line)["action"] for line in audit]
    _shot(page, "restored")


def _a_damaged_kept_version_is_shown_and_skipped(day: Day, page: Page) -> None:
    history = day.live.parent / ".live.history"
    oldest = sorted(p for p in history.iterdir() if p.is_dir())[0]
    (oldest / "version.json").write_text("{not json")
    page.goto(f"{day.url}/history")
    expect(page.locator("#versions tr[data-version]")).to_have_count(2)  # the other two
    expect(page.locator("#damaged")).to_contain_text(oldest.name)
    _shot(page, "history-damaged")


def test_what_is_typed_while_the_rule_form_is_drawn_again_is_kept(day: Day, page: Page) -> None:
    """Choosing a file or an attribute draws the form again from the server; a name typed
    before that answer came back used to be replaced by the empty one that was sent, and
    the save then did nothing at all (the name is required)."""
    page.goto(f"{day.url}/rule/new")
    _settled(page)
    held: list[Route] = []  # the redraw's request, held back until the typing is done
    page.route("**/rule", lambda route: held.append(route))
    page.select_option('select[name="file"]', "comfort.yaml")
    while not held:
        page.wait_for_timeout(10)
    page.fill('input[name="id"]', "typed-while-drawn")
    page.fill('input[name="description"]', "Typed while the form was drawn again.")
    held[0].continue_()  # sent as it was when the file was chosen: with no name
    page.unroute("**/rule")
    _settled(page)
    expect(page.locator('select[name="file"]')).to_have_value("comfort.yaml")
    expect(page.locator('input[name="id"]')).to_have_value("typed-while-drawn")
    expect(page.locator('input[name="description"]')).to_have_value("Typed while the form was drawn again.")


def test_the_two_tasks_of_issue_24_without_a_line_of_yaml(day: Day, page: Page) -> None:
    """The merchandiser's two tasks, from forms only: score bone-conduction headphones up
    for commuting, and add a use case `studio_recording`; then preview, publish, and undo
    the publish with Restore, which asks to confirm because it takes a score away. Nothing
    is typed into the YAML editor. (It runs after the editing day, on what it left.)"""
    for step in (
        _a_rule_from_the_form_is_checked_in_plain_words_then_saved,
        _a_new_use_case_and_its_first_rule_from_one_form,
        _preview_shows_the_new_use_case_and_publish_takes_it_live,
        _restore_of_the_version_before_asks_and_then_takes_the_score_away,
    ):
        step(day, page)


def _settled(page: Page) -> None:
    """Until no htmx request is in flight and the last swap has settled: a change made
    while the form is being drawn again would land in the old one and be lost."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def _pick_attribute(page: Page, row: int, attribute: str, hint: str) -> None:
    _settled(page)
    page.select_option(f'select[name="test-{row}-attribute"]', attribute)
    # htmx draws the form again with that attribute's tests and values.
    expect(page.locator(f'tr.test-row[data-row="{row}"] .hint')).to_contain_text(hint)
    _settled(page)


def _save_form(page: Page) -> None:
    _settled(page)
    page.click("#save-rule")
    # A save checks the pack, and compiles and runs the catalog under the new one: beside
    # the rest of the suite on two cores that has taken more than 20 s.
    expect(page.locator("#form-saved, #form-problems")).to_be_visible(timeout=90_000)


def _a_rule_from_the_form_is_checked_in_plain_words_then_saved(day: Day, page: Page) -> None:
    before = (day.working / "comfort.yaml").read_text()
    page.goto(f"{day.url}/rules")
    page.click("#new-rule")
    expect(page.locator("h1")).to_contain_text("New rule")
    _settled(page)
    # Choosing a file draws the form again: a name typed before that answer lands in the
    # old form and is lost (CI failed so, the required name left empty and no save sent).
    with page.expect_response(lambda r: r.url.endswith("/rule") and r.request.method == "POST"):
        page.select_option('select[name="file"]', "comfort.yaml")
    _settled(page)
    expect(page.locator('select[name="file"]')).to_have_value("comfort.yaml")
    page.fill('input[name="id"]', "bone-conduction-on-the-move")
    page.fill('input[name="description"]', "Bone conduction leaves the ears open to traffic.")
    _pick_attribute(page, 0, "driver_type", "bone_conduction")
    page.fill('input[name="test-0-value"]', "bone_conductio")  # a slip of the finger
    page.fill("#score-commute", "8")
    page.fill('input[name="say-en"]', "ears left open to hear the traffic")
    page.fill('input[name="say-de"]', "offene Ohren, die den Verkehr hören")
    _shot(page, "form-new-rule")
    _save_form(page)
    expect(page.locator("#form-problems")).to_contain_text(
        "'bone_conductio' is not a value of driver_type (did you mean 'bone_conduction'?)"
    )
    assert before == (day.working / "comfort.yaml").read_text()  # nothing saved
    _shot(page, "form-rule-problem")
    page.fill('input[name="test-0-value"]', "bone_conduction")
    _save_form(page)
    expect(page.locator("#form-problems")).to_have_count(0)
    expect(page.locator("#form-saved")).to_contain_text("Saved to comfort.yaml")
    expect(page.locator("#form-hits")).to_contain_text("of the catalog's")
    fired = int(page.locator("#form-hits strong").inner_text())
    evaluator = Evaluator.from_directory(day.working)
    try:
        with CATALOG.open() as lines:
            expected = sum(
                "bone-conduction-on-the-move" in {r.id for r in evaluator.verdict_for(p.id, p.specs).fired}
                for p in read_catalog(lines)
            )
    finally:
        evaluator.close()
    assert expected == fired > 0
    expect(page.locator("#working-version")).to_have_text(
        load_pack(day.working).version
    )  # the header follows
    _shot(page, "form-rule-saved")


def _a_new_use_case_and_its_first_rule_from_one_form(day: Day, page: Page) -> None:
    page.goto(f"{day.url}/rules")
    page.click("#new-use-case")
    expect(page.locator("#new-use-case")).to_be_visible()
    page.fill('input[name="uc-id"]', "studio_recording")
    page.fill('input[name="uc-title-en"]', "Studio recording")
    page.fill('input[name="uc-phrase-en"]', "recording in a studio")
    page.fill('input[name="uc-title-de"]', "Studioaufnahme")
    page.fill('input[name="uc-phrase-de"]', "Aufnahmen im Studio")
    page.fill('input[name="uc-default"]', "30")
    _settled(page)
    with page.expect_response(lambda r: r.url.endswith("/rule") and r.request.method == "POST"):
        page.select_option('select[name="file"]', "(a new file)")  # drawn again, as above
    _settled(page)
    page.fill('input[name="new_file"]', "studio")
    page.fill('input[name="id"]', "closed-back-keeps-the-click-track-in")
    page.fill('input[name="description"]', "A closed back keeps the click track out of the microphone.")
    _pick_attribute(page, 0, "back", "closed")
    page.fill('input[name="test-0-value"]', "closed")
    _settled(page)
    page.click("#add-test")
    expect(page.locator("tr.test-row")).to_have_count(2)
    _pick_attribute(page, 1, "driver_mm", "a number")
    page.select_option('select[name="test-1-test"]', "at_least")
    _settled(page)
    page.fill('input[name="test-1-value"]', "40")
    page.fill("#score-new-use-case", "25")
    page.fill('input[name="say-en"]', "a closed back that keeps the click track off the mic")
    page.fill('input[name="say-de"]', "eine geschlossene Bauweise, die das Klicken vom Mikrofon fernhält")
    _shot(page, "form-new-use-case")
    _save_form(page)
    expect(page.locator("#form-problems")).to_have_count(0)
    expect(page.locator("#form-saved")).to_contain_text("Use case studio_recording added to pack.yaml")
    working = load_pack(day.working)
    assert "studio_recording" == working.use_cases[-1].id
    assert ("studio_recording", 25) in working.rules_by_id["closed-back-keeps-the-click-track-in"].scores
    _shot(page, "form-use-case-saved")


def _preview_shows_the_new_use_case_and_publish_takes_it_live(day: Day, page: Page) -> None:
    page.goto(f"{day.url}/preview")
    new = page.locator('#shifts tr.new-use-case[data-use-case="studio_recording"]')
    expect(new).to_contain_text("Best:")
    expect(new).to_contain_text("Products by band")
    expect(page.locator("#contract")).to_contain_text("use case studio_recording")
    _shot(page, "form-preview")
    page.fill('#publish input[name="who"]', "Mia Merch")
    page.fill('#publish input[name="summary"]', "Bone conduction for commuters; a studio recording score")
    page.click("#publish button")
    expect(page.locator("#published-version")).to_be_visible(timeout=30_000)
    version = page.locator("#published-version").inner_text()
    expect(page.locator("#server-reports")).to_contain_text(f"The server now serves {version}")
    with grpc.insecure_channel(day.server) as channel:
        answer = earmark_pb2_grpc.EarmarkStub(channel).Evaluate(
            evaluate_request(
                "bone", {"driver_type": "bone_conduction", "mic": "none", "back": "closed", "driver_mm": 40}
            )
        )
    assert "studio_recording" in {s.use_case for s in answer.verdict.scores}
    _shot(page, "form-published")


def _restore_of_the_version_before_asks_and_then_takes_the_score_away(day: Day, page: Page) -> None:
    page.goto(f"{day.url}/history")
    rows = page.locator("#versions tr[data-version]")
    before_publish = rows.nth(1)  # newest first: the publish, then what was live before it
    version = before_publish.get_attribute("data-version") or ""
    before_publish.locator('input[name="who"]').fill("Mia Merch")
    before_publish.locator("button").click()
    confirm = page.locator("#confirm-breaking")
    expect(confirm).to_contain_text("use case studio_recording")
    assert "studio_recording" in {u.id for u in load_pack(day.live).use_cases}  # not yet
    _shot(page, "form-restore-asks")
    confirm.locator('input[name="allow_breaking"]').check()
    confirm.locator("button").click()
    expect(page.locator("#published-version")).to_have_text(version, timeout=30_000)
    expect(page.locator("#server-reports")).to_contain_text(f"The server now serves {version}")
    assert "studio_recording" not in {u.id for u in load_pack(day.live).use_cases}
    _shot(page, "form-restored")


def test_a_new_attribute_from_its_form(day: Day, page: Page) -> None:
    """Issue 24: a new attribute from the page, through the same checks (it runs last:
    a new attribute changes what storefronts may send, which the other tests' previews
    would then show)."""
    page.goto(f"{day.url}/rules")
    page.click("#new-attribute")
    page.select_option('select[name="side"]', "specs")
    page.fill('input[name="name"]', "headband_padding")
    page.select_option('select[name="type"]', "enum")
    page.fill('input[name="values"]', "none, thin, thick")
    page.fill('input[name="description"]', "How much padding the headband has.")
    page.click("#save-attribute")
    expect(page.locator("#form-saved")).to_contain_text("headband_padding added to pack.yaml", timeout=90_000)
    attribute = next(a for a in load_pack(day.working).specs if a.name == "headband_padding")
    assert ("none", "thin", "thick") == attribute.values
    expect(page.locator("#working-version")).to_have_text(load_pack(day.working).version)
    page.click("#save-attribute")  # the same again: refused in words, nothing written twice
    expect(page.locator("#form-problems")).to_contain_text("the pack already declares specs.headband_padding")
    _shot(page, "form-attribute")
