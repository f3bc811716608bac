"""Training: ``fit(workload, algorithm=..., epochs=..., seed=...) -> TrainResult``.

Optimizers (SGD with momentum, Adam), learning-rate schedules (constant, step, cosine) and the
loop with shuffling, per-epoch test evaluation and divergence detection. Progress goes to the
``on_epoch`` / ``on_batch`` callbacks; nothing is printed.
"""

from accelsim.nn.train.loop import TrainingDiverged, evaluate, fit
from accelsim.nn.train.results import BatchProgress, EpochStats, TrainResult

__all__ = ["BatchProgress", "EpochStats", "TrainResult", "TrainingDiverged", "evaluate", "fit"]
