"""The training loop: mini-batches of a shuffled training set, one optimizer step per batch,
evaluation on the held-out test set after every epoch, and a stop on divergence.

Everything random (initial weights, feedback matrices, shuffling, synthetic data, the digits
split) derives from one seed, so the same workload and seed give the same numbers.
Progress is reported through callbacks; this module never prints.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.config.errors import ConfigError
from accelsim.config.fields import check_int
from accelsim.config.training import WEIGHT_DELAYS, TrainingSpec, resolve_weight_delay
from accelsim.config.workload import Workload, load_workload
from accelsim.nn.algorithms.stats import layer_stats
from accelsim.nn.datasets import Dataset, load_dataset
from accelsim.nn.network import Network, accuracy
from accelsim.nn.train.delay import WeightDelay
from accelsim.nn.train.optimizers import clip_global_norm, make_optimizer
from accelsim.nn.train.results import BatchProgress, EpochStats, TrainResult
from accelsim.nn.train.schedules import learning_rate


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; carries where it happened."""

    def __init__(self, workload: str, epoch: int, batch: int, loss: float, lr: float) -> None:
        self.epoch, self.batch, self.loss, self.lr = epoch, batch, loss, lr
        super().__init__(
            f"{workload}: training diverged at epoch {epoch}, batch {batch}: loss is {loss} "
            f"(lr {lr:g}); lower training.optimizer.lr or set training.grad_clip"
        )


def fit(
    workload: str | Path | dict[str, Any] | Workload,
    algorithm: str | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    *,
    data: Dataset | None = None,
    on_epoch: Callable[[EpochStats], None] | None = None,
    on_batch: Callable[[BatchProgress], None] | None = None,
    eval_batch_size: int = 1000,
    weight_delay: int | None = None,
) -> TrainResult:
    """Train ``workload`` and return its per-epoch history.

    ``algorithm``, ``epochs`` and ``seed`` override the workload's ``training:`` section (its
    defaults apply when the section is absent). ``data`` replaces the dataset the workload
    names (already standardised, shaped like the network input). ``weight_delay`` (0 or 1)
    overrides ``training.weight_delay``, whose default is 1 for pdfa and 0 otherwise
    (``resolve_weight_delay``): gradients use the weights of that many steps ago (delay.py).
    Raises ``ConfigError`` for bad input and ``TrainingDiverged`` on a NaN/inf loss.
    """
    if not isinstance(workload, Workload):
        workload = load_workload(workload)
    spec = training_settings(workload, algorithm, epochs, seed, weight_delay)
    workload = replace(workload, training=spec)
    network = Network(workload, seed=spec.seed)
    plan_name = spec.algorithm
    network.plan(plan_name)  # draw feedback (and fail on an unavailable algorithm) up front
    if data is None:
        data = load_dataset(workload.dataset, spec.seed, workload.source)
    optimizer = make_optimizer(spec.optimizer)
    shuffle = np.random.default_rng([spec.seed, 1])
    batch_size = workload.dataset.batch_size
    count = len(data.x_train)
    if count == 0 or len(data.x_test) == 0:
        raise ConfigError(
            workload.source,
            "dataset",
            "a training and a test split of at least one sample each",
            f"{count} training and {len(data.x_test)} test samples",
        )
    num_batches = math.ceil(count / batch_size)
    params = network.trainable_params  # frozen layers: no update, no optimizer state
    delay = WeightDelay(params, spec.weight_delay)
    history: list[EpochStats] = []
    started = time.perf_counter()
    for epoch in range(1, spec.epochs + 1):
        epoch_start = time.perf_counter()
        lr = learning_rate(spec.schedule, spec.optimizer.lr, epoch - 1, spec.epochs)
        order = shuffle.permutation(count)
        loss_sum = correct = 0.0
        for batch in range(1, num_batches + 1):
            index = order[(batch - 1) * batch_size : batch * batch_size]
            x, y = data.x_train[index], data.y_train[index]
            with delay.stale():
                loss, grads, logits = network.train_step(x, y, plan_name)
            if not math.isfinite(loss):
                raise TrainingDiverged(workload.source, epoch, batch, loss, lr)
            if spec.grad_clip:
                clip_global_norm(grads, spec.grad_clip)
            optimizer.step(params, grads, lr)
            delay.stepped()
            loss_sum += loss * len(index)
            correct += accuracy(logits, y) * len(index)
            if on_batch is not None:
                on_batch(BatchProgress(epoch, batch, num_batches, loss))
        test_loss, test_accuracy = evaluate(network, data.x_test, data.y_test, eval_batch_size)
        stats = EpochStats(
            epoch=epoch,
            train_loss=loss_sum / count,
            train_accuracy=correct / count,
            test_loss=test_loss,
            test_accuracy=test_accuracy,
            lr=lr,
            seconds=time.perf_counter() - epoch_start,
        )
        history.append(stats)
        if on_epoch is not None:
            on_epoch(stats)
    return TrainResult(
        workload=workload.name,
        algorithm=spec.algorithm,
        epochs=spec.epochs,
        seed=spec.seed,
        num_params=network.num_params,
        history=tuple(history),
        seconds=time.perf_counter() - started,
        layer_stats=layer_stats(network, data.x_test[:256], data.y_test[:256], plan_name),
        network=network,
    )


def evaluate(
    network: Network, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) over a whole split, in batches."""
    loss_sum = correct = 0.0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        loss, logits = network.loss(xb, yb)
        loss_sum += loss * len(xb)
        correct += accuracy(logits, yb) * len(xb)
    return loss_sum / len(x), correct / len(x)


def training_settings(
    workload: Workload,
    algorithm: str | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    weight_delay: int | None = None,
) -> TrainingSpec:
    """The training settings ``fit`` runs with: the workload's ``training:`` section (its
    defaults when absent) with the given overrides applied and ``weight_delay`` resolved to
    an int by ``resolve_weight_delay`` (the override, else ``training.weight_delay``, else 1
    for pdfa and 0 otherwise). ``accelsim train`` reports the delay from here, so what it
    prints is what ``fit`` used."""
    spec = workload.training or TrainingSpec()
    spec = spec.for_algorithm(algorithm or spec.algorithm)  # its per_algorithm recipe
    overrides = {"epochs": epochs, "seed": seed}
    spec = replace(spec, **{k: v for k, v in overrides.items() if v is not None})
    if weight_delay is not None:
        spec = replace(
            spec,
            weight_delay=check_int(weight_delay, None, "weight_delay", 0, max(WEIGHT_DELAYS)),
        )
    return replace(spec, weight_delay=resolve_weight_delay(spec, spec.algorithm))
