"""Pathological text against every pattern the decision uses.

Each input is sized so that a quadratic or exponential pattern would take minutes. The child
process's timeout is a hang detector, not a speed assertion: a linear pass takes well under a
second per input on any machine.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

INPUTS = {
    "spaces": "body=' ' * 1_500_000",
    "spaces-and-commas": "body=' ,' * 400_000",
    "digits": "body='1' * 1_000_000",
    "date-fragments": "body='1/1/' * 200_000",
    "month-fragments": "body='1 jan ' * 150_000",
    "urn-fragments": "body='20 AB 1234 ' * 100_000",
    "labels": "body='DOB: ' * 200_000",
    "label-lines": "body='Defendant: John SMITH\\n' * 40_000",
    "client-cues": "body='our client ' * 100_000",
    "open-parens": "body='Defendant: ' + '(' * 1900",
    "name-spaces": "body='Defendant: John' + ' ' * 1990 + 'x'",
    "wrote-lines": "body='On a\\n' * 100_000",
    "quotes": "body='> ' * 500_000",
    "html-lt": "body='<' * 1_000_000; kind='html'",
    "html-comments": "body='<!--' * 300_000; kind='html'",
    "html-open-tags": "body='<a href=' * 200_000; kind='html'",
    "html-blockquotes": "body='<blockquote>' * 100_000 + 'x'; kind='html'",
    "html-styles": "body='<style>' * 200_000; kind='html'",
    "blank-separated-lines": "body='a\\n\\n' * 300_000",
    "labels-alone": "body='Defendant\\n\\n' * 100_000",
    "flattened-tables": "body=('Name\\n\\nDOB\\n\\n' + 'x\\n\\n' * 50) * 5_000",
    "tab-rows": "body='a\\tb\\tc\\n' * 200_000",
    "names-before-dates-of-birth": "body='John SMITH dob 01/01/1990, ' * 40_000",
    "r-v-names": "body='R v John SMITH ' * 80_000",
    "capitals": "body='Mr ABC DEF ' * 100_000",
    "weekday-days": "body='fri 11/12 ' * 100_000",
    "inner-labels": "body='Defendant: A; DOB: 01/01/1990; ' * 40_000",
    "nested-divs": "body='<div>' * 200_000 + 'x'; kind='html'",
    "subject-urns": "subject='20 AB 12345 21 ' * 300",
    "subject-words": "subject='Birmingham ' * 400",
    "subject-encoded-words": "subject='=?utf-8?q?' * 500",
}


@pytest.mark.parametrize("setup", INPUTS.values(), ids=INPUTS.keys())
def test_hostile_input_finishes(setup: str) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from conftest import NOW, SENDER, FRONT_DOOR, RULES_DIR, build_message
        from mailrouter.decide import decide
        from mailrouter.model import Envelope
        from mailrouter.rules.ruleset import load_ruleset
        subject = 'URN 20AB1234521 Walsall'
        body = ''
        kind = 'plain'
        {setup}
        raw = build_message(subject, body, content_type='text/' + kind + '; charset=utf-8')
        decision = decide(Envelope(SENDER, (FRONT_DOOR,), '127.0.0.1'), raw,
                          load_ruleset(RULES_DIR), NOW)
        print(decision.action.value)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() in ("deliver", "bounce", "reject", "hold")


def test_authentication_results_with_a_long_token() -> None:
    script = textwrap.dedent(
        """
        from mailrouter.policy.auth import auth_results_pass
        header = 'mx.cps.test; dkim=pass ' + 'a' * 4000
        print(auth_results_pass([header] * 50, ['mx.cps.test'], 'x.cjsm.net'))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.strip() == "None"


def test_ops_pattern_on_hostile_text() -> None:
    # A pattern that would backtrack catastrophically in Python's re is linear in RE2.
    script = textwrap.dedent(
        """
        from mailrouter.rules.keywords import compile_pattern
        print(compile_pattern('(a+)+b').search('a' * 200_000) is None)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.strip() == "True"
