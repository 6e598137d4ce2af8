"""The API mapping is data: the same code reads the demo's shape and other shapes."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from console.config import FieldMap
from console.sources import ops_api
from console.sources.http import SourceError
from console.sources.json_mapping import Records, dig, parse_time
from tests.conftest import config_for


async def test_demo_shapes_map_to_records(demo_server):
    api = config_for(demo_server.url).api
    expected = httpx.get(demo_server.url + "/v1/jobs?limit=50", timeout=5).json()
    async with httpx.AsyncClient() as client:
        jobs, server_now = await ops_api.fetch_jobs(client, api)
        workers, _ = await ops_api.fetch_workers(client, api)
        leases, _ = await ops_api.fetch_leases(client, api)
        dead_letters, _ = await ops_api.fetch_dead_letters(client, api)
        health, _ = await ops_api.fetch_health(client, api, api.health[0])
    assert [job.id for job in jobs] == [job["id"] for job in expected["jobs"]]
    assert jobs[0].state == expected["jobs"][0]["state"]
    assert server_now == parse_time(expected["now"])
    assert all(worker.last_heartbeat is not None for worker in workers)
    assert all(lease.expires_at is not None and lease.worker.startswith("w-") for lease in leases)
    assert dead_letters.total >= len(dead_letters.newest)
    assert health.ok and dict(health.checks)["api"] == "ok"


def test_other_shape_nested_list_epoch_times_and_renamed_fields():
    body = {
        "data": {"workers": [{"name": "consumer-a", "status": {"phase": "Running"}, "hb": 1_795_000_000_000}]},
        "meta": {"server_time": 1_795_000_012},
    }
    mapping = FieldMap(
        path="/api/consumers",
        items="data.workers",
        now="meta.server_time",
        fields={"id": "name", "state": "status.phase", "last_heartbeat": "hb"},
    )
    records = Records(body, mapping)
    (item,) = records.items
    assert records.field(item, "id") == "consumer-a"
    assert records.field(item, "state") == "Running"
    assert parse_time(records.field(item, "last_heartbeat")) == datetime(2026, 11, 18, 11, 6, 40, tzinfo=timezone.utc)
    assert (records.server_now - parse_time(records.field(item, "last_heartbeat"))).total_seconds() == 12
    # A field the API does not have is None, not an error: the panel shows "?".
    assert records.field(item, "current_job") is None


def test_bare_list_body_and_wrong_shapes():
    mapping = FieldMap(path="/w", items="", now="")
    assert len(Records([{"id": 1}, "junk", {"id": 2}], mapping).items) == 2
    with pytest.raises(SourceError, match="no 'workers'"):
        Records({"items": []}, FieldMap(path="/w", items="workers"))
    with pytest.raises(SourceError, match="not a list"):
        Records({"workers": {"a": 1}}, FieldMap(path="/w", items="workers"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-23T03:00:00Z", datetime(2026, 11, 23, 3, tzinfo=timezone.utc)),
        ("2026-11-23T04:00:00+01:00", datetime(2026, 11, 23, 3, tzinfo=timezone.utc)),
        ("2026-11-23T03:00:00", datetime(2026, 11, 23, 3, tzinfo=timezone.utc)),
        (1795000000, datetime(2026, 11, 18, 11, 6, 40, tzinfo=timezone.utc)),
        ("yesterday", None),
        (None, None),
        (True, None),
        (1e30, None),
    ],
)
def test_parse_time(raw, expected):
    assert parse_time(raw) == expected


def test_dig_paths():
    body = {"a": {"b": [{"c": 5}]}}
    assert dig(body, "a.b.0.c") == 5
    assert dig(body, "a.x", None) is None
    assert dig(body, "") is body


async def test_dead_letter_classes_counted_from_the_page_when_the_api_does_not_count(demo_server):
    demo_server.sim.set_scenario("provider-outage")
    demo_server.sim.advance(900)
    api = config_for(demo_server.url).api
    bare = api.dead_letters.model_copy(update={"error_classes": "", "total": ""})
    async with httpx.AsyncClient() as client:
        full, _ = await ops_api.fetch_dead_letters(client, api)
        page, _ = await ops_api.fetch_dead_letters(client, api.model_copy(update={"dead_letters": bare}))
    assert full.classes_cover_whole_queue and full.total > 50
    assert not page.classes_cover_whole_queue
    assert page.total is None and len(page.newest) == 50  # the page is not the queue
    assert sum(count for _, count in page.error_classes) == 50
    counts = [count for _, count in page.error_classes]
    assert counts == sorted(counts, reverse=True)
