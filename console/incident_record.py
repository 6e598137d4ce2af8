"""Everything recorded about one incident, read once: the merged timeline, the actions
from the audit log, and checklist completion per runbook.

The status-update composer and the post-incident export both start from an
`IncidentRecord`, whether the console or the CLI reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from console.audit import AuditLog
from console.redaction import redact
from console.incident import Incident, IncidentStore, Tick
from console.runbook_model import Runbook
from console.runbook_progress import tick_of
from console.timeline import ActionTaken, TimelineEntry, actions_in, merge

WHOLE_TIMELINE = 1_000_000  # the export wants every event, not the screen's newest few hundred


@dataclass(frozen=True)
class StepState:
    key: str
    text: str
    ticked: bool
    operator: str = ""
    """Who ticked (or unticked) it; "" for a step nobody touched."""
    at: float | None = None
    in_runbook: bool = True
    """False for a tick on a step the runbook no longer has (or a runbook that cannot be read)."""


@dataclass(frozen=True)
class RunbookProgress:
    runbook: str
    """Runbook id."""
    title: str
    total: int | None
    """Steps in the runbook; None when the runbook could not be loaded."""
    steps: tuple[StepState, ...]
    problem: str = ""
    """Why the total is unknown."""

    @property
    def done(self) -> int:
        """Steps ticked; of a runbook that was read, only the steps it still has."""
        return sum(1 for step in self.steps if step.ticked and (step.in_runbook or self.total is None))

    def open_steps(self) -> list[StepState]:
        return [step for step in self.steps if step.in_runbook and not step.ticked]


def checklist_progress(ticks: Iterable[Tick], runbooks: Mapping[str, Runbook]) -> list[RunbookProgress]:
    """Per runbook ticked during the incident: every step, ticked or not, in runbook order.

    A step checked in the source and never touched counts as ticked; a tick counts only on
    the words it was made on (console/runbook_progress.py, the panel's rule too)."""
    by_runbook: dict[str, dict[str, Tick]] = {}
    for tick in ticks:
        by_runbook.setdefault(tick.runbook, {})[tick.step] = tick
    progress = []
    for runbook_id, rows in sorted(by_runbook.items()):
        runbook = runbooks.get(runbook_id)
        steps = list(runbook.steps()) if runbook is not None else []
        if not steps:
            problem = "; ".join(runbook.problems) if runbook is not None and runbook.problems else "not found in the runbook directories"
            kept = tuple(StepState(t.step, t.text, t.ticked, t.operator, t.at, in_runbook=False) for t in rows.values())
            progress.append(RunbookProgress(runbook_id, runbook_id, None, kept, problem))
            continue
        states = []
        for step in steps:
            tick = tick_of(step, rows)  # a tick made on other words stays in rows: listed apart
            if tick is None:
                states.append(StepState(step.key, step.text, step.checked))
            else:
                del rows[step.key]
                states.append(StepState(step.key, step.text, tick.ticked, tick.operator, tick.at))
        states += [StepState(t.step, t.text, t.ticked, t.operator, t.at, in_runbook=False) for t in rows.values()]
        progress.append(RunbookProgress(runbook_id, runbook.title, len(steps), tuple(states)))
    return progress


@dataclass(frozen=True)
class IncidentRecord:
    incident: Incident
    timeline: list[TimelineEntry]
    actions: list[ActionTaken]
    checklist: list[RunbookProgress]
    now: float
    """When it was read: the end of the window for an incident still open."""


def read_timeline(
    store: IncidentStore,
    audit_records: Iterable[Mapping[str, Any]],
    incident: Incident,
    now: float,
    limit: int = WHOLE_TIMELINE,
    secrets: Iterable[str] = (),
) -> list[TimelineEntry]:
    """The merged timeline; with a `limit`, the newest events and the actions since the oldest of them.

    Known secret values are redacted from the text: a token pasted into a note must not
    reach the screen, a status update or an export."""
    events = store.timeline(incident.id, limit)
    actions = actions_in(audit_records, incident, now)
    if len(events) >= limit:
        actions = [a for a in actions if a.at >= events[0].at]
    known = [secret for secret in secrets if secret]
    return [replace(e, text=redact(e.text, known)) if known else e for e in merge(events, actions)]


def read_record(
    store: IncidentStore, audit: AuditLog, incident_id: str, runbook_dirs: Iterable[str | Path], now: float, secrets: Iterable[str] = ()
) -> IncidentRecord:
    """Raises `IncidentError` for an unknown id."""
    incident = store.get(incident_id)
    timeline = read_timeline(store, audit.records(), incident, now, secrets=secrets)
    ticks = store.checklist(incident.id)
    runbooks = _runbooks(runbook_dirs) if ticks else {}
    actions = [entry.action for entry in timeline if entry.action is not None]
    return IncidentRecord(incident, timeline, actions, checklist_progress(ticks, runbooks), now)


def _runbooks(dirs: Iterable[str | Path]) -> dict[str, Runbook]:
    from console.runbooks import load_runbooks  # the Markdown parser, only when a checklist needs totals

    return {runbook.id: runbook for runbook in load_runbooks(dirs)}
