"""Benchmark 4: a large fleet, 1 000 workers and about 5 000 leases: the console's CPU
time per refresh.

    .venv/bin/python -m bench fleet            # full: 1 000 workers, ~5 000 leases, 60 s
    .venv/bin/python -m bench --quick fleet    # smoke: 50 workers, ~200 leases, 2.5 s

The demo backend runs 1 000 workers (each on one job, under its lease) plus leases held
on long-running jobs (`--held-leases`), at speed 1, so every refresh brings changes.
Refreshes are counted at the backend (requests to /v1/leases).
"""

from __future__ import annotations

import re
import time
from typing import Any

from bench.backend import DemoBackend
from bench.terminal import ConsoleProcess

NAME = "fleet"
TARGETS: dict[str, tuple[str, float]] = {}  # the issue sets no target: a figure to watch


def run(quick: bool) -> dict[str, Any]:
    workers, held, seconds, settle = (50, 150, 2.5, 0.5) if quick else (1000, 4300, 60.0, 3.0)
    with DemoBackend("--workers", str(workers), "--held-leases", str(held)) as backend:
        console = ConsoleProcess(backend.console_args()).start()
        try:
            shown = console.wait_until(lambda text: re.search(rf"Workers {workers:,}|Workers {workers}\b", text), timeout=60)
            if shown is None:
                raise SystemExit("the dashboard never showed the fleet:\n" + console.text())
            console.pump(settle)
            polls0, cpu0, bytes0 = backend.requests().get("/v1/leases", 0), console.cpu_seconds(), console.bytes_written
            t0 = time.perf_counter()
            console.pump(seconds)
            elapsed = time.perf_counter() - t0
            polls = backend.requests().get("/v1/leases", 0) - polls0
            cpu = console.cpu_seconds() - cpu0
            leases = len(backend.get("/v1/leases")["leases"])
            return {
                "workers": workers,
                "leases": leases,
                "seconds": round(elapsed, 1),
                "refreshes": polls,
                "cpu_ms_per_refresh": round(cpu * 1000 / max(polls, 1), 1),
                "cpu_percent": round(cpu / elapsed * 100, 1),
                "rss_mb": round(console.rss_mb(), 1),
                "terminal_bytes_per_s": round((console.bytes_written - bytes0) / elapsed, 1),
            }
        finally:
            console.stop()
