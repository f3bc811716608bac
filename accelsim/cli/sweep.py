"""``accelsim sweep`` (run a resumable design-space sweep) and ``accelsim results`` (read a store).

The library (``accelsim.study``) plans, executes and stores; this module only renders: a tqdm
progress bar on stderr while points finish, a summary line at the end, and the store's rows as a
table, JSON or CSV.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from typing import Any

import click

_SWEEP_EXAMPLES = """

\b
Examples:
  accelsim sweep examples/sweeps/dflnpu_lenet.yaml --store out/sweep.db
  accelsim sweep examples/sweeps/dflnpu_lenet.yaml --store out/sweep.db --workers 2
  accelsim sweep examples/sweeps/dflnpu_lenet.yaml --store out/sweep.db --dry-run
  accelsim sweep examples/sweeps/dflnpu_lenet.yaml --store out/sweep.db --keep-failed
  accelsim sweep spec.yaml --store out/sweep.db --scheduler tcp://10.0.0.5:8786
"""


@click.command(
    help="Run the points of SPEC (a sweep YAML, see docs/sweeps.md) and store each result in "
    "the SQLite file --store as it finishes. Rerunning the same command skips the points stored "
    "ok and runs the rest, failed ones included (unless --keep-failed), so an interrupted sweep "
    "(even killed) resumes where it stopped." + _SWEEP_EXAMPLES
)
@click.argument("spec", metavar="SPEC.yaml")
@click.option("--store", "store_path", required=True, metavar="FILE.db", help="Result store.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes [default: the core count].",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run on an existing Dask cluster (e.g. tcp://host:8786) instead of local workers.",
)
@click.option(
    "--scheduler-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for the Dask scheduler to answer.",
)
@click.option(
    "--keep-failed",
    is_flag=True,
    help="Do not run again the points stored as failed (by default a rerun retries them).",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Run again the points stored as failed: the default; kept for existing scripts.",
)
@click.option("--dry-run", is_flag=True, help="List the points (JSON lines) and run nothing.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    metavar="N",
    help="With --dry-run: list at most the first N points (their count is always printed).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def sweep(
    spec: str,
    store_path: str,
    workers: int | None,
    scheduler: str | None,
    scheduler_timeout: float,
    keep_failed: bool,
    retry_failed: bool,
    dry_run: bool,
    limit: int,
    no_progress: bool,
    as_json: bool,
) -> None:
    from accelsim.study.run import describe, load_points, plan_sweep, run_sweep
    from accelsim.study.store import Store

    if scheduler is not None and workers is not None:
        raise click.UsageError("--workers and --scheduler exclude each other")
    if keep_failed and retry_failed:
        raise click.UsageError("--keep-failed and --retry-failed exclude each other")
    if dry_run:
        _list_points(spec, store_path, not keep_failed, limit)
        return
    sweep_spec, points = load_points(spec)  # bad specs fail before the store is touched
    executor = _executor(workers, scheduler, scheduler_timeout)
    failures: list[tuple[Any, str | None]] = []
    with Store(store_path) as store:
        plan = plan_sweep(sweep_spec, points, store, retry_failed=not keep_failed)
        counts = {"ok": 0, "failed": 0}
        start = time.perf_counter()
        bar = _progress(len(plan.points), plan.done, disable=no_progress)
        try:
            for point, outcome in run_sweep(plan, store, executor):
                counts["ok" if outcome.ok else "failed"] += 1
                if not outcome.ok:
                    failures.append((point, outcome.error))
                bar.update(1)
                bar.set_postfix(failed=counts["failed"], refresh=False)
        finally:
            bar.close()
        elapsed = time.perf_counter() - start
        statuses = store.statuses()
    todo = {p.key for p in plan.todo}
    kept = sum(1 for p in points if p.key not in todo and statuses.get(p.key) == "failed")
    ran = counts["ok"] + counts["failed"]
    summary = {
        "store": store_path,
        "points": len(plan.points),
        "skipped": plan.done,
        "ran": ran,
        "retried": plan.retried,
        "ok": counts["ok"],
        "failed": counts["failed"],
        "kept_failed": kept,
        "seconds": round(elapsed, 3),
        "points_per_s": round(ran / elapsed, 2) if ran and elapsed > 0 else None,
        "failed_points": [{"point": p.as_dict(), "error": error} for p, error in failures],
    }
    if as_json:
        click.echo(json.dumps(summary))
        return
    rate = f" ({summary['points_per_s']} points/s)" if ran else ""
    retried = f" ({plan.retried} of them failed before)" if plan.retried else ""
    click.echo(
        f"sweep {plan.spec.name}: {len(plan.points)} points, {plan.done} already stored, "
        f"{ran} run{retried} in {elapsed:.1f} s{rate}: {counts['ok']} ok, "
        f"{counts['failed']} failed; store {store_path}"
    )
    if kept:
        click.echo(f"{kept} points stored as failed were not run again (--keep-failed)")
    shown = failures[:_FAILED_SHOWN]
    for point, error in shown:
        click.echo(f"failed: {describe(point)}: {error}")
    if len(failures) > len(shown):
        click.echo(f"... and {len(failures) - len(shown)} more failed points")
    if counts["failed"] or kept:
        click.echo(f"see the errors with: accelsim results {store_path} --status failed")


_FAILED_SHOWN = 20  # failed points listed at the end of a run (--json lists them all)


def _list_points(spec_path: str, store_path: str, retry_failed: bool, limit: int) -> None:
    """--dry-run: the first ``limit`` points as JSON lines, streamed (never the whole list),
    then their count on stderr; reads an existing store, never creates one."""
    from accelsim.study.expand import count_points, iter_points
    from accelsim.study.run import validated
    from accelsim.study.spec import load_spec
    from accelsim.study.store import Store, store_exists

    spec = load_spec(spec_path)
    statuses: dict[str, str] = {}
    if store_exists(store_path):
        with Store(store_path, create=False) as store:
            statuses = store.statuses()
    skip = {"ok"} if retry_failed else {"ok", "failed"}
    listed = 0
    for point in validated(spec, iter_points(spec)):
        if listed >= limit:
            break
        state = "stored" if statuses.get(point.key) in skip else "todo"
        click.echo(json.dumps({"point": point.as_dict(), "hash": point.key, "state": state}))
        listed += 1
    total = count_points(spec)
    more = f"; listed the first {listed} (--limit)" if listed < total else ""
    repeats = " (at most: repeated random draws count once)" if spec.random else ""
    click.echo(f"dry run: {total} points{repeats}{more}", err=True)


def _executor(workers: int | None, scheduler: str | None, timeout_s: float) -> Any:
    if scheduler is not None:
        from accelsim.study.dask_executor import DaskExecutor, DaskUnavailable

        try:
            executor = DaskExecutor(scheduler, timeout_s=timeout_s)
            executor.connect()
        except DaskUnavailable as err:
            raise click.ClickException(str(err)) from None
        return executor
    # Workers are processes; each should use one thread so N workers fill N cores, not N^2.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    from accelsim.study.executor import LocalExecutor

    return LocalExecutor(workers)


def _progress(total: int, initial: int, disable: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="pt",
        desc="sweep",
        file=sys.stderr,
        disable=disable,
        dynamic_ncols=True,
        smoothing=0.1,
    )


# -- results -------------------------------------------------------------------------------------

_RESULTS_EXAMPLES = """

\b
Examples:
  accelsim results out/sweep.db
  accelsim results out/sweep.db --json
  accelsim results out/sweep.db --csv > sweep.csv
  accelsim results out/sweep.db --status failed
"""


@click.command(
    help="Print the rows of the sweep store FILE.db: a table by default, --json (a list of rows, "
    "each with `point`, `status`, `error` and the summary keys of `accelsim simulate --json`) or "
    "--csv (one column per swept value and metric)." + _RESULTS_EXAMPLES
)
@click.argument("store_path", metavar="FILE.db")
@click.option("--json", "fmt", flag_value="json", help="JSON: a list of rows.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV with a header line.")
@click.option(
    "--status",
    type=click.Choice(["ok", "failed"]),
    default=None,
    help="Only rows with this status.",
)
@click.option("--full", is_flag=True, help="With --json: include each point's per-layer results.")
def results(store_path: str, fmt: str | None, status: str | None, full: bool) -> None:
    from accelsim.study.results import result_rows, table_columns
    from accelsim.study.store import DERIVED_COLUMNS, SUMMARY_COLUMNS, Store

    with Store(store_path, create=False) as store:
        stored = store.rows(status)
        damaged = store.damaged
    for message in damaged:  # reported, and the readable rows are still printed
        click.echo(f"accelsim: warning: {message}", err=True)
    rows = result_rows(stored, full=full)
    for row, record in zip(rows, stored, strict=True):
        # Per-iteration steady state and the ratios against BP of the same swept values.
        row.update({key: record.derived.get(key) for key in DERIVED_COLUMNS})
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1))
        return
    columns, flat = table_columns(rows)
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in flat:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
        return
    point_keys = list(dict.fromkeys(k for row in rows for k in row["point"]))
    _print_table(columns, flat, point_keys, (*SUMMARY_COLUMNS, "speedup_vs_bp"))


def _print_table(
    columns: list[str], rows: list[dict[str, Any]], point_keys: list[str], summary: tuple
) -> None:
    # The terminal table keeps to the swept values and the headline metrics; --csv has it all.
    if not rows:
        click.echo("(no rows)")
        return
    headline = ["status", *summary, "error"]
    shown = [c for c in columns if c in point_keys] + [c for c in headline if c in columns]
    cells = [[_cell(row.get(c), full=c == "error") for c in shown] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(shown)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(shown, widths, strict=True)).rstrip())
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: Any, full: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if full or len(text) <= 60 else text[:57] + "..."
