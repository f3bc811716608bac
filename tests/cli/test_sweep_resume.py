"""A sweep killed by SIGKILL mid-run resumes and ends with every point stored exactly once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from conftest import ROOT, run_cli

ARCH = ROOT / "arch_configs" / "dflnpu.yaml"
WORKLOAD = ROOT / "workloads" / "lenet_mnist.yaml"

# 5 x 4 x 3 x 3 = 180 points: long enough (seconds) to be killed in the middle.
SPEC = f"""arch: {ARCH}
workload: {WORKLOAD}
algorithms: [bp, dfa, pdfa]
grid:
  arch.clock_mhz: [50, 100, 150, 200, 250]
  arch.units.lc_fp.rows: [4, 8, 16, 32]
  arch.units.lc_bw.cols: [8, 16, 32]
"""


def stored(store) -> int:
    if not store.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT COUNT(*) FROM points").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def test_sigkill_mid_sweep_then_rerun_stores_each_point_once(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    store = tmp_path / "sweep.db"
    listing = run_cli("sweep", spec, "--store", tmp_path / "dry.db", "--dry-run")
    expected = {json.loads(line)["hash"] for line in listing.stdout.splitlines()}
    assert len(expected) == 180

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "accelsim",
            "sweep",
            str(spec),
            "--store",
            str(store),
            "--workers",
            "1",
            "--no-progress",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )
    deadline = time.monotonic() + 120
    while stored(store) < 10 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = stored(store)
    assert proc.returncode == -signal.SIGKILL, "the sweep ended before it could be killed"
    assert 10 <= at_kill < 180

    resumed = run_cli("sweep", spec, "--store", store, "--workers", "2", "--json", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["skipped"] >= at_kill and summary["skipped"] + summary["ran"] == 180

    db = sqlite3.connect(store)
    hashes = [h for (h,) in db.execute("SELECT hash FROM points")]
    statuses = {s for (s,) in db.execute("SELECT DISTINCT status FROM points")}
    db.close()
    assert len(hashes) == len(set(hashes)) == 180
    assert set(hashes) == expected
    assert statuses == {"ok"}
