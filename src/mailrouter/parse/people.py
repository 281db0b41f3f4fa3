"""Defendants' names: found in text, written either way round, reported as given names then
SURNAME (DESIGN §4, §4a point 3).

"SMITH, John" and "John Smith" both become "John SMITH"; "Mary-Jane SMITH-JONES", "Seán
O'BRIEN", "Stuart McALLISTER" and "Carmen DE LA CRUZ" keep their accents, apostrophes, hyphens,
particles and the writer's capitals. The words that are never part of a name, the titles
dropped before one, the ranks that mark a police officer and the words for other people
("complainant", "witness") come from the vocabulary
(routing_rules/reader.yaml), never from this module.

Two ways in:
- a labelled value ("Defendant: SMITH, John; GREEN, Nathan") is a name by its label, so any
  name-shaped words in it are read, several where it lists several;
- prose is scanned from an anchor: forward from a client cue ("we act for Aisha RAHMAN"),
  backward from a date of birth ("Van Minh NGUYEN dob …"), or around a surname the writer
  marked with capitals ("Mr Tyrone WALKER's hearing"). Prose names must be capitalised.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_SPLIT = re.compile(r"\s*(?:;|\s&\s|\sand\s|\s\+\s|/)\s*", re.IGNORECASE)
_PAREN = re.compile(r"\s*[(\[][^)\]]*[)\]]?")
_TRAIL = re.compile(r"[\s,.:;\-–—]+$")
_MARKS = ".'’-"
_MC_CAPS = re.compile(r"^Ma?c[A-Z\u00c0-\u00de]{2}[^a-z]*$")
_TWO_CAPITALS = re.compile(r"[A-Z\u00c0-\u00de\u0100-\u017f]{2}")
# A word of two or more capitals (Latin letters), as a first look for a marked surname.
_CAPITAL = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u017f"
# (No letter before it: checked after the first capital, so that the engine skips in C to
# the next capital instead of starting at every character.)
_CAPS_WORD = re.compile(rf"[{_CAPITAL}](?<![^\W\d_][{_CAPITAL}])[{_CAPITAL}'’\-]+(?![^\W\d_])")
# Prose: words (with inner apostrophes, hyphens and full stops; letters and digits together
# make one word, so a postcode's "DY1" is no name), and single marks.
_TOKEN = re.compile(r"\w+(?:['’.\-]\w+)*\.?|[^\w\s]")
_POSSESSIVE = ("'s", "’s")
_LETTERS = re.compile(r"^[^\W\d_]+(?:['’.\-][^\W\d_]+)*\.?$")
_FILLERS = frozenset(("is", "was", "named", "called", "namely"))
_FILLER_MARKS = frozenset(":,-–—")
_NAME_MARKS = frozenset("(),-–—:[")
MAX_NAME_WORDS = 6


class NameWords(NamedTuple):
    """The vocabulary's words about names, folded."""

    titles: frozenset[str]
    particles: frozenset[str]
    ranks: frozenset[str]
    never: frozenset[str]
    others: frozenset[str]  # words for people who are not the defendant


class Token(NamedTuple):
    text: str
    start: int
    end: int


_new_tuple = tuple.__new__


class Phrase(NamedTuple):
    text: str  # as written: "FARROW, Gemma", "Mr Tyrone WALKER"
    start: int  # offsets in the text scanned
    end: int
    titled: bool  # a title stood before it ("Mr")
    role: str  # "officer" after a rank ("PC 2210 ASHWORTH"), "other" after a word for
    # someone else ("the complainant, Anne COLE"), "" otherwise


def may_hold_capitals(text: str, words: NameWords) -> bool:
    """Whether `text` holds a word in capitals that may be a surname ("IDPC" and "CPS" are
    not): a cheap test before reading it word by word for `marked_names`."""
    return any(
        m.group(0).lower().replace("’", "").replace("'", "") not in words.never
        for m in _CAPS_WORD.finditer(text)
    )


def capital_words(text: str) -> list[str]:
    """The words of two or more capitals in `text` ("R v BAILEY and DOYLE")."""
    return _CAPS_WORD.findall(text)


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The words and marks of text[start:end], with offsets in `text`."""
    found = _TOKEN.finditer(text, start, len(text) if end is None else end)
    # tuple.__new__ skips the NamedTuple constructor's Python frame: half the cost of a
    # hot function that makes a token of every word read.
    return [_new_tuple(Token, (m.group(0), m.start(), m.end())) for m in found]


# --- labelled values --------------------------------------------------------------------------


def split_names(value: str, words: NameWords) -> list[str]:
    """Every name in a labelled value, normalised; [] when the value holds no name."""
    names: dict[str, None] = {}  # in order, each once, in constant time
    for part in _SPLIT.split(value):
        for name in _names_in_part(part, words):
            if name:
                names.setdefault(name)
    return list(names)


def _names_in_part(part: str, words: NameWords) -> list[str]:
    part = _PAREN.sub(" ", part).strip()
    part = _TRAIL.sub("", part)
    if not part:
        return []
    if "," in part:
        pieces = [p.strip() for p in part.split(",") if p.strip()]
        if len(pieces) >= 2 and _surname_first(pieces[0], pieces[1], words):
            name = normalise_name(
                _field_tokens(pieces[1], words), words, surname=_field_tokens(pieces[0], words)
            )
            return [name] if name else []
        if len(pieces) >= 2 and all(len(_field_tokens(p, words)) >= 2 for p in pieces):
            return [
                n for n in (normalise_name(_field_tokens(p, words), words) for p in pieces) if n
            ]
        part = pieces[0] if pieces else ""
    name = normalise_name(_field_tokens(part, words), words)
    return [name] if name else []


def _surname_first(first: str, second: str, words: NameWords) -> bool:
    """ "SMITH, John" / "O'BRIEN, Seán" / "Smith, John": a surname (in capitals, or a single
    word), then given names. "Andre Foster, Nathan Green" is two people."""
    head, tail = _field_tokens(first, words), _field_tokens(second, words)
    if not (1 <= len(head) <= 3 and 1 <= len(tail) <= 3):
        return False
    named = [t for t in head if _key(t) not in words.particles]  # "ap GRIFFITH", "de la CRUZ"
    if named and all(is_caps(t) for t in named) and not all(is_caps(t) for t in tail):
        return True
    return len(named) == 1


def _field_tokens(text: str, words: NameWords) -> list[str]:
    """The name-shaped words at the start of a labelled value, up to the first word that is
    never part of a name ("John SMITH who appears", "John SMITH born 1990")."""
    out: list[str] = []
    for raw in text.replace("’", "'").split():
        word = raw.strip(",;:")
        if not word:
            continue
        key = word.lower().replace("'", "").rstrip(".")
        if not out and key in words.titles:
            continue
        if (key in words.never and not _is_initial(word)) or not _is_word(word):
            break
        out.append(word)
        if len(out) == MAX_NAME_WORDS:
            break
    return out


# --- prose ------------------------------------------------------------------------------------


def name_after(text: str, tokens: list[Token], at: int, words: NameWords) -> Phrase | None:
    """The name that starts at token `at`, after a client cue: "we act for Aisha RAHMAN",
    "R v Kwame A. ASANTE", "Re: PARKES, Lee Anthony", "our client, Mr John Smith"."""
    k, count = at, len(tokens)
    while k < count and (tokens[k].text in _FILLER_MARKS or tokens[k].text.lower() in _FILLERS):
        k += 1
    titled = False
    if k < count and _key(tokens[k].text) in words.titles:
        titled, k = True, k + 1
        if k < count and tokens[k].text == ".":
            k += 1
    first, last, comma = k, -1, False
    while k < count and k - first < MAX_NAME_WORDS + 1:
        word = tokens[k].text
        if _prose_name_word(tokens, k, words):
            last = k
            k += 1
            if word.endswith(_POSSESSIVE) or _ends_sentence(word):
                break
            continue
        if (
            word == ","
            and not comma
            and last >= first
            and all(is_caps(tokens[i].text) for i in range(first, last + 1))
            and k + 1 < count
            and _is_capitalised(tokens[k + 1].text)
            and not is_caps(tokens[k + 1].text)
        ):
            comma, k = True, k + 1  # "PARKES, Lee Anthony"
            continue
        break
    if last < first:
        return None
    return _phrase(text, tokens, first, last, titled, role="")


def name_before(text: str, tokens: list[Token], at: int, words: NameWords) -> Phrase | None:
    """The name that ends just before token `at` (a date of birth or its cue): "Van Minh
    NGUYEN dob …", "Jack HOLLAND – DOB …", "FARROW, Gemma - DOB …", "Mr Kwame A. ASANTE
    (DOB …"."""
    k = at - 1
    while k >= 0 and tokens[k].text in _NAME_MARKS:
        k -= 1
    last = k
    comma = False
    lower_case = True  # a name written all in lower case, until a capital is seen
    while k >= 0 and last - k < MAX_NAME_WORDS:
        word = tokens[k].text
        lower_case = lower_case and word.islower()
        if (
            _prose_name_word(tokens, k, words, lower_case=lower_case)
            and not word.endswith(_POSSESSIVE)
            and not (k < last and _ends_sentence(word))
        ):
            if comma and not is_caps(word):
                break  # before the comma only the surname, in capitals
            k -= 1
            continue
        if (
            word == ","
            and not comma
            and k < last
            and k > 0
            and is_caps(tokens[k - 1].text)
            and not any(is_caps(tokens[i].text) for i in range(k + 1, last + 1))
        ):
            comma, k = True, k - 1  # "FARROW, Gemma" read backwards
            continue
        break
    first = k + 1
    if last < first or tokens[first].text == ",":
        return None
    # A name written in lower case ("send idpc for jamie o'connor dob 3.6.85") counts only as
    # given name and surname together, and only right before a date of birth.
    lower = any(tokens[i].text.islower() for i in range(first, last + 1))
    if lower and not 2 <= last - first + 1 <= 4:
        return None
    titled = k >= 0 and _key(tokens[k].text) in words.titles
    if not titled and k >= 1 and tokens[k].text == "." and _key(tokens[k - 1].text) in words.titles:
        titled = True
    return _phrase(text, tokens, first, last, titled, _role_before(tokens, first, words))


def marked_names(text: str, tokens: list[Token], words: NameWords) -> list[Phrase]:
    """Names the writer marked by a surname in capitals, with a title or a given name before
    it: "Mr Tyrone WALKER's hearing", "basis of plea for Kieran MILLS", "Mr KOWALCZYK"."""
    out: list[Phrase] = []
    k, count = 0, len(tokens)
    while k < count:
        if not (is_caps(tokens[k].text) and _prose_name_word(tokens, k, words)):
            k += 1
            continue
        last = k
        while (
            last + 1 < count
            and not tokens[last].text.endswith(_POSSESSIVE)
            and is_caps(tokens[last + 1].text)
            and _prose_name_word(tokens, last + 1, words)
        ):
            last += 1
        first = k
        while (
            first - 1 >= 0
            and first - k > -(MAX_NAME_WORDS - 1)
            and _is_capitalised(tokens[first - 1].text)
            and not is_caps(tokens[first - 1].text)
            and _prose_name_word(tokens, first - 1, words)
        ):
            first -= 1
        before = first - 1
        if before >= 1 and tokens[before].text == ".":
            before -= 1
        titled = before >= 0 and _key(tokens[before].text) in words.titles
        if first < k or titled:
            role = _role_before(tokens, first, words)
            out.append(_phrase(text, tokens, first, last, titled, role))
        k = last + 1
    return out


def _phrase(
    text: str, tokens: list[Token], first: int, last: int, titled: bool, role: str
) -> Phrase:
    start, end = tokens[first].start, tokens[last].end
    if tokens[last].text.endswith(_POSSESSIVE):
        end -= 2
    elif _ends_sentence(tokens[last].text):
        end -= 1
    return Phrase(text[start:end], start, end, titled, role)


def _prose_name_word(
    tokens: list[Token], k: int, words: NameWords, *, lower_case: bool = False
) -> bool:
    """A word that can be part of a name in prose: capitalised and not a word that is never
    a name, or a lower-case particle or an initial between name words ("van der", "de la",
    "Kwame A. ASANTE"); with `lower_case`, any word that is not one of the vocabulary's."""
    word = tokens[k].text
    if not _LETTERS.match(word):
        return False
    if _is_initial(word):
        return k + 1 < len(tokens) and _is_capitalised(tokens[k + 1].text)
    key = _key(word)
    if key in words.never or key in words.ranks or key in words.titles:
        return False
    if _is_capitalised(word):
        return True
    if key in words.particles:
        # "van der Berg": particles, then a capitalised word
        after = k + 1
        while after < len(tokens) and _key(tokens[after].text) in words.particles:
            after += 1
        return after < len(tokens) and _is_capitalised(tokens[after].text)
    if lower_case:
        return len(key) >= 2
    # "d'Souza": a lower-case prefix joined to a capitalised name by an apostrophe
    return word[1:2] in ("'", "’") and word[2:3].isupper()


def _role_before(tokens: list[Token], first: int, words: NameWords) -> str:
    """Who the words just before a name say the person is: "officer" for a rank ("PC 2210
    ASHWORTH", "DC Tranter"), "other" for someone else ("the complainant, Anne COLE", "his
    co-accused Dean COLE"), "" when they say nothing. Numbers, titles, marks and small words
    between are passed over."""
    k = first - 1
    seen = 0
    while k >= 0 and seen < 4:
        key = _key(tokens[k].text)
        if key in words.ranks:
            return "officer"
        if key in words.others:
            return "other"
        if not (key.isdigit() or key in _PASSED_OVER or key in words.titles):
            return ""
        k -= 1
        seen += 1
    return ""


_PASSED_OVER = frozenset(
    ("", ",", ":", "-", "–", "(", "the", "his", "her", "their", "a", "our", "s")
)


# --- normalising ------------------------------------------------------------------------------


def normalise_name(
    tokens: list[str], words: NameWords, surname: list[str] | None = None
) -> str | None:
    """Given names as written (title-cased when shouted or all lower case), surname upper-cased
    unless the writer already marked it with capitals (McALLISTER stays McALLISTER)."""
    if any(t.endswith(_POSSESSIVE) for t in tokens):
        tokens = [t[:-2] if t.endswith(_POSSESSIVE) else t for t in tokens]
    if surname is None:
        if not tokens:
            return None
        # The writer's capitals mark the surname, at the end ("John SMITH") or at the start
        # ("SMITH John"); with no such mark, the last word is the surname, with any
        # particles before it ("Jan van der Berg").
        caps = [is_caps(t) for t in tokens]
        tail = head = 0
        while tail < len(caps) and caps[-1 - tail]:
            tail += 1
        while head < len(caps) and caps[head]:
            head += 1
        if 0 < tail < len(tokens):
            given, surname = tokens[:-tail], tokens[-tail:]
        elif 0 < head < len(tokens):
            given, surname = tokens[head:], tokens[:head]
        else:
            cut = len(tokens) - 1
            while cut > 1 and _key(tokens[cut - 1]) in words.particles:
                cut -= 1
            given, surname = tokens[:cut], tokens[cut:]
    else:
        given = tokens
    if not surname or not _plausible(given + surname, words):
        return None
    if given and all(is_caps(t) or t.islower() for t in given):
        given = [_title(t) for t in given]  # "JOHN" and "john" both read as John
    family = " ".join(
        t
        if t.isupper() or _marked(t) or (t.islower() and _key(t) in words.particles)
        else t.upper()
        for t in surname
    )
    return " ".join([*given, family]) if given else family


def _plausible(tokens: list[str], words: NameWords) -> bool:
    if not tokens or len(tokens) > MAX_NAME_WORDS:
        return False
    if any(_key(t) in words.never and not _is_initial(t) for t in tokens):
        return False
    return any(len(t.strip(_MARKS)) >= 2 for t in tokens)


def word_key(word: str) -> str:
    """A word as the vocabulary's name lists hold it: lower case, no apostrophes, no full
    stop at the end ("O'Brien" is "obrien", "co-accused" stays "co-accused")."""
    return word.lower().replace("'", "").replace("’", "").rstrip(".")


_key = word_key


def is_caps(token: str) -> bool:
    """SMITH, O'BRIEN, WALKER's, McALLISTER: a surname written in capitals (a "Mc" or "Mac"
    before the capitals, as Scots and Irish names are written, still counts)."""
    if token.endswith(_POSSESSIVE):
        token = token[:-2]
    if token.isupper():
        return len(token.strip(_MARKS)) >= 2
    return token[:1] == "M" and _MC_CAPS.match(token) is not None


def _ends_sentence(token: str) -> bool:
    """ "Morning.", "SMITH.": a word with a full stop after it, other than an initial."""
    return token.endswith(".") and not _is_initial(token) and "." not in token[:-1]


def _is_word(token: str) -> bool:
    """Letters, with apostrophes, full stops and hyphens inside: "O'Brien", "A.", "Smith-Jones"."""
    if token.isalpha():
        return True
    # str.replace, not str.translate: a translation table is looked up character by
    # character, several times slower on words this short.
    bare = token.replace("'", "").replace("’", "").replace(".", "").replace("-", "")
    return token[:1].isalpha() and bare.isalpha()


def _is_initial(token: str) -> bool:
    """ "A." or "A": one capital letter."""
    return len(token.rstrip(".")) == 1 and token[0].isupper()


def _is_capitalised(token: str) -> bool:
    return token[:1].isupper()


def _marked(token: str) -> bool:
    """Two capitals in a row mark a surname the writer already capitalised (McALLISTER)."""
    return _TWO_CAPITALS.search(token) is not None


def _title(token: str) -> str:
    return "-".join(piece[:1].upper() + piece[1:].lower() for piece in token.split("-"))
