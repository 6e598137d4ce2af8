"""The Textual application: polls on a worker, renders snapshots, owns the keys."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer

from console.config import Config
from console.controls import Controls
from console.poller import Poller
from console.text import plain
from screens.alert_detail import AlertDetailScreen
from screens.dashboard import DashboardScreen
from screens.environments_app import EnvironmentsApp
from screens.help import HelpScreen
from screens.messages import PollFailed, SnapshotLoaded
from screens.runbook_list import RunbookListScreen
from screens.runbook_view import RunbookScreen
from screens.signals import SignalsScreen
from screens.widgets.alerts_panel import AlertsPanel


class OpsConsoleApp(EnvironmentsApp):
    TITLE = "opsconsole"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave the console"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Poll every source now"),
        Binding("question_mark", "help", "Keys", id="help", key_display="?", tooltip="Show every key and what each panel means"),
        Binding("s", "signals", "Signals", id="signals", tooltip="Every signal in full: trend, drain estimate, history, largest series"),
    ]

    def __init__(
        self,
        config: Config,
        poller: Poller | None = None,
        clock: Callable[[], float] = time.time,
        controls: Controls | None = None,
        read_only: bool = False,
        loaded_config: Config | None = None,
    ):
        """`config` is the environment to open on; `loaded_config` the config as loaded, before
        an environment was laid over it, which switching starts from (default `config`)."""
        super().__init__()
        self.config = config
        self.setup_controls(config, controls, read_only, clock)  # incidents, read-only, actions (controls_app.py)
        self.setup_environments(config, loaded_config)  # switching environments (environments_app.py)
        self.poller = poller or Poller(config, clock=clock)
        self.dashboard = DashboardScreen(config, clock)
        self.polls_started = 0
        self._polling = False
        self._poll_again = False
        self._next_poll: Timer | None = None
        self.poll_generation = 0
        """Bumped when polling restarts (another environment): older polls' messages are dropped."""

    def on_mount(self) -> None:
        if self.config.keys:
            self.set_keymap(self.config.keys)
        self.push_screen(self.dashboard)
        self.set_interval(1.0, lambda: self.dashboard.show_status())  # the data age keeps counting between polls
        self.start_poll()

    async def on_unmount(self) -> None:
        await self.poller.aclose()

    # -- polling: one at a time, re-armed only after the previous one finished ------------

    def start_poll(self) -> None:
        if self._polling:
            self._poll_again = True
            return
        if self._next_poll is not None:
            self._next_poll.stop()
            self._next_poll = None
        self._polling = True
        self.polls_started += 1
        self.run_worker(self._poll(self.poller, self.poll_generation), group="poll", exit_on_error=False)

    async def _poll(self, poller: Poller, generation: int) -> None:
        try:
            snapshot = await poller.poll()
        except Exception as exc:  # the poller guards each source; this is a last resort
            self.post_message(PollFailed(f"{type(exc).__name__}: {exc}", generation))
        else:
            self.post_message(SnapshotLoaded(snapshot, generation))

    def restart_polling(self) -> None:
        """Start over with `self.poller`: the poll in flight is cancelled, and what an older
        poll has already posted is dropped (another environment's numbers)."""
        self.workers.cancel_group(self, "poll")
        if self._next_poll is not None:
            self._next_poll.stop()
            self._next_poll = None
        self._polling = self._poll_again = False
        self.poll_generation += 1
        self.start_poll()

    def _poll_finished(self) -> None:
        self._polling = False
        if self._poll_again:
            self._poll_again = False
            self.start_poll()
        else:
            self._next_poll = self.set_timer(self.config.refresh_interval_s, self.start_poll)

    @on(SnapshotLoaded)
    def _snapshot_loaded(self, message: SnapshotLoaded) -> None:
        if message.generation != self.poll_generation:
            return
        self.dashboard.show(message.snapshot)
        if self.screen_stack and isinstance(self.screen, SignalsScreen):  # none left while quitting
            self.screen.show(message.snapshot)
        self._poll_finished()

    @on(PollFailed)
    def _poll_failed(self, message: PollFailed) -> None:
        if message.generation != self.poll_generation:
            return
        self.notify(plain(message.reason, 300), title="Poll failed", severity="error", markup=False)
        self._poll_finished()

    # -- actions -------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.start_poll()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        # Our own bindings all carry an id (it is what the config's [keys] remaps).
        rows = [
            (self.get_key_display(active.binding), active.binding.description, active.binding.tooltip)
            for active in self.screen.active_bindings.values()
            if active.binding.id and isinstance(active.node, (App, Screen))
        ]
        self.push_screen(HelpScreen(rows))

    def action_signals(self) -> None:
        if not isinstance(self.screen, SignalsScreen):
            self.push_screen(SignalsScreen(self.dashboard.snapshot))

    @on(AlertsPanel.AlertChosen)
    def _alert_chosen(self, message: AlertsPanel.AlertChosen) -> None:
        self.push_screen(AlertDetailScreen(message.alert))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Refresh now", "Poll every source now", self.action_refresh)
        yield SystemCommand("Show keys", "Every key and what each panel means", self.action_help)
        yield SystemCommand("Show signals", "Trend, drain estimate, history and largest series of every signal", self.action_signals)
        if isinstance(screen, (DashboardScreen, RunbookListScreen, RunbookScreen)):
            yield from screen.palette_commands()
        yield from self.control_commands(screen)
        yield from self.environment_commands(screen)
        yield from super().get_system_commands(screen)
