"""What a candidate ruleset would have done to real traffic: every retained message decided
again (as at the time it arrived, with the DKIM keys used then), compared with what the
gateway decided. Nothing is delivered, journalled or sent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mailrouter.decide import decide
from mailrouter.ingest.records import envelope_of
from mailrouter.model import Action
from mailrouter.rules.ruleset import Ruleset

Outcome = tuple[str, str | None, str | None]  # action, route, rule


@dataclass(frozen=True, slots=True)
class Change:
    message_id: str
    received_at: float
    before: Outcome
    after: Outcome

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "received_at": self.received_at,
            "before": dict(zip(("action", "route", "rule"), self.before, strict=True)),
            "after": dict(zip(("action", "route", "rule"), self.after, strict=True)),
        }


@dataclass(slots=True)
class Report:
    decided: int = 0
    changes: list[Change] = field(default_factory=list)

    def counts(self) -> Counter[tuple[Outcome, Outcome]]:
        return Counter((c.before, c.after) for c in self.changes)


def replay(messages: Iterable[tuple[dict[str, Any], bytes]], candidate: Ruleset) -> Report:
    report = Report()
    for meta, raw in messages:
        old = meta.get("journal") or {}
        keys = {name: str(key).encode() for name, key in (meta.get("dkim_keys") or {}).items()}
        envelope = envelope_of(meta, keys)
        at = float(meta["received_at"])
        decision = decide(envelope, raw, candidate, dt.datetime.fromtimestamp(at, dt.UTC))
        routed = decision.action in (Action.DELIVER, Action.HOLD)
        after: Outcome = (decision.action.value, decision.route if routed else None, decision.rule)
        before: Outcome = (str(old.get("action")), old.get("route"), old.get("rule"))
        report.decided += 1
        if after != before:
            report.changes.append(Change(str(meta["id"]), at, before, after))
    return report


def describe(outcome: Outcome) -> str:
    action, route, rule = outcome
    return f"{action}{f'/{route}' if route else ''} [{rule}]"
