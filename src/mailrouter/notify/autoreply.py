"""RFC 3834 discipline: when an automatic reply may be sent, and where to.

A reply goes to the message's return path (the envelope sender, or in pull mode the
Return-Path header the mailbox's server recorded), never to a null one; never to a message
that is itself automatic (Auto-Submitted other than "no", Exchange's X-Auto-Response-Suppress),
list or bulk mail (List-*, Precedence), a notice of ours (X-Mailrouter-*), or an address that
is a mail system's own (MAILER-DAEMON, postmaster, owner-…, …-request, no-reply).
"""

from __future__ import annotations

import re

from mailrouter.parse.headers import header_block, wanted_fields
from mailrouter.policy.addresses import mailbox_from_header, parse_address

_FIELDS = frozenset(
    {
        "return-path",
        "auto-submitted",
        "precedence",
        "x-auto-response-suppress",
        "list-id",
        "list-post",
        "list-unsubscribe",
        "list-help",
        "x-mailrouter-id",
        "x-mailrouter-notice",
    }
)
_RETURN_PATH = frozenset({"return-path"})
_SYSTEM_LOCAL_PARTS = re.compile(
    r"^(?:mailer-daemon|postmaster|listserv|majordomo|owner-.*|.*-request|.*-owner|"
    r"no-?reply|do-?not-?reply|bounces?(?:[+-].*)?)$",
    re.IGNORECASE,
)


def _text(value: bytes) -> str:
    return " ".join(value.decode("utf-8", "replace").split())


def return_path(raw: bytes) -> str | None:
    """The Return-Path the delivering server recorded: an address, "" for <>, None if absent."""
    block, _ = header_block(raw)
    for _, value in wanted_fields(block, _RETURN_PATH):
        text = _text(value)
        if text.replace(" ", "") == "<>":
            return ""
        spec = mailbox_from_header(text)
        return spec or None
    return None


def refusal(raw: bytes, recipient: str) -> str | None:
    """Why no automatic reply may go to `recipient` about `raw`; None if one may."""
    if not recipient or recipient == "<>":
        return "the return path is null"
    address = parse_address(recipient)
    if address is None or not address.ascii_only:
        return "the return path is not a valid plain-ASCII address"
    if _SYSTEM_LOCAL_PARTS.match(recipient.rpartition("@")[0]):
        return "the return path is a mail system's own address"
    block, _ = header_block(raw)
    for field, value in wanted_fields(block, _FIELDS):
        name, text = field.decode("ascii"), _text(value).lower()
        if name == "auto-submitted" and text.split(";")[0].strip() != "no":
            return "the message is automatic (Auto-Submitted)"
        if name == "precedence" and text in ("bulk", "list", "junk"):
            return f"the message is {text} mail (Precedence)"
        if name == "x-auto-response-suppress" and {"all", "autoreply", "oof"} & set(
            re.split(r"[\s,]+", text)
        ):
            return "the sender asked for no automatic replies"
        if name.startswith("list-"):
            return "the message is list mail"
        if name.startswith("x-mailrouter-"):
            return "the message is one of ours"
    return None
