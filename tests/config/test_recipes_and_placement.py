"""Per-algorithm training recipes (``training.per_algorithm``) and the placement rules of
``training.extensions.bp_layers``.

A recipe gives one algorithm its own optimizer / lr_schedule / feedback / grad_clip /
extensions; absent keys come from the training section, and epochs, seed, weight_delay and
algorithm stay common (algorithms are compared on one budget). It must reach every consumer:
``training_settings`` and ``fit`` (the functional engine), ``Network.plan`` (feedback),
``resolve_extensions`` and the lowering (the optimizer decides the weight update's work and
optimizer-state traffic). Expected values are written out by hand, with the arithmetic in a
comment; none is computed by the code under test.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nets
import numpy as np
import pytest

from accelsim.config import load_workload
from accelsim.config.errors import ConfigError
from accelsim.config.extensions import (
    HYBRID_DEFAULT_RULE,
    PLACEMENT_RULES,
    placement,
    resolve_extensions,
)
from accelsim.config.training import OptimizerSpec, ScheduleSpec
from accelsim.lowering.presets import settings_for
from accelsim.nn import Network
from accelsim.nn.algorithms.plan import Direct, FromAbove
from accelsim.nn.datasets import Dataset
from accelsim.nn.train import fit
from accelsim.nn.train.loop import training_settings
from accelsim.report.api import run, simulate_point

ROOT = Path(__file__).resolve().parents[2]
LENET1D = ROOT / "workloads" / "lenet_mnist1d.yaml"  # conv1, conv2, fc1, fc2, fc3
DFLNPU = ROOT / "arch_configs" / "dflnpu.yaml"
RULES_TEXT = "top-K, bottom-K, top-half, bottom-half, conv, none"


# -- workloads ------------------------------------------------------------------------------
def small_cnn(**training) -> dict:
    """2 conv + 2 linear parameter layers (conv1, conv2, fc1, fc2), shapes only."""
    workload = {
        "name": "small-cnn",
        "dataset": {"input_shape": [1, 12], "num_classes": 4, "batch_size": 4},
        "layers": [
            {"name": "conv1", "type": "conv1d", "out_channels": 4, "kernel": 3, "padding": 1},
            {"name": "pool1", "type": "maxpool1d", "kernel": 2},
            {"name": "conv2", "type": "conv1d", "out_channels": 4, "kernel": 3, "padding": 1},
            {"name": "fc1", "type": "linear", "out_features": 8, "activation": "relu"},
            {"name": "fc2", "type": "linear", "out_features": 4},
        ],
    }
    if training:
        workload["training"] = training
    return workload


def mlp4(**training) -> dict:
    """tests/nets.py's 4-layer MLP (458 parameters) with ``training``."""
    return nets.mlp4(training)


def with_bp_layers(workload: dict, value) -> dict:
    workload = copy.deepcopy(workload)
    workload.setdefault("training", {}).setdefault("extensions", {})["bp_layers"] = value
    return workload


def lenet1d() -> dict:
    import yaml

    return yaml.safe_load(LENET1D.read_text())


# == 1. training.per_algorithm ================================================================
SECTION = {
    "algorithm": "bp",
    "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.5, "weight_decay": 0.01},
    "lr_schedule": {"type": "step", "step_size": 2, "gamma": 0.5},
    "epochs": 3,
    "seed": 7,
    "grad_clip": 2.0,
    "per_algorithm": {"dfa": {"optimizer": {"lr": 0.01}}},
}


def test_a_recipe_overrides_only_its_keys_and_inherits_the_rest():
    training = load_workload(mlp4(**SECTION)).training
    dfa = training.for_algorithm("dfa")
    # lr from the recipe; type, momentum, weight decay (and Adam's untouched defaults) from
    # the section's optimizer
    assert dfa.optimizer == OptimizerSpec(type="sgd", lr=0.01, momentum=0.5, weight_decay=0.01)
    assert dfa.schedule == ScheduleSpec(type="step", step_size=2, gamma=0.5, min_lr=0.0)
    assert (dfa.algorithm, dfa.epochs, dfa.seed, dfa.grad_clip) == ("dfa", 3, 7, 2.0)
    assert dfa.recipes == ()
    # bp has no recipe: the section as written
    bp = training.for_algorithm("bp")
    assert bp.optimizer == OptimizerSpec(type="sgd", lr=0.1, momentum=0.5, weight_decay=0.01)
    assert bp.schedule == dfa.schedule and bp.epochs == 3
    # a recipe belongs to the algorithm it names: fa and sparse-dfa keep the section's lr
    assert training.for_algorithm("fa").optimizer.lr == 0.1
    assert training.for_algorithm("sparse-dfa").optimizer.lr == 0.1


def test_pdfa_takes_dfas_recipe_unless_it_has_its_own():
    """pdfa trains as dfa with a weight delay: without a recipe of its own it takes dfa's."""
    training = load_workload(mlp4(**SECTION)).training  # a dfa recipe only: lr 0.01
    pdfa = training.for_algorithm("pdfa")
    assert (pdfa.algorithm, pdfa.optimizer.lr, pdfa.optimizer.momentum) == ("pdfa", 0.01, 0.5)
    own = {"dfa": {"optimizer": {"lr": 0.01}}, "pdfa": {"optimizer": {"lr": 0.05}}}
    training = load_workload(mlp4(**{**SECTION, "per_algorithm": own})).training
    assert training.for_algorithm("pdfa").optimizer.lr == 0.05
    assert training.for_algorithm("dfa").optimizer.lr == 0.01


def test_a_recipe_may_change_every_recipe_key():
    recipe = {
        "optimizer": {"type": "adam", "betas": [0.8, 0.99]},
        "lr_schedule": {"type": "cosine", "min_lr": 0.001},
        "feedback": {"scale": "unit"},
        "grad_clip": 0.5,
        "extensions": {"density": 0.25},
    }
    training = load_workload(mlp4(**{**SECTION, "per_algorithm": {"sparse-dfa": recipe}})).training
    spec = training.for_algorithm("sparse-dfa")
    assert (spec.optimizer.type, spec.optimizer.lr) == ("adam", 0.1)  # lr inherited
    assert (spec.optimizer.beta1, spec.optimizer.beta2) == (0.8, 0.99)
    assert (spec.schedule.type, spec.schedule.min_lr) == ("cosine", 0.001)
    assert spec.feedback.scale == "unit" and spec.grad_clip == 0.5
    assert spec.extensions.density == 0.25
    # the section itself is untouched
    assert training.feedback.scale == "fan_in" and training.extensions.density is None


@pytest.mark.parametrize(
    ("per_algorithm", "key", "expected"),
    [
        ({"dfb": {"optimizer": {"lr": 0.1}}}, "training.per_algorithm", "algorithm names"),
        ({"dfa": {"epochs": 5}}, "training.per_algorithm.dfa.epochs", "one of the keys"),
        ({"dfa": {"seed": 1}}, "training.per_algorithm.dfa.seed", "one of the keys"),
        ({"pdfa": {"weight_delay": 0}}, "training.per_algorithm.pdfa.weight_delay", "keys"),
        ({"dfa": {"algorithm": "bp"}}, "training.per_algorithm.dfa.algorithm", "keys"),
        ({"dfa": {"optimizer": {"lr": -0.5}}}, "training.per_algorithm.dfa.optimizer.lr", "> 0"),
        ({"dfa": {"optimizer": {"lr": "fast"}}}, "training.per_algorithm.dfa.optimizer.lr", ""),
        ({"dfa": "sgd"}, "training.per_algorithm.dfa", "a mapping"),
    ],
)
def test_bad_recipes_name_their_key(per_algorithm, key, expected):
    with pytest.raises(ConfigError) as err:
        load_workload(mlp4(**{**SECTION, "per_algorithm": per_algorithm}))
    assert err.value.key == key
    assert expected in str(err.value)


def test_the_error_for_a_common_key_lists_what_a_recipe_may_set():
    with pytest.raises(ConfigError) as err:
        load_workload(mlp4(**{**SECTION, "per_algorithm": {"dfa": {"epochs": 5}}}))
    for allowed in ("optimizer", "lr_schedule", "feedback", "grad_clip", "extensions"):
        assert allowed in str(err.value)


def tiny_linear(**training) -> dict:
    """One linear layer 3 -> 3, batch 8: one optimizer step per epoch on 8 samples."""
    return {
        "name": "linear",
        "dataset": {"input_shape": [3], "num_classes": 3, "batch_size": 8},
        "layers": [{"name": "fc", "type": "linear", "out_features": 3}],
        "training": training,
    }


def tiny_data() -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 3)).astype(np.float32)
    y = rng.integers(0, 3, 12)
    return Dataset("tiny", x[:8], y[:8], x[8:], y[8:], num_classes=3)


PLAIN_SGD = {"type": "sgd", "lr": 0.1, "momentum": 0.0}  # p <- p - lr * g


def test_training_settings_and_fit_use_the_recipe():
    workload = load_workload(
        tiny_linear(
            algorithm="bp",
            optimizer=PLAIN_SGD,
            per_algorithm={"dfa": {"optimizer": {"lr": 0.02}}},
        )
    )
    assert training_settings(workload, "dfa").optimizer.lr == 0.02
    assert training_settings(workload, "bp").optimizer.lr == 0.1
    assert training_settings(workload).optimizer.lr == 0.1  # the section's algorithm is bp
    assert training_settings(workload, "dfa").optimizer.momentum == 0.0  # inherited

    data = tiny_data()
    start = Network(workload, seed=0).params  # the weights fit starts from (same seed)
    dfa = fit(workload, "dfa", epochs=1, data=data)
    bp = fit(workload, "bp", epochs=1, data=data)
    assert dfa.history[0].lr == 0.02  # the recipe's lr (constant schedule)
    assert bp.history[0].lr == 0.1
    # One step on the whole training set (8 samples, batch 8). With a single layer, DFA's
    # direction is BP's (the last layer always takes e), so both fits step along the same
    # gradient g from the same start: w0 - w1 = lr * g, and the dfa step is 0.02 / 0.1 = 0.2
    # times the bp step, element by element.
    for name, w0 in start.items():
        dfa_step = w0 - dfa.network.params[name]
        bp_step = w0 - bp.network.params[name]
        assert np.abs(bp_step).max() > 1e-4  # the step is not vanishing
        np.testing.assert_allclose(dfa_step, 0.2 * bp_step, rtol=1e-4, atol=1e-7)


def test_the_section_algorithm_picks_its_recipe_when_fit_gets_no_algorithm():
    workload = load_workload(
        tiny_linear(
            algorithm="dfa",
            optimizer=PLAIN_SGD,
            per_algorithm={"dfa": {"optimizer": {"lr": 0.02}}},
        )
    )
    result = fit(workload, epochs=1, data=tiny_data())
    assert result.algorithm == "dfa" and result.history[0].lr == 0.02


def test_network_plan_draws_feedback_with_the_recipe():
    """feedback.scale fan_in draws B with std 1/sqrt(K), unit with std 1, from the same
    generator (seed, purpose, layer index): with K = 4 classes the unit B is exactly 2 times
    the fan_in B (1 / sqrt(4) = 0.5, and scaling by 2 is exact in float32)."""
    base = load_workload(mlp4(algorithm="dfa"))
    unit_scale = {"dfa": {"feedback": {"scale": "unit"}}}
    recipe = load_workload(mlp4(algorithm="dfa", per_algorithm=unit_scale))
    for name in ("fc1", "fc2", "fc3"):
        plain = Network(base).plan("dfa").sources[name].operator.matrix
        unit = Network(recipe).plan("dfa").sources[name].operator.matrix
        assert np.array_equal(unit, 2 * plain)
    # fa has no recipe: its fixed arrays are the same in both workloads
    fa_base, fa_recipe = Network(base).plan("fa").down, Network(recipe).plan("fa").down
    assert fa_base.keys() == fa_recipe.keys() and fa_base
    for name, arrays in fa_base.items():
        assert arrays.keys() == fa_recipe[name].keys()
        for key, value in arrays.items():
            assert np.array_equal(value, fa_recipe[name][key])


def test_resolve_extensions_uses_the_recipe():
    workload = load_workload(
        mlp4(
            algorithm="hybrid-dfa",
            extensions={"bp_layers": ["fc3"]},
            per_algorithm={"modular-dfa": {"extensions": {"bp_layers": ["fc1"], "density": 0.5}}},
        )
    )
    params = workload.param_layers
    hybrid = resolve_extensions(workload.training, "hybrid-dfa", params)
    modular = resolve_extensions(workload.training, "modular-dfa", params)
    assert hybrid.bp_layers == ("fc3",) and hybrid.density == 1.0
    assert modular.bp_layers == ("fc1",) and modular.density == 0.5
    # modular-dfa's modules still come from its preset: pairs counted from the output
    assert modular.modules == (("fc1", "fc2"), ("fc3", "fc4"))
    assert settings_for(workload, "modular-dfa") == modular


ADAM = {"type": "adam", "lr": 0.001}
DFA_SGD = {"dfa": {"optimizer": {"type": "sgd", "momentum": 0}}}


def test_the_lowering_costs_the_update_of_the_recipes_optimizer():
    """UPDATE_OPS (lowering/lower.py): Adam 10 element-wise ops per parameter, plain SGD 2;
    state tensors per weight: Adam 2 (m, v), plain SGD 0."""
    adam = run(DFLNPU, mlp4(algorithm="dfa", optimizer=ADAM), "dfa", iterations=1)
    sgd = run(
        DFLNPU, mlp4(algorithm="dfa", optimizer=ADAM, per_algorithm=DFA_SGD), "dfa", iterations=1
    )

    def update_ops(r):
        return {t.layer: t.vector_ops for t in r.graph.tasks if t.kind == "wu"}

    # parameters 204, 130, 88, 36 (mlp4): x 10 for Adam, x 2 for plain SGD
    assert update_ops(adam) == {"fc1": 2040, "fc2": 1300, "fc3": 880, "fc4": 360}
    assert update_ops(sgd) == {"fc1": 408, "fc2": 260, "fc3": 176, "fc4": 72}
    # Adam keeps m and v: 458 parameters x 2 tensors x 2 bytes (dflnpu's 16-bit weights)
    assert adam.report["memory"]["residency"]["optimizer_state"]["bytes"] == 1832
    # plain SGD has no state: no optimizer_state tensor is read, written or placed
    assert "optimizer_state" not in sgd.report["memory"]["residency"]
    assert not any(op.tensor == "optimizer_state" for t in sgd.graph.tasks for op in t.operands)
    # pdfa has no recipe of its own: it is costed with dfa's plain SGD
    pdfa = run(
        DFLNPU, mlp4(algorithm="dfa", optimizer=ADAM, per_algorithm=DFA_SGD), "pdfa", iterations=2
    )
    assert update_ops(pdfa) == update_ops(sgd)
    # the simulated update is cheaper, layer by layer, on the same vector unit
    adam_wu = {row["layer"]: row["wu_cycles"] for row in adam.report["layers"]}
    sgd_wu = {row["layer"]: row["wu_cycles"] for row in sgd.report["layers"]}
    for layer in ("fc1", "fc2", "fc3", "fc4"):
        assert 0 < sgd_wu[layer] < adam_wu[layer]


def test_a_dfa_recipe_leaves_the_simulation_of_bp_unchanged():
    without = simulate_point(DFLNPU, mlp4(algorithm="dfa", optimizer=ADAM), "bp")
    with_recipe = simulate_point(
        DFLNPU, mlp4(algorithm="dfa", optimizer=ADAM, per_algorithm=DFA_SGD), "bp"
    )
    assert with_recipe == without
    assert without["memory"]["residency"]["optimizer_state"]["bytes"] == 1832  # still Adam


# == 2. placement rules of training.extensions.bp_layers =======================================
def names(workload) -> list[str]:
    return [layer.name for layer in workload.param_layers]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # n = 4 parameter layers: conv1, conv2, fc1, fc2
        ("top-1", ("fc2",)),  # the output layer only: plain DFA
        ("top-3", ("conv2", "fc1", "fc2")),
        ("top-4", ("conv1", "conv2", "fc1", "fc2")),
        ("bottom-1", ("conv1",)),
        ("bottom-3", ("conv1", "conv2", "fc1")),
        ("top-half", ("fc1", "fc2")),  # ceil(4 / 2) = 2
        ("bottom-half", ("conv1", "conv2")),
        ("conv", ("conv1", "conv2")),
        ("none", ()),
    ],
)
def test_placement_on_two_conv_and_two_linear_layers(rule, expected):
    workload = load_workload(small_cnn())
    assert names(workload) == ["conv1", "conv2", "fc1", "fc2"]
    assert placement(rule, workload.param_layers) == expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # n = 5 parameter layers: conv1, conv2, fc1, fc2, fc3 (pools have no parameters)
        ("top-1", ("fc3",)),
        ("top-2", ("fc2", "fc3")),
        ("bottom-2", ("conv1", "conv2")),
        ("bottom-5", ("conv1", "conv2", "fc1", "fc2", "fc3")),
        ("top-half", ("fc1", "fc2", "fc3")),  # odd count: ceil(5 / 2) = 3
        ("bottom-half", ("conv1", "conv2", "fc1")),
        ("conv", ("conv1", "conv2")),
        ("none", ()),
    ],
)
def test_placement_on_lenet_mnist1d(rule, expected):
    workload = load_workload(LENET1D)
    assert names(workload) == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert placement(rule, workload.param_layers) == expected


def test_conv_on_a_network_without_conv_layers_is_no_layer():
    assert placement("conv", load_workload(mlp4()).param_layers) == ()


@pytest.mark.parametrize("rule", ["top-0", "top-99", "bottom-5", "sideways-2", "top-x", "top", ""])
def test_bad_rules_are_config_errors_naming_the_key_and_the_rules(rule):
    # small_cnn has 4 parameter layers: K must be 1 to 4
    with pytest.raises(ConfigError) as err:
        load_workload(with_bp_layers(small_cnn(), rule))
    assert err.value.key == "training.extensions.bp_layers"
    assert RULES_TEXT in str(err.value)
    with pytest.raises(ValueError, match="top-K"):
        placement(rule, load_workload(small_cnn()).param_layers)


def test_the_error_names_the_recipe_key_inside_per_algorithm():
    workload = small_cnn(per_algorithm={"hybrid-dfa": {"extensions": {"bp_layers": "top-5"}}})
    with pytest.raises(ConfigError) as err:
        load_workload(workload)
    assert err.value.key == "training.per_algorithm.hybrid-dfa.extensions.bp_layers"
    assert RULES_TEXT in str(err.value)


@pytest.mark.parametrize("rule", ["top-²", "top-٣", "top-03", "bottom-+1"])
def test_a_non_ascii_or_padded_k_is_reported_with_the_rules(rule):
    with pytest.raises(ConfigError) as err:
        load_workload(with_bp_layers(small_cnn(), rule))
    assert RULES_TEXT in str(err.value)


@pytest.mark.parametrize("value", [3, {"top": 2}, ["fc1", "fc1"]])
def test_bp_layers_neither_rule_nor_list_of_distinct_names_is_an_error(value):
    with pytest.raises(ConfigError) as err:
        load_workload(with_bp_layers(small_cnn(), value))
    assert err.value.key == "training.extensions.bp_layers"


def test_a_rule_in_the_workload_resolves_to_layer_names():
    workload = load_workload(with_bp_layers(small_cnn(), "top-half"))
    assert workload.training.extensions.bp_layers == ("fc1", "fc2")
    assert settings_for(workload, "hybrid-dfa").bp_layers == ("fc1", "fc2")


def test_a_list_of_names_still_works_and_an_unknown_name_fails():
    workload = load_workload(with_bp_layers(small_cnn(), ["conv2", "fc1"]))
    assert settings_for(workload, "hybrid-dfa").bp_layers == ("conv2", "fc1")
    assert load_workload(with_bp_layers(small_cnn(), [])).training.extensions.bp_layers == ()
    with pytest.raises(ConfigError) as err:
        load_workload(with_bp_layers(small_cnn(), ["conv2", "fc9"]))
    assert err.value.key == "training.extensions.bp_layers"
    assert "fc9" in str(err.value) and "conv1, conv2, fc1, fc2" in str(err.value)
    # a non-parameter layer is not a BP layer either
    with pytest.raises(ConfigError, match="pool1"):
        load_workload(with_bp_layers(small_cnn(), ["pool1"]))


def test_the_rules_are_the_documented_ones():
    assert set(PLACEMENT_RULES) == {"top-K", "bottom-K", "top-half", "bottom-half", "conv", "none"}


# -- the hybrid-dfa default and the functional engine's plan --------------------------------
def expected_sources(param_names, bp_layers):
    """BP layers and the last layer FromAbove; the others Direct (DFA from e)."""
    return {
        name: "above" if name in bp_layers or name == param_names[-1] else "direct"
        for name in param_names
    }


def plan_sources(network: Network, algorithm: str) -> dict[str, str]:
    out = {}
    for name, source in network.plan(algorithm).sources.items():
        assert isinstance(source, (FromAbove, Direct))
        out[name] = "above" if isinstance(source, FromAbove) else "direct"
    return out


@pytest.mark.parametrize("source", ["lenet", "small_cnn", "mlp4"])
def test_the_hybrid_default_is_the_default_rule_in_lowering_and_engine(source):
    data = {"lenet": lenet1d, "small_cnn": small_cnn, "mlp4": mlp4}[source]()
    workload = load_workload(data)
    default = placement(HYBRID_DEFAULT_RULE, workload.param_layers)
    assert settings_for(workload, "hybrid-dfa").bp_layers == default
    param_names = names(workload)
    assert plan_sources(Network(workload), "hybrid-dfa") == expected_sources(param_names, default)


def test_an_explicit_rule_and_a_recipe_route_the_engine():
    # top-half on lenet (n = 5): ceil(5/2) = 3 -> fc1, fc2, fc3 by BP; conv1, conv2 by DFA
    workload = load_workload(with_bp_layers(lenet1d(), "top-half"))
    assert plan_sources(Network(workload), "hybrid-dfa") == {
        "conv1": "direct",
        "conv2": "direct",
        "fc1": "above",
        "fc2": "above",
        "fc3": "above",
    }
    # a hybrid-dfa recipe overrides the section's placement: bottom-1 -> conv1 by BP
    data = with_bp_layers(lenet1d(), "top-half")
    data["training"]["per_algorithm"] = {"hybrid-dfa": {"extensions": {"bp_layers": "bottom-1"}}}
    workload = load_workload(data)
    assert settings_for(workload, "hybrid-dfa").bp_layers == ("conv1",)
    assert plan_sources(Network(workload), "hybrid-dfa") == {
        "conv1": "above",
        "conv2": "direct",
        "fc1": "direct",
        "fc2": "direct",
        "fc3": "above",
    }


def test_top_1_is_plain_dfa():
    """The output layer takes e in every algorithm, so BP for it alone changes nothing."""
    workload = load_workload(with_bp_layers(lenet1d(), "top-1"))
    network = Network(workload)
    assert plan_sources(network, "hybrid-dfa") == plan_sources(network, "dfa")
    assert plan_sources(network, "dfa") == {
        "conv1": "direct",
        "conv2": "direct",
        "fc1": "direct",
        "fc2": "direct",
        "fc3": "above",
    }
