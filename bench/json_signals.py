"""Benchmark: what signals read from the API's JSON cost the console per refresh.

    .venv/bin/python -m bench json_signals            # full: 60 s each, with and without
    .venv/bin/python -m bench --quick json_signals    # smoke: 2.5 s each

The demo backend runs as its own process; in front of it, in this process, a small API
serves three JSON paths (queue counters, lag for 50 shards, model stats) and relays every
other path to the backend. The console runs twice, the shipped config both times: once as
it is, once with six `json` signals added over those three paths (tile = false, so the
screen draws the same). The difference in CPU per refresh is their cost. Refreshes are
counted at the API (requests for /metrics).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.backend import DemoBackend
from bench.terminal import ConsoleProcess

NAME = "json_signals"
TARGETS: dict[str, tuple[str, float]] = {}  # no target: a figure to watch

SIGNALS = """
[[signals]]
name = "queue_waiting"
title = "Waiting"
json = { path = "/api/jobs/metrics", value = "waiting" }
tile = false

[[signals]]
name = "queue_active"
title = "Active"
json = { path = "/api/jobs/metrics", value = "active" }
tile = false

[[signals]]
name = "jobs_completed"
title = "Completed"
json = { path = "/api/jobs/metrics", value = "completed" }
kind = "counter"
tile = false

[[signals]]
name = "stream_lag"
title = "Stream lag"
json = { path = "/api/streams/recordings", items = "shards", value = "lag", labels = { shard = "shard" } }
aggregate = "max"
tile = false

[[signals]]
name = "model_error_rate"
title = "Model errors"
json = { path = "/v1/stats", value = "model.error_rate", labels = { model = "model.version" } }
tile = false

[[signals]]
name = "ocr_failure_rate"
title = "OCR failures"
json = { path = "/v1/stats", value = "ocr.failure_rate", labels = { model = "model.version" } }
tile = false
"""


class Api(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.hits: Counter[str] = Counter()
        self.started = time.time()
        super().__init__(("127.0.0.1", 0), Handler)

    def answer(self, path: str) -> Any:
        t = time.time() - self.started
        if path == "/api/jobs/metrics":
            return {"waiting": int(80 + 60 * math.sin(t / 20)), "active": 4, "completed": int(t * 3), "failed": 2, "delayed": 0}
        if path == "/api/streams/recordings":
            return {"shards": [{"shard": str(i), "lag": int(10 * i + 5 * math.sin(t + i))} for i in range(50)]}
        if path == "/v1/stats":
            return {"model": {"version": "2026.11.2", "error_rate": 0.012}, "ocr": {"failure_rate": 0.03}, "latency_ms": {"p95": 840}}
        return None


class Handler(BaseHTTPRequestHandler):
    server: Api

    def do_GET(self) -> None:
        self.server.hits[self.path.split("?")[0]] += 1
        answer = self.server.answer(self.path)
        if answer is not None:
            status, body = 200, json.dumps(answer).encode()
        else:
            try:
                with urllib.request.urlopen(self.server.upstream + self.path, timeout=10) as reply:
                    status, body = reply.status, reply.read()
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _measure(api: Api, config: Path, seconds: float, settle: float) -> dict[str, Any]:
    console = ConsoleProcess(["--config", str(config)]).start()
    try:
        if console.wait_until(lambda text: "Workers" in text and "data" in text, timeout=60) is None:
            raise SystemExit("the dashboard never showed data:\n" + console.text())
        console.pump(settle)
        polls0, cpu0 = api.hits["/metrics"], console.cpu_seconds()
        t0 = time.perf_counter()
        console.pump(seconds)
        elapsed = time.perf_counter() - t0
        polls, cpu = api.hits["/metrics"] - polls0, console.cpu_seconds() - cpu0
        return {"refreshes": polls, "cpu_ms": cpu * 1000 / max(polls, 1), "cpu_percent": cpu / elapsed * 100, "rss_mb": console.rss_mb()}
    finally:
        console.stop()


def run(quick: bool) -> dict[str, Any]:
    seconds, settle = (2.5, 0.5) if quick else (60.0, 3.0)
    with DemoBackend(refresh_s=2) as backend:
        api = Api(backend.url)
        threading.Thread(target=api.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{api.server_address[1]}"
            shipped = re.sub(r'(?m)^base_url = ".*"', f'base_url = "{url}"', backend.config_path.read_text())
            plain, with_json = backend.config_path.with_name("plain.toml"), backend.config_path.with_name("json.toml")
            plain.write_text(shipped)
            with_json.write_text(shipped + SIGNALS)
            before = _measure(api, plain, seconds, settle)
            stats0 = api.hits["/v1/stats"]
            metrics0 = api.hits["/metrics"]
            after = _measure(api, with_json, seconds, settle)
            asked = (api.hits["/v1/stats"] - stats0) / max(api.hits["/metrics"] - metrics0, 1)
        finally:
            api.shutdown()
            api.server_close()
    return {
        "refreshes_without": before["refreshes"],
        "cpu_ms_per_refresh_without": round(before["cpu_ms"], 1),
        "refreshes_with_6_json_signals": after["refreshes"],
        "cpu_ms_per_refresh_with": round(after["cpu_ms"], 1),
        # Signed text: on a busy machine the difference can come out below zero (noise).
        "added_cpu_ms_per_refresh": f"{after['cpu_ms'] - before['cpu_ms']:+.1f}",
        "requests_per_refresh_for_/v1/stats": round(asked, 2),
        "cpu_percent_without_with": f"{before['cpu_percent']:.1f} / {after['cpu_percent']:.1f}",
        "rss_mb_without_with": f"{before['rss_mb']:.1f} / {after['rss_mb']:.1f}",
    }
