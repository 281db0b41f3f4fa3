"""Structured logs (structlog): JSON lines in production, readable lines at a terminal.

What a log line may carry: gateway ids, Message-IDs, sender domains, URNs, routes, rules,
actions, reasons (which are written without personal data), SMTP codes, sizes and timings.
What it must never carry: defendants' names or dates of birth, subjects or bodies. The
libraries we use log protocol traffic (aiosmtpd logs DATA lines at debug), so their loggers are
held at WARNING whatever our own level is.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_QUIET_LIBRARIES = ("mail.log", "aioimaplib", "aiosmtplib", "asyncio")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def configure(level: str = "info", fmt: str = "json") -> None:
    numeric = getattr(logging, level.upper())
    # JSON escapes every control character itself; a terminal would act on them.
    rendering: list[structlog.typing.Processor] = (
        [structlog.processors.JSONRenderer()]
        if fmt == "json"
        else [escape_controls, structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            *rendering,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def escape_controls(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Every control character in a text value written as an escape (`\\x00`), so client
    input cannot move the cursor, erase a line or ring the terminal."""
    for key, value in event.items():
        if key != "exception" and isinstance(value, str) and _CONTROL.search(value):
            event[key] = _CONTROL.sub(_escape, value)
    return event


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def get(name: str) -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name)
