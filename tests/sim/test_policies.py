"""The scheduler's policies, each alone: DRAM fair sharing, the ready queue, steady state."""

from __future__ import annotations

import simpy

from accelsim.lowering.graph import Task
from accelsim.sim.dram import FairShareChannel
from accelsim.sim.ready import Dispatcher, task_priority
from accelsim.sim.steady import steady_state


def _transfers(plan: list[tuple[float, float]]) -> tuple[list[float], FairShareChannel]:
    """Start a transfer of ``work`` channel cycles at each ``(start, work)``; their end times."""
    env = simpy.Environment()
    channel = FairShareChannel(env)
    ends = [0.0] * len(plan)

    def one(k: int, start: float, work: float):
        yield env.timeout(start)
        yield channel.transfer(work)
        ends[k] = env.now

    for k, (start, work) in enumerate(plan):
        env.process(one(k, start, work))
    env.run()
    return ends, channel


def test_two_equal_streams_share_the_channel():
    # each gets half the bandwidth: 100 cycles of work take 200
    ends, channel = _transfers([(0, 100), (0, 100)])
    assert ends == [200, 200]
    assert channel.busy == 200
    assert channel.longest_wait == 100


def test_a_short_stream_finishes_first_and_the_long_one_speeds_up():
    # both at half rate until the short one has moved 50 (t = 100); the long one then has 50
    # left at full rate: 150
    ends, _ = _transfers([(0, 100), (0, 50)])
    assert ends == [150, 100]


def test_a_late_stream_is_not_starved():
    # A alone for 50 cycles (50 left), then both at half rate: A ends at 50 + 2*50 = 150 with B
    # 50 short; B alone finishes at 200. Each waited 50 beyond its 100 cycles.
    ends, channel = _transfers([(0, 100), (50, 100)])
    assert ends == [150, 200]
    assert channel.longest_wait == 50


def test_three_streams_never_exceed_the_bandwidth():
    ends, channel = _transfers([(0, 30), (0, 60), (10, 90)])
    # total work 180 cycles on a channel never idle from 0: the last ends at exactly 180
    assert max(ends) == 180
    assert channel.busy == 180


def _task(index: int, kind: str, layer: str) -> Task:
    return Task(index, f"{layer}.{kind}", kind, layer, (), 1, (), ())


def test_simultaneous_requests_are_served_by_priority_not_arrival():
    env = simpy.Environment()
    dispatcher = Dispatcher(env, {"wg": [0]}, lambda task, unit: 1)
    ranks = {"fc1": 0, "fc2": 1}
    late_high, early_low = _task(0, "wg", "fc1"), _task(1, "wg", "fc2")
    order: list[str] = []

    def ask(task: Task):
        unit = yield dispatcher.request(task_priority(0, task, ranks), task)
        order.append(task.name)
        yield env.timeout(5)
        dispatcher.release(unit)

    env.process(ask(early_low))  # asks first, in the same cycle
    env.process(ask(late_high))
    env.run()
    assert order == ["fc1.wg", "fc2.wg"]


def test_older_iterations_go_first():
    ranks = {"fc1": 0, "fc2": 1}
    wu_old = task_priority(0, _task(7, "wu", "fc2"), ranks)
    fp_new = task_priority(1, _task(0, "fp", "fc1"), ranks)
    assert wu_old < fp_new


def test_a_task_goes_to_its_fastest_free_unit():
    env = simpy.Environment()
    cycles = {0: 10, 1: 4}
    dispatcher = Dispatcher(env, {"fp": [0, 1]}, lambda task, unit: cycles[unit])
    got = []

    def ask():
        got.append((yield dispatcher.request((0, 0, 0, 0), _task(0, "fp", "fc1"))))

    env.process(ask())
    env.run()
    assert got == [1]


def test_steady_state_of_a_barrier_schedule_is_one_iteration():
    s = steady_state((49.0, 98.0, 147.0), depth=1)
    assert (s.cycles_per_iteration, s.reached) == (49.0, True)


def test_steady_state_skips_fill_and_drain_and_averages_whole_periods():
    # depth 2: the first two ends fill the pipeline, the last two spacings drain (7, 5);
    # in between a period-2 pattern 30, 10, 30, 10, 30, 10, 30: 7 spacings, of which the
    # latest 6 are whole periods -> (10 + 30) / 2 = 20 per iteration; warm-up 2 + 1
    ends = [100.0, 130.0]
    for spacing in (30, 10, 30, 10, 30, 10, 30, 7, 5):
        ends.append(ends[-1] + spacing)
    s = steady_state(tuple(ends), depth=2)
    assert s.reached
    assert s.cycles_per_iteration == 20.0
    assert (s.warmup_iterations, s.measured_iterations) == (3, 6)


def test_a_run_still_settling_reports_no_steady_state():
    ends = [100.0, 200.0]
    for spacing in (90, 80, 70, 60, 50, 40, 30):
        ends.append(ends[-1] + spacing)
    assert not steady_state(tuple(ends), depth=2).reached
