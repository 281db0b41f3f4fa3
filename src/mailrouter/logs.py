"""Structured logs (structlog): JSON lines in production, readable lines at a terminal.

What a log line may carry: gateway ids, Message-IDs, sender domains, URNs, routes, rules,
actions, reasons (which are written without personal data), SMTP codes, sizes and timings.
What it must never carry: defendants' names or dates of birth, subjects or bodies. The
libraries we use log protocol traffic (aiosmtpd logs DATA lines at debug), so their loggers are
held at WARNING whatever our own level is.
"""

from __future__ import annotations

import logging
import sys

import structlog

_QUIET_LIBRARIES = ("mail.log", "aioimaplib", "aiosmtplib", "asyncio")


def configure(level: str = "info", fmt: str = "json") -> None:
    numeric = getattr(logging, level.upper())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def get(name: str) -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name)
