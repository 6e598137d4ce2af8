"""Fault injection for the demo backend: chosen routes become slow, failing, rate-limited,
malformed or hostile, so the console can be tested (and demonstrated) against a backend
that misbehaves the way real ones do.

    POST   /sim/faults  {"faults": [{"route": "/v1/workers", "kind": "status", "status": 503}]}
    GET    /sim/faults  the active faults, and how many requests each path received
    DELETE /sim/faults  clear (so does a POST with an empty body or {"faults": []})

A POST replaces the whole set. A fault applies to every request whose path starts with its
`route` ("*" for all); the first matching fault wins. The /sim/ controls are never faulted,
so a fault can always be cleared.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any

# One of each trick a hostile backend can play on a terminal. Control characters must be
# made visible by the console; markup must stay literal text.
HOSTILE_PIECES = {
    "csi": "\x1b[2J\x1b[1;31mCLEARED",  # erase the screen, paint red
    "osc52": "\x1b]52;c;cm0gLXJmIC8K\x07",  # write "rm -rf /" to the operator's clipboard
    "osc8": "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",  # a hyperlink
    "c1": "\x9b31m",  # 8-bit CSI
    "markup": "[bold red]FAKE[/] [@click=app.quit]quit[/]",
    "rtl": "\u202eTXT.exe",  # right-to-left override: displays as exe.TXT
    "zero_width": "a\u200bb\u200dc\ufeff",
    "surrogate": "\ud800",  # a lone surrogate: not encodable, must not crash the writer
    "newline": "line\nbreak\r",
}
LONG_LINE = "L" * 2000
HOSTILE_TEXT = "".join(HOSTILE_PIECES.values()) + LONG_LINE

KINDS = {
    "latency": "answer normally after `seconds`",
    "status": "answer `status` (5xx) with a JSON error `message`",
    "rate-limit": "answer 429 with Retry-After: `retry_after`",
    "malformed": "answer 200 with a broken JSON (or metrics) body",
    "truncated": "announce a longer Content-Length than the body, then close",
    "reset": "reset the connection without answering",
    "huge": "answer the normal data padded to `size_mb` megabytes",
    "non-utf8": "answer the normal data with bytes that are not UTF-8",
    "hostile": "put `text` in every string of the answer (or, with `status` >= 400, in the error message)",
}
_NEVER_FAULTED = "/sim/"
# Keys whose dict keys are data (names shown on screen), not field names.
_DATA_KEYED = {"checks", "error_classes"}


@dataclass(frozen=True)
class Fault:
    kind: str
    route: str = "*"
    seconds: float = 5.0
    status: int = 0
    """0 means the kind's default: 503 for `status`, the normal answer for `hostile`."""
    retry_after: str = "20"
    size_mb: float = 10.0
    message: str = ""
    text: str = HOSTILE_TEXT

    def matches(self, path: str) -> bool:
        return self.route == "*" or path.startswith(self.route)

    def view(self) -> dict[str, Any]:
        view = {"kind": self.kind, "route": self.route, **_params(self)}
        if view.get("text") == HOSTILE_TEXT:
            view["text"] = "(built-in: escape sequences, markup, bidi and zero-width characters, a long line)"
        return view

    # -- serving (called by the demo server instead of its normal reply) ---------------

    def serve(self, handler: Any, status: int, payload: Any, headers: dict[str, str]) -> None:
        try:
            self._serve(handler, status, payload, headers)
        except OSError:  # the client gave up first (a timed-out poll): nothing to answer
            handler.close_connection = True

    def _serve(self, handler: Any, status: int, payload: Any, headers: dict[str, str]) -> None:
        text = isinstance(payload, str)
        if self.kind == "latency":
            time.sleep(self.seconds)
            handler._send(status, payload, headers)
        elif self.kind == "status":
            code = self.status or 503
            handler._send(code, {"error": self.message or f"injected fault: HTTP {code}"}, {})
        elif self.kind == "rate-limit":
            body = {"error": self.message or "too many requests"}
            handler._send(429, body, {"Retry-After": self.retry_after})
        elif self.kind == "hostile":
            if self.status >= 400:
                handler._send(self.status, {"error": self.text}, {})
            elif text:
                handler._send(status, payload + _hostile_metrics(self.text), headers)
            else:
                handler._send(status, _inject(payload, self.text), headers)
        elif self.kind == "malformed":
            broken = b"oris_runtime_queue_depth{ 3\n" if text else b'{"now": "2026-11-23T03:00:00Z", "items": [{"id": '
            _raw(handler, 200, broken, text)
        elif self.kind == "truncated":
            data = _encode(payload)
            _raw(handler, status, data[: len(data) // 2], text, length=len(data))
            handler.close_connection = True
        elif self.kind == "reset":
            # SO_LINGER 0 makes close() send RST instead of FIN: "connection reset by peer".
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            handler.connection.close()
        elif self.kind == "huge":
            size = int(self.size_mb * 1024 * 1024)
            if text:
                handler._send(status, payload + ("# " + "p" * 1000 + "\n") * (size // 1003 + 1), headers)
            else:
                body = dict(payload) if isinstance(payload, dict) else {"data": payload}
                handler._send(status, {**body, "padding": "p" * size}, headers)
        elif self.kind == "non-utf8":
            data = _encode(payload)
            garbled = b"# \xff\xfe\xfd\n" + data if text else b'{"garbled": "\xff\xfe\xfd", ' + data.lstrip(b"{")
            _raw(handler, status, garbled, text)


def _params(fault: Fault) -> dict[str, Any]:
    """The parameters that matter for this fault's kind."""
    wanted = {
        "latency": ("seconds",),
        "status": ("status", "message"),
        "rate-limit": ("retry_after", "message"),
        "huge": ("size_mb",),
        "hostile": ("status", "text"),
    }.get(fault.kind, ())
    return {name: value for name, value in asdict(fault).items() if name in wanted}


def _encode(payload: Any) -> bytes:
    return payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()


def _raw(handler: Any, status: int, data: bytes, text: bool, length: int | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "text/plain; version=0.0.4" if text else "application/json")
    handler.send_header("Content-Length", str(len(data) if length is None else length))
    handler.end_headers()
    handler.wfile.write(data)


def _inject(value: Any, text: str, key: str = "") -> Any:
    """`value` with `text` put in front of every string, except timestamps (kept usable)."""
    if isinstance(value, dict):
        data_keyed = key in _DATA_KEYED
        return {(text + k if data_keyed else k): _inject(v, text, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_inject(v, text, key) for v in value]
    if isinstance(value, str) and key != "now" and not key.endswith("_at"):
        return text + value
    return value


def _hostile_metrics(text: str) -> str:
    # A lone surrogate cannot be encoded in a text body; everything else goes out as is.
    text = text.encode("utf-8", "backslashreplace").decode()
    label = text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    help_text = (text.splitlines() or [""])[0]
    return f'# HELP demo_hostile {help_text}\n# TYPE demo_hostile gauge\ndemo_hostile{{note="{label}"}} 1\n'


# -- parsing ------------------------------------------------------------------------------


def parse_fault(spec: Any) -> Fault:
    """A Fault from its JSON form; ValueError says what is wrong."""
    if not isinstance(spec, dict):
        raise ValueError("a fault must be a JSON object")
    known = {f.name for f in fields(Fault)}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"unknown fault key {unknown[0]!r}; known: {', '.join(sorted(known))}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    route = spec.get("route", "*")
    if not isinstance(route, str) or not (route == "*" or route.startswith("/")):
        raise ValueError(f'route must be "*" or a path starting with /, got {route!r}')
    if route.startswith(_NEVER_FAULTED):
        raise ValueError(f"{_NEVER_FAULTED} is never faulted, so faults can always be cleared")
    values: dict[str, Any] = {"kind": kind, "route": route}
    limits = {"seconds": (0, 600), "size_mb": (0, 100)}
    for name, (low, high) in limits.items():
        if name in spec:
            values[name] = _number(spec, name, low, high)
    if "status" in spec:
        low = 400 if kind == "status" else 100
        values["status"] = int(_number(spec, "status", low, 599, integer=True))
    if "retry_after" in spec:
        raw = spec["retry_after"]
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)) or str(raw) == "":
            raise ValueError("retry_after must be seconds or an HTTP date")
        values["retry_after"] = f"{raw:g}" if isinstance(raw, float) else str(raw)
    for name in ("message", "text"):
        if name in spec:
            if not isinstance(spec[name], str):
                raise ValueError(f"{name} must be a string")
            values[name] = spec[name]
    return Fault(**values)


def _number(spec: dict[str, Any], name: str, low: float, high: float, integer: bool = False) -> float:
    value = spec[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise ValueError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")
    return value


def parse_faults(body: Any) -> list[Fault]:
    """A POST body: {"faults": [...]}, one fault object, or nothing (clears)."""
    if body in (None, {}):
        return []
    if isinstance(body, dict) and set(body) == {"faults"}:
        if not isinstance(body["faults"], list):
            raise ValueError("faults must be a list")
        return [parse_fault(spec) for spec in body["faults"]]
    return [parse_fault(body)]


def parse_cli(spec: str) -> Fault:
    """`ROUTE:KIND[:VALUE]` from the command line, e.g. /metrics:latency:10, *:hostile,
    /v1/workers:status:503, /healthz:rate-limit:30, /v1/dlq:huge:12; or a JSON object."""
    if spec.lstrip().startswith("{"):
        try:
            return parse_fault(json.loads(spec))
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc.msg}") from None
    parts = spec.split(":", 2)
    if len(parts) < 2:
        raise ValueError(f"expected ROUTE:KIND[:VALUE], got {spec!r}")
    route, kind = parts[0], parts[1]
    fault: dict[str, Any] = {"route": route, "kind": kind}
    if len(parts) == 3:
        name = {"latency": "seconds", "status": "status", "rate-limit": "retry_after", "huge": "size_mb", "hostile": "status"}.get(kind)
        if name is None:
            raise ValueError(f"{kind} takes no value")
        try:
            fault[name] = parts[2] if name == "retry_after" else float(parts[2])
        except ValueError:
            raise ValueError(f"{kind}: {parts[2]!r} is not a number") from None
    return parse_fault(fault)


# -- the active set -----------------------------------------------------------------------


class FaultSet:
    """The active faults of one backend, and a count of requests per path (so a test can
    check that a client backed off)."""

    def __init__(self) -> None:
        self._faults: tuple[Fault, ...] = ()
        self._requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def replace(self, faults: list[Fault]) -> None:
        self._faults = tuple(faults)

    def match(self, path: str) -> Fault | None:
        """The fault for a request to `path`, counting the request."""
        if path.startswith(_NEVER_FAULTED):
            return None
        with self._lock:
            self._requests[path] += 1
        return next((fault for fault in self._faults if fault.matches(path)), None)

    def view(self) -> dict[str, Any]:
        with self._lock:
            requests = dict(sorted(self._requests.items()))
        return {"faults": [fault.view() for fault in self._faults], "kinds": KINDS, "requests": requests}
