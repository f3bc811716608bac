"""Discrete-event simulation of training iterations on a chip (simpy)."""

from accelsim.sim.engine import Schedule, SimResult, simulate
from accelsim.sim.schedules import schedule_for

__all__ = ["Schedule", "SimResult", "schedule_for", "simulate"]
