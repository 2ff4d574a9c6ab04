"""Studio's preview on a decision log (EARMARK_DECISION_LOG) as its catalog: the products
real traffic asked about, each with its page."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import start_studio


def test_a_decision_log_is_a_catalog_studio_previews_on(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    lines = [
        {
            "decision_id": f"d{n}",
            "input": {"product": {"id": product_id, "specs": specs}, "shopper": None, "locale": None},
            "masked": [],
            "verdict": {"category": "headset", "scores": {}, "fit": None},
        }
        for n, (product_id, specs) in enumerate(
            [
                ("from-traffic-1", {"mic": "boom", "form_factor": "over_ear"}),
                ("from-traffic-2", {"mic": "none"}),
            ]
        )
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    for studio in start_studio(tmp_path, catalog=log):
        with studio.client() as client:
            page = client.get("/product/from-traffic-1")
            missing = client.get("/product/d0")
    assert 200 == page.status_code, page.text[:500]
    assert "from-traffic-1" in page.text and "Headset" in page.text
    assert 404 == missing.status_code  # products are named by their id, not the decision's
