"""The dead-letter queue in full: server-side paging and filters, multi-select, payloads, replay.

One page (PAGE_SIZE entries) is held at a time, fetched from the server with the filter
applied there, so the console's memory does not grow with the queue. Pages are walked the
way the API pages (offset, page number or cursor); the pages seen are kept so `p` can go
back on a cursor API too. A filter the API does not take is not offered. Replays go through
the app's action flow (typed confirmation, read-only gate, audit); a batch acts on the
selected ids, or on every id matching the filter counted at confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from console.config import Config, read_token
from console.execution import Outcome
from console.format import duration
from console.models import DeadLetter, seconds_between
from console.sources.dead_letter_pages import FILTER_NAMES, DeadLetterFilter, DeadLetterPage, PageAt, fetch_page, filters_taken, matching_ids
from console.sources.http import SourceError, http_client
from console.text import plain
from screens.modals.text_view import TextViewScreen
from screens.widgets.mode_line import ModeLine
from screens.widgets.tables import cell, make_table

PAGE_SIZE = 50
COLUMNS = [("sel", "✓"), ("id", "Id"), ("age", "Age"), ("error_class", "Error class"), ("job", "Job"), ("message", "Message")]


@dataclass
class DeadLetterPageLoaded(Message):
    page: DeadLetterPage
    where: DeadLetterFilter


@dataclass
class DeadLetterPageFailed(Message):
    reason: str


@dataclass
class MatchingIdsCollected(Message):
    ids: list[str]
    total: int
    where: DeadLetterFilter


class DeadLetterScreen(Screen):
    CSS_PATH = "dead_letters.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="dlq.back", tooltip="Back to the dashboard (or leave the filter box)"),
        Binding("n", "page(1)", "Next", id="dlq.next", show=False, tooltip="Next page from the server"),
        Binding("p", "page(-1)", "Prev", id="dlq.prev", show=False, tooltip="Previous page from the server"),
        Binding("space", "toggle", "Select", id="dlq.select", tooltip="Select or unselect the entry under the cursor"),
        Binding("c", "cycle_class", "Class", id="dlq.class", tooltip="Filter by the next error class (then all)"),
        Binding("slash", "search", "Filter", id="dlq.search", key_display="/", tooltip="Filter by text (id, job, message); Enter applies"),
        # Only while the API does not take that filter: the key says so instead of filtering a page.
        Binding("c", "filter_not_taken('error_class')", "Class", id="dlq.class_not_taken", show=False,
                tooltip="This API takes no error-class filter ([api.dead_letters] filters)"),
        Binding("slash", "filter_not_taken('text')", "Filter", id="dlq.search_not_taken", key_display="/", show=False,
                tooltip="This API takes no text filter ([api.dead_letters] filters)"),
        Binding("v", "view", "Payload", id="dlq.view", show=False, tooltip="Show the entry's payload (Enter too)"),
        Binding("y", "copy", "Copy id", id="dlq.copy", show=False, tooltip="Copy the entry's id to the clipboard (OSC 52)"),
        Binding("R", "replay", "Replay", id="dlq.replay", tooltip="Replay the selected entries, or the one under the cursor (typed confirmation)"),
        Binding("F", "replay_matching", "Replay all", id="dlq.replay_all", tooltip="Replay every entry matching the filter, counted at confirmation"),
        Binding("r", "reload", "Reload", id="dlq.reload", show=False, tooltip="Fetch this page again"),
    ]

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        token = read_token(config.api)
        self.client = http_client(token)
        self.where = DeadLetterFilter()
        self.filters = filters_taken(config.api)
        self.trail: list[PageAt] = [PageAt()]
        """The pages walked to reach this one, the current one last (`p` goes back along it)."""
        self.page: DeadLetterPage | None = None
        self.selected: dict[str, None] = {}  # ordered: a batch is sent in the order chosen
        self.classes_known: tuple[str, ...] = ()
        self.error = ""

    def compose(self) -> ComposeResult:
        yield ModeLine(id="dlq-mode")
        with Horizontal(id="dlq-filter"):
            yield Static(id="dlq-class")
            yield Static(Text("/ text:", style="bold"))
            if "text" in self.filters:
                yield Input(placeholder="in id, job or message; Enter applies", id="dlq-text")
            else:
                yield Input(placeholder="this API takes no text filter", id="dlq-text", disabled=True)
        table = make_table(COLUMNS)
        table.id = "dlq-table"
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#dlq-table", DataTable).focus()
        self.load()

    async def on_unmount(self) -> None:
        await self.client.aclose()

    # -- loading -------------------------------------------------------------------------

    @work(exclusive=True, group="dlq-page")
    async def load(self) -> None:
        where, at = self.where, self.trail[-1]
        try:
            page = await fetch_page(self.client, self.config.api, at, PAGE_SIZE, where)
        except SourceError as exc:
            self.post_message(DeadLetterPageFailed(str(exc)))
        else:
            self.post_message(DeadLetterPageLoaded(page, where))

    @on(DeadLetterPageLoaded)
    def _page_loaded(self, message: DeadLetterPageLoaded) -> None:
        if message.where != self.where or message.page.at != self.trail[-1]:
            return  # an answer to a filter or page the operator has already left
        self.page, self.error = message.page, ""
        if not self.where.error_class:
            self.classes_known = tuple(name for name, _ in message.page.error_classes)
        self._render_rows()

    @on(DeadLetterPageFailed)
    def _page_failed(self, message: DeadLetterPageFailed) -> None:
        self.error = message.reason
        self._render_detail()

    def refresh_after_action(self, outcome: Outcome) -> None:
        for done in outcome.done:  # replayed entries have left the queue
            self.selected.pop(done, None)
        self.load()

    def _render_rows(self) -> None:
        table = self.query_one("#dlq-table", DataTable)
        page = self.page
        assert page is not None
        row = table.cursor_row
        table.clear()
        for letter in page.items:
            table.add_row(*self._cells(letter, page), key=letter.id)
        if page.items:
            table.move_cursor(row=min(row, len(page.items) - 1))
        self._render_detail()

    def _cells(self, letter: DeadLetter, page: DeadLetterPage) -> tuple[Text, ...]:
        return (
            cell("✓" if letter.id in self.selected else " ", "bold green"),
            cell(letter.id),
            cell(duration(seconds_between(letter.last_failed_at, page.server_now))),
            cell(letter.error_class, "bold"),
            cell(letter.job),
            cell(letter.message, limit=300),
        )

    def _render_detail(self) -> None:
        text = Text()
        text.append("Dead letters ", style="bold")
        if self.error:
            text.append(f"STALE: {plain(self.error, 60)} ", style="bold red")
        if self.selected:
            text.append(f"{len(self.selected):,} selected · ", style="bold green")
        if self.page is not None:
            text.append(self._position(self.page))
        self.query_one(ModeLine).show_detail(text)
        where = Text("c class: ", style="bold")
        if "error_class" not in self.filters:
            where.append("not offered by this API", style="dim")
        else:
            where.append(plain(self.where.error_class or "all", 30), style="bold cyan" if self.where.error_class else "")
        self.query_one("#dlq-class", Static).update(where)

    @staticmethod
    def _position(page: DeadLetterPage) -> str:
        number = page.at.index + 1
        if page.total is None:  # the API does not count: say whether more follow
            return f"page {number:,}{' · more' if page.next_at else ' (last)'} n/p"
        pages = max(1, -(-page.total // page.limit), number)
        return f"{page.total:,} matching · page {number:,}/{pages:,} n/p"

    # -- keys ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cycle_class":
            return "error_class" in self.filters
        if action == "search":
            return "text" in self.filters
        if action == "filter_not_taken":
            return parameters[0] not in self.filters
        return True

    def action_filter_not_taken(self, name: str) -> None:
        self.notify(
            f"This API takes no {FILTER_NAMES[name]} filter, so none is offered: the console does not filter "
            f"one page and call it the queue (add filters.{name} to [api.dead_letters] if the API has one).",
            severity="warning",
        )

    def _current(self) -> DeadLetter | None:
        table = self.query_one("#dlq-table", DataTable)
        if self.page is None or not self.page.items or table.cursor_row < 0:
            return None
        return self.page.items[min(table.cursor_row, len(self.page.items) - 1)]

    def action_back(self) -> None:
        if self.query_one("#dlq-text", Input).has_focus:
            self.query_one("#dlq-table", DataTable).focus()
        else:
            self.dismiss()

    def action_page(self, step: int) -> None:
        if self.page is None:
            return
        if step > 0 and self.page.next_at is not None:
            self.trail.append(self.page.next_at)
        elif step < 0 and len(self.trail) > 1:
            self.trail.pop()
        else:
            return
        self.load()

    def action_toggle(self) -> None:
        letter = self._current()
        if letter is None:
            return
        if letter.id in self.selected:
            del self.selected[letter.id]
        elif len(self.selected) < self.config.policy.batch_max:
            self.selected[letter.id] = None
        table = self.query_one("#dlq-table", DataTable)
        table.update_cell(letter.id, "sel", cell("✓" if letter.id in self.selected else " ", "bold green"))
        table.action_cursor_down()
        self._render_detail()

    def action_cycle_class(self) -> None:
        classes = ("",) + self.classes_known
        now = classes.index(self.where.error_class) if self.where.error_class in classes else 0
        self._filter(DeadLetterFilter(classes[(now + 1) % len(classes)], self.where.text))

    def action_search(self) -> None:
        self.query_one("#dlq-text", Input).focus()

    @on(Input.Submitted, "#dlq-text")
    def _search(self, event: Input.Submitted) -> None:
        self._filter(DeadLetterFilter(self.where.error_class, event.value.strip()))
        self.query_one("#dlq-table", DataTable).focus()

    def _filter(self, where: DeadLetterFilter) -> None:
        self.where, self.trail, self.page = where, [PageAt()], None
        self.query_one("#dlq-table", DataTable).clear()
        self._render_detail()
        self.load()

    @on(DataTable.RowSelected, "#dlq-table")
    def _row_selected(self) -> None:
        self.action_view()

    def action_view(self) -> None:
        letter = self._current()
        if letter is not None:
            self.app.push_screen(TextViewScreen(f"Payload of {plain(letter.id, 40)} (job {plain(letter.job, 40)})", letter.payload))

    def action_copy(self) -> None:
        letter = self._current()
        if letter is not None:
            self.app.copy_to_clipboard(letter.id)
            self.notify(f"Copied {plain(letter.id, 40)}", timeout=2, markup=False)

    def action_reload(self) -> None:
        self.load()

    def action_replay(self) -> None:
        if self.selected:
            self.app.start_catalogue_action("dead_letters", list(self.selected), batch=True, meta={"selection": f"{len(self.selected)} chosen by hand"})
            return
        letter = self._current()
        if letter is not None:
            self.app.start_catalogue_action("dead_letters", [letter.id], batch=False)

    def action_replay_matching(self) -> None:
        self.notify(f"Counting entries matching {plain(self.where.describe(), 80)}…", timeout=2, markup=False)
        self.collect(self.where)

    @work(exclusive=True, group="dlq-collect")
    async def collect(self, where: DeadLetterFilter) -> None:
        try:
            ids, total = await matching_ids(self.client, self.config.api, where, self.config.policy.batch_max)
        except SourceError as exc:
            self.post_message(DeadLetterPageFailed(str(exc)))
            return
        self.post_message(MatchingIdsCollected(ids, total, where))

    @on(MatchingIdsCollected)
    def _collected(self, message: MatchingIdsCollected) -> None:
        if not message.ids:
            limit = self.config.policy.batch_max
            why = f"{message.total:,} match, more than policy.batch_max ({limit:,}); narrow the filter" if message.total else "nothing matches"
            self.notify(why, severity="warning")
            return
        meta = {"filter": message.where.describe(), "counted": f"{len(message.ids):,} at confirmation"}
        self.app.start_catalogue_action("dead_letters", message.ids, batch=True, meta=meta)
