"""Benchmark: switching environments, key to the new environment's numbers on screen.

    .venv/bin/python -m bench environments            # full: 20 switches
    .venv/bin/python -m bench --quick environments    # smoke: 2 switches

Two demo backends, each its own process: prod-eu with 40 dead letters, staging with none
(a number that tells them apart). The console is started on a config with both as
[environments]; each round presses `e`, then the other environment's row and Enter, and
takes the time from Enter until the header names the other environment
(`switch_to_header`) and until its dead-letter count is on screen (`switch_to_data`: a new
poller's first poll). RSS before and after all the switches shows whether the old pollers
and executors are let go.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

from bench.backend import DemoBackend
from bench.terminal import ConsoleProcess

NAME = "environments"
TARGETS = {"switch_to_data_median_ms": ("<=", 1000.0)}
COUNTS = {"prod-eu": 40, "staging": 0}


def config_text(base: str, urls: dict[str, str]) -> str:
    text = re.sub(r'(?m)^environment = ".*"', f'environment = "{next(iter(urls))}"', base)
    text = re.sub(r"(?m)^refresh_interval_s = \S+", "refresh_interval_s = 2.0", text)
    return text + "".join(f'\n[environments.{name}]\nbase_url = "{url}"\n' for name, url in urls.items())


def switch_times(console: ConsoleProcess, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    on = "prod-eu"
    for _ in range(rounds):
        target = "staging" if on == "prod-eu" else "prod-eu"
        console.pump(0.5)
        console.send(b"e")
        if console.wait_until(lambda text: "Switch environment" in text, timeout=10) is None:
            raise SystemExit("the environment picker never opened:\n" + console.text())
        console.send(b"\x1b[B" if target == "staging" else b"\x1b[A")  # the picker opens on the current row
        console.pump(0.2)
        sent = time.perf_counter()
        console.send(b"\r")
        header = data = None
        deadline = sent + 15
        while data is None and time.perf_counter() < deadline:
            console.pump(0.002)
            text = console.text()
            first = text.splitlines()[0]
            if header is None and f" {target} (" in first:
                header = time.perf_counter()
            if header is not None and f" {target} (" in first and f"Dead letters {COUNTS[target]} " in text:
                data = time.perf_counter()
        if data is None:
            raise SystemExit(f"{target}'s data never showed:\n" + console.text())
        times.setdefault("switch_to_header", []).append((header - sent) * 1000)
        times.setdefault("switch_to_data", []).append((data - sent) * 1000)
        on = target
    return times


def run(quick: bool) -> dict[str, Any]:
    rounds = 2 if quick else 20
    figures: dict[str, Any] = {}
    with DemoBackend("--dlq-preload", str(COUNTS["prod-eu"])) as eu, DemoBackend("--seed", "2") as staging:
        config = eu.config_path.with_name("environments.toml")
        config.write_text(config_text(eu.config_path.read_text(), {"prod-eu": eu.url, "staging": staging.url}))
        console = ConsoleProcess(["--config", str(config)]).start()
        try:
            if console.wait_until(lambda text: f"Dead letters {COUNTS['prod-eu']} " in text, timeout=30) is None:
                raise SystemExit("the dashboard never showed data:\n" + console.text())
            console.pump(1.0)
            rss_before = console.rss_mb()
            for key, values in switch_times(console, rounds).items():
                figures[f"{key}_median_ms"] = round(statistics.median(values), 1)
                figures[f"{key}_max_ms"] = round(max(values), 1)
            console.pump(2.0)
            figures["rss_before_mb"] = round(rss_before, 1)
            figures["rss_after_mb"] = round(console.rss_mb(), 1)
        finally:
            console.stop()
    figures["switches"] = rounds
    return figures
