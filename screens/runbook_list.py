"""The runbook list (`k`): every runbook with its progress on the current incident; typing
filters, Enter opens one (screens/runbook_view.py)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList
from textual.widgets.option_list import Option

from console.controls import Controls
from console.incident import Incident, Tick
from console.runbook_model import Runbook
from console.runbook_progress import progress
from console.text import plain
from screens.runbook_messages import ChecklistLoaded, RunbooksLoaded
from screens.runbook_view import LatestSnapshot, RunbookScreen, incident_text, read_checklist
from screens.widgets.mode_line import ModeLine


def read_runbooks(dirs: Iterable[str]) -> list[Runbook]:
    from console.runbooks import load_runbooks  # markdown-it is imported on the worker, not at start-up

    return load_runbooks(dirs)


def matches(runbook: Runbook, query: str) -> bool:
    """Every word typed appears in the id or the title (any case)."""
    haystack = f"{runbook.id} {runbook.title}".casefold()
    return all(word in haystack for word in query.casefold().split())


class RunbookListScreen(Screen):
    """`k` on the dashboard: every runbook with its progress; type to filter, Enter opens."""

    CSS_PATH = "runbooks.tcss"
    AUTO_FOCUS = "#runbooks-filter"  # typing filters from the first key
    BINDINGS = [
        Binding("escape", "back", "Back", id="runbooks.back", tooltip="Back to the dashboard"),
        Binding("down", "move(1)", "Down", id="runbooks.down", show=False, tooltip="Next runbook in the list"),
        Binding("up", "move(-1)", "Up", id="runbooks.up", show=False, tooltip="Previous runbook in the list"),
        Binding("pagedown", "page(1)", "Page down", id="runbooks.page_down", show=False, tooltip="A page further down the list"),
        Binding("pageup", "page(-1)", "Page up", id="runbooks.page_up", show=False, tooltip="A page further up the list"),
    ]

    def __init__(self, controls: Controls, latest_snapshot: LatestSnapshot, runbooks: list[Runbook] | None = None):
        super().__init__()
        self.controls = controls
        self.latest_snapshot = latest_snapshot
        self.runbooks = runbooks  # what the dashboard read last, until the files are read again
        self.open_when_read = False
        self.incident: Incident | None = None
        self.ticks: list[Tick] = []

    def compose(self) -> ComposeResult:
        yield ModeLine(id="runbooks-mode")
        yield Input(placeholder="type to filter by id or title; ↑↓ choose, Enter opens", id="runbooks-filter")
        yield OptionList(id="runbooks-list")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#runbooks-list", OptionList).can_focus = False  # typing always filters
        self._show_list()
        self.load()
        self.set_interval(self.controls.config.refresh_interval_s, self.reload_if_shown)

    def on_screen_resume(self) -> None:
        self.reload()

    def reload_if_shown(self) -> None:
        if self.is_current:  # under an open runbook, that one reads the store
            self.reload()

    @work(thread=True, exclusive=True, group="runbooks-load")
    def load(self) -> None:
        self.post_message(RunbooksLoaded(read_runbooks(self.controls.config.runbooks.dirs)))

    @work(thread=True, exclusive=True, group="runbooks-checklist")
    def reload(self) -> None:
        self.post_message(ChecklistLoaded(*read_checklist(self.controls.store), generation=0))

    @on(RunbooksLoaded)
    def _loaded(self, message: RunbooksLoaded) -> None:
        self.runbooks = message.runbooks
        self._show_list()
        if self.open_when_read:
            self.open_highlighted()

    @on(ChecklistLoaded)
    def _checklist_loaded(self, message: ChecklistLoaded) -> None:
        if (message.incident, message.ticks) != (self.incident, self.ticks):
            self.incident, self.ticks = message.incident, message.ticks
            self._show_list()

    @on(Input.Changed, "#runbooks-filter")
    def _filter_changed(self) -> None:
        self._show_list()

    def shown(self) -> list[Runbook]:
        query = self.query_one("#runbooks-filter", Input).value
        return [runbook for runbook in self.runbooks or () if matches(runbook, query)]

    def _show_list(self) -> None:
        listing = self.query_one("#runbooks-list", OptionList)
        chosen = listing.highlighted_option.id if listing.highlighted_option else None
        shown = self.shown()
        width = max((len(runbook.id) for runbook in shown), default=0)
        options = []
        for runbook in shown:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f"{progress(runbook, self.ticks)!s:>7}  ", style="bold")
            line.append(plain(runbook.id).ljust(min(width, 28)) + "  ", style="cyan")
            line.append(plain(runbook.title))
            if runbook.problems:
                line.append(f"  ⚠ {len(runbook.problems)} problem{'s' if len(runbook.problems) > 1 else ''}", style="bold yellow")
            options.append(Option(line, id=runbook.id))
        listing.set_options(options)
        ids = [runbook.id for runbook in shown]
        if ids:
            listing.highlighted = ids.index(chosen) if chosen in ids else 0
        self._show_header()

    def _show_header(self) -> None:
        text = Text("Runbooks", style="bold")
        if self.runbooks is None:
            text.append("  reading…", style="dim")
        elif not self.controls.config.runbooks.dirs:
            text.append("  none: name directories in [runbooks] dirs in the config", style="bold yellow")
        elif not self.runbooks:
            text.append(f"  no .md files in {plain(', '.join(self.controls.config.runbooks.dirs), 120)}", style="bold yellow")
        else:
            text.append(f"  {len(self.shown())} of {len(self.runbooks)}")
        text.append_text(incident_text(self.incident))
        self.query_one(ModeLine).show_detail(text)

    # -- keys ----------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_move(self, step: int) -> None:
        listing = self.query_one("#runbooks-list", OptionList)
        listing.action_cursor_down() if step > 0 else listing.action_cursor_up()

    def action_page(self, step: int) -> None:
        listing = self.query_one("#runbooks-list", OptionList)
        listing.action_page_down() if step > 0 else listing.action_page_up()

    @on(Input.Submitted, "#runbooks-filter")
    def _submitted(self) -> None:
        self.open_highlighted()

    @on(OptionList.OptionSelected, "#runbooks-list")
    def _clicked(self) -> None:
        self.open_highlighted()

    def open_highlighted(self) -> None:
        if self.runbooks is None:
            self.open_when_read = True  # Enter typed ahead of the first read
            return
        self.open_when_read = False
        option = self.query_one("#runbooks-list", OptionList).highlighted_option
        if option is None:
            self.notify("No runbook matches the filter.", severity="warning")
            return
        self.open(next(runbook for runbook in self.runbooks or () if runbook.id == option.id))

    def open(self, runbook: Runbook) -> None:
        self.app.push_screen(RunbookScreen(self.controls, runbook, latest_snapshot=self.latest_snapshot))

    def palette_commands(self) -> Iterable[SystemCommand]:
        for runbook in self.runbooks or ():
            yield SystemCommand(f"Open runbook {plain(runbook.title, 60)}", plain(runbook.id, 80), partial(self.open, runbook))
