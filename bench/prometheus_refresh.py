"""Cost of one refresh with 10 signals from Prometheus: HTTP requests and console CPU.

    .venv/bin/python -m bench prometheus_refresh            # full: 60 s at a 2 s refresh
    .venv/bin/python -m bench --quick prometheus_refresh    # smoke: 8 s

The demo backend (its own process), a real Prometheus scraping it every second and an
Alertmanager; then `opsconsole --config` with ten PromQL signals as a whole process under
an 80x24 pseudo-terminal. Requests are counted by Prometheus itself
(prometheus_http_requests_total), CPU from /proc for the console process only.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.backend import DemoBackend
from bench.metrics_servers import start_alertmanager, start_prometheus, wait_for_scrapes
from bench.terminal import ROOT, ConsoleProcess

NAME = "prometheus_refresh"
TARGETS: dict[str, tuple[str, float]] = {}  # the issue asks for the figures, sets no target
REFRESH_S = 2.0
QUERIES = {
    "queue_depth": "sum(oris_runtime_queue_depth)",
    "stage_success": "1 - sum by (stage) (rate(oris_runtime_stage_failures_total[5m])) / sum by (stage) (rate(oris_runtime_stage_runs_total[5m]))",
    "terminal_errors": "max(oris_runtime_terminal_error_rate)",
    "lease_conflicts": "max(oris_runtime_lease_conflict_rate)",
    "backpressure": "sum by (reason) (rate(oris_runtime_backpressure_total[1m])) * 60",
    "recovery": "max(oris_runtime_recovery_latency_ms)",
    "dead_letters": "sum(oris_runtime_dlq_size)",
    "dead_letters_by_class": "sum by (error_class) (oris_runtime_dlq_entries)",
    "workers_by_state": "sum by (state) (oris_runtime_workers)",
    "job_outcomes": "sum by (outcome) (rate(oris_runtime_jobs_total[1m]))",
}


def write_config(path: Path, api: str, prometheus: str, alertmanager: str) -> None:
    shipped = (ROOT / "config.toml").read_text()
    api_tables = shipped[shipped.index("[api]") : shipped.index("[metrics]")].replace("http://127.0.0.1:8080", api)
    lines = [
        'environment = "bench"',
        f"refresh_interval_s = {REFRESH_S}",
        api_tables,
        "[metrics]",
        'source = "prometheus"',
        f'url = "{prometheus}"',
        "[alertmanager]",
        f'url = "{alertmanager}"',
    ]
    for name, query in QUERIES.items():
        lines += ["[[signals]]", f'name = "{name}"', f'title = "{name[:10]}"', f"query = {json.dumps(query)}"]
    path.write_text("\n".join(lines) + "\n")


def query_requests(prometheus: str) -> dict[str, float]:
    text = httpx.get(prometheus + "/metrics", timeout=5).text
    counts = {"instant": 0.0, "range": 0.0}
    for line in text.splitlines():
        if line.startswith("prometheus_http_requests_total{"):
            if 'handler="/api/v1/query"' in line:
                counts["instant"] += float(line.rsplit(" ", 1)[1])
            elif 'handler="/api/v1/query_range"' in line:
                counts["range"] += float(line.rsplit(" ", 1)[1])
    return counts


def run(quick: bool) -> dict[str, Any]:
    seconds = 8.0 if quick else 60.0
    with tempfile.TemporaryDirectory(prefix="opsconsole-bench-") as tmp, DemoBackend("--workers", "40") as backend:
        work = Path(tmp)
        alertmanager = start_alertmanager(work / "alertmanager")
        prometheus = start_prometheus(work / "prometheus", backend.url.removeprefix("http://"), alertmanager.url.removeprefix("http://"))
        console = None
        try:
            wait_for_scrapes(prometheus)
            config = work / "config.toml"
            write_config(config, backend.url, prometheus.url, alertmanager.url)
            console = ConsoleProcess(["--config", str(config)]).start()
            if console.wait_until(lambda text: "data " in text and "old" in text, timeout=30) is None:
                raise SystemExit("the console never showed data:\n" + console.text())
            console.pump(REFRESH_S * 2)  # past start-up and the first range queries
            before, cpu0, t0 = query_requests(prometheus.url), console.cpu_seconds(), time.perf_counter()
            console.pump(seconds)
            after, cpu1, elapsed = query_requests(prometheus.url), console.cpu_seconds(), time.perf_counter() - t0
            rss_mb = console.rss_mb()
        finally:
            if console is not None:
                console.stop()
            prometheus.stop()
            alertmanager.stop()
    instant = after["instant"] - before["instant"]
    ranged = after["range"] - before["range"]
    refreshes = max(1.0, instant / len(QUERIES))  # every refresh asks one instant query per signal
    ops_api_requests = 4  # health, workers, leases, dead letters; plus one to Alertmanager
    return {
        "signals": len(QUERIES),
        "seconds": round(elapsed, 1),
        "refreshes": round(refreshes, 1),
        "prometheus_instant_per_refresh": round(instant / refreshes, 2),
        "prometheus_range_per_refresh": round(ranged / refreshes, 2),
        "http_requests_per_refresh": round((instant + ranged) / refreshes + ops_api_requests + 1, 2),
        "cpu_ms_per_refresh": round((cpu1 - cpu0) * 1000 / refreshes, 1),
        "cpu_percent": round((cpu1 - cpu0) / elapsed * 100, 2),
        "rss_mb": round(rss_mb, 1),
    }
