"""Whatever arrives, decide returns a well-formed Decision and never raises (hypothesis)."""

from __future__ import annotations

import datetime as dt
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, FRONT_DOOR, NOW, SENDER, build_message
from mailrouter.decide import decide
from mailrouter.model import Action, Decision, Envelope
from mailrouter.rules.ruleset import Ruleset

SAMPLES = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
ENVELOPE = Envelope(SENDER, (FRONT_DOOR,), "127.0.0.1")
URN_SHAPE = re.compile(r"^\d\d[A-Z][A-Z0-9]\d{7}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Fragments that steer random bytes into the parser's interesting corners.
FRAGMENTS = [
    b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"\x00", b"\xff\xfe", b"\xe2\x80", b"=?utf-8?q?=0A?=",
    b"=?x?b?####?=", b"Content-Type: multipart/mixed; boundary=\"b\"\r\n", b"\r\n--b\r\n",
    b"\r\n--b--\r\n", b"Content-Transfer-Encoding: base64\r\n", b"Content-Transfer-Encoding: "
    b"quoted-printable\r\n", b"=\r\n", b"=ZZ", b"<blockquote>", b"<!--", b"<style>", b"</td>",
    b"From: ", b"Subject: ", b"DOB: ", b"Defendant: ", b"20 AB 12345 21", b"31/02/2026",
    b"Birmingham", b"MC", b"charset=\"x-bogus\"", b"format=flowed", b"-----Original Message-----",
]  # fmt: skip


def check(decision: Decision) -> None:
    assert decision.action in Action
    if decision.action in (Action.BOUNCE, Action.REJECT):
        assert decision.route is None and decision.mailbox is None
    else:
        assert decision.route is not None and decision.mailbox is not None
    assert decision.urn is None or URN_SHAPE.match(decision.urn)
    assert not CONTROL.search(decision.subject)
    for reason in decision.reasons:
        assert "\n" not in reason and "\r" not in reason
    json.dumps(decision.to_json(file="x.eml"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes(ruleset: Ruleset, raw: bytes) -> None:
    check(decide(ENVELOPE, raw, ruleset, NOW))


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "fragment"]))
        at = draw(st.integers(0, len(raw)))
        if kind == "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif kind == "delete":
            del raw[at : at + draw(st.integers(1, 200))]
        elif kind == "replace" and at < len(raw):
            raw[at] = draw(st.integers(0, 255))
        elif kind == "duplicate":
            raw[at:at] = raw[at : at + draw(st.integers(1, 300))]
        else:
            raw[at:at] = draw(st.sampled_from(FRAGMENTS))
    return bytes(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples())
def test_mutated_corpus_messages(ruleset: Ruleset, raw: bytes) -> None:
    check(decide(ENVELOPE, raw, ruleset, NOW))


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=TEXT,
    body=TEXT,
    charset=st.sampled_from(["utf-8", "windows-1252", "iso-8859-1", "us-ascii", "x-bogus"]),
    encoding=st.sampled_from(["8bit", "quoted-printable", "base64", "7bit", "x-bogus"]),
    html=st.booleans(),
    peer=st.sampled_from(["127.0.0.1", "203.0.113.9", "::1", "bogus"]),
    now=st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2090, 1, 1), timezones=st.just(dt.UTC)),
)
def test_structured_messages(
    ruleset: Ruleset,
    subject: str,
    body: str,
    charset: str,
    encoding: str,
    html: bool,
    peer: str,
    now: dt.datetime,
) -> None:
    payload = body.encode("utf-8", "surrogatepass")
    raw = build_message(
        subject.replace("\n", " ").replace("\r", " "),
        body_bytes=payload,
        content_type=f"text/{'html' if html else 'plain'}; charset={charset}",
        encoding=encoding,
    )
    check(decide(Envelope(SENDER, (FRONT_DOOR,), peer), raw, ruleset, now))
