"""The post-incident review as Markdown: summary, severity, duration, the timeline as a
table, actions with their outcomes, checklist completion, and empty sections to fill in.

Every piece of recorded text (titles, notes, targets, backend error messages) is made
inert and put where it cannot change the document's structure: control characters and
newlines become visible symbols, and in table cells `\\` and `|` are escaped, so a
hostile string stays inside its cell. Known secret values are redacted from the result
as a last pass (the audit log is redacted already; a note could still hold a pasted token).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from console.redaction import redact_text
from console.incident_record import IncidentRecord, RunbookProgress
from console.text import plain

SEVERITY = re.compile(r"SEV-[1-4]")
FILL_IN = ("Root cause", "Contributing factors", "Action items")


def cell(value: object, limit: int = 2000) -> str:
    """One table cell: one line, no control characters, `\\` and `|` escaped."""
    return plain(value, limit).replace("\\", "\\\\").replace("|", "\\|")


def _utc(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _span(seconds: float) -> str:
    """1 h 07 min 50 s, for the duration line (exact, unlike the screen's short ages)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def review_markdown(record: IncidentRecord, environment: str, secrets: Iterable[str] = ()) -> str:
    incident, now = record.incident, record.now
    lines = [f"# Post-incident review: {cell(incident.id)}", "", "## Summary", ""]
    lines += _table(
        ("", ""),
        [
            ("Title", cell(incident.title)),
            ("Incident", cell(incident.id)),
            ("Commander", cell(incident.commander)),
            ("Environment", cell(_environments(record, environment))),
            ("Status", cell(incident.status)),
        ],
    )

    severity_events = [e for e in record.timeline if e.kind in ("declared", "severity")]
    seen = {incident.severity, *(s for e in severity_events for s in SEVERITY.findall(e.text))}
    lines += ["", "## Severity", "", f"{incident.severity} at the end; the highest was {min(seen)}.", ""]
    lines += [f"- {_utc(e.at)} UTC, {cell(e.operator)}: {cell(e.text)}" for e in severity_events]

    end = incident.ended_at if incident.ended_at is not None else now
    lines += ["", "## Duration", "", f"Started {_utc(incident.started_at)} UTC, "]
    if incident.ended_at is not None:
        lines[-1] += f"ended {_utc(incident.ended_at)} UTC: {_span(end - incident.started_at)}."
    else:
        lines[-1] += f"still open when exported at {_utc(now)} UTC: {_span(end - incident.started_at)} so far."

    lines += ["", "## Timeline", ""]
    lines += _table(
        ("Time (UTC)", "Operator", "Kind", "Text"),
        [(_utc(e.at), cell(e.operator, 80), cell(e.kind, 40), cell(e.text)) for e in record.timeline],
    )

    lines += ["", "## Actions taken", ""]
    if record.actions:
        lines += _table(
            ("Time (UTC)", "Operator", "Action", "Targets", "Outcome", "Result at (UTC)"),
            [
                (
                    _utc(a.at),
                    cell(a.operator, 80),
                    f"{cell(a.title, 100)} (`{cell(a.action, 60)}`)",
                    cell(" ".join(a.targets), 1000) or "-",
                    cell(a.outcome(), 400),
                    _utc(a.result.get("ts") if a.result and isinstance(a.result.get("ts"), (int, float)) else None),
                )
                for a in record.actions
            ],
        )
    else:
        lines.append("No guarded action is recorded in this console's audit log for the incident's window.")

    lines += ["", "## Checklist completion", ""]
    if record.checklist:
        for progress in record.checklist:
            lines += _checklist(progress)
    else:
        lines.append("No runbook step was ticked during the incident.")

    for title in FILL_IN:
        lines += ["", f"## {title}", ""]
    lines += ["", "---", f"Exported {_utc(now)} UTC by opsconsole."]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines) + "\n")  # one blank line between blocks (every line is one line)
    return redact_text(text, secrets)


def _environments(record: IncidentRecord, environment: str) -> str:
    """Where the incident was declared (else the environment exported from), and any other
    environment an action was sent to."""
    home = record.incident.environment or environment
    others = sorted({a.environment for a in record.actions if a.environment and a.environment != home})
    return home + (f" (actions also on {', '.join(others)})" if others else "")


def _checklist(progress: RunbookProgress) -> list[str]:
    name = f"{cell(progress.title, 200)} (`{cell(progress.runbook, 200)}`)"
    if progress.total is None:
        heading = f"### {name}: {progress.done} ticked, total unknown ({cell(progress.problem, 300)})"
    else:
        heading = f"### {name}: {progress.done}/{progress.total} steps"
    lines = [heading, ""]
    for step in progress.steps:
        mark = "x" if step.ticked else " "
        who = f" ({cell(step.operator, 80)}, {_utc(step.at)} UTC)" if step.operator else ""
        gone = "" if step.in_runbook or progress.total is None else " (no longer in the runbook)"
        lines.append(f"- [{mark}] `{cell(step.key, 100)}` {cell(step.text, 500)}{who}{gone}")
    return lines + [""]
