"""Lowering: GEMM shapes per pass, dependencies per algorithm, presets of the extensions."""

from __future__ import annotations

from itertools import pairwise

import pytest

from accelsim.config.algorithms import ALGORITHMS
from accelsim.config.extensions import HYBRID_DEFAULT_RULE, placement
from accelsim.config.workload import load_workload
from accelsim.lowering import lower
from accelsim.lowering.presets import FeedbackSettings, settings_for

LENET = "workloads/lenet_mnist.yaml"


def lenet(batch=32):
    return load_workload(LENET).with_batch_size(batch)


def rnn_workload(cell="lstm", steps=7, hidden=12, batch=3):
    return load_workload(
        {
            "dataset": {"input_shape": [steps, 5], "num_classes": 4, "batch_size": batch},
            "layers": [
                {"name": "rnn", "type": cell, "hidden_size": hidden},
                {"name": "out", "type": "linear", "out_features": 4},
            ],
        }
    )


def test_conv_forward_lowers_to_the_im2col_gemm():
    g = lower(lenet(8), "bp")
    work = g.task("conv1.fp").gemms[0]
    assert (work.shape.m, work.shape.k, work.shape.n) == (8 * 28 * 28, 1 * 5 * 5, 6)
    wg = g.task("conv2.wg").gemms[0].shape
    assert (wg.m, wg.k, wg.n) == (6 * 25, 8 * 10 * 10, 16)
    # error back to conv2's 6x14x14 input, col2im form: conv2's 16x10x10 output errors times W^T
    ep = g.task("conv2.ep").gemms[0].shape
    assert (ep.m, ep.k, ep.n) == (8 * 10 * 10, 16, 6 * 25)


def test_grouped_conv_lowers_to_one_gemm_per_group():
    wl = load_workload(
        {
            "dataset": {"input_shape": [8, 10, 10], "num_classes": 3, "batch_size": 2},
            "layers": [
                {"name": "g", "type": "conv2d", "out_channels": 12, "kernel": 3, "groups": 4},
                {"name": "fc", "type": "linear", "out_features": 3},
            ],
        }
    )
    work = lower(wl, "bp").task("g.fp").gemms[0]
    assert work.count == 4
    assert (work.shape.m, work.shape.k, work.shape.n) == (2 * 8 * 8, 2 * 9, 3)


def test_bp_error_chain_runs_strictly_from_last_to_first():
    g = lower(lenet(), "bp")
    eps = [g.task(f"{name}.ep") for name in ("fc3", "fc2", "fc1", "conv2")]
    for above, below in pairwise(eps):
        assert above.index in below.deps
    assert "conv1.ep" not in {t.name for t in g.tasks}  # no error needed below layer 1


def test_dfa_error_paths_are_independent_of_depth():
    g = lower(lenet(), "dfa")
    loss = g.task("loss").index
    dfa = g.by_kind("dfa_ep")
    assert {t.layer for t in dfa} == {"conv1", "conv2", "fc1", "fc2"}
    for t in dfa:
        assert t.deps == (loss,)
        assert t.gemms[0].shape.k == 10  # K = n_classes
    assert not g.by_kind("ep")


def test_fa_costs_like_bp_but_reads_feedback():
    bp, fa = lower(lenet(), "bp"), lower(lenet(), "fa")
    assert sum(t.macs for t in bp.tasks) == sum(t.macs for t in fa.tasks)
    assert all(t.uses_feedback for t in fa.by_kind("ep"))
    assert not any(t.uses_feedback for t in bp.tasks)


def mlp(batch=8):
    return load_workload(
        {
            "dataset": {"input_shape": [30], "num_classes": 10, "batch_size": batch},
            "layers": [
                {"name": "fc1", "type": "linear", "out_features": 40, "activation": "relu"},
                {"name": "fc2", "type": "linear", "out_features": 20, "activation": "relu"},
                {"name": "fc3", "type": "linear", "out_features": 10},
            ],
        }
    )


def test_sparse_feedback_scales_ep_work_and_storage_with_density():
    wl = mlp()
    dense = lower(wl, "dfa", FeedbackSettings(density=1.0))
    sparse = lower(wl, "sparse-dfa", FeedbackSettings(density=0.1))
    # linear layers: CSR with round(0.1 * n * K) non-zeros, one product per non-zero
    assert sparse.feedback_elements == pytest.approx(0.1 * dense.feedback_elements, rel=0.01)
    dense_macs = sum(t.macs for t in dense.by_kind("dfa_ep"))
    assert sum(t.macs for t in sparse.by_kind("dfa_ep")) == pytest.approx(
        0.1 * dense_macs, rel=0.01
    )


def test_sparse_conv_feedback_is_a_dilated_kernel():
    """LeNet at density 0.1: d = round(0.1^-1/2) = 3, so conv1 (6x28x28) stores 6*10*10*10 and
    conv2 (16x10x10) 16*10*4*4 values: 1/d^2 of the dense B up to the rounding of the taps."""
    wl = lenet()
    dense = lower(wl, "dfa", FeedbackSettings(density=1.0))
    sparse = lower(wl, "sparse-dfa", FeedbackSettings(density=0.1))
    entries = {t.layer: t.elements("filter") for t in sparse.by_kind("dfa_ep")}
    assert entries["conv1"] == 6 * 10 * (10 * 10)
    assert entries["conv2"] == 16 * 10 * (4 * 4)
    dense_macs = sum(t.macs for t in dense.by_kind("dfa_ep"))
    assert sum(t.macs for t in sparse.by_kind("dfa_ep")) < 0.2 * dense_macs
    assert sum(t.macs for t in sparse.by_kind("dfa_ep")) == sparse.feedback_elements * 32


def test_presets_of_modular_and_hybrid_dfa():
    """The engine's presets (docs/dfa-extensions.md): modules are pairs of consecutive
    parameter layers counted from the output; hybrid's default placement is the rule
    HYBRID_DEFAULT_RULE (chosen by measurement), and a rule in the workload routes by it."""
    wl = lenet()
    modules = (("conv1",), ("conv2", "fc1"), ("fc2", "fc3"))
    assert settings_for(wl, "modular-dfa").modules == modules
    default = placement(HYBRID_DEFAULT_RULE, wl.param_layers)
    assert settings_for(wl, "hybrid-dfa").bp_layers == default
    top = load_workload({**_lenet_dict(), "training": {"extensions": {"bp_layers": "top-half"}}})
    # LeNet has 5 parameter layers: the top ceil(5 / 2) = 3 are fc1, fc2, fc3
    assert settings_for(top, "hybrid-dfa").bp_layers == ("fc1", "fc2", "fc3")
    hybrid = dict((name, route) for name, route, _ in lower(top, "hybrid-dfa").routes)
    assert hybrid == {"conv1": "dfa", "conv2": "dfa", "fc1": "bp", "fc2": "bp", "fc3": "loss"}
    modular = {name: (route, src) for name, route, src in lower(wl, "modular-dfa").routes}
    assert modular["fc1"] == ("bp", "fc2")  # module boundary crossed by BP
    assert modular["conv1"] == ("bp", "conv2")  # a one-layer module takes BP's error
    assert modular["conv2"] == ("dfa", "fc1")  # DFA from the module's output error
    assert modular["fc2"] == ("dfa", "fc3")  # the top module reads the output error
    k = lower(wl, "modular-dfa").task("conv2.dfa_ep").gemms[0].shape.k
    assert k == 120  # the module error's width, not the class count


def test_workload_extension_keys_reach_the_lowering():
    wl = load_workload(
        {
            **{k: v for k, v in _lenet_dict().items() if k != "training"},
            "training": {
                "extensions": {
                    "density": 0.5,
                    "groups": 2,
                    "modules": [["conv1", "conv2", "fc1"], ["fc2", "fc3"]],
                    "bp_layers": ["fc2"],
                }
            },
        }
    )
    settings = settings_for(wl, "sparse-dfa")
    assert (settings.density, settings.groups) == (0.5, 2)
    assert settings_for(wl, "modular-dfa").modules == (("conv1", "conv2", "fc1"), ("fc2", "fc3"))
    assert settings_for(wl, "hybrid-dfa").bp_layers == ("fc2",)
    assert settings_for(wl, "dfa").density == 1.0  # plain DFA ignores the extensions
    grouped = lower(wl, "sparse-dfa").task("conv1.dfa_ep")
    assert sum(w.count for w in grouped.gemms) == 2  # one GEMM per group
    # every preset reads every key: conv1 reads its module top fc1's 120-wide error, and each
    # of those components goes to exactly one group
    assert sum(w.shape.k * w.count for w in grouped.gemms) == 120


def _lenet_dict():
    import yaml

    with open(LENET) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_lowers_at_batch_one(algorithm):
    g = lower(lenet(1), algorithm)
    assert g.batch_size == 1
    names = {t.name for t in g.tasks}
    for layer in g.layers:
        assert {f"{layer}.fp", f"{layer}.wg", f"{layer}.wu"} <= names
    assert all(d < t.index for t in g.tasks for d in t.deps)


def test_recurrent_layers_unroll_over_time_steps():
    g = lower(rnn_workload("lstm", steps=7, hidden=12, batch=3), "bp")
    fp = g.task("rnn.fp").gemms
    assert [w.count for w in fp] == [7, 7]
    assert (fp[0].shape.m, fp[0].shape.k, fp[0].shape.n) == (3, 5, 48)
    assert (fp[1].shape.m, fp[1].shape.k, fp[1].shape.n) == (3, 12, 48)
    assert g.task("rnn.bptt").gemms[0].count == 7
    dfa = lower(rnn_workload("gru"), "dfa")
    assert "rnn.bptt" not in {t.name for t in dfa.tasks}
    # a last-step output error is projected once and injected at every step
    assert dfa.task("rnn.dfa_ep").gemms[0].shape.m == 3
    per_step = load_workload(
        {
            "dataset": {"input_shape": [7, 5], "num_classes": 4, "batch_size": 3},
            "layers": [
                {"name": "rnn", "type": "gru", "hidden_size": 12, "output": "sequence"},
                {"name": "out", "type": "linear", "out_features": 4},
            ],
        }
    )
    assert lower(per_step, "dfa").task("rnn.dfa_ep").gemms[0].shape.m == 3 * 7  # B e_t per step


def test_named_dataset_gives_shapes_without_data():
    g = lower(
        load_workload(
            {
                "dataset": {"name": "mnist1d", "batch_size": 4},
                "layers": [{"name": "fc", "type": "linear", "out_features": 10}],
            }
        ),
        "dfa",
    )
    assert g.task("fc.fp").gemms[0].shape.k == 40
