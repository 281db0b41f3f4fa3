"""Sample corpora: NAME.eml with NAME.json beside it (DESIGN §3, shared/corpus/README.md).

The sidecar holds the envelope (`mail_from`, `rcpt`, `peer_ip`), the clock (`now`) and
optionally `expect`, a subset of the decision JSON. `compare` applies the corpus rules:
`missing` and `tags` as sets, defendant names case-insensitive with whitespace collapsed,
court fields likewise, everything else exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Sidecar:
    mail_from: str | None
    rcpt: tuple[str, ...] | None
    peer_ip: str | None
    now: dt.datetime | None
    expect: dict[str, Any] | None


def read_sidecar(eml: Path) -> Sidecar | None:
    path = eml.with_suffix(".json")
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    rcpt = data.get("rcpt")
    if isinstance(rcpt, str):
        rcpt = [rcpt]
    now = data.get("now")
    return Sidecar(
        mail_from=data.get("mail_from"),
        rcpt=tuple(rcpt) if rcpt is not None else None,
        peer_ip=data.get("peer_ip"),
        now=parse_now(now) if now else None,
        expect=data.get("expect"),
    )


def parse_now(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().casefold()


def compare(expect: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """One line per expected key that the decision does not match."""
    problems: list[str] = []
    for key, want in expect.items():
        have = got.get(key)
        if not _matches(key, want, have):
            problems.append(f"{key}: want {want!r}, got {have!r}")
    return problems


def _matches(key: str, want: Any, have: Any) -> bool:
    if key in ("missing", "tags"):
        return isinstance(have, list) and set(want) == set(have)
    if key == "defendants":
        if not isinstance(have, list) or len(have) != len(want):
            return False
        for w, h in zip(want, have, strict=True):
            if "name" in w and _norm(w["name"]) != _norm(h.get("name")):
                return False
            if "dob" in w and w["dob"] != h.get("dob"):
                return False
        return True
    if key == "court":
        if want is None or have is None:
            return want == have
        return all(_norm(v) == _norm(have.get(k)) for k, v in want.items())
    if key == "sender":
        return isinstance(have, dict) and all(have.get(k) == v for k, v in want.items())
    return bool(want == have)
