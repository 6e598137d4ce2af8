"""The benchmarks work: each runs in its quick smoke mode, all four at once (seconds).
Figures come from full runs (`python -m bench`), reported in the README; nothing here
asserts a speed."""

from __future__ import annotations

import json
import subprocess
import sys

from bench.__main__ import BENCHMARKS
from bench.report import RESULTS
from bench.terminal import ROOT


def test_every_benchmark_runs_in_quick_mode():
    for name in BENCHMARKS:
        (RESULTS / f"{name}_quick.json").unlink(missing_ok=True)
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "bench", "--quick", name], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for name in BENCHMARKS
    }
    for name, run in runs.items():
        output, _ = run.communicate(timeout=180)
        assert run.returncode == 0, output
        assert f"== {name}" in output
        record = json.loads((RESULTS / f"{name}_quick.json").read_text())
        assert record["quick"] is True
        numbers = [value for value in record["figures"].values() if isinstance(value, (int, float))]
        assert numbers and all(value >= 0 for value in numbers), record
