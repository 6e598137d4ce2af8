"""Switching between the config's environments (prod-eu, prod-us, staging ...).

`e` on the dashboard (or the palette) opens a picker with the environment on screen
marked. Choosing another rebuilds everything that talks to a backend from the config as
loaded (console/environments.py): the executor with that environment's base URL, token and
vars, a new poller (new sources, Alertmanager and an empty signal history) and a
fresh dashboard that waits for the new environment's first data, so no
number from the old one is ever shown under the new name. The incident store, the audit
log and the read-only policy are the host's and stay; a break-glass unlock ends, since its
reason was given for the other environment.

Switching is offered only on the dashboard (no other screen is open then, so none holds
the old environment's data or controls) and is refused while an action is being sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import WorkerState

from console.config import Config, ConfigError, check_tokens
from console.environments import is_production
from console.poller import Poller
from console.text import plain
from screens.controls_app import ControlsApp
from screens.dashboard import DashboardScreen
from screens.modals.pick import PickScreen


class EnvironmentsApp(ControlsApp):
    BINDINGS = [
        Binding("e", "switch_environment", "Env", id="switch_environment",
                tooltip="Switch to another environment of this config (prod-eu, prod-us, staging ...)"),
    ]

    # Set by app.py, which owns the polling (and restart_polling()).
    config: Config
    poller: Poller
    dashboard: DashboardScreen

    def setup_environments(self, config: Config, loaded: Config | None) -> None:
        self.loaded_config = loaded or config
        """The config as loaded, before any environment was laid over it: every switch starts here."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_environment":
            if len(self.loaded_config.environments) < 2:
                return False  # nothing to switch to: the key is not shown
            return not self.screen_stack or self.screen is getattr(self, "dashboard", None)
        return super().check_action(action, parameters)

    def _busy(self) -> str:
        """Why switching must wait ("" when it need not)."""
        sending = self.controls.executor.in_flight or any(
            worker.group == "action" and worker.state in (WorkerState.PENDING, WorkerState.RUNNING) for worker in self.workers
        )
        return f"an action is still being sent to {self.controls.config.environment}" if sending else ""

    def action_switch_environment(self) -> None:
        busy = self._busy()
        if busy:
            self.notify(f"Not switched: {busy}. Switch once it has finished.", severity="warning", markup=False)
            return
        current = self.controls.config.environment
        width = max(len(name) for name in self.loaded_config.environments)
        options = []
        for name, environment in self.loaded_config.environments.items():
            where = environment.base_url or self.loaded_config.api.base_url
            label = f"{'●' if name == current else ' '} {plain(name, 40):<{width}}  {plain(where, 60)}"
            notes = [note for note, applies in (("production", is_production(name)), ("on screen", name == current)) if applies]
            options.append((name, label + (f"  ({', '.join(notes)})" if notes else "")))
        # The cursor starts on the environment on screen: Enter alone changes nothing.
        self.push_screen(PickScreen(f"Switch environment (now {plain(current, 40)})", options, start=current), self._environment_picked)

    def _environment_picked(self, name: str | None) -> None:
        if name is None:
            return
        if name == self.controls.config.environment:
            self.notify(f"Already on {name}.", timeout=3, markup=False)
            return
        # The picker is still on screen while this runs: switch once it has gone.
        self.call_after_refresh(self.switch_environment, name)

    def switch_environment(self, name: str) -> None:
        busy = self._busy()
        if busy:
            self.notify(f"Not switched: {busy}. Switch once it has finished.", severity="warning", markup=False)
            return
        try:
            config = self.loaded_config.for_environment(name)
            check_tokens(config)  # an unreadable token file: said now, and the console stays where it was
        except (ValueError, ConfigError) as exc:
            self.notify(plain(str(exc), 300), title=f"Not switched to {plain(name, 40)}", severity="error", markup=False)
            return
        before, old = self.controls.config.environment, self.controls
        self.controls = old.for_environment(config)
        self.controls.policy.relock(f"switched environment to {name}")
        self.controls.record_switch(before)
        self.run_worker(old.aclose(), group="environment-close", exit_on_error=False)
        self._watch(config)
        self.show_mode()
        self.notify(f"Now on {name}; waiting for its first data.", title="Environment", timeout=4, markup=False)

    def _watch(self, config: Config) -> None:
        """A new poller (empty history) and a fresh dashboard in place of the old ones."""
        old_poller = self.poller
        self.config = config
        self.poller = Poller(config, clock=self._clock)
        self.restart_polling()  # app.py: a snapshot of the old poller still on its way is dropped
        self.run_worker(old_poller.aclose(), group="environment-close", exit_on_error=False)
        self.dashboard = DashboardScreen(config, self._clock)
        self.switch_screen(self.dashboard)

    def environment_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if screen is not getattr(self, "dashboard", None) or len(self.loaded_config.environments) < 2:
            return
        current = self.controls.config.environment
        yield SystemCommand("Switch environment", f"Now {plain(current, 40)}: pick another", self.action_switch_environment)
        for name in self.loaded_config.environments:
            if name != current:
                yield SystemCommand(f"Switch to {plain(name, 40)}", "Watch and act on this environment instead", lambda n=name: self.switch_environment(n))
