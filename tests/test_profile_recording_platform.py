"""The recording-platform profile end to end: retention was paused and forgotten while the
detector consumers stopped, so stale recordings pile up past the 10k threshold and the
stream lags on every shard. The operator sees both with the backend's numbers, declares
an incident, follows the retention-backlog runbook from the dashboard's suggestion,
resumes retention and runs it now (HTTP, in the backend's ledger), starts the cluster's
retention Job (kubectl, a recording stub first on PATH), and exports the review."""

from __future__ import annotations

from screens.app import OpsConsoleApp
from tests.conftest import screen_text, wait_for
from tests.demo_http import advance, get, post
from tests.profile_e2e import profile_backend, profile_config, recorded_calls, recording_stub, stubs_first_on_path
from tests.profile_ui import open_suggested_runbook, reading, run_linked_action, tick, value_of
from tests.profile_walkthrough import declare, export_review


async def test_recording_platform_profile_from_signals_to_review(tmp_path, monkeypatch):
    kubectl_calls = recording_stub(tmp_path / "bin", "kubectl", output="job.batch/retention-manual-inc1 created")
    stubs_first_on_path(monkeypatch, tmp_path / "bin")
    with profile_backend("recording-platform") as server:
        post(server, "/api/retention/pause").raise_for_status()  # during an earlier incident
        advance(server, 3 * 3600, "backlog")
        status = get(server, "/api/retention/status").json()
        shards = get(server, "/api/streams/recordings").json()["shards"]
        assert status["paused"] and status["backlog"] > 10_000

        app = OpsConsoleApp(profile_config("recording-platform", server.url, tmp_path, environment="prod-eu"))
        async with app.run_test(size=(80, 24)) as pilot:
            names = ("retention_backlog", "last_run_deleted", "stream_lag")
            await wait_for(pilot, lambda: all(value_of(app, n) is not None for n in names), what="the signals")
            assert value_of(app, "retention_backlog") == status["backlog"]
            assert reading(app, "retention_backlog").level.value == "crit"
            assert value_of(app, "last_run_deleted") == status["last_run"]["deleted_count"]
            lag = reading(app, "stream_lag")
            assert lag.value == max(s["lag"] for s in shards) and lag.level.value == "crit"
            by_shard = {s["shard"]: s["lag"] for s in shards}
            assert lag.series and all(by_shard[dict(s.labels)["shard"]] == s.value for s in lag.series)
            assert lag.series_count == 4
            text = screen_text(app)
            assert "Retention backlog" in text and "Stream lag" in text and "prod-eu" in text
            await wait_for(pilot, lambda: f"{status['backlog']:,} " in screen_text(app), what="the backlog on its tile")

            incident_id = await declare(app, pilot, "Retention paused, backlog past 10k")
            runbook = await open_suggested_runbook(pilot, app, "Retention backlog")
            assert runbook.runbook.id == "retention-backlog"
            await tick(pilot, runbook, "retention-backlog/1", "why-the-runs-do-not-keep-up/1", "why-the-runs-do-not-keep-up/2")

            await run_linked_action(pilot, app, runbook, "catch-up/2", phrase="resume retention")
            await wait_for(pilot, lambda: len(server.mutations) == 2, what="the resume to reach the backend")
            shown = await run_linked_action(pilot, app, runbook, "catch-up/3", phrase="run retention")
            assert f"POST {server.url}/api/retention/runs" in shown and "prod-eu" in shown
            await wait_for(pilot, lambda: len(server.mutations) == 3, what="the run to reach the backend")
            assert [(m["path"], m["status"]) for m in server.mutations] == [
                ("/api/retention/pause", 200),
                ("/api/retention/resume", 200),
                ("/api/retention/runs", 200),
            ]
            run = get(server, "/api/retention/status").json()["last_run"]
            assert run["trigger"].startswith("manual") and run["deleted_count"] == status["backlog"]
            await wait_for(pilot, lambda: value_of(app, "retention_backlog") == 0, what="the backlog tile to drop")
            await wait_for(pilot, lambda: value_of(app, "last_run_deleted") == status["backlog"], what="the deleted count")

            await run_linked_action(pilot, app, runbook, "catch-up/4", value="retention-manual-inc1", phrase="create retention-manual-inc1")
            await wait_for(pilot, lambda: recorded_calls(kubectl_calls), what="kubectl to be run")
            assert recorded_calls(kubectl_calls) == [
                ["--context", "recordings-prod-eu", "-n", "recordings", "create", "job", "--from=cronjob/retention", "retention-manual-inc1"]
            ]
            await tick(pilot, runbook, "catch-up/2", "catch-up/3", "catch-up/4")

            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dashboard")
            review = await export_review(app, pilot, tmp_path / "xdg-data")

    assert incident_id in review
    for key in ("retention-backlog/1", "why-the-runs-do-not-keep-up/1", "why-the-runs-do-not-keep-up/2", "catch-up/2", "catch-up/3", "catch-up/4"):
        assert f"- [x] `{key}`" in review
    assert "- [ ] `catch-up/1`" in review
    for action in ("Resume retention (`resume-retention`)", "Run retention now (`run-retention`)", "Run retention Job (kubectl) (`run-retention-job`)"):
        assert action in review

