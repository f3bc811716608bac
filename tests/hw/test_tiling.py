"""Tiling search (accelsim.hw.tiling, docs/tiling.md): hand cases, a literal loop-nest
simulation of the traffic equations, exhaustive search on tiny shapes, and properties."""

from __future__ import annotations

import itertools
import math
import random
import time
from collections import defaultdict

import numpy as np
import pytest

from accelsim.hw.tiling import (
    ORDERS,
    Tiling,
    best_tiling,
    compulsory_bytes,
    footprint_bytes,
    io_lower_bound_bytes,
    tiling_traffic,
)

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - the test extra installs hypothesis
    st = None

# --------------------------------------------------------------------------------------------
# A literal walk over the loop nests, independent of the closed-form equations.

NESTS = {"os": "mnk", "ws": "knm", "is": "kmn"}  # outermost loop first


def simulate(loops, dims, tiles, a, b, c, p):
    """Bytes of A, B, C moved when the tile loops run in ``loops`` order (e.g. "mnk").

    The buffer keeps the current tile of each operand only: a tile is fetched when its index
    differs from the previous iteration's. A C tile left before all its K tiles are summed is
    written out as partial sums (p bytes each) and read back on its next visit; the last visit
    writes the final result (c bytes each). c = 0 means C lives elsewhere (p ignored).
    """
    if c == 0:
        p = 0
    size = dict(zip("mkn", dims, strict=True))
    tile = dict(zip("mkn", tiles, strict=True))
    count = {d: math.ceil(size[d] / tile[d]) for d in "mkn"}

    def ext(d, i):  # extent of tile i along d (the last one may be partial)
        return min(tile[d], size[d] - i * tile[d])

    moved = {"A": 0.0, "B": 0.0, "C": 0.0}
    current = {"A": None, "B": None, "C": None}
    summed = defaultdict(int)  # K tiles accumulated into each C tile so far

    def leave_c(ct):
        width = c if summed[ct] == count["k"] else p
        moved["C"] += ext("m", ct[0]) * ext("n", ct[1]) * width

    for idx in itertools.product(*(range(count[d]) for d in loops)):
        i = dict(zip(loops, idx, strict=True))
        at, bt, ct = (i["m"], i["k"]), (i["k"], i["n"]), (i["m"], i["n"])
        if at != current["A"]:
            moved["A"] += ext("m", i["m"]) * ext("k", i["k"]) * a
            current["A"] = at
        if bt != current["B"]:
            moved["B"] += ext("k", i["k"]) * ext("n", i["n"]) * b
            current["B"] = bt
        if ct != current["C"]:
            if current["C"] is not None:
                leave_c(current["C"])
            if summed[ct] > 0:  # read the partial sums back
                moved["C"] += ext("m", i["m"]) * ext("n", i["n"]) * p
            current["C"] = ct
        summed[ct] += 1
    leave_c(current["C"])
    return moved["A"], moved["B"], moved["C"]


def exhaustive_best(m, k, n, a, b, c, p, cap, orders=ORDERS):
    """Fewest bytes over every integer tiling that fits (None if nothing fits)."""
    best = None
    for mt, kt, nt in itertools.product(range(1, m + 1), range(1, k + 1), range(1, n + 1)):
        if footprint_bytes(mt, kt, nt, k, a, b, c, p) > cap:
            continue
        for order in orders:
            total = tiling_traffic(order, m, k, n, mt, kt, nt, a, b, c, p).total
            best = total if best is None else min(best, total)
    return best


SMALL_SHAPES = [(1, 1, 1), (3, 5, 7), (7, 3, 5), (5, 7, 3), (4, 4, 4), (6, 1, 5), (1, 6, 5)]

# --------------------------------------------------------------------------------------------
# Hand-derived cases.


def test_everything_fits_moves_each_operand_once():
    # M = K = N = 64, 2 bytes everywhere: A, B, C are 64*64*2 = 8192 bytes each, so a buffer of
    # 3 * 8192 = 24576 bytes holds all three and every operand crosses once: 24576 bytes.
    t = best_tiling(64, 64, 64, 2, 2, 2, 2, 3 * 8192)
    assert (t.a_bytes, t.b_bytes, t.c_bytes) == (8192, 8192, 8192)
    assert t.total == compulsory_bytes(64, 64, 64, 2, 2, 2) == 24576
    # Streaming is enough: keep one whole operand (8192 B) plus one 64-element row or column
    # of the other two (2 * 64 * 2 = 256 B), i.e. 8448 bytes. Three tilings need exactly that:
    # (1, 64, 64) B resident, (64, 64, 1) A resident, (64, 1, 64) C resident (psum 2 B); all
    # are os and take 64 tile iterations, so the tie goes to the smallest (Mt, Kt, Nt).
    t = best_tiling(64, 64, 64, 2, 2, 2, 2, 8448)
    assert t == Tiling("os", 1, 64, 64, 8192.0, 8192.0, 8192.0)


def test_os_with_a_32x32_output_tile():
    # 64^3, 2-byte elements and partial sums, os only, S = 2176 B = 1088 elements.
    # Kt = 1 splits K, so C sits at the psum width: Mt*1 + 1*Nt + Mt*Nt <= 1088 elements.
    # os traffic with T_k > 1: A = 8192 * T_n, B = 8192 * T_m, C = 8192. Minimize T_m + T_n:
    #   T_m = T_n = 2 (Mt = Nt = 32): 32 + 32 + 1024 = 1088 fits exactly -> T_m + T_n = 4;
    #   T_m + T_n = 3 needs a 64-wide tile and a 32-wide one: 64*32 = 2048 > 1088 elements.
    # Kt = 64 (T_k = 1): 64 Mt + 64 Nt + Mt Nt <= 1088 forces Nt < 64 (T_n > 1), so
    #   B = 8192 * T_m with Mt <= 15 (Nt = 1): T_m >= 5, B >= 40960. Worse.
    # Kt strictly between 1 and 64 moves as much as Kt = 1 and needs more room.
    # Optimum: A = 64*64*2 * 2 = 16384, B = 16384, C = 8192, total 40960, tiles (32, 1, 32).
    t = best_tiling(64, 64, 64, 2, 2, 2, 2, 2176, orders=("os",))
    assert t == Tiling("os", 32, 1, 32, 16384.0, 16384.0, 8192.0)
    assert footprint_bytes(32, 1, 32, 64, 2, 2, 2, 2) == 2176
    assert best_tiling(64, 64, 64, 2, 2, 2, 2, 2176).total <= 40960


def test_one_k_tile_keeps_the_a_tile_across_the_n_loop():
    # os, M = 64, K = 4, N = 64, 1-byte operands, tiles (1, 4, 32): T_m = 64, T_k = 1, T_n = 2.
    # Loop i (64) > j (2) > l (1): the A tile (i, 0) does not change while j runs, so A crosses
    # once: 64*4 = 256 bytes, not 256 * T_n = 512 as the generic "A x T_n" would say.
    # B tile (0, j) changes with every j and j resets for every i: 4*64 * T_m = 16384.
    # C tiles are finished in one visit (one K tile): 64*64 = 4096.
    t = tiling_traffic("os", 64, 4, 64, 1, 4, 32, 1, 1, 1, 4)
    assert (t.a_bytes, t.b_bytes, t.c_bytes) == (256, 16384, 4096)
    assert simulate("mnk", (64, 4, 64), (1, 4, 32), 1, 1, 1, 4) == (256, 16384, 4096)


def test_partial_sums_round_trip_through_the_level_above():
    # ws, M = K = N = 8, tiles (4, 2, 8): T_m = 2, T_k = 4, T_n = 1; a = b = 1, c = 2, p = 4.
    # Loop l (4) > j (1) > i (2). B tile (l, 0) stays for the i loop: B once = 64 bytes.
    # A tile (i, l) changes every iteration but there is one n tile: A once = 64 bytes.
    # Each C tile is visited T_k = 4 times: 3 partial-sum writes + 3 reads at 4 bytes and one
    # final write at 2 bytes: 64*2 + 2*3*64*4 = 128 + 1536 = 1664 bytes.
    t = tiling_traffic("ws", 8, 8, 8, 4, 2, 8, 1, 1, 2, 4)
    assert (t.a_bytes, t.b_bytes, t.c_bytes) == (64, 64, 1664)
    assert simulate("knm", (8, 8, 8), (4, 2, 8), 1, 1, 2, 4) == (64, 64, 1664)


def test_fallback_when_not_even_one_element_of_each_fits():
    # (1, 1, 1) needs 2 + 2 + 4 (C at the 4-byte psum width, K split) = 8 bytes > 5.
    # Every element streams: os moves A * T_n = 32*4 = 128, B * T_m = 128, C once = 32 (288);
    # ws/is move 32*4 + 32 + 32 + 2*3*16*4 = 576. os wins.
    t = best_tiling(4, 4, 4, 2, 2, 2, 4, 5)
    assert t == Tiling("os", 1, 1, 1, 128.0, 128.0, 32.0)
    assert footprint_bytes(1, 1, 1, 4, 2, 2, 2, 4) > 5
    assert best_tiling(4, 4, 4, 2, 2, 2, 4, 0) == t


def test_zero_sized_operand_is_free_and_takes_no_room():
    # A resident elsewhere (a = 0): only B and C count. 64^3, 2 bytes, 8448 bytes fit B
    # (8192) plus one row of C (128): every non-free operand moves once.
    t = best_tiling(64, 64, 64, 0, 2, 2, 2, 8192 + 128)
    assert t.a_bytes == 0 and t.total == 8192 + 8192
    # C resident elsewhere: partial sums are free too, whatever p says.
    t = best_tiling(1000, 1000, 1000, 2, 2, 0, 4, 1000)
    assert t.c_bytes == 0
    assert best_tiling(8, 8, 8, 0, 0, 0, 4, 0).total == 0


def test_tiling_to_dict():
    d = best_tiling(64, 64, 64, 2, 2, 2, 2, 2176).to_dict()
    assert set(d) == {"order", "m_tile", "k_tile", "n_tile", "a_bytes", "b_bytes", "c_bytes"} | {
        "total"
    }
    assert d["total"] == d["a_bytes"] + d["b_bytes"] + d["c_bytes"]


# --------------------------------------------------------------------------------------------
# The equations against the literal loop nests.


@pytest.mark.parametrize("shape", SMALL_SHAPES)
def test_equations_match_the_loop_nest_for_every_tiling(shape):
    m, k, n = shape
    for tiles in itertools.product(range(1, m + 1), range(1, k + 1), range(1, n + 1)):
        for order, loops in NESTS.items():
            for a, b, c, p in ((1, 2, 4, 8), (2, 1, 0, 4)):
                t = tiling_traffic(order, m, k, n, *tiles, a, b, c, p)
                assert (t.a_bytes, t.b_bytes, t.c_bytes) == simulate(
                    loops, shape, tiles, a, b, c, p
                ), (order, shape, tiles)


@pytest.mark.parametrize("shape", SMALL_SHAPES)
def test_three_orders_cover_all_six_loop_permutations(shape):
    # Whatever the tiles, the best of the six loop permutations moves no less than the best
    # of the three canonical nests (docs/tiling.md: with a single tile in some dimension the
    # nests reach both orders of the two remaining loops).
    m, k, n = shape
    a, b, c, p = 1, 2, 4, 8
    for tiles in itertools.product(range(1, m + 1), range(1, k + 1), range(1, n + 1)):
        six = min(
            sum(simulate(lp, shape, tiles, a, b, c, p)) for lp in itertools.permutations("mkn")
        )
        three = min(tiling_traffic(o, m, k, n, *tiles, a, b, c, p).total for o in ORDERS)
        assert three == six, tiles


def test_search_matches_exhaustive_search_on_tiny_shapes():
    # Every integer tiling of shapes up to 7 x 7 x 7 and a spread of buffer sizes.
    for m, k, n in itertools.product((1, 3, 5, 7), repeat=3):
        for a, b, c, p in ((1, 1, 1, 1), (2, 2, 2, 4), (1, 2, 4, 4), (0, 2, 2, 4)):
            for cap in (4, 10, 30, 100):
                exact = exhaustive_best(m, k, n, a, b, c, p, cap)
                if exact is None:
                    continue
                assert best_tiling(m, k, n, a, b, c, p, cap).total == exact, (m, k, n, cap)


def test_chosen_tiling_is_exact_for_its_tiles():
    rng = random.Random(7)
    for _ in range(100):
        m, k, n = (rng.randint(1, 9) for _ in range(3))
        a, b, c = (rng.choice((0, 1, 2)) for _ in range(3))
        p = rng.choice((2, 4))
        t = best_tiling(m, k, n, a, b, c, p, rng.uniform(0, 300))
        tiles = (t.m_tile, t.k_tile, t.n_tile)
        assert (t.a_bytes, t.b_bytes, t.c_bytes) == simulate(
            NESTS[t.order], (m, k, n), tiles, a, b, c, p
        )


# --------------------------------------------------------------------------------------------
# Properties over many shapes and capacities (hypothesis if available, else a seeded loop).

ELEM = (0, 0.5, 1, 2, 4)


def _random_case(rng):
    dims = tuple(int(10 ** rng.uniform(0, rng.choice((1, 3, 4, 6)))) for _ in range(3))
    sizes = tuple(rng.choice(ELEM) for _ in range(3)) + (rng.choice((1, 2, 4)),)
    return (*dims, *sizes, rng.choice((0.0, 10 ** rng.uniform(0, 7))))


if st is not None:
    dims_st = st.one_of(st.integers(1, 64), st.integers(1, 20000), st.integers(1, 10**6))
    case_st = st.tuples(
        dims_st,
        dims_st,
        dims_st,
        st.sampled_from(ELEM),
        st.sampled_from(ELEM),
        st.sampled_from(ELEM),
        st.sampled_from((1, 2, 4)),
        st.one_of(st.integers(0, 100), st.floats(0, 1e7)),
    )

    def for_all(fn):
        return settings(max_examples=150, deadline=None)(given(case=case_st)(fn))

else:  # pragma: no cover

    def for_all(fn):
        rng = random.Random(0)
        return pytest.mark.parametrize("case", [_random_case(rng) for _ in range(150)])(fn)


@for_all
def test_traffic_at_least_the_lower_bound_and_tiles_fit(case):
    m, k, n, a, b, c, p, cap = case
    t = best_tiling(*case)
    assert t.total >= io_lower_bound_bytes(*case) * (1 - 1e-12)
    assert io_lower_bound_bytes(*case) >= compulsory_bytes(m, k, n, a, b, c)
    for d, tile in ((m, t.m_tile), (k, t.k_tile), (n, t.n_tile)):
        assert 1 <= tile <= d and tile == -(-d // -(-d // tile))  # balanced tiles
    fits = footprint_bytes(t.m_tile, t.k_tile, t.n_tile, k, a, b, c, p) <= cap
    fallback = footprint_bytes(1, 1, 1, k, a, b, c, p) > cap
    assert fits or (fallback and (t.m_tile, t.k_tile, t.n_tile) == (1, 1, 1))
    assert t == tiling_traffic(t.order, m, k, n, t.m_tile, t.k_tile, t.n_tile, a, b, c, p)


@for_all
def test_bigger_buffers_never_move_more(case):
    *shape, cap = case
    before = best_tiling(*shape, cap).total
    for factor in (1.01, 1.5, 2, 10, 1000):
        after = best_tiling(*shape, cap * factor + 1).total
        assert after <= before
        before = after


@for_all
def test_restricting_the_orders_never_moves_less(case):
    everything = best_tiling(*case).total
    for r in (1, 2):
        for subset in itertools.combinations(ORDERS, r):
            assert best_tiling(*case, orders=subset).total >= everything


@for_all
def test_free_operands_move_nothing(case):
    m, k, n, a, b, c, p, cap = case
    assert best_tiling(m, k, n, 0, b, c, p, cap).a_bytes == 0
    assert best_tiling(m, k, n, a, 0, c, p, cap).b_bytes == 0
    assert best_tiling(m, k, n, a, b, 0, p, cap).c_bytes == 0


# Within 2x of max(compulsory, lower bound): equal element sizes (a = b = c = p) and a buffer of
# at least 256 elements. Without that precondition it fails: e.g. 17 x 9 x 17 with 58
# elements moves 1207 elements against max(595, 567) = 595 (ceiling effects when the
# dimensions are a small multiple of sqrt(S); see test_two_x_needs_a_big_enough_buffer).


def _two_x(m, k, n, w, elements):
    cap = elements * w
    t = best_tiling(m, k, n, w, w, w, w, cap)
    bound = max(compulsory_bytes(m, k, n, w, w, w), io_lower_bound_bytes(m, k, n, w, w, w, w, cap))
    return t.total / bound


def test_within_two_x_of_the_bound_on_awkward_shapes():
    # Dimensions straddling multiples of sqrt(S), where tile counts round up the most.
    for elements in (256, 1024, 16384):
        r = math.isqrt(elements)
        dims = sorted({max(1, int(r * f) + d) for f in (0.5, 1, 1.5, 2, 3, 8) for d in (-1, 1)})
        for m, k, n in itertools.product(dims, repeat=3):
            assert _two_x(m, k, n, 2, elements) <= 2, (m, k, n, elements)


def test_two_x_needs_a_big_enough_buffer():
    # 17 x 9 x 17, 58 one-byte elements: the best loop-nest tiling (exhaustive) is 6 x 1 x 6:
    # A 153 * 3 + B 153 * 3 + C 289 = 1207 > 2 * max(595, 2*2601/sqrt(58) - 116 = 567).
    assert (
        exhaustive_best(17, 9, 17, 1, 1, 1, 1, 58) == best_tiling(17, 9, 17, 1, 1, 1, 1, 58).total
    )
    assert best_tiling(17, 9, 17, 1, 1, 1, 1, 58).total == 1207
    assert _two_x(17, 9, 17, 1, 58) > 2


if st is not None:

    @settings(max_examples=200, deadline=None)
    @given(
        st.integers(1, 20000),
        st.integers(1, 20000),
        st.integers(1, 20000),
        st.sampled_from((0.5, 1, 2, 4)),
        st.integers(256, 1 << 22),
    )
    def test_within_two_x_of_the_bound(m, k, n, w, elements):
        assert _two_x(m, k, n, w, elements) <= 2

else:  # pragma: no cover

    def test_within_two_x_of_the_bound():
        rng = random.Random(1)
        for _ in range(200):
            m, k, n = (rng.randint(1, 20000) for _ in range(3))
            assert _two_x(m, k, n, rng.choice((0.5, 1, 2, 4)), rng.randint(256, 1 << 22)) <= 2


# --------------------------------------------------------------------------------------------
# Determinism, validation, speed.


def test_same_inputs_same_tiling():
    args = (50176, 576, 128, 2, 2, 2, 4, 256 * 1024)
    first = best_tiling(*args)
    best_tiling.cache_clear()
    assert best_tiling(*args) == first
    assert best_tiling(*args, orders=("is", "os", "ws")) == first  # argument order is irrelevant
    assert best_tiling(*args, orders=["ws", "is", "os", "os"]) == first
    assert best_tiling(np.int64(50176), 576, np.int32(128), 2.0, 2, 2, 4, 262144.0) == first
    assert best_tiling(*args) is best_tiling(*args)  # memoized


@pytest.mark.parametrize(
    "kwargs",
    [
        {"m": 0},
        {"k": 2.0},
        {"n": True},
        {"a_elem": -1},
        {"psum_elem": float("nan")},
        {"b_elem": float("inf")},
        {"capacity": -1.0},
        {"orders": ()},
        {"orders": ("os", "rs")},
        {"orders": "os"},
    ],
)
def test_bad_arguments_are_rejected(kwargs):
    args = dict(m=8, k=8, n=8, a_elem=1, b_elem=1, c_elem=1, psum_elem=4, capacity=100)
    with pytest.raises(ValueError):
        best_tiling(**(args | kwargs))


def test_an_infinite_buffer_holds_everything():
    t = best_tiling(1000, 300, 200, 2, 2, 2, 4, math.inf)
    assert t.total == compulsory_bytes(1000, 300, 200, 2, 2, 2)


def test_time_per_uncached_call_printout():
    # Benchmark-like: prints the time, asserts nothing about it.
    shapes = [
        (1_000_000, 10_000, 10_000),
        (1_000_000, 64, 10_000),
        (100_000, 4096, 1024),
        (50_176, 576, 128),
        (1000, 1000, 1000),
    ]
    times = []
    for shape in shapes:
        for cap in (1e3, 64 * 1024, 256 * 1024, 8 * 2**20):
            best = math.inf
            for _ in range(5):
                best_tiling.cache_clear()
                start = time.perf_counter()
                best_tiling(*shape, 2, 2, 2, 4, cap)
                best = min(best, time.perf_counter() - start)
            times.append(best)
    print(  # noqa: T201
        f"best_tiling uncached: median {np.median(times) * 1e6:.0f} us, "
        f"max {max(times) * 1e6:.0f} us over {len(times)} shape/capacity pairs"
    )
