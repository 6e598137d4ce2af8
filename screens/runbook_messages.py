"""Typed messages for runbooks: workers read files and the incident store, then post these."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.incident import Incident, Tick
from console.runbook_model import Runbook


@dataclass
class RunbooksLoaded(Message):
    """The runbook directories were read (files that import badly carry their problems)."""

    runbooks: list[Runbook]


@dataclass
class ChecklistLoaded(Message):
    """The open incident and its ticks were read from the shared store."""

    incident: Incident | None
    ticks: list[Tick]
    generation: int
    """Ticks sent before the read started; a read older than the latest tick is dropped."""


@dataclass
class StepTicked(Message):
    tick: Tick


@dataclass
class TickRefused(Message):
    """The store refused the tick (the incident was resolved meanwhile); nothing was kept."""

    step: str
    reason: str
