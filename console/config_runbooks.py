"""Config models for runbooks, the runbook suggestions and the status-update cadence."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from console.config_base import Strict


class SuggestionConfig(Strict):
    """When a signal reaches a level, or an alert fires, point the operator at a runbook section."""

    signal: str = ""
    """Name of a signal in [[signals]] ..."""
    level: Literal["warn", "crit"] = "crit"
    """... suggested once the signal is at this level or worse."""
    alert: str = ""
    """... or an Alertmanager alert name (its `alertname` label) that is firing."""
    runbook: str
    """Runbook id: its path below a runbook directory without ".md", e.g. "queue-backlog"."""
    section: str = ""
    """Slug of the section to open at ("" for the top), e.g. "dispatch-stalled"."""

    @model_validator(mode="after")
    def _one_trigger(self) -> SuggestionConfig:
        if bool(self.signal) == bool(self.alert):
            raise ValueError("give exactly one of signal or alert")
        return self


class RunbooksConfig(Strict):
    dirs: list[str] = Field(default_factory=list)
    """Directories of Markdown runbooks; relative paths are relative to the config file."""
    suggest: list[SuggestionConfig] = Field(default_factory=list)
    """Signals and alerts mapped to the runbook section that applies, first match first."""


Minutes = Annotated[float, Field(gt=0, le=24 * 60)]


class StatusUpdatesConfig(Strict):
    """How often stakeholders hear from the incident, by severity (minutes)."""

    sev1_min: Minutes = 15
    sev2_min: Minutes = 30
    sev3_min: Minutes = 120
    sev4_min: Minutes | None = None
    """None: no status-update countdown for SEV-4."""
