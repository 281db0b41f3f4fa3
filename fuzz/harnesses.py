"""Coverage-guided fuzzing with atheris (libFuzzer for Python): `make fuzz SECONDS=600`.

Three targets, each must never raise:
- `decide`: any bytes as a message, decided with the bundled rules;
- `mime`: messages built from the fuzzer's choices along MIME's grammar (header fields in any
  syntax, encoded words, every codec name Python knows as a charset, transfer encodings,
  nested multiparts), which reach deep code that raw bytes rarely do;
- `data`: any bytes as an SMTP DATA stream, arriving in pieces of any size, read by the
  gateway's DATA reader, checked, and decided when the checks let it through.

    python fuzz/harnesses.py decide -max_total_time=300 CORPUS_DIR
Seeds come from ../shared/corpus (copied by fuzz/run.py into a scratch corpus, which libFuzzer
then grows). A crash is written as `crash-<sha1>` in the working directory: keep it, turn it
into a test, fix it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import encodings.aliases
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["mailrouter"]):
    from mailrouter.decide import decide
    from mailrouter.ingest import checks
    from mailrouter.ingest.data import DataReader
    from mailrouter.model import Envelope
    from mailrouter.rules.ruleset import load_ruleset

RULES = load_ruleset(Path(__file__).resolve().parents[1] / "routing_rules")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
SENDER = "a.solicitor@smithlaw.co.uk.cjsm.net"
ENVELOPE = Envelope(SENDER, ("defence.westmidlands@cps.gov.uk",), "127.0.0.1", {})


def decide_one(data: bytes) -> None:
    decide(ENVELOPE, data, RULES, NOW)


CHARSETS = sorted(
    set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
    | {"undefined", "punycode", "idna", "utf-8", "x-unknown", ""}
)  # fmt: skip
FIELDS = [
    "Subject",
    "From",
    "To",
    "Message-ID",
    "Authentication-Results",
    "DKIM-Signature",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "X-Mailrouter-Id",
]
TYPES = [
    "text/plain",
    "text/html",
    "multipart/mixed",
    "multipart/alternative",
    "message/rfc822",
    "application/pdf",
    "text/x-odd",
    "garbage",
]
TRANSFER = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uue", ""]


def _pick(provider: atheris.FuzzedDataProvider, options: list[str]) -> str:
    return options[provider.ConsumeIntInRange(0, len(options) - 1)]


def _text(provider: atheris.FuzzedDataProvider, most: int) -> bytes:
    return provider.ConsumeBytes(provider.ConsumeIntInRange(0, most))


def _value(provider: atheris.FuzzedDataProvider) -> bytes:
    if provider.ConsumeBool():
        mode = b"q" if provider.ConsumeBool() else b"b"
        charset = _pick(provider, CHARSETS).encode()
        return (
            b"=?"
            + charset
            + b"?"
            + mode
            + b"?"
            + _text(provider, 40)
            + b"?= "
            + _text(provider, 20)
        )
    return _text(provider, 80)


def _part(provider: atheris.FuzzedDataProvider, depth: int) -> bytes:
    ctype = _pick(provider, TYPES)
    if ctype.startswith("multipart/") and depth < 4:
        boundary = b"b%d" % depth
        head = b"Content-Type: " + ctype.encode() + b'; boundary="' + boundary + b'"'
        body = b"".join(
            b"--" + boundary + b"\r\n" + _part(provider, depth + 1) + b"\r\n"
            for _ in range(provider.ConsumeIntInRange(0, 3))
        )
        return head + b"\r\n\r\n" + body + b"--" + boundary + b"--\r\n"
    head = (
        b"Content-Type: " + ctype.encode() + b"; charset=" + _pick(provider, CHARSETS).encode()
        + b"\r\nContent-Transfer-Encoding: " + _pick(provider, TRANSFER).encode()
    )  # fmt: skip
    return head + b"\r\n\r\n" + _text(provider, 400)


def mime_one(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    fields = [b"From: A <" + SENDER.encode() + b">"]
    for _ in range(provider.ConsumeIntInRange(0, 6)):
        space = b" " if provider.ConsumeBool() else b""
        fields.append(_pick(provider, FIELDS).encode() + space + b": " + _value(provider))
    decide(ENVELOPE, b"\r\n".join(fields) + b"\r\n" + _part(provider, 0), RULES, NOW)


def data_one(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    step = provider.ConsumeIntInRange(1, 4096)
    stream = provider.ConsumeBytes(provider.remaining_bytes()) + b"\r\n.\r\n"

    async def run() -> bytes | None:
        reader = asyncio.StreamReader(limit=1024)
        for start in range(0, len(stream), step):
            reader.feed_data(stream[start : start + step])
        reader.feed_eof()
        try:
            return await DataReader(1_000_000, 65_536).read(reader)
        except asyncio.IncompleteReadError:
            return None  # the stream ended inside a line: the session would end

    content = asyncio.run(run())
    if content and checks.refusal(content, 50) is None:
        decide(ENVELOPE, content, RULES, NOW)


TARGETS = {"decide": decide_one, "mime": mime_one, "data": data_one}


def main() -> None:
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
