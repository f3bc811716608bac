"""Every ``accelsim`` command the docs and the README show, extracted from their code blocks.

A command is a line of a fenced code block that starts with ``accelsim`` or ``$ accelsim``;
backslash continuations are joined, a trailing pipe (``| head -4``) and ``#`` comments are
dropped. ``EXPECTED_FAILURES`` lists the commands the docs show failing on purpose (bad-input
examples whose files the page describes but does not ship).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
FENCE = re.compile(r"^```")
# Examples of bad input: the page shows the one-line error they print (exit 2). The files are
# arch_configs/dflnpu.yaml with the one change each example is about.


def _both(chip: dict) -> None:
    chip["dram"]["bandwidth_bytes_per_cycle"] = 8


def _bad(chip: dict) -> None:
    chip["units"][0]["rows"] = 0


def _nodfa(chip: dict) -> None:
    for unit in chip["units"]:
        unit["tasks"] = [t for t in unit["tasks"] if t != "dfa_ep"] or ["ep"]


EXPECTED_FAILURES = {
    "accelsim simulate both.yaml workloads/lenet_mnist.yaml": ("both.yaml", _both),
    "accelsim simulate bad.yaml workloads/lenet_mnist.yaml": ("bad.yaml", _bad),
    "accelsim simulate nodfa.yaml workloads/lenet_mnist.yaml -a dfa": ("nodfa.yaml", _nodfa),
}


@dataclass(frozen=True)
class DocCommand:
    page: str
    line: int
    text: str
    shown: tuple[str, ...] = ()  # the output lines the page shows under a ``$ `` command

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text)[1:]

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


PLACEHOLDERS = re.compile(r"\b(ARCH|WORKLOAD|FILE|SPEC|KEY|METRIC|PATH|LIST|X\.cfg)\b")


def _synopsis(text: str) -> bool:
    """A usage line (``[--option]``, ``ARCH WORKLOAD``), not a command to run."""
    return "[" in text or "(" in text or bool(PLACEHOLDERS.search(text))


def commands() -> list[DocCommand]:
    found: list[DocCommand] = []
    for page in PAGES:
        inside = False
        pending: list[str] = []
        start = 0
        last: DocCommand | None = None
        for number, raw in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if FENCE.match(raw.strip()):
                inside = not inside
                pending = []
                last = None
                continue
            if not inside:
                continue
            line = raw.strip()
            if pending:
                pending.append(line)
            elif line.startswith(("accelsim ", "$ accelsim ")):
                pending = [line.removeprefix("$ ")]
                start = number
                shown = line.startswith("$ ")
            else:
                if last is not None and line and not line.startswith("$"):
                    found[-1] = DocCommand(last.page, last.line, last.text, (*last.shown, line))
                    last = found[-1]
                continue
            if pending[-1].endswith("\\"):
                pending[-1] = pending[-1][:-1].strip()
                continue
            text = " ".join(pending)
            pending = []
            text = text.split(" | ")[0].split("  #")[0].split(" > ")[0].strip()
            last = None
            if not _synopsis(text):
                found.append(DocCommand(page.name, start, text))
                last = found[-1] if shown else None
    return found
