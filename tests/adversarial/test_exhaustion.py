"""Resource exhaustion (SECURITY.md "Resource exhaustion"): slow clients, connection floods,
messages that are expensive to read, many DKIM signatures naming dead name servers, many large
messages at once. While each runs, a normal message from another client still gets its 250
promptly, the gateway keeps serving, and nothing accepted is lost.

The gateway here trusts one relay (127.0.0.2) and one authserv-id; attackers come from other
loopback addresses, and the canary (127.0.0.3) is an ordinary outside sender whose message an
Authentication-Results header from the trusted server vouches for.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dkim
import dns.asyncresolver
import pytest

from conftest import SENDER, STANDARD_BODY, KeyPair, build_message, copy_rules
from gateway_helpers import RunningGateway, delivered_files, gateway_settings, wait_for
from wire import Wire, canary, deliver

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

RELAY, OUTSIDER = "127.0.0.2", "127.0.0.3"
DOMAIN = SENDER.rpartition("@")[2]
VOUCHED = f"Authentication-Results: mx.cps.test; dmarc=pass header.from={DOMAIN}"
# A bound loose enough for a busy test machine; the figures measured are in the issue notes.
PROMPT = 3.0


def _worst(results: list[tuple[int, float]], attack: str) -> float:
    """The slowest canary's seconds to its 250, printed for the notes (`pytest -s`)."""
    worst = max(seconds for _, seconds in results)
    print(f"\n{attack}: {len(results)} canaries, worst 250 after {worst:.3f} s")
    return worst


def _rules(tmp: Path) -> Path:
    return copy_rules(tmp / "routing_rules", [
        ("senders.yaml", "  - 127.0.0.0/8\n  - ::1/128\n", f"  - {RELAY}/32\n"),
        ("senders.yaml", "trusted_authserv_ids: []", "trusted_authserv_ids: [mx.cps.test]"),
    ])  # fmt: skip


def outsider_canary(port: int) -> tuple[int, float]:
    return canary(port, OUTSIDER, build_message(extra_headers=[VOUCHED]))


@pytest.fixture
def gateway(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RunningGateway]:
    smtp = {"max_sessions": 60, "max_sessions_per_client": 10, "relay_reserve": 10,
            "stress_timeout": 2.0, **getattr(request, "param", {})}  # fmt: skip
    settings = gateway_settings(tmp_path / "var", rules_dir=_rules(tmp_path), smtp=smtp)
    with RunningGateway(settings) as running:
        assert outsider_canary(running.port)[0] == 250  # the set-up itself works
        yield running


def _open(port: int, source: str) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    try:
        greeting = sock.recv(200)
    except OSError:
        greeting = b""
    return sock, greeting


class Trickle:
    """Keep sockets busy the slowloris way: one byte of a command at a time."""

    def __init__(self, sockets: list[socket.socket], every: float = 0.5) -> None:
        self.sockets, self.every = sockets, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        command = b"EHLO slow.example\r\n"
        position = 0
        while not self.stop.wait(self.every):
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.send(command[position : position + 1])
            position = (position + 1) % len(command)

    def __enter__(self) -> Trickle:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.sockets:
            sock.close()


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while data := sock.recv(4096):
            if b"421" in data and not data.startswith(b"220"):
                return True
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


def test_slow_clients_from_one_address_cannot_fill_the_gateway(gateway: RunningGateway) -> None:
    opened = [_open(gateway.port, "127.0.0.1") for _ in range(200)]
    admitted = [sock for sock, greeting in opened if greeting.startswith(b"220")]
    refused = [greeting for _, greeting in opened if greeting.startswith(b"421 4.7.0")]
    assert (len(admitted), len(refused)) == (10, 190)
    with Trickle([sock for sock, _ in opened]):
        results = [outsider_canary(gateway.port) for _ in range(10)]
    assert all(code == 250 for code, _ in results), results
    assert _worst(results, "200 slow clients") < PROMPT


def test_a_flood_over_the_cap_leaves_room_for_the_relay_and_then_for_others(
    gateway: RunningGateway,
) -> None:
    # One connection from each of 80 addresses: 50 fill what outsiders may use (60 less the
    # relay reserve of 10), 30 are turned away; every one sends a byte now and then.
    opened = [_open(gateway.port, f"127.0.1.{n}") for n in range(1, 81)]
    admitted = [sock for sock, greeting in opened if greeting.startswith(b"220")]
    assert len(admitted) == 50
    assert gateway.gateway.limit.stressed  # type: ignore[union-attr]
    with Trickle([sock for sock, _ in opened], every=0.5):
        # The relay's reserve is there at once.
        code, seconds = canary(gateway.port, RELAY)
        assert code == 250 and _worst([(code, seconds)], "flood: the relay") < PROMPT
        # Under stress every session has a short deadline: the slow ones are cut off, and an
        # outsider (retrying on 421, as any MTA does) gets in.
        started = time.perf_counter()
        code = 0
        while code != 250 and time.perf_counter() - started < 15:
            code, _ = outsider_canary(gateway.port)
            if code != 250:
                time.sleep(0.25)
        assert code == 250
        print(f"flood: an outsider got in after {time.perf_counter() - started:.3f} s")
        assert all(_closed_by_server(sock, 10) for sock in admitted)
    assert wait_for(lambda: gateway.gateway.limit.active == 0)  # type: ignore[union-attr]


def _many_urns(seed: int) -> bytes:
    rnd = random.Random(seed)
    urns = "".join(
        f"{rnd.choice(['20', '21', '22', '23'])}{rnd.choice('ABCDEFGH')}{rnd.choice('JKLMN')}"
        f"{rnd.randrange(10**7):07d}" + ("\n" if n % 10 == 9 else " ")
        for n in range(16_000)
    )
    return build_message(
        "Birmingham MC - R v SMITH",
        STANDARD_BODY.replace("Kind regards", urns + "\nKind regards"),
        extra_headers=[VOUCHED],
    )


def test_messages_that_are_costly_to_read_do_not_delay_others(gateway: RunningGateway) -> None:
    messages = [_many_urns(seed) for seed in range(8)]
    assert all(len(m) > 190_000 for m in messages)
    results: list[tuple[int, float]] = []
    with ThreadPoolExecutor(8) as pool:
        heavy = [pool.submit(deliver, gateway.port, m, f"127.0.2.{i + 1}") for i, m in
                 enumerate(messages * 3)]  # fmt: skip
        while not all(f.done() for f in heavy):
            results.append(outsider_canary(gateway.port))
        outcomes = [f.result()[0] for f in heavy]
    # Each is read within the bounds and held for a person (too many URNs to choose from).
    assert outcomes == [250] * len(outcomes)
    assert results and all(code == 250 for code, _ in results)
    assert _worst(results, "24 messages of 16,000 URNs") < PROMPT


@pytest.fixture
def dead_name_server() -> Iterator[None]:
    """The resolver pointed at a UDP port on 127.0.0.1 that reads queries and never answers."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    resolver = dns.asyncresolver.get_default_resolver()
    saved = (resolver.nameservers, resolver.port)
    resolver.nameservers, resolver.port = ["127.0.0.1"], sink.getsockname()[1]
    try:
        yield
    finally:
        resolver.nameservers, resolver.port = saved
        sink.close()


def test_many_dkim_signatures_cost_one_bounded_wait(
    gateway: RunningGateway, signing_key: KeyPair, dead_name_server: None
) -> None:
    private, _ = signing_key
    raw = build_message()
    for n in range(25):
        raw = dkim.sign(raw, b"s%d" % n, DOMAIN.encode(), private, include_headers=[b"from"]) + raw
    results: list[tuple[int, float]] = []
    with ThreadPoolExecutor(1) as pool:
        signed = pool.submit(canary, gateway.port, "127.0.0.9", raw)
        while not signed.done():
            results.append(outsider_canary(gateway.port))
        code, seconds = signed.result()
    assert code == 550  # no key could be had: not authenticated
    assert seconds < 8  # one deadline (4 s) for all lookups, not 25 timeouts one after another
    assert results and all(code == 250 for code, _ in results)
    assert _worst(results, "25 DKIM signatures, dead name server") < PROMPT


def test_many_large_messages_at_once_are_all_kept(gateway: RunningGateway) -> None:
    # Bounded for the suite (bench/memory_load.py runs 50 of 24 MB and reports peak memory):
    # each waits on disk as it arrives, and two at a time are loaded and decided.
    attachment = base64.encodebytes(os.urandom(4 * 1024 * 1024)).replace(b"\n", b"\r\n")
    large = [
        build_message(
            f"URN 20AB{n:05d}26 - Walsall MC - R v SMITH",
            content_type='multipart/mixed; boundary="b"',
            body_bytes=b"--b\r\nContent-Type: text/plain\r\n\r\n"
            + STANDARD_BODY.replace("\n", "\r\n").encode()
            + b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + attachment
            + b"--b--\r\n",
        )
        for n in range(12)
    ]
    results: list[tuple[int, float]] = []
    with ThreadPoolExecutor(12) as pool:
        sent = [pool.submit(deliver, gateway.port, raw, RELAY) for raw in large]
        while not all(f.done() for f in sent):
            results.append(outsider_canary(gateway.port))
        assert [f.result()[0] for f in sent] == [250] * len(large)
    assert results and all(code == 250 for code, _ in results)
    assert _worst(results, "12 messages of 5.5 MB at once") < PROMPT
    maildir = gateway.maildir("magistrates")
    assert len(wait_for(lambda: len(delivered_files(maildir)) >= 12 + len(results) + 1 and
                        delivered_files(maildir), timeout=60)) == 12 + len(results) + 1  # fmt: skip
    assert list(gateway.gateway.spool.tmp.iterdir()) == []  # type: ignore[union-attr]


def test_the_deadline_is_per_command_and_per_64_kib_of_data(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "var", smtp={"timeout": 1.0})
    body = STANDARD_BODY + ("z" * 70 + "\n") * 9000  # about 640 KB: ten steps of 64 KiB
    raw = build_message(body=body) + b"\r\n.\r\n"
    with RunningGateway(settings) as gateway:
        # Steady: 64 KiB every 0.3 s, 3 s in all, with a deadline of 1 s: taken.
        with Wire(gateway.port) as wire:
            wire.greet()
            assert wire.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
            assert wire.cmd("RCPT TO:<defence.westmidlands@cps.gov.uk>")[0] == 250
            assert wire.cmd("DATA")[0] == 354
            for start in range(0, len(raw), 64 * 1024):
                wire.send(raw[start : start + 64 * 1024])
                time.sleep(0.3)
            assert wire.reply()[0] == 250
        # A trickle: a byte every 0.1 s never completes a command or 64 KiB: cut off.
        with Wire(gateway.port) as wire:
            wire.greet()
            started = time.perf_counter()
            for byte in b"MAIL FROM:<" + SENDER.encode() * 5:
                try:
                    wire.send(bytes([byte]))
                except OSError:
                    break
                time.sleep(0.1)
            assert wire.reply()[0] == 0  # the gateway closed the session
            assert time.perf_counter() - started < 4
