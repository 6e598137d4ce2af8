"""The incident screen: the current incident, its timeline, and keys to change it.

Writes go to the shared SQLite file on a thread (a locked file never blocks keys); every
console on the host shows the change on its next refresh. The timeline merges the
store's events with the guarded actions of the audit log (console/timeline.py) and is
read again every refresh, so another console's note shows here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from functools import partial

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.config_base import SEVERITIES
from console.controls import Controls
from console.incident import OPEN_STATUSES, Incident, IncidentError
from console.incident_record import read_record, read_timeline
from console.review import review_markdown
from console.text import plain
from console.timeline import TimelineEntry
from console.user_files import REVIEWS, save_text
from screens.action_messages import IncidentLoaded
from screens.modals.prompt import PromptScreen
from screens.widgets.mode_line import ModeLine

TIMELINE_SHOWN = 200  # newest events; the export has them all


def _clock_time(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M:%SZ")  # the id holds the date


def _timeline_table(entries: list[TimelineEntry]) -> Table:
    """Time, operator, kind, text; long text wraps under itself, a new UTC day gets its own row."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, style="dim")
    table.add_column(no_wrap=True, max_width=18, overflow="ellipsis", style="cyan")
    table.add_column(no_wrap=True, style="bold")
    table.add_column(ratio=1, overflow="fold")
    day = ""
    for entry in entries:
        when = datetime.fromtimestamp(entry.at, timezone.utc)
        if when.strftime("%Y-%m-%d") != day:
            day = when.strftime("%Y-%m-%d")
            table.add_row("", "", "", Text(f"── {day} UTC", style="bold dim"))
        text = Text(plain(entry.text, 400), style=_outcome_style(entry))
        table.add_row(when.strftime("%H:%M:%S"), Text(plain(entry.operator, 40)), Text(plain(entry.kind, 13)), text)
    return table


def _outcome_style(entry: TimelineEntry) -> str:
    if entry.action is None or entry.action.ok:
        return ""
    return "bold red" if entry.action.ok is False else "bold yellow"  # FAILED, or no result recorded


class IncidentScreen(Screen):
    CSS_PATH = "incident.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="incident.back", show=False, tooltip="Back to the dashboard"),
        Binding("D", "declare", "New", id="incident.declare", tooltip="Declare a new incident (title, then severity)"),
        Binding("1", "severity('SEV-1')", "SEV-1", id="incident.sev1", show=False, tooltip="Set severity SEV-1 (makes consoles read-only by default)"),
        Binding("2", "severity('SEV-2')", "SEV-2", id="incident.sev2", show=False, tooltip="Set severity SEV-2"),
        Binding("3", "severity('SEV-3')", "SEV-3", id="incident.sev3", show=False, tooltip="Set severity SEV-3"),
        Binding("4", "severity('SEV-4')", "SEV-4", id="incident.sev4", show=False, tooltip="Set severity SEV-4"),
        Binding("s", "next_status", "Status", id="incident.status", tooltip="investigating → identified → mitigating → monitoring"),
        Binding("n", "note", "Note", id="incident.note", tooltip="Add a note to the timeline"),
        Binding("u", "app.status_update", "Update", id="incident.update", tooltip="Compose a status update, or reopen the draft kept with Esc: copy, save, mark sent"),
        Binding("e", "export", "Export", id="incident.export", tooltip="Write the post-incident review (Markdown) to a file"),
        Binding("X", "resolve", "Resolve", id="incident.resolve", tooltip="Resolve the incident (asks for a closing note)"),
        Binding("E", "app.evidence", "Evidence", id="incident.evidence", tooltip="Save an evidence bundle of this incident's window"),
    ]

    def __init__(self, controls: Controls):
        super().__init__()
        self.controls = controls
        self.incident: Incident | None = None
        """The open incident the keys change."""
        self.shown: Incident | None = None
        """What the screen shows: the open incident, or else the last one resolved (to read and export)."""
        self.events: list[TimelineEntry] = []
        self._drawn: tuple[Incident | None, Incident | None, list[TimelineEntry]] | None = None
        self._audit_key: tuple[int, int] | None = None
        self._audit: list[dict] = []

    def compose(self) -> ComposeResult:
        yield ModeLine(id="incident-mode")
        yield Static(id="incident-summary")
        with VerticalScroll(id="incident-timeline"):
            yield Static(id="incident-events")
        yield Footer(compact=True)  # eight keys must fit 80 columns; 1-4 and Esc are in ? and the palette

    def on_mount(self) -> None:
        self.query_one(ModeLine).show_detail(Text("Incident", style="bold"))
        self.reload()
        self.set_interval(self.controls.config.refresh_interval_s, self.reload)

    def refresh_after_action(self, _outcome: object) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    # -- reading and writing the store, on a thread --------------------------------------

    @work(thread=True, exclusive=True, group="incident-read", exit_on_error=False)  # a locked file: next refresh
    def reload(self) -> None:
        controls = self.controls
        incident = controls.load_incident()
        shown = incident or next(iter(controls.store.recent(1)), None)
        now = controls.policy.clock()
        records = self._audit_records()
        events = read_timeline(controls.store, records, shown, now, TIMELINE_SHOWN, controls.secrets) if shown else []
        self.app.call_from_thread(self._show, incident, shown, events)

    def _audit_records(self) -> list[dict]:
        """The audit log, parsed again only when the file changed: its 4 MB tail takes ~0.3 s to parse."""
        try:
            stat = self.controls.audit.path.stat()
            key = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            key = None
        if key != self._audit_key:
            self._audit_key, self._audit = key, self.controls.audit.records()
        return self._audit

    def change(self, what: Callable[[str], Incident], describe: Callable[[Incident], str]) -> None:
        self._change(what, describe)

    @work(thread=True, group="incident-write")
    def _change(self, what: Callable[[str], Incident], describe: Callable[[Incident], str]) -> None:
        try:
            incident = what(str(self.controls.operator))
        except IncidentError as exc:
            self.app.call_from_thread(self.notify, plain(str(exc), 300), severity="error", markup=False)
            return
        self.controls.record_incident(incident, describe(incident))
        self.app.post_message(IncidentLoaded(self.controls.load_incident()))
        self.reload()

    def _show(self, incident: Incident | None, shown: Incident | None, events: list[TimelineEntry]) -> None:
        if self._drawn == (incident, shown, events) or not self.query("#incident-events"):
            return  # read every refresh: redraw only what changed, and nothing once the screen is gone
        self._drawn = (incident, shown, events)
        self.incident, self.shown, self.events = incident, shown, events
        summary = Text(no_wrap=True, overflow="ellipsis")
        if incident is None:
            summary.append("No open incident. ", style="bold")
            summary.append("D declares one." + (" Below: the last one (e exports its review)." if shown else "") + "\n")
        if shown is not None:
            summary.append(f"{shown.id} ", style="bold")
            summary.append(f" {shown.severity} ", style="bold reverse")
            summary.append(f" {shown.status}  started {_clock_time(shown.started_at)}  commander {plain(shown.commander, 40)}\n")
            if shown.environment and shown.environment != self.controls.config.environment:
                # Declared elsewhere: the console is on this environment, the incident is about that one.
                summary.append(f"declared in {plain(shown.environment, 40)}: ", style="bold yellow")
            summary.append(plain(shown.title, 200), style="bold")
        self.query_one("#incident-summary", Static).update(summary)
        timeline = self.query_one("#incident-timeline", VerticalScroll)
        at_end = timeline.scroll_y >= timeline.max_scroll_y
        self.query_one("#incident-events", Static).update(_timeline_table(events))
        if at_end:  # follow new entries unless the operator scrolled back to read
            timeline.call_after_refresh(timeline.scroll_end, animate=False)

    # -- keys ----------------------------------------------------------------------------

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Declare incident", "Open a new incident: title, then severity", self.action_declare)
        if self.shown is not None:
            yield SystemCommand("Export post-incident review", f"Write {self.shown.id} as Markdown to a file", self.action_export)
        if self.incident is None:
            return
        for severity in SEVERITIES:
            if severity != self.incident.severity:
                yield SystemCommand(f"Set severity {severity}", f"{self.incident.id} becomes {severity}", partial(self.action_severity, severity))
        for status in OPEN_STATUSES:
            if status != self.incident.status:
                yield SystemCommand(f"Set status {status}", f"{self.incident.id} is now {status}", partial(self.set_status, status))
        yield SystemCommand("Add a note", "Text for the timeline", self.action_note)
        yield SystemCommand("Resolve incident", f"Close {self.incident.id} with a note", self.action_resolve)

    def action_back(self) -> None:
        self.dismiss()

    def action_declare(self) -> None:
        def severity_given(title: str, severity: str | None) -> None:
            if severity:
                store, environment = self.controls.store, self.controls.config.environment
                self.change(
                    lambda who: store.declare(title, severity.upper(), "", who, environment),
                    lambda inc: f"declared {inc.severity}: {inc.title}",
                )

        def title_given(title: str | None) -> None:
            if title:
                self.app.push_screen(
                    PromptScreen("Declare an incident", f"Severity ({', '.join(SEVERITIES)})", _severity_problem, "SEV-2"),
                    lambda severity: severity_given(title, severity),
                )

        self.app.push_screen(PromptScreen("Declare an incident", "Title: what is happening", _title_problem), title_given)

    def action_severity(self, severity: str) -> None:
        if self.incident is not None:
            incident_id, store = self.incident.id, self.controls.store
            self.change(lambda who: store.set_severity(incident_id, severity, who), lambda inc: f"severity {inc.severity}")

    def action_next_status(self) -> None:
        if self.incident is None:
            return
        statuses = OPEN_STATUSES
        current = statuses.index(self.incident.status) if self.incident.status in statuses else -1
        self.set_status(statuses[min(current + 1, len(statuses) - 1)])

    def set_status(self, status: str) -> None:
        if self.incident is not None:
            incident_id, store = self.incident.id, self.controls.store
            self.change(lambda who: store.set_status(incident_id, status, who), lambda inc: f"status {inc.status}")

    def action_note(self) -> None:
        if self.incident is None:
            return
        incident_id, store = self.incident.id, self.controls.store

        def noted(text: str | None) -> None:
            if text:
                self.change(lambda who: _note(store, incident_id, who, text), lambda inc: f"note: {text}")

        self.app.push_screen(PromptScreen(f"Note on {incident_id}", "Text for the timeline", _title_problem), noted)

    def action_export(self) -> None:
        if self.shown is not None:
            self._export(self.shown.id)

    @work(thread=True, group="incident-export", exit_on_error=False)
    def _export(self, incident_id: str) -> None:
        controls = self.controls
        now = controls.policy.clock()
        try:
            record = read_record(controls.store, controls.audit, incident_id, controls.config.runbooks.dirs, now, controls.secrets)
            text = review_markdown(record, controls.config.environment, controls.secrets)
            path = save_text(REVIEWS, incident_id, now, text)
        except Exception as exc:  # a full disk or locked state file: say so, the console goes on
            self.app.call_from_thread(self.notify, plain(f"not exported: {exc}", 300), severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"Post-incident review written to {path}", title=incident_id, timeout=20, markup=False)

    def action_resolve(self) -> None:
        if self.incident is None:
            return
        incident_id, store = self.incident.id, self.controls.store

        def closing(note: str | None) -> None:
            if note is not None:
                self.change(lambda who: store.resolve(incident_id, who, note), lambda inc: "resolved")

        self.app.push_screen(PromptScreen(f"Resolve {incident_id}", "Closing note (Enter resolves, Esc keeps it open)"), closing)


def _note(store, incident_id: str, who: str, text: str) -> Incident:
    store.add_event(incident_id, who, "note", text)
    return store.get(incident_id)


def _title_problem(value: str) -> str:
    return "" if value else "type a few words"


def _severity_problem(value: str) -> str:
    return "" if value.upper() in SEVERITIES else f"one of {', '.join(SEVERITIES)}"
