"""Poison messages in pull mode (SECURITY.md "Poison messages"), against a real Dovecot: a
message the gateway cannot handle is filed in Failed, journalled and counted, and the messages
after it in the folder are routed all the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway_helpers import delivered_files, journal_rows, wait_for
from mailrouter.ingest import imap_pull
from peers import Dovecot, Downstream, dovecot_missing
from test_imap_pull import append, folder_subjects, message, pull_settings, pulling

pytestmark = [
    pytest.mark.storage,
    pytest.mark.skipif(dovecot_missing() is not None, reason=dovecot_missing() or ""),
]

STRANGER = "someone@example.com"


def test_an_unusable_charset_is_no_longer_poison(
    dovecot: Dovecot, tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    # The message that stopped pull mode: not from CJSM, its subject in charset "undefined".
    poison = message("=?undefined?q?R_v_MILLS?=", sender=STRANGER)
    append(dovecot, poison)
    append(dovecot, message("URN 20AB1234521 - Walsall MC - R v SMITH"))
    with pulling(pull_settings(dovecot, tmp_path, downstream[1])) as gateway:
        wait_for(lambda: dovecot.folder_size("INBOX") == 0, timeout=30)
        assert folder_subjects(dovecot, "Rejected") == ["=?undefined?q?R_v_MILLS?="]
        assert folder_subjects(dovecot, "Routed") == ["URN 20AB1234521 - Walsall MC - R v SMITH"]
        assert gateway.gateway.puller.failed == 0  # type: ignore[union-attr]


def test_a_message_that_cannot_be_handled_is_filed_and_the_rest_go_on(
    dovecot: Dovecot,
    tmp_path: Path,
    downstream: tuple[Downstream, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Fault injection: decide fails on one message, as an undiscovered bug in the reader would.
    real = imap_pull.decide

    def failing(envelope: Any, raw: bytes, *args: Any, **kwargs: Any) -> Any:
        if b"POISON" in raw:
            raise UnicodeError("a reader bug not found yet")
        return real(envelope, raw, *args, **kwargs)

    monkeypatch.setattr(imap_pull, "decide", failing)
    append(dovecot, message("URN 20AB1234521 - Walsall MC - R v SMITH - POISON"))
    for n in (2, 3):
        append(dovecot, message(f"URN 20AB123452{n} - Walsall MC - R v SMITH"))
    settings = pull_settings(dovecot, tmp_path, downstream[1], failed_folder="Quarantine")
    with pulling(settings) as gateway:
        wait_for(lambda: dovecot.folder_size("INBOX") == 0, timeout=30)
        assert folder_subjects(dovecot, "Quarantine") == [
            "URN 20AB1234521 - Walsall MC - R v SMITH - POISON"
        ]
        assert len(folder_subjects(dovecot, "Routed")) == 2
        assert len(wait_for(lambda: delivered_files(gateway.maildir("magistrates")))) == 2
        assert gateway.gateway.puller.failed == 1  # type: ignore[union-attr]
    ((action, reasons),) = journal_rows(
        settings, "SELECT action, reasons FROM messages WHERE rule = 'failed'"
    )
    assert action == "hold" and "UnicodeError" in reasons and "MILLS" not in reasons
