"""The rules' own samples: `routing_rules/samples/NAME.eml` with `NAME.json` beside it, in the
corpus format (DESIGN §3), each saying what the rules must decide for it.

`rules check` runs them; a reload swaps in new rules only when every sample still passes
(Postfix's .ref discipline, applied to routing). A failure names the sample, what it expected
and what the candidate rules decided instead. `write_sample` turns a real message into one.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailrouter import corpus
from mailrouter.decide import decide
from mailrouter.model import Envelope
from mailrouter.rules.ruleset import Ruleset

SAMPLES = "samples"


@dataclass(frozen=True, slots=True)
class SampleResult:
    name: str
    expected: dict[str, Any]
    got: dict[str, Any]
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        """One line: the sample, what it expected and what it got."""
        want = _outcome(self.expected)
        have = _outcome(self.got)
        detail = "; ".join(self.problems)
        return f"{self.name}: expected {want}, got {have} ({detail})"


def samples_dir(ruleset: Ruleset) -> Path:
    return ruleset.directory / SAMPLES


def run_samples(ruleset: Ruleset, directory: Path | None = None) -> list[SampleResult]:
    """Decide every sample with an expectation in `directory` (default: the rules' own)."""
    directory = directory or samples_dir(ruleset)
    results: list[SampleResult] = []
    for path in sorted(directory.glob("*.eml")):
        sidecar = corpus.read_sidecar(path)
        if sidecar is None or sidecar.expect is None:
            continue
        envelope = Envelope(
            sidecar.mail_from or "",
            sidecar.rcpt or (ruleset.mailboxes.front_door[0],),
            sidecar.peer_ip or "127.0.0.1",
        )
        now = sidecar.now or dt.datetime.now(dt.UTC)
        got = decide(envelope, path.read_bytes(), ruleset, now).to_json(file=path.name)
        problems = corpus.compare(sidecar.expect, got)
        results.append(SampleResult(path.stem, sidecar.expect, got, problems))
    return results


def write_sample(
    message: Path,
    ruleset: Ruleset,
    *,
    expect: dict[str, Any],
    mail_from: str,
    peer_ip: str,
    now: dt.datetime,
    name: str | None = None,
) -> Path:
    """Copy `message` into the rules' samples with a sidecar expecting `expect`; the path of
    the new sample. An existing sample of that name is never overwritten."""
    directory = samples_dir(ruleset)
    directory.mkdir(exist_ok=True)
    target = directory / f"{name or message.stem}.eml"
    if target.exists() or target.with_suffix(".json").exists():
        raise FileExistsError(f"{target} already exists")
    sidecar = {
        "mail_from": mail_from,
        "rcpt": [ruleset.mailboxes.front_door[0]],
        "peer_ip": peer_ip,
        "now": now.isoformat(timespec="seconds"),
        "expect": expect,
    }
    shutil.copyfile(message, target)
    target.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    return target


def _outcome(decision: dict[str, Any]) -> str:
    action = decision.get("action", "?")
    route = decision.get("route")
    return f"{action}/{route}" if route else str(action)
