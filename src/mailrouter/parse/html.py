"""HTML mail (Outlook, Gmail, webmail) to the lines of text a person would read.

The markup is parsed by lexbor (selectolax), an HTML5 parser in C: malformed, unclosed and
hostile markup is repaired the way a browser repairs it, in time linear in its size, and
entities are decoded. One walk over the tree then writes the text:

- block elements (p, div, li, br, headings…) end a line; runs of white space inside text
  collapse to one space, as a browser shows them;
- a table row becomes one line with its cells separated by a tab, so a two-column form reads
  "Defendant<TAB>Daniel FIELDING" and a table with a header row keeps its columns; a cell's
  own paragraphs stay inside the cell; a table nested in a cell (a layout table) is written
  as lines of its own;
- quoted history is dropped at the source: the contents of <blockquote>, and everything after
  a reply/forward marker (Outlook's divRplyFwdMsg, Gmail's gmail_quote, Thunderbird's
  moz-cite-prefix, …).

The walk keeps its own stack, so nesting depth costs memory, never Python's recursion limit.
Parsing deeply nested blocks costs the tree builder time quadratic in the depth (each new
<div> looks down the stack of open elements), so the markup is first cut at the earliest
reply/forward marker (what follows is history, never read) and then at MAX_TAGS tags: 2,000
nested <div>s parse in a few milliseconds, and the sender's own words come first.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

_BLOCK = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 hr pre dt dd dl address section article header "
    "footer center blockquote form fieldset figure main nav aside caption".split()
)
_SKIP = frozenset("style script head title xml template noscript svg object".split())
_HISTORY_IDS = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container")
_HISTORY_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "outlookmessageheader")
_SPACE = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")
_SPACES = re.compile(r" {2,}")
# ASCII letters only, so offsets in the lowered copy are offsets in the markup (rarely needed:
# str.lower keeps the length of nearly every text).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_MANY_NEWLINES = re.compile(r"\n{3,}")

MAX_TAGS = 2_000
_MARKER_TRIES = 50  # occurrences of one marker looked at (text can repeat it at will)
_MARKUP_MARKERS = (*_HISTORY_IDS, *_HISTORY_CLASSES)

# What the walk has pending for a node: text, or the end of an element.
_ENTER, _LEAVE = 0, 1


class _Writer:
    """Collects text, knowing whether it is inside a table row (cells on one line)."""

    __slots__ = ("line", "lines", "rows", "spaced")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line: list[str] = []  # pieces of the line being written
        self.rows: list[list[list[str]]] = []  # open table rows, innermost last: cells of pieces
        self.spaced = False  # the line holds a non-breaking space (Outlook's blank paragraph)

    def text(self, raw: str) -> None:
        piece = _SPACE.sub(" ", raw)
        if self.rows and self.rows[-1]:
            self.rows[-1][-1].append(piece)
        else:
            self.line.append(piece)
            self.spaced = self.spaced or "\u00a0" in raw

    def newline(self, *, always: bool = False) -> None:
        """End the line being written. A line of nothing but white space is written only
        where the writer made a blank line (a <br>, or a paragraph holding &nbsp;), not for
        the white space that lays out the markup between blocks."""
        if self.rows and self.rows[-1]:
            self.rows[-1][-1].append(" ")  # a paragraph inside a cell stays in the cell
            return
        text = "".join(self.line)
        if always or self.spaced or text.strip():
            self.lines.append(text)
        self.line = []
        self.spaced = False

    def open_row(self) -> None:
        self.newline()
        self.rows.append([])

    def open_cell(self) -> None:
        if self.rows:
            self.rows[-1].append([])

    def close_row(self) -> None:
        if not self.rows:
            return
        cells = self.rows.pop()
        text = "\t".join(_squash("".join(cell)) for cell in cells)
        self.lines.append(text)

    def open_table(self) -> None:
        """A table inside a cell is a layout table: the outer row so far is written out, and
        the inner table's rows become lines of their own."""
        if self.rows and self.rows[-1]:
            outer = self.rows[-1]
            self.lines.append("\t".join(_squash("".join(cell)) for cell in outer))
            outer.clear()
        else:
            self.newline()

    def close_table(self) -> None:
        self.newline()
        if self.rows and not self.rows[-1]:
            self.rows[-1].append([])  # the rest of the outer cell after a layout table

    def result(self) -> str:
        while self.rows:
            self.close_row()
        self.lines.append("".join(self.line))
        text = "\n".join(_squash(line) for line in self.lines)
        return _MANY_NEWLINES.sub("\n\n", text).strip()


def _squash(text: str) -> str:
    """Runs of spaces to one, and no spaces at the ends (tabs between cells stay)."""
    return _SPACES.sub(" ", text).strip(" ")


def html_to_text(markup: str, notes: list[str] | None = None) -> str:
    """The text of `markup`; anything left unread is said in `notes`."""
    cut = _history_start(markup)
    if cut is not None:
        markup = markup[:cut]
    if markup.count("<") > MAX_TAGS:
        at = -1
        for _ in range(MAX_TAGS):
            at = markup.find("<", at + 1)
        markup = markup[:at]
        if notes is not None:
            notes.append("only the first part of a very long HTML body was read")
    tree = LexborHTMLParser(markup)
    root = tree.body or tree.root
    if root is None:
        return ""
    out = _Writer()
    stack: list[tuple[int, LexborNode]] = [(_ENTER, root)]
    while stack:
        step, node = stack.pop()
        tag = node.tag
        if step == _LEAVE:
            if tag == "tr":
                out.close_row()
            elif tag == "table":
                out.close_table()
            elif tag in _BLOCK:
                out.newline()
            continue
        if tag == "-text":
            out.text(node.text_content or "")
            continue
        if tag is None or tag.startswith("-") or tag in _SKIP or ":" in tag:
            continue  # comments, doctype, <o:p> and other Office namespaces
        if tag == "br":
            out.newline(always=True)
            continue
        if tag == "blockquote":
            out.newline()  # quoted history: its words are not this message's
            continue
        if tag == "tr":
            out.open_row()
        elif tag in ("td", "th"):
            out.open_cell()
        elif tag == "table":
            out.open_table()
        elif tag in _BLOCK:
            out.newline()
        stack.append((_LEAVE, node))
        child = node.last_child
        while child is not None:
            stack.append((_ENTER, child))
            child = child.prev
    return out.result()


def _history_start(markup: str) -> int | None:
    """Where the first reply/forward marker's tag starts: a marker inside a tag (an id or
    class attribute), not one in a style sheet. String searches only, so this is cheap on
    any input."""
    lower = markup.lower()
    if len(lower) != len(markup):  # a character that lower-cases to two: keep offsets
        lower = markup.translate(_ASCII_LOWER)
    first: int | None = None
    for marker in _MARKUP_MARKERS:
        at = lower.find(marker)
        for _ in range(_MARKER_TRIES):
            if at < 0 or (first is not None and at > first):
                break
            tag = lower.rfind("<", max(0, at - 300), at)
            inside = lower[tag:at] if tag >= 0 else ">"
            if ">" not in inside and ("id" in inside or "class" in inside):
                first = tag
                break
            at = lower.find(marker, at + 1)
    return first
