"""Shape state that moves with the simulation's clock: a retention backlog, a leaking
container's memory, counters of storage errors.

The simulation does not call shapes while it steps, so a shape's state catches up when a
request arrives: one fixed step at a time from where it stopped to the simulation's time,
under the scenario in force now. With the demo frozen (speed 0) time only moves through
/sim/advance, after any scenario switch, so the result depends only on the seed, the
options and the requests, never on request timing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from console.demo.routing import Handler, Reply, Request
from console.demo.sim import Simulation

STEP_S = 1.0


class SteppedState:
    def __init__(self, sim: Simulation):
        self.t = sim.t
        self.rng = random.Random(sim.seed * 7919 + 1)
        self._epoch_ms = datetime.fromisoformat(sim.at(0).replace("Z", "+00:00")).timestamp() * 1000

    def ms(self, t: float) -> int:
        """Simulated time `t` as epoch milliseconds (how many APIs write their times)."""
        return round(self._epoch_ms + t * 1000)

    def catch_up(self, sim: Simulation) -> None:
        while self.t + STEP_S <= sim.t + 1e-9:
            self.t += STEP_S
            self.step(sim)

    def step(self, sim: Simulation) -> None:
        """Advance one STEP_S of simulated time (the simulation is already at or past self.t)."""
        raise NotImplementedError


def caught_up(handler: Handler) -> Callable[[Request], Reply]:
    """`handler` answered from shape state brought up to the simulation's time."""

    def answer(req: Request) -> Reply:
        req.state.catch_up(req.sim)
        return handler(req)

    return answer
