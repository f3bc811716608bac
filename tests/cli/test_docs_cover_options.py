"""Every command and every option of the CLI is documented on its page in docs/."""

from __future__ import annotations

import importlib

import click
import pytest
from conftest import ROOT

from accelsim.cli import COMMANDS

PAGES = {
    "train": "train.md",
    "simulate": "simulate.md",
    "compare": "simulate.md",
    "scalesim": "scalesim.md",
    "sweep": "sweeps.md",
    "results": "sweeps.md",
    "plot": "plots.md",
    "study": "study.md",
}


def _commands() -> list[tuple[str, click.Command]]:
    found = []
    for name, (module, attr, _) in COMMANDS.items():
        command = getattr(importlib.import_module(module), attr)
        found.append((name, command))
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", cmd) for sub, cmd in command.commands.items()]
    return found


def test_every_command_has_a_page():
    assert set(PAGES) == set(COMMANDS)
    for page in PAGES.values():
        assert (ROOT / "docs" / page).is_file(), page


@pytest.mark.parametrize("name,command", _commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_option_is_documented(name, command):
    text = (ROOT / "docs" / PAGES[name.split()[0]]).read_text(encoding="utf-8")
    assert f"accelsim {name}" in text, f"docs/{PAGES[name.split()[0]]} never shows {name!r}"
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        if "--help" in param.opts:
            continue
        # the long form, or the short form used as an option (" -o ") in an example
        forms = [opt if opt.startswith("--") else f" {opt} " for opt in param.opts]
        assert any(form in text for form in forms), f"{name}: {param.opts} not in docs"


def test_every_command_help_has_an_example():
    for name, command in _commands():
        if isinstance(command, click.Group):
            continue
        text = (command.help or "") + (command.epilog or "")
        assert "accelsim " in text, f"{name} --help shows no example"
