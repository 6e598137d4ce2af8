"""Pick one of several actions for the selected row."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class PickScreen(ModalScreen[str | None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick.cancel", tooltip="Close without doing anything")]

    def __init__(self, title: str, options: list[tuple[str, str]], start: str | None = None):
        """`start`: the key of the option the cursor starts on (default the first)."""
        super().__init__()
        self.title_text = title
        self.options = options
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text), classes="title")
            yield OptionList(*[Option(Text(label), id=key) for key, label in self.options])
            yield Static(Text("Enter picks · Esc cancels"), classes="hint")

    def on_mount(self) -> None:
        keys = [key for key, _ in self.options]
        if self.start in keys:
            self.query_one(OptionList).highlighted = keys.index(self.start)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
