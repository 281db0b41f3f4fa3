"""Decisions per second on a corpus, side by side with a bare policy=default parse.

    python bench/decide.py ../shared/corpus [--seconds 3] [--rounds 5]

Both run over the same bytes in the same process, message by message in turn: each message
is parsed bare and then decided, and the CPU time of each is added to its side (CPU time,
so that time the virtual machine's host takes away counts for neither). A round is one pass
over the corpus; each round's ratio of bare time to decide time is a sample, and the median
of the samples is reported. Interleaving per message means both sides meet the same machine
at the same moment, which the 0.5-second alternating rounds of earlier versions did not.
Target (issue 2, issue 9): decide at least 2x the bare
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mailrouter import corpus  # noqa: E402
from mailrouter.decide import decide  # noqa: E402
from mailrouter.model import Envelope  # noqa: E402
from mailrouter.rules.ruleset import load_ruleset  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument(
        "--seconds", type=float, default=0.5, help="time per round to spend (rounds repeat)"
    )
    parser.add_argument("--rounds", type=int, default=21, help="rounds at least")
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

    def round_times() -> tuple[float, float]:
        bare_time = decide_time = 0.0
        clock = time.process_time
        for raw, envelope, now in cases:
            start = clock()
            email.message_from_bytes(raw, policy=email.policy.default)
            middle = clock()
            decide(envelope, raw, ruleset, now)
            end = clock()
            bare_time += middle - start
            decide_time += end - middle
        return bare_time, decide_time

    round_times()  # warm caches (address validation, holiday calendars) as a server would
    gc.freeze()  # as `mailrouter serve` does once its modules and rules are loaded
    bare_rates, decide_rates, ratios = [], [], []
    deadline = time.perf_counter() + args.seconds * args.rounds * 2
    while len(ratios) < args.rounds or (time.perf_counter() < deadline and len(ratios) < 200):
        bare_time, decide_time = round_times()
        bare_rates.append(len(cases) / bare_time)
        decide_rates.append(len(cases) / decide_time)
        ratios.append(bare_time / decide_time)
    bare_rate = statistics.median(bare_rates)
    decide_rate = statistics.median(decide_rates)
    ratio = statistics.median(ratios)
    low, high = statistics.quantiles(ratios, n=4)[0], statistics.quantiles(ratios, n=4)[2]
    print(f"corpus: {len(cases)} messages, {sum(len(c[0]) for c in cases)} bytes")
    print(f"bare message_from_bytes(policy=default): {bare_rate:8.0f} msg/s (median)")
    print(f"mailrouter decide:                       {decide_rate:8.0f} msg/s (median)")
    print(
        f"ratio decide/bare: {ratio:.2f}x, quartiles {low:.2f}-{high:.2f} over {len(ratios)} "
        "rounds interleaved per message (target >= 2.00x)"
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
