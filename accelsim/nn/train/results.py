"""What training returns and reports: per-batch progress, per-epoch statistics, the result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class BatchProgress:
    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    num_batches: int
    loss: float


@dataclass(frozen=True)
class EpochStats:
    epoch: int  # 1-based
    train_loss: float  # mean over the epoch's mini-batches (weights changing meanwhile)
    train_accuracy: float  # fraction, from the same forward passes
    test_loss: float
    test_accuracy: float  # fraction, after the epoch
    lr: float
    seconds: float  # wall time of the epoch, evaluation included


@dataclass(frozen=True)
class TrainResult:
    workload: str
    algorithm: str
    epochs: int
    seed: int
    num_params: int
    history: tuple[EpochStats, ...]
    seconds: float
    # per parameter layer: feedback size and measured zeros (accelsim.nn.algorithms.stats)
    layer_stats: dict[str, dict] = field(default_factory=dict)
    # the trained network, for callers that go on using it (not serialised)
    network: Any = field(default=None, repr=False, compare=False)

    @property
    def final(self) -> EpochStats:
        return self.history[-1]

    @property
    def train_loss(self) -> float:
        return self.final.train_loss

    @property
    def test_accuracy(self) -> float:
        return self.final.test_accuracy

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``accelsim train --json``."""
        final = self.final
        return {
            "workload": self.workload,
            "algorithm": self.algorithm,
            "epochs": self.epochs,
            "seed": self.seed,
            "num_params": self.num_params,
            "train_loss": final.train_loss,
            "train_accuracy": final.train_accuracy,
            "test_loss": final.test_loss,
            "test_accuracy": final.test_accuracy,
            "best_test_accuracy": max(stats.test_accuracy for stats in self.history),
            "seconds": self.seconds,
            "history": [asdict(stats) for stats in self.history],
            "layer_stats": self.layer_stats,
        }
