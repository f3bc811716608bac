"""Training algorithms as plans of error sources (see ``plan``), run by one backward engine.

``build_plan(name, ctx)`` returns the ``Plan`` for an algorithm name; ``bp``, ``fa``, ``dfa``
and ``pdfa`` are built in, extensions register more with ``@register``.
"""

from accelsim.nn.algorithms.engine import Record, backward
from accelsim.nn.algorithms.feedback import ConvFeedback, DenseFeedback, FeedbackOperator
from accelsim.nn.algorithms.plan import OUTPUT, Direct, FromAbove, Plan, PlanContext
from accelsim.nn.algorithms.registry import BUILDERS, PROVIDERS, build_plan, implemented, register

__all__ = [
    "BUILDERS",
    "OUTPUT",
    "PROVIDERS",
    "ConvFeedback",
    "DenseFeedback",
    "Direct",
    "FeedbackOperator",
    "FromAbove",
    "Plan",
    "PlanContext",
    "Record",
    "backward",
    "build_plan",
    "implemented",
    "register",
]
