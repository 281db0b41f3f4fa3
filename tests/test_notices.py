"""What senders are told: each missing item named, a correct example, nothing echoed back."""

from __future__ import annotations

from conftest import Decider
from mailrouter.notices import bounce_lines, bounce_paragraphs, bounce_summary, clean, reject_text
from mailrouter.rules.ruleset import Ruleset


def test_bounce_names_every_missing_item(route: Decider, ruleset: Ruleset) -> None:
    decision = route("URN 20WV5512326", "Client: Kyle DAWSON\n\nPlease send the IDPC.\n")
    assert decision.missing == ["court", "dob", "hearing_date"]
    text = "\n".join(bounce_lines(decision, ruleset.notices))
    assert "Court centre, in the subject" in text
    assert "date of birth, in the body" in text
    assert "Date of the next hearing" in text
    assert "URN, in the subject" not in text  # present, so not asked for
    assert "Subject: URN 20WV5512326 - Birmingham Magistrates' Court - R v SURNAME" in text


def test_bounce_never_echoes_names_or_dates_of_birth(route: Decider, ruleset: Ruleset) -> None:
    body = "Defendant: Kyle DAWSON\nDOB: 14/03/2031\nPlease send the IDPC.\n"
    decision = route("URN 20WV5512326 - Walsall", body)
    text = "\n".join(bounce_lines(decision, ruleset.notices))
    assert "DAWSON" not in text and "Kyle" not in text and "2031" not in text
    assert "not plausible" in text


def test_bounce_lines_are_short_and_clean(route: Decider, ruleset: Ruleset) -> None:
    decision = route("Sandwell MC", "nothing useful\n")
    lines = bounce_lines(decision, ruleset.notices)
    for line in lines[1:]:
        assert len(line) <= 78, line
    for line in lines:
        assert clean(line) == line.strip() or line == ""


def test_summary_and_reject_text(route: Decider, ruleset: Ruleset) -> None:
    decision = route("URN 20AB1234521 - R v SMITH")
    assert bounce_summary(decision, ruleset.notices).endswith("(court centre) and send again")
    assert "CJSM" in reject_text(ruleset.notices)


def test_clean_removes_control_characters() -> None:
    assert clean("a\r\nBcc: x\x00y\tz") == "a Bcc: x y z"


def test_smtp_paragraphs_fit_reply_lines(route: Decider, ruleset: Ruleset) -> None:
    decision = route("Sandwell MC", "nothing useful\n")
    paragraphs = bounce_paragraphs(decision, ruleset.notices)
    assert all(0 < len(p) <= 440 for p in paragraphs)
    assert paragraphs[0].startswith("Not accepted") and paragraphs[-1].startswith("This is")
    assert any(p.startswith("Body: Defendant:") for p in paragraphs)
