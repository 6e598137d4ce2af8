"""Benchmark: how long `opsconsole evidence` takes, whole process, against the demo backend.

    .venv/bin/python -m bench evidence            # full: 5 bundles per case
    .venv/bin/python -m bench --quick evidence    # smoke: 1 bundle per case

Two cases: every source answering (a fleet of 100 workers with 1 000 held leases, 10 000
dead letters), and the same with /v1/jobs hanging for 60 s while the API's timeout is 3 s.
Wall time of the command is from launch to exit, Python's start-up included, as an operator
waits for it. The hung case is also timed in this process (`make_bundle` alone, no start-up
noise): the hung source must cost its timeout plus at most the half-second grace for a
trickling answer, plus the writing. The console's state and audit log go to a temporary
data dir.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.backend import HERE, DemoBackend

NAME = "evidence"
TIMEOUT_S = 3.0
TARGETS = {"answering_median_s": ("<=", 2.0), "hung_in_process_max_s": ("<=", TIMEOUT_S + 1.0)}


def _bundle(backend: DemoBackend, out: Path) -> tuple[float, int, int]:
    """(seconds, files, bytes) of one bundle made by the CLI."""
    env = {**os.environ, "XDG_DATA_HOME": str(out / "data")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "console.cli", *backend.console_args(), "evidence", "--out", str(out)],
        cwd=HERE, env=env, capture_output=True, text=True, timeout=120,
    )
    took = time.perf_counter() - started
    found = re.search(r"evidence bundle: (\S+) \(", done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"opsconsole evidence failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    files = [p for p in Path(found.group(1)).iterdir()]
    return took, len(files), sum(p.stat().st_size for p in files)


def _in_process(backend: DemoBackend, out: Path) -> float:
    from console.config import load_config
    from console.config_actions import AuditConfig, IncidentConfig
    from console.evidence import make_bundle

    config = load_config(backend.config_path).model_copy(
        update={"incident": IncidentConfig(state_path=str(out / "state.db")), "audit": AuditConfig(path=str(out / "audit.jsonl"))}
    )
    started = time.perf_counter()
    make_bundle(config, out)
    return time.perf_counter() - started


def run(quick: bool) -> dict[str, Any]:
    rounds = 1 if quick else 5
    figures: dict[str, Any] = {}
    with DemoBackend("--workers", "100", "--held-leases", "1000", "--dlq-preload", "10000") as backend, \
            tempfile.TemporaryDirectory(prefix="opsconsole-evidence-") as tmp:
        answering = [_bundle(backend, Path(tmp) / "ok") for _ in range(rounds)]
        times = [took for took, _, _ in answering]
        figures["answering_median_s"] = round(statistics.median(times), 2)
        figures["answering_max_s"] = round(max(times), 2)
        figures["files"] = answering[-1][1]
        figures["bundle_kb"] = round(answering[-1][2] / 1024, 1)
        backend.set_faults({"route": "/v1/jobs", "kind": "latency", "seconds": 60})
        hung = [_bundle(backend, Path(tmp) / "hung")[0] for _ in range(rounds)]
        figures["hung_source_median_s"] = round(statistics.median(hung), 2)
        figures["hung_source_max_s"] = round(max(hung), 2)
        in_process = [_in_process(backend, Path(tmp) / "in-process") for _ in range(rounds)]
        figures["hung_in_process_median_s"] = round(statistics.median(in_process), 2)
        figures["hung_in_process_max_s"] = round(max(in_process), 2)
        figures["api_timeout_s"] = TIMEOUT_S
    return figures
