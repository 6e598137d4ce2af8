"""Domain records the console shows, and the immutable snapshot the UI renders.

Every string that came from a backend is untrusted: the UI renders it with
`console.text.plain` (control characters made visible, never markup).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class Level(str, Enum):
    """How a reading compares with its thresholds."""

    OK = "ok"
    WARN = "warn"
    CRIT = "crit"
    NODATA = "nodata"


def seconds_between(earlier: datetime | None, later: datetime | None) -> float | None:
    """Age of a backend timestamp against the backend's clock; None when either is unknown."""
    if earlier is None or later is None:
        return None
    return (later - earlier).total_seconds()


@dataclass(frozen=True)
class Job:
    id: str
    state: str
    stage: str = ""
    attempts: int | None = None
    worker: str = ""
    updated_at: datetime | None = None
    error: str = ""


@dataclass(frozen=True)
class Worker:
    id: str
    state: str
    last_heartbeat: datetime | None
    current_job: str = ""
    leases_held: int | None = None


@dataclass(frozen=True)
class Lease:
    id: str
    job: str
    worker: str
    acquired_at: datetime | None
    expires_at: datetime | None

    def expires_in(self, now: datetime | None) -> float | None:
        return seconds_between(now, self.expires_at)

    def is_stale(self, now: datetime | None) -> bool:
        """Expired but still held: the worker stopped heartbeating and nothing recovered it."""
        remaining = self.expires_in(now)
        return remaining is not None and remaining < 0


@dataclass(frozen=True)
class DeadLetter:
    id: str
    job: str
    error_class: str
    message: str
    attempts: int | None
    first_failed_at: datetime | None
    last_failed_at: datetime | None
    payload: Any = None


@dataclass(frozen=True)
class DeadLetterSummary:
    total: int | None
    """Size of the whole queue; None when the API does not say (the page is not the queue)."""
    error_classes: tuple[tuple[str, int], ...]
    """(error class, count), largest first."""
    classes_cover_whole_queue: bool
    newest: tuple[DeadLetter, ...]


@dataclass(frozen=True)
class ServiceHealth:
    """What one service's health endpoint answered ([[api.health]])."""

    name: str
    ok: bool
    status_code: int
    status: str
    """The service's own status word ("" when it gave none and the HTTP status decided)."""
    checks: tuple[tuple[str, str], ...] = ()
    """(component, state) as the service reports them."""
    details: tuple[tuple[str, str], ...] = ()
    """(label, value) facts from the config's `details`, e.g. ("model", "2026.11.2")."""


class Direction(str, Enum):
    RISING = "rising"
    FALLING = "falling"
    FLAT = "flat"


@dataclass(frozen=True)
class Trend:
    """Where a signal is heading, judged from its history."""

    direction: Direction
    held_s: float
    """How long the direction has held, as far back as the history shows."""
    since_start: bool
    """True when it held over all the history there is: "for at least held_s"."""
    slope_per_s: float
    drain_s: float | None = None
    """Backlog signals only: seconds until zero at the current slope (falling only)."""


@dataclass(frozen=True)
class SeriesValue:
    """One series of a signal that answers several (per tenant, per shard, per stage)."""

    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True)
class SignalReading:
    """One signal: the latest value, its level and the history seen so far."""

    name: str
    title: str
    unit: str
    value: float | None
    """None means no data (absent series, or a counter with only one sample yet)."""
    level: Level
    history: tuple[tuple[float, float], ...] = ()
    """(unix time, value) points, oldest first, over the configured window."""
    note: str = ""
    """Why there is no value, when there is none."""
    error: str = ""
    """Why this signal's latest query failed ("" when it answered); the value is then old."""
    trend: Trend | None = None
    series: tuple[SeriesValue, ...] = ()
    """The largest series when the query answered several (empty for a single series)."""
    series_count: int = 0
    labels: tuple[tuple[str, str], ...] = ()
    """What the one number is about, from a json signal's labels (model=2026.11.2). Untrusted."""
    drain: bool = False
    """A backlog: the UI says when it drains, or that it does not."""


@dataclass(frozen=True)
class RuleState:
    """A severity hint or an exit criterion: whether its condition has held long enough."""

    title: str
    met: bool
    held_s: float | None
    """How long the condition has held right up to now (None: it does not hold now)."""
    for_s: float
    severity: str = ""
    """Severity hints only: what the rule suggests."""
    waiting: str = ""
    """Why it cannot be judged yet (no data, history too short)."""


@dataclass(frozen=True)
class Alert:
    """A firing alert from Alertmanager. Every string is untrusted."""

    name: str
    severity: str
    state: str
    starts_at: datetime | None
    summary: str
    silenced: bool
    inhibited: bool
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    fingerprint: str = ""
    generator_url: str = ""


@dataclass(frozen=True)
class SourceState:
    """What one source last returned, and whether its data is current."""

    name: str
    data: Any = None
    """Parsed data from the last successful fetch (kept when a later fetch fails)."""
    ok_at: float | None = None
    """Wall time (time.time()) of the last successful fetch."""
    error: str = ""
    """Why the latest fetch failed ("" when it succeeded)."""
    server_now: datetime | None = None
    """The backend's clock at the last successful fetch, for ages."""

    @property
    def stale(self) -> bool:
        return bool(self.error)

    def age(self, now: float) -> float | None:
        return None if self.ok_at is None else max(0.0, now - self.ok_at)


@dataclass(frozen=True)
class Snapshot:
    """Everything one poll produced; the UI renders it and never mutates it."""

    taken_at: float
    sources: dict[str, SourceState] = field(default_factory=dict)
    signals: tuple[SignalReading, ...] = ()
    dead_letter_growth: int | None = None
    """Change of the dead-letter total over `dead_letter_growth_window_s`."""
    dead_letter_growth_window_s: float = 0.0
    severity_hints: tuple[RuleState, ...] = ()
    exit_criteria: tuple[RuleState, ...] = ()

    def source(self, name: str) -> SourceState:
        return self.sources.get(name, SourceState(name))

    def data_age(self, now: float) -> float | None:
        """Age of the oldest source's last good data: how far the screen can be trusted."""
        ages = [s.age(now) for s in self.sources.values()]
        if not ages or any(a is None for a in ages):
            return None
        return max(a for a in ages if a is not None)
