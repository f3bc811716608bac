"""A script that runs a sweep without ``if __name__ == "__main__":`` gets a clear error.

multiprocessing's forkserver (and spawn) start method imports the main script again in every
worker; without the guard, each worker would start the sweep again and every point would fail
with a bootstrap error. The executor detects it and says what to write, and stores nothing.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from conftest import ROOT

SCRIPT = """\
import sys
from accelsim.study.executor import LocalExecutor
from accelsim.study.run import load_points, plan_sweep, run_sweep
from accelsim.study.store import Store

def main():
    spec, points = load_points(sys.argv[1])
    with Store(sys.argv[2]) as store:
        plan = plan_sweep(spec, points, store)
        for point, outcome in run_sweep(plan, store, LocalExecutor(2)):
            print("stored", outcome.ok, outcome.error)

{call}
"""


def run_script(tmp_path, call: str) -> tuple[subprocess.CompletedProcess, int]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"arch: {ROOT / 'arch_configs' / 'dflnpu.yaml'}\n"
        f"workload: {ROOT / 'workloads' / 'lenet_mnist.yaml'}\n"
        "algorithms: [bp, dfa]\niterations: 1\n"
    )
    script = tmp_path / "my_sweep.py"
    script.write_text(SCRIPT.format(call=call))
    store = tmp_path / "s.db"
    proc = subprocess.run(
        [sys.executable, str(script), str(spec), str(store)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    db = sqlite3.connect(store)
    stored = db.execute("SELECT COUNT(*) FROM points").fetchone()[0]
    db.close()
    return proc, stored


def test_a_script_without_the_main_guard_is_told_what_to_write(tmp_path):
    proc, stored = run_script(tmp_path, "main()")
    assert proc.returncode != 0
    assert "MainGuardMissing" in proc.stderr
    assert 'if __name__ == "__main__":' in proc.stderr
    assert "my_sweep.py" in proc.stderr
    assert "stored" not in proc.stdout
    assert stored == 0  # no point stored as failed by the broken bootstrap


def test_the_same_script_with_the_guard_runs(tmp_path):
    proc, stored = run_script(tmp_path, 'if __name__ == "__main__":\n    main()')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("stored True None") == 2
    assert stored == 2
