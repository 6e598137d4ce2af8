"""One alert in full: every label and annotation, the runbook link first."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.models import Alert
from console.text import plain

RUNBOOK_KEYS = ("runbook_url", "runbook", "playbook")


def runbook_link(alert: Alert) -> str:
    annotations = dict(alert.annotations)
    return next((annotations[key] for key in RUNBOOK_KEYS if annotations.get(key)), "")


class AlertDetailScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="alert.close", tooltip="Back to the dashboard"),
        Binding("c", "copy_runbook", "Copy runbook link", id="alert.copy_runbook", tooltip="Copy the runbook link (works over SSH)"),
    ]
    DEFAULT_CSS = """
    AlertDetailScreen { align: center middle; }
    AlertDetailScreen > VerticalScroll {
        width: 90%; max-width: 110; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, alert: Alert):
        super().__init__()
        self.alert = alert

    def compose(self) -> ComposeResult:
        alert = self.alert
        head = Text()
        head.append(plain(alert.name, 100), style="bold")
        head.append(f"  {plain(alert.severity, 20) or 'no severity'}", style="bold red" if alert.severity == "critical" else "bold")
        head.append(f"  {plain(alert.state, 20)}")
        if alert.silenced:
            head.append("  SILENCED", style="bold yellow")
        if alert.inhibited:
            head.append("  INHIBITED", style="bold yellow")
        if alert.starts_at is not None:
            head.append(f"\nsince {alert.starts_at:%Y-%m-%d %H:%M:%S} UTC", style="dim")
        link = runbook_link(alert)
        with VerticalScroll():
            yield Static(head)
            yield Static(Text.assemble(("\nRunbook  ", "bold"), plain(link, 500) if link else ("none given", "dim")))
            yield Static(Text("\nAnnotations", style="bold underline"))
            yield Static(self._pairs(alert.annotations))
            yield Static(Text("\nLabels", style="bold underline"))
            yield Static(self._pairs(alert.labels))
            if alert.generator_url:
                yield Static(Text.assemble(("\nSource  ", "bold"), plain(alert.generator_url, 500)))
            yield Static(Text("\nEsc closes, c copies the runbook link.", style="dim"))

    @staticmethod
    def _pairs(pairs: tuple[tuple[str, str], ...]) -> Table | Text:
        if not pairs:
            return Text("none", style="dim")
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column(overflow="fold")
        for key, value in pairs:
            table.add_row(Text(plain(key, 80)), Text(plain(value, 2000)))
        return table

    def action_copy_runbook(self) -> None:
        link = runbook_link(self.alert)
        if link:
            self.app.copy_to_clipboard(plain(link, 2000))
            self.notify("Runbook link copied", markup=False)
        else:
            self.notify("This alert has no runbook link", severity="warning", markup=False)
