"""One runbook as a checklist: sections and nested steps, a cursor, ticks, commands to
copy, and the catalogue actions and signals its steps link.

Progress lives in the incident store only (a tick is a row there and an event on the
timeline), so every console on the host shows the same ticks on its next refresh and a
dropped SSH session loses nothing. The store is read and written on threads; a tick shows
at once and is confirmed (or taken back, with the reason) when the write returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.actions import ID_PARAM
from console.controls import Controls
from console.incident import Incident, IncidentError, IncidentStore, Tick
from console.models import Snapshot
from console.runbook_model import Runbook, Step
from console.runbook_progress import is_done, latest_ticks, progress
from console.text import plain
from screens.modals.pick import PickScreen
from screens.modals.prompt import PromptScreen
from screens.runbook_messages import ChecklistLoaded, StepTicked, TickRefused
from screens.widgets.mode_line import ModeLine
from screens.widgets.runbook_blocks import RunbookBlock, after_renderable, section_renderable, step_renderable

LatestSnapshot = Callable[[], Snapshot | None]
NO_INCIDENT = "No open incident: ticks are kept on an incident. Declare one first (i, then D); viewing still works."


def read_checklist(store: IncidentStore, runbook: str | None = None) -> tuple[Incident | None, list[Tick]]:
    incident = store.current()
    return incident, store.checklist(incident.id, runbook) if incident is not None else []


def incident_text(incident: Incident | None) -> Text:
    if incident is None:
        return Text("  no incident: view only (i, D declares one)", style="dim")
    return Text(f"  {incident.id}", style="dim")


def walk(steps: tuple[Step, ...], depth: int = 0) -> Iterator[tuple[Step, int]]:
    for step in steps:
        yield step, depth
        yield from walk(step.steps, depth + 1)


class RunbookScreen(Screen):
    """One runbook: sections and nested steps, a cursor, ticks, commands to copy, links."""

    CSS_PATH = "runbooks.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="runbook.back", tooltip="Back to the runbook list (or the dashboard)"),
        Binding("space", "tick", "Tick", id="runbook.tick", tooltip="Tick or untick the step under the cursor (kept on the open incident)"),
        Binding("a,enter", "run_action", "Action", id="runbook.action", tooltip="Run the catalogue action the step links (guarded: typed confirmation)"),
        Binding("c", "copy_command", "Copy", id="runbook.copy", tooltip="Copy the step's command to the clipboard (OSC 52, works over SSH)"),
        Binding("right_square_bracket", "section(1)", "Section", id="runbook.next_section", key_display="]", tooltip="Next section"),
        Binding("left_square_bracket", "section(-1)", "Prev section", id="runbook.prev_section", key_display="[", show=False, tooltip="Previous section"),
        Binding("down,j", "move(1)", "Down", id="runbook.down", show=False, tooltip="Next step (or the rest of a long one)"),
        Binding("up,k", "move(-1)", "Up", id="runbook.up", show=False, tooltip="Previous step (or the rest of a long one)"),
        Binding("pagedown", "page(1)", "Page down", id="runbook.page_down", show=False, tooltip="A screen further down"),
        Binding("pageup", "page(-1)", "Page up", id="runbook.page_up", show=False, tooltip="A screen further up"),
        Binding("home", "edge(0)", "Top", id="runbook.top", show=False, tooltip="The first section"),
        Binding("end", "edge(-1)", "Bottom", id="runbook.bottom", show=False, tooltip="The last step"),
    ]

    def __init__(self, controls: Controls, runbook: Runbook, section: str = "", latest_snapshot: LatestSnapshot = lambda: None):
        super().__init__()
        self.controls = controls
        self.runbook = runbook
        self.start_section = section
        self.latest_snapshot = latest_snapshot
        self.catalogue = {action.name: action for action in controls.config.actions}
        self.signal_names = frozenset(signal.name for signal in controls.config.signals)
        self.blocks: list[RunbookBlock] = []
        self.cursor = 0
        self.incident: Incident | None = None
        self.loaded = False
        self.latest: dict[str, Tick] = {}
        self.generation = 0  # ticks sent so far
        self.writing = 0  # ticks not yet confirmed by the store

    def compose(self) -> ComposeResult:
        yield ModeLine(id="runbook-mode")
        with VerticalScroll(id="runbook-view", can_focus=False):
            if self.runbook.problems:
                problems = "\n".join(f"⚠ {plain(problem, 300)}" for problem in self.runbook.problems)
                yield Static(Text(problems, style="bold yellow"), id="runbook-problems")
            for index, section in enumerate(self.runbook.sections):
                self.blocks.append(RunbookBlock(index, classes="section"))
                for step, depth in walk(section.steps):
                    self.blocks.append(RunbookBlock(index, step, depth, classes="step"))
                if section.after:
                    self.blocks.append(RunbookBlock(index, after=True, classes="after"))
            yield from self.blocks
            if not self.blocks:
                yield Static(Text("This runbook has no sections or steps.", style="dim"))
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._render_blocks()
        self._show_header()
        self.reload()
        self.set_interval(self.controls.config.refresh_interval_s, self.reload)
        if self.blocks:
            self.blocks[0].add_class("-cursor")
            self.call_after_refresh(self._open_at_section)

    def _open_at_section(self) -> None:
        if not self.start_section:
            return
        index = next((i for i, b in enumerate(self.blocks) if b.heading and self.runbook.sections[b.section_index].slug == self.start_section), None)
        if index is None:
            self.notify(f"No section {plain(self.start_section, 60)!r} in {plain(self.runbook.id, 60)}; showing the top.", severity="warning", markup=False)
            return
        self._set_cursor(index, top=True)

    # -- the store, on threads -------------------------------------------------------------

    @work(thread=True, exclusive=True, group="runbook-checklist")
    def reload(self) -> None:
        generation = self.generation
        self.post_message(ChecklistLoaded(*read_checklist(self.controls.store, self.runbook.id), generation=generation))

    @on(ChecklistLoaded)
    def _checklist_loaded(self, message: ChecklistLoaded) -> None:
        if message.generation != self.generation or self.writing:
            return  # read before a tick of ours reached the store: the next read has it
        self.loaded = True
        self.incident = message.incident
        self.latest = latest_ticks(self.runbook, message.ticks)
        self._render_blocks()
        self._show_header()

    @work(thread=True, group="runbook-tick")
    def _write_tick(self, incident_id: str, step: Step, ticked: bool) -> None:
        try:
            tick = self.controls.store.tick(incident_id, self.runbook.id, step.key, step.text, ticked, str(self.controls.operator))
        except IncidentError as exc:
            self.post_message(TickRefused(step.key, str(exc)))
        else:
            self.post_message(StepTicked(tick))

    @on(StepTicked)
    def _ticked(self, message: StepTicked) -> None:
        self.writing -= 1
        self.latest[message.tick.step] = message.tick
        self.reload()

    @on(TickRefused)
    def _tick_refused(self, message: TickRefused) -> None:
        self.writing -= 1
        self.latest.pop(message.step, None)
        self.notify(f"Not kept: {plain(message.reason, 200)}", severity="error", markup=False)
        self.generation += 1
        self.reload()

    # -- drawing ---------------------------------------------------------------------------

    def _render_blocks(self) -> None:
        snapshot = self.latest_snapshot()
        readings = {reading.name: reading for reading in snapshot.signals} if snapshot else {}
        for block in self.blocks:
            step, section = block.step, self.runbook.sections[block.section_index]
            if block.after:
                block.show("after", partial(after_renderable, section))
                continue
            if step is None:
                block.show("section", partial(section_renderable, section))
                continue
            done, tick = is_done(step, self.latest), self.latest.get(step.key)
            shown = tuple(readings.get(link.name) for link in step.links if link.kind == "signal")
            block.show(
                (done, tick, shown),
                partial(step_renderable, step, block.depth, done, tick, self.catalogue, readings, self.signal_names),
            )

    def _show_header(self) -> None:
        # Progress first: a long title is what gets cut at 80 columns.
        done = progress(self.runbook, self.latest.values())
        text = Text(f" {done} done ", style="bold reverse green" if done.done == done.total else "bold reverse")
        text.append("  " + plain(self.runbook.title, 50), style="bold")
        text.append_text(incident_text(self.incident) if self.loaded else Text("  reading the incident…", style="dim"))
        self.query_one(ModeLine).show_detail(text)

    # -- the cursor ------------------------------------------------------------------------

    def current_step(self) -> Step | None:
        return self.blocks[self.cursor].step if self.blocks else None

    def _mark(self, index: int) -> RunbookBlock:
        self.blocks[self.cursor].remove_class("-cursor")
        self.cursor = max(0, min(index, len(self.blocks) - 1))
        block = self.blocks[self.cursor]
        block.add_class("-cursor")
        return block

    def _set_cursor(self, index: int, top: bool = False, bottom: bool = False) -> None:
        if not self.blocks:
            return
        block = self._mark(index)
        view = self.query_one("#runbook-view", VerticalScroll)
        region, height = block.virtual_region, view.scrollable_content_region.height
        if top or region.height > height:
            # A block taller than the screen shows from its start (from its end going up).
            y = region.bottom - height if bottom and not top else region.y
            view.scroll_to(y=y, animate=False, immediate=True)
        else:
            view.scroll_to_widget(block, animate=False, immediate=True)

    def action_move(self, step: int) -> None:
        if not self.blocks:
            return
        view = self.query_one("#runbook-view", VerticalScroll)
        region, top, height = self.blocks[self.cursor].virtual_region, view.scroll_y, view.scrollable_content_region.height
        # Inside a block taller than the screen, the keys first scroll through the rest of it.
        if step > 0 and region.bottom > top + height:
            view.scroll_to(y=min(top + max(1, height - 2), region.bottom - height), animate=False, immediate=True)
        elif step < 0 and region.y < top:
            view.scroll_to(y=max(top - max(1, height - 2), region.y), animate=False, immediate=True)
        else:
            self._set_cursor(self.cursor + step, bottom=step < 0)

    def action_page(self, step: int) -> None:
        if not self.blocks:
            return
        view = self.query_one("#runbook-view", VerticalScroll)
        height = view.scrollable_content_region.height
        top = max(0, min(view.scroll_y + step * max(1, height - 1), view.max_scroll_y))
        view.scroll_to(y=top, animate=False, immediate=True)
        # The cursor goes to the first block that starts on the new page (or covers its top).
        starts = [i for i, block in enumerate(self.blocks) if top <= block.virtual_region.y < top + height]
        covering = [i for i, block in enumerate(self.blocks) if block.virtual_region.y <= top]
        self._mark(starts[0] if starts else covering[-1] if covering else 0)

    def action_edge(self, end: int) -> None:
        self._set_cursor(len(self.blocks) - 1 if end else 0, top=not end)

    def action_section(self, step: int) -> None:
        heads = [i for i, block in enumerate(self.blocks) if block.heading]
        later = [i for i in heads if i > self.cursor] if step > 0 else [i for i in heads if i < self.cursor]
        if later:
            self._set_cursor(later[0] if step > 0 else later[-1], top=True)

    def go_to_section(self, index: int) -> None:
        self._set_cursor(next(i for i, block in enumerate(self.blocks) if block.heading and block.section_index == index), top=True)

    # -- ticks, commands, actions ----------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_tick(self) -> None:
        step = self.current_step()
        if step is None:
            self.notify("This is a section's text, not a step: move to a step to tick it.", timeout=3)
            return
        if not self.loaded:
            self.notify("Still reading the incident state; try again in a moment.", timeout=3)
            return
        if self.incident is None:
            self.notify(NO_INCIDENT, title="Not ticked", severity="warning", timeout=8)
            return
        ticked = not is_done(step, self.latest)
        # Shown at once; the store confirms it (or refuses, and it is taken back).
        self.latest[step.key] = Tick(self.runbook.id, step.key, step.text, ticked, str(self.controls.operator), self.controls.policy.clock())
        self.generation += 1
        self.writing += 1
        self._render_blocks()
        self._show_header()
        self._write_tick(self.incident.id, step, ticked)

    def action_copy_command(self) -> None:
        step = self.current_step()
        commands = step.commands if step is not None else ()
        if not commands:
            self.notify("This step has no command to copy.", timeout=3)
            return
        if len(commands) == 1:
            self._copy(commands[0])
            return
        options = [(str(i), plain(command.splitlines()[0] if command else "", 70)) for i, command in enumerate(commands)]
        self.app.push_screen(PickScreen("Copy which command?", options), lambda i: i is not None and self._copy(commands[int(i)]))

    def _copy(self, command: str) -> None:
        if any(plain(line) != line for line in command.expandtabs(4).split("\n")):
            # What would be pasted must be what is shown: no escapes, bidi overrides or zero-widths.
            self.notify("Not copied: the command holds control or invisible characters (shown as ␛, <U+…>).", severity="error", markup=False)
            return
        self.app.copy_to_clipboard(command)
        first = command.splitlines()[0] if command else ""
        self.notify(f"Copied: {plain(first, 60)}", timeout=3, markup=False)

    def action_run_action(self) -> None:
        step = self.current_step()
        links = [link for link in step.links if link.kind == "action"] if step is not None else []
        if not links:
            self.notify("This step links no action.", timeout=3)
        elif len(links) == 1:
            self.start_linked_action(links[0].name)
        else:
            options = [(link.name, f"{plain(link.label or link.name, 50)} ({plain(link.name, 40)})") for link in links]
            self.app.push_screen(PickScreen("Run which action?", options), lambda name: name is not None and self.start_linked_action(name))

    def start_linked_action(self, name: str) -> None:
        """Through the app's one path for actions: read-only check, values, typed confirmation."""
        action = self.catalogue.get(name)
        if action is None:
            self.notify(f"{plain(name, 60)} is not in the action catalogue ([[actions]] in the config); nothing was sent.", severity="error", markup=False)
            return
        if action.batch:
            self.notify(f"{action.title} acts on a selection: choose the entries on their own screen; nothing was sent.", severity="warning", markup=False)
            return
        if action.row == "none":
            self.app.start_action(action, [])
            return
        pattern = action.params.get("id", ID_PARAM).pattern

        def given(target: str | None) -> None:
            if target:
                self.app.start_action(action, [target])

        label = f"Which {action.row.replace('_', ' ')} ({'its id' if action.target == 'id' else 'its ' + action.target})?"
        self.app.push_screen(PromptScreen(action.title, label, lambda v: "" if re.fullmatch(pattern, v) else f"must match {pattern}"), given)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Tick step", "Tick or untick the step under the cursor", self.action_tick)
        yield SystemCommand("Run the step's action", "The catalogue action the step links", self.action_run_action)
        yield SystemCommand("Copy the step's command", "To the clipboard (OSC 52)", self.action_copy_command)
        for index, section in enumerate(self.runbook.sections):
            if section.level:
                yield SystemCommand(f"Go to section {plain(section.title, 60)}", plain(self.runbook.title, 60), partial(self.go_to_section, index))
