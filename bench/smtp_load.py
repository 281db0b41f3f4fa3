"""The gateway and a bare durable spool, driven by the same load in one run (DESIGN §9).

    python bench/smtp_load.py [--count 3000] [--sessions 20] [--rounds 3]

Starts ../shared/tools/bare_spool_server.py (aiosmtpd that only writes each message with
fsync) and `mailrouter serve` on free ports on 127.0.0.1, then runs
../shared/tools/smtp_load.py against each in alternation. Reports messages per second and
p50/p99 latency per round, the medians, and the ratio gateway/bare. Target (issue 3): the
gateway reaches at least 0.7 of the bare spool at 20 sessions. The gateway also decides,
journals and delivers to Maildir while it is measured; the bare spool does none of that. Its
delivery process runs at a lower priority (`delivery.nice`), so under a burst some deliveries
finish after the last 250: `drain_s` is how long after the load every accepted message was
delivered, and the next run starts only then.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT.parent / "shared" / "tools"
MAILROUTER = Path(sys.executable).with_name("mailrouter")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing on port {port}")


def load(port: int, count: int, sessions: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, str(TOOLS / "smtp_load.py"), str(port), "--count", str(count),
         "--sessions", str(sessions), "--seconds", "120"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def drain(spool: Path, timeout: float = 300) -> float:
    """Seconds until the gateway's spool is empty (every accepted message delivered)."""
    started = time.monotonic()
    while any(spool.iterdir()):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"deliveries not finished after {timeout} s")
        time.sleep(0.05)
    return round(time.monotonic() - started, 2)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mailrouter-bench-"))
    bare_port, gateway_port = free_port(), free_port()
    bare = subprocess.Popen(
        [sys.executable, str(TOOLS / "bare_spool_server.py"), str(bare_port), str(work / "bare")]
    )
    env = {
        **os.environ,
        "MAILROUTER_VAR_DIR": str(work / "var"),
        "MAILROUTER_RULES_DIR": str(ROOT / "routing_rules"),
        "MAILROUTER_SMTP__PORT": str(gateway_port),
        "MAILROUTER_LOG__LEVEL": "warning",
    }
    gateway = subprocess.Popen([str(MAILROUTER), "serve"], env=env)
    try:
        wait_listening(bare_port)
        wait_listening(gateway_port)
        load(bare_port, 200, args.sessions)  # warm both up
        load(gateway_port, 200, args.sessions)
        rows: dict[str, list[dict[str, float]]] = {"bare": [], "gateway": []}
        for round_no in range(args.rounds):
            order = [("bare", bare_port), ("gateway", gateway_port)]
            for name, port in order if round_no % 2 == 0 else reversed(order):
                result = load(port, args.count, args.sessions)
                if name == "gateway":
                    # Deliveries still queued are finished before anything else is measured
                    # (they would take CPU from the next run), and the time they took is told.
                    result["drain_s"] = drain(work / "var" / "spool" / "msg")
                rows[name].append(result)
                print(f"round {round_no + 1} {name:<8} {json.dumps(result)}", flush=True)
        summary = {
            name: {
                key: statistics.median(r[key] for r in results)
                for key in ("rate", "p50_ms", "p99_ms")
            }
            for name, results in rows.items()
        }
        failures = sum(r["fail"] for results in rows.values() for r in results)
        ratio = summary["gateway"]["rate"] / summary["bare"]["rate"]
        drains = [r["drain_s"] for r in rows["gateway"]]
        summary["gateway"]["drain_s"] = statistics.median(drains)
        print(f"bare spool: {summary['bare']}")
        print(f"gateway:    {summary['gateway']}")
        print(f"ratio gateway/bare: {ratio:.2f} (target >= 0.70), failed sends: {failures}")
        print(json.dumps({**summary, "ratio": round(ratio, 2), "failed": failures}))
    finally:
        for process in (gateway, bare):
            process.terminate()
            process.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
