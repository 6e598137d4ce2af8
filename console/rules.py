"""Severity hints and exit criteria: conditions on a signal that must have held for a while.

"Queue depth rising for more than 15 min with no drain suggests SEV-1"; "backlog falling
steadily for 30 min" lets an incident close. Judged point by point over the signal's
history, never from one reading, and never claimed met on less history than it needs.
"""

from __future__ import annotations

from collections.abc import Mapping

from console.config import ConditionConfig, ExitCriterionConfig, SeverityHintConfig
from console.format import duration
from console.models import RuleState
from console.trends import History


def _holds_at(condition: ConditionConfig, history: History, i: int) -> bool | None:
    value = history.points[i][1]
    if condition.above is not None and not value > condition.above:
        return False
    if condition.below is not None and not value < condition.below:
        return False
    if condition.trend:
        direction = history.direction(i)
        if direction is None:
            return None
        return direction.value in condition.trend
    return True


def judge(condition: ConditionConfig, history: History | None, title: str, severity: str = "") -> RuleState:
    for_s = condition.for_min * 60
    if history is None or not len(history):
        return RuleState(title, False, None, for_s, severity, waiting=f"no data for {condition.signal}")
    holds = lambda i: _holds_at(condition, history, i)  # noqa: E731
    if holds(len(history) - 1) is None:
        return RuleState(title, False, None, for_s, severity, waiting="measuring the trend")
    held = history.held(holds)
    if held is None:
        return RuleState(title, False, None, for_s, severity)
    held_s, since_start = held
    if held_s >= for_s:
        return RuleState(title, True, held_s, for_s, severity)
    waiting = f"history covers {duration(history.covered_s())} of {duration(for_s)}" if since_start else ""
    return RuleState(title, False, held_s, for_s, severity, waiting=waiting)


def severity_hints(rules: list[SeverityHintConfig], histories: Mapping[str, History]) -> tuple[RuleState, ...]:
    return tuple(judge(rule, histories.get(rule.signal), rule.reason, rule.severity) for rule in rules)


def exit_criteria(rules: list[ExitCriterionConfig], histories: Mapping[str, History]) -> tuple[RuleState, ...]:
    return tuple(judge(rule, histories.get(rule.signal), rule.title) for rule in rules)


def strongest_hint(hints: tuple[RuleState, ...]) -> RuleState | None:
    """The met hint with the most severe suggestion (SEV-1 before SEV-2)."""
    met = [hint for hint in hints if hint.met]
    return min(met, key=lambda hint: hint.severity) if met else None
