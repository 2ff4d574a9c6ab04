"""Vega-Lite specs for Studio's charts, built from the same data `earmark explain` and
`earmark diff` print, so a chart can't disagree with the commands."""

from __future__ import annotations

from typing import Any

VEGA_LITE = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier; never fetched
_COLOURS = {"start": "#8b95a7", "up": "#1e7a3c", "down": "#b3261e", "clamp": "#d08b00", "result": "#2457c5"}


def waterfall(part: dict[str, Any], start_label: str) -> dict[str, Any]:
    """One score's waterfall: the start, a bar per rule's signed amount, the step from the
    raw total to the score shown (floor, cap or soft ceiling) when there is one, and the
    result. `part` is a score (or the fit) of authoring.explain's breakdown. Every bar
    links to its rule on the rules page."""
    start = part.get("default", part.get("start", 0))
    bars: list[dict[str, Any]] = [_bar(start_label, 0, start, start, "start", "")]
    for step in part["steps"]:
        amount = step["amount"]
        bar = _bar(
            step["rule"],
            step["running"] - amount,
            step["running"],
            amount,
            "up" if amount > 0 else "down",
            step["fragment"],
        )
        bar["href"] = f"/rules#rule-{step['rule']}"
        bars.append(bar)
    if part["adjustment"]:  # the one step from the raw total to the score shown
        bars.append(
            _bar(
                part["adjusted_by"],
                part["total"],
                part["score"],
                part["score"] - part["total"],
                "clamp",
                part["adjustment"],
            )
        )
    bars.append(_bar("= result", 0, part["score"], part["score"], "result", ""))
    for order, bar in enumerate(bars):
        bar["order"] = order
    top = max(100, *(max(b["start"], b["end"]) for b in bars))
    low = min(0, *(min(b["start"], b["end"]) for b in bars))
    x = {
        "field": "label",
        "type": "nominal",
        "sort": {"field": "order"},
        "axis": {"labelAngle": -35, "title": None, "labelLimit": 180},
    }
    return {
        "$schema": VEGA_LITE,
        # As wide as its card, whatever the number of bars: a fixed step per bar made a
        # waterfall of many rules wider than the card, hiding or overlapping its result.
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "height": 200,
        "data": {"values": bars},
        "layer": [
            {
                "mark": {"type": "bar"},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "start",
                        "type": "quantitative",
                        "scale": {"domain": [low, top]},
                        "title": "score",
                    },
                    "y2": {"field": "end"},
                    "color": {
                        "field": "kind",
                        "type": "nominal",
                        "scale": {"domain": list(_COLOURS), "range": list(_COLOURS.values())},
                        "legend": None,
                    },
                    "href": {"field": "href"},
                    "description": {"field": "description"},
                    "tooltip": [
                        {"field": "label", "title": "step"},
                        {"field": "signed", "title": "amount"},
                        {"field": "fragment", "title": "says"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "dy": -7, "fontSize": 11, "aria": False},
                "encoding": {
                    "x": x,
                    "y": {"field": "top", "type": "quantitative"},
                    "text": {"field": "signed"},
                },
            },
        ],
    }


def _bar(label: str, start: int, end: int, amount: int, kind: str, fragment: str) -> dict[str, Any]:
    signed = f"{amount:+d}" if kind in ("up", "down", "clamp") else str(amount)
    return {
        "label": label,
        "start": start,
        "end": end,
        "top": max(start, end),
        "amount": amount,
        "signed": signed,
        "kind": kind,
        "fragment": fragment,
        # What a screen reader (and the browser tests) read for the bar.
        "description": f"{kind} {label} {signed}",
    }


def shift_histogram(summary: dict[str, Any]) -> dict[str, Any]:
    """How many products moved by how much for one use case, as shown and as raw totals
    side by side: a bonus the soft ceiling damps is a bar of its own."""
    values = [
        {"shift": int(shift), "count": count, "series": series}
        for key, series in (("shown", "as shown"), ("raw", "raw total"))
        for shift, count in summary["histogram"][key].items()
    ]
    return {
        "$schema": VEGA_LITE,
        "width": 360,
        "height": 140,
        "data": {"values": values},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "shift", "type": "ordinal", "title": "score shift"},
            "xOffset": {"field": "series"},
            "y": {"field": "count", "type": "quantitative", "title": "products"},
            "color": {
                "field": "series",
                "type": "nominal",
                "scale": {"domain": ["as shown", "raw total"], "range": ["#2457c5", "#d08b00"]},
                "legend": {"orient": "top", "title": None},
            },
        },
    }
