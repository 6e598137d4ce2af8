"""Every signal in full: value, trend, drain estimate, the whole history window as a
sparkline, the worst series when a query answers several (per tenant, shard, stage), and
what a json signal's one number is about (model=2026.11.2)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from console.format import drain_text, duration, number, resample, sparkline, trend_long
from console.models import SignalReading, Snapshot
from console.text import plain
from screens.widgets.mode_line import ModeLine
from screens.widgets.quiet_static import QuietStatic
from screens.widgets.signal_tile import LEVEL_STYLES, value_text


def signal_text(reading: SignalReading, width: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(plain(reading.title, 60), style="bold")
    text.append("  ")
    text.append_text(value_text(reading))
    text.append("  " + trend_long(reading.trend))
    if reading.drain and (drain := drain_text(reading.trend, reading.value)):
        text.append(", " + drain, style="bold")
    if reading.labels:
        text.append("  " + plain(", ".join(f"{k}={v}" for k, v in reading.labels), 200), style="cyan")
    if reading.error:
        text.append("\n  " + plain(reading.error, 500), style="bold red")
    spark_width = max(10, width - 4)
    if reading.history:
        covered = reading.history[-1][0] - reading.history[0][0]
        text.append("\n  " + sparkline(resample(reading.history, spark_width), spark_width), style=LEVEL_STYLES[reading.level])
        text.append(f"\n  last {duration(covered)}, {len(reading.history)} points", style="dim")
    if reading.series:
        shown = len(reading.series)
        # Worst first: the largest when high is bad, the smallest when low is.
        counted = f"{shown} series" if shown == reading.series_count else f"worst {shown} of {reading.series_count} series"
        text.append(f"\n  {counted}:", style="dim")
        for series in reading.series:
            labels = ", ".join(f"{k}={v}" for k, v in series.labels) or "(no labels)"
            text.append(f"\n  {number(series.value):>8}  ", style="bold")
            text.append(plain(labels, 200))
    return text


class SignalsScreen(Screen):
    BINDINGS = [
        Binding("escape,s", "app.pop_screen", "Back", id="signals.back", tooltip="Back to the dashboard"),
    ]
    DEFAULT_CSS = """
    SignalsScreen #signals-mode { height: 1; background: $panel; }
    SignalsScreen .signal { padding: 0 1 1 1; }
    """

    def __init__(self, snapshot: Snapshot | None):
        super().__init__()
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        # The environment and the read-only badge stay in view here too ("am I on prod?").
        yield ModeLine(id="signals-mode")
        with VerticalScroll():
            yield QuietStatic("waiting for metrics", id="signals-waiting")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ModeLine).show_detail(Text("Signals", style="bold"))
        if self.snapshot is not None:
            self.show(self.snapshot)

    def show(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        scroll = self.query_one(VerticalScroll)
        for waiting in self.query("#signals-waiting"):
            waiting.remove()
        width = self.size.width or 80
        for reading in snapshot.signals:
            found = self.query(f"#signal-{reading.name}")
            block = found.first(QuietStatic) if found else None
            if block is None:
                block = QuietStatic(id=f"signal-{reading.name}", classes="signal")
                scroll.mount(block)
            block.show_text(signal_text(reading, width))
