"""Evidence bundles against the real demo backend: every source saved with its status, sums
that coreutils verifies, failing sources recorded while the rest is kept, no secret in any
byte, the CLI's exit codes, the incident window of the console's audit log, `E` in the UI,
and each bundle recorded on the incident's timeline and in the audit log."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

from console.audit import AuditLog, iso_time
from console.config import configured_tokens, parse_config, shipped_config_path
from console.config_actions import AuditConfig, IncidentConfig
from console.demo.server import DemoServer
from console.evidence import make_bundle
from console.incident import IncidentStore
from console.redaction import REDACTED, redact_body
from bench.metrics_servers import start_alertmanager
from tests.conftest import config_for, screen_text, set_faults, wait_for

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok-3f9a1c7e5b2d4a6f"
FETCHED = ["health-runtime.json", "jobs.json", "workers.json", "leases.json", "dead-letters.json", "backend-audit.json", "metrics.txt"]
LOCAL = ["signals.json", "console-audit.jsonl", "incident.json", "timeline.json", "timeline.txt"]


def bundle_config(url: str, tmp_path: Path, **overrides):
    return config_for(
        url,
        incident=IncidentConfig(state_path=str(tmp_path / "state.db")),
        audit=AuditConfig(path=str(tmp_path / "audit.jsonl")),
        **overrides,
    )


def manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())


def entry(path: Path, name: str) -> dict:
    return next(e for e in manifest(path)["files"] if e["name"] == name)


def sha256sum_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=path, capture_output=True, text=True, timeout=30)


def test_bundle_holds_every_source_with_sums_that_coreutils_verifies(demo_server, tmp_path):
    config = bundle_config(demo_server.url, tmp_path)
    store = IncidentStore(tmp_path / "state.db")
    incident = store.declare("Provider answering 503", "SEV-2", "", "alice")
    store.add_event(incident.id, "bob", "note", "failing over")
    AuditLog(tmp_path / "audit.jsonl").append({"type": "incident", "incident": incident.id, "text": "declared"})

    bundle = make_bundle(config, tmp_path / "out", environ={**os.environ, "USER": "alice", "SSH_CONNECTION": "10.0.0.7 5 10.0.0.1 22"})

    path = bundle.path
    assert re.fullmatch(r"evidence-demo-\d{8}T\d{6}Z", path.name) and path.parent == tmp_path / "out"
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    names = sorted(p.name for p in path.iterdir())
    assert names == sorted(FETCHED + LOCAL + ["manifest.json", "SHA256SUMS"])
    assert all(stat.S_IMODE((path / name).stat().st_mode) == 0o600 for name in names)
    about = manifest(path)
    assert (about["environment"], about["incident"], about["made_by"]["user"]) == ("demo", incident.id, "alice")
    assert about["failed"] == [] and bundle.failures == []
    assert about["console_audit_window"]["basis"] == f"incident {incident.id}, from its start to now (still open)"
    for item in about["files"]:  # every sum and size recomputed from the file itself
        data = (path / item["name"]).read_bytes()
        assert item["sha256"] == hashlib.sha256(data).hexdigest() and item["size"] == len(data), item["name"]
    for name in FETCHED:
        item = entry(path, name)
        assert item["status"] == 200 and item["source"].startswith(demo_server.url) and item["fetched_at"].endswith("Z")
    # Raw: what the (frozen) backend serves, byte for byte.
    import httpx

    assert (path / "jobs.json").read_bytes() == httpx.get(demo_server.url + "/v1/jobs?limit=50").content
    assert (path / "metrics.txt").read_text().startswith("# HELP")
    depth = next(float(line.split()[-1]) for line in (path / "metrics.txt").read_text().splitlines()
                 if line.startswith("oris_runtime_queue_depth "))
    signals = {s["name"]: s for s in json.loads((path / "signals.json").read_text())["signals"]}
    assert signals["queue_depth"]["value"] == depth and signals["queue_depth"]["level"] in ("ok", "warn", "crit")
    assert "counter_total" in signals["backpressure"]
    assert json.loads((path / "incident.json").read_text())["id"] == incident.id
    assert [e["kind"] for e in json.loads((path / "timeline.json").read_text())] == ["declared", "note"]
    assert "bob  note  failing over" in (path / "timeline.txt").read_text()
    assert [json.loads(line)["text"] for line in (path / "console-audit.jsonl").read_text().splitlines()] == ["declared"]

    checked = sha256sum_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(names) - 1  # every file but SHA256SUMS itself
    (path / "jobs.json").chmod(0o600)
    with open(path / "jobs.json", "ab") as tampered:
        tampered.write(b" ")
    assert sha256sum_check(path).returncode != 0

    # The bundle is on the incident's timeline and in the audit log, with the manifest's sum.
    event = store.timeline(incident.id)[-1]
    assert (event.kind, event.operator) == ("evidence", "alice@10.0.0.7")
    assert event.text == f"{path}, manifest.json sha256 {manifest_sha256(path)}"
    record = evidence_records(tmp_path / "audit.jsonl")[-1]
    assert record["incident"] == incident.id and record["failed"] == [] and record["operator"]["user"] == "alice"


def manifest_sha256(path: Path) -> str:
    return hashlib.sha256((path / "manifest.json").read_bytes()).hexdigest()


def evidence_records(audit: Path) -> list[dict]:
    return [record for record in AuditLog(audit).records() if record.get("type") == "evidence"]


def test_a_failing_source_is_recorded_with_its_error_and_the_rest_is_saved(demo_server, tmp_path):
    set_faults(
        demo_server,
        {"route": "/v1/dlq", "kind": "status", "status": 503, "message": "queue store down"},
        {"route": "/v1/jobs", "kind": "latency", "seconds": 5},
        {"route": "/metrics", "kind": "non-utf8"},
    )
    # The hung source must time out; the others must not, even on a loaded machine.
    config = bundle_config(demo_server.url, tmp_path, api={"timeout_s": 2.0})
    bundle = make_bundle(config, tmp_path)
    path = bundle.path
    failed = {f["source"]: f["error"] for f in manifest(path)["failed"]}
    assert failed == {
        "dead-letters": "HTTP 503: queue store down",
        "jobs": "timed out after 2s",
        "metrics": "malformed metrics: not UTF-8",
    }
    names = {p.name for p in path.iterdir()}
    assert {"dead-letters.error.txt", "dead-letters.body", "jobs.error.txt", "metrics.error.txt", "metrics.body"} <= names
    assert "jobs.body" not in names and "jobs.json" not in names and "dead-letters.json" not in names
    assert {"health-runtime.json", "workers.json", "leases.json", "backend-audit.json", "signals.json", "console-audit.jsonl"} <= names
    assert "error: HTTP 503: queue store down" in (path / "dead-letters.error.txt").read_text()
    assert entry(path, "dead-letters.body")["status"] == 503
    assert json.loads((path / "dead-letters.body").read_text()) == {"error": "queue store down"}
    assert b"\xff\xfe\xfd" in (path / "metrics.body").read_bytes()  # hostile bytes kept as they came
    assert entry(path, "jobs.error.txt")["status"] is None
    signals = json.loads((path / "signals.json").read_text())["signals"]
    assert all(s["error"] == "malformed metrics: not UTF-8" for s in signals)
    assert sha256sum_check(path).returncode == 0


def test_no_token_reaches_any_byte_of_the_bundle(tmp_path):
    server = DemoServer(port=0, speed=0, seed=7, warmup_s=60, token=TOKEN).start()
    try:
        # The backend echoes the token into every string (and into health-check names, which
        # become secret-named keys), plus an Authorization value that is not ours.
        text = f"api_token={TOKEN} Authorization: Bearer someoneelses9876 \x1b[2J "
        set_faults(server, {"route": "*", "kind": "hostile", "text": text})
        store = IncidentStore(tmp_path / "state.db")
        incident = store.declare("Token leak drill", "SEV-3", "", "alice")
        store.add_event(incident.id, "alice", "note", f"pasted {TOKEN} by mistake")
        # An older console wrote the token into the audit log (no secrets known to it).
        AuditLog(tmp_path / "audit.jsonl").append({"type": "note", "text": f"curl -H 'Authorization: Bearer {TOKEN}'"})
        environ = {**os.environ, "OPSCONSOLE_TOKEN": TOKEN}
        # Even a directory named with the token (a slip at 03:00) keeps it out of the records.
        bundle = make_bundle(bundle_config(server.url, tmp_path), tmp_path / f"out-{TOKEN}", environ=environ)
    finally:
        server.stop()
    path = bundle.path
    assert bundle.failures == []  # the token was sent: every /v1 request was let in
    for file in path.iterdir():
        data = file.read_bytes()
        assert TOKEN.encode() not in data and b"someoneelses9876" not in data, file.name
    health = json.loads((path / "health-runtime.json").read_text())
    secret_named = {k: v for k, v in health["checks"].items() if "token" in k}
    assert secret_named and set(secret_named.values()) == {REDACTED}
    assert entry(path, "health-runtime.json")["redaction"] == "re-encoded with secret-named fields replaced"
    assert entry(path, "workers.json")["redaction"] == "secret values replaced"
    assert b"\x1b[2J" in (path / "metrics.txt").read_bytes()  # hostile, but evidence: kept raw
    assert f"pasted {REDACTED} by mistake" in (path / "timeline.txt").read_text()
    (record,) = evidence_records(tmp_path / "audit.jsonl")
    event = store.timeline(incident.id)[-1]
    assert event.kind == "evidence" and REDACTED in event.text and TOKEN not in event.text
    assert record["path"] == str(path).replace(TOKEN, REDACTED) and TOKEN not in json.dumps(record)


def test_every_configured_token_is_redacted(tmp_path):
    (tmp_path / "am-token").write_text("am-secret-5521\n")
    data = {
        "environment": "prod",
        "api": {"base_url": "http://api", "token_env": "API_T", **{k: {"path": "/x", "items": ""} for k in ("jobs", "workers", "leases", "dead_letters")}},
        "metrics": {"source": "prometheus", "url": "http://prom", "token_env": "PROM_T"},
        "alertmanager": {"url": "http://am", "token_file": str(tmp_path / "am-token")},
    }
    tokens = configured_tokens(parse_config(data), {"API_T": "api-secret-1", "PROM_T": "prom-secret-2"})
    assert sorted(tokens) == ["am-secret-5521", "api-secret-1", "prom-secret-2"]
    body = b'{"echo": "prom-secret-2", "password": "hunter22", "note": "Authorization: Basic dXNlcjpwYXNz"}'
    redacted, _ = redact_body(body, tokens)
    assert json.loads(redacted) == {"echo": REDACTED, "password": REDACTED, "note": f"Authorization: Basic {REDACTED}"}
    assert redact_body(b"wrong bearer token\n", tokens) == (b"wrong bearer token\n", "")  # prose stays readable


def test_console_audit_window_is_the_incidents_or_the_last_hour_and_bundles_never_overwrite(demo_server, tmp_path):
    now = [1_800_000_000.0]
    clock = lambda: now[0]  # noqa: E731
    audit = AuditLog(tmp_path / "audit.jsonl", clock=clock)
    store = IncidentStore(tmp_path / "state.db", clock=clock)

    def at(moment: float, text: str) -> None:
        now[0] = moment
        audit.append({"type": "incident", "text": text})

    at(1_800_000_000.0, "before the incident")
    now[0] = 1_800_001_000.0
    incident = store.declare("Backlog", "SEV-2", "", "alice")
    at(1_800_001_200.0, "during")
    now[0] = 1_800_002_000.0
    store.resolve(incident.id, "alice")
    at(1_800_004_000.0, "after, within the last hour")
    now[0] = 1_800_005_000.0
    config = bundle_config(demo_server.url, tmp_path)

    def texts(bundle) -> list[str]:
        return [json.loads(line)["text"] for line in (bundle.path / "console-audit.jsonl").read_text().splitlines()]

    windowed = make_bundle(config, tmp_path / "out", incident.id, clock=clock)
    assert texts(windowed) == ["during"]
    taken = f"{windowed.path}, manifest.json sha256 {manifest_sha256(windowed.path)}"
    assert store.timeline(incident.id)[-1].text == taken  # taken after the end: still on its timeline
    assert manifest(windowed.path)["console_audit_window"] == {
        "from": iso_time(1_800_001_000.0), "to": iso_time(1_800_002_000.0),
        "basis": f"incident {incident.id}, from its start to its end",
    }
    recent = make_bundle(config, tmp_path / "out", clock=clock)  # no open incident: the last hour
    assert texts(recent) == ["after, within the last hour", taken]  # the first bundle, as the audit log has it
    assert evidence_records(tmp_path / "audit.jsonl")[-1]["incident"] is None
    assert manifest(recent.path)["incident"] is None and "incident.json" not in {p.name for p in recent.path.iterdir()}
    # Same second, same environment: a directory of its own, the first one untouched.
    assert recent.path.name == windowed.path.name + "-2"
    assert sha256sum_check(windowed.path).returncode == 0


def write_config(tmp_path: Path, base_url: str) -> Path:
    text = shipped_config_path().read_text().replace("http://127.0.0.1:8080", base_url)
    text = text.replace('state_path = ""', f'state_path = "{tmp_path / "state.db"}"', 1)
    text = text.replace('\npath = ""', f'\npath = "{tmp_path / "audit.jsonl"}"', 1)
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def evidence_cli(config: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # -X importtime lists every module imported: the evidence command must not load Textual.
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "console.cli", "--config", str(config), "evidence", *args],
        capture_output=True, text=True, cwd=cwd, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_cli_writes_a_bundle_warns_per_failed_source_and_exits_by_what_was_written(demo_server, tmp_path):
    config = write_config(tmp_path, demo_server.url)
    made = evidence_cli(config, cwd=tmp_path)  # default: the current directory
    assert made.returncode == 0, made.stderr
    assert " textual" not in made.stderr and "warning:" not in made.stderr
    written = re.search(r"evidence bundle: (\S+) \((\d+) files", made.stdout)
    assert written and (tmp_path / written.group(1) / "SHA256SUMS").is_file()
    assert "sha256sum -c SHA256SUMS" in made.stdout and "console audit log: the last hour (no incident)" in made.stdout

    # A hostile error message: the warning names the source, and no escape byte reaches the terminal.
    set_faults(demo_server, {"route": "/v1/dlq", "kind": "hostile", "status": 503})
    faulted = evidence_cli(config, "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert faulted.returncode == 0, faulted.stderr
    warnings = [line for line in faulted.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: dead-letters (") and "HTTP 503" in warnings[0]
    assert "\x1b" not in faulted.stdout + faulted.stderr and "␛" in warnings[0]

    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("")
    refused = evidence_cli(config, "--out", str(not_a_dir), cwd=tmp_path)
    assert refused.returncode == 1 and "cannot create a bundle" in refused.stderr and "Traceback" not in refused.stderr
    unknown = evidence_cli(config, "--incident", "INC-1999-01-01-001", cwd=tmp_path)
    assert unknown.returncode == 2 and "no incident 'INC-1999-01-01-001'" in unknown.stderr

    # Nothing answers at all: the console's own records are still saved, with a warning per source.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    down = evidence_cli(write_config(tmp_path, dead_url), "--out", str(tmp_path / "down"), cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert down.stderr.count("connection refused") == len(FETCHED)
    (bundle,) = (tmp_path / "down").iterdir()
    assert {"console-audit.jsonl", "manifest.json", "SHA256SUMS", "health-runtime.error.txt"} <= {p.name for p in bundle.iterdir()}
    assert sha256sum_check(bundle).returncode == 0


def test_cli_records_the_bundle_on_the_incidents_timeline_and_in_the_audit_log(demo_server, tmp_path):
    from console.audit import current_operator

    config = write_config(tmp_path, demo_server.url)
    incident = IncidentStore(tmp_path / "state.db").declare("Queue backing up", "SEV-2", "", "alice")
    set_faults(demo_server, {"route": "/v1/dlq", "kind": "status", "status": 503})
    made = evidence_cli(config, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    (path,) = (tmp_path / "out").iterdir()
    sha = manifest_sha256(path)
    assert f"manifest.json sha256: {sha}" in made.stdout
    event = IncidentStore(tmp_path / "state.db").timeline(incident.id)[-1]
    operator = current_operator()
    assert (event.kind, event.operator) == ("evidence", str(operator))
    assert event.text == f"{path}, manifest.json sha256 {sha}"
    (record,) = evidence_records(tmp_path / "audit.jsonl")
    assert {key: record[key] for key in ("incident", "path", "manifest_sha256", "failed", "operator", "environment")} == {
        "incident": incident.id, "path": str(path), "manifest_sha256": sha, "failed": ["dead-letters"],
        "operator": operator.as_record(), "environment": "demo",
    }


async def test_E_on_the_incident_screen_writes_a_bundle_without_blocking_keys(demo_server, tmp_path):
    from screens.app import OpsConsoleApp
    from screens.dashboard import DashboardScreen
    from screens.incident import IncidentScreen
    from tests.test_guarded_ui import notices

    incident = IncidentStore(tmp_path / "state.db").declare("Storage errors", "SEV-3", "", "alice")
    # Only the bundle reads the backend's audit log: it hangs there, the dashboard does not.
    set_faults(demo_server, {"route": "/v1/audit/logs", "kind": "latency", "seconds": 5})
    app = OpsConsoleApp(bundle_config(demo_server.url, tmp_path, api={"timeout_s": 2.0}, keys={"evidence": "f9"}))
    evidence_dir = Path(os.environ["XDG_DATA_HOME"]) / "opsconsole" / "evidence"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.incident is not None, what="the incident")
        await pilot.press("E")
        await pilot.press("escape")  # while the bundle waits on the hung source
        assert isinstance(app.screen, DashboardScreen) and "Evidence bundle saved" not in notices(app)
        await wait_for(pilot, lambda: any(n.title == "Evidence bundle saved" for n in app._notifications), what="the bundle")
        (bundle,) = evidence_dir.iterdir()
        assert str(bundle) in notices(app) and "failed: backend-audit" in notices(app)
        about = manifest(bundle)
        assert about["incident"] == incident.id and about["failed"][0]["error"] == "timed out after 2s"
        assert sha256sum_check(bundle).returncode == 0
        event = app.controls.store.timeline(incident.id)[-1]
        assert (event.kind, event.text) == ("evidence", f"{bundle}, manifest.json sha256 {manifest_sha256(bundle)}")
        (record,) = evidence_records(tmp_path / "audit.jsonl")
        assert (record["path"], record["failed"], record["incident"]) == (str(bundle), ["backend-audit"], incident.id)
        await pilot.press("i")  # and the incident screen shows it
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and "evidence" in screen_text(app), what="the event")
        await pilot.press("escape")

        set_faults(demo_server)
        saved = lambda: sum(n.title == "Evidence bundle saved" for n in app._notifications)  # noqa: E731
        await pilot.press("f9")  # the dashboard's key, remapped by the config's [keys]
        await wait_for(pilot, lambda: saved() == 2, what="a bundle from the dashboard")
        await pilot.press("ctrl+p", *"Evidence bundle")  # and the palette
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: saved() == 3, what="a bundle from the palette")
        assert len(list(evidence_dir.iterdir())) == 3


def test_prometheus_source_saves_each_signals_query_and_alertmanager_its_alerts(demo_server, tmp_path):
    from tests.test_prometheus import SIGNALS, _prometheus, prom_value, prometheus_config

    alertmanager = start_alertmanager(tmp_path / "alertmanager")
    prometheus = _prometheus(tmp_path, demo_server)
    try:
        config = prometheus_config(demo_server, prometheus.url, alertmanager)
        config = config.model_copy(update={"incident": IncidentConfig(state_path=str(tmp_path / "state.db"))})
        bundle = make_bundle(config, tmp_path / "out")
        depth = prom_value(prometheus, "sum(oris_runtime_queue_depth)")
    finally:
        prometheus.stop()
        alertmanager.stop()
    path = bundle.path
    assert bundle.failures == []
    for signal in SIGNALS:
        answer = json.loads((path / f"metrics-{signal['name']}.json").read_text())
        assert answer["status"] == "success" and answer["data"]["result"], signal["name"]
        assert entry(path, f"metrics-{signal['name']}.json")["source"].startswith(prometheus.url + "/api/v1/query?query=")
    assert "metrics.txt" not in {p.name for p in path.iterdir()}
    assert isinstance(json.loads((path / "alerts.json").read_text()), list)
    assert entry(path, "alerts.json")["source"].startswith(alertmanager.url + "/api/v2/alerts")
    signals = {s["name"]: s for s in json.loads((path / "signals.json").read_text())["signals"]}
    assert signals["queue_depth"]["value"] == depth and signals["workers"]["series"] > 1
    assert sha256sum_check(path).returncode == 0
