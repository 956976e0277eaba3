"""Images and videos people look at: PNG contact sheets and H.264 MP4s, written atomically."""

from __future__ import annotations

import fnmatch
import os
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw


TEMP_PREFIX = ".tmp-"  # marks files that atomic_path had not yet renamed into place


@contextmanager
def atomic_path(path: Path, suffix: str):
    """Yield a temporary path beside `path`; rename it into place only if the block succeeds.

    A process killed with SIGKILL cannot clean up; its temporary file keeps TEMP_PREFIX, so a
    later run can sweep it with `remove_temporaries`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give normal permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def why_not_a_folder(folder: Path) -> str | None:
    """Why `folder` cannot be made or used as a folder (it, or a parent as in `out.txt/run1`, is
    an existing file), in words; None when it can."""
    for path in (folder, *folder.parents):
        if path.exists():
            if path.is_dir():
                return None
            return "this is a file" if path == folder else f"{str(path)!r} is a file"
    return None


def require_folder(path: Path | None, option: str = "out") -> None:
    """`path` may be created or reused as a folder: neither it nor a parent is a file. Raises
    the one-line user error naming `option` (checked before any work starts)."""
    from sim2real.errors import invalid

    reason = why_not_a_folder(path) if path is not None else None
    if reason is not None:
        raise invalid(option, str(path), f"a folder to write into (new or existing); {reason}")


def remove_temporaries(root: Path, owned: Iterable[tuple[str, str]], idle_seconds: float = 0.0) -> int:
    """Delete the temporary files that killed `atomic_path` writers left under `root`; returns
    how many. Only where this tool writes: `owned` is (folder glob, file-name glob) pairs, and a
    file is removed only if its name is exactly an atomic_path temporary of a matching name, so
    a user's own `.tmp-*` files (or any file elsewhere) are never touched. `idle_seconds` > 0
    spares files written to within that time: where another live process may share the folder
    (a second server), only a writer that stopped long ago is taken for dead."""
    stale = []
    horizon = time.time() - idle_seconds
    for folder_glob, name_glob in owned:
        folders = [root] if folder_glob == "." else [f for f in root.glob(folder_glob) if f.is_dir()]
        for folder in folders:
            for path in folder.glob(f"{TEMP_PREFIX}*"):
                match = _TEMPORARY.fullmatch(path.name)
                if path.is_file() and match and fnmatch.fnmatchcase(match["name"], name_glob):
                    if idle_seconds <= 0 or path.stat().st_mtime < horizon:
                        stale.append(path)
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


# atomic_path's names: prefix, the final name, mkstemp's 8 random characters, the suffix.
_TEMPORARY = re.compile(rf"{re.escape(TEMP_PREFIX)}(?P<name>.+)\.[a-z0-9_]{{8}}(\.[A-Za-z0-9]+)?")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_png(path: Path, image: np.ndarray | Image.Image) -> Path:
    picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
    with atomic_path(path, ".png") as tmp:
        picture.save(tmp, format="PNG")
    return path


def contact_sheet(
    images: Sequence[np.ndarray], labels: Sequence[str] | None = None, columns: int | None = None
) -> Image.Image:
    """Tile images (resized to the first one's size) in a grid, each with an optional label."""
    if not images:
        raise ValueError("contact_sheet needs at least one image")
    height, width = images[0].shape[:2]
    columns = columns or len(images)
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * width, rows * height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for index, image in enumerate(images):
        tile = Image.fromarray(image)
        if tile.size != (width, height):
            tile = tile.resize((width, height), Image.Resampling.BILINEAR)
        x, y = (index % columns) * width, (index // columns) * height
        sheet.paste(tile, (x, y))
        if labels is not None:
            draw.rectangle([x, y, x + 8 + 7 * len(labels[index]), y + 16], fill=(0, 0, 0))
            draw.text((x + 4, y + 2), labels[index], fill=(255, 255, 255))
    return sheet


ENCODER_THREADS = 1


def write_mp4(path: Path, frames: Iterable[np.ndarray], fps: float, crf: int = 23,
              keyframe_interval: int | None = None) -> Path:
    """Encode RGB frames as H.264 (yuv420p, so every player can show it). `keyframe_interval`
    bounds how far back a decoder seeking to one frame must start (None: x264's default, 250)."""
    with atomic_path(path, ".mp4") as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = None
            for index, frame in enumerate(frames):
                if stream is None:
                    stream = container.add_stream("libx264", rate=round(fps))
                    stream.height, stream.width = frame.shape[0] - frame.shape[0] % 2, frame.shape[1] - frame.shape[1] % 2
                    stream.pix_fmt = "yuv420p"
                    # Reproducible bit for bit: x264's macroblock-tree rate control works in floating
                    # point and gave different bitstreams for the same frames from run to run once
                    # torch was loaded in the process (measured: 2 to 4 distinct outputs in 12
                    # encodes); without it, and with a fixed thread count (x264 otherwise derives
                    # it from the CPUs it sees), the same frames always decode to the same pixels.
                    stream.options = {"crf": str(crf), "preset": "veryfast", "x264-params": "no-mbtree=1"}
                    if keyframe_interval is not None:
                        stream.options = {**stream.options, "g": str(keyframe_interval)}
                    stream.codec_context.thread_count = ENCODER_THREADS
                image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[: stream.height, : stream.width]),
                                                   format="rgb24")
                image.pts = index  # explicit timestamps: x264's rate control reads them
                for packet in stream.encode(image):
                    container.mux(packet)
            if stream is None:
                raise ValueError("write_mp4 needs at least one frame")
            for packet in stream.encode():
                container.mux(packet)
    return path
