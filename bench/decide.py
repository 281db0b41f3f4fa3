"""Decisions per second on a corpus, side by side with a bare policy=default parse.

    python bench/decide.py ../shared/corpus [--seconds 3] [--rounds 5]

Both loops run over the same bytes in the same process, interleaved round by round, and the
median of each is reported with their ratio. Target (issue 2): decide at least 2x the bare
`email.message_from_bytes(raw, policy=email.policy.default)` rate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mailrouter import corpus  # noqa: E402
from mailrouter.decide import decide  # noqa: E402
from mailrouter.model import Envelope  # noqa: E402
from mailrouter.rules.ruleset import load_ruleset  # noqa: E402


def rate(work: Callable[[], int], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += work()
    return done / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    ruleset = load_ruleset(ROOT / "routing_rules")
    cases: list[tuple[bytes, Envelope, dt.datetime]] = []
    for path in sorted(args.corpus.glob("*.eml")):
        sidecar = corpus.read_sidecar(path)
        envelope = Envelope(
            sidecar.mail_from or "" if sidecar else "",
            (sidecar.rcpt or ()) if sidecar else (),
            (sidecar.peer_ip or "127.0.0.1") if sidecar else "127.0.0.1",
        )
        now = sidecar.now if sidecar and sidecar.now else dt.datetime.now(dt.UTC)
        cases.append((path.read_bytes(), envelope, now))
    if not cases:
        print(f"no .eml files in {args.corpus}")
        return 2

    def bare() -> int:
        for raw, _, _ in cases:
            email.message_from_bytes(raw, policy=email.policy.default)
        return len(cases)

    def decided() -> int:
        for raw, envelope, now in cases:
            decide(envelope, raw, ruleset, now)
        return len(cases)

    bare(), decided()  # warm caches (address validation, holiday calendars) as a server would
    bare_rates, decide_rates = [], []
    for _ in range(args.rounds):
        bare_rates.append(rate(bare, args.seconds))
        decide_rates.append(rate(decided, args.seconds))
    bare_rate = statistics.median(bare_rates)
    decide_rate = statistics.median(decide_rates)
    print(f"corpus: {len(cases)} messages, {sum(len(c[0]) for c in cases)} bytes")
    print(f"bare message_from_bytes(policy=default): {bare_rate:8.0f} msg/s")
    print(f"mailrouter decide:                       {decide_rate:8.0f} msg/s")
    print(f"ratio decide/bare: {decide_rate / bare_rate:.2f}x (target >= 2.00x)")
    print(
        json.dumps(
            {
                "bare_msg_per_s": round(bare_rate),
                "decide_msg_per_s": round(decide_rate),
                "ratio": round(decide_rate / bare_rate, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
