"""The `mailrouter` command (DESIGN §3).

    mailrouter route [--mail-from A] [--rcpt A]... [--peer-ip IP] [--rules DIR]
                     [--now ISO] [--json] FILE.eml...
    mailrouter rules check [DIR]
    mailrouter rules test [DIR] CORPUS_DIR
    mailrouter serve [--config FILE]
    mailrouter pull [--config FILE]
    mailrouter queue list|show|retry|park [--config FILE] …

`route` decides without delivering, with the same `decide` the server calls. The envelope of
each file comes from the options, else its sidecar FILE.json, else defaults: the rules' front
door as recipient, the header From as sender, 127.0.0.1 as peer, and the current time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mailrouter import control, corpus, gateway, logs, queue_ops, replay
from mailrouter.config import ConfigInvalid, Settings, load_settings
from mailrouter.decide import decide
from mailrouter.dnskeys import lookup_keys
from mailrouter.model import Action, Decision, Envelope
from mailrouter.notices import bounce_lines, reject_text
from mailrouter.parse import urn as urns
from mailrouter.parse.mime import read_message
from mailrouter.paths import default_rules_dir, private_dir
from mailrouter.policy.addresses import mailbox_from_header
from mailrouter.policy.auth import dkim_key_names, peer_is_trusted
from mailrouter.rules import samples
from mailrouter.rules.reload import ReloadOutcome
from mailrouter.rules.ruleset import Ruleset, RulesInvalid, load_ruleset
from mailrouter.store import migrations
from mailrouter.store.database import DatabaseError, PgConnection, connect_sqlite
from mailrouter.store.db_spool import DatabaseSpool
from mailrouter.store.journal import PARKED, STATES, Journal, TraceQuery
from mailrouter.store.lock import DataDirInUse
from mailrouter.store.migrations import SchemaMismatch
from mailrouter.store.retention import Retention
from mailrouter.store.spool import MessageSpool, Spool


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except RulesInvalid as exc:
        print("mailrouter: the routing rules are not valid:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except ConfigInvalid as exc:
        print("mailrouter: the configuration is not valid:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except SchemaMismatch as exc:
        print(f"mailrouter: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        print(f"mailrouter: the journal's database: {str(exc).strip()}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailrouter", description="CPS defence mail gateway: route, check and serve."
    )
    parser.add_argument("--version", action="version", version=f"mailrouter {_version()}")
    commands = parser.add_subparsers(metavar="COMMAND")

    route = commands.add_parser("route", help="decide what would happen to messages")
    route.add_argument("files", nargs="+", metavar="FILE.eml")
    route.add_argument("--mail-from", help="envelope sender (default: sidecar, else header From)")
    route.add_argument("--rcpt", action="append", help="envelope recipient (repeatable)")
    route.add_argument("--peer-ip", help="connecting IP address (default: sidecar, else 127.0.0.1)")
    route.add_argument("--rules", type=Path, help="routing rules directory")
    route.add_argument("--now", help="ISO date-time to decide at (default: sidecar, else now)")
    route.add_argument("--json", action="store_true", help="one JSON decision per line")
    route.add_argument("--dkim-keys", type=Path, help="JSON file: DKIM key DNS name -> TXT")
    route.add_argument("--no-dns", action="store_true", help="never look DKIM keys up in DNS")
    route.set_defaults(handler=_route)

    serve = commands.add_parser("serve", help="run the SMTP gateway")
    serve.add_argument("--config", type=Path, help="TOML configuration (default: built-in)")
    serve.add_argument("--workers", type=int, metavar="N", help="acceptor processes (smtp.workers)")
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="the journal's schema (PostgreSQL or SQLite)")
    db_commands = db.add_subparsers(metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply the schema steps the journal lacks")
    upgrade.add_argument("--config", type=Path, help="TOML configuration (journal_url)")
    upgrade.set_defaults(handler=_db_upgrade)
    db_status = db_commands.add_parser("status", help="the journal's schema version")
    db_status.add_argument("--config", type=Path, help="TOML configuration (journal_url)")
    db_status.set_defaults(handler=_db_status)

    pull = commands.add_parser(
        "pull", help="route the mail of an IMAP mailbox (IMAP pull mode, no SMTP listener)"
    )
    pull.add_argument("--config", type=Path, help="TOML configuration ([pull] section)")
    pull.set_defaults(handler=_pull)

    reload_ = commands.add_parser(
        "reload", help="ask the running gateway to reload its rules (refused if a sample fails)"
    )
    reload_.add_argument("--config", type=Path, help="TOML configuration (to find var_dir)")
    reload_.set_defaults(handler=_reload)

    trace = commands.add_parser(
        "trace", help="where did a message go? every decision and refusal, by any of these"
    )
    trace.add_argument("--id", help="the gateway id (X-Mailrouter-Id)")
    trace.add_argument("--urn", help="a URN, in any form")
    trace.add_argument("--sender", help="a sender domain (or address, with keep_addresses)")
    trace.add_argument("--message-id", help="the Message-ID header, with its <>")
    trace.add_argument("--action", choices=[*(a.value for a in Action), "refused"])
    trace.add_argument("--route")
    trace.add_argument("--rule")
    trace.add_argument("--since", type=_age, default=86400, metavar="AGE",
                       help="received in the last AGE (default 1d)")  # fmt: skip
    trace.add_argument("--until", type=_age, default=0.0, metavar="AGE",
                       help="and at least AGE ago (default: now)")  # fmt: skip
    trace.add_argument("--limit", type=int, default=100)
    trace.add_argument("--json", action="store_true", help="one object per line")
    trace.add_argument("--config", type=Path, help="TOML configuration (to find the journal)")
    trace.set_defaults(handler=_trace)

    status = commands.add_parser(
        "status", help="the running gateway: its rules version and the last reload's outcome"
    )
    status.add_argument("--config", type=Path, help="TOML configuration (to find var_dir)")
    status.set_defaults(handler=_status)

    replay_ = commands.add_parser(
        "replay", help="what candidate rules would have decided for the retained messages"
    )
    replay_.add_argument("--rules", type=Path, required=True, help="the candidate rules directory")
    replay_.add_argument(
        "--since", type=_age, default=7 * 86400, metavar="AGE",
        help="messages received in the last AGE (90s, 30m, 2h, 7d; default 7d)",
    )  # fmt: skip
    replay_.add_argument("--config", type=Path, help="TOML configuration (to find var_dir)")
    replay_.add_argument("--json", action="store_true", help="one change per line, then counts")
    replay_.set_defaults(handler=_replay)

    queue = commands.add_parser("queue", help="inspect and manage the delivery queue")
    queue.add_argument("--config", type=Path, help="TOML configuration (to find the journal)")
    queue_commands = queue.add_subparsers(metavar="ACTION")
    listing = queue_commands.add_parser("list", help="messages by state (default: not delivered)")
    listing.add_argument(
        "--state", action="append", type=_states, metavar="STATE[,STATE]",
        help=f"one or more of: {', '.join(STATES)} (default: queued, delivering, parked)",
    )  # fmt: skip
    listing.add_argument("--urn", help="only this URN (any form)")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_queue_list)
    show = queue_commands.add_parser("show", help="one message and its delivery attempts")
    show.add_argument("ids", nargs="+", metavar="ID")
    show.set_defaults(handler=_queue_show)
    cat = queue_commands.add_parser("cat", help="a spooled message: its envelope and its bytes")
    cat.add_argument("id", metavar="ID")
    cat.add_argument("--body-only", action="store_true", help="only the message as received")
    cat.set_defaults(handler=_queue_cat)
    retry = queue_commands.add_parser("retry", help="try queued or parked messages again now")
    _selection(retry)
    retry.set_defaults(handler=_queue_retry)
    requeue = queue_commands.add_parser(
        "requeue", help="decide messages again with today's rules and mailboxes, then retry"
    )
    _selection(requeue)
    requeue.set_defaults(handler=_queue_requeue)
    delete = queue_commands.add_parser("delete", help="remove queued or parked messages")
    delete.add_argument("ids", nargs="+", metavar="ID")
    delete.add_argument("--reason", required=True, help="why (kept in the journal)")
    delete.set_defaults(handler=_queue_delete)
    park = queue_commands.add_parser("park", help="stop trying queued messages")
    park.add_argument("ids", nargs="+", metavar="ID")
    park.set_defaults(handler=_queue_park)

    rules = commands.add_parser("rules", help="check or test routing rules")
    rules_commands = rules.add_subparsers(metavar="ACTION")
    check = rules_commands.add_parser(
        "check", help="validate a rules directory and run its samples (exit 1 on a failure)"
    )
    check.add_argument("directory", nargs="?", type=Path)
    check.set_defaults(handler=_rules_check)
    sample = rules_commands.add_parser(
        "sample", help="turn a message into one of the rules' samples (routing_rules/samples)"
    )
    sample.add_argument("file", type=Path, metavar="FILE.eml")
    sample.add_argument("--expect-route", help="the route it must go to (e.g. crown_court)")
    sample.add_argument("--expect-action", choices=[a.value for a in Action])
    sample.add_argument("--name", help="the sample's name (default: the file's)")
    sample.add_argument("--rules", type=Path, help="routing rules directory")
    sample.add_argument("--mail-from", help="envelope sender (default: the header From)")
    sample.add_argument("--peer-ip", help="connecting IP address (default: 127.0.0.1)")
    sample.add_argument("--now", help="ISO date-time it is decided at (default: now)")
    sample.set_defaults(handler=_rules_sample)
    test = rules_commands.add_parser("test", help="run a corpus of samples against the rules")
    test.add_argument("paths", nargs="+", type=Path, metavar="[DIR] CORPUS_DIR")
    test.set_defaults(handler=_rules_test)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("mailrouter")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


# --- route ------------------------------------------------------------------------------


def _route(args: argparse.Namespace) -> int:
    ruleset = load_ruleset(args.rules or default_rules_dir())
    static_keys: dict[str, bytes] | None = None
    if args.dkim_keys:
        data = json.loads(args.dkim_keys.read_text(encoding="utf-8"))
        static_keys = {k.lower().rstrip("."): v.encode() for k, v in data.items()}
    fixed_now = corpus.parse_now(args.now) if args.now else None
    status = 0
    for name in args.files:
        path = Path(name)
        try:
            raw = path.read_bytes()
            sidecar = corpus.read_sidecar(path)
        except (OSError, ValueError) as exc:
            print(f"mailrouter: {name}: {exc}", file=sys.stderr)
            status = 1
            continue
        envelope, now = _envelope(args, raw, sidecar, ruleset, static_keys, fixed_now)
        decision = decide(envelope, raw, ruleset, now, explain=not args.json)
        if args.json:
            print(json.dumps(decision.to_json(file=name), ensure_ascii=False))
        else:
            print(explain(decision, name, ruleset))
    return status


def _envelope(
    args: argparse.Namespace,
    raw: bytes,
    sidecar: corpus.Sidecar | None,
    ruleset: Ruleset,
    static_keys: dict[str, bytes] | None,
    fixed_now: dt.datetime | None,
) -> tuple[Envelope, dt.datetime]:
    mail_from = args.mail_from or (sidecar.mail_from if sidecar else None)
    if mail_from is None:
        view = read_message(raw)
        spec = mailbox_from_header(view.from_values[0]) if len(view.from_values) == 1 else None
        mail_from = spec or ""
    rcpt = tuple(args.rcpt or (sidecar.rcpt if sidecar and sidecar.rcpt else ()))
    rcpt = rcpt or (ruleset.mailboxes.front_door[0],)
    peer_ip = args.peer_ip or (sidecar.peer_ip if sidecar and sidecar.peer_ip else "127.0.0.1")
    now = fixed_now or (sidecar.now if sidecar and sidecar.now else None)
    now = now or dt.datetime.now(dt.UTC)
    keys: dict[str, bytes] = {}
    names = dkim_key_names(raw)
    if names:
        if static_keys is not None:
            keys = {n: static_keys[n] for n in names if n in static_keys}
        elif not args.no_dns and not peer_is_trusted(peer_ip, ruleset.senders.trusted_relays):
            keys = lookup_keys(names)
    return Envelope(mail_from, rcpt, peer_ip, keys), now


def explain(decision: Decision, name: str, ruleset: Ruleset) -> str:
    """A decision as a person reads it: outcome first, then what was found, then why."""
    out = [name]
    target = f" -> {decision.route} ({decision.mailbox})" if decision.route else ""
    out.append(f"  {decision.action.value.upper()}{target}   [rule {decision.rule}]")
    sender = decision.sender
    out.append(
        f"  sender     {sender.address or '(none)'} ({sender.sender_class.value}, "
        f"{'verified' if sender.verified else 'not verified'})"
    )
    out.append(f"  URN        {decision.urn or '-'}")
    court = decision.court
    out.append(
        f"  court      {court.name} ({court.type.value}, {court.area})"
        if court
        else "  court      -"
    )
    for defendant in decision.defendants or []:
        born = defendant.dob.isoformat() if defendant.dob else "no date of birth"
        out.append(f"  defendant  {defendant.name or '(no name)'}, {born}")
    if not decision.defendants:
        out.append("  defendant  -")
    hearing = decision.hearing_date.isoformat() if decision.hearing_date else "-"
    out.append(f"  hearing    {hearing}")
    out.append(f"  nature     {decision.nature or '-'}")
    out.append(f"  missing    {', '.join(decision.missing) or '-'}")
    out.append(f"  tags       {', '.join(decision.tags) or '-'}")
    if decision.reading:
        out.append("  read:")
        out.extend(_reading_lines(decision))
    out.append("  why:")
    out.extend(f"    - {reason}" for reason in decision.reasons)
    if decision.action is Action.BOUNCE:
        out.append("  the sender is told:")
        out.extend(f"    | {line}" for line in bounce_lines(decision, ruleset.notices))
    elif decision.action is Action.REJECT:
        out.append(f"  the sender is told: {reject_text(ruleset.notices)}")
    return "\n".join(out) + "\n"


_ITEM_WORDS = {
    "urn": "URN",
    "court": "court",
    "defendant_name": "defendant",
    "dob": "born",
    "hearing_date": "hearing",
    "nature": "nature",
}


def _reading_lines(decision: Decision) -> list[str]:
    """What the reader found (+) and turned down (-), item by item, with where and why; for
    an item still missing, what was seen of it."""
    out: list[str] = []
    for item, word in _ITEM_WORDS.items():
        for note in decision.reading:
            if note.item != item:
                continue
            mark = "+" if note.accepted else "-"
            value = note.value if len(note.value) <= 60 else note.value[:57] + "..."
            out.append(f"    {mark} {word:<9} {value!r} ({note.where}): {note.why}")
        if item in decision.missing and not any(n.item == item for n in decision.reading):
            out.append(f"    - {word:<9} nothing in the message reads as one")
    return out


# --- serve and queue ------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    return _run(args, listen=True)


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    db = _schema_connection(settings)
    try:
        before = migrations.version(db)
        applied = migrations.upgrade(db)
        for step in applied:
            print(f"applied {step.version}: {step.description}")
        print(f"schema at version {migrations.version(db)} (was {before})")
    finally:
        db.close()
    return 0


def _db_status(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if settings.journal_url is None and not settings.journal_path.exists():
        print(f"no journal at {settings.journal_path} (made when the gateway first starts)")
        return 1
    db = _schema_connection(settings)
    try:
        found = migrations.version(db)
    finally:
        db.close()
    if found == migrations.LATEST:
        state = "up to date"
    elif found < migrations.LATEST:
        state = "behind: run `mailrouter db upgrade`"
    else:
        state = "ahead of this mailrouter"
    print(f"schema at version {found}, this mailrouter writes {migrations.LATEST}: {state}")
    return 0 if found == migrations.LATEST else 1


def _schema_connection(settings: Settings) -> Any:
    if settings.journal_url is not None:
        return PgConnection(settings.journal_url)
    private_dir(settings.journal_path.parent)
    return connect_sqlite(settings.journal_path, 10.0)


def _pull(args: argparse.Namespace) -> int:
    return _run(args, listen=False)


def _run(args: argparse.Namespace, *, listen: bool) -> int:
    # Everything the gateway writes (spool, journal, outbox, Maildirs, spilled DATA) is its
    # own and nobody else's, as Postfix's queue is.
    os.umask(0o077)
    settings = load_settings(args.config)
    if getattr(args, "workers", None) is not None:
        settings = settings.model_copy(
            update={"smtp": settings.smtp.model_copy(update={"workers": args.workers})}
        )
    logs.configure(settings.log.level, settings.log.format)
    if not listen and not settings.pull.username:
        print("mailrouter: pull needs [pull] host, username and password", file=sys.stderr)
        return 2
    try:
        asyncio.run(gateway.run(settings, listen=listen, pull=None if listen else True))
    except DataDirInUse as exc:
        print(f"mailrouter: will not {'serve' if listen else 'pull'}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"mailrouter: cannot {'serve' if listen else 'pull'}: {exc}", file=sys.stderr)
        return 1
    return 0


def _reload(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    try:
        answer = control.ask(settings.var_dir, "reload")
    except control.NoGateway as exc:
        print(f"mailrouter: {exc}", file=sys.stderr)
        return 2
    outcome = ReloadOutcome(
        answer["accepted"], answer["version"], answer["running"], tuple(answer["problems"])
    )
    print(outcome.describe())
    return 0 if outcome.accepted else 1


def _trace(args: argparse.Namespace) -> int:
    now = time.time()
    query = TraceQuery(
        since=now - args.since, until=now - args.until + 1, message_id=args.id,
        urn=urns.normalise(args.urn) if args.urn else None,
        sender=args.sender.lower() if args.sender else None, header_id=args.message_id,
        action=args.action,
        route=args.route, rule=args.rule, limit=args.limit,
    )  # fmt: skip
    rows = _journal(args).trace(query)
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    if not rows:
        print("nothing found")
        return 1
    print(f"{'TIME (London)':<20} {'ID / STAGE':<30} {'OUTCOME':<22} {'RULE':<20} "
          f"{'URN':<11} SENDER / DETAIL")  # fmt: skip
    for row in rows:
        if row["kind"] == "message":
            outcome = f"{row['action']}{'/' + row['route'] if row['route'] else ''}"
            detail = row.get("sender") or row.get("sender_domain") or "-"
            if row.get("state") not in (None, "refused"):
                outcome += f" ({row['state']})"
            if row.get("audit"):
                detail += "  audit: " + ", ".join(h["rule"] for h in json.loads(row["audit"]))
            print(f"{_london(row['received_at'])[:16]:<20} {row['id']:<30} {outcome:<22} "
                  f"{row['rule'] or '-':<20} {row['urn'] or '-':<11} {detail}")  # fmt: skip
        else:
            sender = row.get("sender") or row.get("sender_domain") or "-"
            print(f"{_london(row['at'])[:16]:<20} {'refused at ' + row['stage']:<30} "
                  f"{'refused':<22} {'-':<20} {'-':<11} {sender}: {row['reason']}")  # fmt: skip
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    try:
        answer = control.ask(settings.var_dir, "status")
    except control.NoGateway as exc:
        print(f"mailrouter: {exc}", file=sys.stderr)
        return 2
    print(f"rules version {answer['version']} running; {answer['sessions']} SMTP sessions open")
    last = answer.get("last_reload")
    if last is None:
        print("no reload since start")
        return 0
    when = _london(last["at"])
    outcome = ReloadOutcome(last["accepted"], last["version"], last["running"],
                            tuple(last["problems"]))  # fmt: skip
    print(f"last reload, {when}: {outcome.describe()}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    candidate = load_ruleset(args.rules)
    retained = Retention(settings.retained_dir, max(settings.retention.days, 1))
    report = replay.replay(retained.messages(time.time() - args.since), candidate)
    counts = report.counts()
    if args.json:
        for change in report.changes:
            print(json.dumps(change.to_json()))
        summary = [{"before": replay.describe(b), "after": replay.describe(a), "count": n}
                   for (b, a), n in counts.most_common()]  # fmt: skip
        print(json.dumps({"decided": report.decided, "changed": len(report.changes),
                          "changes": summary}))  # fmt: skip
        return 0
    for change in report.changes:
        when = _london(change.received_at)
        print(f"{change.message_id}  {when}  {replay.describe(change.before)} -> "
              f"{replay.describe(change.after)}")  # fmt: skip
    if report.changes:
        print()
    for (before, after), count in counts.most_common():
        print(f"{count:>5}  {replay.describe(before)} -> {replay.describe(after)}")
    print(f"{report.decided} retained messages decided with {args.rules} (version "
          f"{candidate.fingerprint}): {len(report.changes)} would change")  # fmt: skip
    return 0


def _london(at: float) -> str:
    moment = dt.datetime.fromtimestamp(at, dt.UTC).astimezone(ZoneInfo("Europe/London"))
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def _journal(args: argparse.Namespace) -> Journal:
    settings = load_settings(args.config)
    if settings.journal_url is None and not settings.journal_path.exists():
        raise SystemExit(f"mailrouter: no journal at {settings.journal_path}")
    return Journal(settings.journal_target, settings.node)


def _spool(settings: Settings, journal: Journal | None = None) -> MessageSpool:
    """The spool the settings name, for one command (its journal connection, if it has one)."""
    if settings.journal_url is None:
        return Spool(settings.spool_dir)
    connection = journal or Journal(settings.journal_target, settings.node)
    return DatabaseSpool(lambda: connection, settings.spool_dir)


def _queue_list(args: argparse.Namespace) -> int:
    states = [s for value in args.state or [] for s in value] or [
        "queued",
        "delivering",
        "parked",
    ]
    urn = urns.normalise(args.urn) if args.urn else None
    rows = _journal(args).search(urn=urn, states=states, limit=args.limit)
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    if not rows:
        print("nothing in", ", ".join(states))
        return 0
    heading = ("ID", "RECEIVED (UTC)", "STATE", "ROUTE", "URN")
    print("{:<30} {:<19} {:<10} {:<12} {:<11} TRIES  NEXT/ERROR".format(*heading))
    for row in rows:
        received = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["received_at"]))
        after = ""
        if row["state"] == "queued" and row["next_attempt_at"]:
            after = "next " + time.strftime("%H:%M:%S", time.gmtime(row["next_attempt_at"]))
        if row["last_error"]:
            after = f"{after} {row['last_error']}".strip()
        print(
            f"{row['id']:<30} {received:<19} {row['state']:<10} {row['route'] or '-':<12} "
            f"{row['urn'] or '-':<11} {row['attempts']:>5}  {after[:80]}"
        )
    return 0


def _queue_show(args: argparse.Namespace) -> int:
    journal = _journal(args)
    status = 0
    for message_id in args.ids:
        row = journal.get(message_id)
        if row is None:
            print(f"{message_id}: not in the journal", file=sys.stderr)
            status = 1
            continue
        print(json.dumps({**row, "attempts_log": journal.attempts(message_id)}, indent=2))
    return status


def _queue_retry(args: argparse.Namespace) -> int:
    journal = _journal(args)
    status = 0
    for message_id in _selected(args, journal):
        if journal.requeue(message_id, time.time()):
            print(f"{message_id}: queued for another attempt now")
        else:
            print(f"{message_id}: not queued or parked", file=sys.stderr)
            status = 1
    return status


def _queue_requeue(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    journal = _journal(args)
    ruleset = load_ruleset(settings.rules_dir)
    spool = _spool(settings, journal)
    status = 0
    for message_id in _selected(args, journal):
        line = queue_ops.requeue(journal, spool, ruleset, message_id)
        print(line)
        status |= "queued for delivery now" not in line
    return status


def _queue_delete(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    journal = _journal(args)
    spool = _spool(settings, journal)
    status = 0
    for message_id in args.ids:
        line = queue_ops.delete(journal, spool, message_id, args.reason)
        print(line)
        status |= "deleted" not in line
    return status


def _queue_cat(args: argparse.Namespace) -> int:
    spool = _spool(load_settings(args.config))
    try:
        meta, raw = queue_ops.show(spool, args.id)
    except FileNotFoundError:
        print(f"{args.id}: not in the spool (delivered or deleted)", file=sys.stderr)
        return 1
    if not args.body_only:
        envelope = {k: meta.get(k) for k in ("id", "mail_from", "rcpt", "peer_ip", "helo")}
        print(json.dumps({**envelope, "decision": meta.get("decision")}, indent=2))
        print("-" * 72)
    sys.stdout.flush()
    sys.stdout.buffer.write(raw)
    return 0


def _selection(parser: argparse.ArgumentParser) -> None:
    """IDs, or --all-parked narrowed by route and age."""
    parser.add_argument("ids", nargs="*", metavar="ID")
    parser.add_argument("--all-parked", action="store_true", help="every parked message")
    parser.add_argument("--route", help="with --all-parked: only this route's")
    parser.add_argument(
        "--older-than", type=_age, metavar="AGE", help="with --all-parked: received over AGE "
        "ago (90s, 30m, 2h, 7d)",
    )  # fmt: skip


def _selected(args: argparse.Namespace, journal: Journal) -> list[str]:
    if args.ids and args.all_parked:
        raise SystemExit("mailrouter: give IDs or --all-parked, not both")
    if not args.all_parked:
        if not args.ids:
            raise SystemExit("mailrouter: give IDs, or --all-parked")
        return list(args.ids)
    before = time.time() - args.older_than if args.older_than else None
    ids = journal.ids_in([PARKED], route=args.route, received_before=before)
    if not ids:
        print("no parked messages" + (f" on route {args.route}" if args.route else ""))
    return ids


def _age(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(text[:-1]) * units[text[-1]]
    except (KeyError, ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"{text!r}: an age such as 90s, 30m, 2h or 7d") from None


def _states(text: str) -> list[str]:
    states = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown state {', '.join(unknown)}: one of {', '.join(STATES)}"
        )
    return states


def _queue_park(args: argparse.Namespace) -> int:
    journal = _journal(args)
    status = 0
    for message_id in args.ids:
        if journal.park_by_hand(message_id, time.time()):
            print(f"{message_id}: parked")
        else:
            print(f"{message_id}: not queued", file=sys.stderr)
            status = 1
    return status


# --- rules ------------------------------------------------------------------------------


def _rules_check(args: argparse.Namespace) -> int:
    directory = args.directory or default_rules_dir()
    ruleset = load_ruleset(directory)
    vocabulary = ruleset.vocabulary
    print(
        f"{directory}: valid - {len(ruleset.rules)} rules, {len(ruleset.routes)} routes, "
        f"{len(ruleset.gazetteer.courts)} courts, {len(ruleset.keyword_lists)} keyword lists, "
        f"{len(ruleset.forces)} force codes (version {ruleset.fingerprint})\n"
        f"  reader vocabulary: {len(vocabulary.labels)} label phrases, "
        f"{len(vocabulary.cue_kinds)} cue phrases, {len(vocabulary.names.never)} words "
        "that are never names"
    )
    for rule, blocker in ruleset.unreachable():
        print(f"  warning: rule {rule} comes after the catch-all rule {blocker}: it never fires")
    results = samples.run_samples(ruleset)
    failed = [r for r in results if not r.passed]
    print(f"  samples: {len(results) - len(failed)} of {len(results)} pass")
    for result in failed:
        print(f"  FAIL {result.describe()}")
    fired = {r.got.get("rule") for r in results}
    routes = {r.got.get("route") for r in results}
    unsampled = [rule.name for rule in ruleset.rules if rule.name not in fired]
    if unsampled:
        print(f"  note: no sample reaches rule(s) {', '.join(unsampled)}")
    if missing_routes := [r for r in ruleset.routes if r not in routes]:
        print(f"  note: no sample goes to route(s) {', '.join(missing_routes)}")
    return 1 if failed else 0


def _rules_sample(args: argparse.Namespace) -> int:
    """Turn a real message into one of the rules' samples."""
    ruleset = load_ruleset(args.rules or default_rules_dir())
    raw = args.file.read_bytes()
    sidecar = corpus.read_sidecar(args.file)
    args.rcpt, args.no_dns = None, True  # the sample's envelope: the front door, no DNS
    fixed_now = corpus.parse_now(args.now) if args.now else None
    envelope, now = _envelope(args, raw, sidecar, ruleset, {}, fixed_now)
    decision = decide(envelope, raw, ruleset, now)
    # What it must decide: as told, else what the rules decide today (pinning it).
    route = args.expect_route if args.expect_route else decision.route
    if args.expect_action:
        action = args.expect_action
    elif args.expect_route:
        action = "hold" if route == ruleset.mailboxes.hold_route else "deliver"
    else:
        action = decision.action.value
    expect: dict[str, object] = {"action": action, "route": route}
    try:
        path = samples.write_sample(
            args.file, ruleset, expect=expect, mail_from=envelope.mail_from,
            peer_ip=envelope.peer_ip, now=now, name=args.name,
        )  # fmt: skip
    except FileExistsError as exc:
        print(f"mailrouter: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path} and {path.with_suffix('.json').name}: expects {action}"
          f"{'/' + route if route else ''}")  # fmt: skip
    got = f"{decision.action.value}/{decision.route or '-'}"
    if (decision.action.value, decision.route) != (action, route):
        print(f"  the rules in {ruleset.directory} decide {got} today: this sample fails, and "
              "blocks reloads, until the rules are changed to pass it")  # fmt: skip
    else:
        print(f"  the rules in {ruleset.directory} decide {got}: it passes")
    return 0


def _rules_test(args: argparse.Namespace) -> int:
    if len(args.paths) == 1:
        directory, corpus_dir = default_rules_dir(), args.paths[0]
    elif len(args.paths) == 2:
        directory, corpus_dir = args.paths
    else:
        print("usage: mailrouter rules test [DIR] CORPUS_DIR", file=sys.stderr)
        return 2
    results = samples.run_samples(load_ruleset(directory), corpus_dir)
    if not results:
        print(f"{corpus_dir}: no cases with an 'expect' sidecar")
        return 1
    width = max(len(r.name) for r in results)
    for result in results:
        outcome = f"{result.got['action']}/{result.got['route'] or '-'}"
        line = f"{'pass' if result.passed else 'FAIL'}  {result.name:<{width}}  {outcome:<22}"
        print(f"{line}  {'; '.join(result.problems)}".rstrip())
    failed = sum(not r.passed for r in results)
    print(
        f"\n{len(results) - failed} passed, {failed} failed, {len(results)} cases "
        f"({directory} on {corpus_dir})"
    )
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
