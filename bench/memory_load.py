"""Peak memory of the gateway with many large messages arriving at once (issue 12).

    python bench/memory_load.py [--count 50] [--megabytes 24] [--mailrouter PATH]

Starts `mailrouter serve` on a free port on 127.0.0.1 with its own var/ in a temporary
directory, sends `count` messages of `megabytes` each in as many concurrent sessions, and
reports the peak resident memory (VmHWM) of the gateway process and of its delivery child,
how many got 250, how many were delivered, and how long it took. Every message is a real
defence request (it is routed), padded with an attachment-like base64 part.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENDER = "a.solicitor@smithlaw.co.uk.cjsm.net"
FRONT_DOOR = "defence.westmidlands@cps.gov.uk"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def message(number: int, megabytes: int) -> bytes:
    padding = base64.encodebytes(os.urandom(megabytes * 1024 * 1024 * 3 // 4)).replace(
        b"\n", b"\r\n"
    )
    head = (
        f"From: A Solicitor <{SENDER}>\r\nTo: <{FRONT_DOOR}>\r\n"
        f"Subject: URN 20AB{number:05d}26 - Walsall MC - R v SMITH\r\n"
        f"Message-ID: <memory-{number}@bench>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Defendant: John SMITH\r\nDate of birth: 01/02/1990\r\nHearing date: 15/12/2027\r\n"
        "Nature of request: please serve IDPC.\r\n\r\n--b\r\n"
        "Content-Type: application/pdf; name=bundle.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    return head + padding + b"--b--\r\n"


def peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(n) for n in text.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--megabytes", type=int, default=24)
    parser.add_argument("--mailrouter", default=str(Path(sys.executable).with_name("mailrouter")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        var, port = Path(tmp) / "var", free_port()
        env = {
            **os.environ,
            "MAILROUTER_VAR_DIR": str(var),
            "MAILROUTER_RULES_DIR": str(ROOT / "routing_rules"),
            "MAILROUTER_SMTP__PORT": str(port),
            "MAILROUTER_LOG__LEVEL": "warning",
        }
        log = (Path(tmp) / "gateway.log").open("wb")
        gateway = subprocess.Popen([args.mailrouter, "serve"], env=env, stdout=log, stderr=log)
        peaks: dict[int, int] = {}
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.05):
                for pid in (gateway.pid, *children(gateway.pid)):
                    peaks[pid] = max(peaks.get(pid, 0), peak_kib(pid))

        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            messages = [message(n, args.megabytes) for n in range(args.count)]
            threading.Thread(target=watch, daemon=True).start()
            idle = {pid: peak_kib(pid) for pid in (gateway.pid, *children(gateway.pid))}

            def send(raw: bytes) -> bool:
                with smtplib.SMTP("127.0.0.1", port, timeout=600) as client:
                    return client.sendmail(SENDER, [FRONT_DOOR], raw) == {}

            started = time.perf_counter()
            with ThreadPoolExecutor(args.count) as pool:
                accepted = sum(pool.map(send, messages))
            elapsed = time.perf_counter() - started
            maildir = var / "mail" / "magistrates" / "new"
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                delivered = len(list(maildir.iterdir())) if maildir.is_dir() else 0
                if delivered >= accepted:
                    break
                time.sleep(0.2)
            done.set()
        finally:
            gateway.terminate()
            gateway.wait(60)
        gateway_pid = gateway.pid
        report = {
            "messages": args.count,
            "megabytes_each": args.megabytes,
            "accepted": accepted,
            "delivered": delivered,
            "seconds_to_last_250": round(elapsed, 2),
            "gateway_peak_mib": round(peaks.get(gateway_pid, 0) / 1024, 1),
            "delivery_child_peak_mib": [
                round(kib / 1024, 1) for pid, kib in peaks.items() if pid != gateway_pid
            ],
            "gateway_at_rest_mib": round(idle.get(gateway_pid, 0) / 1024, 1),
        }
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
