"""HTTP fetching shared by the sources: bounded time, bounded size, short honest errors.

Errors become `SourceError` with a reason an operator can act on ("connection refused",
"timed out after 3s", "HTTP 503") and never carry request headers, so a token cannot leak.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx

MAX_BODY_BYTES = 8 * 1024 * 1024  # a runaway response must not eat the bastion's memory


class SourceError(Exception):
    """A fetch or parse failure, phrased for the stale marker on a panel."""


def _os_errors(exc: BaseException) -> list[OSError]:
    """The OSErrors underneath httpx's wrapping ("All connection attempts failed")."""
    found: list[OSError] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _reason(exc: httpx.HTTPError, timeout_s: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout_s:g}s"
    if isinstance(exc, httpx.ConnectError):
        causes = _os_errors(exc)
        if any(isinstance(c, ConnectionRefusedError) for c in causes):
            return "connection refused"
        if any(isinstance(c, socket.gaierror) for c in causes):
            return "cannot resolve host"
        described = [c.strerror for c in causes if c.strerror]
        return "cannot connect: " + (described[0].lower() if described else str(exc) or type(exc).__name__)
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection dropped: " + (str(exc) or "server closed the connection")
    if isinstance(exc, httpx.ReadError):
        return "connection reset"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def fetch(client: httpx.AsyncClient, url: str, timeout_s: float) -> tuple[int, bytes]:
    """(status, body) of a GET; any status is returned, transport failures raise."""
    try:
        async with client.stream("GET", url, timeout=timeout_s) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise SourceError(f"response larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
            return response.status_code, bytes(body)
    except httpx.HTTPError as exc:
        raise SourceError(_reason(exc, timeout_s)) from None


async def get_bytes(client: httpx.AsyncClient, url: str, timeout_s: float) -> bytes:
    status, body = await fetch(client, url, timeout_s)
    if status >= 400:
        raise SourceError(f"HTTP {status}")
    return body


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise SourceError("malformed JSON: not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


async def get_json(client: httpx.AsyncClient, url: str, timeout_s: float) -> Any:
    return parse_json(await get_bytes(client, url, timeout_s))
