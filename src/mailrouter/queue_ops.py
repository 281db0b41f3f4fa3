"""What a mail admin does to the queue by hand (Postfix's postsuper and postcat): decide a
message again with the rules and mailboxes as they are now, delete one with a reason, show one.

Each works on the journal and the spool directly, so it works whether or not the gateway is
running: a message is first taken (held still, so no delivery starts meanwhile), then changed,
then queued again. Every step is in the journal's attempts log, with the operator's reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mailrouter.decide import decide
from mailrouter.dnskeys import lookup_keys
from mailrouter.ingest.records import envelope_of, journal_row, spool_meta
from mailrouter.model import Action
from mailrouter.policy.auth import dkim_key_names, peer_is_trusted
from mailrouter.rules.ruleset import Ruleset
from mailrouter.store.journal import Journal
from mailrouter.store.spool import MessageSpool


def requeue(journal: Journal, spool: MessageSpool, ruleset: Ruleset, message_id: str) -> str:
    """Decide `message_id` again and queue it for now; one line saying what happened."""
    now = dt.datetime.now(dt.UTC)
    if not spool.exists(message_id):
        return f"{message_id}: not in the spool (delivered, deleted or never accepted)"
    if not journal.take_for_ops(message_id, now.timestamp(), "taken to be decided again"):
        return f"{message_id}: not queued or parked (being delivered, or done with)"
    meta, raw = spool.read(message_id)
    before = meta.get("decision", {})
    envelope = envelope_of(meta, _keys(raw, str(meta.get("peer_ip", "")), ruleset))
    decision = decide(envelope, raw, ruleset, now)
    if decision.action not in (Action.DELIVER, Action.HOLD):
        # Accepted once, so never refused now: a person looks at it.
        decision.reasons.append(
            f"decided again as {decision.action.value}, after it was accepted: held"
        )
        decision.action, decision.route = Action.HOLD, ruleset.mailboxes.hold_route
        decision.mailbox = ruleset.routes[decision.route].mailbox
    fresh = spool_meta(
        message_id, float(meta["received_at"]), decision, ruleset,
        helo=meta.get("helo"), peer_ip=str(meta.get("peer_ip", "")),
        protocol=str(meta.get("protocol", "ESMTP")), hostname=str(meta.get("hostname", "")),
        mail_from=envelope.mail_from, rcpt=list(envelope.rcpt_tos),
    )  # fmt: skip
    row = journal_row(message_id, float(meta["received_at"]), str(meta.get("peer_ip", "")),
                      envelope.mail_from, decision, len(raw), ruleset.fingerprint)  # fmt: skip
    fresh["journal"] = row
    spool.write(message_id, fresh, raw)
    was = _where(before.get("action"), before.get("route"), before.get("mailbox"))
    now_at = _where(decision.action.value, decision.route, decision.mailbox)
    journal.redecided(message_id, row, now.timestamp(), f"was {was}; now {now_at}")
    return f"{message_id}: decided again: {now_at} (was {was}); queued for delivery now"


def delete(journal: Journal, spool: MessageSpool, message_id: str, reason: str) -> str:
    now = dt.datetime.now(dt.UTC).timestamp()
    if not journal.take_for_ops(message_id, now, f"taken to be deleted: {reason}"):
        return f"{message_id}: not queued or parked (being delivered, or done with)"
    journal.delete_by_hand(message_id, now, reason)
    spool.remove(message_id)
    return f"{message_id}: deleted ({reason}); its journal row stays"


def show(spool: MessageSpool, message_id: str) -> tuple[dict[str, Any], bytes]:
    """The spooled message: its metadata and its bytes as received."""
    return spool.read(message_id)


def _keys(raw: bytes, peer_ip: str, ruleset: Ruleset) -> dict[str, bytes]:
    """DKIM keys, as the SMTP side looked them up, for a sender that proved itself that way."""
    names = dkim_key_names(raw) if ruleset.senders.verify_dkim else []
    if names and not peer_is_trusted(peer_ip, ruleset.senders.trusted_relays):
        return lookup_keys(names)
    return {}


def _where(action: object, route: object, mailbox: object) -> str:
    return f"{action} to {route} <{mailbox}>" if route else str(action)
