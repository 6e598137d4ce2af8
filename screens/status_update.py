"""The status-update composer (`u` on the Incident screen, or the palette): a draft written
from the incident's records and the latest signals, edited in place, then copied, saved
and marked sent.

Copy goes through OSC 52 (`App.copy_to_clipboard`), so it reaches the operator's own
clipboard over SSH. Marking it sent puts a "status-update" event on the timeline, which
resets the countdown in every console's header. Closing returns the draft to keep (the
app holds one per incident in memory), or None: nothing worth keeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from console.controls import Controls
from console.incident import Incident
from console.status_update import STATUS_UPDATE, sent_summary
from console.text import plain
from console.user_files import UPDATES, save_text


@dataclass
class UpdateDrafted(Message):
    """A first draft was written from the incident's records (on a thread)."""

    incident: Incident
    text: str


@dataclass
class LastUpdateRead(Message):
    """When the incident's last status update was marked sent (None: never; the countdown runs from the declaration)."""

    incident_id: str | None
    at: float | None


@dataclass
class UpdateSaved(Message):
    path: Path


class UpdateMarkedSent(Message):
    """The "status-update" event is on the timeline."""


@dataclass
class UpdateFailed(Message):
    """Saving or recording failed; the text stays in the composer."""

    reason: str


class StatusUpdateScreen(ModalScreen[str | None]):
    CSS_PATH = "status_update.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="update.close", tooltip="Close; an edited draft is kept for `u` until it is marked sent"),
        Binding("ctrl+n", "app.fresh_status_update", "Fresh draft", id="update.fresh",
                tooltip="Replace the text with a fresh draft from the current state (ctrl+z brings the old one back)"),
        Binding("ctrl+o", "copy", "Copy", id="update.copy", tooltip="Copy the text to your clipboard (OSC 52, works over SSH)"),
        Binding("ctrl+s", "save", "Save", id="update.save", tooltip="Save the text to a file under the user data dir"),
        Binding("ctrl+r", "mark_sent", "Mark sent", id="update.sent", tooltip="Record the update as sent on the timeline; the countdown restarts"),
    ]

    def __init__(self, controls: Controls, incident: Incident, draft: str, kept: bool = False):
        super().__init__()
        self.controls = controls
        self.incident = incident
        self.draft = draft
        self.kept = kept
        self.prefill: str | None = None if kept else draft
        """The fresh draft as written, while shown: closed untouched, it is not worth keeping."""
        self.saved: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="composer"):
            yield Static(Text(f"Status update {self.incident.id} ({self.incident.severity})"), classes="title")
            yield TextArea(self.draft, id="update-text", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="update-note")
            yield Static(Text("^o copy · ^s save · ^r mark sent · ^n fresh draft · Esc close, edits kept"), classes="hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
        if self.kept:
            self._say("The draft you kept. ctrl+n: a fresh one from the current state.")

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def _say(self, text: str, style: str = "") -> None:
        self.query_one("#update-note", Static).update(Text(text, style=style))

    def action_close(self) -> None:
        text = self.text
        self.dismiss(None if not text.strip() or text == self.prefill else text)

    def fresh_draft(self, text: str) -> None:
        """Put a fresh draft in place of the text, as one edit: ctrl+z brings the old text back."""
        area = self.query_one(TextArea)
        area.replace(text, (0, 0), area.document.end, maintain_selection_offset=False)
        area.move_cursor((0, 0))
        self.prefill = text
        self._say("A fresh draft from the current state (ctrl+z brings back the text before).")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self._say("Copied to your clipboard (OSC 52).")

    def action_save(self) -> None:
        self._save(self.text)

    def action_mark_sent(self) -> None:
        if not self.text.strip():
            self._say("Nothing to send: the text is empty.", "bold red")
            return
        self._mark_sent(self.text)

    # -- files and the store, on threads ----------------------------------------------------

    @work(thread=True, group="update-save", exit_on_error=False)
    def _save(self, text: str) -> None:
        try:
            path = save_text(UPDATES, self.incident.id, self.controls.policy.clock(), text)
        except OSError as exc:
            self.post_message(UpdateFailed(f"not saved: {exc.strerror or exc}"))
            return
        self.post_message(UpdateSaved(path))

    @work(thread=True, group="update-sent", exclusive=True, exit_on_error=False)
    def _mark_sent(self, text: str) -> None:
        summary = sent_summary(text)
        try:
            self.controls.store.add_event(self.incident.id, str(self.controls.operator), STATUS_UPDATE, summary)
            self.controls.record_incident(self.controls.store.get(self.incident.id), f"status update sent: {summary}")
        except Exception as exc:  # a locked or missing state file: say so, keep the text
            self.post_message(UpdateFailed(f"not recorded: {exc}"))
            return
        self.post_message(UpdateMarkedSent())

    @on(UpdateSaved)
    def _saved(self, message: UpdateSaved) -> None:
        self.saved = message.path
        self._say(f"Saved to {message.path}")

    @on(UpdateFailed)
    def _failed(self, message: UpdateFailed) -> None:
        self._say(plain(message.reason, 200), "bold red")

    @on(UpdateMarkedSent)
    def _marked(self, message: UpdateMarkedSent) -> None:
        self.notify("Status update marked sent; the countdown restarts.", title=self.incident.id, timeout=4)
        refresh = getattr(self.app, "read_incident", None)
        if refresh is not None:
            refresh()  # every header's countdown restarts now, not at the next refresh
        self.dismiss(None)
