"""Named keyword lists (POCA, CCU, and whatever ops add) matched against folded text.

Phrases are plain words compared after folding, so "s.16 statement", "S16 Statement" and
"s 16 statement" are one phrase; a list's phrases are searched as one trie-shaped pattern
(parse.phrases). Patterns are RE2 regular expressions: ops may write them, and RE2 matches in
time linear in the text, so no pattern can hang the gateway on hostile input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import re2

from mailrouter.parse.phrases import phrase_regex
from mailrouter.parse.text import fold
from mailrouter.rules.schema import KeywordList

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.max_mem = 8 << 20


class PatternError(ValueError):
    pass


def compile_pattern(pattern: str) -> re2._Regexp:
    """Compile an ops-written pattern with RE2, or explain why it is not one."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise PatternError(f"not an RE2 pattern: {detail}") from None


@dataclass(frozen=True, slots=True)
class KeywordMatcher:
    name: str
    phrases: re.Pattern[str] | None  # every phrase, as one trie-shaped pattern
    patterns: tuple[re2._Regexp, ...]

    @classmethod
    def build(cls, name: str, spec: KeywordList) -> KeywordMatcher:
        phrases = phrase_regex(fold(p).strip() for p in spec.phrases)
        return cls(name, phrases, tuple(compile_pattern(p) for p in spec.patterns))

    def find(self, folded: str) -> str | None:
        """The first phrase or pattern found in `folded` text, for the decision's reasons."""
        if self.phrases is not None:
            m = self.phrases.search(folded)
            if m is not None:
                return m.group(1)
        for pattern in self.patterns:
            m = pattern.search(folded)
            if m is not None:
                return m.group(0).strip()
        return None
