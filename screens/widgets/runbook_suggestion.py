"""One dashboard line naming the runbook section that applies now, and the key that opens it.

Shown only while a `[[runbooks.suggest]]` rule matches the latest snapshot.
"""

from __future__ import annotations

from rich.text import Text

from console.runbook_model import Runbook
from console.runbook_suggest import Suggestion
from console.text import plain
from screens.widgets.quiet_static import QuietStatic


def suggestion_text(suggestion: Suggestion, runbook: Runbook | None, loaded: bool, key: str) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" runbook: ", style="bold")
    if runbook is None:
        text.append(plain(suggestion.runbook, 60), style="bold")
        text.append(" (reading…)" if not loaded else " (not found in the runbook directories)", style="dim" if not loaded else "bold red")
    else:
        text.append(plain(runbook.title, 60), style="bold")
        if suggestion.section:
            section = runbook.section(suggestion.section)
            text.append(" › ")
            text.append(plain(section.title, 60) if section else f"{plain(suggestion.section, 60)} (no such section)")
    text.append(f"  ({plain(key, 10)})", style="bold")
    text.append(f"  {plain(suggestion.reason, 80)}", style="dim")
    return text


class RunbookSuggestionBar(QuietStatic):
    def show(self, suggestion: Suggestion | None, runbook: Runbook | None, loaded: bool, key: str) -> None:
        self.display = suggestion is not None
        self.show_text(suggestion_text(suggestion, runbook, loaded, key) if suggestion else Text())
