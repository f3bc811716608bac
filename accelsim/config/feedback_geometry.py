"""Each fixed feedback operator as arithmetic: what B stores and what applying it costs.

The functional engine (``accelsim.nn.algorithms``) draws the feedback operators; the simulator's
lowering costs them. Both must mean the same operator, so the choice of form and its sizes live
here, computed from the layer shapes and the resolved settings alone (no arrays):

- ``direct_feedback`` (DFA and its extensions): for a target parameter layer and the error it
  reads (the output error, or a module top's error), the form of ``B`` (``dense``, ``conv``,
  ``csr``, ``dilated_conv``, ``sequence``, ``sequence_csr``; ``pooled_*`` when a conv top's error
  map is first averaged over space), its stored non-zero entries, the CSR index overhead, the
  multiply-adds per sample and the GEMMs that apply it.
- ``fa_feedback_entries`` (FA): the entries of the fixed arrays replacing a layer's weights.

The rules are those of docs/dfa-extensions.md and docs/algorithms.md; tests check them against
the operators the engine actually builds (tests/lowering/test_engine_agreement.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accelsim.config.extensions import ExtensionSettings

if TYPE_CHECKING:
    from accelsim.config.workload import LayerSpec

GATES = {"rnn": 1, "gru": 3, "lstm": 4}
BYTES_PER_VALUE = 4  # the engine holds B values and CSR indices as 4-byte numbers


@dataclass(frozen=True)
class FeedbackGemm:
    """``count`` GEMMs of shape (rows_per_sample * N, k, n) that apply part of B."""

    rows_per_sample: int
    k: int
    n: int
    count: int = 1

    @property
    def macs_per_sample(self) -> int:
        return self.rows_per_sample * self.k * self.n * self.count


@dataclass(frozen=True)
class DirectFeedback:
    """One layer's direct feedback operator ``d_l = B_l e`` (per sample figures)."""

    form: str  # dense | conv | csr | dilated_conv | sequence | sequence_csr, maybe pooled_
    error_width: int  # K: components of the error B reads (after spatial averaging)
    signal_elements: int  # elements of the error read per sample (before averaging)
    pooled: bool  # a conv top's error map averaged over space first (modular DFA)
    rows: int  # rows of the equivalent dense B (target units; H per step for recurrent)
    entries: int  # stored non-zero B values
    dense_entries: int  # rows * K: the dense B onto the same target
    index_entries: int  # CSR column indices + row pointers (0 for the other forms)
    applications: int  # times B is applied per sample (T for per-step errors, else 1)
    gemms: tuple[FeedbackGemm, ...]
    dilation: tuple[int, ...] = ()  # dilated_conv only
    taps: tuple[int, ...] = ()  # dilated_conv only
    groups: int = 1  # dilated_conv only

    @property
    def macs_per_sample(self) -> int:
        return sum(g.macs_per_sample for g in self.gemms)

    @property
    def pool_ops_per_sample(self) -> int:
        """Additions of the spatial average of a conv top's error (0 unless pooled)."""
        return self.signal_elements if self.pooled else 0

    @property
    def density(self) -> float:
        """Stored / dense entries (the engine's ``operator_density``)."""
        return self.entries / max(1, self.dense_entries)

    @property
    def engine_bytes(self) -> int:
        """Bytes as the engine stores B: 4-byte values plus 4-byte CSR indices."""
        return BYTES_PER_VALUE * (self.entries + self.index_entries)


def dilation_for(density: float, spatial: tuple[int, ...]) -> tuple[int, ...]:
    """Per spatial dimension d_i = round(density^(-1/r)), clipped to [1, S_i]."""
    rank = len(spatial)
    d = max(1, int(round(density ** (-1.0 / rank)))) if rank else 1
    return tuple(min(d, s) for s in spatial)


def csr_nonzeros(rows: int, cols: int, density: float) -> int:
    """Non-zeros of the engine's random CSR B: round(density * rows * cols), at least one."""
    return max(1, int(round(density * rows * cols)))


def is_sequence_layer(layer: LayerSpec) -> bool:
    """Recurrent layers and per-step linear layers take one error per time step."""
    return layer.kind == "recurrent" or bool(layer.per_step)


def direct_feedback(
    target: LayerSpec,
    signal_shape: tuple[int, ...],
    settings: ExtensionSettings,
    signal_kind: str = "output",
) -> DirectFeedback:
    """The operator carrying an error of per-sample ``signal_shape`` to ``target``.

    ``signal_kind`` is ``output`` for the output error e, else the kind of the module-top layer
    whose error is read (``conv`` tops are averaged over space). The density and groups apply
    as the DFA extensions define them; dense and ungrouped, it is plain DFA's operator.
    """
    signal_elements = math.prod(signal_shape)
    density, groups = settings.density, settings.groups
    if is_sequence_layer(target):
        return _sequence(target, signal_shape, signal_kind, density)
    pooled = signal_kind == "conv"
    k = signal_shape[0] if pooled else signal_elements
    target_units = math.prod(target.output_shape)
    prefix = "pooled_" if pooled else ""
    common = {
        "error_width": k,
        "signal_elements": signal_elements,
        "pooled": pooled,
        "rows": target_units,
        "dense_entries": target_units * k,
        "applications": 1,
    }
    plain = not pooled and density >= 1.0 and groups == 1
    if target.kind == "conv" and plain and settings.conv_mode == "conv":
        channels = target.output_shape[0]
        gemm = FeedbackGemm(1, k, channels)  # one projection per channel, tiled over space
        return DirectFeedback(
            "conv", entries=channels * k, index_entries=0, gemms=(gemm,), **common
        )
    if target.kind == "conv" and not plain:
        return _dilated(target, density, groups, prefix, common)
    if density >= 1.0:
        gemm = FeedbackGemm(1, k, target_units)
        entries = target_units * k
        return DirectFeedback(
            prefix + "dense", entries=entries, index_entries=0, gemms=(gemm,), **common
        )
    nnz = csr_nonzeros(target_units, k, density)
    return DirectFeedback(
        prefix + "csr",
        entries=nnz,
        index_entries=nnz + target_units + 1,
        gemms=_balanced_rows(nnz, target_units, 1),
        **common,
    )


def _dilated(target: LayerSpec, density: float, groups: int, prefix: str, common: dict):
    """Dilated (grouped) conv feedback F (C, K, *taps): channel block g reads classes g mod G."""
    channels, spatial = target.output_shape[0], tuple(target.output_shape[1:])
    k = common["error_width"]
    dilation = dilation_for(density, spatial)
    taps = tuple(-(-s // d) for s, d in zip(spatial, dilation, strict=True))
    per = channels // groups
    width = per * math.prod(taps)
    big, rest = divmod(k, groups)  # ``rest`` groups hold big + 1 classes, the others big
    gemms = tuple(
        FeedbackGemm(1, classes, width, count)
        for classes, count in ((big + 1, rest), (big, groups - rest))
        if classes and count
    )
    return DirectFeedback(
        prefix + "dilated_conv",
        entries=per * k * math.prod(taps),
        index_entries=0,
        gemms=gemms,
        dilation=dilation,
        taps=taps,
        groups=groups,
        **common,
    )


def _sequence(target: LayerSpec, signal_shape: tuple[int, ...], signal_kind: str, density: float):
    """One B (H, K) shared by all steps: per-step errors give B e_t, one error B e for all t."""
    steps = target.input_shape[0]
    units = target.output_shape[-1]
    per_step = len(signal_shape) == 2 and signal_shape[0] == steps and signal_kind != "conv"
    k = signal_shape[-1] if per_step else math.prod(signal_shape)
    applications = steps if per_step else 1
    common = {
        "error_width": k,
        "signal_elements": math.prod(signal_shape),
        "pooled": False,
        "rows": units,
        "dense_entries": units * k,
        "applications": applications,
    }
    if density >= 1.0:
        gemm = FeedbackGemm(applications, k, units)
        return DirectFeedback(
            "sequence", entries=units * k, index_entries=0, gemms=(gemm,), **common
        )
    nnz = csr_nonzeros(units, k, density)
    return DirectFeedback(
        "sequence_csr",
        entries=nnz,
        index_entries=nnz + units + 1,
        gemms=_balanced_rows(nnz, units, applications),
        **common,
    )


def _balanced_rows(nnz: int, rows: int, applications: int) -> tuple[FeedbackGemm, ...]:
    """A row-balanced CSR product as GEMMs: rows hold floor or ceil(nnz / rows) non-zeros."""
    per, extra = divmod(nnz, rows)
    return tuple(
        FeedbackGemm(applications, k, count)
        for k, count in ((per + 1, extra), (per, rows - extra))
        if k and count
    )


def fa_feedback_entries(layer: LayerSpec) -> int:
    """Entries of FA's fixed arrays for ``layer``: the shape of the weights carrying error down
    (linear and conv: ``weight``; recurrent: ``weight_ih`` only, ``W_hh^T`` stays exact)."""
    if layer.kind == "linear":
        return layer.in_features * layer.out_features
    if layer.kind == "conv":
        return layer.out_channels * (layer.in_channels // layer.groups) * math.prod(layer.kernel)
    return GATES[layer.cell] * layer.hidden_size * layer.in_features
