"""The demo backend's /metrics in the Prometheus text exposition format (0.0.4)."""

from __future__ import annotations

from collections import Counter

from console.demo.scenarios import STAGES
from console.demo.sim import Simulation


def metric_family(lines: list[str], name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        # Whole numbers in full: `:g` would print a counter past a million as 1.23457e+06.
        lines.append(f"{name}{labels} {value:.0f}" if float(value).is_integer() else f"{name}{labels} {value:.6g}")


def exposition(sim: Simulation) -> str:
    lines: list[str] = []
    c = sim.counters
    expired = sum(1 for lease in sim.leases.values() if lease.expires < sim.t)
    states = Counter(w.state for w in sim.workers)
    metric_family(lines, "oris_runtime_queue_depth", "gauge", "Jobs waiting to be claimed.", [("", len(sim.queue))])
    metric_family(lines, "oris_runtime_lease_conflict_rate", "gauge", "Share of claims in the last minute that lost a lease race.", [("", sim.lease_conflict_rate())])
    metric_family(lines, "oris_runtime_recovery_latency_ms", "gauge", "Worst time from lease expiry to requeue in the last minute, or age of the oldest unrecovered expired lease.", [("", round(sim.recovery_latency_ms(), 1))])
    metric_family(
        lines,
        "oris_runtime_backpressure_total",
        "counter",
        "Claims refused by a limit.",
        [(f'{{reason="{r}"}}', c[("backpressure", r)]) for r in ("worker_limit", "tenant_limit")],
    )
    metric_family(lines, "oris_runtime_terminal_error_rate", "gauge", "Share of jobs finished in the last minute that ended dead-lettered.", [("", sim.terminal_error_rate())])
    metric_family(
        lines,
        "oris_runtime_jobs_total",
        "counter",
        "Job outcomes.",
        [(f'{{outcome="{o}"}}', c[("jobs", o)]) for o in ("succeeded", "retried", "dead_lettered")],
    )
    metric_family(lines, "oris_runtime_lease_conflicts_total", "counter", "Claims that lost a lease race.", [("", c[("lease", "conflict")])])
    metric_family(lines, "oris_runtime_dlq_size", "gauge", "Entries in the dead-letter queue.", [("", len(sim.dead_letters))])
    metric_family(
        lines,
        "oris_runtime_dlq_entries",
        "gauge",
        "Dead-letter entries by error class.",
        [(f'{{error_class="{k}"}}', v) for k, v in sim.dead_letters.error_classes().items()],
    )
    metric_family(
        lines,
        "oris_runtime_workers",
        "gauge",
        "Workers by state.",
        [(f'{{state="{s}"}}', states[s]) for s in ("busy", "idle", "stalled", "draining")],
    )
    metric_family(lines, "oris_runtime_leases_held", "gauge", "Leases currently held.", [("", len(sim.leases))])
    metric_family(lines, "oris_runtime_leases_expired", "gauge", "Held leases past their expiry.", [("", expired)])
    metric_family(
        lines,
        "oris_runtime_stage_runs_total",
        "counter",
        "Finished stage runs, failed or not.",
        [(f'{{stage="{s}"}}', c[("stage_runs", s)]) for s in STAGES],
    )
    metric_family(
        lines,
        "oris_runtime_stage_failures_total",
        "counter",
        "Failed stage runs.",
        [(f'{{stage="{s}"}}', c[("stage_failures", s)]) for s in STAGES],
    )
    return "\n".join(lines) + "\n"
