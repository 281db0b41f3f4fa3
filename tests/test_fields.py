"""Every label form reads as its field (and survives the cheap first-word prefilter)."""

from __future__ import annotations

import pytest

from mailrouter.parse.fields import Label, find_fields

LABELS = {
    Label.DEFENDANT: ["Defendant", "Defendants", "Defendant's name", "The defendant",
                      "Our client", "Client", "Clients", "Client name", "Accused",
                      "Name of defendant", "Full name", "Name", "D1", "Defendant 2",
                      "Defendant (3)"],
    Label.SURNAME: ["Surname", "Family name", "Last name"],
    Label.FORENAMES: ["Forenames", "Fore name", "First name", "Given names", "Christian name"],
    Label.DOB: ["DOB", "D.O.B.", "D O B", "d.o.b", "Date of birth", "Dates of birth",
                "Birth date", "Birthdate", "Born"],
    Label.HEARING: ["Hearing date", "Date of hearing", "Date of next hearing", "Next hearing",
                    "Hearing", "Next court date", "Next appearance", "Next listing",
                    "Listed for", "Listed on", "Listing date", "Court date", "Trial date",
                    "Date listed", "First appearance", "Hearing type", "Date of trial"],
    Label.NATURE: ["Nature of request", "Nature", "Request", "Our request", "Request type",
                   "Type of request", "Details of request", "Enquiry", "Query", "Purpose",
                   "Reason for email", "Action required", "Application", "Nature of enquiry"],
    Label.COURT: ["Court", "Court centre", "Venue", "Location"],
    Label.URN: ["URN", "CPS URN", "Police URN", "Your ref", "Case reference"],
}  # fmt: skip
CASES = [(label, text) for label, texts in LABELS.items() for text in texts]


@pytest.mark.parametrize("label,text", CASES, ids=[f"{lab.value}:{t}" for lab, t in CASES])
@pytest.mark.parametrize("layout", ["{}: 01/02/2026", "- {} - 01/02/2026", "*{}:* 01/02/2026",
                                    "1. {}:\t01/02/2026", "{}\t01/02/2026"])  # fmt: skip
def test_label_forms(label: Label, text: str, layout: str) -> None:
    (found,) = find_fields([layout.format(text)])
    assert found.label is label and found.value == "01/02/2026"


@pytest.mark.parametrize(
    "line",
    ["Request a copy of the papers.", "Dear Sir/Madam,", "Name of our firm is irrelevant",
     "Court is in session", "The defendant is due to appear", "Hearing - is adjourned"],
)  # fmt: skip
def test_sentences_are_not_labels(line: str) -> None:
    assert find_fields([line]) == []


def test_ordinals() -> None:
    fields = find_fields(["Defendant 1: A B", "Defendant (2): C D", "D3: E F"])
    assert [f.ordinal for f in fields] == [1, 2, 3]
