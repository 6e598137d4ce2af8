"""The demo backend's HTTP API on loopback: the runtime's read endpoints plus /sim controls.

Routes are a table of (method, pattern) → handler, so the mutation endpoints of later
work (replay, drain, pause, limits, fault injection) slot in beside the reads.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from console.demo.faults import parse_faults
from console.demo import operations
from console.demo.metrics_text import exposition
from console.demo.sim import Simulation

# The systems whose API the demo backend can speak (`opsconsole sim --profile NAME`).
DEMO_PROFILES = ("runtime",)
JOB_STATES = ("queued", "running", "retrying", "succeeded", "dead_lettered")
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

    def __init__(self, sim: Simulation, match: re.Match[str], query: dict[str, list[str]], body: bytes):
        self.sim = sim
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


# -- handlers (called with the simulation's lock held and its clock caught up) -----------


def healthz(req: Request) -> Reply:
    return 200, req.sim.health()


def metrics(req: Request) -> Reply:
    return 200, exposition(req.sim)


def list_jobs(req: Request) -> Reply:
    limit = req.int_param("limit", 20, 1, 500)
    state = req.query.get("state", [None])[-1] or None
    if state is not None and state not in JOB_STATES:
        raise HttpError(400, f"state must be one of {', '.join(JOB_STATES)}, got {state!r}")
    jobs = req.sim.jobs(state)
    return 200, {"now": req.sim.now, "total": len(jobs), "jobs": [req.sim.job_view(j) for j in jobs[:limit]]}


def get_job(req: Request) -> Reply:
    job = req.sim.find_job(req.match["job_id"])
    if job is None:
        raise HttpError(404, f"no job {req.match['job_id']!r}")
    return 200, {"now": req.sim.now, "job": req.sim.job_view(job, detail=True)}


def list_workers(req: Request) -> Reply:
    return 200, {"now": req.sim.now, "workers": [req.sim.worker_view(w) for w in req.sim.workers]}


def list_leases(req: Request) -> Reply:
    return 200, {"now": req.sim.now, "leases": [req.sim.lease_view(lease) for lease in req.sim.leases.values()]}


def list_dead_letters(req: Request) -> Reply:
    limit = req.int_param("limit", 50, 1, 500)
    offset = req.int_param("offset", 0, 0, 10**9)
    queue = req.sim.dead_letters
    # Filters are applied here, on the server, so a console never loads the whole queue.
    error_class = req.query.get("error_class", [""])[-1]
    text = req.query.get("q", [""])[-1]
    if error_class or text:
        total, items = queue.filtered_page(offset, limit, error_class, text)
    else:
        total, items = len(queue), queue.page(offset, limit)
    reply = {
        "now": req.sim.now,
        "total": total,
        "offset": offset,
        "limit": limit,
        "error_classes": queue.error_classes(),
        "items": items,
    }
    if error_class or text:
        reply["queue_total"] = len(queue)
    return 200, reply


def audit_logs(req: Request) -> Reply:
    limit = req.int_param("limit", 20, 1, 1000)
    newest = list(req.sim.audit)[::-1][:limit]
    return 200, {"now": req.sim.now, "logs": newest}


def set_scenario(req: Request) -> Reply:
    name = req.json().get("scenario")
    try:
        req.sim.set_scenario(str(name))
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    return 200, {"scenario": req.sim.scenario.name}


def advance(req: Request) -> Reply:
    seconds = req.json().get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise HttpError(400, "seconds must be a number")
    try:
        req.sim.advance(float(seconds))
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    return 200, {"now": req.sim.now, "sim_time_s": req.sim.t}


def sim_state(req: Request) -> Reply:
    sim = req.sim
    return 200, {"scenario": sim.scenario.name, "speed": sim.speed, "seed": sim.seed, "sim_time_s": sim.t, "now": sim.now}


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/healthz"), healthz),
    ("GET", re.compile(r"/metrics"), metrics),
    ("GET", re.compile(r"/v1/jobs"), list_jobs),
    ("GET", re.compile(r"/v1/jobs/(?P<job_id>[^/]+)"), get_job),
    ("GET", re.compile(r"/v1/workers"), list_workers),
    ("GET", re.compile(r"/v1/leases"), list_leases),
    ("GET", re.compile(r"/v1/dlq"), list_dead_letters),
    ("GET", re.compile(r"/v1/audit/logs"), audit_logs),
    ("POST", re.compile(r"/sim/scenario"), set_scenario),
    ("POST", re.compile(r"/sim/advance"), advance),
    ("GET", re.compile(r"/sim/state"), sim_state),
]


# -- fault injection: the faults themselves live in console/demo/faults.py ----------------


def get_faults(req: Request) -> Reply:
    return 200, req.sim.faults.view()


def set_faults(req: Request) -> Reply:
    try:
        req.sim.faults.replace(parse_faults(req.json()))
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    return 200, req.sim.faults.view()


def clear_faults(req: Request) -> Reply:
    req.sim.faults.replace([])
    return 200, req.sim.faults.view()


ROUTES += [
    ("GET", re.compile(r"/sim/faults"), get_faults),
    ("POST", re.compile(r"/sim/faults"), set_faults),
    ("DELETE", re.compile(r"/sim/faults"), clear_faults),
]
# -- mutations: what an operator can change (console/demo/operations.py) -----------------


def _mutation(operation: Callable[..., Any], *args: Any) -> Callable[[Request], Reply]:
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


def sim_mutations(req: Request) -> Reply:
    return 200, {"mutations": list(req.ledger.records)}


MUTATION_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("POST", re.compile(r"/v1/jobs/(?P<job_id>[^/]+)/replay"), _mutation(operations.replay_job, lambda r: r.match["job_id"])),
    ("POST", re.compile(r"/v1/dlq/replay"), _mutation(operations.replay_dead_letters, lambda r: r.json().get("ids"))),
    ("POST", re.compile(r"/v1/dlq/(?P<id>[^/]+)/replay"), _mutation(operations.replay_dead_letter, lambda r: r.match["id"])),
    ("POST", re.compile(r"/v1/workers/(?P<id>[^/]+)/drain"), _mutation(operations.drain_worker, lambda r: r.match["id"])),
    ("POST", re.compile(r"/v1/intake/pause"), _mutation(operations.set_intake, True)),
    ("POST", re.compile(r"/v1/intake/resume"), _mutation(operations.set_intake, False)),
    ("PUT", re.compile(r"/v1/limits/concurrency"), _mutation(operations.set_concurrency_limit, lambda r: r.json().get("limit"))),
    ("GET", re.compile(r"/sim/mutations"), sim_mutations),
]
ROUTES += MUTATION_ROUTES


def answer(server: _DemoHTTPServer, method: str, path: str, headers: Any, handler: Handler, req: Request) -> Reply:
    """Token check, Idempotency-Key replay and the mutation ledger around one handler."""
    is_mutation = method != "GET" and not path.startswith("/sim/")
    key = headers.get("Idempotency-Key") or ""
    req.ledger, req.actor = server.ledger, plain_actor(headers.get("X-Opsconsole-Operator") or "api")
    if server.token and not path.startswith("/sim/"):
        if headers.get("Authorization") != f"Bearer {server.token}":
            if is_mutation:
                server.ledger.note(req.sim.now, method, path, key, req.body, 401, applied=False)
            raise HttpError(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
    if not is_mutation:
        return handler(req)
    fingerprint = server.ledger.fingerprint(method, path, req.body)
    stored = server.ledger.replay(key, fingerprint) if key else None
    if stored is not None:
        server.ledger.note(req.sim.now, method, path, key, req.body, stored[0], applied=False)
        return stored
    try:
        status, payload = handler(req)
    except HttpError as exc:
        status, payload = exc.status, {"error": str(exc)}
    server.ledger.note(req.sim.now, method, path, key, req.body, status, applied=status < 400)
    if key:
        server.ledger.remember(key, fingerprint, status, payload)
    return status, payload


def plain_actor(value: str) -> str:
    return "".join(ch for ch in value if ch.isprintable())[:80]


def route(method: str, path: str) -> tuple[Handler, re.Match[str]]:
    allowed = []
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match:
            if route_method == method:
                return handler, match
            allowed.append(route_method)
    if allowed:
        raise HttpError(405, f"{method} is not allowed on {path}", {"Allow": ", ".join(allowed)})
    raise HttpError(404, f"no such endpoint: {path}")


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits for the
    # client's delayed ACK, ~40 ms per request on a kept-alive connection.
    disable_nagle_algorithm = True
    server: _DemoHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: the console may be drawing on this terminal

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        headers: dict[str, str] = {}
        try:
            raw_length = self.headers.get("Content-Length") or "0"
            length = int(raw_length) if raw_length.isascii() and raw_length.isdigit() else -1
            if not 0 <= length <= MAX_BODY:
                # The body stays unread, so it would be taken for the next request: close.
                self.close_connection = True
                if length < 0:
                    raise HttpError(400, f"Content-Length must be a non-negative integer, got {raw_length!r}")
                raise HttpError(413, "request body too large")
            body = self.rfile.read(length) if length else b""
            handler, match = route(method, url.path)
            sim = self.server.sim
            with sim.lock:
                sim.sync()
                request = Request(sim, match, parse_qs(url.query), body)
                status, payload = answer(self.server, method, url.path, self.headers, handler, request)
        except HttpError as exc:
            status, payload, headers = exc.status, {"error": str(exc)}, exc.headers
        except Exception as exc:  # report, keep serving
            status, payload = 500, {"error": f"{type(exc).__name__}: {exc}"}
        fault = self.server.sim.faults.match(url.path)
        if fault is not None:
            fault.serve(self, status, payload, headers)
            return
        self._send(status, payload, headers)

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        if isinstance(payload, str):
            data, kind = payload.encode(), "text/plain; version=0.0.4; charset=utf-8"
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: Simulation, token: str = ""):
        self.sim = sim
        self.token = token
        self.ledger = operations.MutationLedger()
        self.connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        with self._connections_lock:
            self.connections.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """A stopped backend must look dead on kept-alive connections too."""
        with self._connections_lock:
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class DemoServer:
    """The simulation behind a real HTTP server; `start()` serves on a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, token: str = "", profile: str = "runtime", **sim_options: Any):
        if profile not in DEMO_PROFILES:
            raise ValueError(f"the demo backend does not speak {profile!r}; known: {', '.join(DEMO_PROFILES)}")
        self.profile = profile
        self.sim = Simulation(**sim_options)
        self._httpd = _DemoHTTPServer((host, port), self.sim, token)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def mutations(self) -> list[dict[str, Any]]:
        """Every mutation request received so far (applied or not)."""
        with self.sim.lock:
            return list(self._httpd.ledger.records)

    def start(self) -> DemoServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="demo-backend", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self._httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        self._httpd.drop_connections()
