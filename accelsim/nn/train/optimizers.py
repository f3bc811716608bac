"""Optimizers that update parameter arrays in place: SGD with momentum, and Adam.

Both follow PyTorch's definitions, weight decay included as an L2 term added to the direction:
SGD  v <- mu v + g;  p <- p - lr v.
Adam m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  p <- p - lr m_hat / (sqrt(v_hat) + eps),
with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.config.training import OptimizerSpec


class Optimizer:
    def __init__(self, spec: OptimizerSpec) -> None:
        self.spec = spec
        self.steps = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
        self.steps += 1
        for name, param in params.items():
            grad = grads[name]
            if self.spec.weight_decay:
                grad = grad + np.float32(self.spec.weight_decay) * param
            self._update(name, param, grad, lr)

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    def __init__(self, spec: OptimizerSpec) -> None:
        super().__init__(spec)
        self.velocity: dict[str, np.ndarray] = {}

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        if self.spec.momentum:
            velocity = self.velocity.get(name)
            if velocity is None:
                velocity = self.velocity[name] = np.array(grad, dtype=np.float32)
            else:
                velocity *= np.float32(self.spec.momentum)
                velocity += grad
            grad = velocity
        param -= np.float32(lr) * grad


class Adam(Optimizer):
    def __init__(self, spec: OptimizerSpec) -> None:
        super().__init__(spec)
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        b1, b2 = self.spec.beta1, self.spec.beta2
        if name not in self.m:
            self.m[name] = np.zeros_like(param)
            self.v[name] = np.zeros_like(param)
        m, v = self.m[name], self.v[name]
        m *= np.float32(b1)
        m += np.float32(1 - b1) * grad
        v *= np.float32(b2)
        v += np.float32(1 - b2) * np.square(grad)
        step_size = lr * math.sqrt(1 - b2**self.steps) / (1 - b1**self.steps)
        eps_hat = self.spec.eps * math.sqrt(1 - b2**self.steps)
        param -= np.float32(step_size) * m / (np.sqrt(v) + np.float32(eps_hat))


def make_optimizer(spec: OptimizerSpec) -> Optimizer:
    return {"sgd": SGD, "adam": Adam}[spec.type](spec)


def clip_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients in place so their joint L2 norm is at most ``max_norm``."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if max_norm and norm > max_norm:
        factor = np.float32(max_norm / norm)
        for grad in grads.values():
            grad *= factor
    return norm
