"""5. Earmark Studio's two waits a merchandiser feels, measured in `make bench`:

- opening the catalog page on 10,000 products, cold (every product evaluated by a pack
  just loaded) and warm (the evaluated catalog kept), over HTTP and, where Chromium is
  installed, in the browser until the page has loaded;
- checking the text being typed in the editor (talking.yaml of the audio pack).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from targets import judge

from earmark.config import BUNDLED_RULES
from earmark.evaluation.catalog import read_catalog
from earmark.studio.app import create_app
from earmark.studio.state import Studio

CATALOG = BUNDLED_RULES.parents[1] / "examples" / "catalog.jsonl"
CHROMIUM = "/usr/bin/chromium"


def _big_catalog(path: Path, size: int) -> None:
    with CATALOG.open(encoding="utf-8") as lines:
        base = list(read_catalog(lines))
    with path.open("w", encoding="utf-8") as out:
        for i, product in zip(range(size), itertools.cycle(base), strict=False):
            specs = {**product.specs, "price_usd": 20 + i % 400}
            out.write(json.dumps({"id": f"{product.id}-{i}", "specs": specs}) + "\n")


def studio_bench(size: int = 10_000, checks: int = 15) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        working, live, catalog = folder / "working", folder / "live", folder / "catalog.jsonl"
        shutil.copytree(BUNDLED_RULES, working)
        shutil.copytree(BUNDLED_RULES, live)
        _big_catalog(catalog, size)
        studio = Studio(working, live, catalog)
        app = create_app(studio)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]  # port 0: any free one, read back
        try:
            return _measure(f"http://127.0.0.1:{port}", app.csrf, working, size, checks)
        finally:
            server.should_exit = True
            thread.join(10)
            studio.close()


def _measure(url: str, csrf: str, working: Path, size: int, checks: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with httpx.Client(base_url=url, timeout=120) as client:
        start = time.perf_counter()
        assert client.get("/?sort=call_center").status_code == 200
        figures["catalog_cold_s"] = time.perf_counter() - start
        start = time.perf_counter()
        assert client.get("/?sort=music").status_code == 200
        figures["catalog_warm_s"] = time.perf_counter() - start
        text = (working / "talking.yaml").read_text()
        took = []
        for i in range(checks):
            edited = text.replace("meetings: 15", f"meetings: {15 + i % 5}")
            start = time.perf_counter()
            answer = client.post(
                "/api/check", json={"path": "talking.yaml", "text": edited}, headers={"X-CSRF-Token": csrf}
            )
            took.append(time.perf_counter() - start)
            assert answer.status_code == 200 and answer.json()["problems"] == []
        figures["check_median_ms"] = statistics.median(took) * 1000
        figures["check_max_ms"] = max(took) * 1000
    if os.path.exists(CHROMIUM):
        figures.update(_browser(url, working))
    figures["products"] = size
    return figures


def _browser(url: str, working: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright  # a dev dependency: only with Chromium

    # Touch a rule file so the pack reloads and the next open is cold again.
    talking = working / "talking.yaml"
    talking.write_text(talking.read_text().replace("meetings: 15", "meetings: 16"))
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(url + "/?sort=call_center", wait_until="load")
        cold = time.perf_counter() - start
        start = time.perf_counter()
        page.goto(url + "/?sort=meetings", wait_until="load")
        warm = time.perf_counter() - start
        browser.close()
    return {"browser_cold_s": cold, "browser_warm_s": warm}


def report() -> list[str]:
    figures = studio_bench()
    size = int(figures["products"])
    lines = [
        f"studio   catalog of {size:,} products over HTTP: cold {figures['catalog_cold_s']:5.2f} s   warm {figures['catalog_warm_s']:5.2f} s   {judge('studio_catalog_cold_s', figures['catalog_cold_s'])}",
        f"         check while typing (audio pack, talking.yaml): median {figures['check_median_ms']:4.0f} ms   slowest {figures['check_max_ms']:4.0f} ms",
    ]
    if "browser_cold_s" in figures:
        lines.append(
            f"         in Chromium until the page has loaded: cold {figures['browser_cold_s']:5.2f} s   warm {figures['browser_warm_s']:5.2f} s   {judge('studio_catalog_cold_s', figures['browser_cold_s'])}"
        )
    return lines
