"""The reader's vocabulary is data (routing_rules/reader.yaml): validated with file and line,
and a word ops add is read with no change to the code (DESIGN §4a point 4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RULES_DIR, Decider, RulesMaker
from mailrouter.model import Action
from mailrouter.rules.ruleset import RulesInvalid, load_ruleset


def _broken(tmp_path: Path, old: str, new: str) -> list[str]:
    target = tmp_path / "rules"
    target.mkdir()
    for path in RULES_DIR.iterdir():
        if path.is_file():
            (target / path.name).write_text(path.read_text())
    reader = target / "reader.yaml"
    text = reader.read_text()
    assert old in text
    reader.write_text(text.replace(old, new, 1))
    with pytest.raises(RulesInvalid) as caught:
        load_ruleset(target)
    return [str(p) for p in caught.value.problems]


def test_a_phrase_under_two_labels_is_an_error_at_its_line(tmp_path: Path) -> None:
    problems = _broken(tmp_path, "  court: [court,", "  court: [client,")
    assert any(
        "reader.yaml:" in p and "labels.court[0]" in p and "already listed in labels defendant" in p
        for p in problems
    ), problems


def test_a_bare_yes_or_no_is_caught_with_its_line(tmp_path: Path) -> None:
    problems = _broken(tmp_path, '    - "no"\n', "    - no\n")
    assert any("reader.yaml:" in p and "Input should be a valid string" in p for p in problems)


def test_a_name_word_must_be_one_word(tmp_path: Path) -> None:
    problems = _broken(tmp_path, "  titles: [mr,", "  titles: [mister smith, mr,")
    assert any("names.titles[0]" in p and "must be one word" in p for p in problems), problems


def test_a_phrase_with_no_letters_is_an_error(tmp_path: Path) -> None:
    problems = _broken(tmp_path, "  birth: [born,", "  birth: ['--', born,")
    assert any("cues.birth[0]" in p and "no letters or digits" in p for p in problems), problems


def test_an_unknown_key_is_an_error(tmp_path: Path) -> None:
    problems = _broken(tmp_path, "labels:\n", "labels:\n  nickname: [aka]\n")
    assert any("labels.nickname" in p for p in problems), problems


def test_rules_check_reports_reader_problems_by_file_and_line(tmp_path: Path) -> None:
    _broken(tmp_path, "  court: [court,", "  court: [client,")
    result = subprocess.run(
        [sys.executable, "-m", "mailrouter.cli", "rules", "check", str(tmp_path / "rules")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "reader.yaml:" in result.stderr and "labels.court[0]" in result.stderr


BODY_WITH_NEW_LABEL = (
    "Dear Sir/Madam,\n\nParty charged: John Smith\nDate of birth: 01/02/1990\n"
    "Hearing date: 15/12/2026\nRequest: IDPC\n\nRegards\nA Solicitor\n"
)


def test_a_label_ops_add_is_read_without_code(route: Decider, tmp_rules: RulesMaker) -> None:
    before = route(body=BODY_WITH_NEW_LABEL)
    assert "defendant_name" in before.missing
    rules = tmp_rules(
        {"reader.yaml": ("    - full name\n", "    - full name\n    - party charged\n")}
    )
    after = route(body=BODY_WITH_NEW_LABEL, rules=rules)
    assert after.missing == [] and after.defendants[0].name == "John SMITH"


BODY_WITH_NEW_CUE = (
    "Dear Sir/Madam,\n\nDefendant: John SMITH\nDOB: 01/02/1990\n"
    "He surrenders on 15/12/2026. Counsel is away 20/12/2026.\nRequest: IDPC\n\n"
    "Regards\nA Solicitor\n"
)


def test_a_hearing_cue_ops_add_is_read_without_code(route: Decider, tmp_rules: RulesMaker) -> None:
    before = route(body=BODY_WITH_NEW_CUE)
    assert before.hearing_date is None  # two future dates, neither tied to a hearing
    rules = tmp_rules({"reader.yaml": ("    - hearings\n", "    - hearings\n    - surrenders\n")})
    after = route(body=BODY_WITH_NEW_CUE, rules=rules)
    assert after.hearing_date is not None and after.hearing_date.isoformat() == "2026-12-15"


def test_a_word_ops_mark_as_never_a_name(route: Decider, tmp_rules: RulesMaker) -> None:
    body = (
        "Dear Sir/Madam,\n\nWe act for Fraud SQUAD (DOB 01/02/1990), listed 15/12/2026. "
        "Please serve IDPC.\n\nRegards\nA Solicitor\n"
    )
    assert route(body=body).defendants[0].name == "Fraud SQUAD"
    rules = tmp_rules({"reader.yaml": ("    - crown\n", "    - crown\n    - squad\n")})
    decision = route(body=body, rules=rules)
    assert decision.action is Action.BOUNCE and "defendant_name" in decision.missing
