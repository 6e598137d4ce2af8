"""Config models for incidents, the read-only policy, the action catalogue and the audit log.

Kept apart from config.py so the catalogue's rules (templates, patterns) sit in one place;
config.py only adds these tables to `Config`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from console.config_base import Severity, Strict

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# Filled by the console, never typed: the row's target, a batch's ids and their count.
BUILTIN_PARAMS = ("id", "ids", "count")
# An id from a backend row: starts with a letter or digit, so it can never pose as an
# option ("-rf") in an argv, and holds nothing a path or shell would interpret.
DEFAULT_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"


class IncidentConfig(Strict):
    state_path: str = ""
    """SQLite file shared by every console on this host ("" = opsconsole/incidents.db in the user data dir)."""


class AuditConfig(Strict):
    path: str = ""
    """JSON Lines audit log ("" = opsconsole/audit.jsonl in the user data dir). Created with mode 0600."""


class PolicyConfig(Strict):
    read_only_severities: list[Severity] = Field(default_factory=lambda: ["SEV-1"])
    """While the current incident has one of these severities, the console is read-only."""
    break_glass_minutes: Annotated[float, Field(gt=0, le=60)] = 10.0
    """How long a break-glass unlock lasts before read-only comes back by itself."""
    repeat_warning_s: Annotated[float, Field(ge=0)] = 60.0
    """The same action on the same target within this many seconds warns who did it and when."""
    action_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    """Deadline of one mutation request or command."""
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    """Retries after a timeout or lost connection; each reuses the intent's Idempotency-Key."""
    batch_chunk: Annotated[int, Field(ge=1, le=1000)] = 100
    """Targets per request when a batch is sent."""
    batch_rate_per_s: Annotated[float, Field(gt=0, le=10000)] = 200.0
    """Most targets per second a batch sends, so a replay cannot flood the backend."""
    batch_max: Annotated[int, Field(ge=1, le=100000)] = 10000
    """Largest batch; a filter matching more must be narrowed first."""


class ParamConfig(Strict):
    pattern: str
    """Regular expression the whole value must match before it is put in a request or argv."""
    type: Literal["str", "int"] = "str"
    """`int` sends the value as a JSON number where it fills a whole body field."""
    prompt: str = ""
    """Label of the input the operator types this value into."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*map(_placeholders, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_placeholders, value)) if value else set()
    return set()


class ActionConfig(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    """Identifier used in the audit log and on the command line (lower-kebab-case)."""
    title: str = Field(min_length=1, max_length=40)
    """What the operator sees in menus and the confirmation."""
    kind: Literal["http", "exec"]
    """`http`: a request to the API; `exec`: a command run from an argv list, never a shell."""
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = ""
    """For http: path template relative to `api.base_url`, e.g. /v1/dlq/{id}/replay."""
    body: dict[str, Any] | None = None
    """For http: JSON body template. A string that is exactly "{ids}" becomes the list of targets."""
    argv: list[str] = Field(default_factory=list)
    """For exec: the command and its arguments; placeholders are filled one argument at a time."""
    params: dict[str, ParamConfig] = Field(default_factory=dict)
    """Pattern (and prompt) for each placeholder; `id` defaults to a plain identifier."""
    safety: Literal["safe", "guarded"] = "guarded"
    """`guarded` needs a typed confirmation and is refused in read-only mode; `safe` only reads."""
    panel: Literal["dashboard", "workers", "leases", "jobs", "dead_letters"] = "dashboard"
    """Where the action is offered: a panel's selected row, or the dashboard as a whole."""
    row: Literal["none", "worker", "lease", "job", "dead_letter"] = "none"
    """The type of row it acts on ("none" for actions without a target)."""
    target: str = "id"
    """Which field of the row is the target: id, job or worker."""
    batch: bool = False
    """Acts on a set of targets (the selection, or all matching a filter), sent in chunks."""
    confirm: str = ""
    """Phrase the operator must type, e.g. "{id}" or "replay {count}" (guarded actions)."""

    @model_validator(mode="after")
    def _consistent(self) -> ActionConfig:
        if self.kind == "http" and not self.path.startswith("/"):
            raise ValueError(f"path {self.path!r} must start with / for an http action")
        if self.kind == "exec":
            if not self.argv or not self.argv[0] or PLACEHOLDER.search(self.argv[0]):
                raise ValueError("argv must be a non-empty list whose first item is a fixed program name")
            if self.path or self.body is not None:
                raise ValueError("an exec action has argv, not path or body")
        if self.safety == "guarded" and not self.confirm.strip():
            raise ValueError("a guarded action needs a confirm phrase")
        if self.row == "none" and self.panel != "dashboard":
            raise ValueError(f"panel {self.panel!r} acts on rows: set row")
        if self.target not in ("id", "job", "worker"):
            raise ValueError(f"target {self.target!r} must be id, job or worker")
        used = self.placeholders  # names neither built in nor in params must be config vars (checked in Config)
        targets = {"id", "ids", "count"} & used
        if self.row == "none" and targets:
            raise ValueError(f"{{{sorted(targets)[0]}}} needs a row to act on; set row")
        if self.batch and ("id" in used or "ids" not in _placeholders(self.body if self.kind == "http" else self.argv)):
            raise ValueError("a batch action sends {ids} (in body or argv), never a single {id}")
        if not self.batch and self.row != "none" and "ids" in used:
            raise ValueError("{ids} is only for batch actions (batch = true)")
        return self

    @property
    def placeholders(self) -> set[str]:
        """Every {name} in the path, body, argv and confirm phrase."""
        return _placeholders([self.path, self.body, self.argv, self.confirm])

    @property
    def inputs(self) -> dict[str, ParamConfig]:
        """Values the operator types (everything but the row-filled builtins)."""
        return {name: param for name, param in self.params.items() if name not in BUILTIN_PARAMS}
