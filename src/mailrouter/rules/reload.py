"""Deciding whether new rules may replace the running ones: they must load and validate, and
every one of their samples must pass (rules/samples.py). The outcome says which, in words an
operator can act on; the running rules stay whenever it is a refusal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailrouter.rules.ruleset import Ruleset, RulesInvalid, load_ruleset
from mailrouter.rules.samples import run_samples

MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    accepted: bool
    version: str | None  # the candidate's, when it loaded
    running: str  # the version running after this attempt
    problems: tuple[str, ...] = ()
    at: float = field(default_factory=time.time)

    def describe(self) -> str:
        if self.accepted:
            return f"reloaded: rules version {self.version} now running"
        lines = [f"refused: rules version {self.running} still running"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "version": self.version,
            "running": self.running,
            "problems": list(self.problems),
            "at": self.at,
        }


def candidate(directory: Path, running: Ruleset) -> tuple[Ruleset | None, ReloadOutcome]:
    """The rules in `directory` if they may replace `running`, with the outcome either way."""
    try:
        rules = load_ruleset(directory)
    except RulesInvalid as exc:
        problems = tuple(str(p) for p in exc.problems[:MAX_PROBLEMS])
        return None, ReloadOutcome(False, None, running.fingerprint, problems)
    failed = [r.describe() for r in run_samples(rules) if not r.passed]
    if failed:
        problems = tuple(f"sample {line}" for line in failed[:MAX_PROBLEMS])
        return None, ReloadOutcome(False, rules.fingerprint, running.fingerprint, problems)
    return rules, ReloadOutcome(True, rules.fingerprint, rules.fingerprint)
