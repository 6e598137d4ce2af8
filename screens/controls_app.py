"""The part of the app that changes things: incidents, read-only mode, actions and the audit log.

`OpsConsoleApp` inherits this, so app.py keeps its polling and dashboard. The flow for
every guarded action is: pick it (a key or the palette) → values it needs → a `Plan` →
the typed confirmation → an `Intent` → the executor, on a worker → `ActionFinished`.
Nothing is sent before the confirmation returns an intent, and the executor checks the
read-only lock again itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable

from console.actions import ActionError, Plan, actions_for
from console.config import Config
from console.config_actions import ActionConfig
from console.controls import Controls, build_controls
from console.execution import ActionRefused, Intent, Outcome
from console.incident import Incident
from console.incident_record import read_record
from console.models import SignalReading
from console.policy import PolicyError
from console.poller import DEAD_LETTERS, JOBS, LEASES, WORKERS
from console.status_update import STATUS_UPDATE, UpdateDue, compose_update, latest_readings, update_due
from console.text import plain
from screens.action_messages import ActionCrashed, ActionFinished, EvidenceFailed, EvidenceWritten, IncidentLoaded
from screens.modals.batch import BatchScreen
from screens.modals.confirm import ConfirmScreen
from screens.modals.pick import PickScreen
from screens.modals.prompt import PromptScreen
from screens.modals.text_view import TextViewScreen
from screens.status_update import LastUpdateRead, StatusUpdateScreen, UpdateDrafted
from screens.type_ahead import TypeAheadApp
from screens.widgets.environment_chip import environment_chip
from screens.widgets.mode_badge import mode_badge
from screens.widgets.mode_line import ModeLine
from screens.widgets.source_panel import SourcePanel

# Dashboard panel id → (catalogue panel, snapshot source).
PANELS = {"workers": ("workers", WORKERS), "leases": ("leases", LEASES), "jobs": ("jobs", JOBS), "dead-letters": ("dead_letters", DEAD_LETTERS)}
CONTROL_ACTIONS = {"incident", "row_action", "dead_letters", "no_list", "audit", "break_glass"}
LIST_WORDS = {"dead_letters": "dead-letter"}  # lists a key opens: `d`


class ControlsApp(TypeAheadApp):
    CSS_PATH = "controls.tcss"
    BINDINGS = [
        Binding("i", "incident", "Incident", id="incident", tooltip="The current incident: declare, severity, status, resolve"),
        Binding("a", "row_action", "Act", id="act", tooltip="Actions for the selected row or the whole system (guarded ones need a typed phrase)"),
        Binding("d", "dead_letters", "DLQ", id="dead_letters", tooltip="The whole dead-letter queue: filter, select, view payloads, replay"),
        # Only while the config has no [api.dead_letters]: `d` says so instead of failing.
        Binding("d", "no_list('dead_letters')", "DLQ", id="dead_letters.absent", show=False,
                tooltip="This API has no dead-letter list ([api.dead_letters] is not in the config)"),
        Binding("L", "audit", "Audit", id="audit", show=False, tooltip="This console's audit log beside the backend's"),
        Binding("b", "break_glass", "Unlock", id="break_glass", show=False, tooltip="Lift read-only for a while by typing a reason (recorded)"),
        Binding("E", "evidence", "Evidence", id="evidence", show=False, tooltip="Save an evidence bundle: health, metrics, jobs, dead letters, audit logs, the timeline"),
    ]

    def setup_controls(self, config: Config, controls: Controls | None, read_only: bool, clock: Callable[[], float]) -> None:
        self.controls = controls or build_controls(config, cli_read_only=read_only, clock=clock)
        self.incident: Incident | None = None
        self.last_update: LastUpdateRead = LastUpdateRead(None, None)
        self.update_drafts: dict[str, str] = {}
        """Status-update drafts closed with Esc, by incident id; for this run of the console only."""
        self._clock = clock
        self._writing_evidence = False

    def on_mount(self) -> None:
        self.set_interval(1.0, self.show_mode)  # a break-glass countdown, and its expiry
        self.set_interval(self.controls.config.refresh_interval_s, self.read_incident)
        self.read_incident()
        for record in self.controls.audit.unresolved()[-5:]:
            who = (record.get("operator") or {}).get("user", "?")
            targets = " ".join((record.get("targets") or [])[:3])
            self.notify(
                f"{plain(record.get('title') or record.get('action'), 40)} {plain(targets, 60)} by {plain(who, 20)} at "
                f"{plain(record.get('at', '?'), 30)}: no result was recorded. Check the backend before retrying.",
                title="Outcome unknown",
                severity="warning",
                timeout=30,
                markup=False,
            )

    async def on_unmount(self) -> None:
        await self.controls.aclose()

    # -- incident state and the badge ----------------------------------------------------

    @work(thread=True, exclusive=True, group="incident-state", exit_on_error=False)
    def read_incident(self) -> None:
        incident = self.controls.load_incident()
        self.post_message(IncidentLoaded(incident))
        if incident is not None:  # the status-update countdown runs from the last one sent
            self.post_message(LastUpdateRead(incident.id, self.controls.store.last_event_at(incident.id, STATUS_UPDATE)))

    @on(LastUpdateRead)
    def _last_update_read(self, message: LastUpdateRead) -> None:
        self.last_update = message
        self.show_mode()

    @on(IncidentLoaded)
    def _incident_loaded(self, message: IncidentLoaded) -> None:
        self.controls.policy.incident_changed(message.incident)
        self.incident = message.incident
        self.show_mode()

    def show_mode(self) -> None:
        if not self.screen_stack:  # starting up or shutting down
            return
        lock = self.controls.policy.state()  # also re-locks an expired break-glass
        badge = mode_badge(lock, self.incident, self._clock(), self._update_due(), self.controls.config.environment)
        for screen in self.screen_stack:
            screen.set_class(lock.read_only, "-read-only")
            screen.set_class(lock.mode == "break-glass", "-break-glass")
        dashboard = getattr(self, "dashboard", None)
        if dashboard is not None:
            dashboard.badge = badge
            dashboard.incident_severity = self.incident.severity if self.incident is not None else None
            if dashboard.is_current:
                dashboard.show_status()
        header = environment_chip(self.controls.config)
        if badge:
            header.append(" ")
            header.append_text(badge)
        for line in self.screen.query(ModeLine):
            line.show_badge(header)

    def _update_due(self) -> UpdateDue | None:
        incident, last = self.incident, self.last_update
        known = last.at if incident is not None and last.incident_id == incident.id else None
        return update_due(incident, known, self.controls.config.status_updates)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Console-wide keys stay out of the way of dialogs and the console's own screens.
        if not self.screen_stack:
            return True
        if action in CONTROL_ACTIONS | {"evidence"} and isinstance(self.screen, ModalScreen):
            return False
        if action == "evidence":
            from screens.incident import IncidentScreen

            return self.screen is getattr(self, "dashboard", None) or isinstance(self.screen, IncidentScreen)
        if action in CONTROL_ACTIONS and self.screen is not getattr(self, "dashboard", None):
            return False
        if action == "dead_letters":
            return self.controls.config.api.dead_letters is not None
        if action == "no_list":
            return getattr(self.controls.config.api, str(parameters[0])) is None
        return True

    # -- screens -------------------------------------------------------------------------

    def action_incident(self) -> None:
        from screens.incident import IncidentScreen

        self.push_screen(IncidentScreen(self.controls))

    def action_no_list(self, name: str) -> None:
        self.notify(f"This API has no {LIST_WORDS[name]} list: [api.{name}] is not in the config.", severity="warning")

    def action_dead_letters(self) -> None:
        from screens.dead_letters import DeadLetterScreen

        self.push_screen(DeadLetterScreen(self.controls.config))

    def action_audit(self) -> None:
        from screens.audit import AuditScreen

        self.push_screen(AuditScreen(self.controls))

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        result = super().push_screen(screen, *args, **kwargs)
        self.call_after_refresh(self.show_mode)  # the new screen shows the badge at once
        return result

    # -- status updates --------------------------------------------------------------------

    def action_status_update(self) -> None:
        """Reopen the draft kept for the open incident, else write a fresh one."""
        incident = self.incident
        if incident is not None and incident.id in self.update_drafts:
            self._open_composer(incident, self.update_drafts[incident.id], kept=True)
        else:
            self.action_fresh_status_update()

    def action_fresh_status_update(self) -> None:
        if self.incident is None:
            self.notify("No open incident: nothing to send an update about.", severity="warning")
            return
        # Read here, on the app's thread: the snapshot the dashboard shows now.
        snapshot = getattr(getattr(self, "dashboard", None), "snapshot", None)
        readings = latest_readings(snapshot, self._clock())
        declared_in, here = self.incident.environment, self.controls.config.environment
        if declared_in and declared_in != here:  # another environment's numbers are not this incident's impact
            readings = None, f"the console is on {here}, the incident is in {declared_in}"
        self._draft_update(self.incident.id, *readings)

    @work(thread=True, exclusive=True, group="update-draft", exit_on_error=False)
    def _draft_update(self, incident_id: str, readings: tuple[SignalReading, ...] | None, unavailable: str) -> None:
        controls = self.controls
        try:
            record = read_record(controls.store, controls.audit, incident_id, controls.config.runbooks.dirs, self._clock(), controls.secrets)
        except Exception as exc:  # a locked state file or an unreadable runbook must not end the console
            self.call_from_thread(self.notify, plain(f"{type(exc).__name__}: {exc}", 300), title="Status update", severity="error", markup=False)
            return
        environment = record.incident.environment or controls.config.environment
        text = compose_update(record, environment, controls.config.status_updates, readings, unavailable)
        self.post_message(UpdateDrafted(record.incident, text))

    @on(UpdateDrafted)
    def _update_drafted(self, message: UpdateDrafted) -> None:
        screen = self.screen
        if isinstance(screen, StatusUpdateScreen) and screen.incident.id == message.incident.id:
            screen.fresh_draft(message.text)  # ctrl+n in the composer
        else:
            self._open_composer(message.incident, message.text, kept=False)

    def _open_composer(self, incident: Incident, text: str, kept: bool) -> None:
        def closed(draft: str | None) -> None:
            if draft is None:  # marked sent, emptied, or a fresh draft left untouched
                self.update_drafts.pop(incident.id, None)
            else:
                self.update_drafts[incident.id] = draft

        self.push_screen(StatusUpdateScreen(self.controls, incident, text, kept), closed)

    # -- break-glass -----------------------------------------------------------------------

    def action_break_glass(self) -> None:
        lock = self.controls.policy.state()
        if lock.permanent:
            self.notify("Started with --read-only: this console cannot be unlocked.", severity="error")
            return
        if not lock.read_only:
            self.notify("The console is not read-only.")
            return

        def reason_given(reason: str | None) -> None:
            if reason is None:
                return
            try:
                until = self.controls.policy.break_glass(reason)
            except PolicyError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            minutes = round((until - self._clock()) / 60)
            self.notify(f"Read-only lifted for {minutes} min; recorded with your reason.", severity="warning")
            self.show_mode()

        reasons = ", ".join(lock.reasons)
        label = f"Read-only because: {reasons}. Why must you act now? (recorded in the timeline and audit log)"
        self.push_screen(PromptScreen(f"Break glass on {plain(self.controls.config.environment, 40)}", label, _reason_problem), reason_given)

    def action_relock(self) -> None:
        self.controls.policy.relock()
        self.show_mode()

    # -- evidence bundle -------------------------------------------------------------------

    def action_evidence(self) -> None:
        if self._writing_evidence:
            self.notify("An evidence bundle is being written already.", timeout=3)
            return
        self._writing_evidence = True
        self.notify("Writing an evidence bundle...", timeout=3)
        self._write_evidence()

    @work(thread=True, group="evidence", exit_on_error=False)
    def _write_evidence(self) -> None:
        # The same code as `opsconsole evidence` (the current incident's window), on a
        # thread of its own: keys never wait.
        from console.evidence import default_evidence_dir, make_bundle

        try:
            bundle = make_bundle(self.controls.config, default_evidence_dir(), clock=self._clock)
        except Exception as exc:  # EvidenceError, or a bug: the console must say so, not die
            self.post_message(EvidenceFailed(f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(EvidenceWritten(bundle))

    @on(EvidenceWritten)
    def _evidence_written(self, message: EvidenceWritten) -> None:
        self._writing_evidence = False
        bundle = message.bundle
        severity = "warning" if bundle.failures or bundle.not_recorded else "information"
        unrecorded = f"\nNot in the audit log or on the timeline: {plain(bundle.not_recorded, 200)}" if bundle.not_recorded else ""
        self.notify(bundle.summary() + unrecorded, title="Evidence bundle saved", severity=severity, timeout=20, markup=False)

    @on(EvidenceFailed)
    def _evidence_failed(self, message: EvidenceFailed) -> None:
        self._writing_evidence = False
        self.notify(plain(message.reason, 300), title="No evidence bundle", severity="error", markup=False)

    # -- actions ---------------------------------------------------------------------------

    def _focused_row(self) -> tuple[str, Any] | None:
        """(catalogue panel, record) under the cursor of the focused dashboard table."""
        focused = self.focused
        if not isinstance(focused, DataTable) or focused.row_count == 0:
            return None
        panel = next((node for node in focused.ancestors if isinstance(node, SourcePanel)), None)
        if panel is None or panel.id not in PANELS:
            return None
        catalogue_panel, source = PANELS[panel.id]
        key = focused.coordinate_to_cell_key(focused.cursor_coordinate).row_key.value
        snapshot = self.dashboard.snapshot
        data = snapshot.source(source).data if snapshot else None
        records = data.newest if source == DEAD_LETTERS and data is not None else data or ()
        record = next((r for r in records if getattr(r, "id", None) == key), None)
        return (catalogue_panel, record) if record is not None else None

    def _choices(self) -> list[tuple[ActionConfig, list[str]]]:
        choices: list[tuple[ActionConfig, list[str]]] = []
        row = self._focused_row()
        if row is not None:
            panel, record = row
            for action in actions_for(self.controls.config.actions, panel):
                target = getattr(record, action.target, "") or ""
                if target and not action.batch:
                    choices.append((action, [target]))
        choices += [(a, []) for a in actions_for(self.controls.config.actions, "dashboard")]
        return choices

    def action_row_action(self) -> None:
        choices = self._choices()
        if not choices:
            self.notify("No action in the catalogue fits here.")
            return
        locked = self.controls.policy.state().read_only
        note = "  (refused: read-only)" if locked else "  (guarded)"
        options = [(str(i), f"{a.title} {' '.join(t)}".strip() + ("" if a.safety == "safe" else note)) for i, (a, t) in enumerate(choices)]

        def picked(index: str | None) -> None:
            if index is not None:
                action, targets = choices[int(index)]
                self.start_action(action, targets)

        self.push_screen(PickScreen("Act on", options), picked)

    def start_catalogue_action(self, panel: str, targets: list[str], batch: bool, meta: dict[str, str] | None = None) -> None:
        action = next((a for a in actions_for(self.controls.config.actions, panel) if a.batch == batch), None)
        if action is None:
            self.notify(f"No {'batch ' if batch else ''}action for {panel.replace('_', ' ')} in the catalogue.", severity="warning")
            return
        self.start_action(action, targets, meta)

    def start_action(self, action: ActionConfig, targets: list[str], meta: dict[str, str] | None = None, values: dict[str, str] | None = None) -> None:
        values = dict(values or {})
        missing = [name for name in action.inputs if name not in values]
        if missing:
            param = action.inputs[missing[0]]

            def given(value: str | None) -> None:
                if value is not None:
                    self.start_action(action, targets, meta, {**values, missing[0]: value})

            self.push_screen(PromptScreen(action.title, param.prompt or missing[0], lambda v: _pattern_problem(v, param.pattern)), given)
            return
        executor = self.controls.executor
        try:
            plan = executor.plan(action.name, targets, values, meta)
        except ActionError as exc:
            self.notify(str(exc), title=action.title, severity="error", markup=False)
            return
        refusal = executor.refusal(plan)
        if refusal:
            self.notify(f"Not sent: {refusal}", title=action.title, severity="error", markup=False)
            return
        if action.safety == "safe":
            self.run_worker(self._send_safe(plan), group="action", exit_on_error=False)
            return
        self.push_screen(ConfirmScreen(plan, executor, executor.recent(plan), self._clock()), self._confirmed)

    def _confirmed(self, intent: Intent | None) -> None:
        if intent is None:
            self.notify("Cancelled; nothing was sent.", timeout=3)
            return
        if intent.plan.action.batch:
            self.push_screen(BatchScreen(intent, self.controls.executor), self._batch_closed)
        else:
            self.run_worker(self._send(intent), group="action", exit_on_error=False)

    async def _send(self, intent: Intent) -> None:
        try:
            outcome = await self.controls.executor.run(intent)
        except ActionRefused as exc:
            self.post_message(ActionCrashed(intent.plan.action.title, f"not sent: {exc}"))
        except Exception as exc:  # never lose the console over one action; the audit log has it
            self.post_message(ActionCrashed(intent.plan.action.title, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(ActionFinished(outcome))

    async def _send_safe(self, plan: Plan) -> None:
        try:
            outcome = await self.controls.executor.run_safe(plan)
        except Exception as exc:
            self.post_message(ActionCrashed(plan.action.title, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(ActionFinished(outcome))

    def _batch_closed(self, outcome: Outcome | None) -> None:
        if outcome is not None:
            self.post_message(ActionFinished(outcome))

    @on(ActionFinished)
    def _action_finished(self, message: ActionFinished) -> None:
        outcome = message.outcome
        plan = outcome.intent.plan
        if plan.action.safety == "safe" and outcome.ok:
            self.push_screen(TextViewScreen(f"{plan.action.title} {' '.join(plan.targets)}", outcome.results[-1].body))
            return
        self.notify(plain(outcome.summary(), 300), title=plan.action.title, severity="information" if outcome.ok else "error", markup=False)
        refresh = getattr(self.screen, "refresh_after_action", None)
        if refresh is not None:
            refresh(outcome)
        start_poll = getattr(self, "start_poll", None)
        if start_poll is not None:
            start_poll()

    @on(ActionCrashed)
    def _action_crashed(self, message: ActionCrashed) -> None:
        self.notify(plain(message.reason, 300), title=message.title, severity="error", markup=False)

    # -- command palette ---------------------------------------------------------------------

    def control_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from screens.incident import IncidentScreen

        evidence = SystemCommand("Evidence bundle", "Save health, metrics, jobs, dead letters, audit logs and the timeline", self.action_evidence)
        if isinstance(screen, IncidentScreen):
            yield from screen.palette_commands()
            yield from self._update_commands()
            yield evidence
            return
        if screen is not getattr(self, "dashboard", None):
            return
        yield SystemCommand("Incident", "Declare, change severity or status, resolve", self.action_incident)
        if self.controls.config.api.dead_letters is not None:
            yield SystemCommand("Dead letters", "The whole queue: filter, select, payloads, replay", self.action_dead_letters)
        yield SystemCommand("Audit log", "This console's audit log beside the backend's", self.action_audit)
        yield evidence
        yield from self._update_commands()
        lock = self.controls.policy.state()
        if lock.read_only and not lock.permanent:
            yield SystemCommand("Break glass", "Lift read-only for a while, with a typed reason", self.action_break_glass)
        if lock.mode == "break-glass":
            yield SystemCommand("Lock again", "End the break-glass unlock now", self.action_relock)
        for action, targets in self._choices():
            label = f"{action.title} {' '.join(targets)}".strip()
            help_text = "read only" if action.safety == "safe" else "guarded: asks for a typed phrase"
            yield SystemCommand(label, help_text, lambda a=action, t=targets: self.start_action(a, t))

    def _update_commands(self) -> Iterable[SystemCommand]:
        if self.incident is None:
            return
        if self.incident.id not in self.update_drafts:
            yield SystemCommand("Status update", f"Compose, copy, save and mark sent an update on {self.incident.id}", self.action_status_update)
            return
        yield SystemCommand("Status update", f"Reopen the draft kept for {self.incident.id}", self.action_status_update)
        yield SystemCommand("Fresh status update", "A new draft from the current state (replaces the kept one)", self.action_fresh_status_update)


def _reason_problem(value: str) -> str:
    from console.policy import MIN_REASON_CHARS

    return "" if len(" ".join(value.split())) >= MIN_REASON_CHARS else f"at least {MIN_REASON_CHARS} characters"


def _pattern_problem(value: str, pattern: str) -> str:
    import re

    return "" if re.fullmatch(pattern, value) else f"must match {pattern}"
