"""Read-only mode: why the console is locked, and break-glass unlocks that expire by themselves.

Read-only comes from three places: `--read-only` on the command line (cannot be lifted),
`read_only = true` in the config, and an open incident whose severity is in
`policy.read_only_severities`. A break-glass unlock lifts the last two for a limited time;
the unlock, its reason and expiry, and the re-lock go to the incident timeline and the
audit log. Expiry is checked against an injected clock whenever the lock is consulted, so
the action layer re-locks even if no screen is watching.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from console.audit import AuditLog, Operator, iso_time
from console.config_actions import PolicyConfig
from console.incident import Incident, IncidentStore

MIN_REASON_CHARS = 10  # "x" is not a reason anyone can audit later
CLI_REASON = "--read-only on the command line"
CONFIG_REASON = "read_only = true in the config"


class PolicyError(Exception):
    """A break-glass request that is refused, with why."""


@dataclass(frozen=True)
class LockState:
    reasons: tuple[str, ...]
    """Why the console would be read-only (empty: it is not)."""
    break_glass_until: float | None
    """While set, the lock is lifted until this time."""
    permanent: bool
    """--read-only on the command line: break-glass is not offered."""

    @property
    def read_only(self) -> bool:
        return bool(self.reasons) and (self.permanent or self.break_glass_until is None)

    @property
    def mode(self) -> str:
        if self.read_only:
            return "read-only"
        return "break-glass" if self.break_glass_until is not None else "read-write"


class ReadOnlyPolicy:
    def __init__(
        self,
        policy: PolicyConfig,
        config_read_only: bool = False,
        cli_read_only: bool = False,
        operator: Operator | None = None,
        audit: AuditLog | None = None,
        store: IncidentStore | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.policy = policy
        self.config_read_only = config_read_only
        self.cli_read_only = cli_read_only
        self.operator = operator
        self.audit = audit
        self.store = store
        self.clock = clock
        self.incident: Incident | None = None
        self._until: float | None = None
        self._lock = threading.Lock()

    def incident_changed(self, incident: Incident | None) -> None:
        self.incident = incident

    def _reasons(self) -> tuple[str, ...]:
        reasons = []
        if self.cli_read_only:
            reasons.append(CLI_REASON)
        if self.config_read_only:
            reasons.append(CONFIG_REASON)
        incident = self.incident
        if incident is not None and incident.is_open and incident.severity in self.policy.read_only_severities:
            reasons.append(f"{incident.severity} {incident.id}")
        return tuple(reasons)

    def state(self) -> LockState:
        """The lock now; notices (and records, once) a break-glass window that has ended."""
        with self._lock:
            expired = self._until is not None and self.clock() >= self._until
            if expired:
                self._until = None
            state = LockState(self._reasons(), self._until, self.cli_read_only)
        if expired:
            self._record("relocked", "break-glass expired; read-only again" if state.reasons else "break-glass expired")
        return state

    def break_glass(self, reason: str) -> float:
        """Lift read-only for `policy.break_glass_minutes`; returns when it re-locks."""
        reason = " ".join(reason.split())
        state = self.state()
        if self.cli_read_only:
            raise PolicyError("started with --read-only: this console cannot be unlocked")
        if not state.reasons:
            raise PolicyError("the console is not read-only")
        if len(reason) < MIN_REASON_CHARS:
            raise PolicyError(f"type a reason of at least {MIN_REASON_CHARS} characters")
        until = self.clock() + self.policy.break_glass_minutes * 60
        with self._lock:
            self._until = until
        self._record(
            "break-glass",
            f"read-only lifted until {iso_time(until)} ({', '.join(state.reasons)}): {reason}",
            reason=reason,
            until=iso_time(until),
        )
        return until

    def relock(self, why: str = "ended by the operator") -> None:
        """End a break-glass window early (nothing happens when none is open)."""
        with self._lock:
            lifted, self._until = self._until is not None, None
        if lifted:
            self._record("relocked", f"read-only again ({why})")

    def _record(self, kind: str, text: str, **extra: str) -> None:
        operator = self.operator
        if self.audit is not None:
            self.audit.append(
                {
                    "type": kind,
                    "operator": operator.as_record() if operator else {},
                    "host": operator.host if operator else "",
                    "incident": self.incident.id if self.incident else "",
                    "text": text,
                    **extra,
                }
            )
        if self.store is not None and self.incident is not None and self.incident.is_open:
            try:
                self.store.add_event(self.incident.id, str(operator or "console"), kind, text)
            except Exception:  # the timeline is a record, not a gate: the audit log has it
                pass
