"""Status updates to stakeholders: when the next one is due, and a first draft of it.

The cadence comes from `[status_updates]` by severity; the countdown runs from the last
"status-update" event on the timeline, or from the declaration. The draft is plain text
written from what the incident records say and, for the impact, the signals at warn or
crit in the dashboard's latest snapshot; the operator edits it before sending.
Everything here is pure: the caller passes the clock's reading and the readings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from console.config_runbooks import StatusUpdatesConfig
from console.format import drain_text, duration, staleness, trend_long, value_words
from console.incident import Incident
from console.incident_record import IncidentRecord
from console.models import Level, SignalReading, Snapshot
from console.poller import METRICS, STATS
from console.text import plain

STATUS_UPDATE = "status-update"
"""Timeline kind of an update marked as sent."""
NEXT_ACTIONS_SHOWN = 5
ACTIONS_SHOWN = 8
PLACEHOLDER_NEXT = "- (what the team does next; edit this)"
_ETA = re.compile(r"\bETA\b[\s:=-]*(.+)", re.IGNORECASE)


def cadence_s(config: StatusUpdatesConfig, severity: str) -> float | None:
    """Seconds between updates at this severity; None: no countdown (SEV-4 by default)."""
    minutes = {"SEV-1": config.sev1_min, "SEV-2": config.sev2_min, "SEV-3": config.sev3_min, "SEV-4": config.sev4_min}.get(severity)
    return minutes * 60 if minutes else None


@dataclass(frozen=True)
class UpdateDue:
    incident_id: str
    due_at: float

    def overdue(self, now: float) -> bool:
        return now >= self.due_at

    def countdown(self, now: float) -> str:
        """"update in 12m", in whole minutes (floored: never more time than there is) and in
        seconds for the last two; "UPDATE OVERDUE 3m" once it is late.

        Minute steps because the top line is redrawn whenever its text changes: a per-second
        countdown sent the whole line down the SSH link every second (about +320 B/s idle)."""
        left = self.due_at - now
        if left <= 0:
            return f"UPDATE OVERDUE {duration(-left)}"
        if left < 120:
            return f"update in {math.ceil(left)}s"
        hours, minutes = divmod(int(left // 60), 60)
        return f"update in {hours}h{minutes:02d}m" if hours else f"update in {minutes}m"


def update_due(incident: Incident | None, last_update_at: float | None, config: StatusUpdatesConfig) -> UpdateDue | None:
    """When the next update is due; None for no incident, a resolved one, or a severity without a cadence."""
    if incident is None or not incident.is_open:
        return None
    cadence = cadence_s(config, incident.severity)
    if cadence is None:
        return None
    since = max(incident.started_at, last_update_at or incident.started_at)
    return UpdateDue(incident.id, since + cadence)


# -- the draft ---------------------------------------------------------------------------


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M UTC")


def eta_from_notes(record: IncidentRecord) -> str:
    """What the newest note saying "ETA ..." gives; "unknown" otherwise."""
    for entry in reversed(record.timeline):
        if entry.kind == "note":
            found = _ETA.search(entry.text)
            if found and found.group(1).strip():
                return plain(found.group(1).strip(), 200)
    return "unknown"


def next_actions(record: IncidentRecord) -> list[str]:
    """The runbook steps not yet ticked, where a checklist has been started."""
    lines = []
    for progress in record.checklist:
        for step in progress.open_steps():
            lines.append(f"- {plain(step.text, 160)} ({plain(progress.runbook, 60)})")
    if len(lines) > NEXT_ACTIONS_SHOWN:
        lines = lines[:NEXT_ACTIONS_SHOWN] + [f"- ... {len(lines) - NEXT_ACTIONS_SHOWN} more runbook steps"]
    return lines or [PLACEHOLDER_NEXT]


def actions_taken(record: IncidentRecord) -> list[str]:
    entries = [entry for entry in record.timeline if entry.kind == "action"]
    lines = [f"- {_utc(e.at)} {plain(e.text, 200)} ({plain(e.operator, 40)})" for e in entries[-ACTIONS_SHOWN:]]
    if len(entries) > ACTIONS_SHOWN:
        lines.insert(0, f"- ... {len(entries) - ACTIONS_SHOWN} earlier actions")
    return lines or ["- none yet"]


def latest_readings(snapshot: Snapshot | None, now: float) -> tuple[tuple[SignalReading, ...] | None, str]:
    """The snapshot's readings for the impact line; None and why when they are not current."""
    if snapshot is None:
        return None, "no metrics read yet"
    # Both sources that feed signals: /metrics (or Prometheus) and the API's JSON. A
    # stakeholder update never carries a number that may be old.
    stale = "; ".join(f"{name} {why}" for name in (METRICS, STATS) if (why := staleness(snapshot.source(name), now)))
    return (None, stale) if stale else (snapshot.signals, "")


def signal_now(reading: SignalReading) -> str:
    """"Queue depth 812 jobs CRIT, rising for 14m, no drain": the words the tile and the
    signals screen show, as one phrase."""
    value, unit, level = value_words(reading)
    parts = [f"{plain(reading.title, 60)} {value}{unit}{level}"]
    if reading.trend is not None:
        parts.append(trend_long(reading.trend))
    if reading.drain:
        parts.append(drain_text(reading.trend, reading.value))
    if reading.error:  # its own query failed: the value is the last one it gave
        parts.append(f"last known, its query failing: {plain(reading.error, 120)}")
    return ", ".join(part for part in parts if part)


def impact(title: str, readings: Sequence[SignalReading] | None, unavailable: str = "") -> str:
    """The title, then the signals at crit and then at warn; `readings` None: say why there are none."""
    if readings is None:
        now = f"signals unavailable: {plain(unavailable, 200) or 'unknown'}"
    else:
        breached = [r for r in readings if r.level in (Level.CRIT, Level.WARN)]
        breached.sort(key=lambda r: r.level is not Level.CRIT)  # stable: crit first, then config order
        now = "; ".join(signal_now(r) for r in breached) or "no signal at warn or crit"
    return f"{plain(title, 200).rstrip('. ')}. Now: {now}"


def compose_update(
    record: IncidentRecord,
    environment: str,
    config: StatusUpdatesConfig,
    readings: Sequence[SignalReading] | None,
    unavailable: str = "",
) -> str:
    """A first draft from the incident's records and the latest readings (None: `unavailable`
    says why there are none): status, impact, scope, ETA, next actions, actions taken."""
    incident, now = record.incident, record.now
    cadence = cadence_s(config, incident.severity)
    lines = [
        f"{incident.severity} {incident.id} {incident.status}: {plain(incident.title, 200)}",
        "",
        f"Status: {incident.status} ({incident.severity}), started {_utc(incident.started_at)}, {duration(now - incident.started_at)} ago",
        f"Impact: {impact(incident.title, readings, unavailable)}",
        f"Scope: environment {plain(environment, 40)}",
        f"ETA: {eta_from_notes(record)}",
        "",
        "Next actions:",
        *next_actions(record),
        "",
        "Actions taken:",
        *actions_taken(record),
    ]
    if cadence is not None:
        lines += ["", f"Next update by {_utc(now + cadence)}."]
    return "\n".join(lines) + "\n"


def sent_summary(text: str) -> str:
    """What goes on the timeline for an update marked sent: its first line."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return plain(first, 200) or "(empty update)"
