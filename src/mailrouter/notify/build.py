"""The notices themselves, as the bytes that go on the wire.

Every value that comes from a message (its Message-ID, URN, the reason a delivery failed) is
made one line of printable text before it reaches a header or a body (`notices.clean`), and
headers are set through the standard library's EmailMessage, which refuses a line break in a
value: nothing a sender writes can add a header to a notice. No notice repeats a defendant's
name or date of birth, or the body of the message it answers.

- bounce_notice: pull mode's bounce, the same words as the SMTP refusal (notices.yaml);
- acknowledgement: where a verified CJSM sender's message went, with the gateway reference;
- delivery_status: RFC 3464 multipart/report for a message that failed for good after its
  250, carrying the original's header block only (text/rfc822-headers), never its body.
All carry Auto-Submitted: auto-replied (RFC 3834) and X-Mailrouter-Notice, which our own
loop check refuses, so a notice that comes back is never routed or answered again.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import NamedTuple

from mailrouter.model import Decision
from mailrouter.notices import bounce_lines, bounce_summary, clean
from mailrouter.parse.headers import header_block
from mailrouter.rules.schema import Notices

_MSG_ID = re.compile(r"<[^<>\s@]{1,250}@[^<>\s@]{1,250}>")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_CODE = re.compile(r"^\s*([45]\d\d)\b")


class Origin(NamedTuple):
    """The message a notice is about, as far as a notice may speak of it."""

    gateway_id: str
    message_id: str | None  # its Message-ID, for In-Reply-To and References
    received_at: float


class Sender(NamedTuple):
    """Who a notice is from."""

    address: str
    name: str
    hostname: str  # our host name, for Message-IDs and the DSN's Reporting-MTA


def bounce_notice(
    decision: Decision, text: Notices, origin: Origin, to: str, sender: Sender, now: dt.datetime
) -> bytes:
    body = "\n".join(bounce_lines(decision, text))
    body += f"\n\nGateway reference: {origin.gateway_id}\n"
    subject = "Auto: " + bounce_summary(decision, text)
    return _reply("bounce", subject, body, origin, to, sender, now)


def acknowledgement(
    origin: Origin,
    to: str,
    sender: Sender,
    now: dt.datetime,
    *,
    urn: str | None,
    team: str,
    route: str,
    hearing_date: str | None,
) -> bytes:
    urn_text = clean(urn or "") or "(no URN)"
    lines = [
        f"Your email was received by the CPS defence mail gateway and passed to the {clean(team)}.",
        "",
        f"URN: {urn_text}",
        f"Route: {clean(route)}",
    ]
    if hearing_date:
        lines.append(f"Hearing date: {clean(hearing_date)}")
    lines += [
        f"Gateway reference: {origin.gateway_id}",
        "",
        "Please quote the URN in any further email about this case. This is an automatic",
        "acknowledgement: please do not reply to it.",
    ]
    subject = f"Auto: received - URN {urn_text} - {clean(team)}"
    return _reply("ack", subject, "\n".join(lines) + "\n", origin, to, sender, now)


def delivery_status(
    origin: Origin,
    to: str,
    original_recipient: str,
    original: bytes,
    reason: str,
    sender: Sender,
    now: dt.datetime,
) -> bytes:
    """An RFC 3464 report that the message could not be delivered (Action: failed)."""
    reason = clean(reason)[:400] or "delivery failed"
    hostname = clean(sender.hostname)
    status = _status(reason)
    boundary = f"=_mailrouter_{secrets.token_hex(12)}"
    headers = _headers(
        "dsn",
        "Undelivered: your message to the CPS could not be delivered",
        origin,
        to,
        Sender(f"MAILER-DAEMON@{hostname}", "Mail Delivery System", hostname),
        now,
    )
    headers["Content-Type"] = (
        f'multipart/report; report-type=delivery-status; boundary="{boundary}"'
    )
    human = (
        "Your message reached the CPS defence mail gateway, which accepted it, but it could\r\n"
        "not be delivered to the team's mailbox and the gateway has stopped trying.\r\n"
        "Please send it again, or telephone the CPS office if the matter is urgent.\r\n\r\n"
        f"Gateway reference: {origin.gateway_id}\r\n"
        f"Reason: {reason}\r\n"
    )
    arrival = format_datetime(dt.datetime.fromtimestamp(origin.received_at, dt.UTC))
    recipient_fields = [
        f"Final-Recipient: rfc822; {clean(original_recipient)}",
        "Action: failed",
        f"Status: {status}",
    ]
    reply_code = _REPLY_CODE.match(reason)
    if reply_code is not None:
        recipient_fields.append(f"Diagnostic-Code: smtp; {reason}")
    else:
        recipient_fields.append(f"X-Mailrouter-Diagnostic: {reason}")
    recipient_fields.append(f"Last-Attempt-Date: {format_datetime(now)}")
    report = "\r\n".join(
        [f"Reporting-MTA: dns; {hostname}", f"Arrival-Date: {arrival}", "", *recipient_fields]
    )
    block, _ = header_block(original)
    original_headers = block.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    parts = [
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n"
        f"Content-Description: Notification\r\n\r\n{human}\r\n".encode("ascii", "replace"),
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n"
        f"Content-Description: Delivery report\r\n\r\n{report}\r\n\r\n".encode("ascii", "replace"),
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n"
        f"Content-Description: Undelivered message headers\r\n\r\n".encode("ascii")
        + original_headers
        + b"\r\n\r\n",
        f"--{boundary}--\r\n".encode("ascii"),
    ]
    preamble = b"This is a MIME-encapsulated delivery status report.\r\n\r\n"
    head = b"".join(SMTP.fold_binary(name, value) for name, value in headers.items())
    return head + b"\r\n" + preamble + b"".join(parts)


def _reply(
    kind: str,
    subject: str,
    body: str,
    origin: Origin,
    to: str,
    sender: Sender,
    now: dt.datetime,
) -> bytes:
    message = _headers(kind, subject, origin, to, sender, now)
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    return message.as_bytes(policy=SMTP)


def _headers(
    kind: str, subject: str, origin: Origin, to: str, sender: Sender, now: dt.datetime
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((clean(sender.name), clean(sender.address)))
    message["To"] = f"<{clean(to)}>"
    message["Subject"] = clean(subject)[:200]
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{origin.gateway_id}.{kind}@{clean(sender.hostname)}>"
    reference = _msg_id(origin.message_id)
    if reference is not None:
        message["In-Reply-To"] = reference
        message["References"] = reference
    message["Auto-Submitted"] = "auto-replied"
    message["X-Mailrouter-Notice"] = f"{kind}; {origin.gateway_id}"
    message["MIME-Version"] = "1.0"
    return message


def _msg_id(value: str | None) -> str | None:
    """The Message-ID if it is one well-formed msg-id, else None (never a piece of one)."""
    if not value:
        return None
    found = _MSG_ID.fullmatch(clean(value))
    return found.group(0) if found is not None and found.group(0).isascii() else None


def _status(reason: str) -> str:
    """The RFC 3463 code the reason carries (a 5.x.x from the far end), else 5.0.0."""
    found = _STATUS.search(reason)
    if found is not None and found.group(1) == "5":
        return found.group(0)
    return "5.0.0"
