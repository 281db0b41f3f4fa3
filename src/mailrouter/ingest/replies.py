"""Every SMTP reply the gateway gives, with its RFC 3463 enhanced status code.

One table, so the wire behaviour can be read (and tested) in one place. 4xx means "try again
later" (disk full, a fault on our side); 5xx means "this will never be accepted", with a
reason the sender can act on. `enhance` adds a code to replies the SMTP library writes itself.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Reply(NamedTuple):
    code: int
    status: str  # RFC 3463 enhanced status code
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.status} {self.text}"

    def with_text(self, text: str) -> str:
        return f"{self.code} {self.status} {text}"


SENDER_OK = Reply(250, "2.1.0", "Sender OK")
RECIPIENT_OK = Reply(250, "2.1.5", "Recipient OK")
QUEUED = Reply(250, "2.0.0", "Ok: queued as {id}")
NOT_OUR_ADDRESS = Reply(
    550, "5.1.1", "Recipient not accepted: this gateway takes mail only for its own addresses"
)
SENDER_REFUSED = Reply(550, "5.7.1", "Not accepted: this address is for defence firms on CJSM only")
NULL_SENDER = Reply(
    550, "5.7.1", "Not accepted: bounces and automatic notices are not taken at this address"
)
TLS_FIRST = Reply(530, "5.7.0", "Must issue a STARTTLS command first")
LOOP = Reply(
    554, "5.4.6", "Routing loop detected: the message has already passed through this gateway"
)
TOO_MANY_HOPS = Reply(554, "5.4.6", "Too many Received headers: the message may be looping")
BARE_LINE_ENDING = Reply(
    550, "5.6.0", "Bare CR or LF in the message is not accepted (RFC 5321 2.3.8)"
)
NUL_IN_DATA = Reply(550, "5.6.0", "NUL characters in the message are not accepted")
HEADER_TOO_BIG = Reply(552, "5.3.4", "Message header too big for this gateway")
TOO_BIG = Reply(552, "5.3.4", "Message too big for this gateway")
REJECTED = Reply(550, "5.7.1", "{text}")
BOUNCED = Reply(550, "5.6.0", "{text}")
TEMPORARY_FAILURE = Reply(451, "4.3.0", "Temporary failure on our side, please try again later")
STORAGE_FULL = Reply(452, "4.3.1", "Insufficient system storage, please try again later")
TOO_MANY_SESSIONS = Reply(421, "4.3.2", "Too many connections, please try again later")
TOO_MANY_FROM_CLIENT = Reply(
    421, "4.7.0", "Too many connections from your address, please try again later"
)
SHUTTING_DOWN = Reply(421, "4.3.2", "Service shutting down, please try again later")

# The codes our SMTP library uses without an enhanced status, and the one each means.
_DEFAULT_STATUS = {
    "221": "2.0.0",
    "250": "2.0.0",
    "251": "2.1.5",
    "252": "2.5.0",
    "421": "4.3.2",
    "450": "4.2.0",
    "451": "4.3.0",
    "452": "4.3.1",
    "500": "5.5.2",
    "501": "5.5.4",
    "502": "5.5.1",
    "503": "5.5.1",
    "504": "5.5.4",
    "530": "5.7.0",
    "550": "5.0.0",
    "552": "5.3.4",
    "553": "5.1.3",
    "554": "5.0.0",
    "555": "5.5.4",
}
_HAS_STATUS = re.compile(r"^[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}(?: |$)")
_TOO_MUCH_DATA = "552 Error: Too much mail data"


def enhance(line: str) -> str:
    """Give a reply line an enhanced status code if it has none (RFC 2034 §3)."""
    if line == _TOO_MUCH_DATA:
        return str(TOO_BIG)
    if len(line) < 4 or _HAS_STATUS.match(line):
        return line
    status = _DEFAULT_STATUS.get(line[:3])
    if status is None or line[3] not in " -":
        return line
    rest = line[4:]
    if rest.startswith("Error: "):
        rest = rest[len("Error: ") :]
    return f"{line[:3]}{line[3]}{status} {rest}"


def multiline(reply: Reply, lines: list[str]) -> str:
    """A multi-line reply (RFC 5321 §4.2.1): every line but the last has a hyphen."""
    # Replies go to any client, SMTPUTF8 or not: plain ASCII only.
    lines = [line.encode("ascii", "replace").decode() for line in lines] or [reply.text]
    out = [f"{reply.code}-{reply.status} {line}" for line in lines[:-1]]
    out.append(f"{reply.code} {reply.status} {lines[-1]}")
    return "\r\n".join(out)
