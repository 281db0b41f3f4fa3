"""The mailrouter command, run as a user would run it (a real process)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import CORPUS, ROOT, RULES_DIR, build_message

MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAILROUTER, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_route_json_one_line_per_file() -> None:
    files = sorted(CORPUS.glob("*.eml"))[:5]
    result = run("route", "--json", *map(str, files))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    decisions = [json.loads(line) for line in lines]
    assert [d["file"] for d in decisions] == [str(f) for f in files]
    assert set(decisions[0]) == {
        "file", "action", "route", "mailbox", "sender", "urn", "court", "defendants",
        "hearing_date", "nature", "missing", "tags", "rule", "reasons",
    }  # fmt: skip


def test_route_uses_sidecar_and_options_override_it() -> None:
    case = CORPUS / "reject-cjsm-untrusted-peer.eml"
    assert json.loads(run("route", "--json", str(case)).stdout)["action"] == "reject"
    trusted = json.loads(run("route", "--json", "--peer-ip", "127.0.0.1", str(case)).stdout)
    assert trusted["action"] == "deliver"


def test_route_without_sidecar_uses_defaults(tmp_path: Path) -> None:
    eml = tmp_path / "plain.eml"
    eml.write_bytes(build_message())
    decision = json.loads(
        run("route", "--json", "--now", "2026-11-23T10:00:00+00:00", str(eml)).stdout
    )
    # Delivered, so the default recipient was the front door and the sender the header From.
    assert decision["action"] == "deliver" and decision["route"] == "magistrates"
    assert decision["sender"]["address"] == "a.solicitor@smithlaw.co.uk.cjsm.net"
    bad_rcpt = run("route", "--json", "--rcpt", "someone@example.com", str(eml))
    assert json.loads(bad_rcpt.stdout)["rule"] == "not-a-gateway-address"


def test_route_explains_in_words() -> None:
    result = run("route", str(CORPUS / "bounce-several-missing.eml"))
    out = result.stdout
    assert "BOUNCE" in out and "[rule missing-information]" in out
    assert "the sender is told:" in out and "Court centre, in the subject" in out
    assert "why:" in out


def test_route_shows_what_was_read_and_why(tmp_path: Path) -> None:
    body = (
        "Dear Sir/Madam,\n\nDefendant: John SMITH\nDOB: 01/02/2031\n"
        "The complainant, Anne COLE (DOB 01/01/1960), has withdrawn.\n"
        "The hearing on 01/11/2026 was adjourned to 15/12/2026.\nRequest: IDPC\n\n"
        "Kind regards\nA Solicitor\n"
    )
    eml = tmp_path / "case.eml"
    eml.write_bytes(build_message(body=body))
    out = run("route", "--now", "2026-11-23T10:00:00+00:00", str(eml)).stdout
    read = out.split("  read:\n", 1)[1].split("  why:", 1)[0]
    assert "+ defendant 'John SMITH' (body line 3, under 'Defendant'): labelled 'Defendant'" in read
    assert "- defendant 'Anne COLE' (body line 5): someone other than the defendant" in read
    assert "- born      '2031-02-01' (body line 4, under 'DOB'): gives an age of -5" in read
    assert "- hearing   '2026-11-01' (body line 6): is in the past" in read
    assert "+ hearing   '2026-12-15' (body line 6): a hearing by 'adjourned to'" in read
    assert "+ nature    'IDPC' (body line 7, under 'Request'): labelled 'Request'" in read
    # None of it reaches the JSON (and so the logs and the journal).
    as_json = run("route", "--json", "--now", "2026-11-23T10:00:00+00:00", str(eml)).stdout
    assert "Anne" not in as_json and "read" not in json.loads(as_json)


def test_route_says_when_nothing_reads_as_an_item(tmp_path: Path) -> None:
    eml = tmp_path / "case.eml"
    eml.write_bytes(build_message(body="Dear Sir/Madam,\n\nPlease serve IDPC.\n"))
    out = run("route", str(eml)).stdout
    assert "- defendant nothing in the message reads as one" in out
    assert "- born      nothing in the message reads as one" in out


def test_route_reports_unreadable_file_and_continues(tmp_path: Path) -> None:
    good = CORPUS / "mags-idpc-plain.eml"
    result = run("route", "--json", str(tmp_path / "absent.eml"), str(good))
    assert result.returncode == 1 and "absent.eml" in result.stderr
    assert json.loads(result.stdout)["action"] == "deliver"


def test_route_with_invalid_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    (rules / "rules.yaml").write_text("rules: [}\n")
    result = run("route", "--rules", str(rules), str(CORPUS / "mags-idpc-plain.eml"))
    assert result.returncode == 1 and "rules.yaml:1:" in result.stderr


def test_rules_check() -> None:
    result = run("rules", "check", str(RULES_DIR))
    assert result.returncode == 0 and ": valid - " in result.stdout
    assert "reader vocabulary:" in result.stdout
    count = len(list((RULES_DIR / "samples").glob("*.eml")))
    assert count >= 12 and f"samples: {count} of {count} pass" in result.stdout


def test_rules_check_runs_the_samples(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    path = rules / "rules.yaml"
    text = path.read_text()
    path.write_text(text.replace("when: {court_type: [crown]}\n    route: crown_court",
                                 "when: {court_type: [crown]}\n    route: ccu"))  # fmt: skip
    result = run("rules", "check", str(rules))
    assert result.returncode == 1
    assert "FAIL crown-complete: expected deliver/crown_court, got deliver/ccu" in result.stdout


def test_rules_sample_turns_a_message_into_a_sample(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    message = tmp_path / "stafford-street.eml"
    original = (rules / "samples" / "magistrates-complete.eml").read_bytes()
    message.write_bytes(original.replace(b"Walsall MC", b"Wolverhampton MC"))
    made = run("rules", "sample", "--rules", str(rules), "--expect-route", "magistrates",
               "--mail-from", "m.hale@haleostrow.co.uk.cjsm.net", str(message))  # fmt: skip
    assert made.returncode == 0 and "it passes" in made.stdout
    sidecar = json.loads((rules / "samples" / "stafford-street.json").read_text())
    assert sidecar["expect"] == {"action": "deliver", "route": "magistrates"}
    assert sidecar["peer_ip"] == "127.0.0.1" and sidecar["mail_from"].startswith("m.hale@")
    assert run("rules", "check", str(rules)).returncode == 0
    # A sample that asks for what the rules do not do yet says so, and then fails the check.
    wanted = run("rules", "sample", "--rules", str(rules), "--expect-route", "crown_court",
                 "--name", "wanted", "--mail-from", "m.hale@haleostrow.co.uk.cjsm.net",
                 str(message))  # fmt: skip
    assert "decide deliver/magistrates today: this sample fails" in wanted.stdout
    assert run("rules", "check", str(rules)).returncode == 1
    again = run("rules", "sample", "--rules", str(rules), "--name", "wanted", str(message))
    assert again.returncode == 1 and "already exists" in again.stderr


def test_rules_check_failure(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    path = rules / "mailboxes.yaml"
    path.write_text(path.read_text().replace("subject_tag: MAGS", "subject_tag: 'MAGS!!'"))
    result = run("rules", "check", str(rules))
    assert result.returncode == 1
    assert "mailboxes.yaml:" in result.stderr and "routes.magistrates.subject_tag" in result.stderr


def test_rules_test_passes_on_the_corpus() -> None:
    result = run("rules", "test", str(RULES_DIR), str(CORPUS))
    assert result.returncode == 0, result.stdout
    assert "0 failed" in result.stdout.splitlines()[-1]


def test_rules_test_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "mags-idpc-plain.eml", corpus / "case.eml")
    sidecar = json.loads((CORPUS / "mags-idpc-plain.json").read_text())
    sidecar["expect"]["route"] = "crown_court"
    (corpus / "case.json").write_text(json.dumps(sidecar))
    result = run("rules", "test", str(RULES_DIR), str(corpus))
    assert result.returncode == 1
    assert "FAIL  case" in result.stdout and "route: want 'crown_court'" in result.stdout


def test_rules_test_with_no_cases_fails(tmp_path: Path) -> None:
    assert run("rules", "test", str(RULES_DIR), str(tmp_path)).returncode == 1
