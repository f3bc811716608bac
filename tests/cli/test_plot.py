"""``accelsim plot``: every figure command writes non-empty pictures plus CSV, axes with units."""

from __future__ import annotations

import csv
import re

import pytest
from conftest import ROOT, run_cli

ARCH = ROOT / "arch_configs" / "dflnpu.yaml"
WORKLOAD = ROOT / "workloads" / "lenet_mnist.yaml"
MAGIC = {".png": b"\x89PNG", ".pdf": b"%PDF", ".svg": b"<?xml"}
SPEC = f"""arch: {ARCH}
workload: {WORKLOAD}
algorithms: [bp, pdfa]
iterations: 2
grid:
  arch.clock_mhz: [100, 200]
  arch.units.lc_fp.rows: [8, 32]
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plot")
    (folder / "spec.yaml").write_text(SPEC)
    proc = run_cli(
        "sweep", folder / "spec.yaml", "--store", folder / "s.db", "--workers", "1", "--no-progress"
    )
    assert proc.returncode == 0, proc.stderr
    return folder / "s.db"


def plotted(tmp_path, *args: str, stem: str = "fig", suffixes=(".svg",)) -> dict[str, str]:
    """Run ``accelsim plot ARGS -o tmp/STEM...``; return the SVG text and the CSV rows."""
    proc = run_cli("plot", *args)
    assert proc.returncode == 0, proc.stderr
    for suffix in suffixes:
        data = (tmp_path / f"{stem}{suffix}").read_bytes()
        assert data.startswith(MAGIC[suffix]) and len(data) > 1000
    rows = list(csv.DictReader((tmp_path / f"{stem}.csv").open()))
    assert rows, "the CSV beside the figure is empty"
    svg = tmp_path / f"{stem}.svg"
    return {"svg": svg.read_text() if svg.exists() else "", "rows": rows}


def labels(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]+)</text>", svg)


def has_label(svg: str, pattern: str) -> bool:
    return any(re.fullmatch(pattern, text) for text in labels(svg))


def test_compare_writes_speedup_and_energy_vs_bp(tmp_path):
    out = plotted(
        tmp_path,
        "compare",
        ARCH,
        WORKLOAD,
        "--algorithms",
        "bp,dfa,pdfa",
        "--iterations",
        "2",
        "-o",
        tmp_path / "fig.svg",
    )
    assert has_label(out["svg"], r"Speedup vs BP \(×\)")
    assert has_label(out["svg"], r"Energy vs BP \(×\)")
    speedups = {r["algorithm"]: float(r["speedup_vs_bp"]) for r in out["rows"]}
    assert speedups["bp"] == 1.0 and set(speedups) == {"bp", "dfa", "pdfa"}


def test_breakdown_writes_every_format_asked(tmp_path):
    out = plotted(
        tmp_path,
        "breakdown",
        ARCH,
        WORKLOAD,
        "-o",
        tmp_path / "fig",
        "--format",
        "png",
        "--format",
        "pdf",
        "--format",
        "svg",
        suffixes=(".png", ".pdf", ".svg"),
    )
    assert has_label(out["svg"], r"Energy \((pJ|nJ|µJ|mJ|J)\)")
    for algorithm in ("bp", "dfa", "pdfa"):
        shares = [float(r["share"]) for r in out["rows"] if r["algorithm"] == algorithm]
        assert sum(shares) == pytest.approx(1.0)


def test_timeline_draws_every_unit_against_time(tmp_path):
    out = plotted(
        tmp_path, "timeline", ARCH, WORKLOAD, "--algorithm", "pdfa", "-o", tmp_path / "fig.svg"
    )
    assert has_label(out["svg"], r"Time \((ns|µs|ms|s)\)")
    units = {r["unit"] for r in out["rows"]}
    assert units <= {"lc_fp", "lc_bw", "depc", "vector"} and {"lc_fp", "depc"} <= units
    assert {r["iteration"] for r in out["rows"]} == {"0", "1"}
    assert all(float(r["end_s"]) > float(r["start_s"]) for r in out["rows"])


def test_sweep_lines_label_both_axes_with_units(store, tmp_path):
    out = plotted(
        tmp_path,
        "sweep",
        store,
        "--x",
        "arch.clock_mhz",
        "--y",
        "latency_s",
        "--hue",
        "algorithm",
        "--where",
        "arch.units.lc_fp.rows=32",
        "-o",
        tmp_path / "fig.svg",
    )
    assert has_label(out["svg"], r"Clock \(MHz\)")
    assert has_label(out["svg"], r"Latency \((ns|µs|ms|s)\)")
    assert len(out["rows"]) == 4 and {r["arch.units.lc_fp.rows"] for r in out["rows"]} == {"32"}


def test_sweep_heatmap_has_a_colour_scale_with_units(store, tmp_path):
    out = plotted(
        tmp_path,
        "sweep",
        store,
        "--heatmap",
        "--x",
        "arch.clock_mhz",
        "--y",
        "arch.units.lc_fp.rows",
        "--z",
        "energy_pj",
        "--hue",
        "algorithm",
        "-o",
        tmp_path / "fig.svg",
    )
    assert has_label(out["svg"], r"lc_fp PE rows \(PEs\)")
    assert has_label(out["svg"], r"Energy \((pJ|nJ|µJ|mJ|J)\)")
    assert len(out["rows"]) == 8


def test_pareto_marks_a_non_empty_front(store, tmp_path):
    out = plotted(tmp_path, "pareto", store, "-o", tmp_path / "fig.pdf", suffixes=(".pdf",))
    flags = [r["on_front"] for r in out["rows"]]
    assert len(flags) == 8 and "True" in flags


def test_pareto_figure_object_carries_axis_units(store):
    from accelsim.plot.pareto import pareto_figure
    from accelsim.study.results import flatten, result_rows
    from accelsim.study.store import Store

    with Store(store, create=False) as opened:
        rows = [flatten(r) for r in result_rows(opened.rows())]
    keys = ["arch.clock_mhz", "arch.units.lc_fp.rows", "algorithm"]
    figure, table = pareto_figure(rows, keys, x="cycles", y="dram_bytes")
    (axes,) = figure.axes
    assert re.fullmatch(r"Cycles \((10. )?cycles\)", axes.get_xlabel())
    assert re.fullmatch(r"DRAM traffic \((B|KiB|MiB|GiB)\)", axes.get_ylabel())
    assert len(table.rows) == 8


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["sweep", "{store}", "--x", "arch.nope", "--y", "latency_s", "-o", "{out}"],
            ["--x", "arch.clock_mhz"],
        ),
        (
            ["sweep", "{store}", "--x", "arch.clock_mhz", "--y", "nope_s", "-o", "{out}"],
            ["--y", "latency_s"],
        ),
        (
            [
                "sweep",
                "{store}",
                "--heatmap",
                "--x",
                "arch.clock_mhz",
                "--y",
                "algorithm",
                "--z",
                "energy_pj",
                "-o",
                "{out}",
            ],
            ["arch.units.lc_fp.rows", "--where"],
        ),
        (["pareto", "{text}", "-o", "{out}"], ["accelsim sweep store"]),
        (["timeline", "--trace", "{text}", "-o", "{out}"], ["trace"]),
    ],
)
def test_bad_plot_input_is_one_line_exit_2(store, tmp_path, args, words):
    text = tmp_path / "notes.txt"
    text.write_text("plain text\n")
    args = [a.format(store=store, out=tmp_path / "x.png", text=text) for a in args]
    proc = run_cli("plot", *args)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    for word in words:
        assert word in proc.stderr
    assert not (tmp_path / "x.png").exists()


def test_every_plot_command_has_help_with_an_example():
    for command in ("compare", "breakdown", "timeline", "sweep", "pareto"):
        proc = run_cli("plot", command, "--help")
        assert proc.returncode == 0 and "accelsim plot " + command in proc.stdout


def test_timeline_names_its_own_option_on_a_bad_algorithm(tmp_path):
    from conftest import run_cli

    proc = run_cli(
        "plot",
        "timeline",
        "arch_configs/dflnpu.yaml",
        "workloads/lenet_mnist.yaml",
        "--algorithm",
        "zzz",
        "-o",
        str(tmp_path / "t.png"),
    )
    assert proc.returncode == 2
    assert "--algorithm:" in proc.stderr and "--algorithms" not in proc.stderr
