"""The ``training:`` section of a workload: algorithm, optimizer, schedule, epochs, seed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from accelsim.config.algorithms import ALGORITHMS
from accelsim.config.errors import ConfigError
from accelsim.config.extensions import ExtensionSpec, parse_extensions
from accelsim.config.fields import Section

if TYPE_CHECKING:
    from accelsim.config.workload import LayerSpec


@dataclass(frozen=True)
class OptimizerSpec:
    type: str = "adam"  # sgd | adam
    lr: float = 1e-3
    momentum: float = 0.9  # sgd only
    beta1: float = 0.9  # adam only
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0


@dataclass(frozen=True)
class ScheduleSpec:
    type: str = "constant"  # constant | step | cosine
    step_size: int = 1  # epochs between decays (step)
    gamma: float = 0.1  # decay factor (step)
    min_lr: float = 0.0  # floor (cosine)


@dataclass(frozen=True)
class FeedbackSpec:
    """How DFA/FA feedback matrices are drawn and applied (see docs/algorithms.md)."""

    conv_mode: str = "dense"  # dense | conv: DFA feedback form for conv layers
    scale: str = "fan_in"  # fan_in | unit: std of B entries = 1/sqrt(K) or 1
    # dfa/pdfa on graph workloads: B e at every trainable layer, or only at the outputs of
    # residual blocks (add layers) with BP inside each block (docs/algorithms.md)
    dfa_injection: str = "every_layer"  # every_layer | block_outputs


@dataclass(frozen=True)
class TrainingSpec:
    algorithm: str = "bp"
    optimizer: OptimizerSpec = OptimizerSpec()
    schedule: ScheduleSpec = ScheduleSpec()
    feedback: FeedbackSpec = FeedbackSpec()
    epochs: int = 1
    seed: int = 0
    grad_clip: float = 0.0  # global-norm clip; 0 disables
    # optimizer steps between the weights a gradient is computed with and the current ones:
    # 0 or 1; None = the algorithm's default (resolve_weight_delay). See nn/train/delay.py.
    weight_delay: int | None = None
    # DFA extensions (sparse-dfa, modular-dfa, hybrid-dfa): see accelsim/config/extensions.py
    extensions: ExtensionSpec = ExtensionSpec()
    # ``per_algorithm``: the settings each named algorithm trains with instead (its recipe)
    recipes: tuple[AlgorithmRecipe, ...] = ()

    def for_algorithm(self, algorithm: str) -> TrainingSpec:
        """The settings ``algorithm`` trains with: its ``per_algorithm`` recipe when the
        workload has one (pdfa falls back to dfa's), else these; ``algorithm`` set, the recipes
        dropped. One resolution for the functional engine and the lowering (the optimizer
        decides the update's cost)."""
        # pdfa trains as dfa (with a weight delay): without a recipe of its own it takes dfa's
        for name in (algorithm, "dfa") if algorithm == "pdfa" else (algorithm,):
            for recipe in self.recipes:
                if recipe.algorithm == name:
                    return replace(recipe.training, algorithm=algorithm, recipes=())
        return replace(self, algorithm=algorithm, recipes=())


@dataclass(frozen=True)
class AlgorithmRecipe:
    """One entry of ``training.per_algorithm``: the whole settings ``algorithm`` trains with
    (the section's keys, overridden by the entry's)."""

    algorithm: str
    training: TrainingSpec


TRAINING_KEYS = (
    "algorithm",
    "optimizer",
    "lr_schedule",
    "feedback",
    "epochs",
    "seed",
    "grad_clip",
    "weight_delay",
    "extensions",
    "per_algorithm",
)
# what a recipe may change: how an algorithm is trained, not what is trained or for how long
# (epochs, seed and weight delay stay common, so algorithms are compared on one budget)
RECIPE_KEYS = ("optimizer", "lr_schedule", "feedback", "grad_clip", "extensions")


def parse_training(section: Section, layers: Sequence[LayerSpec]) -> TrainingSpec:
    section.reject_unknown(TRAINING_KEYS)
    spec = _parse_training(section, layers)
    modes = [spec.feedback, *(recipe.training.feedback for recipe in spec.recipes)]
    blocks = [feedback.dfa_injection for feedback in modes]
    if "block_outputs" in blocks and not any(layer.kind == "add" for layer in layers[:-1]):
        raise ConfigError(
            section.file,
            section.key_path("feedback.dfa_injection"),
            "every_layer for a workload without add layers (block_outputs injects at "
            "the outputs of residual blocks)",
            "block_outputs",
        )
    return spec


def _parse_training(section: Section, layers: Sequence[LayerSpec]) -> TrainingSpec:
    base = TrainingSpec(
        algorithm=section.get_choice("algorithm", ALGORITHMS, default="bp"),
        epochs=section.get_int("epochs", default=1, minimum=1),
        seed=section.get_int("seed", default=0, minimum=0),
        weight_delay=_weight_delay(section),
    )
    spec = _settings(section, layers, base)
    recipes = section.get_section("per_algorithm", default=None)
    entries = []
    for name in recipes.data:
        if name not in ALGORITHMS:
            raise recipes.error(None, "algorithm names from " + ", ".join(ALGORITHMS), name)
        entry = recipes.get_section(name)
        entry.reject_unknown(RECIPE_KEYS)
        entries.append(AlgorithmRecipe(name, _settings(entry, layers, spec)))
    return replace(spec, recipes=tuple(entries))


def _settings(section: Section, layers: Sequence[LayerSpec], base: TrainingSpec) -> TrainingSpec:
    """The recipe keys of ``section`` (RECIPE_KEYS), absent ones taken from ``base``."""
    return replace(
        base,
        optimizer=_optimizer(section.get_section("optimizer", default=None), base.optimizer),
        schedule=_schedule(section.get_section("lr_schedule", default=None), base.schedule),
        feedback=_feedback(section.get_section("feedback", default=None), base.feedback),
        grad_clip=section.get_float("grad_clip", default=base.grad_clip, minimum=0.0),
        extensions=_merge_extensions(
            base.extensions,
            parse_extensions(section.get_section("extensions", default=None), layers),
        ),
    )


def _optimizer(opt: Section, base: OptimizerSpec) -> OptimizerSpec:
    opt.reject_unknown(("type", "lr", "momentum", "betas", "eps", "weight_decay"))
    betas = opt.get_list("betas", default=[base.beta1, base.beta2])
    if len(betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
        raise opt.error("betas", "two numbers in [0, 1)", betas)
    return OptimizerSpec(
        type=opt.get_choice("type", ("sgd", "adam"), default=base.type),
        lr=opt.get_float("lr", default=base.lr, minimum=0.0, exclusive_minimum=True),
        momentum=opt.get_float("momentum", default=base.momentum, minimum=0.0, maximum=1.0),
        beta1=float(betas[0]),
        beta2=float(betas[1]),
        eps=opt.get_float("eps", default=base.eps, minimum=0.0, exclusive_minimum=True),
        weight_decay=opt.get_float("weight_decay", default=base.weight_decay, minimum=0.0),
    )


def _schedule(sched: Section, base: ScheduleSpec) -> ScheduleSpec:
    sched.reject_unknown(("type", "step_size", "gamma", "min_lr"))
    return ScheduleSpec(
        type=sched.get_choice("type", ("constant", "step", "cosine"), default=base.type),
        step_size=sched.get_int("step_size", default=base.step_size, minimum=1),
        gamma=sched.get_float("gamma", default=base.gamma, minimum=0.0, maximum=1.0),
        min_lr=sched.get_float("min_lr", default=base.min_lr, minimum=0.0),
    )


def _feedback(fb: Section, base: FeedbackSpec) -> FeedbackSpec:
    fb.reject_unknown(("conv_mode", "scale", "dfa_injection"))
    return FeedbackSpec(
        conv_mode=fb.get_choice("conv_mode", ("dense", "conv"), default=base.conv_mode),
        scale=fb.get_choice("scale", ("fan_in", "unit"), default=base.scale),
        dfa_injection=fb.get_choice("dfa_injection", DFA_INJECTIONS, default=base.dfa_injection),
    )


DFA_INJECTIONS = ("every_layer", "block_outputs")


def _merge_extensions(base: ExtensionSpec, override: ExtensionSpec) -> ExtensionSpec:
    """``override``'s keys where set, ``base``'s otherwise."""
    return ExtensionSpec(
        **{
            key: getattr(override, key) if getattr(override, key) is not None else value
            for key, value in vars(base).items()
        }
    )


# Weight delay (design.md section 10): PDFA on DF-LNPU runs the next sample's forward pass on
# weights not yet updated by the current sample's errors, a delay of one update.
WEIGHT_DELAYS = (0, 1)
DEFAULT_WEIGHT_DELAY = {"pdfa": 1}


def _weight_delay(section: Section) -> int | None:
    return section.get_int("weight_delay", default=None, minimum=0, maximum=max(WEIGHT_DELAYS))


def resolve_weight_delay(training: TrainingSpec | None, algorithm: str) -> int:
    """The weight delay ``algorithm`` trains and is simulated with: the workload's
    ``training.weight_delay`` when set, else 1 for pdfa (as on DF-LNPU) and 0 otherwise.

    One definition for train, simulate, compare, sweep and study: with delay 1 the forward
    pass of iteration i+1 may use weights not yet updated by iteration i."""
    explicit = getattr(training, "weight_delay", None)
    if explicit is not None:
        return int(explicit)
    return DEFAULT_WEIGHT_DELAY.get(algorithm, 0)
