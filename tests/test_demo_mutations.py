"""The demo backend's mutation endpoints: idempotency, the token check, the ledger, filters."""

from __future__ import annotations

import httpx

from console.demo.server import DemoServer


def post(server, path, key=None, **kwargs):
    headers = {"Idempotency-Key": key} if key else {}
    return httpx.post(server.url + path, headers=headers, timeout=5, **kwargs)


def test_same_idempotency_key_gets_the_same_reply_and_applies_once(demo_server):
    demo_server.sim.set_scenario("error-spike")
    demo_server.sim.advance(120)
    before = httpx.get(demo_server.url + "/v1/dlq?limit=1", timeout=5).json()["total"]
    letter = httpx.get(demo_server.url + "/v1/dlq?limit=1", timeout=5).json()["items"][0]["id"]
    one = post(demo_server, f"/v1/dlq/{letter}/replay", key="k-1")
    two = post(demo_server, f"/v1/dlq/{letter}/replay", key="k-1")
    assert one.status_code == two.status_code == 200 and one.json() == two.json()
    assert httpx.get(demo_server.url + "/v1/dlq?limit=1", timeout=5).json()["total"] == before - 1
    # Without a key (or with a new one) a second replay of the same letter is refused: it is gone.
    assert post(demo_server, f"/v1/dlq/{letter}/replay", key="k-2").status_code == 404
    # The same key for another request is an error, not a silent replay of the first answer.
    assert post(demo_server, "/v1/intake/pause", key="k-1").status_code == 422
    assert [(m["idempotency_key"], m["applied"]) for m in demo_server.mutations] == [
        ("k-1", True), ("k-1", False), ("k-2", False), ("k-1", False)
    ]
    assert not demo_server.sim.intake_paused
    listed = httpx.get(demo_server.url + "/sim/mutations", timeout=5).json()["mutations"]
    assert len(listed) == 4
    audit = httpx.get(demo_server.url + "/v1/audit/logs?limit=5", timeout=5).json()["logs"]
    assert audit[0]["action"] == "dlq.replay" and audit[0]["target"] == letter


def test_bearer_token_is_checked_when_configured():
    server = DemoServer(port=0, speed=0, warmup_s=10, token="tkn").start()
    try:
        assert httpx.get(server.url + "/v1/workers", timeout=5).status_code == 401
        ok = httpx.get(server.url + "/v1/workers", headers={"Authorization": "Bearer tkn"}, timeout=5)
        assert ok.status_code == 200
        assert httpx.post(server.url + "/v1/intake/pause", headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
        assert server.mutations[0]["status"] == 401 and not server.sim.intake_paused
    finally:
        server.stop()


def test_drain_pause_and_limit_change_the_simulation(demo_server):
    assert post(demo_server, "/v1/workers/w-02/drain").json() == {"id": "w-02", "state": "draining"}
    assert post(demo_server, "/v1/workers/w-02/drain").status_code == 409
    assert post(demo_server, "/v1/workers/w-99/drain").status_code == 404
    assert post(demo_server, "/v1/intake/pause").json() == {"intake": "paused"}
    limit = httpx.put(demo_server.url + "/v1/limits/concurrency", json={"limit": 2}, timeout=5)
    assert limit.json() == {"concurrency_limit": 2}
    assert httpx.put(demo_server.url + "/v1/limits/concurrency", json={"limit": "lots"}, timeout=5).status_code == 400
    demo_server.sim.advance(120)
    workers = httpx.get(demo_server.url + "/v1/workers", timeout=5).json()["workers"]
    assert sum(1 for w in workers if w["current_job_id"]) <= 2
    assert next(w for w in workers if w["id"] == "w-02")["current_job_id"] is None
    queued = httpx.get(demo_server.url + "/v1/jobs?state=queued&limit=1", timeout=5).json()["total"]
    demo_server.sim.advance(60)
    assert httpx.get(demo_server.url + "/v1/jobs?state=queued&limit=1", timeout=5).json()["total"] <= queued


def test_dead_letter_filters_page_on_the_server_and_skip_replayed_entries():
    server = DemoServer(port=0, speed=0, warmup_s=0, dlq_preload=1200).start()
    try:
        get = lambda **p: httpx.get(server.url + "/v1/dlq", params=p, timeout=5).json()  # noqa: E731
        everything = get(limit=500)
        timeouts = get(error_class="ProviderTimeout", limit=500)
        assert timeouts["total"] == everything["error_classes"]["ProviderTimeout"] == 100
        assert {i["error_class"] for i in timeouts["items"]} == {"ProviderTimeout"}
        second = get(error_class="ProviderTimeout", limit=10, offset=10)
        assert [i["id"] for i in second["items"]] == [i["id"] for i in timeouts["items"][10:20]]
        text = get(q="schema validation", limit=5)
        assert text["total"] == 100 and all("schema" in i["message"] for i in text["items"])
        # Replaying entries takes them out of every page; positions of the rest hold.
        gone = [i["id"] for i in everything["items"][3:6]]
        assert httpx.post(server.url + "/v1/dlq/replay", json={"ids": gone + ["dlq-9999999"]}, timeout=5).json() == {
            "replayed": gone, "missing": ["dlq-9999999"]
        }
        after = get(limit=500)
        assert after["total"] == 1197
        assert [i["id"] for i in after["items"]][:497] == [i["id"] for i in everything["items"] if i["id"] not in gone]
        assert [i["id"] for i in get(limit=3, offset=2)["items"]] == [i["id"] for i in after["items"][2:5]]
    finally:
        server.stop()
