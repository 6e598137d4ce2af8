"""`check-config` for runbooks: directories that exist, suggestions that name a runbook and
section that exist, and step links to actions and signals the config defines."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from console.config import Config, ConfigProblem
from console.runbook_model import Runbook
from console.runbooks import load_runbooks


def _known(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def check_runbooks(config: Config) -> tuple[list[Runbook], list[ConfigProblem]]:
    """The runbooks in the config's directories, and what in them and `[runbooks]` does
    not fit the config (each problem names its key and value)."""
    problems = [
        ConfigProblem(f"runbooks.dirs[{index}]", repr(directory), "not a directory")
        for index, directory in enumerate(config.runbooks.dirs)
        if not Path(directory).is_dir()
    ]
    runbooks = load_runbooks(config.runbooks.dirs)
    by_id: dict[str, Runbook] = {}
    for runbook in runbooks:
        by_id.setdefault(runbook.id, runbook)
    for index, suggestion in enumerate(config.runbooks.suggest):
        runbook = by_id.get(suggestion.runbook)
        if runbook is None:
            problems.append(
                ConfigProblem(f"runbooks.suggest[{index}].runbook", repr(suggestion.runbook), f"no such runbook (known: {_known(set(by_id))})")
            )
        elif suggestion.section and runbook.section(suggestion.section) is None:
            slugs = [section.slug for section in runbook.sections]
            problems.append(
                ConfigProblem(
                    f"runbooks.suggest[{index}].section",
                    repr(suggestion.section),
                    f"runbook {runbook.id!r} has no such section (sections: {', '.join(slugs) or 'none'})",
                )
            )
    defined = {"action": {action.name for action in config.actions}, "signal": {signal.name for signal in config.signals}}
    table = {"action": "[[actions]]", "signal": "[[signals]]"}
    for runbook in runbooks:
        for step in runbook.steps():
            for link in step.links:
                if link.name not in defined[link.kind]:
                    problems.append(
                        ConfigProblem(
                            f"runbook {runbook.id} step {step.key}",
                            repr(f"{link.kind}:{link.name}"),
                            f"no such {link.kind} in {table[link.kind]} (known: {_known(defined[link.kind])})",
                        )
                    )
    return runbooks, problems
