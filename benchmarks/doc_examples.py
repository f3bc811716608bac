"""Regenerate the command examples in the docs that show simulated or trained figures.

    python benchmarks/doc_examples.py            # print every example
    python benchmarks/doc_examples.py --write    # also rewrite the marked sections

Each example is a marked section ``<!-- section: NAME (benchmarks/doc_examples.py) -->`` holding
one code block: the command as a user types it and what it printed, run here from the repository
root. Figures in the docs therefore come from this script, never from typing. Training examples
take about a minute in all (the kernels compile once).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import write_section

ROOT = Path(__file__).resolve().parent.parent

# (doc, section, the command shown, the output lines to keep: None = all)
EXAMPLES = (
    (
        "tutorial.md",
        "example-compare",
        "accelsim compare arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml",
        None,
    ),
    (
        "tutorial.md",
        "example-sweep",
        "accelsim sweep examples/sweeps/dflnpu_lenet.yaml --store {tmp}/sweep.db",
        None,
    ),
    ("tutorial.md", "example-results", "accelsim results {tmp}/sweep.db", 4),
    (
        "tutorial.md",
        "example-study",
        "accelsim study examples/study/dflnpu_zero_skip.yaml examples/study/mlp_digits.yaml "
        "--epochs 6 -o {tmp}/study.png",
        None,
    ),
    (
        "study.md",
        "example-study-digits",
        "accelsim study examples/study/dflnpu_zero_skip.yaml examples/study/mlp_digits.yaml "
        "--epochs 6",
        None,
    ),
    (
        "study.md",
        "example-study-cnn",
        "accelsim study examples/study/dflnpu_zero_skip.yaml workloads/cnn_mnist1d.yaml "
        "--epochs 10",
        None,
    ),
)


def run_example(command: str, keep: int | None, tmp: Path) -> str:
    argv = shlex.split(command.format(tmp=tmp))
    done = subprocess.run(
        [sys.executable, "-m", "accelsim", *argv[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.rstrip("\n").splitlines()
    if keep is not None:
        lines = lines[:keep]
    shown = command.format(tmp="out")
    suffix = f" | head -{keep}" if keep is not None else ""
    body = "\n".join(line.replace(str(tmp), "out") for line in lines)
    return f"```\n$ {shown}{suffix}\n{body}\n```"


def workloads_table() -> str:
    """Every shipped workload: file, name, dataset and batch, parameter layers, what it is."""
    import yaml

    from accelsim.config.workload import load_workload

    lines = [
        "| file | name | dataset, batch | parameter layers | what it is |",
        "|---|---|---|---|---|",
    ]
    for path in sorted((ROOT / "workloads").glob("*.yaml")):
        wl = load_workload(path)
        raw = yaml.safe_load(path.read_text())
        header = []
        for line in path.read_text().splitlines():
            if not line.startswith("#"):
                break
            header.append(line.lstrip("# ").strip())
        about = " ".join(header).split(". ")[0].rstrip(".")
        dataset = raw.get("dataset", {}).get("name", "shapes only")
        layers = ", ".join(layer.name for layer in wl.param_layers)
        lines.append(
            f"| `workloads/{path.name}` | {wl.name} | {dataset}, {wl.dataset.batch_size} "
            f"| {layers} | {about} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the marked doc sections")
    args = parser.parse_args()
    table = workloads_table()
    print(f"workloads.md / shipped-workloads:\n{table}\n")
    if args.write:
        write_section(ROOT / "docs" / "workloads.md", "shipped-workloads", table)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for doc, section, command, keep in EXAMPLES:
            text = run_example(command, keep, tmp)
            print(f"{doc} / {section}:\n{text}\n")
            if args.write:
                write_section(ROOT / "docs" / doc, section, text)


if __name__ == "__main__":
    main()
