"""Studio's catalog page says which attributes the rules read that listings leave out, and
how many (issue 23), as `earmark rank` and `diff` do."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

from conftest import start_studio


def test_the_catalog_page_counts_the_listings_that_leave_out_what_rules_read(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    lines = [
        {"id": "full", "specs": {"mic": "boom", "form_factor": "over_ear", "weight_g": 250}},
        {"id": "no-weight", "specs": {"mic": "boom", "form_factor": "over_ear"}},
        {"id": "no-mic-no-weight", "specs": {"form_factor": "in_ear"}},
    ]
    catalog.write_text("".join(json.dumps(line) + "\n" for line in lines))
    for studio in start_studio(tmp_path, catalog=catalog):
        with studio.client() as client:
            page = client.get("/")
    assert 200 == page.status_code, page.text[:500]
    rows = {
        attribute: (int(missing), int(of), unescape(rules))
        for attribute, missing, of, rules in re.findall(
            r"<tr><td><code>(\w+)</code></td><td>(\d+) of (\d+) products</td>\s*<td>(.*?)</td></tr>",
            page.text,
            re.S,
        )
    }
    assert (2, 3) == rows["weight_g"][:2] and (1, 3) == rows["mic"][:2]
    assert 'href="/rules#rule-mic-not-listed"' in rows["mic"][2]
    assert "form_factor" not in rows  # every listing gives it
