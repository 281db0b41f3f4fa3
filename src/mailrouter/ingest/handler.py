"""The SMTP handler: the session becomes an Envelope, decide() gives a Decision, the Decision
becomes a reply. Nothing is routed here.

- RCPT: only the gateway's own addresses (550 5.1.1 otherwise: never an open relay); a sender
  that cannot be a defence firm or the police is refused here with 550 5.7.1, before any data.
- DATA: smuggling and loop checks, then decide() (off the event loop for large messages).
  reject → 550 5.7.1 and no other reply; bounce → 550 5.6.0 naming what is missing (the
  sender's own server writes the bounce, so we send no backscatter); deliver or hold → spool
  durably (the journal row inside, recorded by the delivery side), then 250 2.0.0 with the
  gateway id. Refusals are journalled here, before the reply.
- A fault → 451 4.3.0; no room to store the message → 452 4.3.1. Never 250 for a message that
  is not on disk.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import inspect
import ipaddress
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from mailrouter import logs
from mailrouter.decide import decide
from mailrouter.dnskeys import lookup_keys_async
from mailrouter.ingest import checks, replies
from mailrouter.ingest.protocol import NULL_PATH
from mailrouter.ingest.records import address_domain, journal_row, spool_meta
from mailrouter.model import Action, Decision, Envelope, SenderClass
from mailrouter.notices import bounce_paragraphs, reject_text
from mailrouter.policy.addresses import parse_address
from mailrouter.policy.auth import dkim_key_names, peer_is_trusted
from mailrouter.policy.sender import domain_class
from mailrouter.store.spool import new_id

if TYPE_CHECKING:
    from mailrouter.gateway import Gateway

log = logs.get("mailrouter.smtp")

_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class StorageFull(Exception):
    """No room for the message: the sender should try again later (452)."""


class GatewayHandler:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def __dir__(self) -> list[str]:
        # aiosmtpd scans the handler with dir() and inspect.getmembers on every connection,
        # looking for handle_* hooks and auth_* mechanisms: show it just those.
        return _HOOK_NAMES

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        # We take no AUTH (senders are authenticated by relay, DKIM or Authentication-Results),
        # and we do speak PIPELINING and enhanced status codes.
        kept = [line for line in responses[:-1] if not line.startswith("250-AUTH")]
        return [*kept, "250-PIPELINING", "250-ENHANCEDSTATUSCODES", responses[-1]]

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        smtp = self.gateway.settings.smtp
        if smtp.require_tls_from_remote and session.ssl is None and not _loopback(_peer(session)):
            return str(replies.TLS_FIRST)
        envelope.mail_from = address  # "<>" stays "<>": aiosmtpd reads "" as "no MAIL yet"
        envelope.mail_options.extend(options)
        return str(replies.SENDER_OK)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        ruleset = self.gateway.ruleset
        if address == NULL_PATH or not ruleset.is_front_door(address):
            log.info(
                "recipient_refused", peer=_peer(session), recipient_domain=address_domain(address)
            )
            await self._journal_refusal(session, envelope, "rcpt", "not one of our addresses",
                                        address)  # fmt: skip
            return str(replies.NOT_OUR_ADDRESS)
        if envelope.mail_from == NULL_PATH:
            log.info("null_sender_refused", peer=_peer(session))
            await self._journal_refusal(session, envelope, "rcpt", "null sender", address)
            return str(replies.NULL_SENDER)
        sender = parse_address(envelope.mail_from)
        klass = (
            domain_class(sender.domain, ruleset.senders)
            if sender is not None and sender.ascii_only
            else SenderClass.OTHER
        )
        if klass is SenderClass.OTHER:
            log.info(
                "sender_refused",
                peer=_peer(session),
                sender_domain=address_domain(envelope.mail_from),
            )
            await self._journal_refusal(session, envelope, "rcpt",
                                        "not a CJSM or police sender", address)  # fmt: skip
            return replies.SENDER_REFUSED.with_text(reject_text(ruleset.notices))
        if address.lower() not in (r.lower() for r in envelope.rcpt_tos):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
        return str(replies.RECIPIENT_OK)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        gateway = self.gateway
        raw: bytes = envelope.original_content or b""
        started = time.perf_counter()
        refusal = checks.refusal(raw, gateway.settings.smtp.max_received_headers)
        if refusal is not None:
            log.warning("data_refused", peer=_peer(session), reply=str(refusal), size=len(raw))
            await self._journal_refusal(session, envelope, "data", refusal.text, None)
            return str(refusal)

        ruleset = gateway.ruleset  # one ruleset for the whole decision, even across a reload
        peer_ip = _peer(session)
        keys: dict[str, bytes] = {}
        names = dkim_key_names(raw) if ruleset.senders.verify_dkim else []
        if names and not peer_is_trusted(peer_ip, ruleset.senders.trusted_relays):
            keys = await lookup_keys_async(names)
        message_envelope = Envelope(
            envelope.mail_from or "", tuple(envelope.rcpt_tos), peer_ip, keys
        )
        now = dt.datetime.now(dt.UTC)
        deciding = time.perf_counter()
        if len(raw) > gateway.settings.smtp.inline_decide_bytes:
            # Parsing a large message must never stall the other sessions.
            decision = await asyncio.get_running_loop().run_in_executor(
                gateway.decide_pool, _decide, message_envelope, raw, ruleset, now, gateway.recent
            )
        else:
            decision = _decide(message_envelope, raw, ruleset, now, gateway.recent)
        gateway.metrics.observe_decide(time.perf_counter() - deciding)
        gateway.recent.note(decision.urn, now.timestamp())

        message_id = new_id(now.timestamp())
        received_at = now.timestamp()
        mail_from = envelope.mail_from or ""
        row = journal_row(
            message_id, received_at, peer_ip, mail_from, decision, len(raw), ruleset.fingerprint
        )
        if gateway.settings.trace.keep_addresses:
            row["sender"] = mail_from[:320]
        action = decision.action
        meta = spool_meta(
            message_id, received_at, decision, ruleset,
            helo=session.host_name, peer_ip=peer_ip,
            protocol="ESMTPS" if session.ssl is not None else "ESMTP",  # RFC 3848
            hostname=gateway.settings.smtp.hostname, mail_from=mail_from,
            rcpt=list(envelope.rcpt_tos),
        )  # fmt: skip
        meta["journal"] = row
        if keys:  # what the sender check used, so a replay decides the same
            meta["dkim_keys"] = {name: key.decode("ascii", "replace") for name, key in keys.items()}
        if action in (Action.REJECT, Action.BOUNCE):
            await gateway.record_refusal(row, meta, raw)
            _log_decision(message_id, decision, peer_ip, len(raw), started)
            if action is Action.REJECT:
                return replies.REJECTED.with_text(reject_text(ruleset.notices))
            return replies.multiline(replies.BOUNCED, bounce_paragraphs(decision, ruleset.notices))

        try:
            await gateway.accept(message_id, meta, raw)
        except StorageFull:
            log.error("storage_full", id=message_id, size=len(raw))
            return str(replies.STORAGE_FULL)
        _log_decision(message_id, decision, peer_ip, len(raw), started)
        if gateway.settings.notices.acknowledge:
            await _acknowledge(gateway, meta, raw, decision)
        return replies.QUEUED.with_text(f"Ok: queued as {message_id}")

    async def _journal_refusal(
        self, session: Any, envelope: Any, stage: str, reason: str, recipient: str | None
    ) -> None:
        """A refusal before a decision, for trace: domains and the reason, and the sender's
        address only when `trace.keep_addresses` is on. Never a reason to fail the reply."""
        mail_from = envelope.mail_from or ""
        keep = self.gateway.settings.trace.keep_addresses
        row = {
            "at": time.time(),
            "peer": _peer(session),
            "stage": stage,
            "sender_domain": address_domain(mail_from),
            "sender": mail_from[:320] if keep and mail_from else None,
            "recipient_domain": address_domain(recipient) if recipient else None,
            "reason": reason,
        }
        try:
            await self.gateway.journal("record_refusal", row)
        except Exception:
            log.exception("journal_record_failed", stage=stage)

    async def handle_exception(self, error: Exception) -> str:
        if is_storage_error(error):
            log.error("storage_full", error=repr(error)[:200])
            return str(replies.STORAGE_FULL)
        log.error("session_fault", error=repr(error)[:300], exc_info=error)
        return str(replies.TEMPORARY_FAILURE)


_HOOK_NAMES = [name for name in vars(GatewayHandler) if name.startswith(("handle_", "auth_"))]
# aiosmtpd reads handle_EHLO's signature on every connection (to tell its two forms apart);
# computed once here, inspect.signature finds it at once.
GatewayHandler.handle_EHLO.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    GatewayHandler.handle_EHLO
)


async def _acknowledge(
    gateway: Gateway, meta: dict[str, Any], raw: bytes, decision: Decision
) -> None:
    """Queue the optional acknowledgement; the message is safe already, so a fault here is
    logged, never turned into a refusal of a message we hold."""
    try:
        await gateway.notifier.acknowledge(meta, raw, decision, meta["mail_from"])
    except Exception:
        log.exception("acknowledgement_failed", id=meta["id"])


def is_storage_error(error: BaseException) -> bool:
    if isinstance(error, StorageFull):
        return True
    if isinstance(error, OSError) and error.errno in _STORAGE_ERRNOS:
        return True
    return isinstance(error, sqlite3.OperationalError) and "full" in str(error).lower()


def _decide(
    envelope: Envelope, raw: bytes, ruleset: Any, now: dt.datetime, recent: Any
) -> Decision:
    return decide(envelope, raw, ruleset, now, recent_urns=recent)


def _log_decision(
    message_id: str, decision: Decision, peer_ip: str, size: int, started: float
) -> None:
    log.info(
        "decided",
        id=message_id,
        action=decision.action.value,
        route=decision.route,
        rule=decision.rule,
        urn=decision.urn,
        missing=decision.missing or None,
        tags=decision.tags or None,
        sender_domain=address_domain(decision.sender.address),
        peer=peer_ip,
        size=size,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )


def _peer(session: Any) -> str:
    peer = getattr(session, "peer", None)
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "")


def _loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip.split("%", 1)[0]).is_loopback
    except ValueError:
        return False
