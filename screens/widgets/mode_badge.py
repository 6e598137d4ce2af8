"""The read-only badge and the incident's severity and status, for every screen's top line.

READ-ONLY is white on red so no one can miss it; a break-glass unlock shows its countdown,
and so does the next status update, which turns white on red once it is overdue. An
incident declared in another environment than the one on screen says where (`in prod-eu`).
"""

from __future__ import annotations

from rich.text import Text

from console.format import duration
from console.incident import Incident
from console.policy import LockState
from console.status_update import UpdateDue
from console.text import plain

SEVERITY_STYLES = {"SEV-1": "bold white on red", "SEV-2": "bold black on dark_orange", "SEV-3": "bold black on yellow"}


def mode_badge(lock: LockState, incident: Incident | None, now: float, due: UpdateDue | None = None, environment: str = "") -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if lock.read_only:
        text.append(" READ-ONLY ", style="bold white on red")
    elif lock.break_glass_until is not None:
        text.append(f" UNLOCKED {duration(lock.break_glass_until - now)} ", style="bold black on yellow")
    if incident is not None and incident.is_open:
        if text:
            text.append(" ")
        text.append(f" {incident.severity} ", style=SEVERITY_STYLES.get(incident.severity, "bold reverse"))
        text.append(f" {plain(incident.status, 14)}", style="bold")
        if incident.environment and environment and incident.environment != environment:
            text.append(f" in {plain(incident.environment, 40)}", style="bold yellow")  # declared in another environment
        if due is not None and due.incident_id == incident.id:
            text.append("  ")
            if due.overdue(now):
                text.append(f" {due.countdown(now)} ", style="bold white on red")
            else:
                text.append(due.countdown(now))
    return text
