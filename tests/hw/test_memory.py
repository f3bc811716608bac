"""Memory model: tile counts cover the GEMM, traffic never beats the compulsory bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.hw.memory import (
    gemm_traffic,
    plan_residency,
    stall_cycles,
    tile_gemm,
)
from accelsim.hw.pe_array import GemmShape

dims = st.integers(min_value=1, max_value=5000)
caps = st.floats(min_value=2.0, max_value=4e6)
elem = st.sampled_from([1.0, 2.0, 4.0])


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, elem, caps, caps, caps)
def test_tiles_cover_the_gemm_and_fit_the_buffer(m, k, n, b, ci, cw, co):
    t = tile_gemm(GemmShape(m, k, n), m * k * b, b, 4.0, ci, cw, co)
    assert t.k_tile * t.k_tiles >= k and t.n_tile * t.n_tiles >= n
    assert (t.k_tiles - 1) * t.k_tile < k and (t.n_tiles - 1) * t.n_tile < n
    if cw >= b:  # at least one element fits: the tile fits
        assert t.k_tile * t.n_tile * b <= cw


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, elem, caps, caps, caps)
def test_traffic_is_at_least_compulsory(m, k, n, b, ci, cw, co):
    shape = GemmShape(m, k, n)
    ifmap, filt, ofmap = m * k * b, k * n * b, m * n * b
    t = tile_gemm(shape, ifmap, b, 4.0, ci, cw, co)
    tr = gemm_traffic(t, ifmap, filt, ofmap, m * n * 4.0)
    assert tr.ifmap >= ifmap and tr.filter == filt and tr.ofmap >= ofmap


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, elem, caps, st.floats(min_value=1.0, max_value=64.0))
def test_bigger_buffers_never_add_traffic(m, k, n, b, cap, factor):
    shape = GemmShape(m, k, n)
    ifmap, filt, ofmap = m * k * b, k * n * b, m * n * b

    def total(c):
        t = tile_gemm(shape, ifmap, b, 4.0, c, c, c)
        return gemm_traffic(t, ifmap, filt, ofmap, m * n * 4.0).total

    assert total(cap * factor) <= total(cap)


def test_everything_fits_means_one_pass():
    t = tile_gemm(GemmShape(64, 64, 64), 64 * 64 * 2, 2, 4, 1e6, 1e6, 1e6)
    assert (t.k_tiles, t.n_tiles, t.ifmap_passes, t.psum_round_trips) == (1, 1, 1, 0)


def test_ifmap_restreams_once_per_weight_column_tile():
    # 256x256 weights of 2 B in an 8 KB buffer: 4096 weights per tile, full K=256 -> 16 columns.
    t = tile_gemm(GemmShape(1000, 256, 256), 1000 * 256 * 2, 2, 4, 1024, 8192, 1e9)
    assert (t.k_tile, t.n_tile, t.n_tiles) == (256, 16, 16)
    assert t.ifmap_passes == 16


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_double_buffering_hides_transfer_up_to_compute(compute, transfer):
    assert stall_cycles(compute, transfer, True) == max(0, transfer - compute)
    assert stall_cycles(compute, transfer, False) == transfer


def test_residency_spills_in_priority_order():
    kb = 1024
    r = plan_residency(
        100, error_bytes=10 * kb, activation_bytes=200 * kb, weight_bytes=50 * kb, feedback_bytes=0
    )
    assert "activation" in r.dram_tensors and "weight" not in r.dram_tensors
    assert "input" in r.dram_tensors and "error" not in r.dram_tensors
