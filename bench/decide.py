"""Decisions per second on a corpus, side by side with a bare policy=default parse.

    python bench/decide.py ../shared/corpus [--seconds 3] [--rounds 5]

Both loops run over the same bytes in the same process, alternating in short rounds; each
round's decide rate is divided by the bare rate measured right beside it, and the median of
those ratios is reported (on a shared machine the speed drifts; adjacent rounds see the same
drift, so their ratio does not). Target (issue 2): decide at least 2x the bare
`email.message_from_bytes(raw, policy=email.policy.default)` rate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import gc
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
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one round")
    parser.add_argument("--rounds", type=int, default=21)
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
    gc.freeze()  # as `mailrouter serve` does once its modules and rules are loaded
    bare_rates, decide_rates, ratios = [], [], []
    for round_no in range(args.rounds):
        # Alternate which goes first, so neither always meets a just-warmed or cold machine.
        if round_no % 2:
            d, b = rate(decided, args.seconds), rate(bare, args.seconds)
        else:
            b, d = rate(bare, args.seconds), rate(decided, args.seconds)
        bare_rates.append(b)
        decide_rates.append(d)
        ratios.append(d / b)
    bare_rate = statistics.median(bare_rates)
    decide_rate = statistics.median(decide_rates)
    ratio = statistics.median(ratios)
    low, high = statistics.quantiles(ratios, n=4)[0], statistics.quantiles(ratios, n=4)[2]
    print(f"corpus: {len(cases)} messages, {sum(len(c[0]) for c in cases)} bytes")
    print(f"bare message_from_bytes(policy=default): {bare_rate:8.0f} msg/s (median)")
    print(f"mailrouter decide:                       {decide_rate:8.0f} msg/s (median)")
    print(
        f"ratio decide/bare: {ratio:.2f}x, quartiles {low:.2f}-{high:.2f} over {len(ratios)} "
        "paired rounds (target >= 2.00x)"
    )
    print(
        json.dumps(
            {
                "bare_msg_per_s": round(bare_rate),
                "decide_msg_per_s": round(decide_rate),
                "ratio": round(ratio, 2),
                "ratio_quartiles": [round(low, 2), round(high, 2)],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
