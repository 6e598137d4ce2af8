"""Which runbook steps are done during an incident, from the ticks in the incident store.

The store keeps only the latest tick or untick of each step; a step that is `- [x]` in
the source and was never touched counts as done. Ticks of steps the runbook no longer has,
and ticks made when the step under that key read differently (the file was edited and
steps moved), are left out of the count rather than claiming a step nobody did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console.incident import Tick
from console.runbook_model import Runbook, Step


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    def __str__(self) -> str:
        return f"{self.done}/{self.total}"


def latest_ticks(runbook: Runbook, ticks: Iterable[Tick]) -> dict[str, Tick]:
    """Step key → its tick or untick, for this runbook's ticks only."""
    return {tick.step: tick for tick in ticks if tick.runbook == runbook.id}


def tick_of(step: Step, latest: dict[str, Tick]) -> Tick | None:
    """The step's tick, if it was made on these same words."""
    tick = latest.get(step.key)
    return tick if tick is not None and tick.text == step.text else None


def is_done(step: Step, latest: dict[str, Tick]) -> bool:
    tick = tick_of(step, latest)
    return tick.ticked if tick is not None else step.checked


def progress(runbook: Runbook, ticks: Iterable[Tick]) -> Progress:
    latest = latest_ticks(runbook, ticks)
    steps = list(runbook.steps())
    return Progress(sum(1 for step in steps if is_done(step, latest)), len(steps))
