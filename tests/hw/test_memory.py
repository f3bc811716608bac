"""Memory traffic of a task: unique bytes times the passes its tiling makes; stalls."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from accelsim.hw.memory import GemmOperands, OperandBytes, gemm_traffic, stall_cycles
from accelsim.hw.pe_array import GemmShape
from accelsim.lowering.graph import GemmWork


def test_everything_fits_means_every_operand_moves_once():
    # 64x64x64 with 2-byte elements: 8 KB per operand, 24 KB (32 KB with 4-byte partial sums)
    # fit 64 KB, so the tiling moves each operand once; three repetitions with a shared filter
    # move the ifmap and ofmap three times and the filter once
    unique = OperandBytes(64 * 64 * 2, 64 * 64 * 2, 64 * 64 * 2)
    ops = GemmOperands(unique, 2, 2, 2, 4)
    moved, _ = gemm_traffic(GemmWork(GemmShape(64, 64, 64)), ops, 64 * 1024)
    assert moved == unique
    shared, _ = gemm_traffic(GemmWork(GemmShape(64, 64, 64), 3, True), ops, 64 * 1024)
    assert shared == OperandBytes(3 * 8192, 8192, 3 * 8192)


def test_a_conv_ifmap_moves_its_unique_bytes_once_per_pass():
    # GEMM view 100x9x8 (im2col of 100 unique ifmap bytes, 2-byte elements), weight-stationary
    # in 170 bytes: all of B (9x8x2 = 144 B) plus one row of A (18 B) and of C (16 B) is 178 B,
    # too much, so B is cut into 2 column tiles of 4 (72 B) with K whole and
    # Mt = floor((170 - 72) / (9*2 + 4*2)) = 3: A streams once per column tile (2 passes),
    # B once, C once (K is not split, so no partial sums leave)
    unique = OperandBytes(100.0, 144.0, 1600.0)
    moved, tiling = gemm_traffic(
        GemmWork(GemmShape(100, 9, 8)), GemmOperands(unique, 2, 2, 2, 4), 170, ("ws",)
    )
    assert (tiling.k_tile, tiling.n_tile) == (9, 4)
    assert moved == OperandBytes(2 * 100.0, 144.0, 1600.0)


def test_a_free_operand_moves_nothing():
    unique = OperandBytes(1000.0, 1000.0, 1000.0)
    moved, _ = gemm_traffic(GemmWork(GemmShape(50, 10, 50)), GemmOperands(unique, 2, 0, 2, 4), 64)
    assert moved.filter == 0.0 and moved.ifmap >= 1000.0


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_double_buffering_hides_transfer_up_to_compute(compute, transfer):
    assert stall_cycles(compute, transfer, True) == max(0, transfer - compute)
    assert stall_cycles(compute, transfer, False) == transfer


def test_the_level_above_may_choose_any_loop_order():
    # 256^3 in 16 KB: the best of the three orders moves fewer bytes than weight-stationary
    # alone; gemm_traffic passes the allowed orders to the search
    from accelsim.hw.tiling import best_tiling

    unique = OperandBytes(256 * 256 * 2, 256 * 256 * 2, 256 * 256 * 2)
    ops = GemmOperands(unique, 2, 2, 2, 4)
    work = GemmWork(GemmShape(256, 256, 256))
    free, _ = gemm_traffic(work, ops, 16384)
    ws, _ = gemm_traffic(work, ops, 16384, ("ws",))
    assert free.total < ws.total
    assert free.total == best_tiling(256, 256, 256, 2, 2, 2, 4, 16384).total
