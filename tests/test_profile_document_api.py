"""The document-api profile end to end: the console opened on profiles/document-api against
the demo backend speaking the ML document API during a bad model release, driven by keys
the way an operator would, from the first tile to the post-incident review."""

from __future__ import annotations

import json
import re

import httpx

from console.actions import find_action, plan_action
from console.config import load_config, profile_config_path
from console.demo.shapes.document_api import BAD_RELEASE, LAST_GOOD_VERSION
from console.format import number
from screens.app import OpsConsoleApp
from screens.dead_letters import DeadLetterScreen
from screens.modals.batch import BatchScreen
from screens.modals.confirm import ConfirmScreen
from screens.runbook_view import RunbookScreen
from screens.widgets.signal_tile import SignalTile
from tests.conftest import screen_text, wait_for
from tests.profile_e2e import profile_backend, profile_config, recorded_calls, recording_stub, stubs_first_on_path
from tests.profile_ui import go_to_step
from tests.profile_walkthrough import export_review
from tests.test_config import run_cli
from tests.test_guarded_ui import has_data

ROLLBACK_ARGV = ["--context", "prod-eu", "-n", "document-api", "set", "env", "deployment/document-api", f"MODEL_VERSION={LAST_GOOD_VERSION}"]


def tile(app, name: str) -> list[str]:
    return str(app.dashboard.query_one(f"#tile-{name}", SignalTile).content).split("\n")


async def tick(pilot, screen: RunbookScreen, key: str) -> str:
    await go_to_step(pilot, screen, key)
    await pilot.press("space")
    return screen.current_step().text


async def test_a_bad_model_release_from_the_tiles_to_rollback_requeue_and_review(tmp_path, monkeypatch):
    calls = recording_stub(tmp_path / "bin", "kubectl", "deployment.apps/document-api env updated")
    stubs_first_on_path(monkeypatch, tmp_path / "bin")
    with profile_backend("document-api") as server:
        server.sim.set_scenario("provider-outage")
        server.sim.advance(600)
        stats = httpx.get(server.url + "/v1/stats", timeout=5).json()
        app = OpsConsoleApp(profile_config("document-api", server.url, tmp_path, environment="prod-eu"))
        async with app.run_test(size=(80, 24)) as pilot:
            # The tiles show the backend's numbers, with the model version they are about.
            await wait_for(pilot, lambda: has_data(app), what="first data from every source")
            await wait_for(pilot, lambda: tile(app, "model_error_rate")[1].startswith(number(stats["model"]["error_rate"] * 100)), what="the model error rate")
            assert "CRIT" in tile(app, "model_error_rate")[1] and BAD_RELEASE in "\n".join(tile(app, "model_error_rate"))
            assert tile(app, "latency_p95")[1].startswith(number(stats["latency_ms"]["p95"] / 1000))
            assert tile(app, "ocr_failure_rate")[1].startswith(number(stats["ocr"]["failure_rate"] * 100))
            text = screen_text(app)
            assert "prod-eu" in text.splitlines()[0]
            assert BAD_RELEASE in text and LAST_GOOD_VERSION in text  # the health line: live and last good

            # Declare, then follow the suggested runbook: model errors and rollback.
            await pilot.press("i", "D", *"Extraction model failing", "enter", "enter")
            await wait_for(pilot, lambda: app.controls.store.current() is not None, what="the declared incident")
            incident = app.controls.store.current()
            assert incident.severity == "SEV-2"
            await pilot.press("escape")
            await wait_for(pilot, lambda: "runbook: Model errors and rollback" in screen_text(app), what="the suggestion")
            await pilot.press("g")
            await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen) and app.screen.loaded, what="the runbook")
            runbook = app.screen
            assert runbook.runbook.id == "model-errors"
            ticked = [await tick(pilot, runbook, "confirm-it-is-the-model/1"), await tick(pilot, runbook, "confirm-it-is-the-model/2")]

            # The rollback: the version typed, the exact argv and environment confirmed.
            rollback_step = "roll-back-the-model/2"
            await go_to_step(pilot, runbook, rollback_step)
            await pilot.press("a")
            await wait_for(pilot, lambda: "Model version to pin" in screen_text(app), what="the version prompt")
            await pilot.press(*"3.4", "enter")
            assert "must match" in screen_text(app)  # not a version: refused before any confirmation
            await pilot.press(*f".{LAST_GOOD_VERSION.split('.')[-1]}", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            confirm = screen_text(app)
            assert re.search(r"Roll back model\s+on\s+prod-eu", confirm)  # the environment it acts on, named
            assert json.dumps(["kubectl", *ROLLBACK_ARGV])[:60] in confirm.replace("\n", "")
            assert recorded_calls(calls) == []
            await pilot.press(*f"rollback {LAST_GOOD_VERSION}", "enter")
            await wait_for(pilot, lambda: recorded_calls(calls), what="kubectl to run")
            assert recorded_calls(calls) == [ROLLBACK_ARGV]
            await wait_for(pilot, lambda: app.screen is runbook, what="back on the runbook")
            ticked.append(await tick(pilot, runbook, rollback_step))
            await wait_for(pilot, lambda: len(app.controls.store.checklist(incident.id)) == 3, what="three ticks stored")

            # Requeue the batches the model failed: filtered, chosen, confirmed, received.
            await pilot.press("escape")
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, DeadLetterScreen) and app.screen.page is not None, what="the failed batches")
            failed = app.screen
            await pilot.press("c")  # the most frequent error code
            await wait_for(pilot, lambda: failed.page is not None and {e.error_class for e in failed.page.items} == {"ModelInferenceError"}, what="the filter")
            await pilot.press("space", "space")
            chosen = list(failed.selected)
            assert len(chosen) == 2 and all(c.startswith("fail-") for c in chosen)
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the requeue confirmation")
            await pilot.press(*"requeue 2", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen) and app.screen.outcome is not None, what="the requeue")
            assert [(m["method"], m["path"], json.loads(m["body"]), m["applied"]) for m in server.mutations] == [
                ("POST", "/v1/batches/failed/requeue", {"failure_ids": chosen}, True)
            ]
            await pilot.press("escape", "escape")

            # The review holds the ticks and both actions.
            review = await export_review(app, pilot, tmp_path / "xdg-data")
            assert "### Model errors and rollback (`model-errors`): 3/" in review
            for words in ticked:
                assert words[:40] in review
            assert review.count("- [x] ") == 3
            assert "Roll back model (`rollback-model`)" in review and "Requeue failed batches (`requeue-failed-batches`)" in review
            assert "prod-eu" in review


def test_the_profile_passes_check_config_and_each_environment_fills_its_own_kubectl_context():
    result = run_cli("--profile", "document-api", "check-config")
    assert result.returncode == 0 and "7 signals, 4 runbooks" in result.stdout, result.stdout + result.stderr
    config = load_config(profile_config_path("document-api"))
    for environment, namespace in (("prod-eu", "document-api"), ("prod-us", "document-api"), ("staging", "document-api-staging")):
        aimed = config.for_environment(environment)
        assert aimed.api.base_url == f"https://docs.{environment}.example.internal"
        scale = plan_action(find_action(aimed.actions, "scale-replicas"), aimed.api.base_url, environment, values={"replicas": "12"}, config_vars=aimed.vars)
        assert scale.calls[0].argv == ("kubectl", "--context", environment, "-n", namespace, "scale", "deployment/document-api", "--replicas=12")
        assert scale.phrase == "scale 12"
