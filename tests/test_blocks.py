"""The body laid out into blocks (parse.blocks): labelled values in every layout solicitors
use, label and value on separate lines, tables by header row or first column, flattened
tables, lists and sentences."""

from __future__ import annotations

import pytest

from mailrouter.parse.blocks import Block, segment, split_sentences
from mailrouter.parse.html import html_to_text
from mailrouter.parse.vocabulary import LabelKind
from mailrouter.rules.ruleset import Ruleset


def blocks(ruleset: Ruleset, text: str) -> list[Block]:
    lines = text.split("\n")
    return segment(lines, 0, len(lines), ruleset.vocabulary)


def fields(ruleset: Ruleset, text: str) -> list[tuple[LabelKind | None, str]]:
    return [(b.kind, b.text) for b in blocks(ruleset, text)]


K = LabelKind
LAYOUTS = {
    "colon": "Defendant: John SMITH",
    "colon-tab": "Defendant:\tJohn SMITH",
    "tab": "Defendant\tJohn SMITH",
    "spaced-dash": "Defendant - John SMITH",
    "en-dash": "Defendant – John SMITH",
    "aligned-spaces": "Defendant        John SMITH",
    "equals": "Defendant = John SMITH",
    "pipe": "Defendant | John SMITH",
    "bullet": "- Defendant: John SMITH",
    "star-bullet": "  *   Defendant: John SMITH",
    "numbered": "1. Defendant: John SMITH",
    "bold-markdown": "*Defendant:* John SMITH",
    "ordinal": "Defendant 1: John SMITH",
    "ordinal-brackets": "Defendant (1): John SMITH",
    "short-ordinal": "D1: John SMITH",
    "upper-case": "DEFENDANT: John SMITH",
    "possessive": "Defendant's name: John SMITH",
    "slash": "Defendant/Respondent: John SMITH",
    "extra-word": "Defendant particulars: John SMITH",
    "plural-marker": "Defendant(s): John SMITH",
}


@pytest.mark.parametrize("line", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_label_layouts(ruleset: Ruleset, line: str) -> None:
    assert fields(ruleset, line) == [(K.DEFENDANT, "John SMITH")]


LABEL_WORDS = {
    "Client": K.DEFENDANT,
    "Accused": K.DEFENDANT,
    "Name of defendant": K.DEFENDANT,
    "Surname": K.SURNAME,
    "Forename(s)": K.FORENAMES,
    "D.O.B.": K.DOB,
    "Date of birth": K.DOB,
    "Client DOB": K.DOB,
    "Date of birth of defendant": K.DOB,
    "Next hearing": K.HEARING,
    "Date of the next hearing": K.HEARING,
    "Date of next appearance": K.HEARING,
    "Newton hearing": K.HEARING,
    "Listed for": K.HEARING,
    "Nature of request": K.NATURE,
    "Purpose of email": K.NATURE,
    "Court": K.COURT,
    "URN": K.URN,
    "Your ref": K.URN,
    "Our ref": K.OTHER,
    "Client ref": K.OTHER,
    "Date of offence": K.OTHER,
    "PNC ID": K.OTHER,
}


@pytest.mark.parametrize("label,kind", LABEL_WORDS.items(), ids=LABEL_WORDS.keys())
def test_what_a_label_says(ruleset: Ruleset, label: str, kind: LabelKind) -> None:
    assert fields(ruleset, f"{label}: x")[0][0] is kind


@pytest.mark.parametrize(
    "line",
    [
        "Our client is charged with: theft",
        "Please note: the hearing has moved",
        "Name/DOB: John SMITH 01/02/1990",
        "Re: John SMITH",
        "http://example.com/x",
    ],
)
def test_lines_that_are_not_labels_stay_text(ruleset: Ruleset, line: str) -> None:
    assert fields(ruleset, line) == [(None, line)]


def test_a_sentence_is_not_a_label_even_if_it_starts_like_one(ruleset: Ruleset) -> None:
    text = "Request a copy of the papers, please."
    assert fields(ruleset, text) == [(None, text)]


def test_a_date_label_needs_no_separator(ruleset: Ruleset) -> None:
    assert fields(ruleset, "DOB 01/02/1990\nd.o.b. 1.2.90\nNext hearing Monday 3 May 2027") == [
        (K.DOB, "01/02/1990"),
        (K.DOB, "1.2.90"),
        (K.HEARING, "Monday 3 May 2027"),
    ]


def test_a_date_label_with_prose_after_it_is_prose(ruleset: Ruleset) -> None:
    text = "The trial is fixed for Monday 14 December 2026, with an estimate of eight weeks."
    assert fields(ruleset, text) == [(None, text)]


def test_several_labels_on_one_line(ruleset: Ruleset) -> None:
    line = "Defendant: Ashleigh BOYCE; DOB: 05/05/1985; Newton hearing: 26/01/2027; Request: x"
    assert fields(ruleset, line) == [
        (K.DEFENDANT, "Ashleigh BOYCE"),
        (K.DOB, "05/05/1985"),
        (K.HEARING, "26/01/2027"),
        (K.NATURE, "x"),
    ]
    assert len({b.group for b in blocks(ruleset, line)}) == 1  # one line, one group


def test_sentences_after_a_value_are_prose(ruleset: Ruleset) -> None:
    assert fields(ruleset, "Client: Orla QUINN, born 08/03/1983. Sentence hearing 15/01/2027.") == [
        (K.DEFENDANT, "Orla QUINN, born 08/03/1983."),
        (None, "Sentence hearing 15/01/2027."),
    ]


@pytest.mark.parametrize("gap", ["\n", "\n\n"], ids=["next-line", "blank-between"])
def test_label_alone_with_its_value_below(ruleset: Ruleset, gap: str) -> None:
    text = gap.join(["Defendant", "Mohammed Idris RAHMAN", "DOB", "1st December 1993",
                     "Nature of request", "Please serve the MG5."])  # fmt: skip
    assert fields(ruleset, text) == [
        (K.DEFENDANT, "Mohammed Idris RAHMAN"),
        (K.DOB, "1st December 1993"),
        (K.NATURE, "Please serve the MG5."),
    ]


def test_an_empty_label_is_an_empty_value(ruleset: Ruleset) -> None:
    assert fields(ruleset, "Client:\nDOB: 14/02/1993") == [(K.DEFENDANT, ""), (K.DOB, "14/02/1993")]


def test_an_empty_request_does_not_take_the_signature(ruleset: Ruleset) -> None:
    text = "Defendant: Ann LEE\nNature of request:\n\nDeborah Williams\nTudor Legal"
    assert (K.NATURE, "") in fields(ruleset, text)


def test_a_request_value_runs_over_lines(ruleset: Ruleset) -> None:
    text = "Request: please confirm whether the Crown\nwill accept a plea.\n\nThanks"
    assert fields(ruleset, text)[0] == (
        K.NATURE,
        "please confirm whether the Crown will accept a plea.",
    )


def test_a_list_under_a_defendants_label(ruleset: Ruleset) -> None:
    text = "Defendants:\n1. Chidi NKEMELU - DOB 03/03/1988\n2. FARROW, Gemma - DOB 22/07/1991"
    found = blocks(ruleset, text)
    assert [(b.kind, b.text) for b in found] == [
        (K.DEFENDANT, "Chidi NKEMELU - DOB 03/03/1988"),
        (K.DEFENDANT, "FARROW, Gemma - DOB 22/07/1991"),
    ]
    assert found[0].group != found[1].group


def test_a_table_by_first_column(ruleset: Ruleset) -> None:
    text = "Name\tKieran MADELEY\nDate of Birth\t21/02/1991\nListed for\tMonday 7 December 2026"
    assert fields(ruleset, text) == [
        (K.DEFENDANT, "Kieran MADELEY"),
        (K.DOB, "21/02/1991"),
        (K.HEARING, "Monday 7 December 2026"),
    ]


def test_a_table_by_header_row_keeps_each_row_together(ruleset: Ruleset) -> None:
    text = (
        "Defendant\tDOB\tNext hearing\nAaron MILLS\t12/07/1992\t02/02/2027\n"
        "Kieran MILLS\t03/02/1995"
    )
    found = blocks(ruleset, text)
    assert [(b.label, b.kind, b.text) for b in found] == [
        ("Defendant", K.DEFENDANT, "Aaron MILLS"),
        ("DOB", K.DOB, "12/07/1992"),
        ("Next hearing", K.HEARING, "02/02/2027"),
        ("Defendant", K.DEFENDANT, "Kieran MILLS"),
        ("DOB", K.DOB, "03/02/1995"),
    ]
    assert found[0].group == found[1].group != found[3].group


def test_a_flattened_header_table(ruleset: Ruleset) -> None:
    # Outlook's plain text for a table with a header row: one cell per line.
    text = "\n\n".join(["No.", "Name", "DOB", "1", "Ashley GRANT", "12/01/1990",
                        "2", "Nathaniel GRANT", "30/06/1992"])  # fmt: skip
    found = [b for b in blocks(ruleset, text) if b.kind in (K.DEFENDANT, K.DOB)]
    assert [(b.kind, b.text) for b in found] == [
        (K.DEFENDANT, "Ashley GRANT"),
        (K.DOB, "12/01/1990"),
        (K.DEFENDANT, "Nathaniel GRANT"),
        (K.DOB, "30/06/1992"),
    ]
    assert found[0].group == found[1].group != found[2].group


def test_labels_alone_that_do_not_fit_a_table_are_read_one_by_one(ruleset: Ruleset) -> None:
    # Two labels then one value: not a table; the first label is simply empty.
    assert fields(ruleset, "Defendant\n\nDate of birth\n\n01/02/1990") == [
        (K.DEFENDANT, ""),
        (K.DOB, "01/02/1990"),
    ]


def test_html_tables_read_as_plain_tables(ruleset: Ruleset) -> None:
    html = (
        "<p>We act for:</p><table><tr><th>Surname</th><th>Forename(s)</th><th>DOB</th></tr>"
        "<tr><td><p>LEE</p></td><td>Ann</td><td>01/01/1980</td></tr></table><p>Thanks</p>"
    )
    found = blocks(ruleset, html_to_text(html))
    assert [(b.kind, b.text) for b in found if b.kind] == [
        (K.SURNAME, "LEE"),
        (K.FORENAMES, "Ann"),
        (K.DOB, "01/01/1980"),
    ]


def test_where_a_block_stands(ruleset: Ruleset) -> None:
    found = blocks(ruleset, "Dear Sir\n\nDOB: 01/02/1990")
    assert found[-1].where() == "body line 3, under 'DOB'"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("One. Two.", ["One.", "Two."]),
        ("R v Kwame A. ASANTE (DOB 19/04/1983).", ["R v Kwame A. ASANTE (DOB 19/04/1983)."]),
        ("We wrote to Mr. Smith. Then more.", ["We wrote to Mr. Smith.", "Then more."]),
        ("d.o.b. 01/02/1990 and more", ["d.o.b. 01/02/1990 and more"]),
        ("Is it? Yes.", ["Is it?", "Yes."]),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected
