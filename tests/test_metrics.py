"""/metrics (issue 10): scraped after real SMTP traffic and parsed with prometheus_client's
own parser, the counters and gauges move as the traffic says they should, the delivery
child's deliveries included, and a parked message's age shows."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import FRONT_DOOR, SENDER, build_message
from gateway_helpers import RunningGateway, free_port, gateway_settings, wait_for
from mailrouter.deliver.process import DeliveryProcess
from mailrouter.metrics import GatewayMetrics

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(gateway: RunningGateway) -> Samples:
    assert gateway.gateway is not None
    return scrape_url(f"http://127.0.0.1:{gateway.gateway.http.port}/metrics")


def scrape_url(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse_samples(answer.read().decode())


def parse_samples(text: str) -> Samples:
    """The exposition `text` as prometheus_client's own parser reads it."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_follow_the_traffic(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "var")
    with RunningGateway(settings) as gateway:
        assert isinstance(gateway.gateway.queue, DeliveryProcess)  # type: ignore[union-attr]
        before = scrape(gateway)
        with gateway.smtp() as client:
            for _ in range(3):
                client.sendmail(SENDER, [FRONT_DOOR], build_message())
            client.mail(SENDER)
            client.rcpt(FRONT_DOOR)
            code, _ = client.data(build_message("URN 20AB1234521 - R v SMITH"))  # no court
            assert code == 550
        with gateway.smtp() as client:
            client.mail("someone@example.com")
            assert client.rcpt(FRONT_DOOR)[0] == 550
        after = wait_for(lambda: (s := scrape(gateway)) and value(
            s, "mailrouter_delivery_attempts_total", route="magistrates", transport="maildir",
            outcome="delivered") >= 3 and s)  # fmt: skip
    delivered = ("mailrouter_messages_total", "deliver", "magistrates", "magistrates")
    assert value(after, delivered[0], action=delivered[1], route=delivered[2],
                 rule=delivered[3]) == 3  # fmt: skip
    assert value(after, "mailrouter_messages_total", action="bounce", route="",
                 rule="missing-information") == 1  # fmt: skip
    grew = value(after, "mailrouter_smtp_replies_total", code="250") - value(
        before, "mailrouter_smtp_replies_total", code="250")  # fmt: skip
    assert grew >= 3 * 3  # MAIL, RCPT and DATA of each delivered message
    assert value(after, "mailrouter_smtp_replies_total", code="550") >= 2
    assert value(after, "mailrouter_decide_seconds_count") == 4
    assert value(after, "mailrouter_refused_before_decision_total", stage="rcpt") == 1
    version = gateway.gateway.ruleset.fingerprint  # type: ignore[union-attr]
    assert value(after, "mailrouter_rules_info", version=version) == 1
    assert value(after, "mailrouter_spool_free_bytes") > 0


def test_a_parked_messages_age_and_a_reload_show(tmp_path: Path) -> None:
    dead = free_port()  # nothing listens there: the relay fails until parked
    settings = gateway_settings(
        tmp_path / "var",
        delivery={"transport": "smtp", "park_after_hours": 0.0001,
                  "smtp": {"host": "127.0.0.1", "port": dead, "starttls": "off"}},
    )  # fmt: skip
    with RunningGateway(settings) as gateway:
        with gateway.smtp() as client:
            client.sendmail(SENDER, [FRONT_DOOR], build_message())
        parked = wait_for(lambda: (s := scrape(gateway)) and value(
            s, "mailrouter_queue_messages", state="parked", route="magistrates") == 1 and s,
            timeout=20)  # fmt: skip
        assert value(parked, "mailrouter_queue_oldest_seconds", state="parked",
                     route="magistrates") > 0  # fmt: skip
        assert value(parked, "mailrouter_delivery_attempts_total", route="magistrates",
                     transport="smtp", outcome="parked") == 1  # fmt: skip
        gateway.gateway.reload_rules()  # type: ignore[union-attr]
        reloaded = scrape(gateway)
    assert value(reloaded, "mailrouter_rules_reloads_total", result="accepted") == 1


def test_an_acceptors_reports_count_in_the_gateways_metrics(tmp_path: Path) -> None:
    """What an acceptor process counts reaches the gateway's registry as its reports say;
    a report holds only what is new, and an acceptor gone takes its sessions with it."""
    open_sessions = [3]
    acceptor = GatewayMetrics(tmp_path, lambda: open_sessions[0], reports=True)
    gateway = GatewayMetrics(tmp_path, lambda: 1, reports=False)
    for code in ("250", "250", "550"):
        acceptor.count_reply(code)
    for _ in range(1500):
        acceptor.observe_decide(0.002)
    reports = []
    while (report := acceptor.report()) is not None:
        reports.append(report)
    assert [len(r["decide"]) for r in reports] == [1000, 500]  # one line stays short
    for report in reports:
        gateway.add_report(2, report)
    assert gateway.report() is None  # the gateway itself keeps nothing to report
    samples = _render(gateway)
    assert samples[("mailrouter_smtp_replies_total", (("code", "250"),))] == 2
    assert samples[("mailrouter_smtp_replies_total", (("code", "550"),))] == 1
    assert samples[("mailrouter_decide_seconds_count", ())] == 1500
    assert samples[("mailrouter_decide_seconds_sum", ())] == pytest.approx(3.0)
    assert samples[("mailrouter_smtp_sessions", ())] == 1 + 3
    acceptor.count_reply("250")
    open_sessions[0] = 0
    gateway.add_report(2, acceptor.report())
    samples = _render(gateway)
    assert samples[("mailrouter_smtp_replies_total", (("code", "250"),))] == 3
    assert samples[("mailrouter_smtp_sessions", ())] == 1
    gateway.add_report(5, {"replies": {}, "decide": [], "sessions": 4})
    gateway.add_report(5, None)  # that acceptor died
    assert _render(gateway)[("mailrouter_smtp_sessions", ())] == 1


def _render(metrics: GatewayMetrics) -> Samples:
    totals = {key: [] for key in ("queue", "messages", "attempts", "notices", "refusals")}
    return parse_samples(metrics.render(totals).decode())  # type: ignore[arg-type]
