"""The words sent back to a sender, rendered from routing_rules/notices.yaml.

A bounce names each missing item, says why it counts as missing, and shows a correct subject
and body. It is used as the SMTP refusal text (so every line is short, ASCII-safe and free of
control characters) and, in pull mode, as the body of a notice mail. It never contains a
defendant's name or date of birth, and never echoes the message back.
"""

from __future__ import annotations

import re
import textwrap

from mailrouter.model import Decision
from mailrouter.parse.request import OUTSIDE_AREA
from mailrouter.rules.schema import BounceText, Notices

ITEM_NAMES = {
    "urn": "URN",
    "court": "court centre",
    "defendant_name": "defendant's name",
    "dob": "date of birth",
    "hearing_date": "hearing date",
    "nature": "nature of request",
}
EXAMPLE_URN = "20AB1234521"
EXAMPLE_COURT = "Birmingham Magistrates' Court"
WIDTH = 76
SMTP_LINE = 440  # reply lines may be 512 octets (RFC 5321 §4.5.3.1.5) with code and status
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def clean(text: str) -> str:
    """One line of text safe to put in a header, an SMTP reply or a notice."""
    return " ".join(_UNSAFE.sub(" ", text).split())


def items_phrase(missing: list[str]) -> str:
    return ", ".join(ITEM_NAMES.get(item, item) for item in missing)


def bounce_summary(decision: Decision, notices: Notices) -> str:
    return clean(notices.bounce.summary.format(items=items_phrase(decision.missing)))


def bounce_paragraphs(decision: Decision, notices: Notices) -> list[str]:
    """The bounce as paragraphs, one line each: for SMTP replies, where the sender's mail
    server rewraps the text itself (Postfix joins reply lines into one paragraph)."""
    text = notices.bounce
    out = [bounce_summary(decision, notices), clean(text.intro)]
    out.extend("- " + line for line in _item_lines(decision, text))
    if not _outside_area(decision, text):
        out.append(clean(text.example_heading) + " " + _example_subject(decision, notices))
        body = " / ".join(clean(line) for line in text.example_body.strip().splitlines())
        out.append(f"Body: {body}")
    if text.closing:
        out.append(clean(text.closing))
    return [piece for paragraph in out for piece in textwrap.wrap(paragraph, SMTP_LINE)]


def bounce_lines(decision: Decision, notices: Notices) -> list[str]:
    """The full bounce text as lines of at most WIDTH characters (for notice mail)."""
    text = notices.bounce
    out: list[str] = [bounce_summary(decision, notices), ""]
    out.extend(textwrap.wrap(clean(text.intro), WIDTH))
    for line in _item_lines(decision, text):
        out.extend(textwrap.wrap(line, WIDTH, initial_indent="- ", subsequent_indent="  "))
    if not _outside_area(decision, text):
        out.append("")
        out.append(clean(text.example_heading))
        out.append("  " + _example_subject(decision, notices))
        out.extend("  " + clean(line) for line in text.example_body.strip().splitlines())
    if text.closing:
        out.append("")
        out.extend(textwrap.wrap(clean(text.closing), WIDTH))
    return out


def _item_lines(decision: Decision, text: BounceText) -> list[str]:
    """One line per missing item; a court outside the area gets the outside-area text."""
    lines = []
    for item in decision.missing:
        template = text.items.get(item)  # type: ignore[call-overload]
        if item == "court" and _outside_area(decision, text):
            template = text.outside_area
        if template is not None:
            lines.append(clean(template.format(detail=clean(decision.details.get(item, "")))))
    return lines


def _outside_area(decision: Decision, text: BounceText) -> bool:
    return bool(text.outside_area) and OUTSIDE_AREA in decision.details


def _example_subject(decision: Decision, notices: Notices) -> str:
    values = {
        "urn": decision.urn or EXAMPLE_URN,
        "court": decision.court.name if decision.court else EXAMPLE_COURT,
    }
    return clean(notices.bounce.example_subject.format(**values))


def reject_text(notices: Notices) -> str:
    return clean(notices.reject)
