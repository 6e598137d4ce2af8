"""An API without leases shows its recent jobs in their place, and a job row can be acted on."""

from __future__ import annotations

import tomllib

import pytest

from console.config import ConfigError, load_config, parse_config, shipped_config_path
from console.config_actions import ActionConfig
from screens.app import OpsConsoleApp
from screens.modals.confirm import ConfirmScreen
from screens.modals.pick import PickScreen
from tests.conftest import screen_text, wait_for
from tests.test_guarded_ui import shared_config

REPLAY_JOB = ActionConfig(
    name="replay-job", title="Replay job", kind="http", path="/v1/jobs/{id}/replay", panel="jobs", row="job", confirm="{id}"
)


async def test_an_api_without_leases_shows_its_jobs_and_a_job_can_be_replayed(demo_server, tmp_path):
    config = shared_config(demo_server.url, tmp_path)
    config = config.model_copy(update={"api": config.api.model_copy(update={"leases": None}), "actions": [REPLAY_JOB]})
    demo_server.sim.set_scenario("error-spike")
    demo_server.sim.advance(120)  # some jobs fail at ingest: rows with errors
    app = OpsConsoleApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "Jobs: " in screen_text(app), what="the jobs panel")
        text = screen_text(app)
        assert "Leases" not in text
        jobs = app.dashboard.snapshot.source("jobs").data
        assert jobs and f"Jobs: {len(jobs)} recent" in text
        failing = [job for job in jobs if job.error]
        assert failing and f"{len(failing)} with errors" in text
        table = app.dashboard.query_one("#jobs DataTable")
        first = table.coordinate_to_cell_key((0, 0)).row_key.value
        assert first == sorted(failing, key=lambda j: (-j.updated_at.timestamp(), j.id))[0].id  # errors first, newest first
        table.focus()
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the action picker")
        assert f"Replay job {first}" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press(*first, "enter")
        await wait_for(pilot, lambda: demo_server.mutations, what="the replay at the backend")
        assert demo_server.mutations[0]["path"] == f"/v1/jobs/{first}/replay"


def test_jobs_panel_actions_need_an_api_without_leases():
    """With leases the jobs list has no panel, so an action offered on it could never be used."""

    data = tomllib.loads(shipped_config_path().read_text())
    data["actions"].append(REPLAY_JOB.model_dump(exclude_defaults=True) | {"name": "replay-job-row"})
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert 'panel = "jobs" is shown only for an API without [api.leases]' in caught.value.report()
    del data["api"]["leases"]
    data["actions"] = [a for a in data["actions"] if a.get("panel") != "leases"]
    assert parse_config(data).api.leases is None
    assert load_config(shipped_config_path()).api.jobs is not None
