"""IMAP pull mode against a real Dovecot: messages appended to the watched folder are routed,
their originals filed, notices go (only) where RFC 3834 and seeds/000 allow, and restarts,
dropped connections and hung servers neither lose nor repeat anything."""

from __future__ import annotations

import email
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email import policy
from pathlib import Path
from typing import Any

import pytest
import trustme

from conftest import FRONT_DOOR, SENDER, build_message
from gateway_helpers import (
    RunningGateway,
    delivered_files,
    gateway_settings,
    journal_rows,
    wait_for,
)
from mailrouter.store.migrations import SchemaMismatch
from peers import Dovecot, Downstream, dovecot_missing

pytestmark = [
    pytest.mark.storage,
    pytest.mark.skipif(dovecot_missing() is not None, reason=dovecot_missing() or ""),
]

MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))
BOUNCER = "b.solicitor@otherlaw.co.uk.cjsm.net"
STRANGER = "someone@example.com"


def pull_settings(dovecot: Dovecot, tmp_path: Path, notice_port: int, **pull: Any) -> Any:
    ca_file = tmp_path / "ca.pem"
    dovecot.ca.cert_pem.write_to_path(str(ca_file))
    return gateway_settings(
        tmp_path / "var",
        pull={
            "host": "127.0.0.1",
            "port": dovecot.port,
            "username": Dovecot.USER,
            "password": Dovecot.PASSWORD,
            "ca_file": str(ca_file),
            "timeout": 5,
            "recheck_seconds": 0.2,
            # Dovecot here plays the organisation's mail server, which authenticated the
            # senders before filing their mail: listed as a trusted relay in senders.yaml.
            "peer_ip": "127.0.0.1",
            **pull,
        },
        notices={"smtp": {"host": "127.0.0.1", "port": notice_port, "starttls": "off"}},
    )


def message(
    subject: str, sender: str = SENDER, *, return_path: str | None = None, **kw: Any
) -> bytes:
    """A message as the mailbox's server stores it: with the Return-Path it recorded."""
    path = sender if return_path is None else return_path
    extra = kw.pop("extra_headers", [])
    raw = build_message(subject, sender=sender, extra_headers=extra, **kw)
    return f"Return-Path: <{path}>\r\n".encode() + raw


def append(dovecot: Dovecot, raw: bytes, folder: str = "INBOX") -> None:
    client = dovecot.client()
    try:
        status, _ = client.append(folder, None, None, raw)
        assert status == "OK"
    finally:
        client.logout()


def folder_subjects(dovecot: Dovecot, folder: str) -> list[str]:
    client = dovecot.client()
    try:
        status, data = client.select(f'"{folder}"', readonly=True)
        if status != "OK" or int(data[0]) == 0:
            return []
        _, found = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        return sorted(
            email.message_from_bytes(part[1])["Subject"]
            for part in found
            if isinstance(part, tuple)
        )
    finally:
        client.logout()


def pulling(settings: Any) -> RunningGateway:
    return RunningGateway(settings, listen=False, pull=True)


def swept_once(gateway: RunningGateway) -> None:
    """Wait until the puller has been through the folder once (it is connected, idling)."""
    puller = gateway.gateway.puller  # type: ignore[union-attr]
    assert wait_for(lambda: puller.sweeps >= 1)


def test_each_action_routes_and_files_the_original(
    dovecot: Dovecot, tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    sink, port = downstream
    append(dovecot, message("URN 20AB1234521 - Walsall MC - R v SMITH"))
    append(dovecot, message("URN 20AB1234522 - Birmingham Crown Court - R v JONES"))
    append(dovecot, message("R v BROWN - please help", sender=BOUNCER))
    append(dovecot, message("URN 20AB1234523 - Walsall MC", sender=STRANGER))
    # Incomplete, but automatic: filed as a bounce, and never answered (RFC 3834).
    automatic = ["Auto-Submitted: auto-replied"]
    append(dovecot, message("Out of office", sender=BOUNCER, extra_headers=automatic))
    # A null return path is a bounce from a mail system: not a defence firm, and no reply.
    append(dovecot, message("Undeliverable: R v BROWN", sender=BOUNCER, return_path=""))
    settings = pull_settings(dovecot, tmp_path, port)
    with pulling(settings) as gateway:
        wait_for(lambda: dovecot.folder_size("INBOX") == 0, timeout=30)
        assert folder_subjects(dovecot, "Routed") == [
            "URN 20AB1234521 - Walsall MC - R v SMITH",
            "URN 20AB1234522 - Birmingham Crown Court - R v JONES",
        ]
        assert folder_subjects(dovecot, "Bounced") == ["Out of office", "R v BROWN - please help"]
        assert folder_subjects(dovecot, "Rejected") == [
            "URN 20AB1234523 - Walsall MC",
            "Undeliverable: R v BROWN",
        ]
        assert len(delivered_files(gateway.maildir("magistrates"))) == 1
        assert len(delivered_files(gateway.maildir("crown_court"))) == 1
        wait_for(lambda: sink.received, timeout=15)
        time.sleep(1.0)  # room for a wrong second notice to arrive
    # One notice: the bounce, to the bouncing firm; nothing to the stranger (seeds/000), to
    # the automatic message or to the null return path.
    assert [(m["mail_from"], m["rcpt"]) for m in sink.received] == [("<>", [BOUNCER])]
    notice = email.message_from_bytes(sink.received[0]["data"], policy=policy.default)
    assert notice["Auto-Submitted"] == "auto-replied"
    assert notice["In-Reply-To"] == "<test@smithlaw.co.uk>"
    text = notice.get_content()
    assert "URN" in text and "court centre" in text and "BROWN" not in text


def test_new_mail_is_routed_within_seconds(
    dovecot: Dovecot, tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    _, port = downstream
    settings = pull_settings(dovecot, tmp_path, port)
    with pulling(settings) as gateway:
        swept_once(gateway)
        append(dovecot, message("URN 20AB1234524 - Walsall MC - R v GREEN"))
        # IDLE tells the puller at once; well inside the 25-minute re-IDLE interval.
        assert wait_for(lambda: folder_subjects(dovecot, "Routed"), timeout=10)
        assert len(delivered_files(gateway.maildir("magistrates"))) == 1


def test_killed_and_restarted_nothing_repeated_nothing_skipped(
    dovecot: Dovecot, tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    """`mailrouter pull` as a real process (and its delivery child) is killed with SIGKILL at
    random moments while it works through the folder, then restarted: every message is
    delivered exactly once, and every notice sent at most once."""
    sink, port = downstream
    total = 100
    for n in range(total):
        if n % 10 == 9:
            append(dovecot, message(f"Missing things {n}", sender=BOUNCER))
        else:
            append(dovecot, message(f"URN 20AB12{n:03d}26 - Walsall MC - R v SMITH {n}"))
    settings = pull_settings(dovecot, tmp_path, port)
    config = tmp_path / "pull.toml"
    config.write_text(settings_toml(settings))
    log = (tmp_path / "pull.log").open("ab")
    # Kill when the journal shows the run has taken so many messages: always mid-work,
    # however fast or slow this machine is.
    for threshold in sorted(random.Random(7).sample(range(5, total - 5), 5)):
        process = subprocess.Popen(
            [MAILROUTER, "pull", "--config", str(config)],
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        assert wait_for(lambda t=threshold: taken(settings) >= t, timeout=60, every=0.01)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    assert dovecot.folder_size("INBOX") > 0  # the last kill, too, left work to do
    process = subprocess.Popen(
        [MAILROUTER, "pull", "--config", str(config)], stdout=log, stderr=log,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: dovecot.folder_size("INBOX") == 0, timeout=90)
        wait_for(lambda: len(notified(sink)) >= total // 10, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    maildir = settings.maildir_root / "magistrates"
    subjects = Counter(
        email.message_from_bytes(path.read_bytes())["Subject"] for path in delivered_files(maildir)
    )
    expected = total - total // 10
    assert len(subjects) == expected, f"{len(subjects)} distinct of {expected}"
    assert set(subjects.values()) == {1}, [s for s, c in subjects.items() if c > 1]
    assert len(folder_subjects(dovecot, "Routed")) == expected
    assert len(folder_subjects(dovecot, "Bounced")) == total // 10
    # A notice can be cut between the smart host taking it and the journal recording it:
    # then it goes again (SMTP has no exactly-once). The kills here land where they land, so
    # allow that, but every bounce must have had its notice.
    assert len(notified(sink)) == total // 10


def notified(sink: Downstream) -> set[str]:
    """The gateway ids the notices received so far are about."""
    return {
        str(email.message_from_bytes(m["data"])["X-Mailrouter-Notice"]).split("; ")[1]
        for m in sink.received
    }


def taken(settings: Any) -> int:
    if settings.journal_url is None and not settings.journal_path.exists():
        return 0  # not made yet
    try:
        return int(journal_rows(settings, "SELECT COUNT(*) FROM pulled")[0][0])
    except SchemaMismatch:
        return 0  # being made


def settings_toml(settings: Any) -> str:
    pull, notices = settings.pull, settings.notices.smtp
    return f"""
var_dir = "{settings.var_dir}"
rules_dir = "{settings.rules_dir}"
node = "test-node"
{f'journal_url = "{settings.journal_url}"' if settings.journal_url else ""}
[log]
level = "warning"
[delivery]
scan_seconds = 0.2
[pull]
host = "127.0.0.1"
port = {pull.port}
username = "{pull.username}"
password = "{pull.password}"
ca_file = "{pull.ca_file}"
timeout = 5
recheck_seconds = 0.2
peer_ip = "127.0.0.1"
[notices.smtp]
host = "127.0.0.1"
port = {notices.port}
starttls = "off"
"""


def test_a_dropped_connection_recovers(
    dovecot: Dovecot, tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    _, port = downstream
    settings = pull_settings(dovecot, tmp_path, port)
    with pulling(settings) as gateway:
        swept_once(gateway)
        dovecot.stop()  # the server goes away in the middle of IDLE
        dovecot.start()
        append(dovecot, message("URN 20AB1234525 - Walsall MC - R v WHITE"))
        assert wait_for(lambda: folder_subjects(dovecot, "Routed"), timeout=30)
        assert len(delivered_files(gateway.maildir("magistrates"))) == 1


def test_a_new_uidvalidity_is_a_new_folder(
    dovecot: Dovecot, tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    """The server renumbers the folder (UIDVALIDITY changes): a message with a UID already
    seen under the old UIDVALIDITY is new, and is routed."""
    _, port = downstream
    client = dovecot.client()
    client.create("Defence")
    client.logout()
    settings = pull_settings(dovecot, tmp_path, port, folder="Defence")
    append(dovecot, message("URN 20AB1234527 - Walsall MC - R v FIRST"), "Defence")
    with pulling(settings) as gateway:
        wait_for(lambda: len(folder_subjects(dovecot, "Routed")) == 1, timeout=30)
    client = dovecot.client()
    client.delete("Defence")
    client.create("Defence")
    client.logout()
    append(dovecot, message("URN 20AB1234528 - Walsall MC - R v SECOND"), "Defence")
    with pulling(settings) as gateway:
        wait_for(lambda: len(folder_subjects(dovecot, "Routed")) == 2, timeout=30)
        assert len(delivered_files(gateway.maildir("magistrates"))) == 2


def test_a_server_that_never_answers_is_left_and_tried_again(tmp_path: Path) -> None:
    """A hung server (it accepts, then says nothing) costs one timeout per try: the puller
    gives up on the connection, backs off and tries again, and the gateway stays up."""
    listener = socket.create_server(("127.0.0.1", 0))
    hung_port = listener.getsockname()[1]
    accepted: list[socket.socket] = []

    def accept_forever() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept_forever, daemon=True).start()
    settings = gateway_settings(
        tmp_path / "var",
        pull={"host": "127.0.0.1", "port": hung_port, "username": "u", "password": "p",
              "timeout": 0.5},
    )  # fmt: skip
    try:
        with pulling(settings) as gateway:
            assert wait_for(lambda: len(accepted) >= 3, timeout=20)
            assert gateway.gateway.puller._task is not None  # type: ignore[union-attr]
            assert not gateway.gateway.puller._task.done()  # type: ignore[union-attr]
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


def test_senders_are_checked_by_the_mailbox_servers_authentication_results(
    dovecot: Dovecot, tmp_path: Path, downstream: tuple[Downstream, int], tmp_rules: Any
) -> None:
    """The README's set-up: no trusted peer, the mailbox server's authserv-id trusted. Its
    dmarc=pass routes the message; the same message without it is rejected, quietly."""
    desk, port = downstream
    rules = tmp_rules(
        {"senders.yaml": ("trusted_authserv_ids: []", "trusted_authserv_ids: [mx.cps.test]")}
    )
    vouched = "Authentication-Results: mx.cps.test; dmarc=pass header.from=smithlaw.co.uk.cjsm.net"
    append(dovecot, message("URN 20AB1234529 - Walsall MC - R v ONE", extra_headers=[vouched]))
    append(dovecot, message("URN 20AB1234530 - Walsall MC - R v TWO"))
    settings = pull_settings(dovecot, tmp_path, port, peer_ip="")
    settings = settings.model_copy(update={"rules_dir": rules.directory})
    with pulling(settings) as gateway:
        wait_for(lambda: dovecot.folder_size("INBOX") == 0, timeout=30)
        assert folder_subjects(dovecot, "Routed") == ["URN 20AB1234529 - Walsall MC - R v ONE"]
        assert folder_subjects(dovecot, "Rejected") == ["URN 20AB1234530 - Walsall MC - R v TWO"]
        (delivered,) = delivered_files(gateway.maildir("magistrates"))
        assert b"Subject: [MAGS 20AB1234529] URN" in delivered.read_bytes()
        time.sleep(1.0)  # room for a wrong notice to arrive
    assert desk.received == []


def test_without_idle_or_move_it_polls_and_copies(
    ca: trustme.CA, tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    """A server that announces neither IDLE nor MOVE (RFC 3501 with UIDPLUS only): the puller
    polls, and files originals by COPY, \\Deleted and UID EXPUNGE."""
    _, port = downstream
    dovecot = Dovecot(ca, capability="IMAP4rev1 UIDPLUS LITERAL+")
    dovecot.start()
    try:
        append(dovecot, message("URN 20AB1234531 - Walsall MC - R v POLL"))
        append(dovecot, message("Please help", sender=BOUNCER))
        settings = pull_settings(dovecot, tmp_path, port, poll_seconds=0.5)
        with pulling(settings) as gateway:
            puller = gateway.gateway.puller  # type: ignore[union-attr]
            wait_for(lambda: dovecot.folder_size("INBOX") == 0, timeout=30)
            append(dovecot, message("URN 20AB1234532 - Walsall MC - R v LATER"))
            assert wait_for(lambda: len(folder_subjects(dovecot, "Routed")) == 2, timeout=15)
            assert puller.sweeps >= 2
        assert folder_subjects(dovecot, "Bounced") == ["Please help"]
        client = dovecot.client()
        try:
            status, data = client.select("INBOX")
            assert status == "OK" and int(data[0]) == 0  # expunged, not just flagged
        finally:
            client.logout()
    finally:
        dovecot.close()


def test_serve_can_pull_as_well(
    dovecot: Dovecot, tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    """`[pull] enabled = true`: one gateway listens on SMTP and watches the mailbox."""
    _, port = downstream
    settings = pull_settings(dovecot, tmp_path, port, enabled=True)
    append(dovecot, message("URN 20AB1234533 - Walsall MC - R v PULLED"))
    with RunningGateway(settings) as gateway:
        with gateway.smtp() as client:
            client.sendmail(SENDER, [FRONT_DOOR], build_message("URN 20AB1234534 Walsall MC"))
        assert wait_for(lambda: len(delivered_files(gateway.maildir("magistrates"))) == 2)
        assert wait_for(lambda: folder_subjects(dovecot, "Routed"), timeout=15)
