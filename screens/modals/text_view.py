"""A read-only viewer for untrusted text (a payload, an inspected job): shown literally."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.text import plain


def pretty(value: Any) -> Text:
    """JSON, indented, every line made inert (no markup, control characters visible)."""
    raw = json.dumps(value, indent=2, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return Text("\n".join(plain(line) for line in raw.splitlines()))


class TextViewScreen(ModalScreen[None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [
        Binding("escape,q,enter", "dismiss", "Close", id="view.close", tooltip="Close the viewer"),
        Binding("y", "copy", "Copy", id="view.copy", tooltip="Copy the text to the clipboard (OSC 52)"),
    ]

    def __init__(self, title: str, value: Any):
        super().__init__()
        self.title_text = title
        self.body = pretty(value)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text), classes="title")
            with VerticalScroll(id="text-view"):
                yield Static(self.body)
            yield Static(Text("↑↓ scroll · y copy · Esc closes"), classes="hint")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.body.plain)
        self.notify("Copied to the clipboard", timeout=2)
