"""Dead letters: how many, how fast they grow, which error classes, the newest entries."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable

from console.format import coarse_age, duration, number
from console.models import DeadLetterSummary, Snapshot, SourceState, seconds_between
from console.poller import DEAD_LETTERS
from console.text import plain
from screens.widgets.quiet_static import QuietStatic
from screens.widgets.source_panel import SourcePanel
from screens.widgets.tables import cell, make_table, sync_rows

COLUMNS = [("age", "Age"), ("error_class", "Error class"), ("job", "Job"), ("message", "Message")]
TOP_CLASSES = 5


class DeadLetterPanel(SourcePanel):
    SOURCE = DEAD_LETTERS
    TITLE = "Dead letters"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield QuietStatic(id="dead-letter-summary")
            yield make_table(COLUMNS)

    def title_for(self, state: SourceState) -> str:
        if state.data is None:
            return self.TITLE
        total = state.data.total
        return f"Dead letters {total:,}" if total is not None else f"Dead letters ({len(state.data.newest):,} on the first page)"

    def show_data(self, state: SourceState, snapshot: Snapshot) -> None:
        summary: DeadLetterSummary = state.data
        self.query_one("#dead-letter-summary", QuietStatic).show_text(self._summary(summary, snapshot))
        now = state.server_now
        rows = {}
        for letter in summary.newest:
            rows[letter.id] = (
                cell(coarse_age(seconds_between(letter.last_failed_at, now))),
                cell(letter.error_class, "bold"),
                cell(letter.job),
                cell(letter.message, limit=300),
            )
        sync_rows(self.query_one(DataTable), rows)

    def _summary(self, summary: DeadLetterSummary, snapshot: Snapshot) -> Text:
        text = Text()
        growth = snapshot.dead_letter_growth
        if summary.total is None:  # a page's count is neither the queue's size nor its growth
            text.append("no total from the API\n", style="dim")
        else:
            text.append(f"{summary.total:,}", style="bold")
            text.append(" total\n")
            if growth is None:
                text.append("growth: measuring\n", style="dim")
            else:
                window = duration(snapshot.dead_letter_growth_window_s)
                style = "bold red" if growth > 0 else "green"
                text.append(f"{'+' if growth >= 0 else ''}{number(growth)} in {window}\n", style=style)
        scope = "" if summary.classes_cover_whole_queue else " (newest page)"
        text.append(f"top classes{scope}\n", style="dim")
        width = max((len(f"{n:,}") for _, n in summary.error_classes[:TOP_CLASSES]), default=1)
        for name, count in summary.error_classes[:TOP_CLASSES]:
            text.append(f"{count:>{width},} ", style="bold")
            text.append(plain(name, 60) + "\n")
        text.rstrip()
        return text
