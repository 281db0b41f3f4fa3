"""The nouns of mailrouter: what arrives (Envelope) and what was decided (Decision).

Plain data only: no parsing, no I/O. The decision JSON of DESIGN §3 is produced here, so every
caller (SMTP, IMAP, CLI, tests) prints the same shape.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailrouter.parse.evidence import Note


# A reason quotes text taken from the message only through `quoted`, between “ and ”: what is
# kept about a message for longer than its decision (the journal) drops what is inside.
_QUOTED = re.compile("\u201c[^\u201d]*\u201d")


def quoted(text: str) -> str:
    """Text from the message, as a reason quotes it (see `without_quotes`)."""
    return "\u201c" + text.replace("\u201d", "\u201c") + "\u201d"


def without_quotes(reason: str) -> str:
    """A reason with every quotation of the message's text left out."""
    return _QUOTED.sub("\u201c\u2026\u201d", reason)


class Action(StrEnum):
    DELIVER = "deliver"
    BOUNCE = "bounce"
    REJECT = "reject"
    HOLD = "hold"


class SenderClass(StrEnum):
    CJSM = "cjsm"
    POLICE = "police"
    OTHER = "other"


class CourtType(StrEnum):
    MAGISTRATES = "magistrates"
    CROWN = "crown"


# The required items of seeds/000, in the order DESIGN §3 lists them in `missing`.
REQUIRED_ITEMS: tuple[str, ...] = (
    "urn",
    "court",
    "defendant_name",
    "dob",
    "hearing_date",
    "nature",
)


@dataclass(frozen=True, slots=True)
class Envelope:
    """How a message arrived: the SMTP envelope plus what the edge learnt about the peer.

    `dkim_keys` maps a DKIM key's DNS name (``selector._domainkey.domain``) to its TXT record.
    The edge (SMTP server, CLI) looks keys up before calling decide, so decide itself never
    touches the network; tests pass keys directly.
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    peer_ip: str = "127.0.0.1"
    dkim_keys: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Court:
    name: str
    type: CourtType
    area: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type.value, "area": self.area}


@dataclass(frozen=True, slots=True)
class Defendant:
    name: str | None
    dob: dt.date | None

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "dob": self.dob.isoformat() if self.dob else None}


@dataclass(frozen=True, slots=True)
class Sender:
    address: str
    sender_class: SenderClass
    verified: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "class": self.sender_class.value,
            "verified": self.verified,
        }


@dataclass(slots=True)
class Decision:
    """The outcome for one message; `to_json` is the decision JSON of DESIGN §3."""

    action: Action
    route: str | None
    mailbox: str | None
    sender: Sender
    urn: str | None
    court: Court | None
    defendants: list[Defendant]
    hearing_date: dt.date | None
    nature: str | None
    missing: list[str]
    tags: list[str]
    rule: str
    reasons: list[str]
    # Not part of the JSON, but needed by the edges that act on a decision.
    subject: str = ""
    message_id: str | None = None
    details: dict[str, str] = field(default_factory=dict)  # missing item -> why, for the bounce
    held: str | None = None  # for a hold: a few words on why a person must read it
    # Audit-mode rules that would have acted: {"rule", "action", "route"} each, in order.
    audit: list[dict[str, str | None]] = field(default_factory=list)
    # What the reader found or turned down, for `mailrouter route` only: notes may quote a
    # defendant's name or date of birth, so they never reach logs, the journal or a reply.
    reading: list[Note] = field(default_factory=list)

    def to_json(self, file: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if file is not None:
            out["file"] = file
        out.update(
            action=self.action.value,
            route=self.route,
            mailbox=self.mailbox,
            sender=self.sender.to_json(),
            urn=self.urn,
            court=self.court.to_json() if self.court else None,
            defendants=[d.to_json() for d in self.defendants],
            hearing_date=self.hearing_date.isoformat() if self.hearing_date else None,
            nature=self.nature,
            missing=list(self.missing),
            tags=list(self.tags),
            rule=self.rule,
            reasons=list(self.reasons),
        )
        if self.audit:
            out["audit"] = [dict(hit) for hit in self.audit]
        return out
