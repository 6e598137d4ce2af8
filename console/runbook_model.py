"""A runbook as the console holds it: sections of text and nested checklist steps.

`console/runbooks.py` builds these from Markdown; the runbook panel, the checklist
progress in the incident store and the post-incident export read them. Keys are stable
while a runbook's structure is unchanged, so ticks stored under them survive a restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

LinkKind = Literal["action", "signal"]


@dataclass(frozen=True)
class StepLink:
    """`[label](action:NAME)` or `[label](signal:NAME)` written in a step: the step offers
    that catalogue action (through the guarded confirmation) or shows that signal."""

    kind: LinkKind
    name: str
    label: str


@dataclass(frozen=True)
class Step:
    key: str
    """Unique within the runbook: the section's slug and the 1-based position, e.g. "recovery/3.1"."""
    text: str
    """The step's own words (inline code kept in backticks)."""
    checked: bool = False
    """`- [x]` in the source: the step starts ticked."""
    commands: tuple[str, ...] = ()
    """Inline code spans and fenced blocks that belong to the step, to copy as they are."""
    detail: str = ""
    """Paragraphs, quotes and tables inside the step, or between it and the next numbered step."""
    steps: tuple[Step, ...] = ()
    links: tuple[StepLink, ...] = ()

    def walk(self) -> Iterator[Step]:
        yield self
        for step in self.steps:
            yield from step.walk()

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "checked": self.checked,
            "commands": list(self.commands),
            "detail": self.detail,
            "links": [{"kind": link.kind, "name": link.name, "label": link.label} for link in self.links],
            "steps": [step.as_json() for step in self.steps],
        }


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    """Heading level 1-6; 0 for text before the first heading."""
    slug: str
    """Lower-case words joined by "-", unique within the runbook (a repeat gets "-2")."""
    text: str = ""
    """Paragraphs, quotes, tables and code before the first step (all of them when there is none)."""
    steps: tuple[Step, ...] = ()
    after: str = ""
    """Paragraphs, quotes, tables and code after the last step ("When the queue is under 100,
    go to Done"): shown below the steps, where the writer put them."""

    def walk(self) -> Iterator[Step]:
        for step in self.steps:
            yield from step.walk()

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "level": self.level,
            "slug": self.slug,
            "text": self.text,
            "steps": [step.as_json() for step in self.steps],
            "after": self.after,
        }


@dataclass(frozen=True)
class Runbook:
    id: str
    """The file's path below its runbook directory without ".md", e.g. "queue-backlog"."""
    path: Path
    title: str
    """The first heading, or the file name when there is none."""
    sections: tuple[Section, ...] = ()
    problems: tuple[str, ...] = field(default=(), compare=False)
    """What would import badly (`opsconsole runbook lint`), said so a writer can fix it."""

    def steps(self) -> Iterator[Step]:
        for section in self.sections:
            yield from section.walk()

    def section(self, slug: str) -> Section | None:
        return next((section for section in self.sections if section.slug == slug), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "title": self.title,
            "sections": [section.as_json() for section in self.sections],
            "problems": list(self.problems),
        }
