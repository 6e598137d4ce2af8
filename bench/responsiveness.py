"""Benchmark 5: responsiveness with one source hanging: key press → screen change.

    .venv/bin/python -m bench responsiveness            # full: 20 presses of each key
    .venv/bin/python -m bench --quick responsiveness    # smoke: 1 press

The demo backend answers /metrics only after 60 s (fault injection: latency longer than
the 3 s timeout), so a poll is nearly always waiting on it. `?` is pressed and the time
until the keys screen is on the terminal (as the emulator reads it; `_first_byte`: until
the console starts writing) is taken, then `?`
again until the dashboard is back, and the same closing with Esc. The same with no
fault, for reference.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

from bench.backend import DemoBackend
from bench.terminal import ConsoleProcess

NAME = "responsiveness"
TARGETS = {"hanging_open_median_ms": ("<=", 100.0), "hanging_close_median_ms": ("<=", 100.0)}
HELP_SHOWN = "Poll every source now"  # a tooltip only the keys screen shows


def press_times(console: ConsoleProcess, presses: int) -> dict[str, list[float]]:
    """Milliseconds from writing each key to the screen showing its effect."""
    opened, closed = (lambda text: HELP_SHOWN in text), (lambda text: HELP_SHOWN not in text)
    steps = [
        ("open", b"?", opened),
        ("close", b"?", closed),
        ("open", b"?", opened),
        # A lone ESC byte could start an escape sequence: Textual waits up to 100 ms for
        # more before taking it as the Esc key, and the operator feels that wait.
        ("esc_close", b"\x1b", closed),
    ]
    times: dict[str, list[float]] = {}
    for _ in range(presses):
        for name, key, shown in steps:
            console.pump(0.3)  # land presses at different points of the poll cycle
            written, first = console.bytes_written, None
            sent = time.perf_counter()
            console.send(key)
            deadline = sent + 5
            while not shown(console.text()) and time.perf_counter() < deadline:
                console.pump(0.002)
                if first is None and console.bytes_written > written:
                    first = time.perf_counter()
            done = time.perf_counter()
            times.setdefault(name, []).append((done - sent) * 1000)
            # The console's own reaction, without the emulator digesting a full screen.
            times.setdefault(f"{name}_first_byte", []).append(((first or done) - sent) * 1000)
    return times


def measure(backend: DemoBackend, presses: int) -> dict[str, list[float]]:
    console = ConsoleProcess(backend.console_args()).start()
    try:
        if console.wait_until(lambda text: re.search(r"Workers \d+", text), timeout=30) is None:
            raise SystemExit("the dashboard never showed data:\n" + console.text())
        console.pump(0.5)
        return press_times(console, presses)
    finally:
        console.stop()


def run(quick: bool) -> dict[str, Any]:
    presses = 1 if quick else 20
    figures: dict[str, Any] = {}
    with DemoBackend() as backend:
        for label, faults in (("hanging", [{"route": "/metrics", "kind": "latency", "seconds": 60}]), ("healthy", [])):
            backend.set_faults(*faults)
            for key, times in measure(backend, presses).items():
                figures[f"{label}_{key}_median_ms"] = round(statistics.median(times), 1)
                figures[f"{label}_{key}_p90_ms"] = round(statistics.quantiles(times, n=10, method="inclusive")[-1], 1) if len(times) > 1 else times[0]
                figures[f"{label}_{key}_max_ms"] = round(max(times), 1)
        figures["presses_each"] = presses
    return figures
