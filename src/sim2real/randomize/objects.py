"""OBJ: which instance of its object category the task uses in an episode.

Train draws from the category's seen instances, ood and heldout from its unseen ones (task
objects have no third set). The task declares the object it holds as its object slot, and the
env rebuilds the task around the drawn instance (`Task.with_objects`). A different instance is a different shape, so the env recompiles its
model when the instance changes (measured: about 0.2-0.4 s on 2 CPU cores, a few percent of a
rendered episode); it keeps the model when the instance is the one it already has.
"""

from __future__ import annotations

from sim2real.errors import Sim2RealError
from sim2real.randomize.randomizer import FACTOR_STREAMS
from sim2real.randomize.streams import episode_rng
from sim2real.scene.library import ObjectInstance, category
from sim2real.tasks.base import Task


class ObjectInstances:
    """The instances OBJ draws for a task's one object slot."""

    def __init__(self, task: Task, split: str) -> None:
        if len(task.object_slots) != 1:
            slots = ", ".join(task.object_slots) or "none"
            raise Sim2RealError(
                f"randomize OBJ needs a task with one object slot; {task.name} has "
                f"{len(task.object_slots)} ({slots})"
            )
        (self.slot,) = task.object_slots
        held = task.objects()[self.slot]
        self.candidates = category(held.category).split("seen" if split == "train" else "unseen")

    def draw(self, seed: int) -> ObjectInstance:
        rng = episode_rng(seed, FACTOR_STREAMS["OBJ"])
        return self.candidates[int(rng.integers(len(self.candidates)))]

    def held(self, task: Task) -> ObjectInstance:
        return task.objects()[self.slot]

    def task_with(self, task: Task, instance: ObjectInstance) -> Task:
        """`task` holding `instance`: itself when it already does, else a new task."""
        if self.held(task).instance_id == instance.instance_id:
            return task
        return task.with_objects(**{self.slot: instance})


def record(instance: ObjectInstance) -> dict:
    return {"category": instance.category, "instance": instance.instance_id}


def swaps_instances(task: Task) -> bool:
    """Whether OBJ can draw the task's object: the task has exactly one object slot."""
    return len(task.object_slots) == 1
