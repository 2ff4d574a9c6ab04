"""Logs are JSON lines off a terminal and readable text on one."""

from __future__ import annotations

import io
import json

import structlog

from earmark.logs import configure_logging


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging("info", "auto", stream)
    structlog.get_logger("t").info("rpc", method="/x", status="OK")
    line = json.loads(stream.getvalue())
    assert {"event": "rpc", "method": "/x", "status": "OK", "level": "info"}.items() <= line.items()
    assert "timestamp" in line


def test_readable_text_on_a_terminal() -> None:
    stream = _Terminal()
    configure_logging("info", "auto", stream)
    structlog.get_logger("t").info("rpc", method="/x")
    text = stream.getvalue()
    assert "rpc" in text and "method" in text
    assert not text.lstrip().startswith("{")


def test_the_level_filters() -> None:
    stream = io.StringIO()
    configure_logging("warning", "json", stream)
    structlog.get_logger("t").info("hidden")
    structlog.get_logger("t").warning("shown")
    assert ["shown"] == [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
