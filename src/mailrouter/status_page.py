"""The status page (`/`) for admin teams and ops: each route's queue, the hearings of the next
working days, today's refusals by reason and rule hits, the rules' version and last reload, and
a search box that traces a message. Server-rendered HTML with its style inline and no script,
font or image from anywhere (it must work on a locked-down network), readable on a phone, and
refreshing itself every minute.

It shows what the journal holds: URNs, courts, hearing dates, routes and reasons, never a
defendant's name or date of birth (the journal has none to show).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from mailrouter import health
from mailrouter.http import Response
from mailrouter.parse import urn as urns
from mailrouter.policy.urgency import is_urgent, is_working_day
from mailrouter.store.journal import TraceQuery

if TYPE_CHECKING:
    from mailrouter.gateway import Gateway

LONDON = ZoneInfo("Europe/London")
AHEAD_WORKING_DAYS = 5
_GATEWAY_ID = re.compile(r"^\d{17}\.[0-9a-f]{10}$")
_STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:12px;color:#111;background:#fafafa}
h1{font-size:1.2em;margin:0 0 4px}h2{font-size:1.05em;margin:18px 0 6px}
.meta{color:#555;font-size:.9em}.bad{color:#a00;font-weight:600}.ok{color:#060}
.wrap{overflow-x:auto}table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #ddd;white-space:nowrap}
th{background:#eee}.urgent{background:#fde2e2;font-weight:600}
form{display:flex;gap:6px;margin:12px 0}input{flex:1;min-width:0;font-size:1em;padding:6px}
button{font-size:1em;padding:6px 12px}
"""


async def render(gateway: Gateway, params: dict[str, str]) -> Response:
    now = time.time()
    today = dt.datetime.fromtimestamp(now, LONDON).date()
    midnight = dt.datetime.combine(today, dt.time.min, LONDON).timestamp()
    last_day = _working_days_ahead(today, AHEAD_WORKING_DAYS)
    board = await gateway.journal("board", midnight, today.isoformat(), last_day.isoformat())
    totals = await gateway.journal("totals", now)
    ready, problems, _ = await health.readiness(gateway)
    query = params.get("q", "").strip()[:200]
    found = await gateway.journal("trace", _trace_query(query, now)) if query else None
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        "" if query else '<meta http-equiv=refresh content="60">',
        f"<title>mailrouter status</title><style>{_STYLE}</style></head><body>",
        "<h1>Defence mail gateway</h1>",
        _meta(gateway, now, ready, problems),
        '<form method=get action="/"><input name=q aria-label="Trace a message" '
        f'placeholder="URN, gateway id, Message-ID or sender domain" value="{_e(query)}">'
        "<button>Trace</button></form>",
    ]
    if found is not None:
        out.append(_trace(query, found))
    out.append(_queues(gateway, totals))
    settings = gateway.ruleset.settings
    out.append(_hearings(board["hearings"], today, last_day, settings.urgent_within_working_days))
    out.append(_refused(board["refused"], board["early"]))
    out.append(_rules(board["rules"]))
    out.append("</body></html>")
    return Response(200, "".join(out).encode(), "text/html; charset=utf-8")


def _meta(gateway: Gateway, now: float, ready: bool, problems: list[str]) -> str:
    state = "<span class=ok>ready</span>" if ready else "<span class=bad>NOT READY</span>"
    lines = [f"{state} · rules version <b>{_e(gateway.ruleset.fingerprint)}</b> · "
             f"{_e(_when(now))}"]  # fmt: skip
    last = gateway.last_reload
    if last is not None:
        if last.accepted:
            lines.append(f"last reload {_e(_when(last.at))}: accepted")
        else:
            detail = "; ".join(last.problems[:3])
            lines.append(f'<span class=bad>last reload {_e(_when(last.at))} refused:</span> '
                         f"{_e(detail)}")  # fmt: skip
    lines.extend(f"<span class=bad>{_e(p)}</span>" for p in problems)
    return "".join(f"<div class=meta>{line}</div>" for line in lines)


def _queues(gateway: Gateway, totals: dict[str, list[tuple[Any, ...]]]) -> str:
    by_route: dict[str, dict[str, tuple[int, float]]] = {}
    for state, route, count, age in totals["queue"]:
        by_route.setdefault(route, {})[state] = (count, age)
    rows = []
    for route, spec in gateway.ruleset.routes.items():
        states = by_route.get(route, {})
        waiting = sum(count for count, _ in states.values())
        oldest = max((age for _, age in states.values()), default=0.0)
        parked = states.get("parked", (0, 0.0))[0]
        cells = [route, str(waiting), _age(oldest) if waiting else "-", str(parked), spec.mailbox]
        rows.append(_row(cells, "urgent" if parked else ""))
    head = ["Route", "Waiting", "Oldest", "Parked", "Mailbox"]  # the numbers first: phones
    return _table("Queues", head, rows)


def _hearings(
    hearings: list[dict[str, Any]], today: dt.date, last_day: dt.date, urgent_days: int
) -> str:
    rows = []
    for h in hearings:
        day = dt.date.fromisoformat(h["hearing_date"])
        urgent = is_urgent(day, today, urgent_days)
        when = f"{day:%a %d %b}" + (" · URGENT" if urgent else "")
        cells = [when, h["urn"] or "-", h["route"] or "-", h["state"], h["court"] or "-"]
        rows.append(_row(cells, "urgent" if urgent else ""))
    title = f"Hearings to {last_day:%a %d %b} ({AHEAD_WORKING_DAYS} working days)"
    return _table(title, ["Hearing", "URN", "Route", "State", "Court"], rows)


def _refused(refused: list[dict[str, Any]], early: list[dict[str, Any]]) -> str:
    rows = []
    for r in refused:
        reason = f"missing: {r['missing'].replace(',', ', ')}" if r["missing"] else r["rule"]
        rows.append(_row([r["action"], reason or "-", str(r["n"])]))
    rows.extend(_row([f"refused at {e['stage']}", e["reason"], str(e["n"])]) for e in early)
    return _table("Refused today, by reason", ["Outcome", "Reason", "Messages"], rows)


def _rules(rules: list[dict[str, Any]]) -> str:
    rows = [_row([r["rule"] or "-", str(r["n"])]) for r in rules]
    return _table("Rule hits today", ["Rule", "Messages"], rows)


def _trace(query: str, found: list[dict[str, Any]]) -> str:
    rows = []
    for row in found:
        if row["kind"] == "message":
            outcome = f"{row['action']}{'/' + row['route'] if row['route'] else ''}"
            cells = [_when(row["received_at"]), row["id"], outcome, row["state"],
                     row["rule"] or "-", row["urn"] or "-"]  # fmt: skip
        else:
            cells = [_when(row["at"]), f"refused at {row['stage']}", "refused", "-",
                     row["reason"], "-"]  # fmt: skip
        rows.append(_row(cells))
    head = ["When", "Gateway id", "Outcome", "State", "Rule", "URN"]
    return _table(f"Trace: {query}", head, rows)


def _trace_query(text: str, now: float) -> TraceQuery:
    """What a search means: a gateway id, a Message-ID, a URN, or a sender domain."""
    since, until = now - 90 * 86400, now + 1
    if _GATEWAY_ID.match(text):
        return TraceQuery(since, until, message_id=text)
    if text.startswith("<"):
        return TraceQuery(since, until, header_id=text)
    compact = urns.normalise(text)
    if len(compact) == 11 and compact[:2].isdigit():
        return TraceQuery(since, until, urn=compact)
    return TraceQuery(since, until, sender=text.lower())


def _working_days_ahead(today: dt.date, count: int) -> dt.date:
    day, seen = today, 0
    while seen < count:
        day += dt.timedelta(days=1)
        seen += is_working_day(day)
    return day


def _table(title: str, head: list[str], rows: list[str]) -> str:
    if not rows:
        return f"<h2>{_e(title)}</h2><p class=meta>none</p>"
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return (f"<h2>{_e(title)}</h2><div class=wrap><table><thead><tr>{header}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")  # fmt: skip


def _row(cells: list[str], css: str = "") -> str:
    klass = f" class={css}" if css else ""
    return f"<tr{klass}>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>"


def _when(at: float) -> str:
    return dt.datetime.fromtimestamp(at, LONDON).strftime("%d %b %H:%M")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    if seconds < 172800:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} days"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
