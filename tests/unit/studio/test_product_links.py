"""Studio links every product by an address that leads back to that product, whatever
characters its id holds (it linked `a/../../rules` to /rules, and `?`, `#` or `%2F` to
a 404)."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

from conftest import start_studio

ODD_IDS = ["a/../../rules", "what?x=1#top", "50%2Fblack", "plain-id"]


def test_every_product_link_leads_to_its_own_product(tmp_path: Path) -> None:
    catalog = tmp_path / "odd.jsonl"
    specs = {"mic": "boom", "form_factor": "over_ear"}
    catalog.write_text("".join(json.dumps({"id": i, "specs": specs}) + "\n" for i in ODD_IDS))
    # Over HTTP: how a real server decodes an escaped path is part of what is tested.
    for studio in start_studio(tmp_path, catalog=catalog, over_http=True):
        with studio.client() as client:
            page = client.get("/")
            assert 200 == page.status_code, page.text
            links = [unescape(h) for h in re.findall(r'href="(/product/[^"]*)"', page.text)]
            headings = []
            for link in links:
                answer = client.get(link)
                assert 200 == answer.status_code, (link, answer.text[:200])
                headings += [unescape(h) for h in re.findall(r"<h1>(.*?)</h1>", answer.text)]
    assert sorted(ODD_IDS) == sorted(headings)
