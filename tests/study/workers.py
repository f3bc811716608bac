"""Small picklable task functions for executor tests, where the simulator is not the subject."""

from __future__ import annotations

import os
import signal


def square_or_crash(task: dict) -> int:
    """``task["x"] ** 2``; ``crash`` kills the worker process, ``raise`` raises ValueError."""
    if task.get("crash"):
        os.kill(os.getpid(), signal.SIGKILL)
    if task.get("raise"):
        raise ValueError(f"bad x {task['x']}")
    return task["x"] ** 2


def worker_pid(task: int) -> int:
    return os.getpid()


def simulate_or_crash(task: dict) -> dict:
    """The real sweep worker function, except that DFA at 150 MHz kills its process."""
    from accelsim.study.run import run_point

    if task["algorithm"] == "dfa" and task["arch"]["clock_mhz"] == 150:
        os.kill(os.getpid(), signal.SIGKILL)
    return run_point(task)
