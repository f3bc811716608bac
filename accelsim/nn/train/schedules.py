"""Learning-rate schedules, evaluated once at the start of each epoch (epoch counts from 0).

constant: lr;  step: lr * gamma^floor(epoch / step_size);
cosine:   min_lr + (lr - min_lr) * (1 + cos(pi * epoch / epochs)) / 2.
"""

from __future__ import annotations

import math

from accelsim.config.training import ScheduleSpec


def learning_rate(spec: ScheduleSpec, base_lr: float, epoch: int, epochs: int) -> float:
    if spec.type == "step":
        return base_lr * spec.gamma ** (epoch // spec.step_size)
    if spec.type == "cosine":
        return spec.min_lr + (base_lr - spec.min_lr) * (1 + math.cos(math.pi * epoch / epochs)) / 2
    return base_lr
