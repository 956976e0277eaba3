"""Tasks: objects, initial states, experts, success predicates and instructions."""

from sim2real.tasks.base import Episode, InstructionSet, Phase, SimView, Task
from sim2real.tasks.registry import task_class, task_names

__all__ = ["Episode", "InstructionSet", "Phase", "SimView", "Task", "task_class", "task_names"]
