"""`opsconsole incident declare|status|resolve|list|export`: the incident store from a shell, without the UI.

Writes go to the same SQLite file the consoles read, so a console on this host shows the
change on its next refresh; each change is also appended to the audit log. What it prints
from the store (titles, notes, operator names) goes through `plain()`: a note pasted with
escape sequences is shown, never obeyed by the terminal.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from console.audit import AuditLog, audit_path, current_operator
from console.config import Config, ConfigError
from console.environments import every_token
from console.config_base import SEVERITIES
from console.controls import record_incident_change
from console.incident import STATUSES, Incident, IncidentError, IncidentStore, store_path
from console.text import plain

EXIT_REFUSED = 1


def add_incident_parser(sub: argparse._SubParsersAction) -> None:
    incident = sub.add_parser("incident", help="declare, update or resolve an incident (no UI)")
    verbs = incident.add_subparsers(dest="verb", metavar="VERB", required=True)

    declare = verbs.add_parser("declare", help="open a new incident")
    declare.add_argument("title", nargs="+", help="what is happening, in a few words")
    declare.add_argument("--severity", "-s", required=True, choices=SEVERITIES)
    declare.add_argument("--commander", "-c", default="", help="incident commander (default: you)")

    status = verbs.add_parser("status", help="show the current incident, or change its status or severity")
    status.add_argument("--id", help="incident id (default: the current open incident)")
    status.add_argument("--set", dest="new_status", choices=STATUSES, help="new status")
    status.add_argument("--severity", "-s", choices=SEVERITIES, help="new severity")
    status.add_argument("--note", default="", help="text for the timeline")

    listing = verbs.add_parser("list", help="recent incidents, newest first")
    listing.add_argument("--limit", type=int, default=20)

    resolve = verbs.add_parser("resolve", help="resolve an incident")
    resolve.add_argument("--id", help="incident id (default: the current open incident)")
    resolve.add_argument("--note", default="", help="text for the timeline")

    export = verbs.add_parser("export", help="write the post-incident review as Markdown")
    export.add_argument("id", help="incident id, e.g. INC-2026-11-23-001")
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    for verb in verbs.choices.values():
        # SUPPRESS: unless given here, `opsconsole --env NAME incident ...` keeps its value.
        verb.add_argument("--env", default=argparse.SUPPRESS, metavar="NAME", help="environment of the config's [environments] (default: the one it opens on)")


def _when(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def describe(store: IncidentStore, incident: Incident, events: int = 20) -> str:
    """The incident and its newest `events`, as inert text for a terminal."""
    lines = [
        f"{plain(incident.id)}  {plain(incident.severity)}  {plain(incident.status)}  commander {plain(incident.commander)}"
        + (f"  declared in {plain(incident.environment)}" if incident.environment else ""),
        f"  {plain(incident.title)}",
        f"  started {_when(incident.started_at)}" + (f", ended {_when(incident.ended_at)}" if incident.ended_at else ""),
        "  timeline:",
    ]
    for event in store.timeline(incident.id, events):
        lines.append(f"    {_when(event.at)}  {plain(event.operator)}  {plain(event.kind)}  {plain(event.text)}")
    return "\n".join(lines)


def run_incident(args: argparse.Namespace, config: Config) -> int:
    store = IncidentStore(store_path(config.incident.state_path))
    operator = current_operator()
    who = str(operator)
    if args.verb == "export":
        return _export(args, config, store)
    if args.verb == "list":
        for incident in store.recent(args.limit):
            ended = f"ended {_when(incident.ended_at)}" if incident.ended_at else "open"
            print(f"{plain(incident.id)}  {plain(incident.severity)}  {plain(incident.status):<13}  {_when(incident.started_at)}  {ended}  {plain(incident.title)}")
        return 0
    try:
        if args.verb == "declare":
            incident = store.declare(" ".join(args.title), args.severity, args.commander, who, config.environment)
            change = f"declared {incident.severity}: {incident.title}"
        else:
            incident_id = args.id or _current_id(store)
            if args.verb == "resolve":
                incident = store.resolve(incident_id, who, args.note)
                change = "resolved"
            elif args.new_status or args.severity or args.note:
                incident = store.get(incident_id)
                if args.severity:
                    incident = store.set_severity(incident_id, args.severity, who)
                if args.new_status or args.note:
                    incident = store.set_status(incident_id, args.new_status or incident.status, who, args.note)
                change = f"now {incident.severity} {incident.status}"
            else:
                print(describe(store, store.get(incident_id)))
                return 0
    except IncidentError as exc:
        print(f"opsconsole incident: {plain(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    record_incident_change(AuditLog(audit_path(config.audit.path)), operator, config.environment, incident, change)
    print(describe(store, incident, events=5))
    return 0


def _export(args: argparse.Namespace, config: Config, store: IncidentStore) -> int:
    import time

    from console.incident_record import read_record
    from console.review import review_markdown

    try:
        secrets = every_token(config)  # any environment's token, wherever it was pasted
        record = read_record(store, AuditLog(audit_path(config.audit.path)), args.id, config.runbooks.dirs, time.time(), secrets)
    except (IncidentError, ConfigError) as exc:
        print(f"opsconsole incident export: {plain(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    text = review_markdown(record, config.environment, secrets)
    if not args.out:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).expanduser().write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"opsconsole incident export: cannot write {plain(args.out)}: {plain(exc.strerror or exc)}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"wrote {plain(args.out)}")
    return 0


def _current_id(store: IncidentStore) -> str:
    current = store.current()
    if current is None:
        raise IncidentError("no open incident; give --id or declare one")
    return current.id
