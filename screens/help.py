"""The keys screen (`?`): every active binding and what each panel means."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KeyRow = tuple[str, str, str]  # key, description, tooltip

PANELS = (
    ("Header", "environment, age of the oldest data on screen, refresh interval; STALE names failing sources"),
    ("Suggestion", "a red line under the header when a severity rule from the config has held: a hint, you decide"),
    ("Runbook", "the runbook section that fits what the signals and alerts show now ([runbooks] suggest); g opens it"),
    ("Tiles", "one signal each: value, unit, colour from warn/crit, sparkline of the history window, "
     "trend (↑ rising, ↓ falling, → flat) and how long it held (≥ = all the history there is); "
     "a backlog says when it drains or 'no drain'"),
    ("Health", "every service in [[api.health]] by name: ok, or DOWN with its HTTP status (or the word it "
     "answered), its failing checks, details such as a model version; 'stale' with the reason when it did not answer"),
    ("Exit", "exit criteria from the config: ✓ met or ✗ not, held / needed"),
    ("Alerts", "firing alerts from Alertmanager, newest first; Enter shows labels, annotations, runbook link"),
    ("Workers", "state, Beat = age of the last heartbeat (5 s steps; exact and red when late), current job, Held = leases held"),
    ("Leases", "job, worker, Age = how long held, time to expiry (10 s steps); STALE = expired but still held, for how long"),
    ("Jobs", "an API without leases shows its recent jobs in their place: those with errors first, then the newest; a acts on one"),
    ("Dead letters", "total, growth over the last 5 minutes, top error classes, newest entries"),
    ("Stale", "a dashed red border: the source failed; last good data stays, with its age and the reason"),
    ("Absent", "a list the API does not offer (no [api.workers], [api.leases] or [api.dead_letters]) has no panel; "
     "its keys say so"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close", tooltip="Close this screen"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, console_keys: list[KeyRow]):
        super().__init__()
        self.console_keys = console_keys

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column()
        for key, description, tooltip in self.console_keys:
            keys.add_row(Text(key), Text(f"{description}: {tooltip}" if tooltip else description))
        keys.add_row(Text("tab"), Text("move between the tables on the dashboard (the lists the config's API offers)"))
        keys.add_row(Text("↑ ↓ pgup pgdn"), Text("move the cursor in the focused table"))
        keys.add_row(Text("ctrl+p"), Text("command palette: every command, searchable"))
        keys.add_row(Text("ctrl+q"), Text("quit from anywhere"))
        panels = Table.grid(padding=(0, 2))
        panels.add_column(style="bold", no_wrap=True)
        panels.add_column()
        for name, meaning in PANELS:
            panels.add_row(Text(name), Text(meaning))
        with VerticalScroll():
            yield Static(Text("Keys", style="bold underline"))
            yield Static(keys)
            yield Static(Text("\nPanels", style="bold underline"))
            yield Static(panels)
            yield Static(Text("\nEsc closes this screen.", style="dim"))
