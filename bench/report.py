"""Printing a benchmark's figures as a table and saving them as JSON in bench/results/."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

Target = tuple[str, float]  # ("<=", 1.0)


def meets(value: Any, target: Target | None) -> str:
    if target is None or not isinstance(value, (int, float)):
        return ""
    op, bound = target
    ok = value <= bound if op == "<=" else value >= bound
    return "ok" if ok else "MISSED"


def table(name: str, figures: dict[str, Any], targets: dict[str, Target]) -> str:
    width = max(len(key) for key in figures)
    lines = [f"== {name}"]
    for key, value in figures.items():
        target = targets.get(key)
        goal = f"{target[0]} {target[1]:g}" if target else ""
        lines.append(f"  {key:<{width}}  {str(value):>12}  {goal:>9}  {meets(value, target)}".rstrip())
    return "\n".join(lines)


def save(name: str, figures: dict[str, Any], targets: dict[str, Target], quick: bool) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}{'_quick' if quick else ''}.json"
    record = {
        "benchmark": name,
        "quick": quick,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "figures": figures,
        "targets": {key: f"{op} {bound:g}" for key, (op, bound) in targets.items()},
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
