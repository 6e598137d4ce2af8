"""Firing alerts from Alertmanager, newest first; Enter shows one alert's labels and annotations."""

from __future__ import annotations

from datetime import datetime, timezone

from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable

from console.format import duration
from console.models import Alert, Snapshot, SourceState, seconds_between
from console.poller import ALERTS
from screens.widgets.source_panel import SourcePanel
from screens.widgets.tables import cell, make_table, sync_rows

COLUMNS = [("since", "Since"), ("severity", "Severity"), ("name", "Alert"), ("summary", "Summary")]
SEVERITY_STYLES = {"critical": "bold red", "page": "bold red", "error": "red", "warning": "yellow", "info": "dim"}


def alert_key(alert: Alert, index: int) -> str:
    return alert.fingerprint or f"{index}:{alert.name}"


class AlertsPanel(SourcePanel):
    SOURCE = ALERTS
    TITLE = "Alerts"

    class AlertChosen(Message):
        def __init__(self, alert: Alert):
            super().__init__()
            self.alert = alert

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._alerts: dict[str, Alert] = {}

    def compose(self) -> ComposeResult:
        table = make_table(COLUMNS)
        table.show_header = False  # rows say what they are; the rows are scarce at 80x24
        table.add_row(cell("no alerts yet", "dim"), key="")
        yield table

    def title_for(self, state: SourceState) -> str:
        if state.data is None:
            return self.TITLE
        alerts: tuple[Alert, ...] = state.data
        silenced = sum(1 for a in alerts if a.silenced or a.inhibited)
        firing = len(alerts) - silenced
        return f"Alerts {firing} firing" + (f", {silenced} silenced" if silenced else "")

    def show_data(self, state: SourceState, snapshot: Snapshot) -> None:
        # Alertmanager sends no clock of its own: ages use ours.
        now = datetime.fromtimestamp(snapshot.taken_at, timezone.utc)
        self._alerts = {alert_key(alert, i): alert for i, alert in enumerate(state.data)}
        rows = {}
        for key, alert in self._alerts.items():
            quiet = alert.silenced or alert.inhibited
            summary = ("[silenced] " if alert.silenced else "[inhibited] " if alert.inhibited else "") + alert.summary
            rows[key] = (
                cell(duration(seconds_between(alert.starts_at, now))),
                cell(alert.severity or "-", "dim" if quiet else SEVERITY_STYLES.get(alert.severity.lower(), "")),
                cell(alert.name, "dim" if quiet else "bold"),
                cell(summary, "dim" if quiet else "", limit=300),
            )
        if not rows:
            rows[""] = (cell("none firing", "green"), cell(""), cell(""), cell(""))
        sync_rows(self.query_one(DataTable), rows)

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        alert = self._alerts.get(str(event.row_key.value))
        if alert is not None:
            self.post_message(self.AlertChosen(alert))
