"""Real Prometheus and Alertmanager (Debian's packages) on free loopback ports, with
temporary config and storage, for tests and benchmarks.

Prometheus scrapes the demo backend every second and evaluates one alerting rule (queue
depth above a threshold) that it sends to the Alertmanager.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

QUEUE_ALERT_THRESHOLD = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin")
    if found is None:
        raise RuntimeError(f"{name} is not installed; ./scripts/test installs Debian's prometheus and prometheus-alertmanager")
    return found


class Server:
    """A child process serving HTTP on a loopback port, ready when `ready_path` answers 200."""

    def __init__(self, argv: list[str], port: int, ready_path: str, workdir: Path):
        self.argv, self.port, self.ready_path, self.workdir = argv, port, ready_path, workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Server:
        log = open(self.workdir / "server.log", "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited: {(self.workdir / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.argv[0]} not ready after {timeout}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_alertmanager(workdir: Path) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(
        "route:\n  receiver: 'null'\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n"
        "receivers:\n  - name: 'null'\n"
    )
    port = free_port()
    argv = [
        binary("prometheus-alertmanager"),
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip port: one instance, nothing to collide with
    ]
    return Server(argv, port, "/-/ready", workdir).start()


def start_prometheus(workdir: Path, target: str, alertmanager: str | None, port: int | None = None) -> Server:
    """`target` is host:port of the demo backend; `alertmanager` host:port or None."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "rules.yml").write_text(
        "groups:\n"
        "  - name: queue\n"
        "    rules:\n"
        "      - alert: QueueDepthHigh\n"
        f"        expr: oris_runtime_queue_depth > {QUEUE_ALERT_THRESHOLD}\n"
        "        labels:\n"
        "          severity: critical\n"
        "        annotations:\n"
        "          summary: 'Queue depth {{ $value }} above " + str(QUEUE_ALERT_THRESHOLD) + "'\n"
        "          runbook_url: 'https://runbooks.example/queue#rising-with-no-dispatch'\n"
    )
    alerting = f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{alertmanager}']\n" if alertmanager else ""
    (workdir / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "rule_files: ['rules.yml']\n"
        f"{alerting}"
        f"scrape_configs:\n  - job_name: demo\n    static_configs:\n      - targets: ['{target}']\n"
    )
    port = port or free_port()
    argv = [
        binary("prometheus"),
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    return Server(argv, port, "/-/ready", workdir).start()


def wait_for_scrapes(prometheus: Server, count: int = 2, timeout: float = 20.0) -> None:
    """Until Prometheus holds `count` samples of the demo's queue depth."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = httpx.get(
            prometheus.url + "/api/v1/query", params={"query": "count_over_time(oris_runtime_queue_depth[1m])"}, timeout=2
        ).json()
        result = answer["data"]["result"]
        if result and float(result[0]["value"][1]) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"Prometheus did not scrape the demo backend {count} times in {timeout}s")
