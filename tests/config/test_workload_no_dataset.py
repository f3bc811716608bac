"""A spec without a ``dataset`` section loads when ``input_shape=`` is given (API use), and
fails with a message naming what is missing when it is not."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from accelsim.config import load_workload
from accelsim.config.errors import ConfigError
from accelsim.config.workload import DatasetSpec
from accelsim.lowering.lower import lower
from accelsim.nn import Network
from accelsim.nn.datasets import Dataset
from accelsim.nn.train import BatchProgress, fit
from accelsim.report.api import simulate_point

ROOT = Path(__file__).resolve().parents[2]

# conv 5x5 on (1, 28, 28) -> (4, 24, 24); 2x2 max pool -> (4, 12, 12); linear 576 -> 10
CNN = {
    "layers": [
        {"name": "conv1", "type": "conv2d", "out_channels": 4, "kernel": 5, "activation": "relu"},
        {"name": "pool1", "type": "maxpool2d", "kernel": 2},
        {"name": "fc1", "type": "linear", "out_features": 10},
    ]
}
MLP = {
    "layers": [
        {"name": "fc1", "type": "linear", "out_features": 8, "activation": "tanh"},
        {"name": "fc2", "type": "linear", "out_features": 3},
    ]
}


def test_input_shape_without_dataset_gives_a_nameless_dataset_with_the_final_layers_classes():
    net = Network.from_spec(CNN, input_shape=(1, 28, 28))
    assert net.workload.dataset == DatasetSpec(
        name="", batch_size=32, input_shape=(1, 28, 28), num_classes=10
    )
    shapes = [(layer.input_shape, layer.output_shape) for layer in net.workload.layers]
    assert shapes == [((1, 28, 28), (4, 24, 24)), ((4, 24, 24), (4, 12, 12)), ((4, 12, 12), (10,))]
    assert net.workload.layer("fc1").in_features == 4 * 12 * 12
    assert net.forward(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 10)


def test_it_is_the_workload_a_simulation_only_dataset_section_gives():
    """Equal to an already supported form, so simulation and lowering see the same object."""
    derived = load_workload(CNN, input_shape=(1, 28, 28))
    written = load_workload({**CNN, "dataset": {"input_shape": [1, 28, 28], "num_classes": 10}})
    assert derived == written
    assert lower(derived, "dfa") == lower(written, "dfa")
    report = simulate_point(ROOT / "arch_configs" / "dflnpu.yaml", derived, "dfa", 1)
    assert report["batch_size"] == 32 and report["cycles"] > 0


def test_numpy_integers_from_an_array_shape_are_accepted():
    x = np.zeros((5, 1, 28, 28), np.float32)
    assert load_workload(CNN, input_shape=x.shape[1:]).dataset.input_shape == (1, 28, 28)
    shape = (np.int64(1), np.int32(28), np.int64(28))
    assert load_workload(CNN, input_shape=shape).dataset.input_shape == (1, 28, 28)


def test_neither_dataset_nor_input_shape_names_the_file_the_key_and_both_ways_out(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_workload(MLP)
    assert (err.value.file, err.value.key) == ("<dict>", "dataset")
    assert "dataset section" in err.value.expected and "input_shape=" in err.value.expected
    path = tmp_path / "net.yaml"
    path.write_text("layers:\n  - {type: linear, out_features: 3}\n")
    with pytest.raises(ConfigError, match=r"net\.yaml: dataset: expected a dataset section"):
        Network.from_spec(path)
    with pytest.raises(ConfigError, match=r"^<dict>: dataset: .*input_shape="):
        fit(MLP)  # fit cannot take input_shape=; the spec needs the section


def test_a_named_dataset_still_checks_the_final_layers_class_count():
    spec = {**MLP, "dataset": {"name": "digits"}}  # 10 classes; MLP ends with 3
    for input_shape in (None, (64,)):
        with pytest.raises(ConfigError, match="with 10 outputs") as err:
            load_workload(spec, input_shape=input_shape)
        assert err.value.key == "layers[1]"


@pytest.mark.parametrize(
    "layers",
    [
        [{"type": "linear", "out_features": 1}],  # one output: not a class count
        [{"type": "linear", "out_features": 4}, {"type": "flatten"}],  # no parameters
    ],
)
def test_the_final_layer_must_be_a_classifier_to_give_the_class_count(layers):
    with pytest.raises(ConfigError, match="at least 2 outputs") as err:
        load_workload({"layers": layers}, input_shape=(6,))
    assert err.value.key == f"layers[{len(layers) - 1}]"


@pytest.mark.parametrize("bad", [784, (0, 28), (1.5,), (1, 1, 1, 1, 1), ()])
def test_a_bad_input_shape_argument_is_a_config_error(bad):
    with pytest.raises(ConfigError) as err:
        load_workload(MLP, input_shape=bad)
    assert err.value.key == "input_shape argument"


def test_training_needs_data_given_or_a_dataset_to_load():
    workload = load_workload(MLP, input_shape=(6,))
    with pytest.raises(ConfigError) as err:
        fit(workload)
    assert err.value.file == "<dict>" and err.value.key.startswith("dataset")
    assert "dataset" in err.value.expected
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    data = Dataset("given", x[:33], y[:33], x[33:], y[33:], num_classes=3)
    batches: list[BatchProgress] = []
    result = fit(workload, data=data, epochs=2, on_batch=batches.append)
    assert [b.batch for b in batches] == [1, 2] * 2  # ceil(33 / 32) batches of the default 32
    assert len(result.history) == 2 and np.isfinite(result.history[-1].train_loss)


def test_the_docs_example_runs_as_written():
    page = (ROOT / "docs" / "workloads.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    [block] = [b for b in blocks if "Network.from_spec(spec, input_shape=" in b]
    scope: dict = {}
    exec(compile(block, "docs/workloads.md", "exec"), scope)  # our own docs page
    assert scope["net"].workload.dataset == DatasetSpec("", 32, (1, 28, 28), 10)
    assert scope["net"].workload.layer("fc1").in_features == 784
    assert len(scope["result"].history) == 1
