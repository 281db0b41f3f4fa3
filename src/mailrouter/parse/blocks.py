"""The newest part of a message as blocks that keep their shape (DESIGN §4a, point 1).

A clerk reads a request by its layout before its words. So does the reader: the core of the
newest part (parse.history) becomes a list of blocks, each either a labelled value or a
sentence, whatever way the sender laid it out:

- `Label: value` lines, with a colon, a tab, " - ", "=", "|" or the spaces that line up a
  plain-text form after the label, or a date label followed directly by its date ("DOB
  01/02/1990"); several on one line split apart ("Defendant: A SMITH; DOB: 01/02/1990");
- a label alone on a line with its value on the next (Word and Outlook forms, and the plain
  text Outlook writes for a two-column table);
- table rows (cells separated by tabs, as parse.html writes HTML tables and as Outlook's plain
  text writes some): mapped by a header row (one row per defendant) or by their first cell;
- a header row flattened into plain text, one cell per line, re-assembled into its rows;
- list items under a label ("Defendants:" then "1. …", "2. …");
- everything else as sentences.

What a label says is looked up in the vocabulary (routing_rules/reader.yaml), never coded
here. Blocks carry their line and group (the cells of one table row, the fields of one line
or one list item), so that a name and a date of birth written together stay together.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

from mailrouter.parse.dates import has_date, starts_with_date
from mailrouter.parse.people import split_names
from mailrouter.parse.vocabulary import LabelKind, Vocabulary, lowered

MAX_LABEL_CHARS = 50
MAX_CELL_CHARS = 80  # a line longer than this is prose, not a cell of a flattened table
_MAX_FLAT_CELLS = 60
_MAX_CONTINUATION = 12  # lines a free-text value may run on for

_LIST_PREFIX = re.compile(r"^(?:[*•·▪◦‣⁃>-]\s*|\(?(?:\d{1,2}|[a-z])[.)]\s+|o\s{2,})")
_ITEM = re.compile(r"^(?:[*•·▪◦‣⁃-]\s+|\(?(?:\d{1,2}|[a-z])[.)]\s+)")
_ORDINAL = re.compile(r"\s*(?:[(#]\s*\d{1,2}\s*\)?|\d{1,2})$")
# After a label the vocabulary knows: a spaced dash, "=", "|", or the spaces that line up a
# plain-text form ("Defendant        Liam BYRNE").
# (The look ahead lets the regex engine skip in C to the next space, "=" or "|".)
_DASH_SEP = re.compile(r"(?=[\s=|])(?:\s[-–—]\s|[=|]|\s{2,})")
_LIST_MARKS = frozenset("*•·▪◦‣⁃>-(0123456789o")
_NOT_LABELS = frozenset(("http", "https", "mailto", "cid"))  # "https://…" is no label
_NOT_IN_LABEL = frozenset("?!;,")
_WORD = re.compile(r"\S+")
_RULE = re.compile(r"^[-_=~*.·]{3,}$")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z])")
_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:[A-Za-z]|mr|mrs|ms|dr|no|nos|st|jr|sr|op|ref|approx|e\.g|i\.e|etc|cf|vs?)\.?$",
    re.IGNORECASE,
)
# A further label inside a value: "…SMITH; DOB: 01/02/1990", "…SMITH  Hearing: 3 May".
_INNER_LABEL = re.compile(r"(?:[;,|(]|\s{2,}|\t)\s*([^\W\d_][\w .'’/-]{0,40}?)\s*:(?!\d)")


class Block(NamedTuple):
    label: str  # the label as written, "" for a sentence
    kind: LabelKind | None  # what the label says its value is; None for a sentence
    text: str  # the value, or the sentence
    line: int  # where the text is: an index into the newest part's lines
    group: int  # blocks of one table row, one line or one list item share a group

    def where(self) -> str:
        place = f"body line {self.line + 1}"
        return f"{place}, under '{self.label}'" if self.label else place


def segment(lines: list[str], start: int, end: int, vocabulary: Vocabulary) -> list[Block]:
    """Blocks of lines[start:end] (the core of the newest part), in reading order."""
    return _Segmenter(lines, start, end, vocabulary).run()


class _Segmenter:
    def __init__(self, lines: list[str], start: int, end: int, vocabulary: Vocabulary) -> None:
        self.lines = lines
        self.start = start
        self.end = min(end, len(lines))
        self.vocabulary = vocabulary
        self.blocks: list[Block] = []
        self.group = 0
        self.used: set[int] = set()  # lines consumed as the value of an earlier label

    def run(self) -> list[Block]:
        index = self.start
        paragraph: list[int] = []
        while index < self.end:
            line = self.lines[index].strip()
            if index in self.used or not line or _RULE.match(line):
                self._sentences(paragraph)
                paragraph = []
                index += 1
                continue
            if "\t" in line:
                self._sentences(paragraph)
                paragraph = []
                index = self._table(index)
                continue
            taken = self._field_line(index, line)
            if taken:
                self._sentences(paragraph)
                paragraph = []
                index += 1
                continue
            paragraph.append(index)
            index += 1
        self._sentences(paragraph)
        return self.blocks

    # --- labelled lines ------------------------------------------------------------------

    def _field_line(self, index: int, line: str) -> bool:
        """Read `line` as label and value if it is one; False when it is prose."""
        body = _without_list_mark(line)
        split = self._split_label(body)
        if split is None:
            return False
        label, kind, value = split
        if kind is None:
            # A label this vocabulary does not know ("Re:", "Please note:"): the line is a
            # sentence of its own, not part of the paragraph around it.
            self._add_text(body, index)
            return True
        self.group += 1
        if value:
            if kind is LabelKind.NATURE:
                value = self._run_on(value, index + 1)
            self._add_field(label, kind, value, index)
            return True
        self._value_below(label, kind, index)
        return True

    def _split_label(self, body: str) -> tuple[str, LabelKind | None, str] | None:
        """(label, what it says, value) when `body` starts with a label; None for prose."""
        vocabulary = self.vocabulary
        colon = body.find(":")
        if 0 < colon <= MAX_LABEL_CHARS:
            label = body[:colon].strip(" *")
            if _looks_like_label(label) and label.lower() not in _NOT_LABELS:
                value = body[colon + 1 :].strip(" *\t")
                return label, vocabulary.label(_without_ordinal(label)), value
        head = body[: MAX_LABEL_CHARS + 3]
        dash = _DASH_SEP.search(head) if _may_separate(head) else None
        if dash is not None:
            label = body[: dash.start()].strip(" *")
            kind = vocabulary.label(_without_ordinal(label), alone=True) if label else None
            if kind is not None:
                return label, kind, body[dash.end() :].strip()
        if len(body) <= MAX_LABEL_CHARS:
            kind = vocabulary.label(_without_ordinal(body.rstrip(" :-–")), alone=True)
            if kind is not None:
                return body.rstrip(" :-–"), kind, ""  # a label alone; its value is below it
        first = _WORD.match(body)
        if first is not None and vocabulary.may_start_date_label(first.group(0)):
            return self._date_label(body)
        return None

    def _date_label(self, body: str) -> tuple[str, LabelKind | None, str] | None:
        """ "DOB 01/02/1990", "d.o.b. 12.07.94", "Next hearing 11/12/2026": a date label
        followed by its date with no separator."""
        ends = [m.end() for m in _WORD.finditer(body, 0, 60)][:5]
        for size in range(min(4, len(ends) - 1), 0, -1):
            label = body[: ends[size - 1]]
            kind = self.vocabulary.label(label, alone=True)
            if kind in (LabelKind.DOB, LabelKind.HEARING):
                value = body[ends[size - 1] :].strip(" :-–")
                if starts_with_date(value):
                    return label, kind, value
        return None

    def _value_below(self, label: str, kind: LabelKind, index: int) -> None:
        """A label alone on its line: its value is on the next line, or it heads a flattened
        table, or (for defendants) a list of items."""
        below = self._next_lines(index + 1, 1)
        if not below:
            self._add_field(label, kind, "", index)
            return
        first = below[0]
        text = self.lines[first].strip()
        if self._is_label_alone(text):
            # Another label straight after: perhaps a header row written one cell per line.
            if self._flattened_table([index, *self._next_lines(index + 1, _MAX_FLAT_CELLS)]):
                return
            self._add_field(label, kind, "", index)  # an empty label is an empty value
            return
        if kind is LabelKind.DEFENDANT and _ITEM.match(text):
            for item in self._next_lines(index + 1, _MAX_FLAT_CELLS):
                item_text = self.lines[item].strip()
                if not _ITEM.match(item_text):
                    break
                self.used.add(item)
                self._add_field(label, kind, _ITEM.sub("", item_text, count=1), item)
                self.group += 1
            return
        if self._is_label_line(text) or not self._fits(kind, text):
            self._add_field(label, kind, "", index)  # an empty label is an empty value
            return
        self.used.add(first)
        value = _LIST_PREFIX.sub("", text, count=1).strip()
        if kind is LabelKind.NATURE:
            value = self._run_on(value, first + 1)
        self._add_field(label, kind, value, first)

    def _is_label_alone(self, text: str) -> bool:
        label = text.rstrip(": ")
        return len(label) <= MAX_LABEL_CHARS and (
            self.vocabulary.label(_without_ordinal(label), alone=True) is not None
        )

    def _fits(self, kind: LabelKind, text: str) -> bool:
        """Whether the line below a label alone can be its value: a date under a date of
        birth, a name under a defendant, a request under a request (a line that asks or names
        what is asked for, or reads as a sentence); so that an empty "Nature of request"
        above the signature never takes the signer's name as its value."""
        if kind is LabelKind.DOB:
            return has_date(text)
        if kind is LabelKind.DEFENDANT:
            return bool(split_names(text, self.vocabulary.names))
        if kind is LabelKind.NATURE:
            low = lowered(text)
            return (
                self.vocabulary.asks(low)
                or self.vocabulary.names_a_request(low)
                or text.count(" ") >= 3
                or text.endswith((".", "?"))
            )
        return True

    def _is_label_line(self, text: str) -> bool:
        body = _without_list_mark(text)
        split = self._split_label(body)
        return split is not None and split[1] is not None

    def _run_on(self, value: str, start: int) -> str:
        """A free-text value (the request) runs on over the following lines until a blank
        line or another label."""
        parts = [value]
        for index in range(start, min(self.end, start + _MAX_CONTINUATION)):
            text = self.lines[index].strip()
            if not text or "\t" in text or self._is_label_line(text):
                break
            parts.append(text)
            self.used.add(index)
        return " ".join(parts)

    def _next_lines(self, start: int, limit: int) -> list[int]:
        """The indexes of the non-blank lines from `start` (skipping blank and rule lines),
        at most `limit` of them, stopping at the first line of prose."""
        out: list[int] = []
        blanks = 0
        for index in range(start, self.end):
            text = self.lines[index].strip()
            if not text or _RULE.match(text):
                blanks += 1
                if blanks > 3 and not out:
                    break
                continue
            blanks = 0
            if index in self.used or "\t" in text:
                break
            out.append(index)
            if len(out) >= limit or len(text) > MAX_CELL_CHARS:
                break
        return out

    # --- flattened tables ----------------------------------------------------------------

    def _flattened_table(self, cells: list[int]) -> bool:
        """A header row written one cell per line, then the rows the same way ("Name",
        "Date of birth", "Kane BAILEY", "05/05/2000", …): read as the table it was."""
        headers: list[tuple[str, LabelKind]] = []
        for index in cells:
            text = self.lines[index].strip().rstrip(":")
            kind = self.vocabulary.label(_without_ordinal(text), alone=True)
            if kind is None:
                break
            headers.append((text, kind))
        width = len(headers)
        kinds = {kind for _, kind in headers}
        if width < 2 or not kinds & {LabelKind.DEFENDANT, LabelKind.DOB, LabelKind.HEARING}:
            return False
        data: list[int] = []
        for index in cells[width:]:
            text = self.lines[index].strip()
            if len(text) > MAX_CELL_CHARS or self._is_label_line(text):
                break
            data.append(index)
        rows = len(data) // width
        if rows == 0 or not _columns_agree(headers, [self.lines[i].strip() for i in data]):
            return False
        self.used.update(cells[:width])
        for row in range(rows):
            self.group += 1
            for column, (label, kind) in enumerate(headers):
                index = data[row * width + column]
                self.used.add(index)
                self._add_field(label, kind, self.lines[index].strip(), index)
        return True

    # --- tables ----------------------------------------------------------------------------

    def _table(self, index: int) -> int:
        """Consecutive lines with tab-separated cells: a header row maps each later row's
        cells to its headings; otherwise a row's first cell is its label."""
        headers: list[tuple[str, LabelKind | None]] | None = None
        while index < self.end:
            text = self.lines[index].strip()
            if "\t" not in text or index in self.used:
                break
            cells = [cell.strip() for cell in text.split("\t")]
            index_now, index = index, index + 1
            heading = self._header(cells)
            if heading is not None:
                headers = heading
                continue
            self.group += 1
            if headers is not None and len(cells) >= 2:
                for (label, kind), cell in zip(headers, cells, strict=False):
                    if cell:
                        self.blocks.append(Block(label, kind, cell, index_now, self.group))
                continue
            label = cells[0].rstrip(": ")
            kind = self.vocabulary.label(_without_ordinal(label)) if label else None
            if kind is not None:
                self._add_field(label, kind, " ".join(c for c in cells[1:] if c), index_now)
            else:
                self._add_text(" ".join(cell for cell in cells if cell), index_now)
        return index

    def _header(self, cells: list[str]) -> list[tuple[str, LabelKind | None]] | None:
        """A table's header row: at least two cells, every non-empty one a label standing
        alone, one of them naming defendants, dates of birth or hearings."""
        filled = [cell for cell in cells if cell]
        if len(filled) < 2:
            return None
        out: list[tuple[str, LabelKind | None]] = []
        for cell in cells:
            label = cell.rstrip(": ")
            kind = self.vocabulary.label(_without_ordinal(label), alone=True) if label else None
            if label and kind is None:
                return None
            out.append((label, kind))
        kinds = {kind for _, kind in out}
        if not kinds & {LabelKind.DEFENDANT, LabelKind.DOB, LabelKind.HEARING}:
            return None
        return out

    # --- blocks ----------------------------------------------------------------------------

    def _add_field(self, label: str, kind: LabelKind, value: str, index: int) -> None:
        """One labelled value, split where it holds further labels ("…; DOB: …"). A value
        other than the request ends with its first sentence; any sentences after it are
        prose ("Client: Orla QUINN, born 08/03/1983. Sentence hearing 15/01/2027.")."""
        if kind is LabelKind.NATURE:
            self.blocks.append(Block(label, kind, value, index, self.group))
            return
        first, *rest = split_sentences(value) or [value]
        pieces = self._inner(label, kind, first) if ":" in first else [(label, kind, first)]
        for inner_label, inner_kind, inner_value in pieces:
            self.blocks.append(Block(inner_label, inner_kind, inner_value, index, self.group))
        for sentence in rest:
            self.blocks.append(Block("", None, sentence, index, self.group))

    def _inner(self, label: str, kind: LabelKind, value: str) -> list[tuple[str, LabelKind, str]]:
        out: list[tuple[str, LabelKind, str]] = []
        current_label, current_kind, at = label, kind, 0
        for m in _INNER_LABEL.finditer(value):
            inner_kind = self.vocabulary.label(m.group(1))
            if inner_kind is None:
                continue
            out.append((current_label, current_kind, value[at : m.start()].strip(" ,;|(")))
            current_label, current_kind, at = m.group(1), inner_kind, m.end()
            if inner_kind is LabelKind.NATURE:
                break  # the request runs to the end, whatever it holds
        out.append((current_label, current_kind, value[at:].strip(" ,;|)")))
        return out

    def _add_text(self, text: str, index: int) -> None:
        self.group += 1
        self.blocks.append(Block("", None, text, index, self.group))

    def _sentences(self, paragraph: list[int]) -> None:
        """A paragraph (lines of prose joined, since plain text wraps them) as sentences."""
        if not paragraph:
            return
        parts = [self.lines[i].strip() for i in paragraph]
        text = " ".join(parts)
        starts: list[int] = []  # where each line begins in `text`
        at = 0
        for part in parts:
            starts.append(at)
            at += len(part) + 1
        at = 0
        for sentence in split_sentences(text):
            at = text.find(sentence, at)
            line = paragraph[bisect_right(starts, at) - 1]  # the line the sentence starts on
            self._add_text(sentence, line)
            at += len(sentence)


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`: a full stop, "!" or "?" then a capital starts a new one, except
    after an initial ("Kwame A. ASANTE") or an abbreviation ("Mr.", "No.")."""
    if ". " not in text and "? " not in text and "! " not in text and '."' not in text:
        return [text.strip()] if text.strip() else []
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if _ABBREVIATION.search(text, max(start, m.start() - 8), m.start() + 1):
            continue
        out.append(text[start : m.start() + 1].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [sentence for sentence in out if sentence]


def _without_list_mark(line: str) -> str:
    """`line` without a bullet or number in front ("- ", "1. ", "a) ") or bold marks."""
    first = line[:1]
    if first in _LIST_MARKS or (first.islower() and line[1:2] in ".)"):
        line = _LIST_PREFIX.sub("", line, count=1)
    return line.strip("* ")


def _may_separate(head: str) -> bool:
    """A cheap look for _DASH_SEP's marks before searching for it (run on every line)."""
    return "-" in head or "  " in head or "=" in head or "|" in head or "–" in head or "—" in head


def _looks_like_label(label: str) -> bool:
    """A short phrase starting with a letter: "Defendant", "Date of Birth", "D.O.B"."""
    return (
        0 < len(label) <= MAX_LABEL_CHARS
        and label[0].isalpha()
        and label.count(" ") < 6
        and _NOT_IN_LABEL.isdisjoint(label)
    )


def _without_ordinal(label: str) -> str:
    """ "Defendant 2", "Defendant (2)", "D1" are labels of the same kind as "Defendant"."""
    if not label[-1:].isdigit() and not label.endswith(")"):
        return label
    stripped = _ORDINAL.sub("", label)
    if stripped == label and len(label) <= 3 and label[-1:].isdigit():
        stripped = label.rstrip("0123456789")  # "D1"
    return stripped or label


def _columns_agree(headers: list[tuple[str, LabelKind]], cells: list[str]) -> bool:
    """Whether cells read row by row under `headers` fit them: dates under a date of birth
    heading, no dates under a name heading."""
    width = len(headers)
    rows = len(cells) // width
    for column, (_, kind) in enumerate(headers):
        column_cells = [cells[row * width + column] for row in range(rows)]
        dated = sum(has_date(cell) for cell in column_cells)
        if kind is LabelKind.DOB and dated * 2 < rows:
            return False
        if kind is LabelKind.DEFENDANT and dated:
            return False
    return True
