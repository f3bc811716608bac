"""Sweep throughput: points per second per core for LeNet (MNIST) on the DF-LNPU-like chip.

Measures, in one run on the same points:
  * the simulator alone, serially in this process (the ceiling: no processes, no store);
  * the store alone (one SQLite commit per point, WAL);
  * full sweeps (plan + workers + store, as ``accelsim sweep`` runs them) with 1 and 2 local
    worker processes: points per wall-clock second (including worker start-up), their scaling
    ratio, and points per CPU-second (workers' CPU time per task plus the parent's), which does
    not depend on what else the machine is running.

Run:  python benchmarks/sweep.py [--grid-size N] [--repeat R]
Prints a Markdown table for the sweeps section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from accelsim.study.executor import LocalExecutor  # noqa: E402
from accelsim.study.run import load_points, plan_sweep, run_point, run_sweep, task_for  # noqa: E402
from accelsim.study.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def spec_text(size: int, iterations: int | None = None) -> str:
    clocks = [50 + 10 * i for i in range(size)]
    return (
        f"arch: {ROOT / 'arch_configs' / 'dflnpu.yaml'}\n"
        f"workload: {ROOT / 'workloads' / 'lenet_mnist.yaml'}\n"
        "algorithms: [bp, dfa, pdfa]\n"
        + (f"iterations: {iterations}\n" if iterations else "")
        + "grid:\n"
        f"  arch.clock_mhz: {clocks}\n"
        "  arch.units.lc_fp.rows: [8, 16, 32]\n"
        "  workload.dataset.batch_size: [8, 32]\n"
    )


def serial(spec, points) -> float:
    tasks = [task_for(spec, p) for p in points]
    run_point(tasks[0])  # warm caches the way a long-lived worker has them
    start = time.perf_counter()
    for task in tasks:
        run_point(task)
    return len(tasks) / (time.perf_counter() - start)


def store_commits(spec, points, folder: Path) -> float:
    result = run_point(task_for(spec, points[0]))
    with Store(folder / "commits.db") as store:
        start = time.perf_counter()
        for point in points:
            store.record(point.key, point.as_dict(), "ok", result=result, duration_s=0.01)
        return (time.perf_counter() - start) / len(points)


def sweep(spec, points, workers: int, folder: Path) -> tuple[float, float]:
    """(points per wall second, points per CPU second of workers + parent) of a full sweep."""
    path = folder / f"sweep-{workers}-{time.perf_counter_ns()}.db"
    start, parent_cpu = time.perf_counter(), time.process_time()
    worker_cpu = 0.0
    with Store(path) as store:
        plan = plan_sweep(spec, points, store)
        done = 0
        for _, outcome in run_sweep(plan, store, LocalExecutor(workers)):
            done += 1
            worker_cpu += outcome.cpu_s
    elapsed = time.perf_counter() - start
    parent_cpu = time.process_time() - parent_cpu
    assert done == len(points)
    return done / elapsed, done / (worker_cpu + parent_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid-size", type=int, default=12, help="clock values (x 18 points)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement (median)")
    parser.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="iterations per point (default: each point's steady state, as simulate does)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "spec.yaml").write_text(spec_text(args.grid_size, args.iterations))
        start = time.perf_counter()
        spec, points = load_points(folder / "spec.yaml")
        plan_s = time.perf_counter() - start
        n = len(points)
        ceiling = statistics.median(serial(spec, points) for _ in range(args.repeat))
        commit_s = store_commits(spec, points, folder)
        one = [sweep(spec, points, 1, folder) for _ in range(args.repeat)]
        two = [sweep(spec, points, 2, folder) for _ in range(args.repeat)]
    load = os.getloadavg()[0]
    runs = f"{args.iterations} iteration(s)" if args.iterations else "steady-state iterations"
    print(
        f"LeNet-5 (MNIST, batch 8/32) x dflnpu, {n} points, {runs} per point, "
        f"{os.cpu_count()} cores, load average {load:.1f} at the end"
    )
    print()
    one_wall, one_cpu = (statistics.median(m[i] for m in one) for i in (0, 1))
    two_wall, two_cpu = (statistics.median(m[i] for m in two) for i in (0, 1))
    print("| measurement | points/s (wall) | points/s/core (wall) | points per CPU-second |")
    print("|---|---:|---:|---:|")
    print(f"| simulator alone, serial, in process | {ceiling:.1f} | {ceiling:.1f} | - |")
    print(f"| sweep, 1 worker | {one_wall:.1f} | {one_wall:.1f} | {one_cpu:.1f} |")
    print(f"| sweep, 2 workers | {two_wall:.1f} | {two_wall / 2:.1f} | {two_cpu:.1f} |")
    print()
    print(
        f"scaling 1 -> 2 workers (wall): {two_wall / one_wall:.2f}x; planning (expand + "
        f"validate {n} points): {plan_s * 1e3:.0f} ms; one store commit: {commit_s * 1e6:.0f} µs"
    )


if __name__ == "__main__":
    main()
