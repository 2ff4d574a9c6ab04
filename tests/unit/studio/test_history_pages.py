"""Studio's History and Publish pages over HTTP, when a kept version is damaged: it is
shown as damaged and skipped, and publishing goes on (both answered HTTP 500)."""

from __future__ import annotations

import json

from conftest import LiveStudio
from helpers import set_boom_meetings


def _publish(studio: LiveStudio, amount: int) -> str:
    set_boom_meetings(studio.working, amount)
    with studio.client() as client:
        answer = client.post(
            "/publish",
            data={"who": "Mia", "summary": f"meetings {amount}"},
            headers={"X-CSRF-Token": studio.csrf},
        )
    assert 200 == answer.status_code, answer.text
    return answer.text


def test_a_damaged_version_is_listed_as_damaged_and_publishing_goes_on(running_studio: LiveStudio) -> None:
    assert 'id="published"' in _publish(running_studio, 28)
    kept = running_studio.studio.history.versions()[0].id
    meta = running_studio.studio.history.folder / kept / "version.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "surprise": 1}))
    with running_studio.client() as client:
        history = client.get("/history")
    assert 200 == history.status_code
    assert 'id="damaged"' in history.text and kept in history.text
    assert 'id="published"' in _publish(running_studio, 29)


def test_restoring_a_version_with_another_contract_asks_to_confirm_in_words(
    running_studio: LiveStudio,
) -> None:
    """Issue 24: undoing a publish that changed the contract answered "publish with
    --allow-breaking", a command-line flag the person can't give. Now the page lists what
    would break and sends the same restore again once they confirm."""
    live_before = running_studio.studio.evaluator("live")
    assert not isinstance(live_before, Exception)
    original_version = live_before.pack.version
    manifest = running_studio.working / "pack.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "values: [open, semi_open, closed]", "values: [open, semi_open, closed, half_closed]", 1
        )
    )
    assert 'id="published"' in _publish(running_studio, 30)  # values added: compatible
    original = next(
        v.id for v in running_studio.studio.history.versions() if v.ruleset_version == original_version
    )
    headers = {"X-CSRF-Token": running_studio.csrf}
    with running_studio.client() as client:
        asked = client.post(f"/restore/{original}", data={"who": "Mia"}, headers=headers)
        assert 200 == asked.status_code, asked.text
        assert 'id="confirm-breaking"' in asked.text and "--allow-breaking" not in asked.text
        assert "values removed: half_closed; requests sending them will be refused" in asked.text
        assert f'hx-post="/restore/{original}"' in asked.text and 'name="who" value="Mia"' in asked.text
        done = client.post(
            f"/restore/{original}", data={"who": "Mia", "allow_breaking": "yes"}, headers=headers
        )
    assert 'id="published"' in done.text, done.text
    assert "half_closed" not in (running_studio.live / "pack.yaml").read_text()
