"""Running the gateway as a mail admin would (issue 11): one gateway per data directory;
reloads guarded by the rules' samples, asked for with `mailrouter reload` or taken up by
watching the rules; …"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import FRONT_DOOR, RULES_DIR, copy_rules
from gateway_helpers import (
    RunningGateway,
    cli_config,
    delivered_files,
    free_port,
    gateway_settings,
    listening,
    wait_for,
)
from mailrouter.gateway import Gateway
from mailrouter.rules.ruleset import load_ruleset
from mailrouter.store.journal import Journal, TraceQuery
from mailrouter.store.lock import DataDirInUse
from mailrouter.store.retention import Retention
from peers import Downstream
from test_rules_audit import TRY_CCU

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))


def test_a_second_gateway_on_one_data_directory_is_refused(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "var")
    with RunningGateway(settings), pytest.raises(DataDirInUse, match=rf"pid {os.getpid()} "):
        Gateway(settings)
    with RunningGateway(settings) as again:  # free once the first has stopped
        assert again.port


def test_serve_refuses_before_it_listens(tmp_path: Path) -> None:
    var, first_port, second_port = tmp_path / "var", free_port(), free_port()
    env = {**os.environ, "MAILROUTER_VAR_DIR": str(var), "MAILROUTER_RULES_DIR": str(RULES_DIR)}
    first = subprocess.Popen(
        [MAILROUTER, "serve"], env={**env, "MAILROUTER_SMTP__PORT": str(first_port)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for(lambda: listening(first_port), timeout=30)
        second = subprocess.run(
            [MAILROUTER, "serve"], env={**env, "MAILROUTER_SMTP__PORT": str(second_port)},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert f"is in use by another mailrouter (pid {first.pid} " in second.stderr
        assert not listening(second_port)
    finally:
        first.terminate()
        first.wait(30)


def _rules_copy(tmp_path: Path) -> Path:
    return copy_rules(tmp_path / "routing_rules")


def _reload(var: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAILROUTER_VAR_DIR": str(var)}
    return subprocess.run(
        [MAILROUTER, "reload"], env=env, capture_output=True, text=True, timeout=60
    )


def _sample(rules: Path, name: str) -> bytes:
    return (rules / "samples" / f"{name}.eml").read_bytes()


ROUTES = ("magistrates", "crown_court", "poca", "ccu", "triage")


def _route_of(gateway: RunningGateway, raw: bytes) -> str:
    """Send `raw` over SMTP as its sample's sender; the route it is delivered to."""
    before = {r: len(delivered_files(gateway.maildir(r))) for r in ROUTES}
    with gateway.smtp() as client:
        client.sendmail("m.hale@haleostrow.co.uk.cjsm.net", [FRONT_DOOR], raw)

    def grown() -> list[str]:
        return [r for r in ROUTES if len(delivered_files(gateway.maildir(r))) > before[r]]

    (route,) = wait_for(grown)
    return route


def test_reload_accepted_and_refused_with_the_old_rules_still_deciding(tmp_path: Path) -> None:
    rules, var = _rules_copy(tmp_path), tmp_path / "var"
    crown = _sample(rules, "crown-complete")
    with RunningGateway(gateway_settings(var, rules_dir=rules)) as gateway:
        assert _route_of(gateway, crown) == "crown_court"
        version = gateway.gateway.ruleset.fingerprint  # type: ignore[union-attr]
        # An edit that breaks routing which used to work: a sample catches it.
        rules_file = rules / "rules.yaml"
        good = rules_file.read_text()
        crown_rule = "when: {court_type: [crown]}\n    route: crown_court"
        rules_file.write_text(good.replace(crown_rule, crown_rule.replace("crown_court", "ccu")))
        refused = _reload(var)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert f"refused: rules version {version} still running" in refused.stdout
        assert "sample crown-complete: expected deliver/crown_court, got deliver/ccu" in (
            refused.stdout
        )
        assert _route_of(gateway, crown) == "crown_court"  # the old rules still decide
        # A file that does not validate: refused with its file and line.
        rules_file.write_text("rules: [}\n")
        refused = _reload(var)
        assert refused.returncode == 1 and "rules.yaml:1" in refused.stdout
        assert _route_of(gateway, crown) == "crown_court"
        # A good edit: taken, and live mail follows it.
        mailboxes = rules / "mailboxes.yaml"
        rules_file.write_text(good)
        mailboxes.write_text(mailboxes.read_text().replace("subject_tag: CROWN", "subject_tag: CC"))
        accepted = _reload(var)
        assert accepted.returncode == 0, accepted.stdout
        new_version = gateway.gateway.ruleset.fingerprint  # type: ignore[union-attr]
        assert new_version != version
        assert f"reloaded: rules version {new_version} now running" in accepted.stdout
        assert _route_of(gateway, crown) == "crown_court"
        newest = max(
            delivered_files(gateway.maildir("crown_court")), key=lambda p: p.stat().st_mtime
        )
        assert b"Subject: [CC 20BC3318926]" in newest.read_bytes()
    assert _reload(var).returncode == 2  # no gateway running: said so


def test_watched_rules_are_taken_up_when_they_change(tmp_path: Path) -> None:
    rules = _rules_copy(tmp_path)
    settings = gateway_settings(
        tmp_path / "var", rules_dir=rules, rules={"watch": True, "watch_seconds": 0.2}
    )
    with RunningGateway(settings) as gateway:
        running = gateway.gateway
        assert running is not None
        before = running.ruleset
        mailboxes = rules / "mailboxes.yaml"
        mailboxes.write_text(mailboxes.read_text().replace("subject_tag: CROWN", "subject_tag: CC"))
        assert wait_for(lambda: running.ruleset is not before, timeout=10)
        # The outcome is recorded before the swap, so it is there once the new rules are.
        assert running.last_reload is not None and running.last_reload.accepted
        # A broken edit is refused once and not retried while the files stay as they are.
        (rules / "rules.yaml").write_text("rules: [}\n")
        assert wait_for(lambda: running.last_reload is not None
                        and not running.last_reload.accepted, timeout=10)  # fmt: skip
        refused_at = running.last_reload.at
        time.sleep(1.0)
        assert running.last_reload.at == refused_at


# --- the queue, as a mail admin runs it -------------------------------------------------------


def _queue(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAILROUTER, "queue", "--config", str(config), *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


WALSALL = "URN 20AB1234521 - Walsall MC - R v SMITH"


def test_requeue_after_a_mailbox_fix_delivers_to_the_new_address(
    tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    sink, port = downstream
    rules = _rules_copy(tmp_path)
    settings = gateway_settings(
        tmp_path / "var", rules_dir=rules,
        delivery={"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": port,
                                                "starttls": "off"}},
    )  # fmt: skip
    config = cli_config(tmp_path / "mailrouter.toml", settings, rules_dir=str(rules))
    sink.answers = ["550 5.1.1 no such mailbox", "550 5.1.1 no such mailbox"]
    with RunningGateway(settings) as gateway:
        first, second = gateway.accept(WALSALL), gateway.accept(WALSALL)
        wait_for(lambda: gateway.state(first) == gateway.state(second) == "parked")
        # The team's address was wrong; ops fix it in the rules and reload.
        mailboxes = rules / "mailboxes.yaml"
        mailboxes.write_text(mailboxes.read_text().replace(
            "wm.magistrates.defence@cps.gov.uk", "wm.mags.fixed@cps.gov.uk"))  # fmt: skip
        assert gateway.gateway.reload_rules().accepted  # type: ignore[union-attr]
        done = _queue(config, "requeue", "--all-parked", "--route", "magistrates")
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count("decided again: deliver to magistrates <wm.mags.fixed@") == 2
        wait_for(lambda: gateway.state(first) == gateway.state(second) == "delivered")
        assert [m["rcpt"] for m in sink.received[-2:]] == [["wm.mags.fixed@cps.gov.uk"]] * 2
        row = gateway.row(first)
        assert row["mailbox"] == "wm.mags.fixed@cps.gov.uk"
        log = [a["outcome"] for a in gateway.journal("attempts", first)]
        assert log == ["parked", "held", "requeued", "delivered"]
        # Nothing left to requeue: said so.
        again = _queue(config, "requeue", first)
        assert again.returncode == 1 and "not in the spool (delivered" in again.stdout


def test_delete_cat_and_filters(tmp_path: Path, downstream: tuple[Downstream, int]) -> None:
    sink, port = downstream
    settings = gateway_settings(
        tmp_path / "var",
        delivery={"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": port,
                                                "starttls": "off"}},
    )  # fmt: skip
    config = cli_config(tmp_path / "mailrouter.toml", settings)
    sink.answers = ["550 5.1.1 no such mailbox"] * 2
    with RunningGateway(settings) as gateway:
        mags = gateway.accept(WALSALL)
        crown = gateway.accept("URN 20AB1234522 - Birmingham Crown Court - R v JONES")
        wait_for(lambda: gateway.state(mags) == gateway.state(crown) == "parked")
        shown = _queue(config, "cat", mags)
        assert shown.returncode == 0 and f'"id": "{mags}"' in shown.stdout
        assert "\nSubject: URN 20AB1234521 - Walsall MC" in shown.stdout, shown.stdout[:600]
        body = _queue(config, "cat", "--body-only", mags)
        assert body.stdout.startswith("From: A Solicitor")
        # Filters: by route, and by age (both are younger than an hour).
        assert "no parked messages" in _queue(config, "retry", "--all-parked",
                                              "--older-than", "1h").stdout  # fmt: skip
        gone = _queue(config, "delete", "--reason", "sent twice by the firm", mags)
        assert gone.returncode == 0 and "deleted (sent twice by the firm)" in gone.stdout
        assert gateway.state(mags) == "deleted" and not gateway.gateway.spool.exists(mags)  # type: ignore[union-attr]
        assert gateway.journal("attempts", mags)[-1]["detail"] == "sent twice by the firm"
        assert _queue(config, "cat", mags).returncode == 1
        assert _queue(config, "delete", "--reason", "again", mags).returncode == 1
        listed = _queue(config, "list", "--state", "deleted,parked")
        assert mags in listed.stdout and crown in listed.stdout
        retried = _queue(config, "retry", "--all-parked", "--route", "crown_court")
        assert retried.stdout.strip() == f"{crown}: queued for another attempt now"
        wait_for(lambda: gateway.state(crown) == "delivered")
    assert _queue(config, "list", "--state", "frob").returncode == 2


# --- retention and replay -------------------------------------------------------------------


def _send_samples(gateway: RunningGateway) -> int:
    """Every rules sample over SMTP, as its sender; how many were decided after DATA."""
    decided = 0
    for eml in sorted((RULES_DIR / "samples").glob("*.eml")):
        sender = json.loads(eml.with_suffix(".json").read_text())["mail_from"]
        with gateway.smtp() as client:
            if client.mail(sender)[0] != 250 or client.rcpt(FRONT_DOOR)[0] != 250:
                continue  # refused at RCPT: never decided, never retained
            client.data(eml.read_bytes())
            decided += 1
    return decided


def test_replay_shows_what_a_rule_change_would_do_to_real_traffic(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "var")
    config = cli_config(tmp_path / "mailrouter.toml", settings)
    with RunningGateway(settings) as gateway:
        decided = _send_samples(gateway)
        wait_for(lambda: not gateway.gateway.spool.ids(), timeout=30)  # type: ignore[union-attr]
    retained = sorted(p for p in (settings.var_dir / "retained").rglob("*") if p.is_file())
    assert decided >= 10 and len(retained) == decided
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in retained)
    assert all(p.parent.stat().st_mode & 0o777 == 0o700 for p in retained)
    # The candidate: Crown Court mail to the CCU.
    candidate = _rules_copy(tmp_path)
    crown_rule = "when: {court_type: [crown]}\n    route: crown_court"
    path = candidate / "rules.yaml"
    path.write_text(path.read_text().replace(crown_rule, crown_rule.replace("crown_court", "ccu")))
    shown = subprocess.run(
        [MAILROUTER, "replay", "--rules", str(candidate), "--since", "1h", "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "deliver/crown_court [crown-court] -> deliver/ccu [crown-court]" in lines[0]
    version = load_ruleset(candidate).fingerprint
    assert lines[-1] == (
        f"{decided} retained messages decided with {candidate} (version {version}): 1 would change"
    )
    as_json = subprocess.run(
        [MAILROUTER, "replay", "--json", "--rules", str(candidate), "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    *changes, summary = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [c["after"] for c in changes] == [{"action": "deliver", "route": "ccu",
                                             "rule": "crown-court"}]  # fmt: skip
    assert summary["decided"] == decided and summary["changed"] == 1
    # The rules as they are change nothing.
    same = subprocess.run(
        [MAILROUTER, "replay", "--rules", str(RULES_DIR), "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert same.stdout.strip().endswith(": 0 would change")


def test_retention_is_purged_by_the_day_and_can_be_turned_off(tmp_path: Path) -> None:
    var = tmp_path / "var"
    with RunningGateway(gateway_settings(var, retention={"days": 2})) as gateway:
        assert _send_samples(gateway) >= 10
    retention = Retention(var / "retained", days=2)
    assert retention.purge() == 0  # today's stay
    assert retention.purge(time.time() + 3 * 86400) >= 10  # three days on: gone
    assert list((var / "retained").iterdir()) == []
    off = tmp_path / "off"
    with RunningGateway(gateway_settings(off, retention={"days": 0})) as gateway:
        assert _send_samples(gateway) >= 10
    assert not (off / "retained").exists() or not any((off / "retained").rglob("*"))


def test_sighup_reloads_and_status_shows_the_outcome(tmp_path: Path) -> None:
    rules, var, port = _rules_copy(tmp_path), tmp_path / "var", free_port()
    env = {**os.environ, "MAILROUTER_VAR_DIR": str(var), "MAILROUTER_RULES_DIR": str(rules),
           "MAILROUTER_SMTP__PORT": str(port)}  # fmt: skip
    process = subprocess.Popen([MAILROUTER, "serve"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip

    def status() -> str:
        shown = subprocess.run([MAILROUTER, "status"], env=env, capture_output=True, text=True,
                               timeout=60)  # fmt: skip
        return shown.stdout

    try:
        assert wait_for(lambda: listening(port), timeout=30)
        assert "no reload since start" in status()
        path = rules / "rules.yaml"
        crown_rule = "when: {court_type: [crown]}\n    route: crown_court"
        path.write_text(
            path.read_text().replace(crown_rule, crown_rule.replace("crown_court", "ccu"))
        )
        process.send_signal(signal.SIGHUP)
        shown = wait_for(lambda: "last reload" in status() and status(), timeout=15)
        assert "refused: rules version" in shown and "still running" in shown
        assert "sample crown-complete: expected deliver/crown_court, got deliver/ccu" in shown
    finally:
        process.terminate()
        process.wait(30)


# --- trace ----------------------------------------------------------------------------------


def test_trace_finds_messages_and_refusals_by_what_ops_know(tmp_path: Path, tmp_rules: Any) -> None:
    rules = tmp_rules(
        {"rules.yaml": ("  - name: crown-court\n", TRY_CCU + "\n  - name: crown-court\n")}
    )
    settings = gateway_settings(tmp_path / "var", rules_dir=rules.directory)
    config = cli_config(tmp_path / "mailrouter.toml", settings)
    with RunningGateway(settings) as gateway:
        walsall = gateway.accept(WALSALL)
        crown = gateway.accept("URN 20AB1234522 - Birmingham Crown Court - R v JONES")
        with gateway.smtp() as client:  # a stranger, refused at RCPT: journalled too
            client.mail("someone@example.com")
            assert client.rcpt(FRONT_DOOR)[0] == 550
        wait_for(lambda: gateway.state(walsall) == gateway.state(crown) == "delivered")

    def trace(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([MAILROUTER, "trace", "--config", str(config), *args],
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    by_urn = trace("--urn", "20ab 12345 22")
    assert by_urn.returncode == 0 and crown in by_urn.stdout and walsall not in by_urn.stdout
    assert "deliver/crown_court (delivered)" in by_urn.stdout
    by_id = trace("--id", walsall, "--json")
    (row,) = [json.loads(line) for line in by_id.stdout.splitlines()]
    assert row["route"] == "magistrates" and json.loads(row["audit"])[0]["rule"] == "try-ccu"
    assert "audit: try-ccu" in trace("--id", walsall).stdout
    assert crown in trace("--message-id", "<test@smithlaw.co.uk>", "--route", "crown_court").stdout
    refused = trace("--action", "refused")
    assert "refused at rcpt" in refused.stdout
    assert "example.com: not a CJSM or police sender" in refused.stdout
    assert "someone@" not in refused.stdout  # only the domain, unless keep_addresses
    by_rule = trace("--rule", "crown-court")
    assert crown in by_rule.stdout and walsall not in by_rule.stdout
    by_action = trace("--action", "deliver", "--route", "magistrates")
    assert walsall in by_action.stdout and crown not in by_action.stdout
    everything = trace("--sender", "smithlaw.co.uk.cjsm.net")
    assert walsall in everything.stdout and crown in everything.stdout
    assert trace("--since", "1h", "--until", "30m").stdout.strip() == "nothing found"
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d ", by_urn.stdout.splitlines()[1])  # London


def test_the_rules_version_is_on_each_decision_and_delivered_copy(tmp_path: Path) -> None:
    with RunningGateway(gateway_settings(tmp_path / "var")) as gateway:
        version = gateway.gateway.ruleset.fingerprint  # type: ignore[union-attr]
        message_id = gateway.accept(WALSALL)
        (path,) = wait_for(lambda: delivered_files(gateway.maildir("magistrates")))
        assert f"X-Mailrouter-Rules: {version}\r\n".encode() in path.read_bytes()
        assert gateway.row(message_id)["rules_version"] == version
    assert len(version) == 12


def test_old_refusals_are_forgotten(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "n")
    now = time.time()
    for age_days in (40, 31, 2):
        row = {"at": now - age_days * 86400, "stage": "rcpt", "reason": "not a CJSM sender"}
        journal.record_refusal(row)
    assert journal.prune_refusals(now - 30 * 86400) == 2
    found = journal.trace(TraceQuery(now - 90 * 86400, now + 1, action="refused"))
    assert len(found) == 1
