"""Where the bundled files live when no configuration says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_rules_dir() -> Path:
    """`$MAILROUTER_RULES`, else ./routing_rules, else the checkout's bundled routing_rules/."""
    configured = os.environ.get("MAILROUTER_RULES")
    if configured:
        return Path(configured)
    here = Path.cwd() / "routing_rules"
    if here.is_dir():
        return here
    return PROJECT_ROOT / "routing_rules"
