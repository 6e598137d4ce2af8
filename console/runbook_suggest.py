"""Which runbook section applies now: `[[runbooks.suggest]]` rules over the latest snapshot.

A rule matches when its signal is at its level or worse (warn: warn or crit), or when an
alert of its name is firing (silenced and inhibited alerts do not count: someone already
decided about them). The first matching rule wins, so the config orders them by priority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from console.config_runbooks import SuggestionConfig
from console.models import Alert, Level, Snapshot
from console.poller import ALERTS

AT_LEAST = {"warn": (Level.WARN, Level.CRIT), "crit": (Level.CRIT,)}


@dataclass(frozen=True)
class Suggestion:
    runbook: str
    """Runbook id."""
    section: str
    """Section slug ("" for the top)."""
    reason: str
    """What matched, for the operator: "Queue depth CRIT", "alert QueueBacklog firing"."""


def suggest(rules: Sequence[SuggestionConfig], snapshot: Snapshot) -> Suggestion | None:
    readings = {reading.name: reading for reading in snapshot.signals}
    alerts: tuple[Alert, ...] = snapshot.source(ALERTS).data or ()
    firing = {alert.name for alert in alerts if not (alert.silenced or alert.inhibited)}
    for rule in rules:
        if rule.signal:
            reading = readings.get(rule.signal)
            if reading is not None and reading.level in AT_LEAST[rule.level]:
                return Suggestion(rule.runbook, rule.section, f"{reading.title} {reading.level.value.upper()}")
        elif rule.alert in firing:
            return Suggestion(rule.runbook, rule.section, f"alert {rule.alert} firing")
    return None
