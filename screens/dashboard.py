"""The first screen: signals, health, workers, leases and dead letters at a glance."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from console.config import Config
from console.format import staleness
from console.models import Snapshot
from console.poller import METRICS
from screens.widgets.alerts_panel import AlertsPanel
from screens.widgets.dead_letter_panel import DeadLetterPanel
from screens.widgets.health_bar import HealthBar
from screens.widgets.leases_panel import LeasesPanel
from screens.widgets.rule_bars import ExitCriteriaBar, SeverityHintBar
from screens.widgets.signal_tile import SignalTile
from screens.widgets.source_panel import SourcePanel
from screens.widgets.status_bar import StatusBar
from screens.widgets.workers_panel import WorkersPanel


class DashboardScreen(Screen):
    CSS_PATH = "dashboard.tcss"

    def __init__(self, config: Config, clock: Callable[[], float] = time.time):
        super().__init__()
        self.config = config
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.badge: Text | None = None  # READ-ONLY and the incident, set by the app (controls_app.py)
        self.incident_severity: str | None = None  # of the open incident: no hint for what is declared

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        yield SeverityHintBar(id="severity-hint")
        with Horizontal(id="tiles"):
            for signal in self.config.signals:
                if signal.tile:
                    yield SignalTile(id=f"tile-{signal.name}", classes="tile")
        yield HealthBar(id="health")
        if self.config.exit_criteria:
            yield ExitCriteriaBar(id="exit-criteria")
        if self.config.alertmanager is not None:
            yield AlertsPanel(id="alerts", classes="panel")
        with Horizontal(id="fleet"):
            yield WorkersPanel(self.config.heartbeat_stale_s, id="workers", classes="panel")
            yield LeasesPanel(id="leases", classes="panel")
        yield DeadLetterPanel(id="dead-letters", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        self.show_status()

    def on_screen_resume(self) -> None:
        # Snapshots that arrived while another screen was on top were kept, not rendered.
        if self.snapshot is not None:
            self.show(self.snapshot)

    def show(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        if not self.is_current or not self._has_widgets():
            return
        self.show_status()
        marker = staleness(snapshot.source(METRICS), snapshot.taken_at)
        for tile in self.query(SignalTile):
            reading = next(r for r in snapshot.signals if tile.id == f"tile-{r.name}")
            tile.show(reading, marker)
        self.query_one(SeverityHintBar).show(snapshot, self.incident_severity)
        self.query_one(HealthBar).show(snapshot)
        for bar in self.query(ExitCriteriaBar):
            bar.show(snapshot)
        for panel in self.query(SourcePanel):
            panel.show(snapshot)

    def _has_widgets(self) -> bool:
        # While the app quits, its timers and a last snapshot can arrive after the
        # screen's widgets were removed.
        return bool(self.query(StatusBar))

    def show_status(self) -> None:
        if not self._has_widgets():
            return
        self.query_one(StatusBar).show(
            self.snapshot, self.config.environment, self.config.refresh_interval_s, self.clock(), self.badge
        )

    def palette_commands(self) -> Iterable[SystemCommand]:
        panels = [("workers", "Workers"), ("leases", "Leases"), ("dead-letters", "Dead letters")]
        if self.config.alertmanager is not None:
            panels.insert(0, ("alerts", "Alerts"))
        for panel_id, title in panels:
            yield SystemCommand(
                f"Go to {title}",
                f"Move the cursor into the {title.lower()} table",
                lambda panel_id=panel_id: self.query_one(f"#{panel_id} DataTable", DataTable).focus(),
            )
