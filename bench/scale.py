"""Accept rate and latency of the gateway against Postfix and a bare spool, in one run (issue 13).

    python bench/scale.py [--count 4000] [--sessions 20] [--rounds 3] [--long 0] [--size N]
                          [--message FILE.eml] [--only NAME,…]

Contenders, each on a free port on 127.0.0.1, driven in turn (the order alternating by round)
by Postfix's own load generator, `smtp-source` (C, one message per connection, `--sessions` at
once), with a 10 KB defence request the gateway routes:

    postfix        a durable Postfix (its own instance: queue files fsynced before 250) relaying
                   to `smtp-sink`
    bare           ../shared/tools/bare_spool_server.py: aiosmtpd that only fsyncs each message
    gw1-sqlite     `mailrouter serve`, 1 worker, SQLite journal and file spool
    gw2-sqlite     the same with `smtp.workers = 2`
    gw1-pg, gw2-pg the same on PostgreSQL (journal and spool; a server started for the run)

Beside smtp-source, one probe session sends messages one after another and times each from
the end of DATA to the reply: p50/p99 accept latency under the load, measured the same way for
every contender. After each run the contender's queue is drained (Postfix to smtp-sink, the
gateway to its Maildirs) before the next starts. `--long N`: then N messages through gw2-sqlite,
sampling the resident memory of its processes (gateway, acceptor, delivery child) as it goes.
Needs root (Postfix, and PostgreSQL as the postgres user) and Debian's postfix and postgresql.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.parser
import email.utils
import json
import os
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]  # the tests' real peers: a private Postfix, a PostgreSQL

import postgres  # noqa: E402
from peers import Postfix  # noqa: E402

TOOLS = ROOT.parent / "shared" / "tools"
MAILROUTER = Path(sys.executable).with_name("mailrouter")
SENDER = "a.solicitor@smithlaw.co.uk.cjsm.net"
FRONT_DOOR = "defence.westmidlands@cps.gov.uk"
TICKS = os.sysconf("SC_CLK_TCK")


def defence_message(size: int = 10_000) -> str:
    hearing = (dt.date.today() + dt.timedelta(days=30)).strftime("%d/%m/%Y")
    text = (
        f"From: A Solicitor <{SENDER}>\nTo: {FRONT_DOOR}\n"
        "Subject: URN 20AB1234526 - R v SMITH - Birmingham Magistrates' Court - IDPC\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        "Dear Sir or Madam,\n\nDefendant: John SMITH\nDate of birth: 01/02/1990\n"
        f"Hearing date: {hearing}\nNature of request: please serve IDPC before the first "
        "hearing.\n\n"
    )
    line = "We act for the above-named and would be grateful for the case papers.\n"
    while len(text) + len(line) < size - 50:
        text += line
    return text + "\nKind regards\nA Solicitor\nSmith Law LLP\n"


def envelope_sender(message_file: Path) -> str:
    """The address in the message's From: the sender check wants the two to agree."""
    with message_file.open("rb") as source:
        parsed = email.parser.BytesHeaderParser().parse(source)
    return email.utils.parseaddr(parsed.get("From", ""))[1] or SENDER


class Contender:
    def __init__(self, name: str, port: int, drained: Callable[[], bool],
                 pids: Callable[[], list[int]] = list) -> None:  # fmt: skip
        self.name, self.port, self.drained, self.pids = name, port, drained, pids


def wait_listening(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing on port {port}")


def process_tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(child) for child in children)
    return found


def resident_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def process_ticks(pids: list[int]) -> dict[int, int]:
    """User and system clock ticks of each process (from /proc/<pid>/stat)."""
    ticks = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


class Probe(threading.Thread):
    """One session at a time, timing DATA to 250, until stopped."""

    def __init__(self, port: int, message: bytes, sender: str) -> None:
        super().__init__(daemon=True)
        self.port, self.message, self.sender = port, message, sender
        self.latencies: list[float] = []
        self.failures = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as client:
                    client.ehlo("probe.test")
                    client.mail(self.sender)
                    client.rcpt(FRONT_DOOR)
                    started = time.perf_counter()
                    code, _ = client.data(self.message)
                    elapsed = time.perf_counter() - started
                if code == 250:
                    self.latencies.append(elapsed * 1000)
                else:
                    self.failures += 1
            except (OSError, smtplib.SMTPException):
                self.failures += 1


def run_load(contender: Contender, count: int, sessions: int, message_file: Path,
             sample: Callable[[], None] | None = None) -> dict[str, float]:  # fmt: skip
    sender = envelope_sender(message_file)
    probe = Probe(contender.port, message_file.read_bytes().replace(b"\n", b"\r\n"), sender)
    pids = contender.pids()
    machine_before, tree_before = machine_ticks(), process_ticks(pids)
    started = time.perf_counter()
    source = subprocess.Popen(
        ["smtp-source", "-s", str(sessions), "-m", str(count), "-f", sender, "-t", FRONT_DOOR,
         "-F", str(message_file), f"127.0.0.1:{contender.port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    probe.start()
    while source.poll() is None:
        if sample is not None:
            sample()
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    probe.stopping.set()
    probe.join(120)
    _, errors = source.communicate()
    sent = count + len(probe.latencies)
    machine_after, tree_after = machine_ticks(), process_ticks(pids)
    busy = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1])
    # CPU of each of the contender's processes per message accepted, in ms (load, not drain)
    per_message = [
        round((tree_after[pid] - tree_before.get(pid, 0)) * 1000 / TICKS / sent, 2)
        for pid in sorted(tree_after)
    ]
    drain_started = time.monotonic()
    while not contender.drained():
        if time.monotonic() - drain_started > 600:
            raise TimeoutError(f"{contender.name}: not drained after 600 s")
        time.sleep(0.1)
    lat = sorted(probe.latencies) or [0.0]
    return {
        "rate": round(sent / elapsed, 1),
        "p50_ms": round(statistics.median(lat), 1),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1),
        "probe_n": len(probe.latencies),
        "fail": probe.failures + (source.returncode != 0),
        "drain_s": round(time.monotonic() - drain_started, 1),
        "cpu_busy": round(busy, 2),
        **({"cpu_ms_per_msg": per_message} if per_message else {}),
        **({"error": errors.strip()[:200]} if source.returncode else {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--long", type=int, default=0, help="messages for the memory run")
    parser.add_argument("--only", help="comma-separated contender names")
    parser.add_argument("--size", type=int, default=10_000, help="bytes of the message")
    parser.add_argument("--message", type=Path, help="send this .eml (From: is the sender)")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("smtp-source") is None:
        print("bench/scale.py needs root and Debian's postfix (smtp-source, smtp-sink)")
        return 2
    work = Path(tempfile.mkdtemp(prefix="mailrouter-scale-"))
    work.chmod(0o755)
    message_file = work / "message.txt"
    if args.message:
        message_file.write_bytes(args.message.read_bytes().replace(b"\r\n", b"\n"))
    else:
        message_file.write_text(defence_message(args.size))
    processes: list[subprocess.Popen[bytes]] = []
    contenders: list[Contender] = []
    postfix: Postfix | None = None
    pg = postgres.server()
    try:
        sink_port = postgres.free_port()
        processes.append(subprocess.Popen(
            ["smtp-sink", "-u", "nobody", f"127.0.0.1:{sink_port}", "1000"]))  # fmt: skip
        postfix = Postfix(sink_port, sink_port)  # every domain relayed on to smtp-sink
        postfix.start()
        running = postfix
        contenders.append(Contender("postfix", postfix.port, lambda: not running.queued()))
        bare_port = postgres.free_port()
        processes.append(subprocess.Popen(
            [sys.executable, str(TOOLS / "bare_spool_server.py"), str(bare_port),
             str(work / "bare")]))  # fmt: skip
        contenders.append(Contender("bare", bare_port, lambda: True))
        for workers in (1, 2):
            for backend in ("sqlite", "pg"):
                contenders.append(start_gateway(work, workers, backend, pg, processes))
        wanted = set(args.only.split(",")) if args.only else None
        contenders = [c for c in contenders if wanted is None or c.name in wanted]
        for contender in contenders:
            wait_listening(contender.port)
            run_load(contender, 300, args.sessions, message_file)  # warm up
        rows: dict[str, list[dict[str, float]]] = {c.name: [] for c in contenders}
        for round_no in range(args.rounds):
            order = contenders if round_no % 2 == 0 else list(reversed(contenders))
            for contender in order:
                result = run_load(contender, args.count, args.sessions, message_file)
                rows[contender.name].append(result)
                print(f"round {round_no + 1} {contender.name:<11} {json.dumps(result)}",
                      flush=True)  # fmt: skip
        summary = {
            name: {key: statistics.median(r[key] for r in results)
                   for key in ("rate", "p50_ms", "p99_ms", "drain_s")}
            for name, results in rows.items()
        }  # fmt: skip
        for name, figures in summary.items():
            if "postfix" in summary:
                figures["vs_postfix"] = round(figures["rate"] / summary["postfix"]["rate"], 2)
            if "bare" in summary:
                figures["vs_bare"] = round(figures["rate"] / summary["bare"]["rate"], 2)
            print(f"{name:<11} {json.dumps(figures)}")
        failures = sum(r["fail"] for results in rows.values() for r in results)
        print(json.dumps({"summary": summary, "failed": failures}))
        if args.long:
            long_run([c for c in contenders if c.name == "gw2-sqlite"], args, message_file)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
        if postfix is not None:
            postfix.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def start_gateway(work: Path, workers: int, backend: str, pg: postgres.Server,
                  processes: list[subprocess.Popen[bytes]]) -> Contender:  # fmt: skip
    name = f"gw{workers}-{backend}"
    var, port = work / name, postgres.free_port()
    env = {**os.environ, "MAILROUTER_VAR_DIR": str(var),
           "MAILROUTER_RULES_DIR": str(ROOT / "routing_rules"),
           "MAILROUTER_SMTP__PORT": str(port), "MAILROUTER_SMTP__WORKERS": str(workers),
           "MAILROUTER_HTTP__PORT": "0", "MAILROUTER_LOG__LEVEL": "warning",
           "MAILROUTER_RETENTION__DAYS": "0"}  # fmt: skip
    url = postgres.fresh_journal_url() if backend == "pg" else None
    if url is not None:
        env["MAILROUTER_JOURNAL_URL"] = url
    process = subprocess.Popen([str(MAILROUTER), "serve"], env=env)
    processes.append(process)

    def drained() -> bool:
        if url is None:
            spool = var / "spool" / "msg"
            return spool.is_dir() and not any(spool.iterdir())
        import psycopg

        with psycopg.connect(url) as db:
            (left,) = db.execute("SELECT COUNT(*) FROM spool").fetchone()  # type: ignore[misc]
        return int(left) == 0

    return Contender(name, port, drained, lambda: process_tree(process.pid))


def long_run(contenders: list[Contender], args: argparse.Namespace, message_file: Path) -> None:
    """Resident memory of the gateway's processes over one long run."""
    for contender in contenders:
        mib: list[float] = []
        result = run_load(contender, args.long, args.sessions, message_file,
                          lambda c=contender, m=mib: m.append(resident_mib(c.pids())))  # fmt: skip
        tenth = max(1, len(mib) // 10)
        print(json.dumps({"long": contender.name, "messages": args.long, **result,
                          "rss_mib_first_tenth": max(mib[:tenth]),
                          "rss_mib_last_tenth": max(mib[-tenth:]), "rss_mib_max": max(mib),
                          "samples": len(mib)}))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
