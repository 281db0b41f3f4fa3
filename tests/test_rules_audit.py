"""Audit-mode and time-bounded rules (issue 11): an audit rule records what it would have done
and the next rule decides; a rule outside its active window is not there at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import FRONT_DOOR, NOW, SENDER, Decider, RulesMaker, build_message
from gateway_helpers import RunningGateway, gateway_settings
from mailrouter.model import Action
from mailrouter.rules.ruleset import Ruleset, RulesInvalid

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

ANCHOR = "  - name: crown-court\n"


def _with_rule(tmp_rules: RulesMaker, rule: str) -> Ruleset:
    return tmp_rules({"rules.yaml": (ANCHOR, rule + "\n" + ANCHOR)})


TRY_CCU = (
    "  - name: try-ccu\n"
    "    description: Would Walsall mail be better with the CCU? Watch before acting.\n"
    "    mode: audit\n"
    "    when: {court: [Walsall Magistrates' Court]}\n"
    "    route: ccu\n"
)


def test_an_audit_rule_records_and_does_not_act(route: Decider, tmp_rules: RulesMaker) -> None:
    rules = _with_rule(tmp_rules, TRY_CCU)
    decision = route("URN 20AB1234521 - Walsall MC - R v SMITH", rules=rules)
    assert decision.action is Action.DELIVER and decision.route == "magistrates"
    assert decision.rule == "magistrates"
    assert decision.audit == [{"rule": "try-ccu", "action": "deliver", "route": "ccu"}]
    assert "audit: rule try-ccu would deliver to ccu" in " ".join(decision.reasons)
    assert decision.to_json()["audit"] == decision.audit
    other = route("URN 20AB1234521 - Birmingham MC - R v SMITH", rules=rules)
    assert other.audit == [] and "audit" not in other.to_json()


def test_the_audit_hit_is_journalled(tmp_path: Path, tmp_rules: RulesMaker) -> None:
    rules = _with_rule(tmp_rules, TRY_CCU)
    with RunningGateway(gateway_settings(tmp_path / "var", rules_dir=rules.directory)) as gateway:
        with gateway.smtp() as client:
            client.mail(SENDER)
            client.rcpt(FRONT_DOOR)
            code, text = client.data(build_message("URN 20AB1234521 - Walsall MC - R v SMITH"))
        assert code == 250
        full = gateway.row(text.rsplit(b" ", 1)[1].decode())
    assert full["route"] == "magistrates"
    assert full["audit"] == '[{"rule": "try-ccu", "action": "deliver", "route": "ccu"}]'


@pytest.mark.parametrize(
    "window,fires",
    [
        ("active_until: 2026-11-22", False),  # ended the day before NOW
        ("active_until: 2026-11-23", True),  # a date includes that whole day
        ("active_from: 2026-11-24", False),  # not yet
        ("active_from: 2026-11-23T09:00:00", True),  # London time, an hour before NOW
        ("active_from: 2026-11-23T11:00:00", False),
        ("active_from: 2026-11-01\n    active_until: 2026-11-30", True),
    ],
)
def test_a_rule_applies_only_in_its_window(
    route: Decider, tmp_rules: RulesMaker, window: str, fires: bool
) -> None:
    rule = TRY_CCU.replace("    mode: audit\n", f"    {window}\n")
    decision = route("URN 20AB1234521 - Walsall MC - R v SMITH", rules=_with_rule(tmp_rules, rule))
    assert dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC) == NOW
    assert (decision.route == "ccu") is fires


def test_a_window_that_ends_before_it_starts_is_refused(tmp_rules: RulesMaker) -> None:
    rule = TRY_CCU.replace(
        "    mode: audit\n", "    active_from: 2026-12-01\n    active_until: 2026-11-01\n"
    )
    with pytest.raises(RulesInvalid) as refused:
        _with_rule(tmp_rules, rule)
    assert "active_until: must come after active_from" in str(refused.value.problems[0])
