"""Fuzzing in the suite (bounded; `make fuzz SECONDS=…` runs the atheris harnesses in fuzz/
for longer): decide returns a decision for every input, and the DATA reader with the checks
before decide refuses or passes every byte stream without raising."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FRONT_DOOR, NOW, SENDER, STANDARD_BODY
from mailrouter.decide import decide
from mailrouter.ingest import checks
from mailrouter.ingest.data import DataReader
from mailrouter.model import Action, Envelope
from mailrouter.rules.ruleset import Ruleset

CHARSETS = st.sampled_from(
    ["utf-8", "us-ascii", "iso-8859-1", "windows-1252", "undefined", "punycode", "idna",
     "utf-16", "utf-7", "base64", "rot13", "shift_jis", "x-bogus", "utf-8\x00", ""]
)  # fmt: skip
ENCODINGS = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", ""])
TEXT = st.text(max_size=200) | st.sampled_from(STANDARD_BODY.splitlines())


@st.composite
def header_lines(draw: st.DrawFn) -> bytes:
    name = draw(
        st.sampled_from(
            [
                "Subject",
                "From",
                "To",
                "Content-Type",
                "X-Any",
                "Authentication-Results",
                "DKIM-Signature",
                "Message-ID",
            ]
        )
    )
    value = draw(
        TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))
        | st.builds(lambda c, t: f"=?{c}?q?{t}?=".encode("utf-8", "replace"), CHARSETS, TEXT)
        | st.binary(max_size=80)
    )  # fmt: skip
    space = draw(st.sampled_from([b"", b" ", b"\t"]))
    return name.encode() + space + b": " + value


@st.composite
def parts(draw: st.DrawFn, depth: int = 0) -> bytes:
    ctype = draw(
        st.sampled_from(
            [
                "text/plain",
                "text/html",
                "application/pdf",
                "multipart/mixed",
                "multipart/alternative",
                "message/rfc822",
                "text/x-odd",
            ]
        )
    )
    charset = draw(CHARSETS)
    encoding = draw(ENCODINGS)
    if ctype.startswith("multipart/") and depth < 3:
        inner = draw(st.lists(parts(depth + 1), max_size=3))
        body = b"".join(b"--zz%d\r\n" % depth + p + b"\r\n" for p in inner)
        body += b"--zz%d--\r\n" % depth
        head = f'Content-Type: {ctype}; boundary="zz{depth}"'
    else:
        body = draw(
            TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")) | st.binary(max_size=300)
        )
        head = f"Content-Type: {ctype}; charset={charset}\r\nContent-Transfer-Encoding: {encoding}"
    return head.encode("utf-8", "replace") + b"\r\n\r\n" + body


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(header_lines(), max_size=8))
    sender = f"From: A <{SENDER}>".encode()
    return b"\r\n".join([sender, *headers, draw(parts())])


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(messages() | st.binary(max_size=2000))
def test_decide_returns_a_decision_for_every_input(ruleset: Ruleset, raw: bytes) -> None:
    envelope = Envelope(SENDER, (FRONT_DOOR,), "127.0.0.1", {})
    decision = decide(envelope, raw, ruleset, NOW)
    assert decision.action in tuple(Action)
    checks.refusal(raw, 50)  # and the checks before it never raise either


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.binary(max_size=60) | st.sampled_from(
    [b"\r\n.\r\n", b"\n.\n", b"\r\n.", b".\r\n", b"\x00", b"\r", b"\n", b"..\r\n"]), max_size=30),
    st.integers(1, 7))  # fmt: skip
def test_the_data_reader_ends_or_refuses_every_stream(chunks: list[bytes], step: int) -> None:
    async def run() -> None:
        reader = asyncio.StreamReader(limit=64)
        stream = b"".join(chunks) + b"\r\n.\r\n"  # always an end, maybe after false ones
        for start in range(0, len(stream), step):
            reader.feed_data(stream[start : start + step])
        reader.feed_eof()
        data = DataReader(10_000, 1_000)
        try:
            content = await data.read(reader)
        except asyncio.IncompleteReadError:
            return  # the stream ended inside a line read line by line: the session ends
        checks.refusal(content, 50)

    asyncio.run(run())
