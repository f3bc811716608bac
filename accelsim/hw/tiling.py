"""Tiling search for one GEMM between a buffer and the level above it (docs/tiling.md).

``C[M,N] = A[M,K] @ B[K,N]`` runs out of a buffer of ``S`` usable bytes that holds one tile of
each operand (``Mt x Kt`` of A, ``Kt x Nt`` of B, ``Mt x Nt`` of C); everything else lives in the
level above (DRAM above the global buffer, or the global buffer above a PE array's buffers).
``T_m = ceil(M/Mt)``, ``T_k = ceil(K/Kt)``, ``T_n = ceil(N/Nt)`` are the tile counts; ``a, b, c``
the bytes per element of A, B and the final C, ``p`` the bytes per partial sum.

Loop orders (outermost first; the innermost loop names the order, the tile of the operand that
does not depend on it stays in the buffer)::

    os: for i in T_m: for j in T_n: for l in T_k:   C[i,j] += A[i,l] B[l,j]   (C tile stays)
    ws: for l in T_k: for j in T_n: for i in T_m:   C[i,j] += A[i,l] B[l,j]   (B tile stays)
    is: for l in T_k: for i in T_m: for j in T_n:   C[i,j] += A[i,l] B[l,j]   (A tile stays)

A tile is fetched when its index differs from the previous iteration's (the buffer keeps the
current tile of each operand and nothing else). Operand X with reuse loop r (the loop X does not
depend on: n for A, m for B, k for C) is then fetched ``f_X`` times per tile, where
``f_X = T_r`` if ``T_r > 1`` and some loop of X *inside* r has more than one tile, else 1.
All tiles of an operand are fetched equally often, so its traffic is its size times ``f_X``
(exact, edge tiles included)::

    os: A = M K a (T_n if T_k > 1 else 1)      B = K N b (T_m if T_k > 1 or T_n > 1 else 1)
        C = M N c
    ws: A = M K a (T_n if T_m > 1 else 1)      B = K N b
        C = M N c + 2 (T_k - 1) M N p   when T_k > 1 and (T_m > 1 or T_n > 1), else M N c
    is: A = M K a                              B = K N b (T_m if T_n > 1 else 1)
        C = as for ws

In the generic case (every T > 1) this is: os: A x T_n, B x T_m, C once; ws: B once, A x T_n,
C with ``T_k - 1`` partial-sum round trips; is: A once, B x T_m, C as ws. A C tile visited
``f_C`` times is written ``f_C - 1`` times as partial sums and read back as often (its first
visit starts from zero), plus one final write.

Capacity (no double-buffering factor; the caller passes the usable bytes)::

    Mt Kt a + Kt Nt b + Mt Nt c' <= S,   c' = max(c, p) if T_k > 1 else c

An element size of 0 means the operand is resident elsewhere: no traffic, no space. ``c = 0``
makes all of C free, partial sums included (``p`` is then ignored).

With one tile count equal to 1 its loop disappears and the remaining two loops decide which
operand is re-fetched; the three nests above then reach both orders of the remaining pair, so
allowing all three orders covers all six loop permutations.

Search (``best_tiling``): per allowed order, the innermost loop's tile is 1 or the whole
dimension (its size only matters through "one tile or more", so any other value is dominated).
One outer dimension runs over a candidate set (powers of two up to D, D itself, and
``ceil(D / 2^j)``, the smallest tile that covers D in ``2^j`` tiles) and the other takes the
largest tile that then fits (traffic never grows when a tile grows); both roles are tried.
Tiles are reported balanced (``ceil(D / T)``: same count, smallest tile). Among the tilings
tried the winner has the fewest total bytes; ties go to the smaller buffer footprint, then
fewer tile iterations ``T_m T_k T_n``, then the order os < ws < is, then the smaller
``(Mt, Kt, Nt)``. If not even ``(1, 1, 1)`` fits, the result is ``(1, 1, 1)`` in the allowed
order that moves the fewest bytes (the worst-case traffic; the buffer is overcommitted).
``tiling_traffic`` evaluates a given tiling, ``footprint_bytes`` its buffer bytes.

Bounds: ``compulsory_bytes`` (every operand once) and ``io_lower_bound_bytes``, the larger of
the compulsory bytes and Smith, Lowery, Langou & van de Geijn's 2019 tightening of Hong & Kung
(1981): ``w (2 M N K / sqrt(S_w) - 2 S_w)`` with ``w`` the smallest element size and
``S_w = max(3, S / w)`` elements.
"""

from __future__ import annotations

import math
import operator
from dataclasses import asdict, dataclass
from functools import lru_cache

ORDERS = ("os", "ws", "is")
_RANK = {name: i for i, name in enumerate(ORDERS)}


@dataclass(frozen=True)
class Tiling:
    """One GEMM's tiling and the bytes each operand moves to or from the level above."""

    order: str  # "os" (C tile stays, k innermost), "ws" (B stays, m innermost), "is" (A stays)
    m_tile: int
    k_tile: int
    n_tile: int
    a_bytes: float  # bytes of A moved from the level above
    b_bytes: float
    c_bytes: float  # C moved to/from the level above: final write + partial-sum round trips

    @property
    def total(self) -> float:
        return self.a_bytes + self.b_bytes + self.c_bytes

    def to_dict(self) -> dict:
        return {**asdict(self), "total": self.total}


def compulsory_bytes(m: int, k: int, n: int, a_elem: float, b_elem: float, c_elem: float) -> float:
    """Every operand moved exactly once: ``M K a + K N b + M N c``."""
    return m * k * a_elem + k * n * b_elem + m * n * c_elem


def io_lower_bound_bytes(
    m: int,
    k: int,
    n: int,
    a_elem: float,
    b_elem: float,
    c_elem: float,
    psum_elem: float,
    capacity: float,
) -> float:
    """Lower bound on the bytes any schedule moves: ``max(compulsory, w (2MNK/sqrt(S_w) - 2 S_w))``.

    ``w = min(a, b, c, p)`` (every moved element costs at least ``w`` bytes) and
    ``S_w = max(3, capacity / w)`` (the buffer holds at most ``capacity / w`` elements; 3 is the
    least a multiply-accumulate needs). ``2 m n k / sqrt(S) - 2 S`` words is the bound of Smith,
    Lowery, Langou and van de Geijn (2019), which sharpens the constant of Hong and Kung's
    (1981) ``Omega(m n k / sqrt(S))`` and of Irony, Toledo and Tiskin (2004). With a zero
    element size (an operand resident elsewhere) only the compulsory bytes are claimed.
    """
    m, k, n, a, b, c, p = _checked(m, k, n, a_elem, b_elem, c_elem, psum_elem)
    capacity = _non_negative("capacity", capacity, allow_inf=True)
    floor = compulsory_bytes(m, k, n, a, b, c)
    w = min(a, b, c, p)
    if w <= 0:
        return floor
    s_w = max(3.0, capacity / w)
    return max(floor, w * (2.0 * m * n * k / math.sqrt(s_w) - 2.0 * s_w))


def best_tiling(
    m: int,
    k: int,
    n: int,
    a_elem: float,
    b_elem: float,
    c_elem: float,
    psum_elem: float,
    capacity: float,
    orders: tuple[str, ...] = ORDERS,
) -> Tiling:
    """The tiling with the fewest bytes moved to or from the level above (module docstring).

    Results are memoized (``best_tiling.cache_info()``, ``best_tiling.cache_clear()``); the order
    of ``orders`` does not matter.
    """
    m, k, n, a, b, c, p = _checked(m, k, n, a_elem, b_elem, c_elem, psum_elem)
    cap = _non_negative("capacity", capacity, allow_inf=True)
    return _search(m, k, n, a, b, c, p, cap, _normalize_orders(orders))


def tiling_traffic(
    order: str,
    m: int,
    k: int,
    n: int,
    m_tile: int,
    k_tile: int,
    n_tile: int,
    a_elem: float,
    b_elem: float,
    c_elem: float,
    psum_elem: float,
) -> Tiling:
    """The bytes a given tiling moves (the equations of the module docstring); no search.

    Tiles larger than their dimension are clipped to it. Fitting the buffer is not checked:
    see ``footprint_bytes``.
    """
    (order,) = _normalize_orders((order,))
    m, k, n, a, b, c, p = _checked(m, k, n, a_elem, b_elem, c_elem, psum_elem)
    mt = min(m, _positive_int("m_tile", m_tile))
    kt = min(k, _positive_int("k_tile", k_tile))
    nt = min(n, _positive_int("n_tile", n_tile))
    moved = _traffic(
        order, -(-m // mt), -(-k // kt), -(-n // nt), m * k * a, k * n * b, m * n * c, m * n * p
    )
    return Tiling(order, mt, kt, nt, *(float(x) for x in moved))


def footprint_bytes(
    m_tile: int,
    k_tile: int,
    n_tile: int,
    k: int,
    a_elem: float,
    b_elem: float,
    c_elem: float,
    psum_elem: float,
) -> float:
    """Buffer bytes of one tile of each operand: ``Mt Kt a + Kt Nt b + Mt Nt c'``.

    ``c' = max(c, p)`` when the reduction is split (``k_tile < k``), else ``c``; ``c = 0``
    makes C take no space at all.
    """
    cw = 0.0 if c_elem == 0 else (c_elem if k_tile >= k else max(c_elem, psum_elem))
    return m_tile * k_tile * a_elem + k_tile * n_tile * b_elem + m_tile * n_tile * cw


def _checked(m, k, n, a_elem, b_elem, c_elem, psum_elem):
    dims = [_positive_int(name, v) for name, v in (("m", m), ("k", k), ("n", n))]
    sizes = [
        _non_negative(name, v)
        for name, v in (
            ("a_elem", a_elem),
            ("b_elem", b_elem),
            ("c_elem", c_elem),
            ("psum_elem", psum_elem),
        )
    ]
    if sizes[2] == 0:
        sizes[3] = 0.0  # C resident elsewhere: its partial sums are too
    return (*dims, *sizes)


def _positive_int(name: str, value) -> int:
    try:
        number = operator.index(value)  # also numpy integers, never floats
    except TypeError:
        number = 0
    if isinstance(value, bool) or number < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number


def _non_negative(name: str, value, allow_inf: bool = False) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not number >= 0:  # also rejects NaN
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    if not allow_inf and math.isinf(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _normalize_orders(orders) -> tuple[str, ...]:
    if isinstance(orders, str):
        raise ValueError(f"orders must be a tuple of order names, got the string {orders!r}")
    chosen = set(orders)
    unknown = chosen - set(ORDERS)
    if unknown or not chosen:
        raise ValueError(
            f"orders must be a non-empty subset of {', '.join(ORDERS)}, got {tuple(orders)!r}"
        )
    return tuple(o for o in ORDERS if o in chosen)


def _ceil_div(x: int, y: int) -> int:
    return -(-x // y)


@lru_cache(maxsize=4096)
def _candidates(d: int) -> tuple[int, ...]:
    """Powers of two up to d, d itself, and ceil(d / 2^j); balanced, ascending, unique."""
    values = {d}
    t = 1
    while t <= d:
        values.add(t)
        values.add(_ceil_div(d, t))
        t *= 2
    return tuple(sorted({_ceil_div(d, _ceil_div(d, v)) for v in values}))


def _traffic(order, tm, tk, tn, a_all, b_all, c_all, p_all):
    """Bytes of A, B, C for tile counts (tm, tk, tn); the equations of the module docstring."""
    if order == "os":
        return (
            a_all * tn if tk > 1 else a_all,
            b_all * tm if (tk > 1 or tn > 1) else b_all,
            c_all,
        )
    c_bytes = c_all + 2 * (tk - 1) * p_all if (tm > 1 or tn > 1) else c_all
    if order == "ws":
        return (a_all * tn if tm > 1 else a_all, b_all, c_bytes)
    return (a_all, b_all * tm if tn > 1 else b_all, c_bytes)


# For each order: (outer, middle, inner) dimension indices into (m, k, n).
_NESTS = {"os": (0, 2, 1), "ws": (1, 2, 0), "is": (1, 0, 2)}


@lru_cache(maxsize=1 << 16)
def _search(m, k, n, a, b, c, p, cap, orders) -> Tiling:
    dims = (m, k, n)
    cs = max(c, p)  # C's width in the buffer while partial sums accumulate (T_k > 1)
    a_all, b_all, c_all, p_all = m * k * a, k * n * b, m * n * c, m * n * p
    best_total = math.inf
    best_key = best = None
    for order in orders:
        rank = _RANK[order]
        outer, middle, inner = _NESTS[order]
        for x in (1,) if dims[inner] == 1 else (1, dims[inner]):
            for fixed, free in ((outer, middle), (middle, outer)):
                d = dims[free]
                for t in _candidates(dims[fixed]):
                    tiles = [x, x, x]
                    tiles[fixed] = t
                    # The largest tile u of the free dimension that fits: the footprint
                    # Mt Kt a + Kt Nt b + Mt Nt c' is linear in u once c' is known.
                    if free == 1:  # k free; C is narrower if K fits in one tile
                        mt, nt = tiles[0], tiles[2]
                        coef = mt * a + nt * b
                        const = mt * nt * c
                        if k * coef + const <= cap:
                            u = k
                        else:
                            const = mt * nt * cs
                            rest = cap - const
                            if rest < coef:
                                break  # not even u = 1 fits; a larger t fits even less
                            # u < K: K was tried above with the narrower C (so coef > 0)
                            u = max(1, k - 1) if coef <= 0 else min(k - 1, int(rest / coef))
                    else:
                        kt = tiles[1]
                        other = tiles[2 - free]  # the tile of m or n that is not free
                        if free == 0:
                            coef, const = kt * a + other * (c if kt >= k else cs), kt * other * b
                        else:
                            coef, const = kt * b + other * (c if kt >= k else cs), kt * other * a
                        rest = cap - const
                        if rest < coef:
                            if fixed == 1:
                                continue  # Kt = K may still fit: C is narrower without a split
                            break
                        u = d if coef <= 0 or rest >= d * coef else int(rest / coef)
                    while u > 1 and u * coef + const > cap:  # guard against rounding
                        u -= 1
                    tf = -(-d // u)
                    tiles[free] = -(-d // tf)  # balanced: same tile count, smallest tile
                    mt, kt, nt = tiles
                    tm, tk, tn = -(-m // mt), -(-k // kt), -(-n // nt)
                    moved = _traffic(order, tm, tk, tn, a_all, b_all, c_all, p_all)
                    total = moved[0] + moved[1] + moved[2]
                    if total > best_total:
                        continue
                    key = (
                        total,
                        mt * kt * a + kt * nt * b + mt * nt * (c if kt >= k else cs),
                        tm * tk * tn,
                        rank,
                        mt,
                        kt,
                        nt,
                    )
                    if best_key is None or key < best_key:
                        best_total, best_key, best = total, key, (order, mt, kt, nt, moved)
    if best is None:  # not even (1, 1, 1) fits: stream single elements, worst-case traffic
        for order in orders:
            moved = _traffic(order, m, k, n, a_all, b_all, c_all, p_all)
            key = (sum(moved), _RANK[order])
            if best_key is None or key < best_key:
                best_key, best = key, (order, 1, 1, 1, moved)
    order, mt, kt, nt, (ab, bb, cb) = best
    return Tiling(order, mt, kt, nt, float(ab), float(bb), float(cb))


best_tiling.cache_info = _search.cache_info
best_tiling.cache_clear = _search.cache_clear
