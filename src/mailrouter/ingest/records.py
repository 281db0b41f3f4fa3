"""What the gateway writes down about a decided message, whichever way it arrived.

`journal_row`: the decision as the journal keeps it: no names or dates of birth, no subject,
and no text the reasons quote from the message (model.quoted).
`spool_meta`: what the delivery side needs besides the message bytes: the envelope, where the
message came from (for our Received line), the route's subject tag and the decision summary
that becomes the X-Mailrouter-* headers.
"""

from __future__ import annotations

import functools
import json
import re
import string
from typing import Any

from mailrouter.model import Action, Decision, Envelope, without_quotes
from mailrouter.rules.ruleset import Ruleset
from mailrouter.store.journal import QUEUED, REFUSED


def journal_row(
    message_id: str,
    received_at: float,
    peer: str,
    mail_from: str,
    decision: Decision,
    size: int,
    rules_version: str | None = None,
) -> dict[str, Any]:
    delivering = decision.action in (Action.DELIVER, Action.HOLD)
    return {
        "id": message_id,
        "received_at": received_at,
        "peer": peer,
        "sender_domain": address_domain(mail_from),
        "message_id": (decision.message_id or "")[:300] or None,
        "urn": decision.urn,
        "court": decision.court.name if decision.court else None,
        "route": decision.route,
        "mailbox": decision.mailbox,
        "action": decision.action.value,
        "rule": decision.rule,
        "reasons": [without_quotes(reason) for reason in decision.reasons],
        "tags": decision.tags,
        "audit": json.dumps(decision.audit) if decision.audit else None,
        "rules_version": rules_version,
        # For the status page: hearings coming up, and what bounced messages lacked.
        "hearing_date": decision.hearing_date.isoformat() if decision.hearing_date else None,
        "missing": ",".join(decision.missing) or None,
        "size": size,
        "state": QUEUED if delivering else REFUSED,
    }


def spool_meta(
    message_id: str,
    received_at: float,
    decision: Decision,
    ruleset: Ruleset,
    *,
    helo: str | None,
    peer_ip: str,
    protocol: str,
    hostname: str,
    mail_from: str,
    rcpt: list[str],
) -> dict[str, Any]:
    mailboxes = ruleset.mailboxes
    route = decision.route or mailboxes.hold_route
    spec = ruleset.routes[route]
    urn = decision.urn or ""
    if decision.action is Action.HOLD and decision.held and mailboxes.subject_tag_held:
        tag = mailboxes.subject_tag_held.format(why=decision.held, tag=spec.subject_tag, urn=urn)
    else:
        tag = mailboxes.subject_tag_format.format(tag=spec.subject_tag, urn=urn)
    if "urgent" in decision.tags and mailboxes.subject_tag_urgent:
        tag = f"{mailboxes.subject_tag_urgent} {tag}"
    tags = tuple(sorted({r.subject_tag for r in ruleset.routes.values()}))
    return {
        "id": message_id,
        "received_at": received_at,
        "helo": helo,
        "peer_ip": peer_ip,
        "protocol": protocol,
        "hostname": hostname,
        "mail_from": mail_from,
        "rcpt": rcpt,
        "subject_tag": " ".join(tag.replace(" ]", "]").split()),
        "decision": {
            "action": decision.action.value,
            "route": route,
            "mailbox": decision.mailbox,
            "urn": decision.urn,
            "court": decision.court.name if decision.court else None,
            "hearing_date": decision.hearing_date.isoformat() if decision.hearing_date else None,
            "tags": decision.tags,
            "rule": decision.rule,
            "held": decision.held,
            "rules": ruleset.fingerprint,
        },
        "tag_pattern": tag_pattern(
            mailboxes.subject_tag_format,
            mailboxes.subject_tag_held,
            mailboxes.subject_tag_urgent,
            tags,
        ),
    }


@functools.lru_cache(maxsize=16)
def tag_pattern(tag_format: str, held: str, urgent: str, tags: tuple[str, ...]) -> str:
    """A regular expression for any subject tag the gateway writes, so a reply that carries
    one is not tagged again."""
    values = {"tag": "(?:" + "|".join(re.escape(t) for t in tags) + r")\b", "urn": "[A-Za-z0-9]*",
              "why": "[^]]*"}  # fmt: skip
    shapes = [_shape(tag_format, values), _shape(held, values)]
    if urgent:
        shapes.append(_shape(urgent, values))
    return "|".join(f"(?:{shape})" for shape in shapes if shape)


def _shape(template: str, values: dict[str, str]) -> str:
    out = []
    for literal, field, _, _ in string.Formatter().parse(template):
        out.append(re.escape(literal).replace("\\ ", r"\s*"))
        if field is not None:
            out.append(values.get(field, ".*?"))
    return "".join(out)


def envelope_of(meta: dict[str, Any], keys: dict[str, bytes]) -> Envelope:
    """The envelope a spooled or retained message arrived with (see `spool_meta`)."""
    rcpt = tuple(meta.get("rcpt") or ())
    return Envelope(str(meta.get("mail_from", "")), rcpt, str(meta.get("peer_ip", "")), keys)


def address_domain(address: str) -> str | None:
    return address.rpartition("@")[2].lower()[:255] or None if "@" in address else None
