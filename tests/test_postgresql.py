"""The PostgreSQL journal and spool, against a real server (tests/postgres.py): schema versions
and `mailrouter db`, claims that no two nodes share, and two gateways on one database, one of
them killed with SIGKILL under load while the other delivers what it had accepted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import postgres
from conftest import FRONT_DOOR, SENDER, build_message
from gateway_helpers import RunningGateway, delivered_files, free_port, gateway_settings, wait_for
from mailrouter import gateway as gateway_module
from mailrouter.store.journal import Journal
from mailrouter.store.migrations import LATEST, SchemaMismatch
from test_crash import MESSAGES, Gateway, Load, delivered, wait_listening
from test_health import get

MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))


@pytest.fixture(scope="module", autouse=True)
def server() -> Iterator[postgres.Server]:
    problem = postgres.available()
    if problem is not None:
        pytest.skip(problem)
    yield postgres.server()


def _queued_row(message_id: str, at: float = 1.0) -> dict[str, object]:
    return {"id": message_id, "received_at": at, "action": "deliver", "state": "queued",
            "route": "magistrates", "reasons": []}  # fmt: skip


# --- the schema ------------------------------------------------------------------------------


def test_db_upgrade_moves_the_schema_on_and_a_gateway_refuses_one_behind(
    server: postgres.Server, tmp_path: Path
) -> None:
    url = server.schema_url()  # empty: no schema version at all
    env = {**os.environ, "MAILROUTER_JOURNAL_URL": url, "MAILROUTER_VAR_DIR": str(tmp_path)}

    def mailrouter(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([MAILROUTER, *args], env=env, capture_output=True, text=True,
                              timeout=60)  # fmt: skip

    status = mailrouter("db", "status")
    assert status.returncode == 1 and "version 0" in status.stdout and "db upgrade" in status.stdout
    served = mailrouter("serve")
    assert served.returncode == 1
    assert "schema is at version 0" in served.stderr and "mailrouter db upgrade" in served.stderr
    upgraded = mailrouter("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert [line.split(":")[0] for line in upgraded.stdout.splitlines()[:-1]] == [
        f"applied {n}" for n in range(1, LATEST + 1)
    ]
    again = mailrouter("db", "upgrade")  # nothing left to do, and saying so
    assert (
        again.returncode == 0
        and again.stdout.strip() == f"schema at version {LATEST} (was {LATEST})"
    )
    assert mailrouter("db", "status").returncode == 0
    # A database a newer mailrouter moved on: this one will not write it.
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("INSERT INTO schema_version VALUES (%s, 'from the future', 0)", (LATEST + 1,))
    with pytest.raises(SchemaMismatch, match="newer than this mailrouter"):
        Journal(url, "n")


def test_two_nodes_upgrading_at_once_apply_each_step_once(server: postgres.Server) -> None:
    url = server.schema_url()
    runs = [
        subprocess.Popen([MAILROUTER, "db", "upgrade"], env={**os.environ,
                         "MAILROUTER_JOURNAL_URL": url}, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]  # fmt: skip
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    applied = [line for out in outputs for line in out.splitlines() if line.startswith("applied")]
    assert len(applied) == LATEST  # each step by one of them, none twice


# --- claims ----------------------------------------------------------------------------------


def test_a_claim_is_skipped_while_locked_and_taken_over_only_after_its_lease() -> None:
    url = postgres.fresh_journal_url()
    node_a, node_b = Journal(url, "a", lease_seconds=30), Journal(url, "b", lease_seconds=30)
    node_a.record(_queued_row("m1"))
    # While node a's claim is not yet committed, node b passes the row over without waiting.
    with node_a._transaction():
        assert node_a._claim("m1", 10.0, None) is not None
        started = time.monotonic()
        assert node_b.claim("m1", 10.0) is None
        assert time.monotonic() - started < 5  # skipped, not waited for (the lock is held)
    assert node_b.claim("m1", 20.0) is None  # claimed by a, lease running
    assert node_b.due(20.0) == []
    assert node_b.recover() == 0  # b's recovery leaves a's claims alone
    assert node_b.due(41.0) == ["m1"]  # a's lease ran out at 40
    taken = node_b.claim("m1", 41.0)
    assert taken is not None and taken.maybe_delivered and taken.attempts == 2
    row = node_b.get("m1")
    assert row is not None and row["claimed_by"] == "b"
    node_b.delivered("m1", 42.0, "maildir", "ok")
    assert node_a.claim("m1", 1000.0) is None  # delivered: nobody's to take


def test_a_transaction_the_server_cuts_off_fails_and_the_next_statement_reconnects(
    server: postgres.Server,
) -> None:
    """The message and its row are written in one transaction, and 250 follows its COMMIT: a
    COMMIT on a lost connection must be an error (a 451), never a success on a new one."""
    url = postgres.fresh_journal_url()
    journal = Journal(url, "n")
    (backend,) = journal._db.execute("SELECT pg_backend_pid()").fetchone()
    with pytest.raises(psycopg.OperationalError), journal._transaction():
        journal.record(_queued_row("m1"))
        with psycopg.connect(server.url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
    assert journal.get("m1") is None  # reconnected, and the cut transaction left nothing
    journal.spool_write("m2", "{}", b"message", _queued_row("m2"))  # and it works again
    assert journal.spool_read("m2") == ("{}", b"message")


def test_not_ready_when_the_database_refuses_writes(tmp_path: Path) -> None:
    settings = gateway_settings(
        tmp_path / "var", journal_url=postgres.fresh_journal_url(), http={"min_free_bytes": 0}
    )
    with (
        RunningGateway(settings) as gateway,
        psycopg.connect(settings.journal_url or "", autocommit=True) as db,
    ):
        assert get(gateway, "/readyz")[0] == 200
        db.execute("ALTER TABLE health RENAME TO health_gone")
        status, body = get(gateway, "/readyz")
        assert status == 503
        assert any(p.startswith("journal: cannot write") for p in body["problems"])
        db.execute("ALTER TABLE health_gone RENAME TO health")
        assert get(gateway, "/readyz")[0] == 200


def test_a_database_restart_is_a_temporary_failure_and_then_mail_flows_again(
    server: postgres.Server, tmp_path: Path
) -> None:
    settings = gateway_settings(tmp_path / "var", journal_url=postgres.fresh_journal_url())
    subject = "URN 20AB1234521 - Walsall MC - R v SMITH"
    with RunningGateway(settings) as gateway:
        before = gateway.accept(subject)
        wait_for(lambda: gateway.state(before) == "delivered")
        server.restart()  # every connection of the gateway and its delivery child is cut
        replies = []
        for _ in range(20):  # a sending server retries a 4xx; each pool thread reconnects
            with gateway.smtp() as client:
                client.mail(SENDER)
                client.rcpt(FRONT_DOOR)
                code, text = client.data(build_message(subject))
            replies.append(code)
            if code == 250:
                break
        assert replies[-1] == 250 and set(replies) <= {250, 451}, replies
        after = text.rsplit(b" ", 1)[1].decode()
        assert wait_for(lambda: gateway.state(after) == "delivered", timeout=30)
    mail = tmp_path / "var" / "mail" / "magistrates"
    assert len(delivered_files(mail)) == 2


# --- two nodes, one database -----------------------------------------------------------------


@pytest.mark.slow
def test_two_gateways_share_one_database_and_one_killed_loses_nothing(tmp_path: Path) -> None:
    """Node a and node b take the same load (a client that cannot reach one tries the other,
    as with two MX hosts). a's delivery child is stopped while it holds claims, then the whole
    of node a is killed with SIGKILL: b delivers what a had accepted, taking a's claims over
    once their lease runs out; every 250 is delivered exactly once."""
    url = postgres.fresh_journal_url()
    mail = tmp_path / "mail"  # the teams' Maildirs, which both nodes deliver to
    shared = {"JOURNAL_URL": url, "JOURNAL_CONNECTIONS": "8", "DELIVERY__LEASE_SECONDS": "3",
              "DELIVERY__MAILDIR__ROOT": str(mail)}  # fmt: skip
    node_a = Gateway(tmp_path / "a", free_port(), NODE="node-a", **shared)
    node_b = Gateway(tmp_path / "b", free_port(), NODE="node-b", **shared)
    load = Load(node_a.port, node_b.port)
    for node in (node_a, node_b):
        node.start()
    for node in (node_a, node_b):
        wait_listening(node.port)
    db = psycopg.connect(url, autocommit=True)

    def held_by_a() -> int:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM messages WHERE state = 'delivering' AND claimed_by = 'node-a'"
        ).fetchone()
        return int(count)

    async def scenario() -> int:
        loader = asyncio.create_task(load.run(time.monotonic() + 240))
        while load.next < MESSAGES // 3 and not loader.done():
            await asyncio.sleep(0.01)
        # Freeze a's delivery child at a moment it holds claims (a few tries at most).
        (child,) = node_a.children()
        for _ in range(200):
            os.kill(child, signal.SIGSTOP)
            if held_by_a():
                break
            os.kill(child, signal.SIGCONT)
            await asyncio.sleep(0.02)
        stranded = held_by_a()
        await asyncio.sleep(0.5)  # a keeps accepting meanwhile
        node_a.kill_node()
        await loader
        return stranded

    try:
        stranded = asyncio.run(scenario())
        wait_for(lambda: load.accepted <= set(delivered(mail)), timeout=120)
        (by_a, taken_over) = db.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE claimed_by = 'node-b') FROM messages "
            "WHERE node = 'node-a'"
        ).fetchone()
    finally:
        db.close()
        node_b.stop()
        if node_a.process is not None and node_a.process.poll() is None:
            node_a.kill_node()
    counts = delivered(mail)
    print(f"accepted={len(load.accepted)} cut={len(load.cut)} by_a={by_a} "
          f"stranded_claims={stranded} taken_over_by_b={taken_over}")  # fmt: skip
    assert stranded > 0, "a's delivery child never held a claim to strand"
    assert by_a > 0 and taken_over >= stranded
    lost = sorted(load.accepted - set(counts))
    assert lost == [], f"{len(lost)} accepted messages never delivered: {lost[:10]}"
    twice = sorted(n for n, c in counts.items() if c > 1)
    assert twice == [], f"delivered more than once: {twice[:10]}"
    assert set(counts) <= load.accepted | load.cut
    assert not load.refused


def test_a_resubmission_is_tagged_whichever_node_saw_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_module, "RECENT_REFRESH_SECONDS", 0.2)
    url = postgres.fresh_journal_url()
    first = gateway_settings(tmp_path / "a", journal_url=url, node="node-a")
    second = gateway_settings(tmp_path / "b", journal_url=url, node="node-b")
    subject = "URN 20AB1234521 - Walsall MC - R v SMITH"
    with RunningGateway(first) as node_a, RunningGateway(second) as node_b:
        assert "resubmission" not in (node_a.journal("get", node_a.accept(subject))["tags"] or "")
        time.sleep(1.0)  # node b takes the journal's recent URNs again meanwhile
        again = node_b.journal("get", node_b.accept(subject))  # b's first message of it
    assert "resubmission" in (again["tags"] or "")
