"""The multipart walker (RFC 2046 §5.1) that finds the sender's text without a Message tree."""

from __future__ import annotations

from conftest import Decider
from mailrouter.model import Action
from mailrouter.parse.multipart import Budget, find_text_parts, split_parts

PLAIN = "Defendant: John SMITH\r\nDOB: 01/02/1990\r\nHearing date: 15/12/2026\r\nRequest: IDPC\r\n"


def test_split_parts_ignores_preamble_and_epilogue() -> None:
    body = b"preamble\r\n--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\nepilogue\r\n"
    assert split_parts(body, b"b") == [b"A: 1\r\n\r\none", b"\r\ntwo"]


def test_a_longer_boundary_is_not_a_delimiter() -> None:
    body = b"--b\r\n\r\none\r\n--b2\r\nstill one\r\n--b--\r\n"
    assert split_parts(body, b"b") == [b"\r\none\r\n--b2\r\nstill one"]


def test_delimiter_must_start_a_line() -> None:
    body = b"--b\r\n\r\nsee x--b here\r\n--b--"
    assert split_parts(body, b"b") == [b"\r\nsee x--b here"]


def test_transport_padding_and_lf_line_endings() -> None:
    body = b"--b  \n\none\n--b\t\n\ntwo\n--b--  \n"
    assert split_parts(body, b"b") == [b"\none", b"\ntwo"]


def test_missing_closing_delimiter_keeps_the_last_part() -> None:
    assert split_parts(b"--b\r\n\r\nonly part", b"b") == [b"\r\nonly part"]


def _message(body: str, boundary: str = "outer") -> dict[str, object]:
    return {
        "body_bytes": body.encode(),
        "content_type": f'multipart/mixed; boundary="{boundary}"',
    }


def test_nested_alternative_inside_mixed(route: Decider) -> None:
    body = (
        "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
        f"--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{PLAIN}\r\n"
        "--inner\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--inner--\r\n"
        "--outer\r\nContent-Type: application/pdf\r\n\r\nJVBERi0=\r\n--outer--\r\n"
    )
    assert route(**_message(body)).missing == []


def test_empty_plain_alternative_falls_back_to_html(route: Decider) -> None:
    html = PLAIN.replace("\r\n", "<br>")
    body = (
        "--a\r\nContent-Type: text/plain\r\n\r\n \r\n"
        f"--a\r\nContent-Type: text/html\r\n\r\n<p>{html}</p>\r\n--a--\r\n"
    )
    decision = route(body_bytes=body.encode(), content_type="multipart/alternative; boundary=a")
    assert decision.missing == []


def test_part_without_headers_is_plain_text(route: Decider) -> None:
    body = f"--outer\r\n\r\n{PLAIN}\r\n--outer--\r\n"
    assert route(**_message(body)).missing == []


def test_base64_part(route: Decider) -> None:
    import base64

    encoded = base64.encodebytes(PLAIN.encode()).decode().replace("\n", "\r\n")
    body = (
        "--outer\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}--outer--\r\n"
    )
    assert route(**_message(body)).missing == []


def test_multipart_without_boundary(route: Decider) -> None:
    decision = route(body_bytes=PLAIN.encode(), content_type="multipart/mixed")
    assert decision.action is Action.BOUNCE and "defendant_name" in decision.missing


def test_depth_and_part_budget() -> None:
    depth = 50
    body = "".join(
        f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(depth)
    )
    budget = Budget()
    params = {"boundary": "b0"}
    assert find_text_parts(body.encode(), "multipart/mixed", params, budget) == (None, ())
    assert budget.exhausted
    many = "".join("--m\r\nContent-Type: image/png\r\n\r\nx\r\n" for _ in range(500))
    budget, params = Budget(), {"boundary": "m"}
    assert find_text_parts(many.encode(), "multipart/mixed", params, budget) == (None, ())
    assert budget.exhausted
