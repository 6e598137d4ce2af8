"""Typed messages: workers post what happened (past tense); handlers own every state change."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.models import Snapshot


@dataclass
class SnapshotLoaded(Message):
    """A poll finished; the snapshot holds every source's data or error."""

    snapshot: Snapshot
    generation: int = 0
    """The app's poll generation when the poll started: a snapshot of an environment
    switched away from is dropped."""


@dataclass
class PollFailed(Message):
    """A poll raised instead of producing a snapshot (a bug, not a source failure)."""

    reason: str
    generation: int = 0
