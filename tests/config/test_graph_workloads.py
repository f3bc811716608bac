"""Graph workloads: the ``inputs`` key, add/concat/batchnorm/dropout/global_avgpool layers and
``trainable: false`` (schema, shapes, every misuse as a ConfigError naming file and key), and
the simulator's refusal to lower them."""

from __future__ import annotations

import copy

import pytest

from accelsim.config.errors import ConfigError
from accelsim.config.workload import load_workload
from accelsim.lowering import lower

DATASET = {"name": "synthetic", "input_shape": [3, 8, 8], "num_classes": 10, "batch_size": 4}

# the example of issue 12, verbatim
RESNET = {
    "name": "tiny-resnet",
    "dataset": DATASET,
    "layers": [
        {"name": "stem", "type": "conv2d", "out_channels": 16, "kernel": 3, "padding": 1},
        {"name": "bn0", "type": "batchnorm2d", "activation": "relu"},
        {"name": "c1", "type": "conv2d", "out_channels": 16, "kernel": 3, "padding": 1},
        {"name": "bn1", "type": "batchnorm2d"},
        {"name": "add1", "type": "add", "inputs": ["bn1", "bn0"], "activation": "relu"},
        {"name": "gap", "type": "global_avgpool"},
        {"name": "fc", "type": "linear", "out_features": 10},
    ],
}


def workload(layers, dataset=DATASET, training=None):
    data = {"name": "w", "dataset": dataset, "layers": layers}
    if training is not None:
        data["training"] = training
    return data


def error_of(data, label="graph.yaml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_workload(data, label=label)
    return info.value


def test_the_issue_example_loads_with_resolved_inputs_and_shapes():
    wl = load_workload(RESNET)
    layers = {layer.name: layer for layer in wl.layers}
    assert layers["stem"].inputs == ("input",)
    assert layers["bn0"].inputs == ("stem",)  # the previous layer when not given
    assert layers["add1"].inputs == ("bn1", "bn0")
    assert layers["bn0"].kind == "batchnorm" and layers["bn0"].has_params
    assert layers["bn0"].output_shape == (16, 8, 8)
    assert layers["add1"].kind == "add" and not layers["add1"].has_params
    assert layers["add1"].output_shape == (16, 8, 8)
    assert layers["add1"].activation == "relu"
    assert layers["gap"].kind == "global_avgpool" and layers["gap"].output_shape == (16,)
    assert layers["fc"].in_features == 16
    assert all(layer.trainable for layer in wl.layers)
    assert wl.is_graph
    assert [x.name for x in wl.trainable_layers] == ["stem", "bn0", "c1", "bn1", "fc"]


def test_sequential_workload_is_not_a_graph():
    wl = load_workload(
        workload(
            [
                {"type": "conv2d", "out_channels": 2, "kernel": 3},
                {"type": "linear", "out_features": 10},
            ]
        )
    )
    assert not wl.is_graph
    assert wl.layers[1].inputs == (wl.layers[0].name,)


def test_concat_stacks_channels_and_depthwise_groups():
    wl = load_workload(
        workload(
            [
                {"name": "a", "type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
                {
                    "name": "dw",
                    "type": "conv2d",
                    "out_channels": 4,
                    "kernel": 3,
                    "padding": 1,
                    "groups": 4,
                },
                {"name": "b", "type": "conv2d", "out_channels": 2, "kernel": 1, "inputs": ["a"]},
                {"name": "cat", "type": "concat", "inputs": ["dw", "b", "input"]},
                {"name": "drop", "type": "dropout", "p": 0.25},
                {"name": "gap", "type": "global_avgpool"},
                {"name": "fc0", "type": "linear", "out_features": 6},
                {"name": "bn", "type": "batchnorm1d", "trainable": False},
                {"name": "fc", "type": "linear", "out_features": 10},
            ]
        )
    )
    cat = wl.layer("cat")
    assert cat.output_shape == (4 + 2 + 3, 8, 8)
    assert wl.layer("dw").groups == 4 and wl.layer("dw").in_channels == 4
    assert wl.layer("drop").p == 0.25 and wl.layer("drop").output_shape == (9, 8, 8)
    assert wl.layer("bn").output_shape == (6,) and not wl.layer("bn").trainable
    assert [x.name for x in wl.trainable_layers] == ["a", "dw", "b", "fc0", "fc"]


def test_batchnorm1d_takes_a_channel_by_length_map():
    wl = load_workload(
        workload(
            [
                {"type": "conv1d", "out_channels": 3, "kernel": 2},
                {"name": "bn", "type": "batchnorm1d"},
                {"type": "linear", "out_features": 10},
            ],
            dataset={**DATASET, "input_shape": [2, 5]},
        )
    )
    assert wl.layer("bn").output_shape == (3, 4)


def _resnet_with(index, **changes):
    data = copy.deepcopy(RESNET)
    data["layers"][index].update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        (_resnet_with(4, inputs=["bn1", "nowhere"]), "layers[4].inputs", "nowhere"),
        # an input that is not earlier: the classifier is later than add1
        (_resnet_with(4, inputs=["bn1", "fc"]), "layers[4].inputs", "earlier"),
        (_resnet_with(4, inputs=["bn1"]), "layers[4].inputs", "two or more"),
        (_resnet_with(4, inputs=["bn1", "bn1"]), "layers[4].inputs", "once"),
        (_resnet_with(4, inputs="bn1"), "layers[4].inputs", "two or more"),
        (_resnet_with(4, inputs=[]), "layers[4].inputs", "list"),
        (_resnet_with(4, inputs=None), "layers[4].inputs", "two or more"),
        # add of (16, 8, 8) and the (3, 8, 8) network input
        (_resnet_with(4, inputs=["bn1", "input"]), "layers[4].inputs", "one shape"),
        (_resnet_with(2, inputs=["bn0", "stem"]), "layers[2].inputs", "exactly one"),
        (_resnet_with(1, trainable="no"), "layers[1].trainable", "true or false"),
        (_resnet_with(5, trainable=False), "layers[5].trainable", "without parameters"),
        (_resnet_with(4, trainable=True), "layers[4].trainable", "without parameters"),
        (_resnet_with(6, trainable=False), "layers[6].trainable", "final layer"),
        (_resnet_with(1, bias=False), "layers[1].bias", "unknown key"),
        (_resnet_with(0, name="input"), "layers[0].name", "input"),
    ],
)
def test_graph_misuse_names_file_and_key(data, key, words):
    err = error_of(data)
    assert err.file == "graph.yaml" and err.key == key, str(err)
    assert words in str(err), str(err)


def test_an_unread_layer_output_is_rejected():
    data = copy.deepcopy(RESNET)
    # a second branch off bn0 that no later layer reads is a dead layer
    data["layers"].insert(
        4, {"name": "dead", "type": "conv2d", "out_channels": 2, "kernel": 1, "inputs": ["bn0"]}
    )
    err = error_of(data)
    assert err.key == "layers[4]" and "dead, read by no layer" in str(err)


def test_concat_spatial_mismatch_and_add_count():
    layers = [
        {"name": "a", "type": "conv2d", "out_channels": 2, "kernel": 3},  # (2, 6, 6)
        {"name": "cat", "type": "concat", "inputs": ["a", "input"]},  # input is (3, 8, 8)
        {"type": "linear", "out_features": 10},
    ]
    err = error_of(workload(layers))
    assert err.key == "layers[1].inputs" and "differ only in channels" in str(err)
    assert "[3, 8, 8]" in str(err)


@pytest.mark.parametrize(
    ("p", "ok"), [(0.0, True), (0.5, True), (0.999, True), (1.0, False), (-0.1, False)]
)
def test_dropout_p_in_zero_one(p, ok):
    layers = [{"type": "dropout", "p": p}, {"type": "linear", "out_features": 10}]
    if ok:
        assert load_workload(workload(layers)).layers[0].p == p
    else:
        err = error_of(workload(layers))
        assert err.key == "layers[0].p", str(err)


def test_shape_requirements_of_batchnorm_and_global_avgpool():
    bad_bn = [{"type": "batchnorm2d"}, {"type": "linear", "out_features": 10}]
    err = error_of(workload(bad_bn, dataset={**DATASET, "input_shape": [12]}))
    assert err.key == "layers[0].type" and "(C, H, W)" in str(err)
    bad_gap = [{"type": "global_avgpool"}, {"type": "linear", "out_features": 10}]
    err = error_of(workload(bad_gap, dataset={**DATASET, "input_shape": [12]}))
    assert err.key == "layers[0].type" and "feature map" in str(err)


def test_a_batchnorm_is_not_a_classifier():
    layers = [{"type": "linear", "out_features": 10}, {"type": "batchnorm1d"}]
    err = error_of(workload(layers))
    assert err.key == "layers[1]" and "final linear/conv/recurrent" in str(err)


def test_dfa_injection_setting():
    wl = load_workload({**RESNET, "training": {"feedback": {"dfa_injection": "block_outputs"}}})
    assert wl.training.feedback.dfa_injection == "block_outputs"
    assert load_workload(RESNET | {"training": {}}).training.feedback.dfa_injection == (
        "every_layer"
    )
    sequential = workload(
        [{"type": "linear", "out_features": 10}],
        training={"feedback": {"dfa_injection": "block_outputs"}},
    )
    err = error_of(sequential)
    assert err.key == "training.feedback.dfa_injection" and "without add" in str(err)
    err = error_of({**RESNET, "training": {"feedback": {"dfa_injection": "blocks"}}})
    assert err.key == "training.feedback.dfa_injection"


def test_extension_names_are_trainable_layers_only():
    data = _resnet_with(0, trainable=False)
    data["training"] = {"algorithm": "hybrid-dfa", "extensions": {"bp_layers": ["stem"]}}
    err = error_of(data)
    assert err.key == "training.extensions.bp_layers" and "stem" in str(err)


def test_lowering_rejects_graph_workloads():
    wl = load_workload(RESNET, label="res.yaml")
    with pytest.raises(ConfigError) as info:
        lower(wl, "dfa")
    message = str(info.value)
    assert "\n" not in message and "not simulated yet" in message
    assert info.value.file == "res.yaml" and info.value.key == "layers[1]"
    assert "bn0: a batchnorm2d layer" in message


def test_lowering_rejects_frozen_and_rerouted_sequential_layers():
    frozen = workload(
        [
            {"type": "linear", "out_features": 5, "trainable": False, "name": "f"},
            {"type": "linear", "out_features": 10},
        ]
    )
    with pytest.raises(ConfigError) as info:
        lower(load_workload(frozen), "bp")
    assert info.value.key == "layers[0]" and "frozen" in str(info.value)
    # a chain whose second layer reads the input directly is a graph (the first is then unread
    # unless something reads it: here concat does)
    rerouted = workload(
        [
            {"name": "a", "type": "linear", "out_features": 5},
            {"name": "b", "type": "linear", "out_features": 4, "inputs": ["input"]},
            {"name": "cat", "type": "concat", "inputs": ["a", "b"]},
            {"type": "linear", "out_features": 10},
        ],
        dataset={**DATASET, "input_shape": [6]},
    )
    with pytest.raises(ConfigError) as info:
        lower(load_workload(rerouted), "bp")
    assert info.value.key == "layers[1]" and "not the previous layer" in str(info.value)
