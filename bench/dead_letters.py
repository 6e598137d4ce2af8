"""Benchmark 3: the dead-letter screen with 10, 10 000 and 1 000 000 entries.

    .venv/bin/python -m bench dead_letters            # full: 10 / 10 000 / 1 000 000
    .venv/bin/python -m bench --quick dead_letters    # smoke: 10 / 2 000

For each size the demo backend runs as its own process (`opsconsole sim --dlq-preload N`,
frozen), and the console in an 80x24 pseudo-terminal is pointed at it. Measured: the time
from `d` to the first page on screen, from each keystroke in the text filter to its echo
(the operator's feel while typing), from Enter to the filtered count (the server's scan),
the class filter, paging, and the console's RSS at the end. The console pages from the
server, so its memory must not follow the queue's size.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.backend import DemoBackend
from bench.terminal import ConsoleProcess

NAME = "dead_letters"
TARGETS = {
    "filter_keystroke_median_ms_max": ("<=", 50.0),
    "rss_mb_max": ("<=", 100.0),
    "rss_growth_percent": ("<=", 10.0),
}
TYPED = "p99"  # typed one key at a time into the text filter (not in its placeholder)
PAGE_SIZE = 50


def _timed(console: ConsoleProcess, keys: bytes, shown: Callable[[str], Any], what: str) -> float:
    """Milliseconds from writing `keys` to `shown(screen)` holding."""
    sent = time.perf_counter()
    console.send(keys)
    while not shown(console.text()):
        if time.perf_counter() - sent > 30:
            raise SystemExit(f"{what} never showed:\n{console.text()}")
        console.pump(0.002)
    return (time.perf_counter() - sent) * 1000


def _top_line_changes(console: ConsoleProcess) -> Callable[[str], bool]:
    before = console.text().splitlines()[0]
    return lambda text: "matching" in text.splitlines()[0] and text.splitlines()[0] != before


def measure(entries: int, pages: int) -> dict[str, Any]:
    with DemoBackend("--speed", "0", "--dlq-preload", str(entries)) as backend:
        console = ConsoleProcess(backend.console_args()).start()
        try:
            if console.wait_until(lambda t: re.search(r"Dead letters [\d,]+", t), timeout=30) is None:
                raise SystemExit("the dashboard never showed data:\n" + console.text())
            console.pump(1)
            figures: dict[str, Any] = {"entries": entries}
            figures["open_ms"] = round(_timed(console, b"d", lambda t: "page 1/" in t, "the first page"), 1)
            pages = min(pages, (entries - 1) // PAGE_SIZE)
            page_times = [
                _timed(console, b"n", lambda t, n=n: f"page {n:,}/" in t, f"page {n}") for n in range(2, pages + 2)
            ]
            if page_times:
                figures["page_median_ms"] = round(statistics.median(page_times), 1)
            figures["class_filter_ms"] = round(_timed(console, b"c", _top_line_changes(console), "the class filter"), 1)
            console.send(b"/")
            console.pump(0.3)  # the filter box takes focus
            keystrokes = []
            for index in range(len(TYPED)):
                typed = TYPED[: index + 1]
                echoed = lambda t, typed=typed: typed in t.splitlines()[1]  # noqa: E731 - the filter line
                keystrokes.append(_timed(console, typed[-1].encode(), echoed, "a typed key"))
                console.pump(0.05)
            figures["filter_keystroke_median_ms"] = round(statistics.median(keystrokes), 1)
            figures["filter_keystroke_max_ms"] = round(max(keystrokes), 1)
            figures["filter_apply_ms"] = round(_timed(console, b"\r", _top_line_changes(console), "the text filter"), 1)
            console.pump(1)
            figures["rss_mb"] = round(console.rss_mb(), 1)
            return figures
        finally:
            console.stop()


def run(quick: bool) -> dict[str, Any]:
    sizes = (10, 2_000) if quick else (10, 10_000, 1_000_000)
    rows = [measure(entries, pages=2 if quick else 20) for entries in sizes]
    figures: dict[str, Any] = {}
    for row in rows:
        label = f"{row.pop('entries')}"
        figures.update({f"{label}_{key}": value for key, value in row.items()})
    rss = [figures[f"{n}_rss_mb"] for n in sizes]
    figures["filter_keystroke_median_ms_max"] = max(figures[f"{n}_filter_keystroke_median_ms"] for n in sizes)
    figures["rss_mb_max"] = max(rss)
    figures["rss_growth_percent"] = round((rss[-1] - rss[0]) / rss[0] * 100, 1)
    return figures
