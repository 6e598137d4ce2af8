"""Benchmark 7: reading Markdown runbooks, as `opsconsole runbook show` and `lint` do.

    .venv/bin/python -m bench runbooks            # full: median of 5 runs each
    .venv/bin/python -m bench --quick runbooks    # smoke: one run, small sizes

Each figure is the wall time of a whole `opsconsole runbook ...` process (Python start-up
included, no UI): showing the largest shipped runbook, showing one large runbook (the
shipped ones one after another, repeated), and linting a directory of many runbooks.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.terminal import ROOT

NAME = "runbooks"
TARGETS: dict[str, tuple[str, float]] = {}  # the issue sets no target: figures to watch
SHIPPED = ROOT / "runbooks"


def _wall_ms(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "console.cli", "runbook", *args], cwd=ROOT, capture_output=True, text=True)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode not in (0, 1):
            raise SystemExit(f"opsconsole runbook {' '.join(args)} failed:\n{done.stderr}")
    return round(statistics.median(times), 1)


def run(quick: bool) -> dict[str, Any]:
    runs, repeats, files = (1, 2, 10) if quick else (5, 25, 200)
    shipped = sorted(SHIPPED.glob("*.md"))
    largest = max(shipped, key=lambda path: path.stat().st_size)
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.md"
        big.write_text("\n".join(path.read_text() for path in shipped) * repeats)
        many = Path(tmp) / "many"
        many.mkdir()
        for n in range(files):
            source = shipped[n % len(shipped)]
            (many / f"{n:03d}-{source.name}").write_text(source.read_text())
        return {
            f"show {largest.name} (ms)": _wall_ms(["show", str(largest)], runs),
            "large runbook lines": len(big.read_text().splitlines()),
            "show large runbook (ms)": _wall_ms(["show", str(big)], runs),
            "show --json large runbook (ms)": _wall_ms(["show", "--json", str(big)], runs),
            f"lint {files} runbooks (ms)": _wall_ms(["lint", str(many)], runs),
        }
