"""OBJ: which instance of its object category the task uses in an episode.

Train draws from the category's seen instances, ood from its unseen ones. A different instance
is a different shape, so the env rebuilds its model when the drawn instance changes (measured:
about 0.2-0.4 s on 2 CPU cores, a few percent of a rendered episode); it keeps the model when
the instance is the one it already has.
"""

from __future__ import annotations

from sim2real.errors import Sim2RealError
from sim2real.randomize.randomizer import FACTOR_STREAMS, task_object_categories
from sim2real.randomize.streams import episode_rng
from sim2real.scene.library import ObjectInstance, category


class ObjectInstances:
    def __init__(self, task, split: str) -> None:
        names = task_object_categories(task)
        if len(names) != 1:
            raise Sim2RealError(
                f"randomize OBJ needs a task holding one object instance; {task.name} holds "
                f"{len(names)} ({', '.join(sorted(names)) or 'none'})"
            )
        self.category = next(iter(names))
        self.candidates = category(self.category).split("unseen" if split == "ood" else "seen")

    def draw(self, seed: int) -> ObjectInstance:
        rng = episode_rng(seed, FACTOR_STREAMS["OBJ"])
        return self.candidates[int(rng.integers(len(self.candidates)))]


def record(instance: ObjectInstance) -> dict:
    return {"category": instance.category, "instance": instance.instance_id}


def held_instance(task) -> ObjectInstance:
    return next(v for v in vars(task).values() if isinstance(v, ObjectInstance))
