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
