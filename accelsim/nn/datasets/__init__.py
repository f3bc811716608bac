"""Datasets for training, all offline: ``load_dataset(workload.dataset, seed) -> Dataset``.

Registered names are those of ``accelsim.config.datasets.DATASETS``. Inputs are standardised by
the training split's global mean and std and shaped to the workload's per-sample input shape.
"""

from __future__ import annotations

from accelsim.config.errors import ConfigError
from accelsim.config.workload import DatasetSpec
from accelsim.nn.datasets import sources
from accelsim.nn.datasets.base import Dataset, standardise


def load_dataset(spec: DatasetSpec, seed: int = 0, source: str | None = None) -> Dataset:
    """Load (or generate) the dataset a workload names; ``source`` labels errors."""
    name = spec.name
    options = spec.options
    try:
        if name == "mnist1d":
            raw = sources.mnist1d()
        elif name == "mnist":
            raw = _subset(
                sources.mnist(), options.get("train_size", 0), options.get("test_size", 0)
            )
        elif name == "digits":
            raw = sources.digits(seed)
        elif name == "shakespeare":  # one-hot characters: kept as they are, not standardised
            from accelsim.nn.datasets.shakespeare import load

            x_train, y_train, x_test, y_test = load(
                int(options["seq_len"]), int(options["train_chars"]), int(options["test_chars"])
            )
            return Dataset(name, x_train, y_train, x_test, y_test, spec.num_classes)
        elif name == "synthetic":
            raw = sources.synthetic(
                spec.input_shape,
                spec.num_classes,
                int(options.get("train_size", 1024)),
                int(options.get("test_size", 256)),
                float(options.get("noise", 0.5)),
                seed,
            )
        else:
            raise ConfigError(
                source,
                "dataset.name",
                "a dataset to train on: a dataset section with a name, or from Python "
                "fit(..., data=Dataset(...)) (simulation-only workloads name none)",
                name or "no dataset",
            )
    except ConfigError as err:
        if err.file is None and source is not None:
            raise ConfigError(source, err.key, err.expected, err.got) from None
        raise
    x_train, y_train, x_test, y_test = raw
    x_train, x_test = standardise(x_train, x_test)
    data = Dataset(name, x_train, y_train, x_test, y_test, spec.num_classes)
    return data.reshaped(spec.input_shape)


def _subset(raw: sources.Raw, train_size: int, test_size: int) -> sources.Raw:
    """The first ``train_size`` / ``test_size`` samples (0 = all): deterministic, seed-free."""
    x_train, y_train, x_test, y_test = raw
    if train_size:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    if test_size:
        x_test, y_test = x_test[:test_size], y_test[:test_size]
    return x_train, y_train, x_test, y_test


__all__ = ["Dataset", "load_dataset"]
