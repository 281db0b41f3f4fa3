"""Find whole phrases with one regular expression shaped like a trie.

A plain alternation of many phrases makes the regex engine try every phrase at every
position. Folding the phrases into a trie first (`b(?:irmingham|rum|ham)`) means each
position is decided by at most one branch per character, so a search costs time linear in
the text times the longest phrase, and the engine (C) does the walking rather than Python.

Two kinds of text are searched:
- folded text (parse.text.fold), by `phrase_regex`: " phrase " on token boundaries, with the
  leading space consumed and the trailing one only looked at, so adjacent phrases are all
  found;
- ordinary lower-cased text, by `TextPhrases`, where punctuation or nothing may stand
  between the words of a phrase ("d.o.b.", "d o b" and "dob" are one; so are "s.16" and
  "s16"), so that offsets in the text are kept.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence

_END = ""
# Between texts searched in one pass: a letter, so that neither a phrase nor the gap between
# its words runs across it, with spaces either side, so that a phrase may end or start there.
# A phrase holding this letter (none of English) is never found.
_APART_LETTER = "\u01c2"
_APART = f" {_APART_LETTER} "
# Between the words of a phrase in ordinary text: any run of spaces and punctuation, or none.
_TEXT_GAP = r"[\W_]*"


def phrase_regex(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching ` phrase` before a space in folded text, longest phrase first at
    each position; None when there are no phrases."""
    trie = _trie(phrases)
    return re.compile(f" ({_branches(trie, ' ')})(?= )") if trie else None


class TextPhrases:
    """Folded phrases found in lower-cased ordinary text: whole words only, and not the tail
    of a hyphenated word (no "accused" in "co-accused"), longest phrase first at each
    position.

    The pattern begins by consuming the non-word character before a phrase, and the text is
    searched with a space put in front: a pattern that begins with a character class lets
    the regex engine skip in C to the next place it can start (a word's start), where one
    that begins with a look-behind is started at every character, at a third more cost."""

    __slots__ = ("_regex",)

    def __init__(self, phrases: Iterable[str]) -> None:
        phrases = [phrase for phrase in phrases if _APART_LETTER not in phrase]
        trie = _trie(phrases)
        self._regex = (
            re.compile(rf"[\W_](?<!\w-)({_branches(trie, _TEXT_GAP)})(?![^\W_])") if trie else None
        )

    def find_all(self, lowered: str) -> list[tuple[int, int, str]]:
        """(start, end, phrase as written) of every phrase, offsets in `lowered`."""
        if self._regex is None:
            return []
        return [
            (m.start(1) - 1, m.end(1) - 1, m.group(1)) for m in self._regex.finditer(f" {lowered}")
        ]

    def find_each(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        """find_all of each of `texts`, found in one pass over them all: a message's
        sentences are many and short, and one search over their length costs less than a
        search of each."""
        out: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        if self._regex is None or not texts:
            return out
        starts: list[int] = []  # where each text begins in the joined text
        at = 1
        for text in texts:
            starts.append(at)
            at += len(text) + len(_APART)
        starts.append(at)  # past the end
        which, begins, next_begins = 0, starts[0], starts[1]
        for m in self._regex.finditer(f" {_APART.join(texts)}"):
            start = m.start(1)
            if start >= next_begins:
                which = bisect_right(starts, start) - 1
                begins, next_begins = starts[which], starts[which + 1]
            out[which].append((start - begins, m.end(1) - begins, m.group(1)))
        return out

    def found_in(self, lowered: str) -> bool:
        return self._regex is not None and self._regex.search(f" {lowered}") is not None


def _trie(phrases: Iterable[str]) -> dict[str, dict]:
    trie: dict[str, dict] = {}
    for phrase in phrases:
        if not phrase:
            continue
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[_END] = {}
    return trie


def _branches(node: dict[str, dict], gap: str) -> str:
    """The pattern of a trie node; a space between words becomes `gap`."""
    ends_here = _END in node
    parts = [
        (gap if ch == " " else re.escape(ch)) + _branches(child, gap)
        for ch, child in sorted(node.items())
        if ch
    ]
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"
    if ends_here:  # a shorter phrase ends here; the longer continuation is tried first
        return f"(?:{body})?" if len(parts) == 1 else f"{body}?"
    return body
