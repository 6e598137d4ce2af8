"""The schedule-generator profile end to end: its config against the demo backend speaking
the schedule generator's API, in a backlog after a burst of bad uploads. The operator sees
the runbook's signals with the backend's numbers, declares an incident, follows the
queue-depth runbook from the dashboard's suggestion, scales the pdf-worker (docker, a
recording stub first on PATH) and retries a failed job (HTTP, in the backend's ledger),
then exports the review."""

from __future__ import annotations

import pytest

from console.format import number
from screens.app import OpsConsoleApp
from tests.conftest import screen_text, wait_for
from tests.demo_http import advance, get
from tests.profile_e2e import profile_backend, profile_config, recorded_calls, recording_stub, stubs_first_on_path
from tests.profile_ui import open_suggested_runbook, reading, run_linked_action, tick, value_of
from tests.profile_walkthrough import declare, export_review


def scrape(server, name: str) -> float:
    return float(next(line.split()[-1] for line in get(server, "/metrics").text.splitlines() if line.startswith(name + " ")))


async def test_schedule_generator_profile_from_signals_to_review(tmp_path, monkeypatch):
    docker_calls = recording_stub(tmp_path / "bin", "docker")
    stubs_first_on_path(monkeypatch, tmp_path / "bin")
    with profile_backend("schedule-generator") as server:
        advance(server, 300, "error-spike")  # bad uploads,
        advance(server, 900, "backlog")  # then the workers stop
        counts = get(server, "/api/jobs/metrics").json()
        failed_id = get(server, "/api/jobs/failed?start=0&count=1").json()["jobs"][0]["id"]
        assert counts["waiting"] > 500 and counts["failed"] > 0

        app = OpsConsoleApp(profile_config("schedule-generator", server.url, tmp_path, environment="prod-us"))
        async with app.run_test(size=(80, 24)) as pilot:
            expected = {
                "queue_waiting": counts["waiting"],
                "error_rate": scrape(server, "schedgen_http_error_ratio") * 100,
                "latency_p95": scrape(server, "schedgen_http_p95_seconds"),
            }
            await wait_for(pilot, lambda: all(value_of(app, n) is not None for n in expected), what="the signals")
            for name, value in expected.items():
                assert value_of(app, name) == pytest.approx(value, rel=1e-6), name
            text = screen_text(app)
            assert "prod-us" in text
            assert all(title in text for title in ("Waiting", "Error rate", "p95", "CPU max", "Memory max"))
            assert reading(app, "queue_waiting").level.value == "crit"
            await wait_for(pilot, lambda: f"{number(counts['waiting'])} " in screen_text(app), what="the waiting count on its tile")
            assert reading(app, "latency_p95").level.value == "warn"  # a long queue slows status polls
            await wait_for(pilot, lambda: "pdf-worker-1" in screen_text(app), what="the pdf-worker containers on the workers panel")

            incident_id = await declare(app, pilot, "Uploads stuck in the queue")
            runbook = await open_suggested_runbook(pilot, app, "Queue depth")
            assert runbook.runbook.id == "queue-depth"
            await tick(pilot, runbook, "queue-depth/1.1", "queue-depth/1.2", "queue-depth/2.1")

            shown = await run_linked_action(pilot, app, runbook, "queue-depth/4.1", value="10", phrase="scale pdf-worker to 10")
            assert "prod-us" in shown and "pdf-worker=10" in shown
            await wait_for(pilot, lambda: recorded_calls(docker_calls), what="docker to be run")
            assert recorded_calls(docker_calls) == [["--context", "schedgen-prod-us", "compose", "up", "-d", "--no-recreate", "--scale", "pdf-worker=10"]]
            await tick(pilot, runbook, "queue-depth/4.1")

            await run_linked_action(pilot, app, runbook, "queue-depth/5.2", pick="retry-failed-job", value=failed_id, phrase=f"retry {failed_id}")
            await wait_for(pilot, lambda: server.mutations, what="the retry to reach the backend")
            [retry] = server.mutations
            assert (retry["method"], retry["path"], retry["status"], retry["applied"]) == ("POST", f"/api/jobs/{failed_id}/retry", 200, True)
            assert get(server, f"/api/jobs/{failed_id}").json()["state"] == "waiting"
            await tick(pilot, runbook, "queue-depth/5.2")

            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dashboard")
            review = await export_review(app, pilot, tmp_path / "xdg-data")

    assert incident_id in review and "prod-us" in review
    for key in ("1.1", "1.2", "2.1", "4.1", "5.2"):
        assert f"- [x] `queue-depth/{key}`" in review
    assert "- [ ] `queue-depth/3.2`" in review
    assert "Scale pdf-worker (`scale-pdf-worker`)" in review and "Retry failed job (`retry-failed-job`)" in review
    assert failed_id in review

