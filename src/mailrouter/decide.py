"""decide(envelope, raw_bytes, ruleset, now) -> Decision: the one pure decision core.

Pure: no sockets, files or clock. The SMTP server, the IMAP poller, the CLI and the tests all
call this same function, so `mailrouter route file.eml` shows exactly what the server would
do (with `explain`, it also keeps notes of what was read and why, which the server never
asks for: they may quote a defendant's name). Everything the decision depends on arrives as
an argument: the envelope (with any DKIM keys the edge fetched), the original bytes, the
ruleset, the time, and optionally which URNs were seen recently (for the `resubmission` tag).

The steps, each of which adds its reasons: read the message (parse.mime), check the sender
(policy.sender), read the request (parse.request), tag it (urgency, resubmission), then let the
first matching rule of routing_rules/rules.yaml choose the action and route.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from zoneinfo import ZoneInfo

from mailrouter.model import Action, Decision, Envelope
from mailrouter.parse.mime import MessageView, read_message
from mailrouter.parse.request import Limits, RequestFacts, read_request
from mailrouter.policy.sender import SenderCheck, check_sender
from mailrouter.policy.urgency import is_urgent
from mailrouter.rules.conditions import Facts
from mailrouter.rules.ruleset import CompiledRule, Ruleset

LONDON = ZoneInfo("Europe/London")
NOT_A_GATEWAY_ADDRESS = "not-a-gateway-address"
NO_RULE = "no-rule-matched"


def decide(
    envelope: Envelope,
    raw: bytes,
    ruleset: Ruleset,
    now: dt.datetime,
    *,
    recent_urns: Container[str] = (),
    explain: bool = False,
) -> Decision:
    today = (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).astimezone(LONDON).date()
    view = read_message(raw)
    sender = check_sender(envelope, view, raw, ruleset.senders)
    settings = ruleset.settings

    def read() -> tuple[RequestFacts, tuple[str, ...]]:
        limits = Limits(settings.min_defendant_age, settings.max_defendant_age)
        request = read_request(
            view, ruleset.gazetteer, ruleset.forces, ruleset.vocabulary, today, limits,
            explain=explain,
        )  # fmt: skip
        alternative = view.html_alternative() if request.missing else None
        if alternative is not None:
            # The plain text left something missing; the HTML beside it holds a table, which
            # the plain rendering may have scrambled. Read it too and keep the fuller reading.
            other = read_request(
                alternative, ruleset.gazetteer, ruleset.forces, ruleset.vocabulary, today,
                limits, explain=explain,
            )  # fmt: skip
            if len(other.missing) < len(request.missing):
                other.reasons.append("read from the HTML version, whose table the plain lost")
                request = other
        tags: list[str] = []
        if is_urgent(request.hearing_date, today, settings.urgent_within_working_days):
            tags.append("urgent")
        if request.urn is not None and request.urn in recent_urns:
            tags.append("resubmission")
        return request, tuple(tags)

    facts = Facts(
        sender_class=sender.sender.sender_class,
        sender_verified=sender.sender.verified,
        keyword_lists=ruleset.keyword_lists,
        case_lists=ruleset.case_lists,
        read=read,
    )
    if not any(ruleset.is_front_door(r) for r in envelope.rcpt_tos):
        why = "no recipient is a gateway address; the gateway relays for nobody"
        return _decision(
            ruleset, view, sender, facts, Action.REJECT, None, NOT_A_GATEWAY_ADDRESS, why
        )
    audits: list[tuple[CompiledRule, list[str]]] = []
    fired = ruleset.first_rule(facts, now if now.tzinfo else now.replace(tzinfo=dt.UTC), audits)
    if fired is None:
        why = "no rule matched; held for a person to read"
        decision = _decision(
            ruleset, view, sender, facts, Action.HOLD, ruleset.mailboxes.hold_route, NO_RULE, why
        )
    else:
        rule, conditions = fired
        why = f"rule {rule.name}: {'; '.join(conditions) if conditions else 'always applies'}"
        route = rule.route if rule.action in (Action.DELIVER, Action.HOLD) else None
        decision = _decision(ruleset, view, sender, facts, rule.action, route, rule.name, why)
    for rule, conditions in audits:
        route = rule.route if rule.action in (Action.DELIVER, Action.HOLD) else None
        decision.audit.append({"rule": rule.name, "action": rule.action.value, "route": route})
        would = f"{rule.action.value}{f' to {route}' if route else ''}"
        decision.reasons.insert(
            len(decision.reasons) - 1,
            f"audit: rule {rule.name} would {would} ({'; '.join(conditions) or 'always'})",
        )
    return decision


def _decision(
    ruleset: Ruleset,
    view: MessageView,
    sender: SenderCheck,
    facts: Facts,
    action: Action,
    route: str | None,
    rule: str,
    why: str,
) -> Decision:
    reasons = list(sender.reasons)
    request, tags = facts.reading if facts.was_read else (_UNREAD, ())
    if facts.was_read:
        reasons.extend(request.reasons)
        if tags:
            reasons.append(f"tagged {', '.join(tags)}")
    else:
        reasons.append("the message body was not read: the sender alone decided")
    reasons.append(why)
    held = None
    if action is Action.HOLD:
        held = request.why_unsettled() or rule.replace("-", " ")
    return Decision(
        action=action,
        route=route,
        mailbox=ruleset.routes[route].mailbox if route else None,
        sender=sender.sender,
        urn=request.urn,
        court=request.court,
        defendants=request.defendants,
        hearing_date=request.hearing_date,
        nature=request.nature,
        missing=list(request.missing),
        tags=list(tags),
        rule=rule,
        reasons=reasons,
        subject=view.subject,
        message_id=view.message_id,
        details=request.details,
        held=held,
        reading=request.notes.items,
    )


_UNREAD = RequestFacts()
