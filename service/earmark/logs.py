"""Logging: structlog, JSON lines when stderr is not a terminal, readable when it is.

Every RPC writes a line, so a line's cost is part of every call's. Following structlog's
performance guide, JSON lines are rendered by orjson (the serialiser the engine's facts
use) straight to bytes: about 10 µs a line where the standard library's json and a text
stream took about 20 (measured here). Caching loggers on first use gained nothing
measurable, and it would pin the module-level loggers to whatever configuration came
first, so it stays off.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

from earmark.tracing import add_trace_ids


def _add_process(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Which worker process wrote the line, when several share the port (structlog's
    CallsiteParameterAdder does the same by walking the stack, for a few µs more)."""
    event["process"] = os.getpid()
    return event


def configure_logging(level: str = "info", log_format: str = "auto", stream: Any = None) -> None:
    """Set up structlog once per process. `log_format` is auto, json or console. A JSON
    stream may be binary, or text with a binary `buffer` (as stderr is)."""
    stream = stream or sys.stderr
    console = log_format == "console" or (log_format == "auto" and stream.isatty())
    renderer: Any
    factory: Any
    if console:
        renderer = structlog.dev.ConsoleRenderer()
        factory = structlog.WriteLoggerFactory(stream)
    else:
        renderer = structlog.processors.JSONRenderer(serializer=orjson.dumps)
        factory = structlog.BytesLoggerFactory(getattr(stream, "buffer", stream))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _add_process,
            add_trace_ids,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        # One write per line, so lines from worker processes sharing stderr never interleave.
        logger_factory=factory,
        cache_logger_on_first_use=False,
    )
