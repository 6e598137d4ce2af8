"""HTTP fetching shared by the sources: bounded time, bounded size, short honest errors.

Errors become `SourceError` with a reason an operator can act on ("connection refused",
"timed out after 3s", "HTTP 503") and never carry request headers, so a token cannot leak.
"""

from __future__ import annotations

import functools
import json
import socket
import ssl
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

MAX_BODY_BYTES = 8 * 1024 * 1024  # a runaway response must not eat the bastion's memory


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Reading the CA bundle costs ~30 ms; built once and shared, not once per client.
    return httpx.create_ssl_context()


def http_client(token: str | None = None) -> httpx.AsyncClient:
    """A client for one service, carrying only that service's bearer token. Redirects are
    not followed: one could carry the token to another host."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(headers=headers, verify=_tls_context(), follow_redirects=False)
MAX_RETRY_AFTER_S = 600.0  # a server may ask for a pause, not for the console to go blind
MAX_ERROR_CHARS = 160


class SourceError(Exception):
    """A fetch or parse failure, phrased for the stale marker on a panel."""

    def __init__(self, reason: str, retry_after_s: float | None = None):
        super().__init__(reason)
        self.retry_after_s = retry_after_s
        """How long the server asked us not to come back (Retry-After), if it did."""


def retry_after_s(header: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not header or not header.strip():
        return None
    value = header.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _error_message(body: bytes) -> str:
    """What the server said about its error: a JSON `error`/`message`/`detail`, or its text.

    Untrusted text: the UI shows it with `console.text.plain`."""
    try:
        data = json.loads(body)
    except ValueError:
        lines = body[:4096].decode("utf-8", "replace").strip().splitlines()
        text = lines[0] if lines else ""
    else:
        found = [data.get(k) for k in ("error", "message", "detail")] if isinstance(data, dict) else []
        text = next((value for value in found if isinstance(value, str)), "")
    text = text.strip()
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def http_error(status: int, headers: httpx.Headers, body: bytes) -> SourceError:
    message = _error_message(body)
    head = "HTTP 429 rate limited" if status == 429 else f"HTTP {status}"
    return SourceError(head + (f": {message}" if message else ""), retry_after_s(headers.get("retry-after"), time.time()))


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


def transport_reason(exc: httpx.HTTPError, timeout_s: float) -> str:
    """Why a request got no answer, said so an operator can act on it."""
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


async def fetch(client: httpx.AsyncClient, url: str, timeout_s: float, accept_errors: bool = False) -> tuple[int, bytes]:
    """(status, body) of a GET. Transport failures raise; so does an HTTP error status,
    unless `accept_errors` (a health endpoint's 5xx is an answer). A 429 always raises:
    being rate limited is never an answer, and its Retry-After must be honoured."""
    try:
        async with client.stream("GET", url, timeout=timeout_s) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise SourceError(f"response larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
            status = response.status_code
            if status == 429 or (status >= 400 and not accept_errors):
                raise http_error(status, response.headers, bytes(body))
            return status, bytes(body)
    except httpx.HTTPError as exc:
        raise SourceError(transport_reason(exc, timeout_s)) from None


async def get_bytes(client: httpx.AsyncClient, url: str, timeout_s: float) -> bytes:
    return (await fetch(client, url, timeout_s))[1]


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise SourceError("malformed JSON: not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


async def get_json(client: httpx.AsyncClient, url: str, timeout_s: float) -> Any:
    return parse_json(await get_bytes(client, url, timeout_s))
