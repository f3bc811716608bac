"""Properties of the analytic PE-array timing, and agreement with a literal rebuild of
SCALE-Sim's per-fold demand matrices on small shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.hw.pe_array import (
    DATAFLOWS,
    GemmShape,
    conv_as_gemm,
    fold_plan,
    gemm_timing,
)

dims = st.integers(min_value=1, max_value=300)
array_dims = st.integers(min_value=1, max_value=64)
dataflows = st.sampled_from(DATAFLOWS)


def spatial(shape: GemmShape, dataflow: str) -> tuple[int, int, int]:
    """(Sr, Sc, T) as the SCALE-Sim paper defines them per dataflow."""
    return {
        "os": (shape.m, shape.n, shape.k),
        "ws": (shape.k, shape.n, shape.m),
        "is": (shape.k, shape.m, shape.n),
    }[dataflow]


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, array_dims, array_dims, dataflows)
def test_folds_tile_the_spatial_dimensions(m, k, n, rows, cols, dataflow):
    shape = GemmShape(m, k, n)
    sr, sc, _ = spatial(shape, dataflow)
    timing = gemm_timing(shape, rows, cols, dataflow)
    assert timing.folds == math.ceil(sr / rows) * math.ceil(sc / cols)


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, array_dims, array_dims, dataflows, st.sampled_from("mkn"))
def test_cycles_never_drop_when_a_dimension_grows(m, k, n, rows, cols, dataflow, which):
    shape = GemmShape(m, k, n)
    bigger = GemmShape(**{**shape.__dict__, which: getattr(shape, which) + 1})
    assert (
        gemm_timing(bigger, rows, cols, dataflow).cycles
        >= gemm_timing(shape, rows, cols, dataflow).cycles
    )


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, array_dims, array_dims, dataflows)
def test_utilizations_are_fractions_and_compute_is_below_mapping(m, k, n, rows, cols, dataflow):
    timing = gemm_timing(GemmShape(m, k, n), rows, cols, dataflow)
    assert 0 < timing.mapping_efficiency <= 1
    assert 0 < timing.compute_utilization < timing.mapping_efficiency + 1e-12


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, array_dims, array_dims, dataflows)
def test_busy_pe_cycles_account_for_every_mac(m, k, n, rows, cols, dataflow):
    shape = GemmShape(m, k, n)
    timing = gemm_timing(shape, rows, cols, dataflow)
    _, _, t = spatial(shape, dataflow)
    assert timing.macs == m * k * n
    busy = timing.mapping_efficiency * timing.folds * rows * cols * t
    assert busy == pytest.approx(timing.macs, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(dims, dims, dims, array_dims, array_dims, dataflows)
def test_every_operand_is_read_at_least_once_and_outputs_written(m, k, n, rows, cols, dataflow):
    timing = gemm_timing(GemmShape(m, k, n), rows, cols, dataflow)
    assert timing.ifmap_reads >= m * k
    assert timing.filter_reads >= k * n
    assert timing.ofmap_writes >= m * n


@settings(max_examples=100, deadline=None)
@given(dims, dims, dims, dataflows)
def test_a_one_pe_array_takes_at_least_one_cycle_per_mac(m, k, n, dataflow):
    timing = gemm_timing(GemmShape(m, k, n), 1, 1, dataflow)
    # SCALE-Sim reports the index of the last cycle, one less than the cycles spent
    assert timing.cycles + 1 >= m * k * n


# -- a literal rebuild of SCALE-Sim's demand matrices (small shapes only) -------------------


def skew(block: np.ndarray) -> np.ndarray:
    rows, cols = block.shape
    out = np.full((rows + cols - 1, cols), -1)
    for c in range(cols):
        out[c : c + rows, c] = block[:, c]
    return out


def reference_fold_heights(shape: GemmShape, rows: int, cols: int, dataflow: str) -> list[int]:
    """Height of each fold's ofmap demand matrix, built step by step like scalesim does."""
    sr, sc, t = spatial(shape, dataflow)
    heights = []
    for _ in range(math.ceil(sc / cols) * math.ceil(sr / rows)):
        if dataflow == "os":
            block = np.full((rows, cols), 7)  # used or padded, the size is what counts
            demand = np.concatenate([np.full((t - 1, cols), -1), np.flip(block, 0)])
        else:
            demand = np.concatenate([np.full((2 * rows - 1, cols), -1), np.full((t, cols), 7)])
        heights.append(skew(demand).shape[0])
    return heights


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(1, 9),
    st.integers(1, 9),
    dataflows,
)
def test_cycles_match_the_rebuilt_demand_matrices(m, k, n, rows, cols, dataflow):
    shape = GemmShape(m, k, n)
    heights = reference_fold_heights(shape, rows, cols, dataflow)
    assert gemm_timing(shape, rows, cols, dataflow).cycles == sum(heights) - 1
    assert fold_plan(shape, rows, cols, dataflow).cycles_per_fold == heights[0]


def test_measured_scalesim_figures_for_a_64_cube():
    # measured with scalesim 3.0.0 on a 32x32 array (see tests/hw/golden/README.md)
    shape = GemmShape(64, 64, 64)
    assert gemm_timing(shape, 32, 32, "os").cycles == 503
    assert gemm_timing(shape, 32, 32, "ws").cycles == 631
    assert gemm_timing(shape, 32, 32, "is").cycles == 631


def test_conv_mapping_rounds_the_output_up_like_scalesim():
    # 14 - 5 = 9 is not a multiple of 2: SCALE-Sim counts 6 output rows, not 5
    assert conv_as_gemm(14, 14, 5, 5, 6, 16, 2, 2) == GemmShape(m=36, k=150, n=16)
    assert conv_as_gemm(227, 227, 11, 11, 3, 96, 4, 4) == GemmShape(m=55 * 55, k=363, n=96)


@pytest.mark.parametrize("bad", [dict(rows=0), dict(cols=-1), dict(dataflow="rs"), dict(rows=2.0)])
def test_bad_arrays_are_rejected(bad):
    args = dict(rows=4, cols=4, dataflow="os") | bad
    with pytest.raises(ValueError):
        gemm_timing(GemmShape(4, 4, 4), **args)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError):
        GemmShape(0, 4, 4)
    with pytest.raises(ValueError):
        conv_as_gemm(3, 3, 5, 5, 1, 1, 1, 1)
