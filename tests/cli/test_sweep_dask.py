"""The Dask path: points run on a real dask.distributed LocalCluster, results land locally."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli

ARCH = ROOT / "arch_configs" / "dflnpu.yaml"
WORKLOAD = ROOT / "workloads" / "lenet_mnist.yaml"
SPEC = f"""arch: {ARCH}
workload: {WORKLOAD}
algorithms: [bp, pdfa]
iterations: 2
grid:
  arch.clock_mhz: [100, 200]
  workload.dataset.batch_size: [4, 8]
"""


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        processes=False,
        n_workers=1,
        threads_per_worker=2,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


def rows_by_point(store) -> dict[str, dict]:
    proc = run_cli("results", store, "--json")
    assert proc.returncode == 0, proc.stderr
    return {json.dumps(r["point"], sort_keys=True): r for r in json.loads(proc.stdout)}


def test_a_sweep_on_a_dask_cluster_stores_the_same_results_as_local_workers(cluster, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    remote = run_cli(
        "sweep",
        spec,
        "--store",
        tmp_path / "dask.db",
        "--json",
        "--scheduler",
        cluster.scheduler_address,
    )
    assert remote.returncode == 0, remote.stderr
    assert json.loads(remote.stdout)["ok"] == 8
    local = run_cli("sweep", spec, "--store", tmp_path / "local.db", "--workers", "1")
    assert local.returncode == 0, local.stderr
    on_dask, here = rows_by_point(tmp_path / "dask.db"), rows_by_point(tmp_path / "local.db")
    assert set(on_dask) == set(here) and len(here) == 8
    for key, row in here.items():
        for metric in ("cycles", "latency_s", "energy_pj", "dram_bytes"):
            assert on_dask[key][metric] == row[metric]
        assert on_dask[key]["hash"] == row["hash"]


def test_the_dask_executor_reports_exceptions_per_task(cluster):
    from study.workers import square_or_crash

    from accelsim.study.dask_executor import DaskExecutor

    tasks = [{"x": i, "raise": i == 1} for i in range(4)]
    outcomes = {
        o.index: o for o in DaskExecutor(cluster.scheduler_address).run(square_or_crash, tasks)
    }
    assert sorted(outcomes) == [0, 1, 2, 3]
    assert outcomes[1].error == "ValueError: bad x 1"
    assert [outcomes[i].value for i in (0, 2, 3)] == [0, 4, 9]


def test_an_unreachable_scheduler_is_one_line_exit_2(tmp_path):
    pytest.importorskip("distributed")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    proc = run_cli(
        "sweep",
        spec,
        "--store",
        tmp_path / "s.db",
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--scheduler-timeout",
        "0.5",
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "tcp://127.0.0.1:9" in proc.stderr


def test_without_dask_the_scheduler_option_says_how_to_install_it(tmp_path):
    # A folder early on sys.path whose `distributed` cannot be imported hides the real one.
    blocker = tmp_path / "blocker" / "distributed"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    env = dict(os.environ, PYTHONPATH=str(blocker.parent))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "accelsim",
            "sweep",
            str(spec),
            "--store",
            str(tmp_path / "s.db"),
            "--scheduler",
            "tcp://127.0.0.1:8786",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "pip install 'accelsim[dask]'" in proc.stderr
