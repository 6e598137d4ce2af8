"""Typed messages for incidents and actions: workers post what happened (past tense)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.evidence import Bundle
from console.execution import Outcome
from console.incident import Incident


@dataclass
class IncidentLoaded(Message):
    """The shared incident state was read (another console may have changed it)."""

    incident: Incident | None


@dataclass
class ActionProgressed(Message):
    """A batch finished one more chunk."""

    key: str
    done: int
    total: int


@dataclass
class ActionFinished(Message):
    """An action's requests are over: done, failed, refused or cancelled."""

    outcome: Outcome


@dataclass
class ActionCrashed(Message):
    """Running an action raised (refused by the action layer, or a bug)."""

    title: str
    reason: str


@dataclass
class EvidenceWritten(Message):
    """An evidence bundle was written (some sources may have failed: `bundle.failures`)."""

    bundle: Bundle


@dataclass
class EvidenceFailed(Message):
    """No evidence bundle could be written."""

    reason: str
