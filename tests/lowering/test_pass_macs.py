"""True MACs for every pass: per layer, EP MACs = WG MACs = FP MACs (issue 9, item 2).

Each expected value is counted by hand from the layer's geometry (output positions x output
channels x weights per output channel, for every sample) and never from the code under test.
The conv under test always has a layer below it, so its EP task (``<conv>.ep``, the error it
carries down to that layer) exists. Conv EP is the col2im form: one MAC per (output position,
weight) pair, then one element-wise add per column element.
"""

from __future__ import annotations

import pytest

from accelsim.config.workload import load_workload
from accelsim.lowering.lower import lower

BATCH = 2


def graph(input_shape, layers, num_classes=3, batch=BATCH, algorithm="bp"):
    wl = load_workload(
        {
            "dataset": {
                "input_shape": list(input_shape),
                "num_classes": num_classes,
                "batch_size": batch,
            },
            "layers": [*layers, {"name": "fc", "type": "linear", "out_features": num_classes}],
        }
    )
    return lower(wl, algorithm)


def pass_macs(g, layer):
    return {kind: g.task(f"{layer}.{kind}").macs for kind in ("fp", "ep", "wg")}


def assert_all_passes(g, layer, expected):
    macs = pass_macs(g, layer)
    assert macs == {"fp": expected, "ep": expected, "wg": expected}
    assert macs["ep"] == macs["fp"]


def test_stride2_padded_conv2d():
    # below: 3x16x16 -> 1x1 conv -> 6x16x16; c1: k3, stride 2, pad 1 -> Ho = (16+2-3)//2+1 = 8
    g = graph(
        (3, 16, 16),
        [
            {"name": "c0", "type": "conv2d", "out_channels": 6, "kernel": 1},
            {"name": "c1", "type": "conv2d", "out_channels": 8, "kernel": 3, "stride": 2,
             "padding": 1},
        ],
    )  # fmt: skip
    # N = 2 samples, 8*8 output positions, Cout = 8, Cin/g*kh*kw = 6*3*3 weights per output
    expected = 2 * 8 * 8 * 8 * 6 * 3 * 3
    assert_all_passes(g, "c1", expected)
    ep = g.task("c1.ep")
    # col2im shape: M = N*Ho*Wo, K = Cout, N = Cin*kh*kw (one group)
    work = ep.gemms[0]
    assert (work.shape.m, work.shape.k, work.shape.n, work.count) == (2 * 8 * 8, 8, 6 * 9, 1)
    # operands keep their sizes: error in 2*8*8*8, weights 8*6*3*3 (EP reads no bias), error
    # out 2*6*16*16
    assert [op.elements for op in ep.operands] == [2 * 8 * 8 * 8, 8 * 6 * 3 * 3, 2 * 6 * 16 * 16]
    # element-wise: unpool (none: 2*6*16*16 carried) + f'(a) of c0 (2*6*16*16) + col2im, one
    # add per column element: N*Ho*Wo rows x Cin*kh*kw columns = 2*8*8 x 6*3*3
    assert ep.vector_ops == 2 * 6 * 16 * 16 + 2 * 6 * 16 * 16 + 2 * 8 * 8 * 6 * 3 * 3


def test_dilated_conv2d():
    # below: 4x12x12 -> 1x1 conv -> 4x12x12; c1: k3 dilation 2 spans 5 -> Ho = 12-5+1 = 8
    g = graph(
        (4, 12, 12),
        [
            {"name": "c0", "type": "conv2d", "out_channels": 4, "kernel": 1},
            {"name": "c1", "type": "conv2d", "out_channels": 6, "kernel": 3, "dilation": 2},
        ],
    )
    # N = 2, 8*8 output positions, Cout = 6, Cin*kh*kw = 4*3*3 (dilation adds no taps)
    expected = 2 * 8 * 8 * 6 * 4 * 3 * 3
    assert_all_passes(g, "c1", expected)


def test_grouped_conv2d():
    # below: 3x10x10 -> 1x1 conv -> 8x10x10; c1: k3, groups 2, no pad -> Ho = 10-3+1 = 8
    g = graph(
        (3, 10, 10),
        [
            {"name": "c0", "type": "conv2d", "out_channels": 8, "kernel": 1},
            {"name": "c1", "type": "conv2d", "out_channels": 12, "kernel": 3, "groups": 2},
        ],
    )
    # N = 2, 8*8 output positions, Cout = 12, each output sees Cin/g*kh*kw = (8/2)*3*3 weights
    expected = 2 * 8 * 8 * 12 * 4 * 3 * 3
    assert_all_passes(g, "c1", expected)
    work = g.task("c1.ep").gemms[0]
    # per group: M = N*Ho*Wo, K = Cout/g = 6, N = Cin/g*kh*kw = 4*9; 2 groups
    assert (work.shape.m, work.shape.k, work.shape.n, work.count) == (2 * 8 * 8, 6, 4 * 9, 2)


def test_depthwise_conv2d():
    # below: 3x12x12 -> 1x1 conv -> 6x12x12; c1: k3, groups 6, stride 2, pad 1
    # -> Ho = (12+2-3)//2+1 = 6
    g = graph(
        (3, 12, 12),
        [
            {"name": "c0", "type": "conv2d", "out_channels": 6, "kernel": 1},
            {"name": "c1", "type": "conv2d", "out_channels": 6, "kernel": 3, "groups": 6,
             "stride": 2, "padding": 1},
        ],
    )  # fmt: skip
    # N = 2, 6*6 output positions, Cout = 6, each output sees Cin/g*kh*kw = 1*3*3 weights
    expected = 2 * 6 * 6 * 6 * 1 * 3 * 3
    assert_all_passes(g, "c1", expected)
    assert g.task("c1.ep").gemms[0].count == 6


def test_stride3_conv1d():
    # below: 2x40 -> 1-tap conv -> 4x40; c1: k4, stride 3 -> Lo = (40-4)//3+1 = 13
    g = graph(
        (2, 40),
        [
            {"name": "c0", "type": "conv1d", "out_channels": 4, "kernel": 1},
            {"name": "c1", "type": "conv1d", "out_channels": 5, "kernel": 4, "stride": 3},
        ],
    )
    # N = 2, 13 output positions, Cout = 5, Cin*k = 4*4 weights per output
    expected = 2 * 13 * 5 * 4 * 4
    assert_all_passes(g, "c1", expected)


def test_dilated_conv1d():
    # below: 2x30 -> 1-tap conv -> 3x30; c1: k3 dilation 3 spans 7, pad 2 -> Lo = 30+4-7+1 = 28
    g = graph(
        (2, 30),
        [
            {"name": "c0", "type": "conv1d", "out_channels": 3, "kernel": 1},
            {"name": "c1", "type": "conv1d", "out_channels": 4, "kernel": 3, "dilation": 3,
             "padding": 2},
        ],
    )  # fmt: skip
    # N = 2, 28 output positions, Cout = 4, Cin*k = 3*3 weights per output
    expected = 2 * 28 * 4 * 3 * 3
    assert_all_passes(g, "c1", expected)


def test_mlp():
    # 30 -> fc1 40 -> fc2 20 -> fc 10, batch 8: one MAC per (sample, input, output)
    g = graph(
        (30,),
        [
            {"name": "fc1", "type": "linear", "out_features": 40, "activation": "relu"},
            {"name": "fc2", "type": "linear", "out_features": 20, "activation": "relu"},
        ],
        num_classes=10,
        batch=8,
    )
    assert_all_passes(g, "fc2", 8 * 40 * 20)
    assert_all_passes(g, "fc", 8 * 20 * 10)
    assert g.task("fc1.fp").macs == g.task("fc1.wg").macs == 8 * 30 * 40  # no EP below layer 1


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("gru", 3), ("lstm", 4)])
def test_recurrent_ep_plus_bptt_is_forward_sized(cell, gates):
    # 7 steps of 5 features -> r0 (hidden 6) -> r1 (hidden 12): r1's input GEMM is 6 -> G*12
    g = graph(
        (7, 5),
        [
            {"name": "r0", "type": cell, "hidden_size": 6, "output": "sequence"},
            {"name": "r1", "type": cell, "hidden_size": 12},
        ],
    )
    # N = 2, T = 7 steps: input part 6 x G*12, hidden part 12 x G*12
    input_part = 2 * 7 * 6 * gates * 12
    hidden_part = 2 * 7 * 12 * gates * 12
    assert g.task("r1.fp").macs == g.task("r1.wg").macs == input_part + hidden_part
    assert g.task("r1.ep").macs == input_part  # error down to r0 through W_ih^T
    assert g.task("r1.bptt").macs == hidden_part  # error through time through W_hh^T


def test_dense_dfa_projection_is_batch_classes_outputs():
    # DFA to c0 (6x16x16 outputs) and c1 (8x8x8) from the 3-class output error
    g = graph(
        (3, 16, 16),
        [
            {"name": "c0", "type": "conv2d", "out_channels": 6, "kernel": 1},
            {"name": "c1", "type": "conv2d", "out_channels": 8, "kernel": 3, "stride": 2,
             "padding": 1},
        ],
        algorithm="dfa",
    )  # fmt: skip
    # N = 2 samples x K = 3 classes x the layer's outputs
    assert g.task("c0.dfa_ep").macs == 2 * 3 * 6 * 16 * 16
    assert g.task("c1.dfa_ep").macs == 2 * 3 * 8 * 8 * 8


def test_sparse_dfa_projection_is_batch_times_stored_nonzeros():
    # sparse-dfa (density 0.1) on 30 -> fc1 40 -> fc2 20 -> fc 10: CSR B of
    # round(0.1 * outputs * 10 classes) non-zeros, each used once per sample
    g = graph(
        (30,),
        [
            {"name": "fc1", "type": "linear", "out_features": 40},
            {"name": "fc2", "type": "linear", "out_features": 20},
        ],
        num_classes=10,
        batch=8,
        algorithm="sparse-dfa",
    )
    # fc1: round(0.1 * 40 * 10) = 40 non-zeros; fc2: round(0.1 * 20 * 10) = 20
    assert g.task("fc1.dfa_ep").elements("filter") == 40
    assert g.task("fc1.dfa_ep").macs == 8 * 40
    assert g.task("fc2.dfa_ep").elements("filter") == 20
    assert g.task("fc2.dfa_ep").macs == 8 * 20


def test_same_padded_stride_1_conv2d_takes_the_direct_form():
    # below: 3x8x8 -> 1x1 conv -> 4x8x8; c1: k3, pad 1, stride 1 -> 8x8 ('same')
    g = graph(
        (3, 8, 8),
        [
            {"name": "c0", "type": "conv2d", "out_channels": 4, "kernel": 1},
            {"name": "c1", "type": "conv2d", "out_channels": 5, "kernel": 3, "padding": 1},
        ],
    )
    # N = 2, 8*8 output positions, Cout = 5, Cin*kh*kw = 4*3*3
    expected = 2 * 8 * 8 * 5 * 4 * 3 * 3
    assert_all_passes(g, "c1", expected)
    ep = g.task("c1.ep")
    # transposed conv over the 8*8 input positions: K = Cout*kh*kw = 5*9 taps, N = Cin = 4;
    # H*W = Ho*Wo, so it multiplies the FP's pairs and no zeros
    (work,) = ep.gemms
    assert (work.shape.m, work.shape.k, work.shape.n, work.count) == (2 * 8 * 8, 5 * 9, 4, 1)
    # element-wise: unpool (none) + f'(a) of c0 (2*4*8*8 each); no col2im scatter
    assert ep.vector_ops == 2 * 4 * 8 * 8 + 2 * 4 * 8 * 8
