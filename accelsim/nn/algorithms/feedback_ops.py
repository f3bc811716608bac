"""Structured DFA feedback operators: sparse (CSR), dilated-convolution, grouped, per time step.

Plain DFA draws a dense B (units x K) per layer. The operators here store less and compute less,
and each one equals an explicit dense B built from the same parameters (``dense_matrix``), which
is how the tests check them. docs/dfa-extensions.md writes them down as equations.

- ``CSRFeedback``: ``d = B e`` with B a random sparse matrix of a given density (linear layers).
- ``DilatedConvFeedback`` (conv layers): e is tiled into a d x d map and convolved with a
  dilated kernel F (C, K, n_y, n_x) whose taps sit every d-th position. Each d x d block of
  output positions therefore reads one tap: ``d[c, y, x] = sum_k F[c, k, y//d, x//d] e_k``.
  The stored kernel is 1/d^2 of the dense projection (d = 1 gives the dense projection
  exactly); ``groups`` = G further splits channels and classes into G groups (group-conv
  error propagation), so each channel reads only the classes of its group: 1/G of the weights
  and multiply-adds.
- ``SequenceFeedback`` (recurrent and per-step linear layers): one B (H x S), dense or CSR,
  shared by all time steps; a per-step signal (N, T, S) gives B e_t at step t, a single signal
  (N, S) is injected at every step.
- ``PooledSignal``: lets any operator read a feature-map signal (a conv module's top error in
  modular DFA) by averaging it over space first.
"""

from __future__ import annotations

import math

import numpy as np

# the dilation rule is shared with the simulator's cost of this operator
from accelsim.config.feedback_geometry import dilation_for
from accelsim.nn.algorithms.feedback import (
    DenseFeedback,
    FeedbackOperator,
    feedback_std,
    gaussian,
)
from accelsim.nn.kernels.linear import matmul
from accelsim.nn.kernels.sparse import CSRMatrix, dense_csr_t, random_csr
from accelsim.nn.kernels.upsample import block_upsample

OUTPUT = "output"  # the output-error signal (same name as accelsim.nn.algorithms.plan.OUTPUT)


def _rows(signal: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(signal.reshape(signal.shape[0], -1), dtype=np.float32)


def operator_bytes(op: FeedbackOperator) -> int:
    """Bytes the operator's fixed arrays occupy as float32 values (plus CSR indices)."""
    if hasattr(op, "size_bytes"):
        return int(op.size_bytes)
    return int(sum(array.nbytes for array in op.arrays().values()))


def operator_density(op: FeedbackOperator, signal_size: int) -> float:
    """Stored feedback weights / weights of the dense projection onto the same target."""
    if hasattr(op, "density"):
        return float(op.density)
    stored = sum(array.size for array in op.arrays().values())
    return stored / max(1, math.prod(op.target_shape) * signal_size)


class CSRFeedback(FeedbackOperator):
    """``d = B e`` with B (prod(target_shape), K) stored and applied in CSR form."""

    def __init__(self, matrix: CSRMatrix, target_shape: tuple[int, ...]) -> None:
        if matrix.shape[0] != math.prod(target_shape):
            raise ValueError(f"B has {matrix.shape[0]} rows for a target of {target_shape}")
        self.matrix = matrix
        self.target_shape = tuple(target_shape)

    def apply(self, signal: np.ndarray) -> np.ndarray:
        out = dense_csr_t(_rows(signal), self.matrix)
        return out.reshape(signal.shape[0], *self.target_shape)

    def arrays(self) -> dict[str, np.ndarray]:
        m = self.matrix
        return {"data": m.data, "indices": m.indices, "indptr": m.indptr}

    def dense_matrix(self) -> np.ndarray:
        return self.matrix.to_dense()

    @property
    def density(self) -> float:
        return self.matrix.density

    @property
    def size_bytes(self) -> int:
        return self.matrix.size_bytes


def class_groups(classes: int, groups: int) -> list[np.ndarray]:
    """Class k belongs to group k mod G: every group gets floor or ceil of K/G classes."""
    return [np.arange(g, classes, groups) for g in range(groups)]


class DilatedConvFeedback(FeedbackOperator):
    """Conv-layer feedback as a dilated (and optionally grouped) convolution of the tiled error.

    ``kernel`` is F (C, K, *n) with n_i = ceil(S_i / d_i) taps per spatial dimension; entries
    outside a channel's class group are zero and not counted as stored. ``apply`` computes the
    n-sized map by one small GEMM per group and repeats each tap over its d x d block.
    """

    def __init__(
        self,
        kernel: np.ndarray,
        dilation: tuple[int, ...],
        groups: int,
        target_shape: tuple[int, ...],
    ) -> None:
        channels, classes, *taps = kernel.shape
        spatial = target_shape[1:]
        if channels != target_shape[0] or len(taps) != len(spatial) or channels % groups:
            raise ValueError(f"kernel {kernel.shape} does not fit target {target_shape}")
        if any(n != -(-s // d) for n, s, d in zip(taps, spatial, dilation, strict=True)):
            raise ValueError(f"kernel taps {taps} do not cover {spatial} at dilation {dilation}")
        self.kernel = np.ascontiguousarray(kernel, dtype=np.float32)
        self.dilation = tuple(int(d) for d in dilation)
        self.groups = int(groups)
        self.target_shape = tuple(target_shape)
        self.classes = classes
        self._class_groups = class_groups(classes, groups)
        per = channels // groups
        tap_count = math.prod(taps)
        # group g: (|K_g|, per * taps) so the n-sized map of its channels is one GEMM
        self._blocks = [
            np.ascontiguousarray(
                self.kernel[g * per : (g + 1) * per][:, ks]
                .transpose(1, 0, *range(2, 2 + len(taps)))
                .reshape(len(ks), per * tap_count)
            )
            for g, ks in enumerate(self._class_groups)
        ]

    @property
    def taps(self) -> tuple[int, ...]:
        return tuple(self.kernel.shape[2:])

    def apply(self, signal: np.ndarray) -> np.ndarray:
        e = _rows(signal)
        n = e.shape[0]
        channels = self.target_shape[0]
        small = np.empty((n, channels, *self.taps), np.float32)
        flat = small.reshape(n, self.groups, -1)
        for g, ks in enumerate(self._class_groups):
            # NumPy's multi-threaded BLAS on these K = |classes of g| products took 30 ms
            # instead of 1 on the loaded 2-core machine (VGG-16 conv1_2, batch 16)
            flat[:, g] = matmul(e[:, ks], self._blocks[g])
        spatial = self.target_shape[1:]
        if len(spatial) <= 2:
            return block_upsample(small, self.dilation, spatial)
        out = small  # 3-D maps: no kernel of their own (no workload has them)
        for axis, d in enumerate(self.dilation, start=2):
            if d > 1:
                out = np.repeat(out, d, axis=axis)
        crop = tuple(slice(0, size) for size in spatial)
        return np.ascontiguousarray(out[(slice(None), slice(None), *crop)])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"F": self.kernel}

    def dense_matrix(self) -> np.ndarray:
        """The explicit B (C * prod(S), K) this operator applies."""
        channels, classes = self.kernel.shape[:2]
        spatial = self.target_shape[1:]
        index = np.meshgrid(
            *[np.arange(s) // d for s, d in zip(spatial, self.dilation, strict=True)], indexing="ij"
        )
        mask = self.class_mask()  # (C, K)
        full = self.kernel[(slice(None), slice(None), *index)]  # (C, K, *S)
        full = full * mask.reshape(channels, classes, *([1] * len(spatial)))
        return np.ascontiguousarray(np.moveaxis(full, 1, -1).reshape(-1, classes))

    def class_mask(self) -> np.ndarray:
        channels = self.kernel.shape[0]
        per = channels // self.groups
        mask = np.zeros((channels, self.classes), bool)
        for g, ks in enumerate(self._class_groups):
            mask[g * per : (g + 1) * per, ks] = True
        return mask

    @property
    def stored_weights(self) -> int:
        return int(self.class_mask().sum()) * math.prod(self.taps)

    @property
    def density(self) -> float:
        return self.stored_weights / (math.prod(self.target_shape) * self.classes)

    @property
    def size_bytes(self) -> int:
        return 4 * self.stored_weights


class SequenceFeedback(FeedbackOperator):
    """Per-step injection with one B (H, S) shared over time, dense (ndarray) or CSR."""

    def __init__(self, matrix: np.ndarray | CSRMatrix, target_shape: tuple[int, int]) -> None:
        rows = matrix.shape[0]
        if rows != target_shape[-1]:
            raise ValueError(f"B has {rows} rows for {target_shape[-1]} units per step")
        self.matrix = (
            matrix if isinstance(matrix, CSRMatrix) else np.ascontiguousarray(matrix, np.float32)
        )
        self.target_shape = tuple(target_shape)  # (T, H)

    def _project(self, rows: np.ndarray) -> np.ndarray:
        if isinstance(self.matrix, CSRMatrix):
            return dense_csr_t(rows, self.matrix)
        return rows @ self.matrix.T

    def apply(self, signal: np.ndarray) -> np.ndarray:
        n = signal.shape[0]
        steps, units = self.target_shape
        if signal.ndim == 3 and signal.shape[1] == steps:
            rows = np.ascontiguousarray(signal.reshape(n * steps, -1), dtype=np.float32)
            return self._project(rows).reshape(n, steps, units)
        once = self._project(_rows(signal))
        return np.ascontiguousarray(np.broadcast_to(once[:, None, :], (n, steps, units)))

    def arrays(self) -> dict[str, np.ndarray]:
        m = self.matrix
        if isinstance(m, CSRMatrix):
            return {"data": m.data, "indices": m.indices, "indptr": m.indptr}
        return {"B": m}

    def dense_matrix(self) -> np.ndarray:
        return self.matrix.to_dense() if isinstance(self.matrix, CSRMatrix) else self.matrix

    @property
    def density(self) -> float:
        m = self.matrix
        return m.density if isinstance(m, CSRMatrix) else 1.0

    @property
    def size_bytes(self) -> int:
        m = self.matrix
        return m.size_bytes if isinstance(m, CSRMatrix) else m.nbytes


class PooledSignal(FeedbackOperator):
    """Feeds ``inner`` the spatial mean of a feature-map signal (N, C, *S) -> (N, C)."""

    def __init__(self, inner: FeedbackOperator, spatial_axes: int) -> None:
        self.inner = inner
        self.spatial_axes = spatial_axes
        self.target_shape = inner.target_shape

    def apply(self, signal: np.ndarray) -> np.ndarray:
        axes = tuple(range(2, 2 + self.spatial_axes))
        return self.inner.apply(signal.mean(axis=axes, dtype=np.float32))

    def arrays(self) -> dict[str, np.ndarray]:
        return self.inner.arrays()

    @property
    def density(self) -> float:
        return float(getattr(self.inner, "density", 1.0))

    @property
    def size_bytes(self) -> int:
        return operator_bytes(self.inner)


# -- operator factories used by the plan builders ---------------------------------------------
def is_sequence_layer(layer) -> bool:
    """Recurrent layers and per-step linear layers take one error per time step."""
    return layer.spec.kind == "recurrent" or bool(layer.spec.per_step)


def _signal_layer_kind(ctx, signal: str) -> str:
    """The kind of the layer a signal comes from; a batchnorm on a feature map counts as a
    conv (its error is a feature map too)."""
    if signal == OUTPUT:
        return "output"
    layer = ctx.layers[ctx.index(signal)]
    return "conv" if is_feature_map(layer) else layer.spec.kind


def is_feature_map(layer) -> bool:
    """A conv layer, or a batchnorm/add/concat/dropout on a (C, L) or (C, H, W) feature map
    (DFA's conv forms of B apply to it)."""
    kind = layer.spec.kind
    if kind == "conv":
        return True
    return kind in ("batchnorm", "add", "concat", "dropout") and len(layer.output_shape) >= 2


def sequence_operator(ctx, layer, signal: str, density: float = 1.0, purpose: str = "dfa"):
    """Time-shared B (units, S) for a recurrent or per-step layer (CSR when density < 1)."""
    steps = layer.spec.input_shape[0]
    units = layer.output_shape[-1]
    shape = ctx.signal_shape(signal)
    per_step = len(shape) == 2 and shape[0] == steps and _signal_layer_kind(ctx, signal) != "conv"
    k = shape[-1] if per_step else math.prod(shape)
    rng = ctx.rng(purpose, layer)
    if density >= 1.0:
        matrix = gaussian(rng, (units, k), feedback_std(ctx.feedback.scale, k))
    else:
        nnz_per_row = max(1, round(density * k))
        matrix = random_csr(units, k, density, rng, feedback_std(ctx.feedback.scale, nnz_per_row))
    return SequenceFeedback(matrix, (steps, units))


def extension_operator(
    ctx, layer, signal: str, density: float = 1.0, groups: int = 1, purpose: str = "dfa"
) -> FeedbackOperator:
    """The feedback operator of the DFA extensions for one layer (docs/dfa-extensions.md).

    Dense and ungrouped it is plain DFA's own operator (so one module reproduces DFA exactly);
    otherwise CSR for linear layers, a dilated grouped convolution for conv layers and a
    time-shared (CSR) B for recurrent layers. A feature-map signal is averaged over space.
    """
    from accelsim.nn.algorithms.dfa import dfa_operator

    if is_sequence_layer(layer):
        return sequence_operator(ctx, layer, signal, density, purpose)
    shape = ctx.signal_shape(signal)
    pooled = _signal_layer_kind(ctx, signal) == "conv"
    if not pooled and density >= 1.0 and groups == 1:
        return dfa_operator(ctx, layer, signal, purpose)
    k = shape[0] if pooled else math.prod(shape)
    rng = ctx.rng(purpose, layer)
    target = layer.output_shape
    scale = ctx.feedback.scale
    if is_feature_map(layer):
        channels, spatial = target[0], target[1:]
        dilation = dilation_for(density, spatial)
        taps = tuple(-(-s // d) for s, d in zip(spatial, dilation, strict=True))
        drawn = gaussian(rng, (channels * math.prod(taps), k), feedback_std(scale, k))
        kernel = np.moveaxis(drawn.reshape(channels, *taps, k), -1, 1)
        if scale == "fan_in" and groups > 1:  # each channel sums over its group's classes only
            per = channels // groups
            for g, ks in enumerate(class_groups(k, groups)):
                kernel[g * per : (g + 1) * per] *= np.float32(math.sqrt(k / max(1, len(ks))))
        op: FeedbackOperator = DilatedConvFeedback(kernel, dilation, groups, target)
    elif density >= 1.0:
        op = DenseFeedback(gaussian(rng, (math.prod(target), k), feedback_std(scale, k)), target)
    else:
        nnz_per_row = max(1, round(density * k))
        op = CSRFeedback(
            random_csr(math.prod(target), k, density, rng, feedback_std(scale, nnz_per_row)),
            target,
        )
    return PooledSignal(op, len(shape) - 1) if pooled else op
