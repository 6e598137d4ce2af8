"""The demo backend speaking the ML document API (`opsconsole sim --profile document-api`):
its routes and field names, scenarios landing on its own signals, cursor paging of failed
batches, and its mutations reaching the ledger and changing the system."""

from __future__ import annotations

import json

import httpx
import pytest

from console.demo.shapes.document_api import BAD_RELEASE, LAST_GOOD_VERSION, OCR_ENGINES
from console.sources.metrics_scrape import parse_exposition
from tests.profile_e2e import profile_backend


def get(server, path: str, status: int = 200) -> dict:
    reply = httpx.get(server.url + path, timeout=5)
    assert reply.status_code == status, reply.text
    return reply.json()


def send(server, method: str, path: str, body: dict, status: int = 200) -> dict:
    reply = httpx.request(method, server.url + path, json=body, timeout=5)
    assert reply.status_code == status, reply.text
    return reply.json()


def in_scenario(server, scenario: str, seconds: float = 600) -> None:
    server.sim.set_scenario(scenario)
    server.sim.advance(seconds)


def test_healthy_service_reports_its_model_ocr_engine_replicas_and_stats():
    with profile_backend("document-api") as server:
        health = get(server, "/v1/health")
        assert health["status"] == "ok" and set(health["checks"].values()) == {"ok"}
        assert health["model"] == {"name": "docfields-extractor", "version": LAST_GOOD_VERSION, "last_good_version": LAST_GOOD_VERSION}
        assert health["ocr"] == {"engine": OCR_ENGINES["primary"], "mode": "primary"}
        assert health["replicas"] == {"desired": 8, "ready": 8}

        stats = get(server, "/v1/stats")
        latency = stats["latency_ms"]
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] < 20_000
        assert stats["model"]["version"] == LAST_GOOD_VERSION and stats["model"]["error_rate"] < 0.03
        assert stats["ocr"]["failure_rate"] < 0.02 and stats["storage"]["errors_total"] < 5

        replicas = get(server, "/v1/replicas")["replicas"]
        assert [r["name"] for r in replicas][:2] == ["document-api-01", "document-api-02"]
        assert {r["status"] for r in replicas} <= {"ready", "busy"} and "leases_held" not in replicas[0]
        batches = get(server, "/v1/batches?limit=5")
        assert len(batches["batches"]) == 5 and batches["batches"][0]["batch_id"].startswith("batch-")
        one = get(server, f"/v1/batches/{batches['batches'][0]['batch_id']}")["batch"]
        assert one["step"] in ("ocr", "layout", "extract", "store") and one["history"]
        get(server, "/v1/batches/job-000001", status=404)  # the simulation's own ids are not this API's
        get(server, "/v1/batches?status=running", status=400)


# scenario → (path in /v1/stats, healthy ceiling, value it reaches, failing health check)
SCENARIOS = {
    "provider-outage": ("model.error_rate", 0.03, 0.5, "model"),
    "error-spike": ("ocr.failure_rate", 0.02, 0.2, "ocr"),
    "storage-outage": ("storage.errors_total", 5, 300, "storage"),
    "backlog": ("latency_ms.p95", 20_000, 300_000, "queue"),
}


def dotted(data: dict, path: str):
    for part in path.split("."):
        data = data[part]
    return data


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_lands_on_its_own_signal_and_health_check(scenario):
    path, healthy, faulty, check = SCENARIOS[scenario]
    with profile_backend("document-api") as server:
        assert dotted(get(server, "/v1/stats"), path) < healthy
        in_scenario(server, scenario)
        stats, health = get(server, "/v1/stats"), get(server, "/v1/health")
        assert dotted(stats, path) > faulty
        assert health["status"] == "degraded" and health["checks"][check] != "ok"
        others = {name for name, value in health["checks"].items() if value != "ok"} - {check, "replicas"}
        assert others == set(), f"{scenario} also fails {others}"
        expected = BAD_RELEASE if scenario == "provider-outage" else LAST_GOOD_VERSION
        assert stats["model"]["version"] == health["model"]["version"] == expected
        assert health["model"]["last_good_version"] == LAST_GOOD_VERSION


def test_metrics_carry_the_same_figures_in_the_prometheus_format():
    with profile_backend("document-api") as server:
        in_scenario(server, "storage-outage", 120)
        stats = get(server, "/v1/stats")
        samples = parse_exposition(httpx.get(server.url + "/metrics", timeout=5).text)
        assert sum(value for _, value in samples["docapi_storage_errors_total"]) == stats["storage"]["errors_total"] > 0
        assert [(labels, value) for labels, value in samples["docapi_model_error_ratio"]] == [
            ({"version": LAST_GOOD_VERSION}, stats["model"]["error_rate"])
        ]
        assert dict((labels["quantile"], value) for labels, value in samples["docapi_latency_seconds"])["0.95"] == stats["latency_ms"]["p95"] / 1000


def test_the_bad_model_release_is_gone_once_the_outage_is_over():
    with profile_backend("document-api") as server:
        in_scenario(server, "provider-outage")
        assert get(server, "/v1/stats")["model"]["error_rate"] > 0.5
        in_scenario(server, "healthy", 120)  # the window covers only healthy minutes now
        stats = get(server, "/v1/stats")
        assert stats["model"]["version"] == LAST_GOOD_VERSION and stats["model"]["error_rate"] < 0.05
        assert stats["window_s"] == 120


def page_through(server, query: str = "", limit: int = 40) -> tuple[list[dict], list[dict]]:
    """Every failed batch, following next_cursor; (entries, replies)."""
    entries, replies, cursor = [], [], None
    while True:
        reply = get(server, f"/v1/batches/failed?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else ""))
        replies.append(reply)
        entries += reply["failures"]
        cursor = reply["next_cursor"]
        if cursor is None:
            return entries, replies


def number(failure_id: str) -> int:
    return int(failure_id.removeprefix("fail-"))


def test_failed_batches_page_by_cursor_newest_first_and_filter_by_error_code():
    with profile_backend("document-api") as server:
        in_scenario(server, "error-spike")
        entries, replies = page_through(server)
        total = replies[0]["total"]
        assert total == len(server.sim.dead_letters) > 100 and len(replies) == -(-total // 40)
        ids = [number(e["failure_id"]) for e in entries]
        assert ids == sorted(set(ids), reverse=True) and len(ids) == total
        first = entries[0]
        assert set(first) == {"failure_id", "batch_id", "error", "attempts", "first_failed_at", "failed_at", "batch"}
        assert first["batch_id"].startswith("batch-") and first["batch"]["source"].endswith(f"/{first['batch_id']}/")

        by_error = replies[0]["by_error"]
        assert sum(by_error.values()) == total and by_error["OcrFailed"] == max(by_error.values())
        ocr, ocr_replies = page_through(server, "&error=OcrFailed", limit=25)
        assert {e["error"]["code"] for e in ocr} == {"OcrFailed"}
        assert len(ocr) == ocr_replies[0]["total"] == by_error["OcrFailed"]
        assert [e["failure_id"] for e in ocr] == [e["failure_id"] for e in entries if e["error"]["code"] == "OcrFailed"]
        assert get(server, "/v1/batches/failed?error=NoSuchCode") | {"server_time": ""} == {
            "server_time": "", "total": 0, "by_error": by_error, "failures": [], "next_cursor": None
        }
        assert "cursor" in get(server, "/v1/batches/failed?cursor=%%%", status=400)["error"]


def test_a_cursor_neither_repeats_nor_skips_when_batches_are_requeued_and_fail_between_pages():
    with profile_backend("document-api") as server:
        in_scenario(server, "error-spike")
        page1 = get(server, "/v1/batches/failed?limit=20")
        before = [e["failure_id"] for e in page_through(server)[0]]
        # Between two pages: the first page's top entry is requeued and new batches fail.
        send(server, "POST", "/v1/batches/failed/requeue", {"failure_ids": [page1["failures"][0]["failure_id"]]})
        server.sim.advance(120)
        page2 = get(server, f"/v1/batches/failed?limit=20&cursor={page1['next_cursor']}")
        assert [e["failure_id"] for e in page2["failures"]] == before[20:40]


def test_requeue_and_ocr_diversion_reach_the_ledger_and_change_the_system():
    with profile_backend("document-api") as server:
        in_scenario(server, "error-spike")
        newest = get(server, "/v1/batches/failed?limit=3")["failures"]
        wanted = [newest[0]["failure_id"], newest[1]["failure_id"], "fail-9999999"]
        reply = send(server, "POST", "/v1/batches/failed/requeue", {"failure_ids": wanted})
        assert reply == {"requeued": wanted[:2], "missing": ["fail-9999999"]}
        for entry in newest[:2]:
            assert get(server, f"/v1/batches/{entry['batch_id']}")["batch"]["status"] == "queued"
        one = send(server, "POST", f"/v1/batches/failed/{newest[2]['failure_id']}/requeue", {})
        assert one == {"failure_id": newest[2]["failure_id"], "batch_id": newest[2]["batch_id"]}
        send(server, "POST", f"/v1/batches/failed/{newest[2]['failure_id']}/requeue", {}, status=404)  # already requeued
        send(server, "POST", "/v1/batches/failed/requeue", {"failure_ids": "fail-1"}, status=400)

        failing = get(server, "/v1/stats")["ocr"]["failure_rate"]
        assert send(server, "PUT", "/v1/ocr/engine", {"engine": "fallback"}) == {
            "mode": "fallback", "engine": OCR_ENGINES["fallback"], "previous": "primary"
        }
        server.sim.advance(300)
        health, stats = get(server, "/v1/health"), get(server, "/v1/stats")
        assert health["ocr"] == {"engine": OCR_ENGINES["fallback"], "mode": "fallback"} and stats["ocr"]["mode"] == "fallback"
        assert stats["ocr"]["failure_rate"] < failing / 2  # the fallback engine reads most of what failed
        send(server, "PUT", "/v1/ocr/engine", {"engine": "primary"})
        send(server, "PUT", "/v1/ocr/engine", {"engine": "tesseract"}, status=400)
        assert get(server, "/v1/health")["ocr"]["mode"] == "primary"

        ledger = [(m["method"], m["path"], m["status"], m["applied"]) for m in server.mutations]
        assert ledger == [
            ("POST", "/v1/batches/failed/requeue", 200, True),
            ("POST", f"/v1/batches/failed/{newest[2]['failure_id']}/requeue", 200, True),
            ("POST", f"/v1/batches/failed/{newest[2]['failure_id']}/requeue", 404, False),
            ("POST", "/v1/batches/failed/requeue", 400, False),
            ("PUT", "/v1/ocr/engine", 200, True),
            ("PUT", "/v1/ocr/engine", 200, True),
            ("PUT", "/v1/ocr/engine", 400, False),
        ]
        assert json.loads(server.mutations[0]["body"]) == {"failure_ids": wanted}
        assert [a["action"] for a in server.sim.audit if a["action"] == "ocr.engine"] == ["ocr.engine"] * 2
