"""Benchmark 6: the baseline. The same data watched the way the runbooks do it today,
`watch -n 2` over curl and jq, against the console, side by side.

    .venv/bin/python -m bench baseline            # full: 60 s each
    .venv/bin/python -m bench --quick baseline    # smoke: 2 s each

Both run in an 80x24 pseudo-terminal against the same demo backend (speed 1, healthy),
for the same time. CPU counts `watch` and every curl, jq and shell it started; terminal
bytes are what each writes to its terminal. jq comes from apt-get if it is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from typing import Any

from bench.backend import DemoBackend
from bench.terminal import ConsoleProcess

NAME = "baseline"
TARGETS: dict[str, tuple[str, float]] = {}

# What the dashboard shows: health, the signal metrics, workers, leases, dead letters.
WATCHED = (
    "curl -s {url}/healthz | jq -c '{{status, checks}}'; "
    "curl -s {url}/metrics | grep -E '^oris_runtime_(queue_depth|terminal_error_rate|lease_conflict_rate|"
    "recovery_latency_ms|backpressure_total)'; "
    "curl -s {url}/v1/workers | jq -r '.now as $now | .workers[] | [.id, .state, .last_heartbeat_at, "
    ".current_job_id, .leases_held] | @tsv'; "
    "curl -s {url}/v1/leases | jq -r '.leases[] | [.job_id, .worker_id, .acquired_at, .expires_at] | @tsv'; "
    "curl -s '{url}/v1/dlq?limit=5' | jq -r '\"dead letters: \\(.total)\", (.items[] | [.last_failed_at, "
    ".error_class, .job_id, .message] | @tsv)'"
)


def ensure_tools() -> None:
    if shutil.which("jq") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "jq"], check=False, capture_output=True)
    missing = [tool for tool in ("watch", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"the baseline needs {', '.join(missing)} (apt-get install procps curl jq)")


def measure(process: ConsoleProcess, shown: re.Pattern[str], seconds: float, settle: float) -> dict[str, float]:
    process.start()
    try:
        if process.wait_until(lambda text: shown.search(text), timeout=30) is None:
            raise SystemExit("nothing showed up:\n" + process.text())
        process.pump(settle)
        cpu0, bytes0, t0 = process.cpu_seconds(), process.bytes_written, time.perf_counter()
        process.pump(seconds)
        elapsed = time.perf_counter() - t0
        return {
            "cpu_percent": round((process.cpu_seconds() - cpu0) / elapsed * 100, 2),
            "terminal_bytes_per_s": round((process.bytes_written - bytes0) / elapsed, 1),
        }
    finally:
        process.stop()


def run(quick: bool) -> dict[str, Any]:
    ensure_tools()
    seconds, settle = (2.0, 0.5) if quick else (60.0, 3.0)
    with DemoBackend() as backend:
        watch = ConsoleProcess(["-n", "2", WATCHED.format(url=backend.url)], program=["watch"])
        console = ConsoleProcess(backend.console_args())
        figures: dict[str, Any] = {"seconds_each": seconds}
        for label, value in measure(watch, re.compile(r"w-01\s"), seconds, settle).items():
            figures[f"watch_curl_jq_{label}"] = value
        for label, value in measure(console, re.compile(r"Workers \d+"), seconds, settle).items():
            figures[f"console_{label}"] = value
    return figures
