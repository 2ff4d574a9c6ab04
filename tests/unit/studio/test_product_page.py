"""A product's page in Studio says what its catalog line carries that the pack ignores
and that looks misspelt, as the server, `explain`, `rank` and `diff` do."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

from conftest import start_studio


def test_a_misspelt_attribute_is_shown_on_the_products_page(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text(
        json.dumps({"id": "typo", "specs": {"micc": "boom", "form_factor": "over_ear"}}) + "\n"
    )
    for studio in start_studio(tmp_path, catalog=catalog):
        with studio.client() as client:
            page = client.get("/product/typo")
    assert 200 == page.status_code, page.text[:500]
    shown = [unescape(w) for w in re.findall(r"<div class=\"notice\" data-warning>(.*?)</div>", page.text)]
    assert ["specs.micc is not an attribute of this pack and was ignored (did you mean 'mic'?)"] == shown
