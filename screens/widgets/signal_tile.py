"""A signal tile: value and unit coloured by threshold, and a sparkline of what was seen."""

from __future__ import annotations

from rich.text import Text

from console.format import number, sparkline
from console.models import Level, SignalReading
from console.text import plain
from screens.widgets.quiet_static import QuietStatic

LEVEL_STYLES = {Level.OK: "bold green", Level.WARN: "bold yellow", Level.CRIT: "bold red", Level.NODATA: "dim"}


class SignalTile(QuietStatic):
    def show(self, reading: SignalReading, stale_marker: str) -> None:
        for level in Level:
            self.set_class(level is reading.level, f"-{level.value}")
        self.set_class(bool(stale_marker), "-stale")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(plain(reading.title), style="bold")
        if stale_marker:
            text.append(" stale", style="bold red")
        text.append("\n")
        if reading.value is None:
            text.append(reading.note or "no data", style="dim italic")
        else:
            text.append(number(reading.value), style=LEVEL_STYLES[reading.level])
            if reading.unit:
                text.append(" " + plain(reading.unit), style="dim")
            if reading.level in (Level.WARN, Level.CRIT):
                text.append(" " + reading.level.value.upper(), style=LEVEL_STYLES[reading.level])
        width = max(1, self.content_size.width or 12)
        text.append("\n" + sparkline(reading.history, width), style=LEVEL_STYLES[reading.level])
        self.show_text(text)
