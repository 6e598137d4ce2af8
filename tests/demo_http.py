"""Asking a demo backend over HTTP as any client would: reads, mutations, a scenario for a
while, and every curl a profile's runbooks tell the operator to run (a runbook command that
does not work against its own system is a bug)."""

from __future__ import annotations

import shlex

import httpx

from console.config import profile_config_path
from console.demo.server import DemoServer
from console.runbooks import load_runbook, runbook_files


def get(server: DemoServer, path: str) -> httpx.Response:
    return httpx.get(server.url + path, timeout=5)


def post(server: DemoServer, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(server.url + path, json=body or {}, timeout=5)


def advance(server: DemoServer, seconds: float, scenario: str | None = None) -> None:
    """Switch to `scenario` (if given), then move simulated time `seconds` forward."""
    if scenario:
        post(server, "/sim/scenario", {"scenario": scenario}).raise_for_status()
    post(server, "/sim/advance", {"seconds": seconds}).raise_for_status()


DEMO_URL = "http://127.0.0.1:8080"  # where `opsconsole sim` serves, as the runbooks write it


def curl_commands(profile: str) -> list[str]:
    """The URL of every curl line in a profile's runbooks, so a test can ask the demo each."""
    folder = profile_config_path(profile).parent / "runbooks"
    urls = []
    for path in runbook_files(folder):
        runbook = load_runbook(path, folder)
        steps = [step for section in runbook.sections for step in _all(section.steps)]
        for line in (line for step in steps for command in step.commands for line in command.splitlines()):
            if line.strip().startswith("curl "):
                urls += [arg for arg in shlex.split(line) if arg.startswith(DEMO_URL)]
    return urls


def _all(steps):
    for step in steps:
        yield step
        yield from _all(step.steps)
