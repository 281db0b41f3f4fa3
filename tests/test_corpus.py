"""Every case of the shared sample corpus, one test id per case, and the shared scorer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS, FRONT_DOOR, ROOT, SHARED
from mailrouter import corpus
from mailrouter.decide import decide
from mailrouter.model import Envelope
from mailrouter.rules.ruleset import Ruleset

CASES = sorted(CORPUS.glob("*.eml"))


def test_the_shared_corpus_is_present() -> None:
    # CI runs with ../shared beside the checkout; without it this suite would test nothing.
    assert len(CASES) >= 50, f"expected the shared corpus at {CORPUS}"


@pytest.mark.parametrize("eml", CASES, ids=[p.stem for p in CASES])
def test_corpus_case(eml: Path, ruleset: Ruleset) -> None:
    sidecar = corpus.read_sidecar(eml)
    assert sidecar is not None and sidecar.expect is not None and sidecar.now is not None
    envelope = Envelope(sidecar.mail_from or "", sidecar.rcpt or (FRONT_DOOR,), sidecar.peer_ip)
    got = decide(envelope, eml.read_bytes(), ruleset, sidecar.now).to_json(file=eml.name)
    assert corpus.compare(sidecar.expect, got) == []


def test_explaining_never_changes_a_decision(ruleset: Ruleset) -> None:
    # `route` explains (explain=True), which reads everything it can note; the gateway does
    # not, and skips reading what cannot change the answer (the subject's dates, when the
    # body gives the hearing by a label or a cue). Both must decide alike.
    for eml in CASES:
        sidecar = corpus.read_sidecar(eml)
        assert sidecar is not None and sidecar.now is not None
        envelope = Envelope(sidecar.mail_from or "", sidecar.rcpt or (FRONT_DOOR,), sidecar.peer_ip)
        raw = eml.read_bytes()
        plain = decide(envelope, raw, ruleset, sidecar.now)
        explained = decide(envelope, raw, ruleset, sidecar.now, explain=True)
        assert plain.to_json() == explained.to_json(), eml.name


@pytest.mark.parametrize("eml", CASES, ids=[p.stem for p in CASES])
def test_corpus_reasons_carry_no_names_or_dates_of_birth(eml: Path, ruleset: Ruleset) -> None:
    sidecar = corpus.read_sidecar(eml)
    assert sidecar is not None and sidecar.now is not None
    envelope = Envelope(sidecar.mail_from or "", sidecar.rcpt or (FRONT_DOOR,), sidecar.peer_ip)
    decision = decide(envelope, eml.read_bytes(), ruleset, sidecar.now)
    text = " ".join(decision.reasons + list(decision.details.values())).lower()
    for defendant in decision.defendants:
        if defendant.name:
            for part in defendant.name.lower().split():
                assert part not in text.split(), f"{part!r} leaked into the reasons"
        if defendant.dob:
            for form in (defendant.dob.isoformat(), defendant.dob.strftime("%d/%m/%Y")):
                assert form not in text


def test_shared_scorer_passes_every_case() -> None:
    scorer = SHARED / "tools" / "eval_corpus.py"
    exe = Path(sys.executable).with_name("mailrouter")
    result = subprocess.run(
        [sys.executable, str(scorer), str(CORPUS), "--min-accuracy", "1.0", "--exe", str(exe)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "100.0%" in result.stdout.splitlines()[-1]
