"""Shared fixtures: the real demo backend on a loopback port, configs pointed at it,
and a bounded wait for UI tests (a deadline, not a speed assertion)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from console.config import Config, load_config, shipped_config_path
from console.demo.server import DemoServer


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    """Incident state and the audit log default to the user data dir: a per-test one, never
    the developer's own (platformdirs reads $XDG_DATA_HOME on every call)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def demo_server() -> Iterator[DemoServer]:
    """A frozen demo backend (speed 0): numbers change only when a test advances time."""
    server = DemoServer(port=0, speed=0, seed=7, warmup_s=120).start()
    try:
        yield server
    finally:
        server.stop()


def config_for(base_url: str, **overrides: Any) -> Config:
    config = load_config(shipped_config_path()).pointed_at(base_url)
    api_overrides = overrides.pop("api", {})
    if api_overrides:
        overrides["api"] = config.api.model_copy(update=api_overrides)
    return config.model_copy(update={"refresh_interval_s": 0.5, **overrides})


async def wait_for(pilot, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and reads requests but never answers: a hung backend."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        listener.close()



def set_faults(server: DemoServer, *faults: dict[str, Any]) -> dict[str, Any]:
    """Replace the demo backend's faults (none: clear them), over HTTP like any client."""
    import httpx

    reply = httpx.post(server.url + "/sim/faults", json={"faults": list(faults)}, timeout=5)
    reply.raise_for_status()
    return reply.json()


def requests_to(server: DemoServer, path: str) -> int:
    """How many requests the demo backend received for `path`."""
    import httpx

    return httpx.get(server.url + "/sim/faults", timeout=5).json()["requests"].get(path, 0)


def screen_text(app) -> str:
    """The current screen as plain text, exactly as laid out for the terminal."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)
