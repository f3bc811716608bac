"""The global-buffer allocator alone: lifetimes, ranking, fractional interval packing."""

from __future__ import annotations

import pytest

from accelsim.hw.allocation import (
    TensorLife,
    allocate,
    compulsory_bytes,
    residency_by_class,
    tensor_lives,
)
from accelsim.lowering.graph import Operand, Task, TaskGraph

KB = 1024.0


def life(name, cls, kb, first, last, touches, written=True):
    return TensorLife(name, cls, kb * KB, first, last, touches, written)


def test_tensors_that_fit_are_resident_and_the_rest_spill_in_part():
    # 100 KB of GB over 10 tasks. Ranking by touches: a (4 touches, tasks 0-3, 60 KB) first:
    # resident; b (3 touches, tasks 2-5, 60 KB) sees 100 - 60 = 40 KB free during tasks 2-3:
    # 40/60 = 2/3 resident; c (2 touches, tasks 6-9, 80 KB) lives after both: resident.
    lives = [
        life("a", "activation", 60, 0, 3, 4),
        life("b", "activation", 60, 2, 5, 3),
        life("c", "error", 80, 6, 9, 2),
    ]
    alloc = allocate(lives, 100 * KB, 0.0, 10)
    assert alloc.fraction("a") == 1.0
    assert alloc.fraction("b") == pytest.approx(2 / 3)
    assert alloc.fraction("c") == 1.0
    assert alloc.placements["b"].status == "partly"
    assert "40.0 KB of 100.0 KB free" in alloc.placements["b"].reason


def test_persistent_tensors_hold_their_space_for_the_whole_iteration():
    # the weight (3 touches) is ranked first and holds 70 KB at every task, so the activation
    # (2 touches, tasks 8-9 only) finds 30 KB: 30/50 resident
    lives = [life("w", "weight", 70, 0, 2, 3), life("x", "activation", 50, 8, 9, 2)]
    alloc = allocate(lives, 100 * KB, 0.0, 10)
    assert alloc.fraction("w") == 1.0
    assert alloc.fraction("x") == pytest.approx(30 / 50)


def test_fused_tensors_take_no_space():
    lives = [life("g", "gradient", 90, 3, 4, 2), life("x", "activation", 90, 3, 4, 1)]
    alloc = allocate(lives, 100 * KB, 0.0, 10, fused=frozenset({"g"}))
    assert alloc.fused("g") and alloc.fraction("g") == 1.0
    assert alloc.fraction("x") == 1.0  # the gradient took none of the 100 KB


def test_compulsory_counts_the_input_once_and_spilled_persistent_state_read_and_written():
    lives = [
        life("input", "input", 10, 0, 1, 2, written=False),
        life("w", "weight", 100, 0, 5, 3),  # read by FP, read and written by WU
        life("B", "feedback", 20, 0, 5, 1, written=False),
        life("x", "activation", 30, 0, 2, 2),
    ]
    alloc = allocate(lives, 0.0, 0.0, 6)  # nothing on chip
    # input 10 KB + weight 2 x 100 KB + feedback read once 20 KB; transients are not compulsory
    assert compulsory_bytes(lives, alloc) == (10 + 2 * 100 + 20) * KB
    roomy = allocate(lives, 1e9, 0.0, 6)  # everything resident: weights stay on chip
    assert compulsory_bytes(lives, roomy) == 10 * KB


def test_lifetimes_follow_the_tasks_that_touch_each_tensor():
    def task(i, kind, ops):
        return Task(i, f"t{i}", kind, "fc", (), 0, tuple(ops), ())

    tasks = (
        task(
            0, "fp", [Operand("read", "input", 8, "input"), Operand("write", "activation", 4, "x")]
        ),
        task(1, "loss", [Operand("read", "activation", 4, "x"), Operand("write", "error", 4, "e")]),
        task(2, "wg", [Operand("read", "error", 4, "e"), Operand("read", "input", 8, "input")]),
    )
    graph = TaskGraph("w", "bp", "bp", 1, tasks, ("fc",), 0, 0, 0, 0, 0, ())
    lives = {t.name: t for t in tensor_lives(graph, lambda op: op.elements * 2.0)}
    assert (lives["input"].first, lives["input"].last, lives["input"].touches) == (0, 2, 2)
    assert (lives["x"].first, lives["x"].last, lives["x"].bytes) == (0, 1, 8.0)
    assert lives["e"].written and not lives["input"].written


def test_residency_by_class_summarises_each_class():
    lives = [life("w1", "weight", 10, 0, 1, 3), life("w2", "weight", 10, 0, 1, 3)]
    alloc = allocate(lives, 15 * KB, 0.0, 2)
    row = residency_by_class(alloc)["weight"]
    assert row["status"] == "partly"
    assert row["resident_bytes"] == 15 * KB
    assert row["tensors"] == {"resident": 1, "partly": 1}
