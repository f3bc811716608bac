"""Recurrent cells (tanh RNN, LSTM, GRU): forward and backward-through-time, float32.

A recurrent layer reads a batch-first sequence x (N, T, F) from a zero initial state and returns
every hidden state h (N, T, H). Parameters use PyTorch's layouts: ``w_ih`` (G*H, F), ``w_hh``
(G*H, H), ``b_ih`` and ``b_hh`` (G*H,), with G = 1 (rnn), 4 (lstm: gates i, f, g, o) or 3
(gru: gates r, z, n, and n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) exactly as PyTorch).

The input projections of all steps are one GEMM (N*T, F) x (F, G*H) before the time loop.
Batch rows never interact, so each numba thread takes a block of rows and carries it through
all T steps on its own (one parallel region per pass, not one per step): at each step one
single-threaded BLAS call multiplies the block's h_{t-1} by W_hh^T, reading and writing the
(N, T, .) arrays in place, then one vectorised pass applies the gate maths. Backward mirrors it
with a per-step (rows, G*H) x (G*H, H) product carrying the error to the previous step. The
weight gradients of all steps are transposed GEMMs after the loop, split over threads by gate
rows, with no transposed copy of the gate errors: for rnn and lstm one GEMM d^T [x_t, h_{t-1}]
gives both weights; GRU (whose W_hh sees a different error) pairs d_hid with the states one row
earlier and takes out the pairs that straddle two samples. Speed: docs/performance.md#rnn.

``through_time=False`` stops the error at each step (no flow from h_t back to h_{t-1}); the DFA
variants use it when every step receives its own injected error (docs/dfa-extensions.md).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from accelsim.nn.kernels._gemm import gemm
from accelsim.nn.kernels._threads import kernel_blas_single_threaded, num_threads
from accelsim.nn.kernels.linear import (
    linear_backward_data,
    linear_forward,
)

CELL_GATES = {"rnn": 1, "lstm": 4, "gru": 3}

# tanh(x) ~ p(s) / q(s), s = clip(x, -9, 9) / 9, p odd of degree 13, q even of degree 6: our own
# least-squares rational fit (iteratively reweighted towards the largest errors) on [0, 9].
# Max absolute error in float32 4.3e-7 over [-12, 12]. libm's tanh is scalar (about 30 ns an
# element here, no SVML); this form vectorizes and costs under 0.5 ns.
_P0, _P1, _P2, _P3 = (
    np.float32(8.99999975),
    np.float32(95.3832232),
    np.float32(183.298976),
    (np.float32(53.3760719)),
)
_P4, _P5, _P6 = np.float32(-7.85069581), np.float32(1.66499366), np.float32(-0.218146301)
_Q0, _Q1, _Q2, _Q3 = (
    np.float32(1.0),
    np.float32(37.5981266),
    np.float32(160.716907),
    (np.float32(135.339404)),
)
_CLIP = np.float32(9.0)
_INV_CLIP = np.float32(1.0 / 9.0)
_HALF = np.float32(0.5)
_ONE = np.float32(1.0)

# error_model="numpy" drops numba's per-division zero check, which otherwise blocks SIMD.
_FAST = {"cache": True, "fastmath": True, "error_model": "numpy"}


@njit(inline="always", **_FAST)
def fast_tanh(x):
    s = min(max(x, -_CLIP), _CLIP) * _INV_CLIP
    s2 = s * s
    p = ((((((_P6 * s2 + _P5) * s2 + _P4) * s2 + _P3) * s2 + _P2) * s2 + _P1) * s2 + _P0) * s
    q = ((_Q3 * s2 + _Q2) * s2 + _Q1) * s2 + _Q0
    return min(max(p / q, -_ONE), _ONE)


@njit(inline="always", **_FAST)
def fast_sigmoid(x):
    return _HALF * fast_tanh(_HALF * x) + _HALF


@njit(**_FAST)
def _rows_times(src, t_src, lo, hi, w, beta, dst, dst_lo, t_dst, scalars):
    """dst[dst_lo + i, t_dst] = src[lo + i, t_src] @ w + beta * (itself), i < hi - lo.

    ``src`` and ``dst`` are (rows, steps, width) arrays, so the rows of one step lie
    steps * width apart and BLAS reads and writes them in place.
    """
    steps_s, k = src.shape[1], src.shape[2]
    steps_d, n = dst.shape[1], dst.shape[2]
    a = src.reshape(-1)[(lo * steps_s + t_src) * k :]
    c = dst.reshape(-1)[(dst_lo * steps_d + t_dst) * n :]
    gemm(
        False, False, hi - lo, n, k, a, steps_s * k, w.reshape(-1), n, beta, c, steps_d * n, scalars
    )


# -- forward time loops ----------------------------------------------------------------------
# xp (N, T, G*H) holds W_ih x_t for every step; the loops add W_hh h_{t-1} and the biases (in
# the row pass, which reads every element anyway, not in a pass of their own). Batch rows never
# interact, so each thread carries its own block of rows [lo, hi) through all steps: no
# synchronisation per step (waking the passive OpenMP workers cost about 50 us per parallel
# region, one region per step before). The recurrent product reads h_{t-1} and writes its
# result in place inside the (N, T, .) arrays (``_rows_times``), so there are no per-step
# copies. The maths of one row sits in its own ``_*_row`` function: written inline in the step
# loop, LLVM left it scalar (about 6 ns an element instead of 1). Each ``_*_block`` is serial;
# ``_*_parallel`` gives each thread a block.


@njit(**_FAST)
def _rnn_row(a, bias, hout, hidden):
    for j in range(hidden):
        hout[j] = fast_tanh(a[j] + bias[j])


@njit(**_FAST)
def _rnn_block(lo, hi, xp, bias, w_hh_t, h_all):
    """``xp`` holds W_ih x_t on entry, plus W_hh h_{t-1} on exit; ``bias`` is b_ih + b_hh."""
    _, steps, hidden = h_all.shape
    scalars = np.empty(2, np.float32)
    for t in range(steps):
        if t > 0:
            _rows_times(h_all, t - 1, lo, hi, w_hh_t, 1.0, xp, lo, t, scalars)
        for n in range(lo, hi):
            _rnn_row(xp[n, t], bias, h_all[n, t], hidden)


@njit(**_FAST)
def _lstm_row(g, bias, cprev, cout, hout, scale, shift, hidden):
    for j in range(4 * hidden):
        g[j] = fast_tanh((g[j] + bias[j]) * scale[j]) * scale[j] + shift[j]
    for j in range(hidden):
        cv = g[hidden + j] * cprev[j] + g[j] * g[2 * hidden + j]
        cout[j] = cv
        hout[j] = g[3 * hidden + j] * fast_tanh(cv)


@njit(**_FAST)
def _lstm_block(lo, hi, gates, bias, w_hh_t, h_all, c_all):
    """``gates``: W_ih x_t on entry, the gate activations on exit; ``bias`` is b_ih + b_hh."""
    _, steps, hidden = h_all.shape
    size = 4 * hidden
    # sigmoid(a) = 0.5 tanh(0.5 a) + 0.5: one vector loop serves all four gates.
    scale = np.full(size, _HALF)
    scale[2 * hidden : 3 * hidden] = _ONE
    shift = np.full(size, _HALF)
    shift[2 * hidden : 3 * hidden] = 0.0
    zero_row = np.zeros(hidden, dtype=np.float32)
    scalars = np.empty(2, np.float32)
    for t in range(steps):
        if t > 0:
            _rows_times(h_all, t - 1, lo, hi, w_hh_t, 1.0, gates, lo, t, scalars)
        for n in range(lo, hi):
            cprev = c_all[n, t - 1] if t > 0 else zero_row
            _lstm_row(gates[n, t], bias, cprev, c_all[n, t], h_all[n, t], scale, shift, hidden)


@njit(**_FAST)
def _gru_row(xr, hr, bias, b_hh, hprev, g, hnout, hout, hidden):
    for j in range(2 * hidden):
        g[j] = fast_sigmoid(xr[j] + hr[j] + bias[j])
    for j in range(hidden):
        hn = hr[2 * hidden + j] + b_hh[2 * hidden + j]
        nv = fast_tanh(xr[2 * hidden + j] + bias[2 * hidden + j] + g[j] * hn)
        z = g[hidden + j]
        g[2 * hidden + j] = nv
        hnout[j] = hn
        hout[j] = (_ONE - z) * nv + z * hprev[j]


@njit(**_FAST)
def _gru_block(lo, hi, xp, bias, w_hh_t, b_hh, h_all, gates, hn_all):
    """``bias`` is b_ih + b_hh for r and z, b_in for n (b_hn goes inside r * (W_hn h + b_hn))."""
    _, steps, hidden = h_all.shape
    size = 3 * hidden
    # W_hn h must stay apart from W_in x (r scales it), so this product has its own buffer.
    hh = np.zeros((hi - lo, 1, size), dtype=np.float32)
    zero_row = np.zeros(hidden, dtype=np.float32)
    scalars = np.empty(2, np.float32)
    for t in range(steps):
        if t > 0:
            _rows_times(h_all, t - 1, lo, hi, w_hh_t, 0.0, hh, 0, 0, scalars)
        for n in range(lo, hi):
            hprev = h_all[n, t - 1] if t > 0 else zero_row
            g, hr = gates[n, t], hh[n - lo, 0]
            _gru_row(xp[n, t], hr, bias, b_hh, hprev, g, hn_all[n, t], h_all[n, t], hidden)


@njit(parallel=True, cache=True)
def _rnn_parallel(xp, bias, w_hh_t, h_all, chunks):
    n_batch = h_all.shape[0]
    for part in prange(chunks):
        lo, hi = part * n_batch // chunks, (part + 1) * n_batch // chunks
        _rnn_block(lo, hi, xp, bias, w_hh_t, h_all)


@njit(parallel=True, cache=True)
def _lstm_parallel(gates, bias, w_hh_t, h_all, c_all, chunks):
    n_batch = h_all.shape[0]
    for part in prange(chunks):
        lo, hi = part * n_batch // chunks, (part + 1) * n_batch // chunks
        _lstm_block(lo, hi, gates, bias, w_hh_t, h_all, c_all)


@njit(parallel=True, cache=True)
def _gru_parallel(xp, bias, w_hh_t, b_hh, h_all, gates, hn_all, chunks):
    n_batch = h_all.shape[0]
    for part in prange(chunks):
        lo, hi = part * n_batch // chunks, (part + 1) * n_batch // chunks
        _gru_block(lo, hi, xp, bias, w_hh_t, b_hh, h_all, gates, hn_all)


# -- backward time loops ---------------------------------------------------------------------
# Each fills d_in (N, T, G*H), the error at the gate pre-activations on the input side; GRU also
# fills d_hid, the hidden side, which differs from d_in in the n gate (there it is scaled by r).
# Same split as forward: a thread carries its rows back through all steps, and the product
# carrying the error to h_{t-1} reads this step's rows of d_in (or d_hid) in place. ``keep`` is
# 1 with flow through time and 0 without.


@njit(**_FAST)
def _rnn_back_row(h, dr, dhn, a, hidden):
    for j in range(hidden):
        a[j] = (dr[j] + dhn[j]) * (_ONE - h[j] * h[j])


@njit(**_FAST)
def _rnn_back_block(lo, hi, dh_out, h_all, w_hh, d_in, through_time):
    _, steps, hidden = h_all.shape
    dh_next = np.zeros((hi - lo, 1, hidden), dtype=np.float32)
    scalars = np.empty(2, np.float32)
    for t in range(steps - 1, -1, -1):
        for n in range(lo, hi):
            _rnn_back_row(h_all[n, t], dh_out[n, t], dh_next[n - lo, 0], d_in[n, t], hidden)
        if through_time and t > 0:
            _rows_times(d_in, t, lo, hi, w_hh, 0.0, dh_next, 0, 0, scalars)


@njit(**_FAST)
def _lstm_back_row(g, c, cprev, dr, dhn, dcn, a, keep, hidden):
    for j in range(hidden):
        gi, gf, gg, go = g[j], g[hidden + j], g[2 * hidden + j], g[3 * hidden + j]
        tc = fast_tanh(c[j])
        dh = dr[j] + dhn[j]
        dc = dcn[j] + dh * go * (_ONE - tc * tc)
        a[j] = dc * gg * gi * (_ONE - gi)
        a[hidden + j] = dc * cprev[j] * gf * (_ONE - gf)
        a[2 * hidden + j] = dc * gi * (_ONE - gg * gg)
        a[3 * hidden + j] = dh * tc * go * (_ONE - go)
        dcn[j] = dc * gf * keep


@njit(**_FAST)
def _lstm_back_block(lo, hi, dh_out, c_all, gates, w_hh, d_in, through_time):
    _, steps, hidden = c_all.shape
    dh_next = np.zeros((hi - lo, 1, hidden), dtype=np.float32)
    dc_next = np.zeros((hi - lo, hidden), dtype=np.float32)
    zero_row = np.zeros(hidden, dtype=np.float32)
    keep = _ONE if through_time else np.float32(0.0)
    scalars = np.empty(2, np.float32)
    for t in range(steps - 1, -1, -1):
        for n in range(lo, hi):
            cprev = c_all[n, t - 1] if t > 0 else zero_row
            dhn, dcn = dh_next[n - lo, 0], dc_next[n - lo]
            g, c, dr, a = gates[n, t], c_all[n, t], dh_out[n, t], d_in[n, t]
            _lstm_back_row(g, c, cprev, dr, dhn, dcn, a, keep, hidden)
        if through_time and t > 0:
            _rows_times(d_in, t, lo, hi, w_hh, 0.0, dh_next, 0, 0, scalars)


@njit(**_FAST)
def _gru_back_row(g, hnr, hprev, dr, dhn, di, dd, keep, hidden):
    for j in range(hidden):
        r, z, nv = g[j], g[hidden + j], g[2 * hidden + j]
        dh = dr[j] + dhn[j]
        an = dh * (_ONE - z) * (_ONE - nv * nv)
        az = dh * (hprev[j] - nv) * z * (_ONE - z)
        ar = an * hnr[j] * r * (_ONE - r)
        di[j] = ar
        di[hidden + j] = az
        di[2 * hidden + j] = an
        dd[j] = ar
        dd[hidden + j] = az
        dd[2 * hidden + j] = an * r
        dhn[j] = dh * z * keep  # the direct path h_{t-1} -> h_t


@njit(**_FAST)
def _gru_back_block(lo, hi, dh_out, h_all, gates, hn_all, w_hh, d_in, d_hid, through_time):
    _, steps, hidden = h_all.shape
    dh_next = np.zeros((hi - lo, 1, hidden), dtype=np.float32)
    zero_row = np.zeros(hidden, dtype=np.float32)
    keep = _ONE if through_time else np.float32(0.0)
    scalars = np.empty(2, np.float32)
    for t in range(steps - 1, -1, -1):
        for n in range(lo, hi):
            hprev = h_all[n, t - 1] if t > 0 else zero_row
            g, hnr, dr, dhn = gates[n, t], hn_all[n, t], dh_out[n, t], dh_next[n - lo, 0]
            _gru_back_row(g, hnr, hprev, dr, dhn, d_in[n, t], d_hid[n, t], keep, hidden)
        if through_time and t > 0:
            # adds the path through the gates to the direct one the row pass left there
            _rows_times(d_hid, t, lo, hi, w_hh, 1.0, dh_next, 0, 0, scalars)


@njit(parallel=True, cache=True)
def _rnn_back_parallel(dh_out, h_all, w_hh, d_in, through_time, chunks):
    n_batch = h_all.shape[0]
    for part in prange(chunks):
        lo, hi = part * n_batch // chunks, (part + 1) * n_batch // chunks
        _rnn_back_block(lo, hi, dh_out, h_all, w_hh, d_in, through_time)


@njit(parallel=True, cache=True)
def _lstm_back_parallel(dh_out, c_all, gates, w_hh, d_in, through_time, chunks):
    n_batch = c_all.shape[0]
    for part in prange(chunks):
        lo, hi = part * n_batch // chunks, (part + 1) * n_batch // chunks
        _lstm_back_block(lo, hi, dh_out, c_all, gates, w_hh, d_in, through_time)


@njit(parallel=True, cache=True)
def _gru_back_parallel(dh_out, h_all, gates, hn_all, w_hh, d_in, d_hid, through_time, chunks):
    n_batch = h_all.shape[0]
    for part in prange(chunks):
        lo, hi = part * n_batch // chunks, (part + 1) * n_batch // chunks
        _gru_back_block(lo, hi, dh_out, h_all, gates, hn_all, w_hh, d_in, d_hid, through_time)


# -- public API ------------------------------------------------------------------------------
def _run(block, parallel, chunks: int, n_batch: int, *args) -> None:
    """One thread: call the serial block directly (a parallel region wakes every worker)."""
    if chunks == 1:
        block(0, n_batch, *args)
    else:
        parallel(*args, chunks)


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _bias(b: np.ndarray | None, size: int) -> np.ndarray:
    return np.zeros(size, np.float32) if b is None else _f32(b)


def recurrent_forward(
    cell: str,
    x: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray | None = None,
    b_hh: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Run ``cell`` over x (N, T, F); return (h (N, T, H), saved) where ``saved`` feeds backward."""
    if cell not in CELL_GATES:
        raise ValueError(f"unknown recurrent cell {cell!r}")
    x = _f32(x)
    n_batch, steps, features = x.shape
    size = w_ih.shape[0]
    hidden = size // CELL_GATES[cell]
    w_hh_t = _f32(_f32(w_hh).T)
    bh = _bias(b_hh, size)
    h_all = np.empty((n_batch, steps, hidden), np.float32)
    chunks = num_threads(n_batch)
    # The linear kernels and kernel_blas_single_threaded keep BLAS on one thread: idle
    # multi-threaded BLAS workers spinning after a call would steal the cores from the loop.
    # The biases are added in the loop's row pass, which reads every element anyway.
    xp = linear_forward(x.reshape(n_batch * steps, features), w_ih, None)
    xp = xp.reshape(n_batch, steps, size)
    bias = _bias(b_ih, size) + bh
    kernel_blas_single_threaded()
    if cell == "rnn":
        _run(_rnn_block, _rnn_parallel, chunks, n_batch, xp, bias, w_hh_t, h_all)
        return h_all, (x, h_all)
    if cell == "lstm":
        # the loop adds W_hh h_{t-1} into xp in place and leaves the gate activations there
        c_all = np.empty_like(h_all)
        _run(_lstm_block, _lstm_parallel, chunks, n_batch, xp, bias, w_hh_t, h_all, c_all)
        return h_all, (x, h_all, c_all, xp)
    bias[2 * hidden :] = _bias(b_ih, size)[2 * hidden :]
    gates = np.empty((n_batch, steps, size), np.float32)
    hn_all = np.empty_like(h_all)
    args = (xp, bias, w_hh_t, bh, h_all, gates, hn_all)
    _run(_gru_block, _gru_parallel, chunks, n_batch, *args)
    return h_all, (x, h_all, gates, hn_all)


def recurrent_gate_errors(
    cell: str,
    dh: np.ndarray,
    saved: tuple[np.ndarray, ...],
    w_hh: np.ndarray,
    through_time: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """BPTT down to the gates: (d_in, d_hid), each (N, T, G*H).

    ``d_in`` is the error at the gate pre-activations on the input side (W_ih x + b_ih),
    ``d_hid`` on the hidden side (W_hh h + b_hh); they differ only in GRU's n gate.
    """
    h_all = saved[1]
    dh = _f32(dh)
    w_hh = _f32(w_hh)
    n_batch, steps, _ = h_all.shape
    size = w_hh.shape[0]
    d_in = np.empty((n_batch, steps, size), np.float32)
    d_hid = d_in
    chunks = num_threads(n_batch)
    tt = bool(through_time)
    kernel_blas_single_threaded()
    if cell == "rnn":
        _run(_rnn_back_block, _rnn_back_parallel, chunks, n_batch, dh, h_all, w_hh, d_in, tt)
    elif cell == "lstm":
        c_all, gates = saved[2], saved[3]
        _run(
            _lstm_back_block, _lstm_back_parallel, chunks, n_batch, dh, c_all, gates, w_hh, d_in, tt
        )
    else:
        d_hid = np.empty_like(d_in)
        args = (dh, h_all, saved[2], saved[3], w_hh, d_in, d_hid, tt)
        _run(_gru_back_block, _gru_back_parallel, chunks, n_batch, *args)
    return d_in, d_hid


@njit(**_FAST)
def _add_row(acc, row, lo, hi):
    for j in range(lo, hi):
        acc[j] += row[j]


@njit(cache=True)
def _grad_block(d, x, dw, db, lo, hi, shift, steps, scalars):
    """dw[lo:hi] = d[shift:, lo:hi]^T x[:rows - shift] and db[lo:hi] = column sums of d.

    With ``shift = 1`` (d and x both (N*T, .) in sample-major order) this pairs each step's
    gate error with the previous step's input; the first step of every sample then meets the
    last state of the sample before it, which is taken out again with a second small GEMM.
    """
    rows, size = d.shape
    cols = x.shape[1]
    df, xf, wf = d.reshape(-1), x.reshape(-1), dw.reshape(-1)
    m = hi - lo
    gemm(
        True,
        False,
        m,
        cols,
        rows - shift,
        df[shift * size + lo :],
        size,
        xf,
        cols,
        0.0,
        wf[lo * cols :],
        cols,
        scalars,
    )
    if shift:
        n_batch = rows // steps
        if n_batch > 1:
            # rows t = 0 of samples 1.. (stride steps * size) times the last state of the
            # samples before them (stride steps * cols); subtracted via a scratch product.
            fix = np.empty((m, cols), np.float32)
            gemm(
                True,
                False,
                m,
                cols,
                n_batch - 1,
                df[steps * size + lo :],
                steps * size,
                xf[(steps - 1) * cols :],
                steps * cols,
                0.0,
                fix.reshape(-1),
                cols,
                scalars,
            )
            for i in range(m):
                for j in range(cols):
                    dw[lo + i, j] -= fix[i, j]
    db[lo:hi] = 0.0
    for r in range(rows):
        _add_row(db, d[r], lo, hi)


@njit(cache=True, parallel=True)
def _grad_parallel(d, x, dw, db, shift, steps, threads):
    scalars = np.empty((threads, 2), np.float32)
    size = d.shape[1]
    for part in prange(threads):
        # blocks of gate rows, multiples of 16 so every thread starts on a cache line
        lo = min(size, (part * size // threads + 15) // 16 * 16)
        hi = (
            size
            if part == threads - 1
            else min(size, ((part + 1) * size // threads + 15) // 16 * 16)
        )
        if hi > lo:
            _grad_block(d, x, dw, db, lo, hi, shift, steps, scalars[part])


def _weight_grad(d: np.ndarray, x: np.ndarray, shift: int, steps: int):
    """(d[shift:]^T x[:-shift] without cross-sample pairs, column sums of d); d, x 2-D."""
    size, cols = d.shape[1], x.shape[1]
    dw = np.empty((size, cols), np.float32)
    db = np.empty(size, np.float32)
    kernel_blas_single_threaded()
    threads = num_threads(size // 16, d.shape[0] * size * cols)
    if threads == 1:
        _grad_block(d, x, dw, db, 0, size, shift, steps, np.empty(2, np.float32))
    else:
        _grad_parallel(d, x, dw, db, shift, steps, threads)
    return dw, db


@njit(**_FAST)
def _inputs_block(lo, hi, x, h_all, out):
    """Rows [lo, hi) of out (N*T, F + H): x_t beside h_{t-1} (zero at t = 0)."""
    _, steps, features = x.shape
    for n in range(lo, hi):
        for t in range(steps):
            row = out[n * steps + t]
            row[:features] = x[n, t]
            if t > 0:
                row[features:] = h_all[n, t - 1]
            else:
                row[features:] = 0.0


@njit(parallel=True, cache=True)
def _inputs_parallel(x, h_all, out, chunks):
    n_batch = x.shape[0]
    for part in prange(chunks):
        lo, hi = part * n_batch // chunks, (part + 1) * n_batch // chunks
        _inputs_block(lo, hi, x, h_all, out)


def recurrent_weight_grads(
    saved: tuple[np.ndarray, ...], d_in: np.ndarray, d_hid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(dw_ih, dw_hh, db_ih, db_hh) from the gate errors: GEMMs over all steps at once."""
    x, h_all = saved[0], saved[1]
    n_batch, steps, features = x.shape
    hidden = h_all.shape[2]
    rows = n_batch * steps
    size = d_in.shape[2]
    if d_hid is d_in:
        # One GEMM d^T [x_t, h_{t-1}] for both weights: the transposed product with F (often
        # about 64) columns ran at 38 GFLOP/s against 69 for F + H columns.
        inputs = np.empty((rows, features + hidden), np.float32)
        chunks = num_threads(n_batch, rows * (features + hidden))
        _run(_inputs_block, _inputs_parallel, chunks, n_batch, x, h_all, inputs)
        dw, db = _weight_grad(d_in.reshape(rows, size), inputs, 0, steps)
        dw_ih, dw_hh = (
            np.ascontiguousarray(dw[:, :features]),
            np.ascontiguousarray(dw[:, features:]),
        )
        return dw_ih, dw_hh, db, db.copy()
    dw_ih, db_ih = _weight_grad(d_in.reshape(rows, size), x.reshape(rows, features), 0, steps)
    # W_hh meets h_{t-1}: the gate errors one row on against the states (zero initial state).
    dw_hh, db_hh = _weight_grad(d_hid.reshape(rows, size), h_all.reshape(rows, hidden), 1, steps)
    return dw_ih, dw_hh, db_ih, db_hh


def recurrent_input_error(d_in: np.ndarray, w_ih: np.ndarray) -> np.ndarray:
    """dx (N, T, F) = d_in W_ih; pass a fixed random array for ``w_ih`` to get FA's error."""
    n_batch, steps, size = d_in.shape
    dx = linear_backward_data(d_in.reshape(n_batch * steps, size), w_ih)
    return dx.reshape(n_batch, steps, -1)


def recurrent_backward(
    cell: str,
    dh: np.ndarray,
    saved: tuple[np.ndarray, ...],
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    through_time: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward of ``recurrent_forward``.

    ``dh`` (N, T, H) is dL/dh_t at every step (zeros where the loss does not read h_t). Returns
    (dx, dw_ih, dw_hh, db_ih, db_hh). With ``through_time=False`` each step's error stays in
    that step (no BPTT).
    """
    d_in, d_hid = recurrent_gate_errors(cell, dh, saved, w_hh, through_time)
    return (recurrent_input_error(d_in, w_ih), *recurrent_weight_grads(saved, d_in, d_hid))
