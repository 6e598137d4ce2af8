"""The APIs the demo backend can speak, one module per system (`opsconsole sim --profile NAME`).

Every shape serves the same simulation (jobs through stages, workers, leases, a dead-letter
queue, fault scenarios) in its own system's routes and field names, so each profile's
config is proven against an API of that shape. `/sim/...` controls are the same for all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.demo.routing import Route
from console.demo.shapes import document_api, lecture_pipeline, recording_platform, runtime, schedule_generator
from console.demo.sim import Simulation


@dataclass(frozen=True)
class Shape:
    name: str
    routes: list[Route]
    new_state: Callable[[Simulation], Any] = lambda sim: None
    """The shape's own state beside the simulation, made once per server (handlers get it as `req.state`)."""


SHAPES = {
    shape.name: shape
    for shape in (
        Shape("runtime", runtime.ROUTES),
        Shape("lecture-pipeline", lecture_pipeline.ROUTES),
        Shape("schedule-generator", schedule_generator.ROUTES, schedule_generator.ScheduleGeneratorState),
        Shape("recording-platform", recording_platform.ROUTES, recording_platform.RecordingPlatformState),
        Shape("document-api", document_api.ROUTES, document_api.new_state),
    )
}
DEMO_PROFILES = tuple(SHAPES)


def shape_for(profile: str) -> Shape:
    if profile not in SHAPES:
        raise ValueError(f"the demo backend does not speak {profile!r}; known: {', '.join(DEMO_PROFILES)}")
    return SHAPES[profile]
