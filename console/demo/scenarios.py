"""The fault scenarios of the demo backend, taken from the runbooks' incident types.

Each scenario is data: how fast work arrives, what fails at which stage, whether workers
claim and heartbeat, whether expired leases are recovered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Stages of a job and how long each takes (simulated seconds, mean).
STAGES = ("ingest", "transcribe", "generate", "export")
STAGE_SECONDS = {"ingest": 1.0, "transcribe": 3.0, "generate": 4.0, "export": 1.0}
MEAN_JOB_SECONDS = sum(STAGE_SECONDS.values())

# Error classes a stage can fail with: (class, message, terminal?). Terminal errors are
# dead-lettered at once; the others are retried up to max_attempts.
Failure = tuple[str, str, bool]
PROVIDER_503: Failure = ("ProviderUnavailable", "LLM provider answered HTTP 503 Service Unavailable", False)
PROVIDER_429: Failure = ("ProviderRateLimited", "LLM provider answered HTTP 429 Too Many Requests (retry-after 20s)", False)
PROVIDER_TIMEOUT: Failure = ("ProviderTimeout", "no response from LLM provider within 30s", False)
STORAGE_WRITE: Failure = ("StorageWriteError", "PUT artifact to object storage failed: HTTP 503 SlowDown", False)
STORAGE_READ: Failure = ("StorageReadError", "GET source object failed: HTTP 500 InternalError", False)
INVALID_INPUT: Failure = ("InvalidInput", "transcript failed schema validation: missing 'segments'", True)


@dataclass(frozen=True)
class Scenario:
    name: str
    arrival_load: float = 0.7
    """Arrivals as a fraction of the fleet's capacity."""
    failures: dict[str, tuple[float, tuple[tuple[Failure, float], ...]]] = field(default_factory=dict)
    """stage → (probability a stage run fails, ((failure, weight), ...))."""
    claiming: bool = True
    stalled_fraction: float = 0.0
    """Share of workers that stop heartbeating and making progress."""
    recovery: bool = True
    """Whether a reaper requeues jobs whose lease expired."""
    conflict_chance: float = 0.002
    """Probability that a claim loses a race for the job's lease."""
    noisy_tenant_share: float = 0.0
    """Share of arrivals from the noisy tenant (which has a concurrency limit)."""
    health: dict[str, str] = field(default_factory=dict)
    """Health checks that are not ok in this scenario."""


BASELINE_FAILURES = {
    "ingest": (0.002, ((INVALID_INPUT, 1.0),)),
    "generate": (0.01, ((PROVIDER_503, 0.5), (PROVIDER_429, 0.3), (PROVIDER_TIMEOUT, 0.2))),
    "export": (0.004, ((STORAGE_WRITE, 1.0),)),
}

# Healthy keeps the retried background failures but no terminal ones: with ~35 jobs a
# minute, a single dead letter is a 3% terminal error rate, past the dashboard's warn line.
HEALTHY_FAILURES = {stage: spec for stage, spec in BASELINE_FAILURES.items() if stage != "ingest"}

SCENARIO_LIST = (
    Scenario("healthy", failures=HEALTHY_FAILURES),
    Scenario("backlog", failures=BASELINE_FAILURES, claiming=False, health={"queue": "backlog", "workers": "not claiming"}),
    Scenario(
        "provider-outage",
        failures={
            **BASELINE_FAILURES,
            "generate": (0.85, ((PROVIDER_503, 0.55), (PROVIDER_429, 0.3), (PROVIDER_TIMEOUT, 0.15))),
        },
        health={"provider": "failing"},
    ),
    Scenario(
        "storage-outage",
        failures={
            **BASELINE_FAILURES,
            "ingest": (0.4, ((STORAGE_READ, 1.0),)),
            "export": (0.9, ((STORAGE_WRITE, 0.8), (STORAGE_READ, 0.2))),
        },
        health={"storage": "failing"},
    ),
    Scenario(
        "stale-leases",
        failures=BASELINE_FAILURES,
        stalled_fraction=0.75,
        recovery=False,
        conflict_chance=0.08,
        health={"workers": "stalled"},
    ),
    Scenario("backpressure", failures=BASELINE_FAILURES, arrival_load=1.05, noisy_tenant_share=0.6, health={"queue": "tenant limit"}),
    Scenario(
        "error-spike",
        failures={**BASELINE_FAILURES, "ingest": (0.35, ((INVALID_INPUT, 1.0),))},
    ),
)
SCENARIOS_BY_NAME = {s.name: s for s in SCENARIO_LIST}
SCENARIOS = tuple(SCENARIOS_BY_NAME)
