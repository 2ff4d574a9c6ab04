"""Studio's "Try a product" page (issue 24): specs typed or pasted as JSON, for a product
that is not in the catalog, get its verdict and waterfall under the working copy; a value
the pack refuses, or text that is not a JSON object, is said in words."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import quote

from conftest import start_studio
from helpers import BOOM_GAMING_HEADSET


def _tried(tmp_path: Path, *texts: str) -> list[str]:
    pages = []
    for studio in start_studio(tmp_path):
        with studio.client() as client:
            pages = [client.get(f"/try?specs={quote(text)}") for text in texts]
    assert all(200 == page.status_code for page in pages), [page.text[:300] for page in pages]
    return [page.text for page in pages]


def test_a_typed_product_gets_its_verdict_and_waterfall(tmp_path: Path) -> None:
    (page,) = _tried(tmp_path, json.dumps({**BOOM_GAMING_HEADSET, "micc": "boom"}))
    assert '<span id="category">headset</span>' in page
    assert page.count('data-chart="chart-') == 7  # a waterfall per use case
    assert 'lang="de"' in page  # every language of the pack
    warnings = [unescape(w) for w in re.findall(r"<div class=\"notice\" data-warning>(.*?)</div>", page)]
    assert ["specs.micc is not an attribute of this pack and was ignored (did you mean 'mic'?)"] == warnings


def test_a_refused_value_and_text_that_is_not_an_object_are_said_in_words(tmp_path: Path) -> None:
    refused, not_json, a_list, too_deep = _tried(
        tmp_path, '{"mic": "boom_arm"}', "mic: boom", '["boom"]', "[" * 5000 + "]" * 5000
    )
    assert "The pack refuses this product: specs.mic=&#39;boom_arm&#39;" in refused
    assert 'id="try-problem">the specs are not JSON: ' in not_json
    assert "the specs must be one JSON object" in unescape(a_list)
    assert 'id="try-problem">the specs are not JSON: ' in too_deep  # not a crash
