"""Ask for one line of text (a reason, a title, a value); Esc cancels."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel", tooltip="Close without doing anything")]

    def __init__(self, title: str, label: str, check: Callable[[str], str] | None = None, value: str = ""):
        super().__init__()
        self.title_text = title
        self.label = label
        self.check = check
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text), classes="title")
            yield Static(Text(self.label))
            yield Input(value=self.value, id="prompt-input")
            yield Static("", id="prompt-error", classes="error")
            yield Static(Text("Enter accepts · Esc cancels"), classes="hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        problem = self.check(value) if self.check else ""
        if problem:
            self.query_one("#prompt-error", Static).update(Text(problem))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
