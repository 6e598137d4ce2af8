"""Every curl a profile's runbooks tell the operator to run, so a test can ask the demo
backend each one: a runbook command that does not work against its own system is a bug."""

from __future__ import annotations

import shlex

from console.config import profile_config_path
from console.runbooks import load_runbook, runbook_files


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
