"""Run a function over many tasks in local worker processes, yielding results as they finish.

Each worker is a long-lived process (forked from a forkserver that has already imported the
simulator, so a worker starts in milliseconds and never re-imports per point) that receives one
task at a time over its own pipe. Because the parent knows which task each worker holds, a
worker that dies (a segfault, the OOM killer, ``os._exit``) costs exactly that task: it is
reported as failed with the exit signal, a fresh worker takes its place and the other tasks go
on. A crashed task is not retried within the run (it would most likely crash again); the next
``accelsim sweep`` of the same spec runs failed points again (unless ``--keep-failed``).

An exception raised by the function is caught in the worker and reported as the task's error
message (``ConfigError`` messages as they are, others prefixed by the exception type).

A worker process starts by importing the parent's main script again (multiprocessing's
forkserver and spawn start methods do that), so a script that starts a sweep at its top level,
without ``if __name__ == "__main__":``, would start the sweep again in every worker. The worker
notices (``check_main_guard``: a sweep started while its process is still bootstrapping), exits
with ``MAIN_GUARD_EXIT``, and the parent raises ``MainGuardMissing`` saying what to write,
instead of storing every point as failed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from accelsim.config.errors import ConfigError

# Imported once by the forkserver, inherited by every worker it forks.
PRELOAD = ("accelsim.study.run", "accelsim.report.api")

# Exit code of a worker whose bootstrap (re-importing the main script) started a sweep.
MAIN_GUARD_EXIT = 87


class MainGuardMissing(RuntimeError):
    """The main script starts a sweep when imported, so every worker would start it again."""


def check_main_guard() -> None:
    """In a worker process that is still importing the parent's main script (the script has no
    ``if __name__ == "__main__":`` guard), end the process at once with ``MAIN_GUARD_EXIT``; the
    parent turns that into ``MainGuardMissing``. Elsewhere, nothing."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        os._exit(MAIN_GUARD_EXIT)


def main_guard_message(start_method: str) -> str:
    script = getattr(sys.modules.get("__main__"), "__file__", None) or "the main script"
    return (
        f"the sweep's worker processes stop while importing {script}: multiprocessing "
        f"({start_method} start method) imports the main script again in each worker, and this "
        "one starts the sweep at import time. Put the code that runs the sweep under "
        '`if __name__ == "__main__":` at the end of the script (for example '
        '`def main(): ...` and then `if __name__ == "__main__": main()`); see docs/sweeps.md, '
        "Python API"
    )


@dataclass(frozen=True)
class TaskOutcome:
    """The end of one task: its index in the submitted sequence, and a value or an error."""

    index: int
    ok: bool
    value: Any = None
    error: str | None = None
    duration_s: float = 0.0  # wall time of the task where it ran
    cpu_s: float = 0.0  # CPU time of the task's process meanwhile (0 when unknown)


def call_task(fn: Callable[[Any], Any], task: Any) -> tuple[bool, Any, str | None, float, float]:
    """Run ``fn(task)``: ``(ok, value, error message, wall seconds, CPU seconds)``; an exception
    becomes ``ok=False`` with its message."""
    start, cpu = time.perf_counter(), time.process_time()
    try:
        value = fn(task)
    except Exception as err:  # noqa: BLE001 - any failure of one point is that point's result
        ok, value, error = False, None, error_message(err)
    else:
        ok, error = True, None
    return ok, value, error, time.perf_counter() - start, time.process_time() - cpu


def error_message(err: BaseException) -> str:
    if isinstance(err, ConfigError):
        return err.message
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def default_workers() -> int:
    return os.cpu_count() or 1


class LocalExecutor:
    """``workers`` processes on this machine; ``run`` yields ``TaskOutcome`` in finishing order."""

    def __init__(self, workers: int | None = None, start_method: str | None = None) -> None:
        check_main_guard()
        self.workers = max(1, workers or default_workers())
        methods = multiprocessing.get_all_start_methods()
        self.start_method = start_method or ("forkserver" if "forkserver" in methods else "spawn")

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[TaskOutcome]:
        check_main_guard()
        if not tasks:
            return
        ctx = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            ctx.set_forkserver_preload(list(PRELOAD))
        queue = deque(range(len(tasks)))
        workers: list[_Worker] = []
        try:
            for _ in range(min(self.workers, len(tasks))):
                worker = _Worker(ctx, fn)
                workers.append(worker)
                worker.give(queue.popleft(), tasks)
            while any(worker.task is not None for worker in workers):
                busy = [w for w in workers if w.task is not None]
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
                for slot, worker in enumerate(workers):
                    if worker.task is None or not (
                        worker.conn in ready or worker.process.sentinel in ready
                    ):
                        continue
                    outcome = worker.collect()
                    if outcome is None:  # the process died holding its task
                        outcome = worker.crash_outcome()
                        if worker.process.exitcode == MAIN_GUARD_EXIT:
                            raise MainGuardMissing(main_guard_message(self.start_method))
                        worker.close()
                        worker = workers[slot] = _Worker(ctx, fn)
                    yield outcome
                    if queue:
                        worker.give(queue.popleft(), tasks)
        finally:
            for worker in workers:
                worker.close()


class _Worker:
    """One worker process, its pipe, and the task it is holding (index, start time)."""

    def __init__(self, ctx: Any, fn: Callable[[Any], Any]) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, fn), daemon=True)
        self.process.start()
        child.close()
        self.task: int | None = None
        self.started = 0.0

    def give(self, index: int, tasks: Sequence[Any]) -> None:
        self.task = index
        self.started = time.perf_counter()
        # If the process is gone, its sentinel reports the crash.
        with contextlib.suppress(OSError, EOFError):
            self.conn.send((index, tasks[index]))

    def collect(self) -> TaskOutcome | None:
        """The finished task's outcome, or None if the process died without answering."""
        try:
            if not self.conn.poll():
                return None  # only the sentinel fired: the process ended holding its task
            index, ok, value, error, seconds, cpu = self.conn.recv()
        except Exception:  # noqa: BLE001 - EOF or a message cut short by the process dying
            return None
        self.task = None
        return TaskOutcome(index, ok, value, error, seconds, cpu)

    def crash_outcome(self) -> TaskOutcome:
        self.process.join(timeout=5)
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        index, self.task = self.task, None
        return TaskOutcome(
            index,
            False,
            error=f"worker process {how} while running this point",
            duration_s=time.perf_counter() - self.started,
        )

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(timeout=2)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(timeout=2)
        self.conn.close()


def _worker_main(conn: Connection, fn: Callable[[Any], Any]) -> None:
    # Ctrl-C belongs to the parent, which stops the sweep and closes the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, task = message
        ok, value, error, seconds, cpu = call_task(fn, task)
        try:
            conn.send((index, ok, value, error, seconds, cpu))
        except (TypeError, ValueError, AttributeError, pickle.PicklingError) as err:  # unpicklable
            conn.send(
                (index, False, None, f"unpicklable result: {error_message(err)}", seconds, cpu)
            )
