"""The action catalogue: from a configured action and its targets to exactly what will be sent.

A `Plan` is computed once, before confirmation, and is what the confirmation shows and
what the executor sends: the method, full URL and body (or the argv) of every chunk, the
exact targets, and the phrase to type. Every templated value is checked against its
pattern first, and an argv is filled one argument at a time, so no value can add
arguments, options or shell syntax.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from console.config_actions import DEFAULT_ID_PATTERN, PLACEHOLDER, ActionConfig, ParamConfig

ID_PARAM = ParamConfig(pattern=DEFAULT_ID_PATTERN)


class ActionError(ValueError):
    """An action that cannot be planned: unknown, wrong row, a value that fails its pattern."""


@dataclass(frozen=True)
class HttpCall:
    method: str
    url: str
    body: Any = None

    def describe(self) -> str:
        body = "" if self.body is None else "\n" + json.dumps(self.body, indent=None)
        return f"{self.method} {self.url}{body}"


@dataclass(frozen=True)
class ExecCall:
    argv: tuple[str, ...]

    def describe(self) -> str:
        return "exec " + json.dumps(list(self.argv))


Call = HttpCall | ExecCall


@dataclass(frozen=True)
class Plan:
    action: ActionConfig
    environment: str
    targets: tuple[str, ...]
    values: Mapping[str, str]
    calls: tuple[Call, ...]
    chunks: tuple[tuple[str, ...], ...]
    """The targets each call carries, in order (one chunk for single-target actions)."""
    phrase: str
    """What the operator must type to confirm ("" for safe actions)."""
    meta: Mapping[str, str] = field(default_factory=dict)
    """How the targets were chosen (e.g. the filter), for the confirmation and audit log."""

    @property
    def count(self) -> int:
        return len(self.targets)


def _check(name: str, value: str, param: ParamConfig) -> str:
    if not isinstance(value, str) or not re.fullmatch(param.pattern, value):
        raise ActionError(f"{name} = {value!r} does not match the pattern {param.pattern!r}")
    return value


def _fill_text(template: str, values: Mapping[str, str], escape=lambda v: v) -> str:
    def filled(match: re.Match[str]) -> str:
        if match.group(1) not in values:  # check-config prevents this; say so rather than crash
            raise ActionError(f"no value for {{{match.group(1)}}} in this environment")
        return escape(str(values[match.group(1)]))

    return PLACEHOLDER.sub(filled, template)


def _fill_body(template: Any, values: Mapping[str, str], ids: Sequence[str], params: Mapping[str, ParamConfig]) -> Any:
    if isinstance(template, dict):
        return {k: _fill_body(v, values, ids, params) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill_body(v, values, ids, params) for v in template]
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole and whole.group(1) == "ids":
            return list(ids)
        if whole and whole.group(1) == "count":
            return len(ids)
        if whole and whole.group(1) in params and params[whole.group(1)].type == "int":
            return int(values[whole.group(1)])
        return _fill_text(template, values)
    return template


def _fill_argv(argv: Sequence[str], values: Mapping[str, str], ids: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for arg in argv:
        if arg == "{ids}":
            out.extend(ids)  # one argument per id, never joined into one string
        else:
            out.append(_fill_text(arg, values))
    return tuple(out)


def chunked(items: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)] or [()]


def plan_action(
    action: ActionConfig,
    base_url: str,
    environment: str,
    targets: Sequence[str] = (),
    values: Mapping[str, str] | None = None,
    chunk_size: int = 100,
    batch_max: int = 10000,
    meta: Mapping[str, str] | None = None,
    config_vars: Mapping[str, str] | None = None,
) -> Plan:
    values = dict(values or {})
    targets = tuple(dict.fromkeys(targets))  # a target twice is still one target
    if action.row != "none" and not targets:
        raise ActionError(f"{action.title}: select at least one {action.row.replace('_', ' ')}")
    if action.row == "none" and targets:
        raise ActionError(f"{action.title} takes no target")
    if not action.batch and len(targets) > 1:
        raise ActionError(f"{action.title} acts on one target at a time, not {len(targets)}")
    if len(targets) > batch_max:
        raise ActionError(f"{len(targets):,} targets is more than policy.batch_max ({batch_max:,}); narrow the filter")
    id_param = action.params.get("id", ID_PARAM)
    for target in targets:
        _check("id", target, id_param)
    for name, param in action.inputs.items():
        if name not in values or values[name] == "":
            raise ActionError(f"{param.prompt or name} is required")
        _check(name, values[name], param)
    # The config's vars (the environment's kube context ...) are trusted: no pattern applies.
    filled = {**(config_vars or {}), **values, "count": str(len(targets))}
    if targets and not action.batch:
        filled["id"] = targets[0]
    chunks = chunked(targets, chunk_size) if action.batch else [targets]
    calls: list[Call] = []
    for chunk in chunks:
        if action.kind == "http":
            path = _fill_text(action.path, filled, escape=lambda v: quote(v, safe=""))
            body = None if action.body is None else _fill_body(action.body, filled, chunk, action.params)
            calls.append(HttpCall(action.method, base_url.rstrip("/") + path, body))
        else:
            calls.append(ExecCall(_fill_argv(action.argv, filled, chunk)))
    phrase = _fill_text(action.confirm, filled) if action.safety == "guarded" else ""
    return Plan(action, environment, targets, values, tuple(calls), tuple(chunks), phrase, dict(meta or {}))


def actions_for(actions: Sequence[ActionConfig], panel: str) -> list[ActionConfig]:
    return [action for action in actions if action.panel == panel]


def find_action(actions: Sequence[ActionConfig], name: str) -> ActionConfig:
    for action in actions:
        if action.name == name:
            return action
    raise ActionError(f"no action {name!r} in the catalogue")
