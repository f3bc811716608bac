"""Lowering: a workload plus a training algorithm becomes the task graph of one iteration."""

from accelsim.lowering.graph import GemmWork, Operand, Task, TaskGraph
from accelsim.lowering.lower import lower

__all__ = ["GemmWork", "Operand", "Task", "TaskGraph", "lower"]
