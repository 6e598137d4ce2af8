"""Checklist progress and runbook suggestions: pure functions of the core, no UI."""

from __future__ import annotations

from pathlib import Path

from console.config_runbooks import SuggestionConfig
from console.incident import Tick
from console.models import Alert, Level, SignalReading, Snapshot, SourceState
from console.poller import ALERTS
from console.runbook_model import Runbook, Section, Step
from console.runbook_progress import progress
from console.runbook_suggest import Suggestion, suggest

RUNBOOK = Runbook(
    "queue-backlog",
    Path("queue-backlog.md"),
    "Queue backlog",
    (
        Section("Dispatch stalled", 2, "dispatch-stalled", steps=(
            Step("dispatch-stalled/1", "Confirm", steps=(Step("dispatch-stalled/1.1", "Count busy workers"),)),
            Step("dispatch-stalled/2", "Already done in the file", checked=True),
            Step("dispatch-stalled/3", "Pause intake"),
        )),
    ),
)


def tick(step: str, ticked: bool = True, runbook: str = "queue-backlog", text: str | None = None) -> Tick:
    words = {s.key: s.text for s in RUNBOOK.steps()}
    return Tick(runbook, step, text if text is not None else words.get(step, "gone"), ticked, "bob", 1.0)


def test_progress_counts_nested_steps_source_ticks_and_the_latest_tick_only():
    assert str(progress(RUNBOOK, [])) == "1/4"  # the step checked in the file
    ticks = [tick("dispatch-stalled/1.1"), tick("dispatch-stalled/3"), tick("dispatch-stalled/2", ticked=False)]
    assert str(progress(RUNBOOK, ticks)) == "2/4"  # an untick overrides the file's [x]
    # Another runbook's ticks and ticks of steps the file no longer has do not count.
    assert str(progress(RUNBOOK, [tick("dispatch-stalled/3", runbook="other"), tick("gone/9")])) == "1/4"
    # The file was edited and another step now has that key: the old tick is not counted.
    assert str(progress(RUNBOOK, [tick("dispatch-stalled/3", text="Restart the broker")])) == "1/4"
    assert str(progress(RUNBOOK, [tick("dispatch-stalled/2", ticked=False, text="Something else")])) == "1/4"


def reading(name: str, level: Level) -> SignalReading:
    return SignalReading(name, name.replace("_", " ").title(), "jobs", 1.0, level)


def alert(name: str, silenced: bool = False) -> Alert:
    return Alert(name, "critical", "active", None, "", silenced, False, (("alertname", name),), ())


RULES = [
    SuggestionConfig(signal="queue_depth", level="crit", runbook="queue-backlog", section="dispatch-stalled"),
    SuggestionConfig(alert="WorkersDown", runbook="workers"),
    SuggestionConfig(signal="queue_depth", level="warn", runbook="queue-backlog", section="too-much-arriving"),
]


def snapshot(level: Level, *alerts: Alert) -> Snapshot:
    return Snapshot(1.0, {ALERTS: SourceState(ALERTS, data=alerts)}, signals=(reading("queue_depth", level),))


def test_first_matching_rule_wins_and_levels_count_upwards():
    assert suggest(RULES, snapshot(Level.CRIT, alert("WorkersDown"))) == Suggestion("queue-backlog", "dispatch-stalled", "Queue Depth CRIT")
    assert suggest(RULES, snapshot(Level.WARN, alert("WorkersDown"))) == Suggestion("workers", "", "alert WorkersDown firing")
    assert suggest(RULES, snapshot(Level.WARN)).section == "too-much-arriving"
    assert suggest(RULES[2:], snapshot(Level.CRIT)).section == "too-much-arriving"  # warn means warn or worse


def test_nothing_is_suggested_when_quiet_silenced_or_without_data():
    assert suggest(RULES, snapshot(Level.OK)) is None
    assert suggest(RULES, snapshot(Level.NODATA)) is None
    assert suggest(RULES, snapshot(Level.OK, alert("WorkersDown", silenced=True))) is None
    assert suggest(RULES, Snapshot(1.0)) is None  # no poll yet: no signals, no alerts source

