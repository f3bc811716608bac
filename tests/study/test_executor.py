"""Local worker processes: results in any order but all present; a crash costs only its task."""

from __future__ import annotations

from study.workers import square_or_crash, worker_pid

from accelsim.study.executor import LocalExecutor


def test_every_task_comes_back_once_with_its_value():
    tasks = [{"x": i} for i in range(40)]
    outcomes = list(LocalExecutor(2).run(square_or_crash, tasks))
    assert sorted(o.index for o in outcomes) == list(range(40))
    assert all(o.ok and o.value == tasks[o.index]["x"] ** 2 for o in outcomes)


def test_worker_processes_are_reused_across_tasks():
    outcomes = list(LocalExecutor(2).run(worker_pid, list(range(50))))
    assert len({o.value for o in outcomes}) <= 2


def test_an_exception_is_that_tasks_error_and_the_rest_go_on():
    tasks = [{"x": i, "raise": i == 2} for i in range(6)]
    outcomes = {o.index: o for o in LocalExecutor(2).run(square_or_crash, tasks)}
    assert outcomes[2].error == "ValueError: bad x 2" and not outcomes[2].ok
    assert all(outcomes[i].ok for i in range(6) if i != 2)


def test_a_killed_worker_fails_only_its_task_and_is_replaced():
    tasks = [{"x": i, "crash": i in (1, 4)} for i in range(10)]
    outcomes = {o.index: o for o in LocalExecutor(2).run(square_or_crash, tasks)}
    assert sorted(outcomes) == list(range(10))
    for i in (1, 4):
        assert not outcomes[i].ok and "SIGKILL" in outcomes[i].error
    assert all(outcomes[i].ok and outcomes[i].value == i * i for i in range(10) if i not in (1, 4))


def test_the_spawn_start_method_works_too():
    outcomes = list(LocalExecutor(1, start_method="spawn").run(square_or_crash, [{"x": 3}]))
    assert [(o.ok, o.value) for o in outcomes] == [(True, 9)]
