"""The lecture-pipeline profile end to end: its config in one of its environments against
the demo backend speaking the pipeline's API (no leases, two health services, page-paged
dead letters), driven by keys from stalled workers to the review."""

from __future__ import annotations

from screens.app import OpsConsoleApp
from tests.conftest import screen_text, wait_for
from tests.test_config import run_cli
from tests.profile_e2e import profile_backend, profile_config, recorded_calls, recording_stub, stubs_first_on_path
from tests.profile_walkthrough import assert_review, backend_samples, declare, export_review, run_linked_action, tick, tiles_match_backend
from tests.test_runbook_panel import open_runbook

RESTART = ["--context", "lecture-prod-eu", "-n", "lecture", "rollout", "restart", "deployment/lecture-worker"]


async def test_stalled_workers_on_the_lecture_pipeline_from_signals_to_the_review(tmp_path, monkeypatch):
    kubectl = recording_stub(tmp_path / "bin", "kubectl", 'deployment.apps/lecture-worker restarted')
    stubs_first_on_path(monkeypatch, tmp_path / "bin")
    with profile_backend("lecture-pipeline") as server:
        server.sim.set_scenario("stale-leases")  # most workers stop heartbeating and taking jobs
        server.sim.advance(1500)
        samples = backend_samples(server)
        depth = samples["lecture_queue_depth"][0][1]
        assert depth > 500
        app = OpsConsoleApp(profile_config("lecture-pipeline", server.url, tmp_path, environment="prod-eu"))
        async with app.run_test(size=(80, 24)) as pilot:
            text = await tiles_match_backend(app, pilot, server, {
                "queue_depth": depth,
                "stage_success": min(value for _, value in samples["lecture_stage_success_ratio"]) * 100,
                "provider_latency": samples["lecture_provider_latency_p95_seconds"][0][1],
            })
            assert " prod-eu " in text.splitlines()[0] and "6 stalled" in text  # the workers' health service
            assert "Leases" not in text and "Jobs: 50 recent" in text  # no leases here: recent jobs in their place
            await wait_for(pilot, lambda: "runbook: Queue backlog › Workers not consuming  (g)" in screen_text(app), what="the suggestion")
            await declare(app, pilot, "Lecture queue growing")

            # The main runbook from the list (k), its section for workers that stopped.
            screen = await open_runbook(app, pilot, "backlog")
            await pilot.press("right_square_bracket")
            await pilot.press("j")
            ticked = [await tick(app, pilot, screen)]
            await pilot.press("j")
            ticked.append(await tick(app, pilot, screen))

            shown = await run_linked_action(app, pilot, screen, "pause-intake", "pause intake")
            assert f"POST {server.url}/admin/intake/pause" in shown and " prod-eu " in shown
            await wait_for(pilot, lambda: server.mutations, what="the pause at the backend")
            assert [(m["method"], m["path"], m["applied"]) for m in server.mutations] == [("POST", "/admin/intake/pause", True)]
            assert server.sim.intake_paused
            ticked.append(await tick(app, pilot, screen))

            shown = await run_linked_action(app, pilot, screen, "restart-workers", "restart lecture-prod-eu")
            assert "Restart the worker deployment  on  prod-eu" in shown and '"lecture-prod-eu"' in shown
            await wait_for(pilot, lambda: recorded_calls(kubectl), what="the kubectl stub to run")
            assert recorded_calls(kubectl) == [RESTART]
            ticked.append(await tick(app, pilot, screen))

            review = await export_review(app, pilot, tmp_path / "xdg-data")
    assert_review(review, "prod-eu", "Lecture queue growing", "queue-backlog", ticked,
                  {"pause-intake": "Pause intake", "restart-workers": "Restart the worker deployment"})


def test_check_config_passes_with_its_runbooks():
    result = run_cli("--profile", "lecture-pipeline", "check-config")
    assert result.returncode == 0 and "environment 'prod-eu', 9 signals, 5 runbooks" in result.stdout, result.stdout + result.stderr
