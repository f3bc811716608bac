"""Running a sweep into a store: a worker crash costs one point, the others are stored ok."""

from __future__ import annotations

from study.workers import simulate_or_crash

from accelsim.study.executor import LocalExecutor
from accelsim.study.run import load_points, plan_sweep, run_sweep
from accelsim.study.store import Store

BODY = "algorithms: [bp, dfa]\ngrid: {arch.clock_mhz: [100, 150, 200]}\n"


def test_a_point_that_kills_its_worker_is_stored_failed_and_the_others_ok(make_spec, tmp_path):
    spec, points = load_points(make_spec(BODY))
    with Store(tmp_path / "s.db") as store:
        plan = plan_sweep(spec, points, store)
        outcomes = list(run_sweep(plan, store, LocalExecutor(2), fn=simulate_or_crash))
        rows = {tuple(sorted(r.point.items())): r for r in store.rows()}
    assert len(outcomes) == len(points) == len(rows) == 6
    for key, row in rows.items():
        point = dict(key)
        if point["arch.clock_mhz"] == 150 and point["algorithm"] == "dfa":
            assert row.status == "failed" and "SIGKILL" in row.error
        else:
            assert row.status == "ok" and row.metrics["cycles"] > 0


def test_a_second_run_skips_what_the_store_holds(make_spec, tmp_path):
    spec, points = load_points(make_spec(BODY))
    with Store(tmp_path / "s.db") as store:
        store.record(points[0].key, points[0].as_dict(), "ok", {"cycles": 1})
        store.record(points[1].key, points[1].as_dict(), "failed", error="x")
        # By default a rerun retries the failed point; the ok one never runs again.
        plan = plan_sweep(spec, points, store)
        assert plan.todo == tuple(points[1:]) and plan.done == 1 and plan.retried == 1
        kept = plan_sweep(spec, points, store, retry_failed=False)
        assert kept.todo == tuple(points[2:]) and kept.done == 2 and kept.retried == 0
