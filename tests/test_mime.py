"""Reading real-world MIME: encodings, lying charsets, RFC 2047, HTML, replies and forwards,
attachments, and structures built to hurt."""

from __future__ import annotations

import base64
import quopri

from conftest import STANDARD_BODY, Decider, build_message
from mailrouter.model import Action
from mailrouter.parse.html import html_to_text
from mailrouter.parse.mime import read_message


def test_quoted_printable_with_soft_breaks(route: Decider) -> None:
    qp = quopri.encodestring(STANDARD_BODY.replace("\n", "\r\n").encode(), quotetabs=False)
    qp = qp.replace(b"John SMITH", b"John SMI=\r\nTH")
    decision = route(body_bytes=qp, encoding="quoted-printable")
    assert decision.defendants[0].name == "John SMITH" and decision.missing == []


def test_base64_body(route: Decider) -> None:
    b64 = base64.encodebytes(STANDARD_BODY.replace("\n", "\r\n").encode())
    decision = route(body_bytes=b64.replace(b"\n", b"\r\n"), encoding="base64")
    assert decision.missing == [] and decision.action is Action.DELIVER


def test_windows_1252_declared(route: Decider) -> None:
    body = STANDARD_BODY.replace("John SMITH", "Seán O’BRIEN").encode("cp1252")
    decision = route(body_bytes=body, content_type='text/plain; charset="windows-1252"')
    assert decision.defendants[0].name == "Seán O'BRIEN"


def test_charset_that_lies(route: Decider) -> None:
    # Declared UTF-8, actually Windows-1252 (Outlook and some gateways do this).
    body = STANDARD_BODY.replace("John SMITH", "Seán O’BRIEN").encode("cp1252")
    decision = route(body_bytes=body, content_type='text/plain; charset="utf-8"')
    assert decision.defendants[0].name == "Seán O'BRIEN"


def test_latin1_declared_means_windows_1252() -> None:
    raw = build_message(body_bytes=b"a \x96 b", content_type="text/plain; charset=iso-8859-1")
    assert "–" in read_message(raw).body


def test_unknown_charset(route: Decider) -> None:
    decision = route(content_type='text/plain; charset="x-made-up"')
    assert decision.action is Action.DELIVER


def test_rfc2047_subject(route: Decider) -> None:
    subject = (
        "=?utf-8?q?URN_20AB1234521_=E2=80=93_Coventry_Crown_Court_=E2=80=93_R_v?=\r\n"
        " =?utf-8?q?_Zo=C3=AB_SMITH?="
    )
    decision = route(subject)
    assert decision.subject == "URN 20AB1234521 – Coventry Crown Court – R v Zoë SMITH"
    assert decision.route == "crown_court"


def test_encoded_newline_in_subject_cannot_inject_a_header(route: Decider) -> None:
    subject = "URN 20AB1234521 Birmingham MC =?UTF-8?Q?=0D=0ABcc:_victim@example.com=00?="
    decision = route(subject)
    assert "\n" not in decision.subject and "\r" not in decision.subject
    assert "\x00" not in decision.subject


def test_raw_8bit_subject(route: Decider) -> None:
    raw = build_message("URN 20AB1234521 – Birmingham MC – R v O’BRIEN")
    assert route(raw=raw).subject == "URN 20AB1234521 – Birmingham MC – R v O’BRIEN"


def test_multipart_alternative_prefers_plain(route: Decider) -> None:
    body = (
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + STANDARD_BODY.replace("\n", "\r\n")
        + "\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + "<p>Nothing useful</p>\r\n--b1--\r\n"
    )
    decision = route(body_bytes=body.encode(), content_type='multipart/alternative; boundary="b1"')
    assert decision.missing == []


def test_attachment_is_not_the_body(route: Decider) -> None:
    attachment = base64.b64encode(b"Defendant: Someone ELSE\r\nDOB: 01/01/1980\r\n").decode()
    body = (
        "--b1\r\nContent-Type: application/pdf\r\n"
        "Content-Disposition: attachment; filename=x.pdf\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n"
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + STANDARD_BODY.replace("\n", "\r\n")
        + "\r\n--b1--\r\n"
    )
    decision = route(body_bytes=body.encode(), content_type='multipart/mixed; boundary="b1"')
    assert [d.name for d in decision.defendants] == ["John SMITH"]


def test_forwarded_message_part_is_not_read(route: Decider) -> None:
    forwarded = build_message("URN 22TF0031125 - Telford", "Defendant: Darren COLE\n")
    body = (
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease see the attached.\r\n"
        b"--b1\r\nContent-Type: message/rfc822\r\n\r\n" + forwarded + b"\r\n--b1--\r\n"
    )
    decision = route(
        "Birmingham MC", body_bytes=body, content_type='multipart/mixed; boundary="b1"'
    )
    assert decision.urn is None and not any(d.name == "Darren COLE" for d in decision.defendants)


def test_outlook_reply_history_is_cut(route: Decider) -> None:
    body = STANDARD_BODY + (
        "\n-----Original Message-----\nFrom: CPS\nSent: 01 November 2026\n\n"
        "Defendant: Darren COLE\nDOB: 11/11/1979\n"
    )
    assert [d.name for d in route(body=body).defendants] == ["John SMITH"]


def test_on_wrote_history_is_cut(route: Decider) -> None:
    body = STANDARD_BODY + (
        "\nOn Mon, 2 Nov 2026 at 14:11, CPS West Midlands <defence.westmidlands@cps.gov.uk>\n"
        "wrote:\n> Defendant: Darren COLE\n"
    )
    assert [d.name for d in route(body=body).defendants] == ["John SMITH"]


def test_html_blockquote_and_reply_marker_are_dropped() -> None:
    html = (
        "<p>Defendant: John SMITH</p><blockquote><p>Defendant: Darren COLE</p></blockquote>"
        '<p>DOB: 01/02/1990</p><div id="divRplyFwdMsg"><p>From: CPS</p><p>URN 22TF0031125</p></div>'
    )
    text = html_to_text(html)
    assert "Darren" not in text and "22TF0031125" not in text
    assert "John SMITH" in text and "DOB: 01/02/1990" in text


def test_html_entities_comments_and_styles() -> None:
    html = "<style>p{x:1}</style><!-- hidden DOB: 01/01/1900 --><p>Tom&nbsp;&amp;&#39;s&eacute;</p>"
    assert html_to_text(html) == "Tom &'sé"


def test_html_white_space_is_collapsed_as_a_browser_shows_it() -> None:
    html = "<p>application to vary bail – we ask the Crown\n   to consent</p><p>next</p>"
    assert html_to_text(html) == "application to vary bail – we ask the Crown to consent\nnext"


def test_html_table_rows_are_lines_of_cells() -> None:
    html = (
        "<table><tr><th>Defendant</th><th>DOB</th></tr>"
        "<tr><td><p>Aaron</p><p>MILLS</p></td><td>12/07/1992</td></tr></table><p>Thanks</p>"
    )
    assert html_to_text(html) == "Defendant\tDOB\nAaron MILLS\t12/07/1992\nThanks"


def test_a_layout_table_inside_a_cell_is_written_as_lines() -> None:
    html = "<table><tr><td>Sig<table><tr><td>Logo</td><td>Name</td></tr></table></td></tr></table>"
    assert html_to_text(html).split("\n") == ["Sig", "Logo\tName"]


def test_an_outlook_blank_paragraph_is_a_blank_line() -> None:
    html = "<p>Defendant</p><p>&nbsp;</p><p>John SMITH</p>\n\n<p>DOB</p>"
    assert html_to_text(html) == "Defendant\n\nJohn SMITH\nDOB"


def test_a_reply_marker_named_in_a_style_sheet_cuts_nothing() -> None:
    html = "<style>.gmail_quote{margin:0}</style><p>new</p><div class=gmail_quote>old</div>"
    assert html_to_text(html) == "new"


def test_very_deep_markup_is_read_only_so_far() -> None:
    notes: list[str] = []
    text = html_to_text("<p>Defendant: John SMITH</p>" + "<div>" * 100_000 + "x", notes)
    assert text.startswith("Defendant: John SMITH") and "x" not in text
    assert notes == ["only the first part of a very long HTML body was read"]


def test_an_html_alternative_with_a_table_is_read_before_the_plain(route: Decider) -> None:
    plain = "Defendant\r\n\r\nDOB\r\n\r\nAaron MILLS\r\n\r\n12/07/1992\r\n"
    html = (
        "<table><tr><td>Defendant</td><td>DOB</td></tr>"
        "<tr><td>Aaron MILLS</td><td>12/07/1992</td></tr></table>"
        "<p>Hearing: 15/12/2026</p><p>Request: IDPC</p>"
    )
    body = (
        f"--a\r\nContent-Type: text/plain\r\n\r\n{plain}\r\n"
        f"--a\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable"
        f"\r\n\r\n{html}\r\n--a--\r\n"
    ).encode()
    decision = route(body_bytes=body, content_type='multipart/alternative; boundary="a"')
    assert decision.missing == [] and decision.defendants[0].name == "Aaron MILLS"


def test_format_flowed(route: Decider) -> None:
    body = (
        "Defendant: John SMITH\r\nDOB: 01/02/1990\r\nHearing date: 15/12/2026\r\n"
        "Nature of request: please serve the IDPC and the \r\ncustody record.\r\n"
    )
    decision = route(
        body_bytes=body.encode(), content_type="text/plain; charset=utf-8; format=flowed"
    )
    assert decision.nature == "please serve the IDPC and the custody record."


def test_deeply_nested_multiparts_do_not_crash(route: Decider) -> None:
    depth = 2000
    opening = "".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'
        for i in range(depth)
    )
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    body = (opening + "--b2000\r\nContent-Type: text/plain\r\n\r\nhi\r\n" + closing).encode()
    decision = route(body_bytes=body, content_type='multipart/mixed; boundary="b0"')
    assert decision.action is Action.BOUNCE


def test_many_parts_are_bounded(route: Decider) -> None:
    parts = "".join(
        "--b1\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n" for _ in range(5000)
    )
    body = (parts + "--b1--\r\n").encode()
    decision = route(body_bytes=body, content_type='multipart/mixed; boundary="b1"')
    assert decision.action is Action.BOUNCE


def test_broken_base64(route: Decider) -> None:
    decision = route(body_bytes=b"!!!not base64 at all===\r\n", encoding="base64")
    assert decision.action is Action.BOUNCE


def test_no_body_at_all(route: Decider) -> None:
    raw = b"From: A <a.solicitor@smithlaw.co.uk.cjsm.net>\r\nSubject: URN 20AB1234521 Walsall\r\n"
    decision = route(raw=raw)
    assert decision.action is Action.BOUNCE and "defendant_name" in decision.missing
