"""The first screen: signals, health, workers, leases and dead letters at a glance."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from console.config import Config
from console.format import staleness
from console.models import Snapshot
from console.poller import JOBS, LEASES, METRICS, WORKERS, dashboard_lists
from console.runbook_model import Runbook
from console.runbook_suggest import Suggestion, suggest
from console.text import plain
from screens.runbook_messages import RunbooksLoaded
from screens.runbook_list import RunbookListScreen, read_runbooks
from screens.runbook_view import RunbookScreen
from screens.widgets.alerts_panel import AlertsPanel
from screens.widgets.dead_letter_panel import DeadLetterPanel
from screens.widgets.environment_chip import environment_chip
from screens.widgets.health_bar import HealthBar
from screens.widgets.jobs_panel import JobsPanel
from screens.widgets.leases_panel import LeasesPanel
from screens.widgets.rule_bars import ExitCriteriaBar, SeverityHintBar
from screens.widgets.runbook_suggestion import RunbookSuggestionBar
from screens.widgets.signal_tile import SignalTile
from screens.widgets.source_panel import SourcePanel
from screens.widgets.status_bar import StatusBar
from screens.widgets.workers_panel import WorkersPanel


class DashboardScreen(Screen):
    CSS_PATH = "dashboard.tcss"
    BINDINGS = [
        # Priority: handled before the keys after it are routed, so a filter typed right
        # after `k` reaches the runbook list, not the table that had focus.
        Binding("k", "runbooks", "Runbooks", id="runbooks", tooltip="Every runbook with its progress: type to filter, open, tick steps"),
        Binding("g", "suggested_runbook", "Go to runbook", id="suggested_runbook", show=False,
                tooltip="Open the runbook section the config suggests for what the signals and alerts show now"),
    ]

    def __init__(self, config: Config, clock: Callable[[], float] = time.time):
        super().__init__()
        self.config = config
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.badge: Text | None = None  # READ-ONLY and the incident, set by the app (controls_app.py)
        self.incident_severity: str | None = None  # of the open incident: no hint for what is declared
        self.runbooks: dict[str, Runbook] | None = None  # by id, once read
        self._runbooks_asked = False
        self.suggestion: Suggestion | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        yield SeverityHintBar(id="severity-hint")
        yield RunbookSuggestionBar(id="runbook-suggestion")
        with Horizontal(id="tiles"):
            for signal in self.config.signals:
                if signal.tile:
                    yield SignalTile(id=f"tile-{signal.name}", classes="tile")
        api = self.config.api
        # A list the API does not offer has no panel; with none at all, health takes the room.
        lists = bool(dashboard_lists(api))
        health = HealthBar([(check.name, check.ok) for check in api.health], id="health", classes="" if lists else "-full")
        health.border_title = "Health"
        yield health
        if self.config.exit_criteria:
            yield ExitCriteriaBar(id="exit-criteria")
        if self.config.alertmanager is not None:
            yield AlertsPanel(id="alerts", classes="panel")
        shown = dashboard_lists(api)
        if {WORKERS, LEASES, JOBS} & set(shown):
            with Horizontal(id="fleet"):
                if WORKERS in shown:
                    yield WorkersPanel(self.config.heartbeat_stale_s, leases=api.leases is not None, id="workers", classes="panel")
                if LEASES in shown:
                    yield LeasesPanel(id="leases", classes="panel")
                if JOBS in shown:  # an API without leases: its recent jobs take their place
                    yield JobsPanel(id="jobs", classes="panel")
        if api.dead_letters is not None:
            yield DeadLetterPanel(id="dead-letters", classes="panel")
        # With several environments `e Env` takes the palette hint's place, so every key still
        # fits 80 columns; ctrl+p works all the same and is on the keys screen (?).
        yield Footer(compact=True, show_command_palette=len(self.config.environments) < 2)

    def on_mount(self) -> None:
        self.show_status()

    def on_screen_resume(self) -> None:
        # Snapshots that arrived while another screen was on top were kept, not rendered.
        if self.snapshot is not None:
            self.show(self.snapshot)
        if self.runbooks is not None:
            self.load_runbooks()  # a runbook file may have been edited meanwhile

    @work(thread=True, exclusive=True, group="dashboard-runbooks")
    def load_runbooks(self) -> None:
        self.post_message(RunbooksLoaded(read_runbooks(self.config.runbooks.dirs)))

    @on(RunbooksLoaded)
    def _runbooks_loaded(self, message: RunbooksLoaded) -> None:
        self.runbooks = {runbook.id: runbook for runbook in message.runbooks}
        self.show_suggestion()

    def show(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        if not self.is_current or not self._has_widgets():
            return
        self.show_status()
        marker = staleness(snapshot.source(METRICS), snapshot.taken_at)
        from_json = {signal.name for signal in self.config.signals if signal.json_value is not None}
        for tile in self.query(SignalTile):
            reading = next(r for r in snapshot.signals if tile.id == f"tile-{r.name}")
            # A json signal's path failing marks its own reading; the metrics source is not its.
            tile.show(reading, "" if reading.name in from_json else marker)
        self.query_one(SeverityHintBar).show(snapshot, self.incident_severity)
        self.suggestion = suggest(self.config.runbooks.suggest, snapshot)
        if self.suggestion is not None and self.runbooks is None and not self._runbooks_asked:
            # Read when first needed, not at start-up: the first frame comes sooner.
            self._runbooks_asked = True
            self.load_runbooks()
        self.show_suggestion()
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
            self.snapshot, environment_chip(self.config), self.config.refresh_interval_s, self.clock(), self.badge
        )

    def show_suggestion(self) -> None:
        if not self._has_widgets():
            return
        suggestion = self.suggestion
        runbook = (self.runbooks or {}).get(suggestion.runbook) if suggestion else None
        self.query_one(RunbookSuggestionBar).show(suggestion, runbook, self.runbooks is not None, self._key_for("suggested_runbook"))

    def _key_for(self, binding_id: str) -> str:
        """The key as remapped by [keys], for lines that name it."""
        return next((self.app.get_key_display(b.binding) for b in self.active_bindings.values() if b.binding.id == binding_id), "?")

    # -- runbooks --------------------------------------------------------------------------

    def action_runbooks(self) -> None:
        known = list(self.runbooks.values()) if self.runbooks is not None else None
        self.app.push_screen(RunbookListScreen(self.app.controls, lambda: self.snapshot, known))

    def action_suggested_runbook(self) -> None:
        suggestion = self.suggestion
        if suggestion is None:
            self.notify("No runbook is suggested right now (see [runbooks] suggest in the config).", markup=False)
            return
        if self.runbooks is None:
            self.notify("Still reading the runbooks; try again in a moment.", timeout=3)
            return
        runbook = (self.runbooks or {}).get(suggestion.runbook)
        if runbook is None:
            self.notify(f"Runbook {plain(suggestion.runbook, 60)} is not in the runbook directories.", severity="error", markup=False)
            return
        self.app.push_screen(RunbookScreen(self.app.controls, runbook, suggestion.section, lambda: self.snapshot))

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Runbooks", "Every runbook with its progress: filter, open, tick steps", self.action_runbooks)
        if self.suggestion is not None:
            yield SystemCommand("Open the suggested runbook", plain(self.suggestion.reason, 80), self.action_suggested_runbook)
        for panel in self.query(SourcePanel):  # the panels this config has
            panel_id, title = panel.id, panel.TITLE
            yield SystemCommand(
                f"Go to {title}",
                f"Move the cursor into the {title.lower()} table",
                lambda panel_id=panel_id: self.query_one(f"#{panel_id} DataTable", DataTable).focus(),
            )
