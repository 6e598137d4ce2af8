"""A signal tile: value and unit coloured by threshold, a sparkline of the history window,
where it is heading (↑17m, drains in ~7m), and what the number is about when its reading
says so (model 2026.11.2)."""

from __future__ import annotations

from rich.text import Text

from console.format import drain_text, resample, sparkline, trend_short, value_words
from console.models import Level, SignalReading
from console.text import plain
from screens.widgets.quiet_static import QuietStatic

LEVEL_STYLES = {Level.OK: "bold green", Level.WARN: "bold yellow", Level.CRIT: "bold red", Level.NODATA: "dim"}


def value_text(reading: SignalReading, width: int = 80) -> Text:
    """"412 jobs CRIT": the value, its unit (dropped first when `width` is short) and the
    level word for monochrome terminals; why there is no value when there is none."""
    if reading.value is None:
        return Text(reading.note or "no data", style="dim italic")
    style = LEVEL_STYLES[reading.level]
    value, unit, level = value_words(reading)
    if len(value + unit + level) > width:
        unit = ""
    return Text.assemble((value, style), (unit, "dim"), (level, style))


def about_text(labels: tuple[tuple[str, str], ...], room: int) -> str:
    """"model 2026.11.2", or only the values ("2026.11.2") when that does not fit in `room`."""
    if not labels:
        return ""
    full = " ".join(f"{plain(key, 20)} {plain(value, 40)}" for key, value in labels)
    return full if len(full) <= room else " ".join(plain(value, 40) for _, value in labels)


class SignalTile(QuietStatic):
    """Three lines; at 80 columns a tile may have only 12, so the unit and the trend's
    duration give way before the level word and the drain estimate do."""

    def show(self, reading: SignalReading, stale_marker: str) -> None:
        for level in Level:
            self.set_class(level is reading.level, f"-{level.value}")
        stale = bool(stale_marker or reading.error)
        self.set_class(stale, "-stale")
        width = max(1, self.content_size.width or 12)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(plain(reading.title), style="bold")
        if stale:
            text.append(" stale", style="bold red")
        text.append("\n")
        text.append_text(value_text(reading, width))
        text.append("\n")
        if reading.error:
            # The query's own failure (a PromQL error, a timeout) on this tile only.
            text.append(plain(reading.error, 200), style="red")
        else:
            suffix = self._heading(reading, width)
            about = about_text(reading.labels, width - len(suffix) - 1)
            if about and len(about) + 1 + len(suffix) > width:
                suffix = ""  # which model the number is about matters more than its trend
            spark_width = max(0, width - sum(len(part) + 1 for part in (about, suffix) if part))
            spark = sparkline(resample(reading.history, spark_width), spark_width)
            parts = [(about, "cyan"), (spark, LEVEL_STYLES[reading.level]), (suffix, "bold")]
            text.append_text(Text(" ").join(Text(part, style=style) for part, style in parts if part))
        self.show_text(text)

    @staticmethod
    def _heading(reading: SignalReading, width: int) -> str:
        """"↑17m", or for a backlog "↑17m no drain" / "↓ drains in ~7m", shortened to fit."""
        trend = trend_short(reading.trend)
        drain = drain_text(reading.trend, reading.value) if reading.drain else ""
        full = " ".join(part for part in (trend, drain) if part)
        if len(full) <= width - 3 or not drain:
            return full
        return f"{trend[:1]}{drain.removeprefix('drains in ')}"
