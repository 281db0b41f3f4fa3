"""Where the bundled files live when no configuration says otherwise, and how the gateway's
own directories are made: private to its user (0700; the files in them 0600), since they hold
defence correspondence."""

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


def private_dir(path: Path) -> Path:
    """`path` and any missing parents created, and `path` itself made 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path
