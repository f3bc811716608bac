"""Shared test fixtures: repository paths and a CLI runner that goes through ``main``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run ``accelsim ARGS`` in a subprocess, exactly as a user would (exit codes, stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "accelsim", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_cli_json(*args: str, cwd: Path | None = None) -> dict:
    proc = run_cli(*args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
