"""Incident state in SQLite, shared by every console (and the CLI) on one host.

WAL mode lets several consoles read while one writes; every operation opens its own short
connection, so the store is safe to use from any thread and a console sees another's
change on its next read. Ids are allocated inside an immediate transaction, so two
consoles declaring at the same moment get INC-...-001 and INC-...-002, never the same id.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from console.config_base import SEVERITIES

STATUSES = ("investigating", "identified", "mitigating", "monitoring", "resolved")
OPEN_STATUSES = STATUSES[:-1]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    commander TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    environment TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    at REAL NOT NULL,
    operator TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_incident ON events (incident_id, seq);
CREATE TABLE IF NOT EXISTS checklist (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    runbook TEXT NOT NULL,
    step TEXT NOT NULL,
    text TEXT NOT NULL,
    ticked INTEGER NOT NULL,
    operator TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (incident_id, runbook, step)
);
"""


class IncidentError(ValueError):
    """A request the store refuses (unknown id, bad severity, already resolved), said plainly."""


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    severity: str
    status: str
    commander: str
    started_at: float
    ended_at: float | None = None
    environment: str = ""
    """Where it was declared (prod-eu ...); "" for one declared before this was recorded."""

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"


@dataclass(frozen=True)
class TimelineEvent:
    at: float
    operator: str
    kind: str
    """declared, severity, status, resolved, note, break-glass, relocked, action, tick, untick,
    status-update, evidence."""
    text: str


@dataclass(frozen=True)
class Tick:
    """The latest tick or untick of one runbook step during one incident."""

    runbook: str
    """Runbook id."""
    step: str
    """The step's key (`console.runbook_model.Step.key`)."""
    text: str
    """The step's words when it was ticked, so the record reads well if the runbook changes."""
    ticked: bool
    operator: str
    at: float


def _check_severity(severity: str) -> str:
    if severity not in SEVERITIES:
        raise IncidentError(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    return severity


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise IncidentError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    return status


INCIDENT_COLUMNS = "id, title, severity, status, commander, started_at, ended_at, environment"


def _incident(row: sqlite3.Row) -> Incident:
    return Incident(*row)


class IncidentStore:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(incidents)")}
            if "environment" not in columns:  # a state file from before environments were recorded
                db.execute("ALTER TABLE incidents ADD COLUMN environment TEXT NOT NULL DEFAULT ''")

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=5000")
            if write:
                db.execute("BEGIN IMMEDIATE")  # take the write lock before reading the next id
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            else:
                yield db
        finally:
            db.close()

    # -- reading -------------------------------------------------------------------------

    def current(self) -> Incident | None:
        """The open incident that matters most: the most severe, then the newest."""
        with self._connect() as db:
            row = db.execute(
                f"SELECT {INCIDENT_COLUMNS} FROM incidents "
                "WHERE status != 'resolved' ORDER BY severity ASC, started_at DESC, id DESC LIMIT 1"
            ).fetchone()
        return _incident(row) if row else None

    def get(self, incident_id: str) -> Incident:
        with self._connect() as db:
            return self._get(db, incident_id)

    def recent(self, limit: int = 20) -> list[Incident]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {INCIDENT_COLUMNS} FROM incidents "
                "ORDER BY started_at DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_incident(row) for row in rows]

    def timeline(self, incident_id: str, limit: int = 500) -> list[TimelineEvent]:
        """Oldest first; the newest `limit` events."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT at, operator, kind, text FROM events WHERE incident_id = ? ORDER BY seq DESC LIMIT ?",
                (incident_id, limit),
            ).fetchall()
        return [TimelineEvent(*row) for row in reversed(rows)]

    def last_event_at(self, incident_id: str, kind: str) -> float | None:
        """When the newest event of `kind` happened (the last status update sent, for its countdown)."""
        with self._connect() as db:
            row = db.execute("SELECT MAX(at) FROM events WHERE incident_id = ? AND kind = ?", (incident_id, kind)).fetchone()
        return row[0]

    def checklist(self, incident_id: str, runbook: str | None = None) -> list[Tick]:
        """Every step ticked or unticked during the incident (of one runbook, if given)."""
        query = "SELECT runbook, step, text, ticked, operator, at FROM checklist WHERE incident_id = ?"
        args: tuple[str, ...] = (incident_id,)
        if runbook is not None:
            query, args = query + " AND runbook = ?", (*args, runbook)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY at, runbook, step", args).fetchall()
        return [Tick(runbook, step, text, bool(ticked), operator, at) for runbook, step, text, ticked, operator, at in rows]

    # -- changing ------------------------------------------------------------------------

    def tick(self, incident_id: str, runbook: str, step: str, text: str, ticked: bool, operator: str) -> Tick:
        """Record a step as done (or not done after all) and put it on the timeline."""
        now = self._clock()
        with self._connect(write=True) as db:
            self._open(db, incident_id)
            db.execute(
                "INSERT INTO checklist VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, runbook, step) "
                "DO UPDATE SET text = excluded.text, ticked = excluded.ticked, operator = excluded.operator, at = excluded.at",
                (incident_id, runbook, step, text, int(ticked), operator, now),
            )
            self._event(db, incident_id, now, operator, "tick" if ticked else "untick", f"{runbook}: {text}")
        return Tick(runbook, step, text, ticked, operator, now)

    def declare(self, title: str, severity: str, commander: str, operator: str, environment: str = "") -> Incident:
        title = title.strip()
        if not title:
            raise IncidentError("an incident needs a title")
        _check_severity(severity)
        now = self._clock()
        day = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d")
        with self._connect(write=True) as db:
            prefix = f"INC-{day}-"
            last = db.execute(
                "SELECT id FROM incidents WHERE id LIKE ? ORDER BY id DESC LIMIT 1", (prefix + "%",)
            ).fetchone()
            number = int(last[0].removeprefix(prefix)) + 1 if last else 1
            incident = Incident(f"{prefix}{number:03d}", title, severity, "investigating", commander or operator, now, None, environment)
            db.execute(f"INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(incident.__dict__.values()))
            where = f" in {environment}" if environment else ""
            self._event(db, incident.id, now, operator, "declared", f"{severity} declared{where}: {title} (commander {incident.commander})")
        return incident

    def set_severity(self, incident_id: str, severity: str, operator: str) -> Incident:
        _check_severity(severity)
        with self._connect(write=True) as db:
            before = self._open(db, incident_id)
            if before.severity != severity:
                db.execute("UPDATE incidents SET severity = ? WHERE id = ?", (severity, incident_id))
                self._event(db, incident_id, self._clock(), operator, "severity", f"severity {before.severity} → {severity}")
            return self._get(db, incident_id)

    def set_status(self, incident_id: str, status: str, operator: str, note: str = "") -> Incident:
        _check_status(status)
        if status == "resolved":
            return self.resolve(incident_id, operator, note)
        with self._connect(write=True) as db:
            before = self._open(db, incident_id)
            if before.status != status or note:
                db.execute("UPDATE incidents SET status = ? WHERE id = ?", (status, incident_id))
                text = f"status {before.status} → {status}" + (f": {note}" if note else "")
                self._event(db, incident_id, self._clock(), operator, "status", text)
            return self._get(db, incident_id)

    def resolve(self, incident_id: str, operator: str, note: str = "") -> Incident:
        now = self._clock()
        with self._connect(write=True) as db:
            self._open(db, incident_id)
            db.execute("UPDATE incidents SET status = 'resolved', ended_at = ? WHERE id = ?", (now, incident_id))
            self._event(db, incident_id, now, operator, "resolved", "resolved" + (f": {note}" if note else ""))
            return self._get(db, incident_id)

    def add_event(self, incident_id: str, operator: str, kind: str, text: str) -> None:
        with self._connect(write=True) as db:
            self._get(db, incident_id)
            self._event(db, incident_id, self._clock(), operator, kind, text)

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _get(db: sqlite3.Connection, incident_id: str) -> Incident:
        row = db.execute(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?",
            (incident_id,),
        ).fetchone()
        if row is None:
            raise IncidentError(f"no incident {incident_id!r}")
        return _incident(row)

    def _open(self, db: sqlite3.Connection, incident_id: str) -> Incident:
        incident = self._get(db, incident_id)
        if not incident.is_open:
            raise IncidentError(f"{incident_id} is already resolved")
        return incident

    @staticmethod
    def _event(db: sqlite3.Connection, incident_id: str, at: float, operator: str, kind: str, text: str) -> None:
        db.execute(
            "INSERT INTO events (incident_id, at, operator, kind, text) VALUES (?, ?, ?, ?, ?)",
            (incident_id, at, operator, kind, text),
        )


def default_state_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("opsconsole")) / "incidents.db"


def store_path(configured: str) -> Path:
    return Path(configured).expanduser() if configured else default_state_path()
