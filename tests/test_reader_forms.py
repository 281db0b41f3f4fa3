"""The reader against requests drawn from many offices' habits (tests/forms.py).

Each example writes known facts (defendants with dates of birth, a hearing date, what is
asked) in a random layout, label wording, name order, date form and MIME wrapping, and checks
that decide reads every fact back and delivers. Examples are drawn from a fixed seed, so CI
sees the same ones on every run; set MAILROUTER_FORMS_EXAMPLES to draw more when hunting.
A failing example this finds becomes a named case in tests/test_reader_regressions.py.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Decider, build_message
from forms import Request, requests, wrap
from mailrouter.model import Action

EXAMPLES = int(os.environ.get("MAILROUTER_FORMS_EXAMPLES", "400"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    request=requests(),
    wrapping=st.sampled_from(["8bit", "base64", "quoted-printable", "alternative"]),
)
def test_every_fact_is_read_back(route: Decider, request: Request, wrapping: str) -> None:
    payload, content_type, encoding = wrap(request, wrapping)
    raw = build_message(
        "URN 20AB1234521 - Birmingham MC - request",
        body_bytes=payload,
        content_type=content_type,
        encoding=encoding,
    )
    decision = route(raw=raw)
    shown = f"{request.layout} / {wrapping}:\n{request.text}\n{decision.reasons}"
    assert decision.missing == [], shown
    # Names compare as the corpus compares them: case aside (tests/test_body_fields.py checks
    # how the reader writes a name's capitals).
    assert [((d.name or "").casefold(), d.dob) for d in decision.defendants] == [
        (p.expected.casefold(), p.dob) for p in request.people
    ], shown
    assert decision.hearing_date == request.hearing, shown
    assert decision.nature, shown
    assert decision.action is Action.DELIVER, shown
