"""Several environments in one config: switching in the UI, what a switch rebuilds, and
the command line (--env, --demo with one backend per environment, evidence, incident
export, check-config). Two real demo backends on loopback stand in for prod-eu and staging."""

from __future__ import annotations

import json
import os
import re
import time
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.cli import _start_demo, build_parser, main
from console.config import load_config, shipped_config_path
from console.demo.server import DemoServer
from console.incident import IncidentStore
from screens.app import OpsConsoleApp
from screens.modals.pick import PickScreen
from screens.status_update import StatusUpdateScreen
from tests.conftest import screen_text, set_faults, wait_for
from tests.test_guarded_ui import has_data, notices, open_drain_confirmation

ROOT = Path(__file__).resolve().parent.parent
EU_DEAD_LETTERS = 40  # prod-eu starts with these; staging with none: a number that tells them apart


@pytest.fixture
def backends() -> Iterator[dict[str, DemoServer]]:
    """prod-eu and staging, each its own frozen demo backend."""
    servers = {
        "prod-eu": DemoServer(port=0, speed=0, seed=7, warmup_s=120, dlq_preload=EU_DEAD_LETTERS).start(),
        "staging": DemoServer(port=0, speed=0, seed=8, warmup_s=120).start(),
    }
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def write_config(tmp_path: Path, urls: dict[str, str], top: str = "", tokens: dict[str, str] | None = None) -> Path:
    """The shipped config with an [environments.NAME] per url (the first opens, `tokens`
    names their token_env), incident state and audit log in tmp_path."""
    text = shipped_config_path().read_text()
    text = text.replace('environment = "demo"', f'environment = "{next(iter(urls))}"\n{top}', 1)
    text = text.replace("refresh_interval_s = 2.0", "refresh_interval_s = 0.5", 1)
    text = text.replace('state_path = ""', f'state_path = "{tmp_path / "state.db"}"', 1)
    text = text.replace('\npath = ""', f'\npath = "{tmp_path / "audit.jsonl"}"', 1)
    text = text.replace('dirs = ["runbooks"]', f'dirs = ["{ROOT / "runbooks"}"]', 1)
    for name, url in urls.items():
        text += f'\n[environments.{name}]\nbase_url = "{url}"\n'
        if name in (tokens or {}):
            text += f'token_env = "{tokens[name]}"\n'
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def audit_records(tmp_path: Path) -> list[dict]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def header(app) -> str:
    return screen_text(app).splitlines()[0]


async def switch_to(app, pilot, name: str) -> None:
    """e, then the environment's row in the picker, as a person does."""
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the environment picker")
    names = [key for key, _ in app.screen.options]
    steps = names.index(name) - names.index(app.controls.config.environment)  # the cursor starts on the current one
    await pilot.press(*["down" if steps > 0 else "up"] * abs(steps), "enter")
    await wait_for(pilot, lambda: f" {name} " in header(app), what=f"{name} in the header")


def app_for(path: Path, env: str | None = None, **kwargs) -> OpsConsoleApp:
    loaded = load_config(path)
    return OpsConsoleApp(loaded.for_environment(env or loaded.environment), loaded_config=loaded, **kwargs)


async def test_switching_shows_only_the_new_environments_numbers_and_sends_there(backends, tmp_path):
    eu, staging = backends["prod-eu"], backends["staging"]
    app = app_for(write_config(tmp_path, {name: s.url for name, s in backends.items()}))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="prod-eu's first data")
        assert header(app).startswith(" opsconsole  prod-eu (1/2)")
        assert f"Dead letters {EU_DEAD_LETTERS}" in screen_text(app)

        # An incident declared on prod-eu: it records where.
        await pilot.press("i", "D", *"queue stuck", "enter", "enter")  # the severity prompt offers SEV-2
        await wait_for(pilot, lambda: app.incident is not None, what="the incident")
        assert app.incident.environment == "prod-eu"
        await pilot.press("escape")

        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the environment picker")
        picker = screen_text(app)
        assert "● prod-eu" in picker and "(production, on screen)" in picker and eu.url in picker and staging.url in picker
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: " staging " in header(app), what="staging in the header")
        # From the switch until staging's first data, nothing of prod-eu is on screen.
        while not has_data(app):
            text = screen_text(app)
            assert f"Dead letters {EU_DEAD_LETTERS}" not in text and "prod-eu (1/2)" not in text
            await pilot.pause(0.02)
        await wait_for(pilot, lambda: "Dead letters 0" in screen_text(app), what="staging's dead letters")
        first = header(app)
        assert first.lstrip().startswith("staging (2/2)") and "in prod-eu" in first  # the incident is prod-eu's (the app name gave way)

        await open_drain_confirmation(app, pilot)
        worker = app.screen.plan.targets[0]
        confirmation = screen_text(app)
        assert "on  staging " in confirmation and f"POST {staging.url}/v1/workers/{worker}/drain" in confirmation
        await pilot.press(*f"drain {worker}", "enter")
        await wait_for(pilot, lambda: staging.mutations, what="the drain at staging's backend")
        assert [m["path"] for m in staging.mutations] == [f"/v1/workers/{worker}/drain"]
        assert eu.mutations == []
        await wait_for(pilot, lambda: any(r["type"] == "result" for r in audit_records(tmp_path)), what="the result record")

        # A status update is about the incident's environment, not staging's numbers.
        await pilot.press("i", "u")
        await wait_for(pilot, lambda: isinstance(app.screen, StatusUpdateScreen), what="the status-update composer")
        assert "Scope: environment prod-eu" in app.screen.text
        assert "signals unavailable: the console is on staging, the incident is in prod-eu" in app.screen.text

    records = audit_records(tmp_path)
    switch = next(r for r in records if r["type"] == "environment")
    assert (switch["from"], switch["to"], switch["incident"]) == ("prod-eu", "staging", app.incident.id)
    assert [r["environment"] for r in records if r["type"] in ("intent", "result")] == ["staging", "staging"]
    timeline = [e.text for e in IncidentStore(tmp_path / "state.db").timeline(app.incident.id)]
    assert "switched environment prod-eu → staging" in timeline

    from console.incident_record import read_record
    from console.review import review_markdown

    controls = app.controls
    record = read_record(controls.store, controls.audit, app.incident.id, [], time.time())
    action = next(e for e in record.timeline if e.kind == "action")
    assert action.text == f"Drain worker {worker} on staging: done (HTTP 200)"  # not where the incident was declared
    assert "| Environment | prod-eu (actions also on staging) |" in review_markdown(record, "staging")


async def test_break_glass_ends_on_a_switch_and_an_action_in_flight_holds_it(backends, tmp_path):
    eu = backends["prod-eu"]
    config = write_config(tmp_path, {name: s.url for name, s in backends.items()}, top="read_only = true")
    app = app_for(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app) and "READ-ONLY" in header(app), what="the read-only badge")
        await pilot.press("b")
        await wait_for(pilot, lambda: "Break glass on prod-eu" in screen_text(app), what="the break-glass prompt naming prod-eu")
        await pilot.press(*"drain the stuck worker now", "enter")
        await wait_for(pilot, lambda: "UNLOCKED" in header(app), what="the unlock")

        # A drain that takes a while: no switch until it is done.
        set_faults(eu, {"route": "/v1/workers/", "kind": "latency", "seconds": 1.5})
        await open_drain_confirmation(app, pilot)
        await pilot.press(*app.screen.plan.phrase, "enter")
        await wait_for(pilot, lambda: app.controls.executor.in_flight, what="the drain in flight")
        await pilot.press("e")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, PickScreen)
        assert "Not switched: an action is still being sent to prod-eu" in notices(app)
        await wait_for(pilot, lambda: eu.mutations and not app.controls.executor.in_flight, what="the drain to finish")

        await switch_to(app, pilot, "staging")
        await wait_for(pilot, lambda: "READ-ONLY" in header(app), what="read-only again on staging")
    relocked = [r for r in audit_records(tmp_path) if r["type"] == "relocked"]
    assert [r["text"] for r in relocked] == ["read-only again (switched environment to staging)"]


async def test_one_environment_offers_no_switch_and_keeps_the_palette_hint(demo_server, tmp_path):
    from tests.conftest import config_for

    app = OpsConsoleApp(config_for(demo_server.url))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        await pilot.press("e")
        await wait_for(pilot, lambda: "palette" in screen_text(app).splitlines()[-1], what="the footer")
        assert app.screen is app.dashboard and "e Env" not in screen_text(app).splitlines()[-1]
        assert header(app).startswith(" opsconsole  demo   data")


async def test_several_environments_fit_the_footer_and_the_palette_switches(backends, tmp_path):
    app = app_for(write_config(tmp_path, {name: s.url for name, s in backends.items()}), env="staging")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app) and "e Env" in screen_text(app).splitlines()[-1], what="first data and the footer")
        assert screen_text(app).splitlines()[-1].rstrip().endswith("s Signals")  # every key fits 80 columns
        assert header(app).startswith(" opsconsole  staging (2/2)")
        await pilot.press("ctrl+p")
        await pilot.press(*"Switch to prod-eu")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: " prod-eu " in header(app) and has_data(app), what="prod-eu's data")
        assert f"Dead letters {EU_DEAD_LETTERS}" in screen_text(app)


# -- the command line -------------------------------------------------------------------


def test_demo_starts_one_backend_per_environment_and_env_picks_the_opening_one(tmp_path):
    urls = {"prod-eu": "https://eu.example.internal", "prod-us": "https://us.example.internal", "staging": "https://st.example.internal"}
    loaded = load_config(write_config(tmp_path, urls))
    args = build_parser().parse_args(["--demo", "--scenario", "backlog", "--seed", "5", "--speed", "0", "--env", "prod-us"])
    servers, aimed = _start_demo(args, loaded, "prod-us")
    try:
        assert len(servers) == 3
        by_url = {server.url: server for server in servers}
        for name in urls:
            env = aimed.for_environment(name)
            assert env.api.base_url in by_url and env.metrics_url == env.api.base_url + "/metrics"
        opening = by_url[aimed.for_environment("prod-us").api.base_url].sim
        others = [by_url[aimed.for_environment(n).api.base_url].sim for n in ("prod-eu", "staging")]
        assert (opening.scenario.name, opening.seed) == ("backlog", 5)
        assert {o.scenario.name for o in others} == {"healthy"} and len({5, *(o.seed for o in others)}) == 3
        assert "example.internal" not in aimed.model_dump_json()  # nothing left pointing at a real system
    finally:
        for server in servers:
            server.stop()


def test_an_unknown_env_is_a_config_error_naming_the_known_ones(tmp_path, capsys):
    path = write_config(tmp_path, {"prod-eu": "https://eu.example.internal", "staging": "https://st.example.internal"})
    assert main(["--config", str(path), "--env", "prod-mars", "--demo"]) == 2
    assert "--env = 'prod-mars': no environment 'prod-mars' (known: prod-eu, staging)" in capsys.readouterr().err


def test_evidence_and_incident_commands_use_the_env_given(backends, tmp_path, capsys):
    path = write_config(tmp_path, {name: s.url for name, s in backends.items()})
    assert main(["--config", str(path), "evidence", "--env", "staging", "--out", str(tmp_path / "ev")]) == 0
    (bundle,) = (tmp_path / "ev").iterdir()
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert bundle.name.startswith("evidence-staging-") and manifest["environment"] == "staging"
    assert manifest["api"] == backends["staging"].url
    assert all(f["source"].startswith(backends["staging"].url) for f in manifest["files"] if f.get("source", "").startswith("http"))

    assert main(["--config", str(path), "incident", "declare", "dead letters piling up", "-s", "SEV-3", "--env", "staging"]) == 0
    incident = IncidentStore(tmp_path / "state.db").current()
    assert incident.environment == "staging" and "declared in staging" in capsys.readouterr().out
    assert main(["--config", str(path), "--env", "staging", "incident", "export", incident.id]) == 0
    assert "| Environment | staging |" in capsys.readouterr().out


def test_check_config_reports_each_environment_and_an_unreadable_token_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EU_TOKEN", "s3cret-eu")
    urls = {"prod-eu": "https://eu.example.internal", "staging": "https://st.example.internal"}
    path = write_config(tmp_path, urls, tokens={"staging": "EU_TOKEN"})
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 environments:" in out
    assert "  prod-eu (opens first) production: https://eu.example.internal, token $OPSCONSOLE_TOKEN (not set)" in out
    assert "  staging: https://st.example.internal, token $EU_TOKEN (set)" in out and "s3cret" not in out

    path.write_text(path.read_text().replace('token_env = "EU_TOKEN"', f'token_file = "{tmp_path / "missing"}"'))
    assert main(["check-config", str(path)]) == 2
    assert f"environments.staging.token_file = '{tmp_path / 'missing'}'" in capsys.readouterr().err


def test_a_state_file_from_before_environments_gains_the_column(tmp_path):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE incidents (id TEXT PRIMARY KEY, title TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL, "
            "commander TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL)"
        )
        db.execute("INSERT INTO incidents VALUES ('INC-2026-01-01-001', 'old one', 'SEV-3', 'investigating', 'ann', 1.0, NULL)")
    store = IncidentStore(path)
    assert store.get("INC-2026-01-01-001").environment == ""
    assert store.declare("new one", "SEV-2", "", "bob", "prod-eu").environment == "prod-eu"


def test_every_environments_token_is_kept_out_of_the_audit_log(tmp_path, monkeypatch):
    from console.controls import build_controls

    monkeypatch.setenv("EU_TOKEN", "tok-eu-123456")
    monkeypatch.setenv("ST_TOKEN", "tok-st-654321")
    urls = {"prod-eu": "https://eu.example.internal", "staging": "https://st.example.internal"}
    path = write_config(tmp_path, urls, tokens={"prod-eu": "EU_TOKEN", "staging": "ST_TOKEN"})
    controls = build_controls(load_config(path).for_environment("prod-eu"))
    written = controls.audit.append({"type": "note", "text": "pasted tok-st-654321 and tok-eu-123456"})
    assert "tok-" not in json.dumps(written)


async def test_an_exec_action_inherits_no_environments_token(tmp_path):
    """kubectl run for prod-eu must see neither prod-eu's token nor prod-us's or staging's."""
    from console.config import load_config, profile_config_path
    from console.controls import build_controls

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text("#!/bin/sh\nenv\n")
    (bin_dir / "kubectl").chmod(0o755)
    environ = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "USER": "alice",
        "RUNTIME_PROD_EU_TOKEN": "eu-secret-1",
        "RUNTIME_PROD_US_TOKEN": "us-secret-2",
        "RUNTIME_STAGING_TOKEN": "staging-secret-3",
        "KUBECONFIG": "/tmp/kubeconfig",
    }
    config = load_config(profile_config_path("runtime")).for_environment("prod-eu")
    config = config.model_copy(update={
        "incident": config.incident.model_copy(update={"state_path": str(tmp_path / "state.db")}),
        "audit": config.audit.model_copy(update={"path": str(tmp_path / "audit.jsonl")}),
    })
    controls = build_controls(config, environ=environ)
    executor = controls.executor
    plan = executor.plan("restart-workers")
    outcome = await executor.run(executor.confirm(plan, plan.phrase))
    await controls.aclose()
    assert outcome.ok, outcome.summary()
    seen = outcome.results[0].body
    assert "KUBECONFIG=/tmp/kubeconfig" in seen  # what the command needs is handed on
    assert not any(secret in seen for secret in ("eu-secret-1", "us-secret-2", "staging-secret-3"))


def test_an_export_hides_every_environments_token(tmp_path):
    """A prod-us token pasted into a note on a prod-eu console never reaches the review."""
    import subprocess
    import sys

    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "USER": "alice", "RUNTIME_PROD_US_TOKEN": "us-secret-2"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "console.cli", "--profile", "runtime", "incident", *args],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )
    declared = run("declare", "--severity", "SEV-3", "drill")
    assert declared.returncode == 0, declared.stderr
    assert run("status", "--note", "pasted us-secret-2 by mistake").returncode == 0
    incident_id = re.search(r"INC-[0-9-]+", declared.stdout).group(0)
    review = run("export", incident_id)
    assert review.returncode == 0, review.stderr
    assert "pasted" in review.stdout and "us-secret-2" not in review.stdout
