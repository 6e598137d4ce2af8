"""Startup time and idle cost of `opsconsole --demo` in an 80x24 pseudo-terminal.

    .venv/bin/python bench/startup_idle.py            # full: 5 launches, 60 s idle
    .venv/bin/python bench/startup_idle.py --quick    # smoke: 1 launch, 5 s idle

Startup is launch → the first frame showing data from every panel (worker and lease
counts in their titles, a number on the queue-depth tile). Idle cost is measured at the
default refresh: CPU % of one core, RSS, and bytes written to the terminal per second
(what an SSH link carries). Figures are printed and saved to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.terminal import ConsoleProcess  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DATA_SHOWN = [re.compile(r"Workers \d+"), re.compile(r"Leases \d+"), re.compile(r"Dead letters [\d,]+"), re.compile(r"data \d+s old")]


def shows_data(text: str) -> bool:
    return all(pattern.search(text) for pattern in DATA_SHOWN)


def measure_startup(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        console = ConsoleProcess(["--demo"]).start()
        try:
            took = console.wait_until(shows_data, timeout=20)
            if took is None:
                raise SystemExit("the dashboard never showed data:\n" + console.text())
            times.append(took)
        finally:
            console.stop()
    return times


def measure_idle(seconds: float) -> dict[str, float]:
    console = ConsoleProcess(["--demo"]).start()
    try:
        if console.wait_until(shows_data, timeout=20) is None:
            raise SystemExit("the dashboard never showed data:\n" + console.text())
        console.pump(3)  # let start-up work settle
        cpu0, bytes0, t0 = console.cpu_seconds(), console.bytes_written, time.perf_counter()
        console.pump(seconds)
        elapsed = time.perf_counter() - t0
        return {
            "idle_seconds": round(elapsed, 1),
            "cpu_percent": round((console.cpu_seconds() - cpu0) / elapsed * 100, 2),
            "rss_mb": round(console.rss_mb(), 1),
            "terminal_bytes_per_s": round((console.bytes_written - bytes0) / elapsed, 1),
        }
    finally:
        console.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke mode: proves the benchmark works")
    args = parser.parse_args()
    runs, idle = (1, 5.0) if args.quick else (5, 60.0)
    startup = measure_startup(runs)
    result = {
        "startup_runs": runs,
        "startup_median_s": round(statistics.median(startup), 3),
        "startup_all_s": [round(t, 3) for t in startup],
        **measure_idle(idle),
    }
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    RESULTS.mkdir(exist_ok=True)
    name = "startup_idle_quick.json" if args.quick else "startup_idle.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
