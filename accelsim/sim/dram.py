"""The DRAM arbiter: one channel whose bandwidth is shared equally by the transfers in flight.

Processor sharing (egalitarian): while ``n`` transfers are active each moves at ``1/n`` of the
channel's bandwidth, so two transfers of ``c`` cycles each that start together both finish
after ``2c``, and a short one that joins a long one finishes first. No transfer waits behind
another (nothing is starved and there is no priority to invert); together they never exceed the
bandwidth. Work is measured in *channel cycles*: a transfer of ``b`` bytes on a channel of
``B`` bytes/cycle is ``b / B`` cycles of work.

The channel is driven by simpy events, one per arrival and one per completion, so a run costs
O(transfers x concurrent transfers) operations however many cycles a transfer lasts. Times may
be fractional (a share of a cycle); the report rounds the run's end up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import simpy

# Remaining work below this (channel cycles) counts as finished: shares are floats.
EPSILON = 1e-9


@dataclass
class _Stream:
    work: float
    remaining: float
    started: float
    done: simpy.Event


@dataclass
class FairShareChannel:
    """A DRAM channel shared equally among active transfers (see module doc)."""

    env: simpy.Environment
    _active: list[_Stream] = field(default_factory=list)
    _updated: float = 0.0
    _version: int = 0
    longest_wait: float = 0.0  # the most any transfer took beyond its uncontended time
    busy: float = 0.0  # cycles with at least one transfer active

    def transfer(self, cycles: float) -> simpy.Event:
        """An event that fires when ``cycles`` of channel work are moved."""
        done = self.env.event()
        if cycles <= 0:
            done.succeed()
            return done
        self._advance()
        self._active.append(_Stream(cycles, cycles, self.env.now, done))
        self._reschedule()
        return done

    @property
    def active(self) -> int:
        return len(self._active)

    def _advance(self) -> None:
        now = self.env.now
        elapsed = now - self._updated
        if self._active and elapsed > 0:
            share = elapsed / len(self._active)
            for stream in self._active:
                stream.remaining -= share
            self.busy += elapsed
        self._updated = now

    def _reschedule(self) -> None:
        self._version += 1
        if not self._active:
            return
        version = self._version
        smallest = min(s.remaining for s in self._active)
        timer = self.env.timeout(max(0.0, smallest * len(self._active)))
        timer.callbacks.append(lambda _event: self._complete(version))

    def _complete(self, version: int) -> None:
        if version != self._version:  # an arrival re-planned the next completion
            return
        self._advance()
        now = self.env.now
        finished = [s for s in self._active if s.remaining <= EPSILON * max(1.0, s.work)]
        self._active = [s for s in self._active if s not in finished]
        for stream in finished:
            self.longest_wait = max(self.longest_wait, now - stream.started - stream.work)
            stream.done.succeed()
        self._reschedule()
