"""The reference VLA's checkpoint format: self-describing and safe to load from strangers.

A checkpoint holds the weights, optimiser and scheduler state, random-generator states, model
config, normalisation bounds and the instruction-encoder id, so it alone is enough to serve,
evaluate or resume the policy. It holds tensors and plain values only (dicts, lists, tuples, str,
int, float, bool, None) and is read with `torch.load(weights_only=True)`, which refuses anything
else: loading a file never runs code from it. A checkpoint is recognised by its content (the
`format` field), whatever its file name.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from sim2real.errors import Sim2RealError
from sim2real.media import atomic_path

FORMAT = "sim2real-vla/1"
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive
_PLAIN = (str, int, float, bool, type(None))


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write atomically; `payload` must hold only tensors and plain values (else TypeError)."""
    _require_plain(payload, "payload")
    with atomic_path(path, path.suffix or ".pt") as tmp:
        torch.save({"format": FORMAT, **payload}, tmp)
    return path


def load_checkpoint(path: Path, mmap: bool = False) -> dict[str, Any]:
    """The checkpoint's payload, or a one-line Sim2RealError saying why `path` is not one.

    `mmap=True` maps the tensors instead of reading them (cheap for a look at the metadata)."""
    path = Path(path)
    if path.is_dir():
        raise Sim2RealError(f"{path} is a folder, not a checkpoint file")
    if not path.is_file():
        raise Sim2RealError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError:
        raise Sim2RealError(
            f"refusing {path}: it holds pickled Python objects, not only tensors and plain values "
            "(loading it could run code)"
        ) from None
    except Exception as error:  # a truncated or foreign file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise Sim2RealError(f"cannot read checkpoint {path}: {reason}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise Sim2RealError(f"{path} is a torch file but not a sim2real VLA checkpoint "
                            f"(format {found!r}, expected {FORMAT!r})")
    return payload


def looks_like_torch_file(path: Path) -> bool:
    """Whether `path` is a file torch.save could have written (a zip archive), by its first bytes."""
    try:
        with open(path, "rb") as file:
            return file.read(4) == _ZIP_MAGIC
    except OSError:
        return False


def _require_plain(value: Any, where: str) -> None:
    """Raise TypeError naming the first value that weights_only loading would refuse."""
    if isinstance(value, (torch.Tensor, *_PLAIN)):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"checkpoint {where} has a key of type {type(key).__name__}")
            _require_plain(item, f"{where}[{key!r}]")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _require_plain(item, f"{where}[{index}]")
        return
    raise TypeError(f"checkpoint {where} is a {type(value).__name__}; allowed: tensors and plain values")
