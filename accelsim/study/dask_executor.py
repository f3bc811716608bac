"""Run sweep points on an existing Dask distributed cluster; results come back to this process.

``accelsim sweep SPEC --store FILE.db --scheduler tcp://HOST:8786`` connects a client to the
scheduler, submits every point, and stores each result locally as it completes, exactly as the
local executor does; the cluster never touches the store. Workers need accelsim installed (same
version, so the stored hashes mean the same model). A point whose worker dies is retried by Dask
on another worker (its ``allowed-failures`` setting) and recorded as failed once Dask gives up.

Dask is an optional extra (``pip install 'accelsim[dask]'``); without it, ``DaskUnavailable``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from accelsim.study.executor import TaskOutcome, call_task, error_message

INSTALL_HINT = "pip install 'accelsim[dask]'"


class DaskUnavailable(RuntimeError):
    """dask.distributed is not installed, or the scheduler cannot be reached."""


class DaskExecutor:
    """Submit tasks to the Dask scheduler at ``address``; ``run`` yields in finishing order."""

    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise DaskUnavailable(
                f"--scheduler needs dask.distributed, which is not installed: {INSTALL_HINT}"
            ) from None
        self.address = address
        self.timeout_s = timeout_s
        self._client: Any = None

    def connect(self) -> None:
        """Connect now (``run`` would otherwise), so an unreachable scheduler fails early."""
        if self._client is not None:
            return
        from distributed import Client

        try:
            self._client = Client(self.address, timeout=self.timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise DaskUnavailable(
                f"--scheduler: cannot reach a Dask scheduler at {self.address} "
                f"({error_message(err)})"
            ) from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[TaskOutcome]:
        if not tasks:
            return
        from distributed import as_completed

        self.connect()
        client = self._client
        futures = {}
        try:
            for index, task in enumerate(tasks):
                # pure=False: identical payloads are still distinct points to run.
                futures[client.submit(call_task, fn, task, pure=False)] = index
            start = time.perf_counter()
            for future in as_completed(futures, loop=client.loop):
                index = futures.pop(future)
                try:
                    ok, value, error, seconds, cpu = future.result()
                except Exception as err:  # noqa: BLE001 - e.g. KilledWorker: this point failed
                    ok, value, error = False, None, f"on the Dask cluster: {error_message(err)}"
                    seconds, cpu = time.perf_counter() - start, 0.0
                yield TaskOutcome(index, ok, value, error, seconds, cpu)
        finally:
            if futures:
                client.cancel(list(futures))
            self.close()
