"""The demo backend's request and reply vocabulary, shared by every API shape it speaks.

A shape (console/demo/shapes/) is a table of (method, pattern, handler); handlers are
called with the simulation's lock held and its clock caught up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from console.demo import operations
from console.demo.sim import Simulation

MAX_BODY = 64 * 1024


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


Reply = tuple[int, Any]  # (status, JSON body) or (status, str body for text)
Handler = Callable[["Request"], Reply]


class Request:
    ledger: operations.MutationLedger
    actor: str = "api"

    def __init__(self, sim: Simulation, match: re.Match[str], query: dict[str, list[str]], body: bytes, state: Any = None):
        self.sim = sim
        self.state = state
        """The shape's own state beside the simulation (a retention backlog, a model version)."""
        self.match = match
        self.query = query
        self.body = body

    def int_param(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.query.get(name, [str(default)])[-1]
        try:
            value = int(raw)
        except ValueError:
            raise HttpError(400, f"{name} must be an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise HttpError(400, f"{name} must be between {low} and {high}, got {value}")
        return value

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HttpError(400, f"body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise HttpError(400, "body must be a JSON object")
        return data



Route = tuple[str, re.Pattern[str], Handler]


def mutation(operation: Callable[..., Any], *args: Any) -> Callable[[Request], Reply]:
    """A handler that maps the operation's refusals onto HTTP statuses."""

    def handler(req: Request) -> Reply:
        try:
            return 200, operation(req.sim, *[arg(req) if callable(arg) else arg for arg in args], req.actor)
        except LookupError as exc:
            raise HttpError(404, str(exc)) from None
        except ValueError as exc:
            raise HttpError(409, str(exc)) from None
        except TypeError as exc:
            raise HttpError(400, str(exc)) from None

    return handler


def route(routes: list[Route], method: str, path: str) -> tuple[Handler, re.Match[str]]:
    allowed = []
    for route_method, pattern, handler in routes:
        match = pattern.fullmatch(path)
        if match:
            if route_method == method:
                return handler, match
            allowed.append(route_method)
    if allowed:
        raise HttpError(405, f"{method} is not allowed on {path}", {"Allow": ", ".join(allowed)})
    raise HttpError(404, f"no such endpoint: {path}")


