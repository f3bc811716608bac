"""Paper figures inspected as matplotlib objects (no pixel baselines): labels, ticks, offsets,
legend placement, value labels inside the frame, one colour per algorithm (issue 14, item 4)."""

from __future__ import annotations

import itertools

import pytest
from matplotlib.colors import to_hex

from accelsim.plot.bars import value_labels
from accelsim.plot.breakdown import breakdown_figure
from accelsim.plot.compare import compare_figure
from accelsim.plot.pareto import pareto_figure
from accelsim.plot.study import study_figure
from accelsim.plot.sweep import sweep_heatmap_figure, sweep_line_figure
from accelsim.plot.timeline import timeline_figure
from accelsim.plot.units import quantity

ALGOS = ("bp", "dfa", "pdfa")


def sweep_rows(count_scale: float = 1e6) -> tuple[list[dict], list[str]]:
    """A synthetic store: two swept values and one without a known unit, big raw metrics."""
    rows = []
    for algorithm, clock, tiles in itertools.product(ALGOS, (100, 200, 400), (2, 4)):
        factor = 1 + ALGOS.index(algorithm) * 0.1
        rows.append(
            {
                "algorithm": algorithm,
                "arch.clock_mhz": clock,
                "arch.tiles_per_bank": tiles,
                "cycles": 3.2e6 * factor / tiles,
                "cycles_per_iteration": 1.1e6 * factor / tiles + clock,
                "energy_pj_per_iteration": 2.5e8 * factor + 1e5 * tiles,
                "speedup_vs_bp": 1 / factor,
                "widget_count": count_scale * (3.1 + 0.1 * tiles + clock / 1000),
                "latency_s": 3.2e6 * factor / tiles / (clock * 1e6),
            }
        )
    return rows, ["algorithm", "arch.clock_mhz", "arch.tiles_per_bank"]


def compare_doc(speedups: dict[str, float]) -> dict:
    return {
        "results": {a: {"cycles": 1e6, "latency_s": 1e-3, "energy_pj": 1e8} for a in speedups},
        "speedup_vs_bp": speedups,
        "energy_ratio_vs_bp": {a: 1 / s for a, s in speedups.items()},
    }


def study_doc() -> dict:
    algorithms = {}
    for index, name in enumerate(ALGOS):
        history = [
            {
                "epoch": epoch,
                "iterations": 100 * epoch,
                "time_s": 0.01 * epoch * (1 + index),
                "energy_pj": 1e9 * epoch * (1 + index),
                # pdfa learns slowly: its points run along the lower right corner
                "test_accuracy": 0.5 + (0.02 if name == "pdfa" else 0.09) * epoch,
            }
            for epoch in range(1, 7)
        ]
        algorithms[name] = {"history": history, "epochs_to_target": 5 if name != "pdfa" else None}
    return {"algorithms": algorithms, "target_accuracy": 0.9}


def drawn(figure):
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def offset_texts(figure) -> list[str]:
    drawn(figure)
    return [
        axis.get_offset_text().get_text()
        for axes in figure.axes
        for axis in (axes.xaxis, axes.yaxis)
        if axis.get_offset_text().get_text()
    ]


def labelled_ticks(axes, axis) -> list[str]:
    """Tick labels with text whose tick lies inside the axis' view interval."""
    drawn(axes.get_figure())
    low, high = sorted(axis.get_view_interval())
    return [
        t.get_text()
        for tick, t in zip(axis.get_major_ticks(), axis.get_majorticklabels(), strict=False)
        if t.get_text() and low <= tick.get_loc() <= high
    ]


# -- 1. sweep labels: words without "(value)", no offset text --
def test_sweep_axes_name_an_unknown_unit_by_its_words_and_show_no_offset():
    rows, keys = sweep_rows()
    figure, _ = sweep_line_figure(
        rows,
        keys,
        "arch.tiles_per_bank",
        "widget_count",
        hue="algorithm",
        where={"arch.clock_mhz": "200"},
    )
    (axes,) = figure.axes
    assert axes.get_xlabel() == "Tiles per bank"
    assert "(value)" not in axes.get_ylabel() and axes.get_ylabel().startswith("Widget count")
    assert "×10⁶" in axes.get_ylabel()  # scaled, and the label says by how much
    assert offset_texts(figure) == []
    assert all(len(t) <= 6 for t in labelled_ticks(axes, axes.yaxis))


def test_sweep_axes_never_show_an_offset_even_for_close_large_values():
    rows, keys = sweep_rows()
    for r in rows:
        r["widget_count"] = 1_000_000 + r["arch.clock_mhz"]  # matplotlib would offset 1e6
    figure, _ = sweep_line_figure(
        rows,
        keys,
        "arch.clock_mhz",
        "widget_count",
        hue="algorithm",
        where={"arch.tiles_per_bank": "2"},
    )
    assert offset_texts(figure) == []


def test_quantity_never_says_value():
    assert quantity("arch.units.x.tiles_per_bank", [4]).label == "x tiles per bank"
    assert quantity("widget_count", [2.5e6]).label == "Widget count (×10⁶)"
    assert quantity("widget_count", [2.5e6]).scale == 1e6


# -- 2. --logy: at least two labelled ticks --
@pytest.mark.parametrize("spread", [1.2, 3.0, 40.0, 1e4])
def test_log_y_has_at_least_two_labelled_ticks(spread):
    rows, keys = sweep_rows()
    for r in rows:
        r["latency_s"] = 3.1e-3 * (1 + (spread - 1) * (r["arch.clock_mhz"] - 100) / 300)
    figure, _ = sweep_line_figure(
        rows,
        keys,
        "arch.clock_mhz",
        "latency_s",
        hue="algorithm",
        where={"arch.tiles_per_bank": "2"},
        logy=True,
    )
    (axes,) = figure.axes
    assert axes.get_yscale() == "log"
    assert len(set(labelled_ticks(axes, axes.yaxis))) >= 2


def test_pareto_log_axes_have_at_least_two_labelled_ticks():
    rows, keys = sweep_rows()
    figure, _ = pareto_figure(rows, keys, logx=True, logy=True)
    (axes,) = figure.axes
    assert len(set(labelled_ticks(axes, axes.xaxis))) >= 2
    assert len(set(labelled_ticks(axes, axes.yaxis))) >= 2


# -- 3. heatmap colour scale --
def test_heatmap_colorbar_is_labelled_with_the_scaled_unit_and_has_no_offset():
    rows, keys = sweep_rows()
    figure, _ = sweep_heatmap_figure(
        rows,
        keys,
        "arch.clock_mhz",
        "arch.tiles_per_bank",
        "energy_pj_per_iteration",
        hue="algorithm",
    )
    colorbar_axes = figure.axes[-1]
    label = colorbar_axes.get_ylabel()
    assert label == "Energy per iteration (µJ)"
    assert offset_texts(figure) == []
    ticks = labelled_ticks(colorbar_axes, colorbar_axes.yaxis)
    assert len(ticks) >= 2 and all(float(t.replace("−", "-")) < 1000 for t in ticks)
    panel = figure.axes[0]
    assert panel.get_xlabel() == "Clock (MHz)" and panel.get_ylabel() == "Tiles per bank"


# -- 4. compare x label --
def test_compare_x_label_says_workload_only_with_several_workloads():
    speedups = {"bp": 1.0, "dfa": 1.7, "pdfa": 2.9}
    several, _ = compare_figure({"lenet": compare_doc(speedups), "mlp": compare_doc(speedups)})
    assert [a.get_xlabel() for a in several.axes] == ["Workload", "Workload"]
    assert [t.get_text() for t in several.axes[0].get_xticklabels()] == ["lenet", "mlp"]
    one, _ = compare_figure({"lenet": compare_doc(speedups)})
    for axes in one.axes:
        assert axes.get_xlabel() == "Algorithm (lenet)"
        assert [t.get_text() for t in axes.get_xticklabels()] == list(ALGOS)


# -- 5. study legend does not cover data --
def test_study_legend_covers_no_data_point():
    figure, _ = study_figure(study_doc())
    renderer = drawn(figure)
    legends = [*figure.legends, *(a.get_legend() for a in figure.axes if a.get_legend())]
    assert legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        assert figure.bbox.contains(box.x0, box.y0) and figure.bbox.contains(box.x1, box.y1)
        for axes in figure.axes:
            for line in axes.get_lines():
                if line.get_transform() != axes.transData:
                    continue  # the target line (axhline), not a data point
                for x, y in line.get_xydata():
                    px, py = axes.transData.transform((x, y))
                    assert not box.contains(px, py), (legend, x, y)


# -- 6. value labels stay inside the axes --
@pytest.mark.parametrize(
    "speedups",
    [
        {"bp": 1.0, "dfa": 1.7, "pdfa": 29.0},
        {"bp": 1.0, "dfa": 0.9},
        {"bp": 1.0, "fa": 1.1, "dfa": 1.2, "pdfa": 1.3, "sparse-dfa": 8.0},
    ],
)
def test_value_labels_lie_inside_the_axes_and_the_figure(speedups):
    figure, _ = compare_figure({"lenet": compare_doc(speedups), "mlp": compare_doc(speedups)})
    renderer = drawn(figure)
    for axes in figure.axes:
        frame = axes.get_window_extent(renderer)
        labels = value_labels(axes)
        assert labels
        for text in labels:
            box = text.get_window_extent(renderer)
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()
            assert figure.bbox.contains(box.x0, box.y0) and figure.bbox.contains(box.x1, box.y1)


# -- 7. one colour per algorithm, across figure kinds --
def _bar_colours(figure) -> dict[str, str]:
    axes = figure.axes[0]
    return {c.get_label(): to_hex(c.patches[0].get_facecolor()) for c in axes.containers}


def _line_colours(axes) -> dict[str, str]:
    return {
        line.get_label().split(" (")[0]: to_hex(line.get_color())
        for line in axes.get_lines()
        if not line.get_label().startswith("_")
    }


def test_each_algorithm_has_one_colour_in_every_figure_kind():
    rows, keys = sweep_rows()
    compare, _ = compare_figure({"lenet": compare_doc({"bp": 1.0, "dfa": 1.5, "pdfa": 2.0})})
    bars = _bar_colours(compare)
    pareto, _ = pareto_figure(rows, keys)
    sweep, _ = sweep_line_figure(
        rows, keys, "arch.clock_mhz", "cycles", hue="algorithm", where={"arch.tiles_per_bank": "2"}
    )
    study, _ = study_figure(study_doc())
    for figure_colours in (
        _line_colours(pareto.axes[0]),
        _line_colours(sweep.axes[0]),
        _line_colours(study.axes[0]),
    ):
        for algorithm in ALGOS:
            assert figure_colours[algorithm] == bars[algorithm], algorithm
    assert len(set(bars.values())) == len(ALGOS)


def test_split_sweep_lines_keep_their_algorithm_colour():
    rows, keys = sweep_rows()
    compare, _ = compare_figure({"lenet": compare_doc({"bp": 1.0, "dfa": 1.5, "pdfa": 2.0})})
    bars = _bar_colours(compare)
    sweep, _ = sweep_line_figure(rows, keys, "arch.clock_mhz", "cycles", hue="algorithm")
    lines = [line for line in sweep.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert len(lines) == 6  # split by tiles_per_bank
    for line in lines:
        algorithm = line.get_label().split(",")[0]
        assert to_hex(line.get_color()) == bars[algorithm]
    styles = {(line.get_label().split(",")[0], str(line.get_linestyle())) for line in lines}
    assert len(styles) == 6  # the split lines of one algorithm differ in line style


# -- 8. per-iteration quantities --
def test_pareto_defaults_are_labelled_per_iteration():
    rows, keys = sweep_rows()
    figure, table = pareto_figure(rows, keys)
    (axes,) = figure.axes
    assert axes.get_xlabel() == "Cycles per iteration (10³ cycles)"
    assert axes.get_ylabel() == "Energy per iteration (µJ)"
    assert "cycles_per_iteration" in table.columns
    assert "energy_pj_per_iteration" in table.columns
    assert offset_texts(figure) == []


def test_sweep_labels_speedup_and_per_iteration_metrics():
    rows, keys = sweep_rows()
    for metric, label in (
        ("speedup_vs_bp", "Speedup vs BP (×)"),
        ("cycles_per_iteration", "Cycles per iteration (10³ cycles)"),
    ):
        figure, _ = sweep_line_figure(
            rows,
            keys,
            "arch.clock_mhz",
            metric,
            hue="algorithm",
            where={"arch.tiles_per_bank": "2"},
        )
        assert figure.axes[0].get_ylabel() == label


def test_breakdown_and_timeline_show_no_offset():
    results = {
        a: {"energy_breakdown_pj": {"mac": 1e9 + i, "sram": 1e9 + 2 * i}}
        for i, a in enumerate(ALGOS)
    }
    figure, _ = breakdown_figure(results)
    assert offset_texts(figure) == []
    trace = {
        "traceEvents": [
            {"ph": "M", "name": "thread_name", "tid": 1, "args": {"name": "lc_fp"}},
            {"ph": "X", "tid": 1, "name": "fp0", "cat": "fp", "ts": 1e6, "dur": 50.0},
            {"ph": "X", "tid": 1, "name": "ep0", "cat": "ep", "ts": 1e6 + 60, "dur": 40.0},
        ]
    }
    figure, _ = timeline_figure(trace)
    assert offset_texts(figure) == []
