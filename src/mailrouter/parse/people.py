"""Defendants' names, written either way round, reported as given names then SURNAME.

"SMITH, John" and "John Smith" both become "John SMITH"; "Mary-Jane SMITH-JONES", "Seán
O'BRIEN" and "Stuart McALLISTER" keep their accents, apostrophes, hyphens and the writer's
capitals. Several defendants in one value ("A and B", "A; B") become several names. Titles are
dropped; a value that is plainly not a name ("TBC", "see above", "our client") is no name.
"""

from __future__ import annotations

import re

_TITLES = frozenset("mr mrs ms miss mx dr master sir lady lord".split())
_NOT_NAMES = frozenset(
    """n/a na tbc tba unknown see above below the our your their his her client clients
    defendant defendants accused please request dear sir madam regards thanks court crown
    magistrates hearing date birth dob urn ref and of for to in on at by with is was as re
    mother father brother sister partner employer officer solicitor counsel who which
    prosecution defence cps police case matter above-named""".split()
)
# Words after which a name has ended: "John SMITH (in custody)", "John SMITH who appears".
_NAME_END = frozenset(
    """who whom which that whose is was has had will would appears appeared appearing
    in at on born aged age dob d.o.b. date of for and or but re regarding also currently
    remanded custody bailed now""".split()
)
_SPLIT = re.compile(r"\s*(?:;|\s&\s|\sand\s|\s\+\s)\s*", re.IGNORECASE)
_TOKEN = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’.\-])*$")
_PAREN = re.compile(r"\s*[(\[][^)\]]*[)\]]?")
_TRAIL = re.compile(r"[\s,.:;\-–—]+$")
_MARKS = ".'’-"
_TWO_CAPITALS = re.compile(r"[A-Z\u00c0-\u00de\u0100-\u017f]{2}")


def split_names(value: str) -> list[str]:
    """Every name in a field value, normalised; [] when the value holds no name."""
    names: list[str] = []
    for part in _SPLIT.split(value):
        for name in _names_in_part(part):
            if name and name not in names:
                names.append(name)
    return names


def _names_in_part(part: str) -> list[str]:
    part = _PAREN.sub(" ", part).strip()
    part = _TRAIL.sub("", part)
    if not part:
        return []
    if "," in part:
        pieces = [p.strip() for p in part.split(",") if p.strip()]
        if len(pieces) >= 2 and _surname_first(pieces[0], pieces[1]):
            name = normalise_name(_tokens(pieces[1]), surname=_tokens(pieces[0]))
            return [name] if name else []
        if len(pieces) >= 2 and all(len(_tokens(p)) >= 2 for p in pieces):
            return [n for n in (normalise_name(_tokens(p)) for p in pieces) if n]
        part = pieces[0] if pieces else ""
    name = normalise_name(_tokens(part))
    return [name] if name else []


def _surname_first(first: str, second: str) -> bool:
    """ "SMITH, John" / "O'BRIEN, Seán" / "Smith, John": a surname (in capitals, or a single
    word), then given names. "Andre Foster, Nathan Green" is two people."""
    head, tail = _tokens(first), _tokens(second)
    if not (1 <= len(head) <= 3 and 1 <= len(tail) <= 3):
        return False
    if all(_is_caps(t) for t in head) and not all(_is_caps(t) for t in tail):
        return True
    return len(head) == 1


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for raw in text.replace("’", "'").split():
        word = raw.strip(",;:")
        if not word:
            continue
        lower = word.lower().rstrip(".")
        if not out and lower in _TITLES:
            continue
        if lower in _NAME_END or not _TOKEN.match(word):
            break
        out.append(word)
        if len(out) == 6:
            break
    return out


def normalise_name(tokens: list[str], surname: list[str] | None = None) -> str | None:
    """Given names as written (title-cased when shouted or all lower case), surname upper-cased
    unless the writer already marked it with capitals (McALLISTER stays McALLISTER)."""
    if surname is None:
        if not tokens:
            return None
        # The writer's capitals mark the surname, at the end ("John SMITH") or at the start
        # ("SMITH John"); with no such mark, the last word is the surname.
        caps = [_is_caps(t) for t in tokens]
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
            given, surname = tokens[:-1], tokens[-1:]
    else:
        given = tokens
    if not surname or not _plausible(given + surname):
        return None
    if given and all(_is_caps(t) or t.islower() for t in given):
        given = [_title(t) for t in given]  # "JOHN" and "john" both read as John
    family = " ".join(t if _marked(t) else t.upper() for t in surname)
    return " ".join([*given, family]) if given else family


def _plausible(tokens: list[str]) -> bool:
    if not tokens or len(tokens) > 6:
        return False
    if any(t.lower().rstrip(".") in _NOT_NAMES for t in tokens):
        return False
    return any(len(t.strip(_MARKS)) >= 2 for t in tokens)


def _is_caps(token: str) -> bool:
    """SMITH, O'BRIEN: at least two letters, all capitals."""
    return token.isupper() and len(token.strip(_MARKS)) >= 2


def _marked(token: str) -> bool:
    """Two capitals in a row mark a surname the writer already capitalised (McALLISTER)."""
    return _TWO_CAPITALS.search(token) is not None


def _title(token: str) -> str:
    return "-".join(piece[:1].upper() + piece[1:].lower() for piece in token.split("-"))


def name_tokens_after(text: str) -> list[str]:
    """Capitalised words at the start of `text` that read as a name: "Aisha Rahman (born …"."""
    out: list[str] = []
    for raw in text.replace("’", "'").split()[:8]:
        word = raw.strip(",;:()")
        lower = word.lower().rstrip(".")
        if not out and lower in _TITLES:
            continue
        if not word or not word[0].isupper() or not _TOKEN.match(word) or lower in _NOT_NAMES:
            break
        out.append(word)
        if raw.endswith((",", ";", ":", "(", ")")) or (raw != word and raw.endswith(".")):
            break
    return out
