"""Recurrent cells (tanh RNN, LSTM, GRU): forward and backward-through-time, float32.

A recurrent layer reads a batch-first sequence x (N, T, F) from a zero initial state and returns
every hidden state h (N, T, H). Parameters use PyTorch's layouts: ``w_ih`` (G*H, F), ``w_hh``
(G*H, H), ``b_ih`` and ``b_hh`` (G*H,), with G = 1 (rnn), 4 (lstm: gates i, f, g, o) or 3
(gru: gates r, z, n, and n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) exactly as PyTorch).

The input projections of all steps are one GEMM (N*T, F) x (F, G*H) before the time loop. The
loop is one numba function: at each step every thread takes a block of batch rows, multiplies
its rows of h_{t-1} by W_hh^T (a single-threaded BLAS call) and applies the gate maths to them.
Backward mirrors it with a per-step (rows, G*H) x (G*H, H) product carrying the error to the
previous step; the weight gradients of all steps are again single GEMMs after the loop.

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


# -- forward time loops ----------------------------------------------------------------------
# xp (N, T, G*H) holds W_ih x_t + b_ih for every step; the loops add W_hh h_{t-1} + b_hh.
# Batch rows never interact, so each thread runs its own block of rows [lo, hi) through all
# steps: no synchronisation per step (waking the passive OpenMP workers cost about 50 us per
# parallel region, 100 regions per pass). Each ``_*_block`` is serial; the ``_*_parallel``
# dispatchers hand one block to each thread.


@njit(**_FAST)
def _rnn_block(lo, hi, xp, w_hh_t, b_hh, h_all):
    _, steps, hidden = h_all.shape
    h = np.zeros((hi - lo, hidden), dtype=np.float32)
    hh = np.zeros((hi - lo, hidden), dtype=np.float32)
    for t in range(steps):
        if t > 0:
            np.dot(h, w_hh_t, hh)
        for n in range(lo, hi):
            xr, hr, hrow, out = xp[n, t], hh[n - lo], h[n - lo], h_all[n, t]
            for j in range(hidden):
                v = fast_tanh(xr[j] + hr[j] + b_hh[j])
                hrow[j] = v
                out[j] = v


@njit(**_FAST)
def _lstm_row(g, cprev, cout, hout, scale, shift, hidden):
    # A row's maths in its own function: inlined into the step loop, LLVM left it scalar
    # (6 ns an element instead of under 1).
    for j in range(4 * hidden):
        g[j] = fast_tanh(g[j] * scale[j]) * scale[j] + shift[j]
    for j in range(hidden):
        cv = g[hidden + j] * cprev[j] + g[j] * g[2 * hidden + j]
        cout[j] = cv
        hout[j] = g[3 * hidden + j] * fast_tanh(cv)


@njit(**_FAST)
def _lstm_block(lo, hi, gates, w_hh_t, h_all, c_all):
    """``gates`` holds W_ih x_t + b_ih + b_hh on entry and the gate activations on exit."""
    _, steps, hidden = h_all.shape
    size = 4 * hidden
    # sigmoid(a) = 0.5 tanh(0.5 a) + 0.5: one vector loop serves all four gates.
    scale = np.full(size, _HALF)
    scale[2 * hidden : 3 * hidden] = _ONE
    shift = np.full(size, _HALF)
    shift[2 * hidden : 3 * hidden] = 0.0
    zero_row = np.zeros(hidden, dtype=np.float32)
    scalars = np.empty(2, np.float32)
    gf, hf, wf = gates.reshape(-1), h_all.reshape(-1), w_hh_t.reshape(-1)
    for t in range(steps):
        if t > 0:
            # gates[lo:hi, t] += h_{t-1} W_hh^T, both read in place (rows steps apart)
            gemm(
                False,
                False,
                hi - lo,
                size,
                hidden,
                hf[(lo * steps + t - 1) * hidden :],
                steps * hidden,
                wf,
                size,
                1.0,
                gf[(lo * steps + t) * size :],
                steps * size,
                scalars,
            )
        for n in range(lo, hi):
            cprev = c_all[n, t - 1] if t > 0 else zero_row
            _lstm_row(gates[n, t], cprev, c_all[n, t], h_all[n, t], scale, shift, hidden)


@njit(**_FAST)
def _gru_block(lo, hi, xp, w_hh_t, b_hh, h_all, gates, hn_all):
    _, steps, hidden = h_all.shape
    h = np.zeros((hi - lo, hidden), dtype=np.float32)
    hh = np.zeros((hi - lo, 3 * hidden), dtype=np.float32)
    for t in range(steps):
        if t > 0:
            np.dot(h, w_hh_t, hh)
        for n in range(lo, hi):
            g, xr, hr = gates[n, t], xp[n, t], hh[n - lo]
            hrow, hout, hnout = h[n - lo], h_all[n, t], hn_all[n, t]
            for j in range(2 * hidden):
                g[j] = fast_sigmoid(xr[j] + hr[j] + b_hh[j])
            for j in range(hidden):
                hn = hr[2 * hidden + j] + b_hh[2 * hidden + j]
                nv = fast_tanh(xr[2 * hidden + j] + g[j] * hn)
                z = g[hidden + j]
                hv = (_ONE - z) * nv + z * hrow[j]
                g[2 * hidden + j] = nv
                hnout[j] = hn
                hrow[j] = hv
                hout[j] = hv


@njit(parallel=True, cache=True)
def _rnn_parallel(xp, w_hh_t, b_hh, h_all, chunks):
    n_batch = h_all.shape[0]
    for part in prange(chunks):
        _rnn_block(
            part * n_batch // chunks, (part + 1) * n_batch // chunks, xp, w_hh_t, b_hh, h_all
        )


@njit(parallel=True, cache=True)
def _lstm_parallel(gates, w_hh_t, h_all, c_all, chunks):
    n_batch = h_all.shape[0]
    for part in prange(chunks):
        lo, hi = part * n_batch // chunks, (part + 1) * n_batch // chunks
        _lstm_block(lo, hi, gates, w_hh_t, h_all, c_all)


@njit(parallel=True, cache=True)
def _gru_parallel(xp, w_hh_t, b_hh, h_all, gates, hn_all, chunks):
    n_batch = h_all.shape[0]
    for part in prange(chunks):
        lo, hi = part * n_batch // chunks, (part + 1) * n_batch // chunks
        _gru_block(lo, hi, xp, w_hh_t, b_hh, h_all, gates, hn_all)


# -- backward time loops ---------------------------------------------------------------------
# Each fills d_in (N, T, G*H), the error at the gate pre-activations on the input side; GRU also
# fills d_hid, the hidden side, which differs from d_in in the n gate (there it is scaled by r).
# Same split as forward: a thread carries its rows back through all steps.


@njit(**_FAST)
def _rnn_back_block(lo, hi, dh_out, h_all, w_hh, d_in, through_time):
    _, steps, hidden = h_all.shape
    dh_next = np.zeros((hi - lo, hidden), dtype=np.float32)
    da = np.empty((hi - lo, hidden), dtype=np.float32)
    for t in range(steps - 1, -1, -1):
        for n in range(lo, hi):
            hr, dr, dn, a, dout = h_all[n, t], dh_out[n, t], dh_next[n - lo], da[n - lo], d_in[n, t]
            for j in range(hidden):
                v = (dr[j] + dn[j]) * (_ONE - hr[j] * hr[j])
                a[j] = v
                dout[j] = v
        if through_time and t > 0:
            np.dot(da, w_hh, dh_next)


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
    size = 4 * hidden
    dh_next = np.zeros((hi - lo, hidden), dtype=np.float32)
    dc_next = np.zeros((hi - lo, hidden), dtype=np.float32)
    zero_row = np.zeros(hidden, dtype=np.float32)
    keep = _ONE if through_time else np.float32(0.0)
    scalars = np.empty(2, np.float32)
    df, wf, nf = d_in.reshape(-1), w_hh.reshape(-1), dh_next.reshape(-1)
    for t in range(steps - 1, -1, -1):
        for n in range(lo, hi):
            cprev = c_all[n, t - 1] if t > 0 else zero_row
            _lstm_back_row(
                gates[n, t],
                c_all[n, t],
                cprev,
                dh_out[n, t],
                dh_next[n - lo],
                dc_next[n - lo],
                d_in[n, t],
                keep,
                hidden,
            )
        if through_time and t > 0:
            # dh_next = d_in[lo:hi, t] W_hh, read in place (rows steps apart)
            gemm(
                False,
                False,
                hi - lo,
                hidden,
                size,
                df[(lo * steps + t) * size :],
                steps * size,
                wf,
                hidden,
                0.0,
                nf,
                hidden,
                scalars,
            )


@njit(**_FAST)
def _gru_back_block(lo, hi, dh_out, h_all, gates, hn_all, w_hh, d_in, d_hid, through_time):
    _, steps, hidden = h_all.shape
    dh_next = np.zeros((hi - lo, hidden), dtype=np.float32)
    direct = np.zeros((hi - lo, hidden), dtype=np.float32)
    da = np.empty((hi - lo, 3 * hidden), dtype=np.float32)
    zero_row = np.zeros(hidden, dtype=np.float32)
    for t in range(steps - 1, -1, -1):
        for n in range(lo, hi):
            g, hnr, di, dd, a = gates[n, t], hn_all[n, t], d_in[n, t], d_hid[n, t], da[n - lo]
            hprev = h_all[n, t - 1] if t > 0 else zero_row
            dr, dhn, drow = dh_out[n, t], dh_next[n - lo], direct[n - lo]
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
                a[j] = ar
                a[hidden + j] = az
                a[2 * hidden + j] = an * r
                drow[j] = dh * z
        if through_time and t > 0:
            np.dot(da, w_hh, dh_next)
            dh_next += direct


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
    # H1's linear kernels keep every BLAS call single-threaded: idle multi-threaded BLAS
    # workers spinning after a call would otherwise steal the cores from the time loop.
    w_hh_t = _f32(_f32(w_hh).T)
    bh = _bias(b_hh, size)
    h_all = np.empty((n_batch, steps, hidden), np.float32)
    chunks = num_threads(n_batch)
    if cell == "lstm":
        # both biases go in with the input projection, whose buffer then becomes the gates
        gates = linear_forward(x.reshape(n_batch * steps, features), w_ih, _bias(b_ih, size) + bh)
        gates = gates.reshape(n_batch, steps, size)
        c_all = np.empty_like(h_all)
        kernel_blas_single_threaded()
        _run(_lstm_block, _lstm_parallel, chunks, n_batch, gates, w_hh_t, h_all, c_all)
        return h_all, (x, h_all, c_all, gates)
    xp = linear_forward(x.reshape(n_batch * steps, features), w_ih, _bias(b_ih, size))
    xp = xp.reshape(n_batch, steps, size)
    kernel_blas_single_threaded()
    if cell == "rnn":
        _run(_rnn_block, _rnn_parallel, chunks, n_batch, xp, w_hh_t, bh, h_all)
        return h_all, (x, h_all)
    gates = np.empty((n_batch, steps, size), np.float32)
    hn_all = np.empty_like(h_all)
    _run(_gru_block, _gru_parallel, chunks, n_batch, xp, w_hh_t, bh, h_all, gates, hn_all)
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
    acc = db[lo:hi]
    acc[:] = 0.0
    for r in range(rows):
        row = d[r, lo:hi]
        for j in range(m):
            acc[j] += row[j]


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


def recurrent_weight_grads(
    saved: tuple[np.ndarray, ...], d_in: np.ndarray, d_hid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(dw_ih, dw_hh, db_ih, db_hh) from the gate errors: one GEMM each over all steps."""
    x, h_all = saved[0], saved[1]
    n_batch, steps, features = x.shape
    hidden = h_all.shape[2]
    rows = n_batch * steps
    size = d_in.shape[2]
    dw_ih, db_ih = _weight_grad(d_in.reshape(rows, size), x.reshape(rows, features), 0, steps)
    # W_hh meets h_{t-1}: the gate errors one row on against the states (zero initial state).
    dw_hh, db_hh = _weight_grad(d_hid.reshape(rows, size), h_all.reshape(rows, hidden), 1, steps)
    if d_hid is d_in:
        db_hh = db_ih.copy()
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
