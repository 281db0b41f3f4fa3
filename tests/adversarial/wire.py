"""A raw SMTP client for attacks: exact bytes on the wire, any source address on loopback.

smtplib rewrites line endings and dots; an attack must send precisely what it means to. The
source may be any 127.0.0.0/8 address (Linux routes them all to lo), so a test can play
several clients: attackers from one address and a canary from another.
"""

from __future__ import annotations

import socket
import time

from conftest import FRONT_DOOR, SENDER, build_message

ATTACKER = "127.0.0.1"
CANARY = "127.0.0.2"


class Wire:
    def __init__(self, port: int, source: str = ATTACKER, timeout: float = 30) -> None:
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
        )
        self.reader = self.sock.makefile("rb")

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.reader.close()
            self.sock.close()
        except OSError:
            pass

    def reply(self) -> tuple[int, bytes]:
        """One reply, all its lines: (code, the text of its last line)."""
        while True:
            line = self.reader.readline()
            if not line:
                return 0, b""
            if line[3:4] != b"-":
                return int(line[:3]), line[4:].rstrip(b"\r\n")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def cmd(self, line: str | bytes) -> tuple[int, bytes]:
        self.send((line.encode("utf-8") if isinstance(line, str) else line) + b"\r\n")
        return self.reply()

    def greet(self, name: str = "attacker.test") -> Wire:
        assert self.reply()[0] == 220
        assert self.cmd(f"EHLO {name}")[0] == 250
        return self

    def transaction(
        self, data: bytes, sender: str = SENDER, rcpt: str = FRONT_DOOR
    ) -> tuple[int, bytes]:
        """MAIL, RCPT, DATA and `data` exactly as given, then CRLF.CRLF: the final reply."""
        code, text = self.cmd(f"MAIL FROM:<{sender}>")
        if code != 250:
            return code, text
        return self.transaction_after_mail(data, rcpt)

    def transaction_after_mail(self, data: bytes, rcpt: str = FRONT_DOOR) -> tuple[int, bytes]:
        """RCPT, DATA and `data` once MAIL has been taken: the final reply."""
        code, text = self.cmd(f"RCPT TO:<{rcpt}>")
        if code != 250:
            return code, text
        code, text = self.cmd("DATA")
        if code != 354:
            return code, text
        ending = b"" if data.endswith(b"\r\n") else b"\r\n"
        self.send(data + ending + b".\r\n")
        return self.reply()


def deliver(port: int, data: bytes, source: str = ATTACKER, **envelope: str) -> tuple[int, bytes]:
    """One message in its own session: the final reply, or the greeting if it was not 220."""
    with Wire(port, source) as wire:
        code, text = wire.reply()
        if code != 220:
            return code, text
        assert wire.cmd("EHLO client.example")[0] == 250
        return wire.transaction(data, **envelope)


def canary(port: int, source: str = CANARY, raw: bytes | None = None) -> tuple[int, float]:
    """A normal defence message from another client: (its final reply code, seconds from
    connecting to that reply; 0 when the connection failed)."""
    started = time.perf_counter()
    try:
        code, _ = deliver(port, raw or build_message(), source)
    except OSError:
        code = 0
    return code, time.perf_counter() - started
