"""What every profile's end-to-end test needs: the demo backend speaking the profile's API,
the profile's config aimed at it, and recording stubs for exec actions.

Real parts only: the backend is a real HTTP server on loopback, the incident store and
audit log are real files in the test's tmp dir, and an exec action runs a real program
(a stub first on PATH that records its argv).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from console.config import AuditConfig, Config, IncidentConfig, load_config, profile_config_path
from console.demo.server import DemoServer


@contextmanager
def profile_backend(profile: str, **sim_options) -> Iterator[DemoServer]:
    """The demo backend speaking `profile`'s API, frozen (speed 0) unless told otherwise."""
    options = {"speed": 0, "seed": 7, "warmup_s": 120, **sim_options}
    server = DemoServer(port=0, profile=profile, **options).start()
    try:
        yield server
    finally:
        server.stop()


def profile_config(profile: str, server_url: str, tmp_path: Path, environment: str | None = None) -> Config:
    """profiles/NAME/config.toml in one of its environments, aimed at the demo backend,
    with its incident store and audit log in `tmp_path`."""
    config = load_config(profile_config_path(profile))
    if environment is not None:
        config = config.for_environment(environment)
    return config.pointed_at(server_url).model_copy(
        update={
            "refresh_interval_s": 0.5,
            "incident": IncidentConfig(state_path=str(tmp_path / "state.db")),
            "audit": AuditConfig(path=str(tmp_path / "audit.jsonl")),
        }
    )


def recording_stub(bin_dir: Path, program: str, output: str = "") -> Path:
    """An executable `program` in `bin_dir` that appends its argv (as one JSON line) to
    `<program>.calls` beside it and prints `output`. Returns the calls file."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    calls = bin_dir / f"{program}.calls"
    script = bin_dir / program
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"with open({str(calls)!r}, 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"print({output!r})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return calls


def recorded_calls(calls: Path) -> list[list[str]]:
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def stubs_first_on_path(monkeypatch, bin_dir: Path) -> None:
    """Put `bin_dir` first on PATH for this test (the executor copies the environment when
    the app is built, so call this before building it)."""
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
