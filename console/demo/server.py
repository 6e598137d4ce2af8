"""The demo backend on loopback: one system's API (a shape, console/demo/shapes/) plus the
/sim controls, fault injection, and the ledger of every mutation request received.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from console.demo import operations
from console.demo.faults import parse_faults
from console.demo.routing import MAX_BODY, Handler, HttpError, Reply, Request, Route, route
from console.demo.shapes import Shape, shape_for
from console.demo.sim import Simulation

# -- /sim controls: the same for every shape ----------------------------------------------


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


CONTROL_ROUTES: list[Route] = [
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


CONTROL_ROUTES += [
    ("GET", re.compile(r"/sim/faults"), get_faults),
    ("POST", re.compile(r"/sim/faults"), set_faults),
    ("DELETE", re.compile(r"/sim/faults"), clear_faults),
]

# -- mutations: what an operator can change (console/demo/operations.py) -----------------


def sim_mutations(req: Request) -> Reply:
    return 200, {"mutations": list(req.ledger.records)}


CONTROL_ROUTES.append(("GET", re.compile(r"/sim/mutations"), sim_mutations))


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
            handler, match = route(self.server.routes, method, url.path)
            sim = self.server.sim
            with sim.lock:
                sim.sync()
                request = Request(sim, match, parse_qs(url.query), body, self.server.shape_state)
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

    def __init__(self, address: tuple[str, int], sim: Simulation, shape: Shape, token: str = ""):
        self.sim = sim
        self.routes = shape.routes + CONTROL_ROUTES
        self.shape_state = shape.new_state(sim)
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
        shape = shape_for(profile)
        self.profile = profile
        self.sim = Simulation(**sim_options)
        self._httpd = _DemoHTTPServer((host, port), self.sim, shape, token)
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
