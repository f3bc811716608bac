"""docs/results.md and the hybrid-dfa default follow from the committed measurements.

benchmarks/results.py writes docs/results.md from the cached runs (benchmarks/results/); these
tests rebuild its text from the same caches, without training and without writing anything, and
check that (1) the file is what the script writes, so no figure in it is typed or stale, and
(2) ``HYBRID_DEFAULT_RULE`` is the rule the placement study chooses from its runs.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from accelsim.config.extensions import HYBRID_DEFAULT_RULE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def benchmarks():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        yield {
            name: importlib.import_module(name)
            for name in ("accuracy", "hybrid_placement", "results")
        }
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_results_md_is_what_the_script_writes(benchmarks):
    text = benchmarks["results"].render(figures=False, save=False)
    on_disk = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert text == on_disk, "docs/results.md is stale: run python benchmarks/results.py"


def test_hybrid_default_is_the_placement_studys_choice(benchmarks):
    study = benchmarks["hybrid_placement"]
    import json

    cache = json.loads(study.SIM_CACHE.read_text(encoding="utf-8"))
    points = study.collect(list(study.WORKLOADS), [0, 1, 2], cache)
    assert all(len(p.accuracy) == 3 for p in points), "the placement study is incomplete"
    choice, _ = study.choose_default(points)
    assert choice == HYBRID_DEFAULT_RULE
