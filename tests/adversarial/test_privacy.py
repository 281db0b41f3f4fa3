"""Personal data (SECURITY.md "Personal data in logs, journal and notices"): the whole corpus
goes through a real gateway process, logging at debug level, with acknowledgements on. No
defendant's name or date of birth, and no subject text, may then be found in any log line,
journal row or notice the gateway wrote."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import smtplib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CORPUS, FRONT_DOOR, RULES_DIR, SENDER, Decider, RulesMaker, build_message
from gateway_helpers import (
    RunningGateway,
    delivered_files,
    free_port,
    gateway_settings,
    wait_for,
)
from mailrouter.corpus import read_sidecar
from mailrouter.decide import decide
from mailrouter.ingest.records import journal_row
from mailrouter.model import Envelope
from mailrouter.parse.text import fold
from mailrouter.rules.ruleset import load_ruleset

_RULESET = load_ruleset(RULES_DIR)  # loaded once: 70 ms a time, for 298 messages
_GAZETTEER = _RULESET.gazetteer  # "R v DUDLEY": Dudley is a court too
MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))
# Words that are names in one message and ordinary English (or a court) in another.
_ADDRESS = re.compile(r"[\w.+'-]+@[\w.-]+")
_COMMON = frozenset("the and court crown magistrates mr mrs ms miss dr jr sr".split())


def test_the_journal_keeps_no_text_quoted_from_the_message(
    route: Decider, tmp_rules: RulesMaker
) -> None:
    # An ops rule whose pattern matches the defendant in the subject, and a near-miss URN:
    # the reasons quote both (the operator reading `mailrouter route` sees them at once).
    rules = tmp_rules(
        {"rules.yaml": ("when: {court_type: [magistrates]}", r"when: {subject_pattern: 'r v \w+'}")}
    )
    decision = route("URN 20AB1234521 - Birmingham MC - R v MILLS", rules=rules)
    near = route("URN 20AB123452 - Birmingham MC - R v MILLS")
    assert any("r v mills" in r for r in decision.reasons)
    assert any("20AB123452" in r for r in near.reasons)
    for quoted_one in (decision, near):
        kept = json.dumps(journal_row("x", 0.0, "127.0.0.1", "a@b", quoted_one, 1)).lower()
        assert "mills" not in kept and not re.search(r"20ab123452\b", kept)
    assert "subject matches" in kept or "urn missing" in kept  # the reason itself stays


def _secrets(eml: Path) -> set[str]:
    """What a message holds that must not leave it: its defendants' names and dates of birth,
    as the reader found them, and the surname of an "R v SURNAME" subject."""
    sidecar = read_sidecar(eml)
    assert sidecar is not None
    raw = eml.read_bytes()
    envelope = Envelope(sidecar.mail_from, tuple(sidecar.rcpt), "127.0.0.1", {})
    now = sidecar.now or dt.datetime.now(dt.UTC)
    decision = decide(envelope, raw, _RULESET, now)
    found: set[str] = set()
    for defendant in decision.defendants:
        found.update(w for w in re.split(r"[\s,.]+", defendant.name or "") if len(w) > 2)
        if defendant.dob is not None:
            dob = defendant.dob
            found.update(dob.strftime(f) for f in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d/%m/%y"))
    found.update(re.findall(r"\bR\.? v\.? ([A-Z][A-Za-z'-]{2,})", decision.subject or ""))
    return {
        s for s in found if s.lower() not in _COMMON and not _GAZETTEER.is_place(fold(s).strip())
    }


@pytest.mark.slow
def test_no_personal_data_leaves_the_message(tmp_path: Path) -> None:
    var, port = tmp_path / "var", free_port()
    env = {
        **os.environ,
        "MAILROUTER_VAR_DIR": str(var),
        "MAILROUTER_RULES_DIR": str(RULES_DIR),
        "MAILROUTER_SMTP__PORT": str(port),
        "MAILROUTER_LOG__LEVEL": "debug",
        "MAILROUTER_NOTICES__ACKNOWLEDGE": "true",
        "MAILROUTER_NOTICES__SMTP__PORT": str(free_port()),  # nobody there: notices stay queued
    }
    log_path = tmp_path / "gateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([MAILROUTER, "serve"], env=env, stdout=log, stderr=log)
    try:
        wait_for(lambda: b'"started"' in log_path.read_bytes(), timeout=30)
        secrets: set[str] = set()
        sent = 0
        for eml in sorted(CORPUS.glob("*.eml")):
            sidecar = read_sidecar(eml)
            if sidecar is None:
                continue
            secrets |= _secrets(eml)
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                options = ["SMTPUTF8"] if not sidecar.mail_from.isascii() else []
                # A refusal (reject, bounce) is fine: it is journalled.
                with contextlib.suppress(smtplib.SMTPException):
                    client.sendmail(
                        sidecar.mail_from, list(sidecar.rcpt), eml.read_bytes(), options
                    )
                sent += 1
        journal = var / "journal.sqlite3"
        wait_for(lambda: _settled(journal), timeout=60)
        time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(30)
    assert sent > 250 and len(secrets) > 200
    written = {
        "log": log_path.read_text(errors="replace"),
        "journal": "\n".join(sqlite3.connect(journal).iterdump()),
        "notices": "\n".join(
            p.read_text(errors="replace") for p in (var / "outbox").rglob("*") if p.is_file()
        ),
    }
    assert written["notices"], "acknowledgements were written"
    # Senders' addresses are kept on purpose (a notice goes to one): a solicitor who shares a
    # first name with some defendant is no leak.
    written = {where: _ADDRESS.sub("<address>", text) for where, text in written.items()}
    leaks = [
        (where, secret)
        for where, text in written.items()
        for secret in sorted(secrets)
        if re.search(rf"(?<![\w/.-]){re.escape(secret)}(?![\w/-])", text, re.IGNORECASE)
    ]
    assert leaks == [], [(w, s, _context(written[w], s)) for w, s in leaks[:8]]


def _settled(journal: Path) -> bool:
    if not journal.exists():
        return False
    with sqlite3.connect(journal) as db:
        (waiting,) = db.execute(
            "SELECT count(*) FROM messages WHERE state IN ('queued', 'delivering')"
        ).fetchone()
    return waiting == 0


def _context(text: str, secret: str) -> str:
    at = text.lower().find(secret.lower())
    return text[max(0, at - 80) : at + 40]


def test_what_the_gateway_keeps_is_private_to_its_user(tmp_path: Path) -> None:
    var = tmp_path / "var"
    settings = gateway_settings(var, notices={"acknowledge": True, "smtp": {"port": free_port()}})
    with RunningGateway(settings) as gateway, gateway.smtp() as client:
        client.sendmail(SENDER, [FRONT_DOOR], build_message())
        wait_for(lambda: delivered_files(gateway.maildir("magistrates")))
        kept = list(var.rglob("*"))
        assert len([p for p in kept if p.is_file()]) >= 3  # journal, delivered mail, notice
        loose = [(str(p.relative_to(var)), oct(p.stat().st_mode & 0o777)) for p in kept
                 if p.stat().st_mode & 0o077]  # fmt: skip
    assert loose == []
