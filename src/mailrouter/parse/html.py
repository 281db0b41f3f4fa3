"""HTML mail (Outlook, Gmail, webmail) to the plain text a person would read.

A single forward scan with `str.find`, so the cost stays linear however malformed the markup
(the standard library's HTMLParser has had quadratic cases on unclosed constructs). Block
elements and table rows become line breaks and table cells stay on one line, so a two-column
Outlook table reads as "Defendant: Daniel FIELDING". Quoted history is dropped at the source:
the contents of <blockquote> and everything after a reply/forward marker (Outlook's
divRplyFwdMsg, Gmail's gmail_quote, Thunderbird's moz-cite-prefix).
"""

from __future__ import annotations

import html
import re

_BLOCK = frozenset(
    "p div br tr li ul ol h1 h2 h3 h4 h5 h6 table tbody thead tfoot hr pre dt dd address "
    "section article header footer center".split()
)
_CELL = frozenset(("td", "th"))
_SKIP_CONTENT = frozenset(("style", "script", "head", "title", "xml", "template"))
_HISTORY_MARKERS = (
    'id="divrplyfwdmsg"',
    "id=divrplyfwdmsg",
    'id="appendonsend"',
    "id=appendonsend",
    'class="gmail_quote',
    "class=gmail_quote",
    'class="moz-cite-prefix',
    'class="outlookmessageheader',
    'id="mail-editor-reference-message-container"',
    'class="yahoo_quoted',
)
_NAME_END = re.compile(r"[\s/>]")
_BLANKS = re.compile(r"[ \u00a0\u200b]+")
_CELL_GAP = re.compile(r" ?\t[\t ]*")
# Lower-case ASCII only, so that offsets in the copy match the original (str.lower can change
# the length of some non-ASCII strings).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def html_to_text(markup: str) -> str:
    lower = markup.lower() if markup.isascii() else markup.translate(_ASCII_LOWER)
    out: list[str] = []
    pos = 0
    quote_depth = 0
    cell_depth = 0
    row_has_cell = False
    size = len(markup)
    while pos < size:
        lt = markup.find("<", pos)
        if lt < 0:
            if quote_depth == 0:
                out.append(markup[pos:])
            break
        if lt > pos and quote_depth == 0:
            out.append(markup[pos:lt])
        if lower.startswith("<!--", lt):
            end = markup.find("-->", lt + 4)
            if end < 0:
                break
            pos = end + 3
            continue
        gt = markup.find(">", lt + 1)
        if gt < 0:
            break
        tag = lower[lt + 1 : gt]
        pos = gt + 1
        if not tag or tag[0] in "!?":
            continue
        closing = tag.startswith("/")
        body = tag[1:] if closing else tag
        match = _NAME_END.search(body)
        name = body[: match.start()] if match else body
        if ":" in name:  # Office namespaces: <o:p>, <v:shape>
            continue
        if not closing and name in _SKIP_CONTENT:
            end = lower.find("</" + name, pos)
            if end < 0:
                break
            close_gt = markup.find(">", end)
            pos = size if close_gt < 0 else close_gt + 1
            continue
        # Reply/forward markers are attributes; most tags have none worth checking.
        attributed = "id" in tag or "class" in tag
        if attributed and not closing and any(marker in tag for marker in _HISTORY_MARKERS):
            break
        if name == "blockquote":
            quote_depth = max(0, quote_depth - 1) if closing else quote_depth + 1
            out.append("\n")
            continue
        if name in _CELL:
            if closing:
                cell_depth = max(0, cell_depth - 1)
            else:
                cell_depth += 1
                out.append("\t" if row_has_cell else " ")
                row_has_cell = True
        elif name in ("tr", "table"):
            cell_depth = 0
            row_has_cell = False
            out.append("\n")
        elif name in _BLOCK:
            # Inside a table cell a paragraph is part of the cell's text, not a new line.
            out.append(" " if cell_depth else "\n")
            if name == "hr" and quote_depth == 0:
                out.append("________________________________\n")
    text = _CELL_GAP.sub("\t", _BLANKS.sub(" ", html.unescape("".join(out))))
    lines = [line.strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()
