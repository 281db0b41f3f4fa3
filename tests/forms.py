"""Defence requests built from the forms solicitors and police write, with known answers.

A request is a few facts (defendants with dates of birth, a hearing date, what is asked for)
written in one of many ways: labels of different wording and punctuation, a label on its own
line with the value below, bullet and numbered lists, tables (a row per field, or a header
row and a row per defendant) in plain text or HTML, sentences of several shapes, and names
and dates in every order and form DESIGN §4 lists; then wrapped as plain text, HTML,
multipart/alternative, quoted-printable or base64. tests/test_reader_forms.py draws them at
random and checks the reader gets every fact back.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import quopri
from dataclasses import dataclass
from html.parser import HTMLParser

from hypothesis import strategies as st

TODAY = dt.date(2026, 11, 23)  # the tests' `now` (conftest.NOW), a Monday

GIVEN = ["John", "Aisha", "Seán", "Zoë", "Mary-Jane", "Łukasz", "Kwame", "Chloe", "Tyrese",
         "Marek", "Siobhan", "Ifeoma", "Rhys", "Ana Sofia", "Connor James", "Li"]  # fmt: skip
SURNAMES = ["SMITH", "O'BRIEN", "KOWALCZYK", "MUÑOZ-GARCÍA", "NGUYEN", "McALLISTER",
            "OKAFOR", "HARCOURT-YEO", "EVANS", "NÍ BHRIAIN", "AL-AMIN", "DE LA CRUZ", "PRICE",
            "WALSH", "DUDLEY"]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NATURES = [
    "please serve IDPC, including the MG5 and any CCTV.",
    "we ask the Crown to consent to a variation of the curfew to 21:00-06:00.",
    "please confirm whether the prosecution opposes an adjournment.",
    "disclosure of the 999 call and the CAD log.",
    "please serve the draft indictment and the key evidence.",
    "we invite the CPS to review the case and to discontinue.",
]
SIGNATURES = [
    "Kind regards\n\nHelen Marsh\nSolicitor\nHartwell Mercer Solicitors\nT: 0121 496 0871",
    "Many thanks,\nTom\n\nTom Hale | Quill & Hale Solicitors | Admitted 01/09/2011",
    "Regards\n\n-- \nPriya Sandhu\nTrainee Solicitor, Sandhu Law\nOur office closes 24/12/2026",
    "Yours faithfully\n\nCrime Department\nPellow Strand Law LLP",
    "Thanks\nAmara",
]
GREETINGS = ["Dear Sir/Madam,", "Good morning,", "Hi,", "Dear Colleague", ""]

NAME_LABELS = ["Defendant", "Client", "Name", "Accused", "Defendant's name", "Client name",
               "Name of defendant", "Defendant/Respondent", "DEFENDANT", "Full name",
               "Client's full name"]  # fmt: skip
DOB_LABELS = ["DOB", "D.O.B.", "Date of birth", "DoB", "Born", "Date of Birth", "D.O.B",
              "DATE OF BIRTH", "Birth date", "Client DOB", "Defendant's date of birth"]  # fmt: skip
HEARING_LABELS = ["Hearing", "Next hearing", "Hearing date", "Listed for", "Date of hearing",
                  "Next appearance", "Date of next appearance", "Court date",
                  "Listed on"]  # fmt: skip
NATURE_LABELS = ["Request", "Nature of request", "Purpose of email", "Our request", "Query",
                 "REQUEST", "Action required", "Reason for email"]  # fmt: skip


@dataclass(frozen=True)
class Person:
    given: str
    surname: str
    dob: dt.date
    order: str  # how the name is written (see `written`)

    @property
    def expected(self) -> str:
        """The name as the decision reports it: given names then SURNAME."""
        return f"{self.given} {self.surname}"

    @property
    def written(self) -> str:
        if self.order == "surname-first":
            return f"{self.surname}, {self.given}"
        if self.order == "title":
            return f"Mr {self.given} {self.surname}"
        if self.order == "title-case" and " " not in self.surname:
            return f"{self.given} {self.surname.title()}".replace("Mca", "McA")
        return f"{self.given} {self.surname}"


@dataclass(frozen=True)
class Request:
    people: tuple[Person, ...]
    hearing: dt.date
    nature: str
    text: str  # the body, as plain text or HTML
    is_html: bool
    layout: str


def written_date(date: dt.date, form: str) -> str:
    """`date` the way a person writes it, day first."""
    month = MONTHS[date.month - 1]
    suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}.get(date.day, "th")
    return {
        "slash": f"{date:%d/%m/%Y}",
        "slash-short": f"{date.day}/{date.month}/{date:%Y}",
        "slash-yy": f"{date:%d/%m/%y}",
        "dots": f"{date:%d.%m.%Y}",
        "dots-yy": f"{date.day}.{date.month}.{date:%y}",
        "dashes": f"{date.day}-{date.month}-{date:%Y}",
        "long": f"{date.day} {month} {date:%Y}",
        "ordinal": f"{date.day}{suffix} {month} {date:%Y}",
        "ordinal-of": f"{date.day}{suffix} of {month} {date:%Y}",
        "short-month": f"{date.day} {month[:3]} {date:%Y}",
        "weekday": f"{WEEKDAYS[date.weekday()]} {date.day} {month} {date:%Y}",
        "iso": date.isoformat(),
    }[form]


DATE_FORMS = ["slash", "slash-short", "slash-yy", "dots", "dots-yy", "dashes", "long",
              "ordinal", "ordinal-of", "short-month", "weekday", "iso"]  # fmt: skip
# A hearing is written with a weekday as often as not; a date of birth never is.
DOB_FORMS = [f for f in DATE_FORMS if f != "weekday"]


@st.composite
def people(draw: st.DrawFn, count: int) -> tuple[Person, ...]:
    out: list[Person] = []
    surnames = draw(st.lists(st.sampled_from(SURNAMES), min_size=count, max_size=count))
    for surname in surnames:
        given = draw(st.sampled_from(GIVEN))
        days = draw(st.integers(min_value=18 * 366, max_value=70 * 365))
        order = draw(st.sampled_from(["given-first", "surname-first", "title", "title-case"]))
        person = Person(given, surname, TODAY - dt.timedelta(days=days), order)
        if all(p.expected != person.expected for p in out):
            out.append(person)
    return tuple(out)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    count = draw(st.sampled_from([1, 1, 1, 2, 3]))
    who = draw(people(count))
    hearing = TODAY + dt.timedelta(days=draw(st.integers(min_value=1, max_value=200)))
    nature = draw(st.sampled_from(NATURES))
    dob_form = draw(st.sampled_from(DOB_FORMS))
    hearing_form = draw(st.sampled_from(DATE_FORMS))
    layouts = ["labels", "label-above", "table-rows", "prose", "bullets", "one-line",
               "split-name", "combined", "terse"]  # fmt: skip
    if len(who) > 1:
        layouts = ["labels", "header-table", "numbered", "prose", "table-rows"]
    layout = draw(st.sampled_from(layouts))
    labels = (
        draw(st.sampled_from(NAME_LABELS)),
        draw(st.sampled_from(DOB_LABELS)),
        draw(st.sampled_from(HEARING_LABELS)),
        draw(st.sampled_from(NATURE_LABELS)),
    )
    separator = draw(st.sampled_from([": ", ":\t", " - ", " – ", ":  "]))
    as_html = draw(st.booleans()) if layout in ("table-rows", "header-table", "labels") else False
    dob = lambda p: written_date(p.dob, dob_form)  # noqa: E731
    when = written_date(hearing, hearing_form)
    text = _layout(layout, who, labels, separator, dob, when, nature, as_html, draw)
    greeting = draw(st.sampled_from(GREETINGS))
    signature = draw(st.sampled_from(SIGNATURES))
    if as_html:
        body = f"<p>{html.escape(greeting)}</p>{text}" + "".join(
            f"<p>{html.escape(line)}</p>" for line in signature.splitlines()
        )
    else:
        body = f"{greeting}\n\n{text}\n\n{signature}\n" if greeting else f"{text}\n\n{signature}\n"
    return Request(who, hearing, nature, body, as_html, layout)


def _layout(
    layout: str,
    who: tuple[Person, ...],
    labels: tuple[str, str, str, str],
    separator: str,
    dob: object,
    when: str,
    nature: str,
    as_html: bool,
    draw: st.DrawFn,
) -> str:
    name_label, dob_label, hearing_label, nature_label = labels
    born = dob  # a callable: Person -> written date of birth
    if layout == "labels":
        rows: list[tuple[str, str]] = []
        for person in who:
            rows += [(name_label, person.written), (dob_label, born(person))]  # type: ignore[operator]
        rows += [(hearing_label, when), (nature_label, nature)]
        return _rows(rows, separator, as_html)
    if layout == "table-rows":
        rows = []
        for person in who:
            rows += [(name_label, person.written), (dob_label, born(person))]  # type: ignore[operator]
        rows += [(hearing_label, when), (nature_label, nature)]
        if as_html:
            cells = "".join(
                f"<tr><td><p><b>{html.escape(k)}</b></p></td><td><p>{html.escape(v)}</p></td></tr>"
                for k, v in rows
            )
            return f"<table>{cells}</table>"
        return "\n".join(f"{k}\t{v}" for k, v in rows)
    if layout == "label-above":
        person = who[0]
        gap = draw(st.sampled_from(["\n", "\n\n"]))
        parts = [name_label, person.written, dob_label, born(person), hearing_label, when,  # type: ignore[operator]
                 nature_label, nature]  # fmt: skip
        return gap.join(parts)
    if layout == "bullets":
        person = who[0]
        bullet = draw(st.sampled_from(["- ", "* ", "• ", "1. "]))
        rows = [(name_label, person.written), (dob_label, born(person)),  # type: ignore[operator]
                (hearing_label, when), (nature_label, nature)]  # fmt: skip
        return "\n".join(f"{bullet}{k}{separator}{v}" for k, v in rows)
    if layout == "one-line":
        person = who[0]
        return (
            f"{name_label}: {person.written}; {dob_label}: {born(person)}; "  # type: ignore[operator]
            f"{hearing_label}: {when}; {nature_label}: {nature}"
        )
    if layout == "split-name":
        person = who[0]
        surname_label = draw(st.sampled_from(["Surname", "Family name", "Defendant surname"]))
        given_label = draw(st.sampled_from(["Forename(s)", "First names", "Given name"]))
        rows = [(surname_label, person.surname), (given_label, person.given),
                (dob_label, born(person)), (hearing_label, when), (nature_label, nature)]  # type: ignore[operator]  # fmt: skip
        return "\n".join(f"{k}{separator}{v}" for k, v in rows)
    if layout == "combined":
        person = who[0]
        label = draw(st.sampled_from(["Name and DOB", "Name/DOB", "Client and date of birth"]))
        return (
            f"{label}: {person.written}, {born(person)}\n"  # type: ignore[operator]
            f"{hearing_label}: {when}\n{nature_label}: {nature}"
        )
    if layout == "terse":
        person = who[0]
        court = draw(st.sampled_from(["Walsall mags", "B'ham MC", "Dudley Magistrates", "court"]))
        return (
            f"Client {person.written} dob {born(person)}, {court} {when}. "  # type: ignore[operator]
            f"{nature[0].upper() + nature[1:]} Thx"
        )
    if layout == "numbered":
        lines = [f"{i}. {p.written} - DOB {born(p)}" for i, p in enumerate(who, 1)]  # type: ignore[operator]
        return (
            "We act for the defendants below.\n\nDefendants:\n"
            + "\n".join(lines)
            + f"\n\n{hearing_label}: {when}\n{nature_label}: {nature}"
        )
    if layout == "header-table":
        if as_html:
            head = f"<tr><th>{name_label}</th><th>{dob_label}</th></tr>"
            body = "".join(
                f"<tr><td>{html.escape(p.written)}</td><td>{born(p)}</td></tr>"  # type: ignore[operator]
                for p in who
            )
            return (
                f"<p>We act for the defendants below.</p><table>{head}{body}</table>"
                f"<p>{hearing_label}: {when}</p><p>{nature_label}: {html.escape(nature)}</p>"
            )
        table = "\n".join(f"{p.written}\t{born(p)}" for p in who)  # type: ignore[operator]
        return (
            f"We act for the defendants below.\n\n{name_label}\t{dob_label}\n{table}\n\n"
            f"{hearing_label}: {when}\n{nature_label}: {nature}"
        )
    # prose: one of several sentence shapes a solicitor writes
    template = draw(st.sampled_from(PROSE))
    people_text = " and ".join(
        draw(st.sampled_from(PERSON_IN_PROSE)).format(name=p.written, dob=born(p))  # type: ignore[operator]
        for p in who
    )
    past = written_date(TODAY - dt.timedelta(days=draw(st.integers(1, 300))), "long")
    soon = written_date(TODAY + dt.timedelta(days=draw(st.integers(1, 20))), "slash")
    distractor = draw(st.sampled_from(DISTRACTORS)).format(past=past, soon=soon)
    return template.format(
        people=people_text, when=when, nature=nature[0].upper() + nature[1:], distractor=distractor
    )


# Other dates a request carries, none of them a hearing or a date of birth.
DISTRACTORS = [
    "The offence is alleged to have been committed on {past}.",
    "Our client was arrested on {past} and interviewed the same day.",
    "We wrote to you on {past} but have had no reply.",
    "Please reply by {soon}.",
    "Our defence statement was served on {past}.",
    "",
    "",
]
PERSON_IN_PROSE = [
    "{name} (DOB {dob})",
    "{name} (date of birth {dob})",
    "{name}, born {dob},",
    "{name} (d.o.b. {dob})",
    "{name}, DOB {dob},",
    "{name} (born on {dob})",
]
PROSE = [
    "We act for {people}, who is listed at the court on {when}. {nature}",
    "We represent {people}. The case is listed for trial on {when}.\n\n{nature}",
    "I am instructed by {people}. The next hearing is on {when}. {nature}",
    "Our client {people} appears before the court on {when}. {nature}",
    "R v {people}\n\nThe matter is listed for mention on {when}.\n\n{nature}",
    "Re: {people}\nNext hearing {when}\n\n{nature}",
    "We are instructed on behalf of {people}. The trial is fixed for {when}. {nature}",
    "I act for {people}, who will be sentenced on {when}.\n\n{nature}",
    "Client {people} - PTPH {when}. {nature}",
    "Our client, {people} is due to appear on {when}. {nature}",
    "We act for {people}. {distractor} The next hearing is on {when}. {nature}",
]


def _rows(rows: list[tuple[str, str]], separator: str, as_html: bool) -> str:
    if as_html:
        return "".join(
            f"<p class=MsoNormal><b>{html.escape(k)}{html.escape(separator.rstrip())}</b> "
            f"{html.escape(v)}<o:p></o:p></p>"
            for k, v in rows
        )
    return "\n".join(f"{k}{separator}{v}" for k, v in rows)


def wrap(request: Request, wrapping: str) -> tuple[bytes, str, str]:
    """(payload bytes, Content-Type, Content-Transfer-Encoding) for the message body."""
    text = request.text
    kind = "html" if request.is_html else "plain"
    if wrapping == "base64":
        payload = base64.encodebytes(text.encode("utf-8"))
        return payload, f'text/{kind}; charset="utf-8"', "base64"
    if wrapping == "quoted-printable":
        payload = quopri.encodestring(text.replace("\n", "\r\n").encode("utf-8"))
        return payload, f'text/{kind}; charset="utf-8"', "quoted-printable"
    if wrapping == "alternative" and request.is_html:
        plain = outlook_plain(text)
        parts = (
            f"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{plain}\r\n"
            f"--b1\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n"
            f"{base64.encodebytes(text.encode()).decode()}\r\n--b1--\r\n"
        )
        return parts.encode("utf-8"), 'multipart/alternative; boundary="b1"', "7bit"
    return text.replace("\n", "\r\n").encode("utf-8"), f'text/{kind}; charset="utf-8"', "8bit"


class _Plain(HTMLParser):
    """The plain-text alternative Outlook writes beside its HTML: every paragraph and every
    table cell on a line of its own, with a blank line after it."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("p", "div", "td", "th", "tr", "br", "li"):
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.out.append(" ".join(data.replace("\xa0", " ").split(" ")))


def outlook_plain(markup: str) -> str:
    parser = _Plain()
    parser.feed(markup)
    lines = [" ".join(line.split()) for line in "".join(parser.out).split("\n")]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
