"""The built-in demo backend: a simulated job system served over HTTP on loopback."""

from console.demo.scenarios import SCENARIOS

__all__ = ["SCENARIOS"]
