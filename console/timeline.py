"""One ordered timeline of an incident: the store's events and the actions in the audit log.

The Incident screen, the status-update composer and the post-incident export all read
this one merge, so they never disagree about what happened when.

Actions come from the audit log, not from the executor's own "action" events in the
store: an audit intent carries the targets, the result its HTTP status or exit code, and
an intent whose result never came (the console died mid-request) is still there, marked
as such. The store's "action" event is a one-line summary written after the fact; it is
shown only when no audit record accounts for it (a console writing to another audit
log, e.g. another user's, on a shared incident file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from console.incident import Incident, TimelineEvent

SAME_ACTION_S = 10.0
"""A store "action" event this close after an audit intent of the same title and operator is that action."""
TARGETS_SHOWN = 3


@dataclass(frozen=True)
class ActionTaken:
    """One guarded action from the audit log: its intent and, if one was written, its result."""

    at: float
    operator: str
    action: str
    title: str
    targets: tuple[str, ...]
    count: int
    environment: str
    command: bool
    """A command run on this host (its status is an exit code), not an HTTP request."""
    result: Mapping[str, Any] | None
    """The audit `result` record; None: the outcome is unknown (no result was written)."""
    elsewhere: bool = False
    """Sent to another environment than the one the incident was declared in: its summary says where."""

    @property
    def ok(self) -> bool | None:
        return None if self.result is None else bool(self.result.get("ok"))

    @property
    def status(self) -> int | None:
        """HTTP status or exit code of the last request."""
        status = self.result.get("status") if self.result else None
        return status if isinstance(status, int) else None

    def targets_text(self) -> str:
        shown = " ".join(self.targets[:TARGETS_SHOWN])
        more = len(self.targets) - TARGETS_SHOWN
        return shown + (f" +{more} more" if more > 0 else "")

    def outcome(self) -> str:
        """done / FAILED / cancelled / OUTCOME UNKNOWN, with the status and, for batches, counts."""
        result = self.result
        if result is None:
            return "OUTCOME UNKNOWN (no result recorded)"
        done = result.get("done")
        counted = f"{done} of {self.count} done, " if self.count > 1 and isinstance(done, int) else ""
        status = "" if self.status is None else f"exit {self.status}" if self.command else f"HTTP {self.status}"
        error = str(result.get("error") or "")
        if result.get("cancelled"):
            return f"cancelled, {counted}".rstrip(", ")
        if result.get("ok"):
            return counted + "done" + (f" ({status})" if status else "")
        return counted + "FAILED" + (f" ({error or status})" if error or status else "")

    def summary(self) -> str:
        where = f"on {self.environment}" if self.elsewhere else ""
        return " ".join(part for part in (self.title, self.targets_text(), where) if part) + ": " + self.outcome()


@dataclass(frozen=True)
class TimelineEntry:
    at: float
    operator: str
    kind: str
    """The store's kinds (declared, severity, status, note, tick, status-update, ...) and "action"."""
    text: str
    action: ActionTaken | None = None
    """Set for an action read from the audit log."""


def _operator(record: Mapping[str, Any]) -> str:
    """"user@client", the way `console.audit.Operator` prints itself into the store."""
    who = record.get("operator")
    if not isinstance(who, Mapping):
        return "?"
    user, client = str(who.get("user") or "?"), str(who.get("client") or "")
    return f"{user}@{client}" if client else user


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def actions_in(records: Iterable[Mapping[str, Any]], incident: Incident, now: float) -> list[ActionTaken]:
    """The guarded actions of the audit log within the incident's window, oldest first.

    The window is [started_at, ended_at or now]; an intent recorded against another
    incident belongs to that one, not this."""
    end = incident.ended_at if incident.ended_at is not None else now
    intents: list[Mapping[str, Any]] = []
    results: dict[str, Mapping[str, Any]] = {}
    for record in records:
        kind, key, at = record.get("type"), record.get("intent"), _number(record.get("ts"))
        if not isinstance(key, str) or at is None:
            continue
        if kind == "intent" and incident.started_at <= at <= end and record.get("incident") in ("", None, incident.id):
            intents.append(record)
        elif kind == "result":
            results[key] = record
    taken = []
    for intent in intents:
        targets = intent.get("targets")
        targets = tuple(str(t) for t in targets) if isinstance(targets, list) else ()
        count = intent.get("count")
        calls = intent.get("calls")
        taken.append(
            ActionTaken(
                at=_number(intent.get("ts")) or 0.0,
                operator=_operator(intent),
                action=str(intent.get("action") or "?"),
                title=str(intent.get("title") or intent.get("action") or "?"),
                targets=targets,
                count=count if isinstance(count, int) else len(targets),
                environment=str(intent.get("environment") or ""),
                elsewhere=bool(incident.environment and intent.get("environment") and intent.get("environment") != incident.environment),
                command=isinstance(calls, list) and bool(calls) and str(calls[0]).startswith("exec "),
                result=results.get(intent["intent"]),
            )
        )
    return sorted(taken, key=lambda a: a.at)


def merge(events: Iterable[TimelineEvent], actions: Iterable[ActionTaken]) -> list[TimelineEntry]:
    """Store events and audit actions in time order; on a tie the store's event comes first."""
    actions = list(actions)
    unclaimed = list(actions)  # each audit action absorbs at most one store "action" event
    entries = []
    for event in events:
        if event.kind == "action":
            twin = next((a for a in unclaimed if _same(event, a)), None)
            if twin is not None:
                unclaimed.remove(twin)
                continue  # the audit record tells it in full
        entries.append(TimelineEntry(event.at, event.operator, event.kind, event.text))
    entries += [TimelineEntry(a.at, a.operator, "action", a.summary(), a) for a in actions]
    return sorted(entries, key=lambda e: e.at)  # stable: store order, then audit order, within a second


def _same(event: TimelineEvent, action: ActionTaken) -> bool:
    return (
        event.operator == action.operator
        and event.text.startswith(action.title + ":")
        and 0 <= event.at - action.at <= SAME_ACTION_S + _duration_s(action)
    )


def _duration_s(action: ActionTaken) -> float:
    duration_ms = _number(action.result.get("duration_ms")) if action.result else None
    return (duration_ms or 0.0) / 1000
