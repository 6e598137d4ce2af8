"""A runbook drawn as blocks, in the file's order: one per section (heading and text), one
per step, and one for a section's text after its steps.

Everything in a runbook file is shown, every line made inert with `plain()` (a runbook is
a local file, but a pasted escape sequence or `[@click=...]` must still show as text).
Wrapped lines keep their indent, so nesting stays readable at 80 columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from console.config_actions import ActionConfig
from console.format import drain_text, trend_short
from console.incident import Tick
from console.models import SignalReading
from console.runbook_model import Section, Step, StepLink
from console.text import plain
from screens.widgets.signal_tile import value_text

INDENT = 2  # columns per nesting level


def inert_lines(text: str) -> str:
    """Several lines of untrusted text, each made inert; tabs become spaces so code lines up."""
    return "\n".join(plain(line.expandtabs(4)) for line in text.splitlines())


def step_number(step: Step) -> str:
    """"3.1" from the key "recovery/3.1"."""
    return step.key.rsplit("/", 1)[-1]


def section_renderable(section: Section) -> RenderableType:
    parts: list[RenderableType] = []
    if section.level:
        parts.append(Text(f"{'#' * section.level} {plain(section.title)}", style="bold underline"))
    if section.text:
        parts.append(Text(inert_lines(section.text)))
    return Group(*parts) if parts else Text("(empty section)", style="dim")


def after_renderable(section: Section) -> RenderableType:
    return Text(inert_lines(section.after))


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M:%SZ")


def _action_line(link: StepLink, catalogue: Mapping[str, ActionConfig]) -> Text:
    action = catalogue.get(link.name)
    text = Text("⚙ action ", style="bold")
    if action is None:
        text.append(f"{plain(link.name, 60)}: not in the catalogue", style="bold red")
        return text
    text.append(plain(action.title, 60), style="bold cyan")
    text.append(f"  {'safe' if action.safety == 'safe' else 'guarded: typed confirmation'}", style="dim")
    return text


def _signal_line(link: StepLink, reading: SignalReading | None, known: bool) -> Text:
    text = Text("◆ signal ", style="bold")
    if reading is None:
        text.append(plain(link.label or link.name, 60), style="bold")
        text.append(": waiting for data" if known else f": no signal {plain(link.name, 60)} in the config", style="dim" if known else "bold red")
        return text
    text.append(plain(reading.title, 60), style="bold")
    text.append("  ")
    text.append_text(value_text(reading))
    for part in (trend_short(reading.trend), drain_text(reading.trend, reading.value) if reading.drain else ""):
        if part:
            text.append("  " + part)
    if reading.error:
        text.append("  stale: " + plain(reading.error, 80), style="red")
    return text


def step_renderable(
    step: Step,
    depth: int,
    done: bool,
    tick: Tick | None,
    catalogue: Mapping[str, ActionConfig],
    readings: Mapping[str, SignalReading],
    signal_names: frozenset[str],
) -> RenderableType:
    body: list[RenderableType] = [Text(plain(step.text), style="dim" if done else "")]
    same_words = tick is not None and tick.text == step.text
    if tick is not None:
        who = f"{'ticked' if tick.ticked else 'unticked'} by {plain(tick.operator, 40)} at {_clock(tick.at)}"
        if same_words:
            body.append(Text(who, style="green" if tick.ticked else "yellow"))
        else:  # the runbook was edited under the tick: say so rather than count it
            body.append(Text(f"⚠ {who} when it read: {plain(tick.text, 200)}. Not counted; tick again if it applies.", style="bold yellow"))
    if step.checked and not same_words:
        body.append(Text("ticked in the runbook itself", style="dim"))
    if step.detail:
        body.append(Text(inert_lines(step.detail)))
    if step.commands:
        body.append(Text("to copy:" if len(step.commands) == 1 else f"{len(step.commands)} to copy (pick one):", style="dim"))
        body.extend(Padding(Text(inert_lines(command), style="cyan"), (0, 0, 0, 2)) for command in step.commands)
    for link in step.links:
        if link.kind == "action":
            body.append(_action_line(link, catalogue))
        else:
            body.append(_signal_line(link, readings.get(link.name), link.name in signal_names))
    # Two columns, so wrapped lines and everything under the step line up after its box.
    grid = Table.grid(expand=True)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    mark = Text("[x] " if done else "[ ] ", style="bold green" if done else "bold")
    mark.append(step_number(step) + " ", style="dim")
    grid.add_row(mark, Group(*body))
    return Padding(grid, (0, 0, 0, depth * INDENT))


class RunbookBlock(Static):
    """A section's heading and text, one step, or a section's text after its steps; the
    screen moves a cursor over these."""

    def __init__(self, section: int, step: Step | None = None, depth: int = 0, after: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.section_index = section
        self.step = step
        self.depth = depth
        self.after = after
        self.shown_key: object = None

    @property
    def heading(self) -> bool:
        return self.step is None and not self.after

    def show(self, key: object, render: Callable[[], RenderableType]) -> None:
        """Redraw only when what it shows changed (every redraw goes down the SSH link)."""
        if key != self.shown_key:
            self.shown_key = key
            self.update(render())
