"""Find whole phrases in folded text with one regular expression shaped like a trie.

A plain alternation of many phrases makes the regex engine try every phrase at every
position. Folding the phrases into a trie first (`b(?:irmingham|rum|ham)`) means each
position is decided by at most one branch per character, so a search costs time linear in
the text times the longest phrase, and the engine (C) does the walking rather than Python.
Phrases are matched on token boundaries of folded text (parse.text.fold): " phrase " with the
leading space consumed and the trailing one only looked at, so adjacent phrases are all found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_END = ""


def phrase_regex(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching ` phrase` before a space, longest phrase first at each position;
    None when there are no phrases."""
    trie: dict[str, dict] = {}
    for phrase in phrases:
        if not phrase:
            continue
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[_END] = {}
    if not trie:
        return None
    return re.compile(f" ({_branches(trie)})(?= )")


def _branches(node: dict[str, dict]) -> str:
    ends_here = _END in node
    parts = [re.escape(ch) + _branches(child) for ch, child in sorted(node.items()) if ch]
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"
    if ends_here:  # a shorter phrase ends here; the longer continuation is tried first
        return f"(?:{body})?" if len(parts) == 1 else f"{body}?"
    return body


# Between the words of a phrase found in ordinary text: any run of spaces and punctuation, or
# none ("d.o.b.", "d o b" and "dob" are one phrase; so are "s.16" and "s16").
_TEXT_GAP = r"[\W_]*"


def text_phrase_regex(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern finding folded `phrases` in lower-cased ordinary text (group 1, whole words
    only), longest phrase first at each position; None when there are no phrases. The trie
    shape keeps the search linear in the text (parse.phrases)."""
    trie: dict[str, dict] = {}
    for phrase in phrases:
        if not phrase:
            continue
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[_END] = {}
    if not trie:
        return None
    body = _text_branches(trie)
    # Whole words only, and not the tail of a hyphenated word ("accused" in "co-accused").
    return re.compile(rf"(?<![^\W_])(?<!\w-)({body})(?![^\W_])")


def _text_branches(node: dict[str, dict]) -> str:
    ends_here = _END in node
    parts = [
        (_TEXT_GAP if ch == " " else re.escape(ch)) + _text_branches(child)
        for ch, child in sorted(node.items())
        if ch
    ]
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"
    if ends_here:
        return f"(?:{body})?" if len(parts) == 1 else f"{body}?"
    return body
