"""Logs are JSON lines off a terminal and readable text on one."""

from __future__ import annotations

import io
import json
import os

import structlog

from earmark.logs import configure_logging


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_lines_when_not_a_terminal() -> None:
    stream = io.BytesIO()
    configure_logging("info", "auto", stream)
    structlog.get_logger("t").info("rpc", method="/x", status="OK")
    line = json.loads(stream.getvalue())
    assert {"event": "rpc", "method": "/x", "status": "OK", "level": "info"}.items() <= line.items()
    assert "timestamp" in line
    assert os.getpid() == line["process"]


def test_json_lines_go_to_the_buffer_of_a_text_stream_like_stderr() -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    configure_logging("info", "json", stream)
    structlog.get_logger("t").info("rpc", product="café")
    stream.buffer.seek(0)
    assert "café" == json.loads(stream.buffer.read())["product"]


def test_readable_text_on_a_terminal() -> None:
    stream = _Terminal()
    configure_logging("info", "auto", stream)
    structlog.get_logger("t").info("rpc", method="/x")
    text = stream.getvalue()
    assert "rpc" in text and "method" in text
    assert not text.lstrip().startswith("{")


def test_the_level_filters() -> None:
    stream = io.BytesIO()
    configure_logging("warning", "json", stream)
    structlog.get_logger("t").info("hidden")
    structlog.get_logger("t").warning("shown")
    assert ["shown"] == [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
