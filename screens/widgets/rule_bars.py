"""Severity hints and exit criteria, each on one line of the dashboard.

A hint is a suggestion from a rule in the config, with its reason: the operator decides
the severity. Exit criteria say whether the incident could close, and how long each held.
"""

from __future__ import annotations

from rich.text import Text

from console.format import duration
from console.models import RuleState, Snapshot
from console.rules import strongest_hint
from console.text import plain
from screens.widgets.quiet_static import QuietStatic


class SeverityHintBar(QuietStatic):
    """Shown only while a hint's condition has held long enough, and the open incident (if
    any) is not already at that severity or worse."""

    def show(self, snapshot: Snapshot, incident_severity: str | None = None) -> None:
        hint = strongest_hint(snapshot.severity_hints)
        # "SEV-1" < "SEV-2": a smaller name is the more severe.
        if hint is not None and incident_severity is not None and incident_severity <= hint.severity:
            hint = None
        self.display = hint is not None
        if hint is None:
            self.show_text(Text())
            return
        others = sum(1 for h in snapshot.severity_hints if h.met) - 1
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" suggests {hint.severity} ", style="bold white on red")
        if incident_severity is not None:
            text.append(f" (incident is {incident_severity})", style="bold")
        text.append(" " + plain(hint.title, 120), style="bold")
        text.append(f" (held {duration(hint.held_s)})", style="")
        if others > 0:
            text.append(f" +{others} more", style="dim")
        text.append("  your call", style="dim italic")
        self.show_text(text)


def criterion_text(rule: RuleState) -> Text:
    text = Text()
    if rule.met:
        text.append("✓ ", style="bold green")
    else:
        text.append("✗ ", style="bold red")
    text.append(plain(rule.title, 60))
    if rule.met:
        text.append(f" {duration(rule.held_s)}", style="green")
    elif rule.waiting and rule.held_s is None:
        text.append(f" ({rule.waiting})", style="dim")
    elif rule.held_s is None:
        text.append(" (not now)", style="dim")
    else:
        text.append(f" {duration(rule.held_s)}/{duration(rule.for_s)}", style="yellow")
    return text


class ExitCriteriaBar(QuietStatic):
    def show(self, snapshot: Snapshot) -> None:
        text = Text("Exit ", style="bold", no_wrap=True, overflow="ellipsis")
        for index, rule in enumerate(snapshot.exit_criteria):
            if index:
                text.append("  ")
            text.append_text(criterion_text(rule))
        self.show_text(text)
