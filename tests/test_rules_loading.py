"""routing_rules/ as data: a complete Ruleset or every problem with file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import RULES_DIR
from mailrouter.rules.ruleset import RulesInvalid, load_ruleset


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def _edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _problems(directory: Path) -> list[str]:
    with pytest.raises(RulesInvalid) as info:
        load_ruleset(directory)
    return [str(p) for p in info.value.problems]


def _line_of(directory: Path, name: str, text: str) -> int:
    for number, line in enumerate((directory / name).read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(text)


def test_bundled_rules_load() -> None:
    ruleset = load_ruleset(RULES_DIR)
    assert [r.name for r in ruleset.rules][:3] == [
        "not-cjsm",
        "not-authenticated",
        "missing-information",
    ]
    assert set(ruleset.routes) == {"magistrates", "crown_court", "poca", "ccu", "triage"}
    assert ruleset.is_front_door("Defence.WestMidlands@cps.gov.uk")


def test_misspelt_key_names_file_line_and_field(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(rules, "rules.yaml", "when: {court_type: [crown]}", "when: {court_typ: [crown]}")
    (problem,) = _problems(rules)
    line = _line_of(rules, "rules.yaml", "court_typ:")
    assert problem.startswith(f"{rules / 'rules.yaml'}:{line}: rules[")
    assert "when.court_typ" in problem and "Extra inputs are not permitted" in problem


def test_unknown_route(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(rules, "rules.yaml", "route: crown_court", "route: crown")
    (problem,) = _problems(rules)
    line = _line_of(rules, "rules.yaml", "route: crown")
    assert f"rules.yaml:{line}:" in problem and "no route named 'crown'" in problem


def test_unknown_keyword_list(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(rules, "rules.yaml", "when: {matches: [poca]}", "when: {matches: [poka]}")
    (problem,) = _problems(rules)
    assert "matches[0]" in problem and "no keyword list named 'poka'" in problem


def test_bad_pattern_is_refused(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(
        rules,
        "keywords.yaml",
        "      - confiscation\n",
        "      - confiscation\n    patterns: ['(?<=x)y']\n",
    )
    problems = _problems(rules)
    assert any("keywords.yaml" in p for p in problems)


def test_backtracking_pattern_is_refused(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(
        rules, "rules.yaml", "when: {court_type: [crown]}", "when: {subject_pattern: '(\\w+)\\1'}"
    )
    (problem,) = _problems(rules)
    assert "subject_pattern" in problem and "RE2" in problem


def test_duplicate_key(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(rules, "senders.yaml", "verify_dkim: true", "verify_dkim: true\nverify_dkim: false")
    (problem,) = _problems(rules)
    assert "senders.yaml" in problem and "appears twice" in problem


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(rules, "mailboxes.yaml", "hold_route: triage", "hold_route: [triage")
    (problem,) = _problems(rules)
    assert "mailboxes.yaml:" in problem and "not valid YAML" in problem


def test_rule_with_no_conditions_needs_catch_all(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(rules, "rules.yaml", "    catch_all: true\n", "")
    (problem,) = _problems(rules)
    assert "catch_all" in problem


def test_missing_file(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    (rules / "forces.yaml").unlink()
    (problem,) = _problems(rules)
    assert problem.endswith("forces.yaml: file is missing")


def test_unquoted_force_code(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(rules, "forces.yaml", '"20": West Midlands', "20: West Midlands")
    problems = _problems(rules)
    assert any("forces.yaml" in p for p in problems)


def test_bad_case_list_entry(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(rules, "case_lists.yaml", "ccu_cases: []", "ccu_cases: [20AB12345]")
    (problem,) = _problems(rules)
    assert "case_lists.yaml" in problem and "not a URN" in problem


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    _edit(rules, "rules.yaml", "route: crown_court", "route: crown")
    _edit(rules, "rules.yaml", "    route: magistrates\n\n", "    route: mags\n\n")
    assert len(_problems(rules)) == 2


def test_per_area_split_in_the_bundled_comments_works(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    mailboxes = (rules / "mailboxes.yaml").read_text()
    start = mailboxes.index("  # magistrates_staffordshire:")
    block = mailboxes[start:].replace("  # ", "  ")
    (rules / "mailboxes.yaml").write_text(mailboxes[:start] + block)
    text = (rules / "rules.yaml").read_text()
    start = text.index("  # - name: magistrates-staffordshire")
    end = text.index("  - name: crown-court")
    uncommented = text[start:end].replace("  # ", "  ")
    (rules / "rules.yaml").write_text(text[:start] + uncommented + text[end:])
    ruleset = load_ruleset(rules)
    assert "magistrates_staffordshire" in ruleset.routes
    assert "magistrates-staffordshire" in [r.name for r in ruleset.rules]
