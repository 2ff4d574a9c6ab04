"""Studio's rules page lists the working copy's warnings as `earmark check` does: a text
missing in a language the pack declares (issue 23: a German sentence switched to English
halfway) and a rule no example case exercises, each linked to its line in the editor."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from conftest import start_studio

HALF_TRANSLATED = """
  - id: zz-english-only
    description: A rule whose text has no German.
    when:
      weight_g: {at_most: 3}
    then:
      scores: {music: 1}
      say:
        en: a text in English only
"""


def test_the_rules_page_lists_missing_translations_and_unexercised_rules(tmp_path: Path) -> None:
    for studio in start_studio(tmp_path):
        with studio.client() as client:
            clean = client.get("/rules")
            comfort = studio.working / "comfort.yaml"
            comfort.write_text(comfort.read_text() + HALF_TRANSLATED)
            warned = client.get("/rules")
    assert 200 == clean.status_code and 'class="pack-warnings"' not in clean.text  # the shipped pack has none
    items = [
        unescape(re.sub(r"<[^>]+>", "", item)).strip()
        for item in re.findall(r"<li data-code=\"[\w-]+\">(.*?)</li>", warned.text, re.S)
    ]
    lines = comfort.read_text().splitlines()
    start = lines.index("  - id: zz-english-only")
    line = next(n for n in range(start, len(lines)) if lines[n].strip() == "say:") + 1  # where the text is
    assert f"comfort.yaml:{line}: no 'de' text; the 'en' one is used" in items, items
    assert any("no example case makes 'zz-english-only' fire" in item for item in items), items
    assert f'href="/edit/comfort.yaml#line-{line}"' in warned.text
