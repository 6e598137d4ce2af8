"""The runtime profile end to end: its config in one of its environments against the demo
backend speaking the runtime's API, driven by keys from a backlog to the review."""

from __future__ import annotations

from screens.app import OpsConsoleApp
from screens.runbook_view import RunbookScreen
from tests.conftest import screen_text, wait_for
from tests.test_config import run_cli
from tests.profile_e2e import profile_backend, profile_config, recorded_calls, recording_stub, stubs_first_on_path
from tests.profile_walkthrough import (
    assert_review, back_to_dashboard, backend_samples, confirm, declare, export_review, pick, run_linked_action, tick, tiles_match_backend,
)


async def test_a_backlog_on_the_runtime_from_signals_to_the_review(tmp_path, monkeypatch):
    kubectl = recording_stub(tmp_path / "bin", "kubectl", "deployment.apps/runtime-worker restarted")
    stubs_first_on_path(monkeypatch, tmp_path / "bin")
    with profile_backend("runtime") as server:
        server.sim.set_scenario("backlog")
        server.sim.advance(900)  # workers stopped claiming 15 minutes ago
        metrics = {name: rows[0][1] for name, rows in backend_samples(server).items() if len(rows) == 1}
        assert metrics["oris_runtime_queue_depth"] > 500
        app = OpsConsoleApp(profile_config("runtime", server.url, tmp_path, environment="prod-us"))
        async with app.run_test(size=(80, 24)) as pilot:
            text = await tiles_match_backend(app, pilot, server, {
                "queue_depth": metrics["oris_runtime_queue_depth"],
                "terminal_error_rate": metrics["oris_runtime_terminal_error_rate"] * 100,
                "lease_conflict_rate": metrics["oris_runtime_lease_conflict_rate"] * 100,
                "recovery_latency": metrics["oris_runtime_recovery_latency_ms"],
            })
            assert " prod-us " in text.splitlines()[0] and "CRIT" in text
            await declare(app, pilot, "Runtime queue not draining")

            # The suggestion names the main runbook's section; g opens it there.
            await wait_for(pilot, lambda: "runbook: Queue backlog › Dispatch stalled  (g)" in screen_text(app), what="the suggestion")
            await pilot.press("g")
            await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen) and app.screen.loaded, what="the runbook")
            screen = app.screen
            await pilot.press("j")
            ticked = [await tick(app, pilot, screen)]
            await pilot.press("j")
            ticked.append(await tick(app, pilot, screen))
            shown = await run_linked_action(app, pilot, screen, "pause-intake", "pause intake")
            assert f"POST {server.url}/v1/intake/pause" in shown and " prod-us " in shown
            await wait_for(pilot, lambda: server.mutations, what="the pause at the backend")
            assert [(m["method"], m["path"], m["applied"]) for m in server.mutations] == [("POST", "/v1/intake/pause", True)]
            assert server.mutations[0]["idempotency_key"] and server.sim.intake_paused
            ticked.append(await tick(app, pilot, screen))

            # The exec action from the dashboard's action list, in this environment's context.
            await back_to_dashboard(app, pilot)
            await pilot.press("a")
            await pick(app, pilot, "Restart the worker deployment")
            shown = await confirm(app, pilot, "restart runtime-prod-us")
            assert "Restart the worker deployment  on  prod-us" in shown
            assert 'exec ["kubectl", "--context", "runtime-prod-us", "-n", "runtime",' in shown and '"deployment/runtime-worker"]' in shown
            await wait_for(pilot, lambda: recorded_calls(kubectl), what="the kubectl stub to run")
            assert recorded_calls(kubectl) == [["--context", "runtime-prod-us", "-n", "runtime", "rollout", "restart", "deployment/runtime-worker"]]

            review = await export_review(app, pilot, tmp_path / "xdg-data")
    assert_review(review, "prod-us", "Runtime queue not draining", "queue-backlog", ticked,
                  {"pause-intake": "Pause intake", "restart-workers": "Restart the worker deployment"})
    assert "done (HTTP 200)" in review and "done (exit 0)" in review


def test_check_config_passes_with_the_projects_runbooks():
    result = run_cli("--profile", "runtime", "check-config")
    assert result.returncode == 0 and "environment 'prod-eu', 6 signals, 4 runbooks" in result.stdout, result.stdout + result.stderr
