"""Incident state: one SQLite file shared by consoles and the CLI on a host."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from console.incident import IncidentError, IncidentStore, store_path
from console.config import shipped_config_path

ROOT = Path(__file__).resolve().parent.parent
DAY = 1795447495.0  # 2026-11-23T...Z


def test_declare_allocates_daily_ids_and_records_a_timeline(tmp_path):
    store = IncidentStore(tmp_path / "state.db", clock=lambda: DAY)
    first = store.declare("Provider outage", "SEV-2", "", "alice")
    second = store.declare("Storage errors", "SEV-3", "bob", "alice")
    assert (first.id, second.id) == ("INC-2026-11-23-001", "INC-2026-11-23-002")
    assert first.commander == "alice" and first.status == "investigating"
    store.set_severity(first.id, "SEV-1", "carol")
    store.set_status(first.id, "mitigating", "carol", "failing over to the backup provider")
    done = store.resolve(first.id, "carol", "backlog drained")
    assert done.status == "resolved" and done.ended_at == DAY
    kinds = [(e.operator, e.kind) for e in store.timeline(first.id)]
    assert kinds == [("alice", "declared"), ("carol", "severity"), ("carol", "status"), ("carol", "resolved")]
    assert "failing over" in store.timeline(first.id)[2].text
    with pytest.raises(IncidentError, match="already resolved"):
        store.set_status(first.id, "monitoring", "carol")
    with pytest.raises(IncidentError, match="severity must be one of"):
        store.declare("x", "SEV-0", "", "alice")
    assert sqlite3.connect(tmp_path / "state.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_current_incident_is_the_most_severe_open_one(tmp_path):
    store = IncidentStore(tmp_path / "state.db")
    assert store.current() is None
    sev1 = store.declare("Queue stalled", "SEV-1", "", "alice")
    store.declare("Minor latency", "SEV-3", "", "bob")
    assert store.current().id == sev1.id  # a later SEV-3 does not hide an open SEV-1
    store.resolve(sev1.id, "alice")
    assert store.current().severity == "SEV-3"


def test_two_stores_on_one_file_see_each_other_and_never_share_an_id(tmp_path):
    path = tmp_path / "state.db"
    a, b = IncidentStore(path), IncidentStore(path)
    made = a.declare("From console A", "SEV-2", "", "alice")
    assert b.current() == made
    ids: list[str] = []
    threads = [threading.Thread(target=lambda s=s: ids.append(s.declare("race", "SEV-4", "", "x").id)) for s in (a, b) * 5]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 10


def test_default_state_path_is_in_the_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert store_path("") == tmp_path / "opsconsole" / "incidents.db"
    assert store_path("~/x.db") == Path.home() / "x.db"


def test_the_demo_keeps_its_incidents_apart_from_the_real_ones(tmp_path):
    """A SEV-1 declared to try the demo must not make this host's real consoles read-only."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "USER": "alice"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "console.cli", *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )
    declared = run("--demo", "incident", "declare", "--severity", "SEV-1", "demo", "drill")
    assert declared.returncode == 0, declared.stderr
    assert (tmp_path / "opsconsole" / "demo" / "incidents.db").exists()
    assert (tmp_path / "opsconsole" / "demo" / "audit.jsonl").exists()
    assert not (tmp_path / "opsconsole" / "incidents.db").exists()
    real = run("--config", str(shipped_config_path()), "incident", "list")
    assert real.returncode == 0 and "demo drill" not in real.stdout
    assert "demo drill" in run("--demo", "incident", "list").stdout


def write_config(tmp_path: Path) -> Path:
    text = shipped_config_path().read_text()
    text = text.replace('state_path = ""', f'state_path = "{tmp_path / "state.db"}"', 1)
    text = text.replace('\npath = ""', f'\npath = "{tmp_path / "audit.jsonl"}"', 1)
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def incident_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # -X importtime lists every module imported: the CLI path must not load Textual.
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "console.cli", "--config", str(config), "incident", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "USER": "alice", "SSH_CONNECTION": "10.0.0.7 51234 10.0.0.1 22"},
        timeout=60,
    )


def test_cli_declares_updates_and_resolves_without_loading_textual(tmp_path):
    config = write_config(tmp_path)
    declared = incident_cli(config, "declare", "--severity", "SEV-2", "Provider", "outage")
    assert declared.returncode == 0, declared.stderr
    assert "INC-" in declared.stdout and "SEV-2  investigating" in declared.stdout
    assert " textual" not in declared.stderr  # importtime output

    changed = incident_cli(config, "status", "--set", "mitigating", "--severity", "SEV-1", "--note", "failover")
    assert changed.returncode == 0, changed.stderr
    store = IncidentStore(tmp_path / "state.db")
    current = store.current()
    assert (current.severity, current.status) == ("SEV-1", "mitigating")
    assert store.timeline(current.id)[-1].operator == "alice@10.0.0.7"

    shown = incident_cli(config, "status")
    assert "failover" in shown.stdout
    assert incident_cli(config, "resolve", "--note", "recovered").returncode == 0
    assert store.current() is None
    again = incident_cli(config, "resolve")
    assert again.returncode == 1 and "no open incident" in again.stderr and "Traceback" not in again.stderr

    listed = incident_cli(config, "list").stdout.splitlines()
    assert len(listed) == 1 and "SEV-1  resolved" in listed[0] and listed[0].endswith("Provider outage")

    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [r["type"] for r in records] == ["incident"] * 3
    assert records[0]["operator"] == {"user": "alice", "client": "10.0.0.7"}
    assert (tmp_path / "audit.jsonl").stat().st_mode & 0o777 == 0o600


def test_cli_prints_hostile_titles_notes_and_names_inert(tmp_path):
    config = write_config(tmp_path)
    hostile = "\x1b[2J\x1b]52;c;cHduZWQ=\x07\u202e"  # erase the screen, write the clipboard, reverse the line
    store = IncidentStore(tmp_path / "state.db")
    incident = store.declare(f"Queue {hostile}stalled", "SEV-2", f"mallory{hostile}", f"mallory{hostile}")
    noted = incident_cli(config, "status", "--note", f"ETA {hostile}09:30")
    assert noted.returncode == 0, noted.stderr
    assert store.timeline(incident.id)[-1].text.endswith(f"ETA {hostile}09:30")  # stored as typed
    shown = incident_cli(config, "status")
    listed = incident_cli(config, "list")
    for run in (noted, shown, listed):
        assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout and "\u202e" not in run.stdout
    inert = "␛[2J␛]52;c;cHduZWQ=␇<U+202E>"
    assert f"Queue {inert}stalled" in shown.stdout and f"ETA {inert}09:30" in shown.stdout
    assert f"commander mallory{inert}" in shown.stdout and f"mallory{inert}  declared" in shown.stdout
    assert f"Queue {inert}stalled" in listed.stdout
