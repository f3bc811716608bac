"""Every ``accelsim`` command the README and docs/ show runs as written (docs cannot drift).

The commands run in the order the pages show them (a page's ``results`` reads the store its
``sweep`` wrote), from a scratch folder that links the repository's ``arch_configs/``,
``workloads/``, ``examples/`` and ``docs/``, so their ``out/`` files land there. A bad-input
example must fail the way the page says: exit code 2 and one line on stderr.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from doc_commands import EXPECTED_FAILURES, ROOT, commands

COMMANDS = commands()
# needs a running Dask scheduler (docs/sweeps.md shows how to start one); its option is
# covered by tests/cli/test_sweep_dask.py
NEEDS_SERVICE = ("--scheduler tcp://",)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    for name in ("arch_configs", "workloads", "examples", "docs"):
        (folder / name).symlink_to(ROOT / name)
    (folder / "out").mkdir()
    return folder


def test_the_docs_show_commands():
    pages = {c.page for c in COMMANDS}
    assert len(COMMANDS) > 40 and {"README.md", "simulate.md", "tutorial.md"} <= pages


@pytest.mark.parametrize("command", COMMANDS, ids=[c.id for c in COMMANDS])
def test_doc_command_runs(command, workspace):
    if any(marker in command.text for marker in NEEDS_SERVICE):
        pytest.skip("needs a running Dask scheduler")
    if command.text in EXPECTED_FAILURES:
        name, change = EXPECTED_FAILURES[command.text]
        chip = yaml.safe_load((ROOT / "arch_configs" / "dflnpu.yaml").read_text())
        change(chip)
        (workspace / name).write_text(yaml.safe_dump(chip))
    done = subprocess.run(
        [sys.executable, "-m", "accelsim", *command.argv],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if command.text in EXPECTED_FAILURES:
        assert done.returncode == 2, done.stdout
        # the page shows the exact line the example prints
        assert done.stderr.strip().splitlines() == list(command.shown), done.stderr
    else:
        assert done.returncode == 0, f"{command.id}: {command.text}\n{done.stderr[-2000:]}"
