"""The demo backend as its own process on loopback, and a config file pointed at it.

Benchmarks run the backend apart from the console, so the console's CPU figures are the
console's alone (with `--demo` the simulation would run inside the measured process).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent.parent  # the backend always runs from this tree


class DemoBackend:
    """`opsconsole sim` on a free loopback port; use as a context manager."""

    def __init__(self, *sim_args: str, refresh_s: float | None = None):
        self.sim_args = list(sim_args)
        self.refresh_s = refresh_s
        self.url = ""
        self.config_path = Path()
        self._proc: subprocess.Popen[str] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="opsconsole-bench-")

    def __enter__(self) -> DemoBackend:
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "console.cli", "sim", "--port", "0", *self.sim_args],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        found = re.search(r"http://[\d.]+:\d+", line)
        if not found:
            self.__exit__()
            raise SystemExit(f"the demo backend did not start: {line}{self._proc.stdout.read()}")
        self.url = found.group()
        config = re.sub(r'(?m)^base_url = ".*"', f'base_url = "{self.url}"', (HERE / "config.toml").read_text())
        if self.refresh_s is not None:
            config = re.sub(r"(?m)^refresh_interval_s = \S+", f"refresh_interval_s = {self.refresh_s}", config)
        # The shipped runbooks, and incident state and audit log of the run's own, never the user's.
        tmp = Path(self._tmp.name)
        config = re.sub(r'(?m)^dirs = \["runbooks"\]', f'dirs = ["{HERE / "runbooks"}"]', config)
        config = re.sub(r'(?m)^state_path = ""', f'state_path = "{tmp / "incidents.db"}"', config)
        config = re.sub(r'(?m)^path = ""( +# JSON Lines)', rf'path = "{tmp / "audit.jsonl"}"\1', config)
        self.config_path = tmp / "config.toml"
        self.config_path.write_text(config)
        return self

    def declare(self, title: str, severity: str) -> None:
        """Open an incident in the run's state file, as `opsconsole incident declare` does."""
        subprocess.run(
            [sys.executable, "-m", "console.cli", "--config", str(self.config_path), "incident", "declare", title, "--severity", severity],
            cwd=HERE,
            check=True,
            capture_output=True,
        )

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        self._tmp.cleanup()

    def console_args(self, *extra: str) -> list[str]:
        """Arguments for `opsconsole` watching this backend."""
        return ["--config", str(self.config_path), *extra]

    def set_faults(self, *faults: dict[str, Any]) -> None:
        httpx.post(self.url + "/sim/faults", json={"faults": list(faults)}, timeout=10).raise_for_status()

    def requests(self) -> dict[str, int]:
        """Requests received per path since the backend started."""
        return httpx.get(self.url + "/sim/faults", timeout=10).json()["requests"]

    def get(self, path: str) -> Any:
        return httpx.get(self.url + path, timeout=30).json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        reply = httpx.post(self.url + path, json=body, timeout=30)
        reply.raise_for_status()
        return reply.json()
