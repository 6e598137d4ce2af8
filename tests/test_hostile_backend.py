"""Text from a backend is shown literally: no escape sequence reaches the terminal, no markup
is interpreted (the demo backend's hostile fault). A small hand-made server covers API
shapes the demo does not serve, and records the headers it receives."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from screens.app import OpsConsoleApp
from tests.conftest import config_for, screen_text, set_faults, wait_for

NOW = "2026-11-23T03:00:00Z"
ESCAPES = "\x1b[2J\x1b]52;c;cm0gLXJmIC8=\x07\x1b]8;;http://evil.example/\x1b\\"
BODIES = {
    "/healthz": {"status": "ok", "now": NOW, "checks": {"db[/]": "[blink]ok[/blink]"}},
    "/v1/workers": {
        "now": NOW,
        "workers": [
            {"id": "[bold red]w-1[/]", "state": "busy" + ESCAPES, "last_heartbeat_at": NOW, "current_job_id": "job\u202e1", "leases_held": 1}
        ],
    },
    "/v1/leases": {"now": NOW, "leases": []},
    "/v1/dlq": {
        "now": NOW,
        "total": 1,
        "error_classes": {"[link=http://x]Evil[/link]": 1},
        "items": [
            {
                "id": "dlq-1",
                "job_id": "job-1",
                "error_class": "[link=http://x]Evil[/link]",
                "message": "boom " + ESCAPES + " [reverse]markup[/reverse]",
                "attempts": 3,
                "first_failed_at": NOW,
                "last_failed_at": NOW,
            }
        ],
    },
}
METRICS = "# TYPE oris_runtime_queue_depth gauge\noris_runtime_queue_depth 3\n"


class HostileHandler(BaseHTTPRequestHandler):
    authorizations: list[str | None] = []
    faults: dict[str, tuple[int, bytes]] = {}  # path → (status, raw body) served instead

    def log_message(self, *args):
        pass

    def do_GET(self):
        HostileHandler.authorizations.append(self.headers.get("Authorization"))
        path = self.path.split("?")[0]
        if path in HostileHandler.faults:
            status, body = HostileHandler.faults[path]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path == "/metrics":
            body, kind = METRICS.encode(), "text/plain"
        else:
            body, kind = json.dumps(BODIES.get(path, {})).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hostile_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_hostile_text_is_shown_literally(demo_server):
    # The demo backend's hostile fault: text that would erase the screen, write the
    # clipboard (OSC 52), open links (OSC 8), restyle or click if taken as markup.
    set_faults(
        demo_server,
        {"route": "/v1/leases", "kind": "hostile", "status": 503, "text": "[@click=app.quit]quit[/] \x1b]52;c;eA==\x07"},
        {"route": "/v1/workers", "kind": "hostile", "text": "[bold red]FAKE[/]\u202e\x1b[2J"},
        {"route": "*", "kind": "hostile"},
    )
    app = OpsConsoleApp(config_for(demo_server.url))
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.dashboard.query_one("#workers DataTable")
        await wait_for(pilot, lambda: table.row_count == 8, what="workers on screen")
        # Column widths settle on the next idle after rows arrive.
        await wait_for(pilot, lambda: "[bold red]FAKE[/]<U+202E>␛[2Jw-01" in screen_text(app), what="a worker id drawn in full")
        text = screen_text(app)
        for control in ("\x1b", "\x07", "\x9b", "\u202e", "\u200b", "\ufeff", "\ud800"):
            assert control not in text
        # Markup is text, not styling or an action: the brackets are on screen, the app runs.
        assert "HTTP 503: [@click=app.quit]quit[/] ␛]52;c;eA==␇" in text
        assert app.is_running
        # Escape sequences are made visible, in the health bar too.
        assert "Health no data" not in text and "␛[2J␛[1;31mCLEAR" in text
        worker_id = "[bold red]FAKE[/]\u202e\x1b[2Jw-01"
        assert table.get_row(worker_id)[0].plain == " [bold red]FAKE[/]<U+202E>␛[2Jw-01"


async def test_token_is_sent_as_bearer_and_never_shown(hostile_server, monkeypatch, tmp_path):
    HostileHandler.authorizations.clear()
    monkeypatch.setenv("OPSCONSOLE_TOKEN", "tok-3f9a-never-on-screen")
    app = OpsConsoleApp(config_for(hostile_server))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.dashboard.snapshot is not None, what="first snapshot")
        await pilot.press("question_mark")
        assert "tok-3f9a" not in screen_text(app)
        await pilot.press("escape")
        assert "tok-3f9a" not in screen_text(app)
    assert HostileHandler.authorizations
    assert set(HostileHandler.authorizations) == {"Bearer tok-3f9a-never-on-screen"}

    # From a file, when the environment variable is not set.
    monkeypatch.delenv("OPSCONSOLE_TOKEN")
    token_file = tmp_path / "token"
    token_file.write_text("tok-from-file\n")
    HostileHandler.authorizations.clear()
    app = OpsConsoleApp(config_for(hostile_server, api={"token_file": str(token_file)}))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.dashboard.snapshot is not None, what="first snapshot")
    # A request of the first console still in flight when it closed may land after the
    # clear; anything else must carry the file's token.
    assert "Bearer tok-from-file" in HostileHandler.authorizations
    assert set(HostileHandler.authorizations) <= {"Bearer tok-from-file", "Bearer tok-3f9a-never-on-screen"}


async def test_leases_without_times_or_server_clock_still_show(hostile_server):
    # An API that gives neither acquired_at nor its own clock: rows appear, ages say "?".
    body = b'{"leases": [{"id": "l-2", "job_id": "j-2", "worker_id": "w"}, {"id": "l-1", "job_id": "j-1", "worker_id": "w", "acquired_at": "2026-11-23T02:59:00Z"}]}'
    HostileHandler.faults["/v1/leases"] = (200, body)
    try:
        app = OpsConsoleApp(config_for(hostile_server))
        async with app.run_test(size=(120, 30)) as pilot:
            table = app.dashboard.query_one("#leases DataTable")
            await wait_for(pilot, lambda: table.row_count == 2, what="both leases")
            assert [str(key.value) for key in table.rows] == ["l-1", "l-2"]
            assert table.get_row("l-2")[2].plain == " ?" and table.get_row("l-2")[3].plain == " ?"
            assert not app.dashboard.query_one("#leases").has_class("-stale")
    finally:
        HostileHandler.faults.clear()
