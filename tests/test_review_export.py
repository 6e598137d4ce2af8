"""The post-incident review: `opsconsole incident export` and `e` on the Incident screen,
from a real incident file, a real audit log and actions sent to the demo backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from console.audit import AuditLog
from console.demo.server import DemoServer
from console.incident_record import read_timeline
from screens.app import OpsConsoleApp
from screens.incident import IncidentScreen
from tests.conftest import screen_text, set_faults, wait_for
from tests.test_actions import Clock, parts
from tests.test_guarded_ui import shared_config
from tests.test_incident import incident_cli, write_config

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "s3cret-token-value-42"
START = 1_800_000_000.0  # 2027-01-15T08:00:00Z
HOSTILE_NOTE = "fix | deploy\n| injected | row |\x1b[2J [bold]x[/]"
# A tick counts only on the words it was made on: these are the shipped runbook's.
PAUSE_STEP = "Pause intake so the backlog stops growing; producers keep their work and resend it later."
SECTIONS = ["Summary", "Severity", "Duration", "Timeline", "Actions taken", "Checklist completion", "Root cause", "Contributing factors", "Action items"]


@pytest.fixture
def resolved_incident(tmp_path, monkeypatch):
    """A resolved incident with notes, ticks, a done and a failed action (the backend needs a token)."""
    monkeypatch.setenv("OPSCONSOLE_TOKEN", TOKEN)
    server = DemoServer(port=0, speed=0, seed=7, warmup_s=30, token=TOKEN).start()
    clock = Clock(START)
    config, executor, policy, _, store = parts(tmp_path, server.url, clock=clock, token=TOKEN)

    async def run_incident() -> str:
        inc = store.declare("Provider | outage", "SEV-2", "", "bob")
        clock.now += 60
        store.set_severity(inc.id, "SEV-1", "bob")
        clock.now += 60
        store.add_event(inc.id, "carol", "note", HOSTILE_NOTE)
        store.add_event(inc.id, "carol", "note", f"tried curl -H 'Authorization: Bearer {TOKEN}'")
        store.tick(inc.id, "queue-backlog", "dispatch-stalled/3.1", PAUSE_STEP, True, "carol")
        store.tick(inc.id, "gone-book", "steps/1", "Restart the thing", True, "dave")
        clock.now += 60
        store.set_severity(inc.id, "SEV-2", "bob")
        policy.incident_changed(store.current())
        clock.now += 60
        assert (await executor.run(executor.confirm(executor.plan("drain-worker", ["w-03"]), "drain w-03"))).ok
        clock.now += 60
        set_faults(server, {"route": "/v1/workers", "kind": "hostile", "status": 500, "text": "boom | x\n## injected"})
        assert not (await executor.run(executor.confirm(executor.plan("drain-worker", ["w-04"]), "drain w-04"))).ok
        clock.now += 100
        store.resolve(inc.id, "bob", "recovered")
        await executor.aclose()
        return inc.id

    yield server, store, run_incident
    server.stop()


def export_config(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace('dirs = ["runbooks"]', f'dirs = ["{ROOT / "runbooks"}"]', 1))
    return path


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of raw cell contents, the way a Markdown renderer splits them."""
    found, rows, row = [], None, None
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        if token.type == "table_open":
            rows = []
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_close":
            rows.append(row)
            row = None
        elif token.type == "table_close":
            found.append(rows)
    return found


async def test_cli_export_has_every_section_a_row_per_event_escapes_and_redacts(tmp_path, resolved_incident):
    _, store, run_incident = resolved_incident
    incident_id = await run_incident()
    config = export_config(tmp_path)

    result = incident_cli(config, "export", incident_id)
    assert result.returncode == 0, result.stderr
    assert " textual" not in result.stderr  # importtime: the export never loads the UI
    text = result.stdout
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == SECTIONS
    assert TOKEN not in text and "Bearer [redacted]" in text
    assert text.split("## Root cause\n")[1].startswith("\n## Contributing factors\n\n## Action items\n\n---\n")

    summary, timeline, actions = tables(text)
    assert ["Title", "Provider | outage"] in summary and ["Commander", "bob"] in summary  # one cell: `\|` unescaped
    assert ["Environment", "demo"] in summary and ["Status", "resolved"] in summary
    entries = read_timeline(store, AuditLog(tmp_path / "audit.jsonl").records(), store.get(incident_id), START + 1000)
    assert len(timeline) == 1 + len(entries) == 1 + 10  # header, then one row per event
    assert all(len(row) == 4 for row in timeline)
    assert timeline[0] == ["Time (UTC)", "Operator", "Kind", "Text"]
    assert timeline[1][:3] == ["2027-01-15 08:00:00", "bob", "declared"]
    hostile = next(row for row in timeline if row[2] == "note" and "deploy" in row[3])
    assert hostile[3] == "fix | deploy␊| injected | row |␛[2J [bold]x[/]"
    assert "| fix \\| deploy␊\\| injected \\| row \\|␛[2J [bold]x[/] |" in text
    assert [row[2] for row in timeline[1:]] == [
        "declared", "severity", "note", "note", "tick", "tick", "severity", "action", "action", "resolved"
    ]

    assert "SEV-2 at the end; the highest was SEV-1." in text
    assert "Started 2027-01-15 08:00:00 UTC, ended 2027-01-15 08:06:40 UTC: 6 min 40 s." in text
    assert len(actions) == 3 and actions[1][:5] == [
        "2027-01-15 08:04:00", "alice@10.0.0.7", "Drain worker (`drain-worker`)", "w-03", "done (HTTP 200)"
    ]
    assert actions[2][3] == "w-04" and actions[2][4] == "FAILED (boom | x␊## injected)"
    assert "### Queue backlog (`queue-backlog`): 1/" in text
    assert "- [x] `dispatch-stalled/3.1` Pause intake so the backlog stops growing; producers keep" in text
    assert "resend it later. (carol, 2027-01-15 08:02:00 UTC)\n- [ ] `dispatch-stalled/3.2` Write on" in text
    assert "### gone-book (`gone-book`): 1 ticked, total unknown (not found in the runbook directories)" in text

    out = tmp_path / "review.md"
    written = incident_cli(config, "export", incident_id, "--out", str(out))
    assert written.returncode == 0 and written.stdout.strip() == f"wrote {out}"
    assert out.read_text().splitlines()[:-1] == text.splitlines()[:-1]  # all but the export time

    unknown = incident_cli(config, "export", "INC-1999-01-01-001")
    assert unknown.returncode == 1 and "no incident 'INC-1999-01-01-001'" in unknown.stderr and "Traceback" not in unknown.stderr


async def test_e_on_the_incident_screen_writes_the_same_review(tmp_path, resolved_incident):
    server, store, run_incident = resolved_incident
    incident_id = await run_incident()
    set_faults(server)
    app = OpsConsoleApp(shared_config(server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.shown is not None, what="the last incident")
        text = screen_text(app)
        assert "No open incident" in text and f"{incident_id}  SEV-2  resolved" in text
        assert "deploy␊| injected | row |␛[2J" in text  # the hostile note, shown literally
        assert "[redacted]" in text and TOKEN not in text  # a pasted token is not shown either
        await pilot.press("e")
        reviews = tmp_path / "xdg-data" / "opsconsole" / "reviews"
        await wait_for(pilot, lambda: any(reviews.glob("*.md")), what="the review file")
        [path] = reviews.glob("*.md")
        assert path.name.startswith(incident_id + "-")
        await wait_for(pilot, lambda: "Post-incident review written to" in "\n".join(n.message for n in app._notifications), what="the path")
        app.set_keymap({"incident.export": "x"})  # what `[keys] "incident.export" = "x"` does
        await pilot.press("x")
        await wait_for(pilot, lambda: len(list(reviews.glob("*.md"))) == 2, what="a second review from the remapped key")
    cli = incident_cli(export_config(tmp_path), "export", incident_id)
    assert path.read_text().splitlines()[:-1] == cli.stdout.splitlines()[:-1]
    assert TOKEN not in path.read_text()
