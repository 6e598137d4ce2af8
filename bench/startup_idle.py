"""Benchmarks 1 and 2: startup time, and the idle cost at the default refresh.

    .venv/bin/python -m bench startup_idle            # full: 5 launches, 60 s idle
    .venv/bin/python -m bench --quick startup_idle    # smoke: 1 launch, 2 s idle

Startup is launch → the first frame showing data from every panel (worker and lease
counts in their titles, the dead-letter total, the data age). Idle cost at the default
refresh (2 s): CPU % of one core, RSS, and bytes written to the terminal per second (what
an SSH link carries), first with no incident, then with a SEV-2 open (the header counts
down to the next status update). The demo backend runs as its own process (speed 1, healthy:
jobs come and go, so there is something to redraw).
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

from bench.backend import DemoBackend
from bench.terminal import ConsoleProcess

NAME = "startup_idle"
TARGETS = {
    "startup_median_s": ("<=", 1.0),
    "idle_cpu_percent": ("<=", 3.0),
    "idle_terminal_bytes_per_s": ("<=", 2048.0),
    "incident_idle_terminal_bytes_per_s": ("<=", 2048.0),
}
DATA_SHOWN = [re.compile(r"Workers \d+"), re.compile(r"Leases \d+"), re.compile(r"Dead letters [\d,]+"), re.compile(r"data \S+ old")]


def shows_data(text: str) -> bool:
    return all(pattern.search(text) for pattern in DATA_SHOWN)


def started(backend: DemoBackend) -> tuple[ConsoleProcess, float]:
    console = ConsoleProcess(backend.console_args()).start()
    took = console.wait_until(shows_data, timeout=30)
    if took is None:
        console.stop()
        raise SystemExit("the dashboard never showed data:\n" + console.text())
    return console, took


def measure_idle(console: ConsoleProcess, seconds: float, settle: float) -> dict[str, float]:
    console.pump(settle)  # let start-up work settle
    cpu0, bytes0, t0 = console.cpu_seconds(), console.bytes_written, time.perf_counter()
    console.pump(seconds)
    elapsed = time.perf_counter() - t0
    return {
        "idle_seconds": round(elapsed, 1),
        "idle_cpu_percent": round((console.cpu_seconds() - cpu0) / elapsed * 100, 2),
        "idle_rss_mb": round(console.rss_mb(), 1),
        "idle_terminal_bytes_per_s": round((console.bytes_written - bytes0) / elapsed, 1),
    }


def run(quick: bool) -> dict[str, Any]:
    runs, idle_s, settle = (1, 2.0, 0.5) if quick else (5, 60.0, 3.0)
    times = []
    with DemoBackend() as backend:
        for _ in range(runs):
            console, took = started(backend)
            times.append(took)
            console.stop()
        console, _ = started(backend)
        try:
            idle = measure_idle(console, idle_s, settle)
            # During an incident the header also counts down to the next status update.
            backend.declare("bench: queue backing up", "SEV-2")
            console.wait_until(lambda text: "update in" in text, timeout=30)
            during = {f"incident_{k}": v for k, v in measure_idle(console, idle_s, settle).items() if k != "idle_seconds"}
        finally:
            console.stop()
    return {"startup_median_s": round(statistics.median(times), 3), "startup_all_s": [round(t, 3) for t in times], **idle, **during}
