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
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


Totals = dict[str, list[tuple[Any, ...]]]  # Journal.totals


class GatewayMetrics:
    def __init__(self, spool_dir: os.PathLike[str] | str, sessions: Callable[[], int]) -> None:
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
        Gauge("mailrouter_smtp_sessions", "SMTP sessions open", registry=r).set_function(
            lambda: float(sessions())
        )
        self._journal = _JournalCollector(spool_dir)
        r.register(self._journal)

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
