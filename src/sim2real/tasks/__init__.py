"""Tasks: objects, initial states, success predicates and instructions (no experts)."""

from sim2real.tasks.base import InitialState, InstructionSet, SimView, Task
from sim2real.tasks.registry import task_class, task_names

__all__ = ["InitialState", "InstructionSet", "SimView", "Task", "task_class", "task_names"]
