"""What a training run may write over and what a resumed run may change, checked before any work.

A new run never replaces an existing checkpoint unless asked (`overwrite`). A resumed run
continues the checkpoint's run: settings the user does not give are the checkpoint's; what the
weights were trained for cannot change (the data and its normalisation, the model, head,
encoder and cameras, and the seed whose random streams continue from the checkpoint); the
optimisation settings can, are applied from the resumed step on and are recorded in the
checkpoint's `resumes` list with their old and new values.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from sim2real.errors import Sim2RealError, invalid
from sim2real.policy.transforms import Normalisation
from sim2real.policy.vla.config import VLAConfig
from sim2real.train.config import SFTConfig

# The run's own identity and where it writes: never taken from the checkpoint.
WHERE = ("data", "out", "resume", "overwrite", "log_dir", "feature_cache_dir")
# Fixed by the weights: (config field, the checkpoint's model-config field or None for train_config).
FIXED = (("model", "size"), ("head", "head"), ("encoder", "encoder"), ("cameras", "cameras"),
         ("image_size", "image_size"), ("camera_aspect", "camera_aspect"), ("frozen_stages", "frozen_stages"),
         ("seed", None), ("vision_weights", None))
APPLIED = ("steps", "learning_rate", "warmup_steps", "weight_decay", "grad_clip", "batch_size",
           "augment", "checkpoint_every", "feature_cache", "feature_views")


def check_output(config: SFTConfig) -> None:
    """The checkpoint path can be written, and writing it loses nothing the user did not give up."""
    out = config.out
    if config.resume and config.overwrite:
        raise invalid("overwrite", True, "not with --resume (resume continues --out; overwrite starts afresh)")
    if out.is_dir():
        raise invalid("out", str(out), "a checkpoint file path; this is a folder (e.g. use "
                      f"{out / 'model.pt'})")
    if out.exists() and not (config.resume or config.overwrite):
        raise invalid("out", str(out), "a path that does not exist yet; it holds a file (add --resume "
                      "to continue its run, or --overwrite to replace it)")
    existing = next(p for p in (out.parent, *out.parent.parents) if p.exists() or p == p.parent)
    try:  # the first checkpoint is written after hours of training: find out now, creating nothing
        if not existing.is_dir():
            raise NotADirectoryError(f"{existing} is a file")
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise invalid("out", str(out), f"a writable path ({error.strerror or error})") from None


def continue_run(config: SFTConfig, saved: dict[str, Any]) -> tuple[SFTConfig, dict[str, list]]:
    """The resumed run's settings (the checkpoint's, with what the user gave applied) and the
    changes made, {field: [old, new]}; refuses a change the weights cannot follow."""
    recorded = {k: v for k, v in saved.get("train_config", {}).items()
                if k in SFTConfig.model_fields and k not in WHERE}
    model = VLAConfig(**saved["config"]).model_dump(mode="json")
    given = config.model_dump(mode="json")
    for field, model_field in FIXED:
        if field not in config.model_fields_set or given[field] is None:
            continue
        have = model[model_field] if model_field else recorded.get(field)
        if given[field] != have:
            raise Sim2RealError(
                f"invalid {field}: {given[field]!r} with --resume; {config.out} holds a run with "
                f"{field} {have!r} (resume with the same settings, or write to another --out)"
            )
    changes = {field: [recorded.get(field), given[field]] for field in APPLIED
               if field in config.model_fields_set and recorded.get(field) != given[field]}
    explicit = {k: getattr(config, k) for k in config.model_fields_set}
    where = {k: getattr(config, k) for k in WHERE}
    return SFTConfig(**{**recorded, **explicit, **where}), changes


def dataset_summary(roots: tuple[Path, ...]) -> list[dict[str, Any]]:
    """What identifies the training data in a checkpoint: each dataset's size, and where it was."""
    from sim2real.data.reader import Dataset

    summary = []
    for root in roots:
        info = Dataset(root).info
        summary.append({"path": str(Path(root).resolve()), "episodes": int(info["total_episodes"]),
                        "frames": int(info["total_frames"])})
    return summary


def check_same_data(config: SFTConfig, normalisation: Normalisation, saved: dict[str, Any]) -> None:
    """A resumed run trains on the data its weights were trained on: the same datasets (the
    same episodes and frames, wherever the folders are now) and the same normalisation."""
    before = saved.get("datasets", [])
    now = dataset_summary(config.data)
    sizes = [(d["episodes"], d["frames"]) for d in now]
    if before and isinstance(before[0], dict):  # older checkpoints recorded paths only
        same = sizes == [(d["episodes"], d["frames"]) for d in before]
    else:
        same = [Path(p).resolve() for p in before] == [Path(p).resolve() for p in config.data]
    if not same:
        described = [d["path"] if isinstance(d, dict) else d for d in before]
        raise Sim2RealError(
            f"invalid data: {[str(p) for p in config.data]} with --resume; {config.out} was trained on "
            f"{described} (resume with the same datasets, or write to another --out)"
        )
    if not normalisation.same_as(Normalisation.from_dict(saved["normalisation"])):
        raise Sim2RealError(
            f"invalid data: {[str(p) for p in config.data]} with --resume; their meta/stats.json "
            f"bounds differ from the normalisation {config.out} was trained with (the data changed; "
            "write to another --out)"
        )
