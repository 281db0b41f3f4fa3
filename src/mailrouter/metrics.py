"""`/metrics` in the Prometheus text format (prometheus_client).

Two sources, one registry per gateway:
- what happens in this process, counted as it happens: SMTP replies by code, decide latency,
  sessions, rules reloads and the running version;
- what the journal holds, read at each scrape: messages by action, route and rule; the queue
  by state and route with its oldest message's age; delivery attempts by route, transport and
  outcome; notices by kind and state; refusals before a decision. The delivery child (and
  any other node on the same journal) writes there, so its work is counted without sharing
  counters between processes.
Plus the free space on the spool's filesystem, read at each scrape.

With `smtp.workers`, each acceptor process counts its own replies, decide times and sessions
and reports what is new every second to the gateway (`report`, over the pipe its spooled ids
take), which adds it to its own (`add_report`): the gateway's /metrics covers every process.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


Totals = dict[str, list[tuple[Any, ...]]]  # Journal.totals


# Decide times in an acceptor's report: whole units of 10 µs, far finer than the buckets.
_REPORT_UNIT = 1e-5
_REPORT_DECIDES = 1000  # a report's line stays far below the reading side's 64 KiB


class GatewayMetrics:
    def __init__(
        self, spool_dir: os.PathLike[str] | str, sessions: Callable[[], int], *, reports: bool
    ) -> None:
        """`reports`: keep what is new since the last `report` (an acceptor does)."""
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.replies = Counter(
            "mailrouter_smtp_replies", "SMTP replies sent, by code", ["code"], registry=r
        )
        self.decide_seconds = Histogram(
            "mailrouter_decide_seconds", "Time to decide a message", registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )  # fmt: skip
        self.reloads = Counter(
            "mailrouter_rules_reloads", "Rules reloads, by result", ["result"], registry=r
        )
        self.rules = Gauge(
            "mailrouter_rules_info", "The running rules' version (value 1)", ["version"],
            registry=r,
        )  # fmt: skip
        self._sessions = sessions
        self._acceptor_sessions: dict[int, int] = {}  # by acceptor slot, as last reported
        Gauge("mailrouter_smtp_sessions", "SMTP sessions open", registry=r).set_function(
            lambda: float(sessions() + sum(self._acceptor_sessions.values()))
        )
        self._journal = _JournalCollector(spool_dir)
        r.register(self._journal)
        self._reports = reports
        self._reply_counters: dict[str, Any] = {}
        self._new_replies: collections.Counter[str] = collections.Counter()
        self._new_decides: list[int] = []
        self._reported_sessions = -1

    def count_reply(self, code: str) -> None:
        counter = self._reply_counters.get(code)
        if counter is None:  # labels() costs more than the count; a gateway sends few codes
            counter = self._reply_counters[code] = self.replies.labels(code=code)
        counter.inc()
        if self._reports:
            self._new_replies[code] += 1

    def observe_decide(self, seconds: float) -> None:
        self.decide_seconds.observe(seconds)
        if self._reports:
            self._new_decides.append(round(seconds / _REPORT_UNIT))

    def report(self) -> dict[str, Any] | None:
        """What this process counted since its last report (at most _REPORT_DECIDES decide
        times: call again for the rest), and its sessions open now; None when nothing has
        changed, or when this process does not report."""
        if not self._reports:
            return None
        sessions = self._sessions()
        if not self._new_replies and not self._new_decides and sessions == self._reported_sessions:
            return None
        decides, self._new_decides = (
            self._new_decides[:_REPORT_DECIDES],
            self._new_decides[_REPORT_DECIDES:],
        )
        out = {"replies": dict(self._new_replies), "decide": decides, "sessions": sessions}
        self._new_replies = collections.Counter()
        self._reported_sessions = sessions
        return out

    def add_report(self, slot: int, report: dict[str, Any] | None) -> None:
        """Count an acceptor's report as this process's own; None: the acceptor in `slot`
        has gone (its sessions with it)."""
        if report is None:
            self._acceptor_sessions.pop(slot, None)
            return
        for code, count in report["replies"].items():
            self.replies.labels(code=str(code)).inc(int(count))
        for units in report["decide"]:
            self.decide_seconds.observe(int(units) * _REPORT_UNIT)
        self._acceptor_sessions[slot] = int(report["sessions"])

    def running(self, version: str) -> None:
        self.rules.clear()
        self.rules.labels(version=version).set(1)

    def render(self, totals: Totals) -> bytes:
        """The text exposition, with `totals` just read from the journal."""
        self._journal.totals = totals
        return generate_latest(self.registry)


# Journal totals as counters: (totals key, name, help, labels); each row is the label values
# followed by the count.
_COUNTED = (
    ("messages", "mailrouter_messages", "Messages decided, by action, route and rule",
     ("action", "route", "rule")),
    ("attempts", "mailrouter_delivery_attempts",
     "Delivery attempts, by route, transport and outcome", ("route", "transport", "outcome")),
    ("notices", "mailrouter_notices", "Notices, by kind and state", ("kind", "state")),
    ("refusals", "mailrouter_refused_before_decision",
     "Sessions refused before a decision, by stage", ("stage",)),
)  # fmt: skip


class _JournalCollector(Collector):
    def __init__(self, spool_dir: os.PathLike[str] | str) -> None:
        self._spool_dir = spool_dir
        self.totals: Totals = {key: [] for key in ("queue", *(c[0] for c in _COUNTED))}

    def collect(self) -> Iterator[Metric]:
        for key, name, text, labels in _COUNTED:
            family = CounterMetricFamily(name, text, labels=labels)
            for *values, count in self.totals[key]:
                family.add_metric(values, count)
            yield family
        depth = GaugeMetricFamily(
            "mailrouter_queue_messages", "Messages waiting, by state and route",
            labels=["state", "route"],
        )  # fmt: skip
        oldest = GaugeMetricFamily(
            "mailrouter_queue_oldest_seconds", "Age of the oldest waiting message",
            labels=["state", "route"],
        )  # fmt: skip
        for state, route, count, age in self.totals["queue"]:
            depth.add_metric([state, route], count)
            oldest.add_metric([state, route], max(0.0, age))
        yield depth
        yield oldest
        stat = os.statvfs(self._spool_dir)
        free = GaugeMetricFamily(
            "mailrouter_spool_free_bytes", "Free space on the spool's filesystem"
        )
        free.add_metric([], float(stat.f_bavail * stat.f_frsize))
        yield free
