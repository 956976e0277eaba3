"""Policies a station serves itself, instead of dialling a submitted server: an uploaded
checkpoint of our own format, and the built-in expert (a baseline, admins only).

A checkpoint is stored content-addressed, `<folder>/<sha256>.pt`, so the same file uploaded
twice is stored once and a name can never point at other bytes. The platform accepts a file
only if `torch.load(weights_only=True)` reads it as a sim2real VLA checkpoint (a file carrying
pickled objects is refused without running them); a station downloads it by its digest,
checks the digest again, loads it the same way and serves it on loopback for the job. Nothing
else is ever unpickled.

A submission names such a policy by its `policy` string: `checkpoint:sha256:HEX` or
`builtin:expert`."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim2real.errors import Sim2RealError
from sim2real.platform.errors import NotFound, Refused

CHECKPOINT_PREFIX = "checkpoint:sha256:"
BUILTIN_EXPERT = "builtin:expert"
DIGEST = re.compile(r"^[0-9a-f]{64}$")
MAX_CHECKPOINT_BYTES = 2 * 2**30  # the reference VLA's largest preset with its optimiser state fits


def checkpoint_policy(sha256: str) -> str:
    return CHECKPOINT_PREFIX + sha256


def served_by_station(policy: str) -> bool:
    """Whether a submission's policy is one the station serves itself."""
    return policy == BUILTIN_EXPERT or policy.startswith(CHECKPOINT_PREFIX)


def digest_of(policy: str) -> str:
    """The sha256 of a `checkpoint:sha256:HEX` policy, checked."""
    sha = policy.removeprefix(CHECKPOINT_PREFIX)
    if not policy.startswith(CHECKPOINT_PREFIX) or not DIGEST.match(sha):
        raise Refused(f"invalid policy: {policy!r}; allowed: {CHECKPOINT_PREFIX}HEX (64 lowercase hex "
                      "digits, the sha256 of an uploaded checkpoint)")
    return sha


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def metadata_of(path: Path) -> dict[str, Any]:
    """The metadata a server of this checkpoint announces, or Refused saying why it is not one."""
    from sim2real.policy.vla.policy import checkpoint_metadata

    try:
        return checkpoint_metadata(path).as_dict()
    except Sim2RealError as error:
        raise Refused(f"invalid checkpoint: {str(error).replace(str(path), 'the upload')}") from None


class CheckpointStore:
    """Uploaded checkpoints under `folder`, each named by its sha256."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, sha256: str) -> Path:
        if not DIGEST.match(sha256):
            raise NotFound(f"invalid checkpoint: {sha256!r}; allowed: the sha256 of an uploaded checkpoint")
        path = self.folder / f"{sha256}.pt"
        if not path.is_file():
            raise NotFound(f"invalid checkpoint: {sha256}; allowed: one uploaded with PUT /api/checkpoints")
        return path

    def upload(self) -> Upload:
        """A new upload into this store: write() its bytes, then finish() (or abort())."""
        return Upload(self.folder)

    def put(self, chunks: Iterable[bytes]) -> tuple[dict[str, Any], bool]:
        """Store the bytes `chunks` yields; see Upload.finish."""
        upload = self.upload()
        try:
            for chunk in chunks:
                upload.write(chunk)
        except BaseException:
            upload.abort()
            raise
        return upload.finish()


class Upload:
    """One checkpoint arriving in pieces: written to a temporary file beside the store's files
    while its sha256 is computed, then checked and renamed to its digest, or removed."""

    def __init__(self, folder: Path) -> None:
        import tempfile

        from sim2real.media import TEMP_PREFIX

        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.size, self._digest = folder, 0, hashlib.sha256()
        fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}upload.", suffix=".pt", dir=folder)
        self.temporary, self._file = Path(name), os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_CHECKPOINT_BYTES:
            self.abort()
            raise Refused(f"invalid checkpoint: over {MAX_CHECKPOINT_BYTES >> 20} MiB; allowed: up to "
                          f"{MAX_CHECKPOINT_BYTES >> 20} MiB")
        self._digest.update(chunk)
        self._file.write(chunk)

    def finish(self) -> tuple[dict[str, Any], bool]:
        """({sha256, policy, bytes, metadata}, created: False when these bytes were stored
        before). Refused, with nothing stored, when they are not a sim2real VLA checkpoint."""
        try:
            self._file.close()
            if self.size == 0:
                raise Refused("invalid checkpoint: 0 bytes; allowed: a checkpoint file written by "
                              "`sim2real train sft` (the request's body)")
            metadata = metadata_of(self.temporary)  # weights_only: refused before it is stored
            sha = self._digest.hexdigest()
            final = self.folder / f"{sha}.pt"
            created = not final.is_file()
            if created:
                os.chmod(self.temporary, 0o644)
                os.replace(self.temporary, final)
        finally:
            self.abort()  # refused, or the same bytes were stored before: nothing stays behind
        return {"sha256": sha, "policy": checkpoint_policy(sha), "bytes": self.size, "metadata": metadata}, created

    def abort(self) -> None:
        self._file.close()
        self.temporary.unlink(missing_ok=True)


@contextmanager
def serve_locally(policy: str, fetch: Any, cache: Path) -> Iterator[str]:
    """A loopback ws:// address serving a station-served `policy` for the length of the block.
    `fetch(sha256, path)` downloads an uploaded checkpoint to `path` (the station's client);
    a cached or downloaded file whose digest is not its name is refused."""
    from sim2real.policy.server import ServerThread

    if policy == BUILTIN_EXPERT:
        from sim2real.policy.builtin import ExpertPolicy

        make = ExpertPolicy
    else:
        from sim2real.policy.vla.policy import VLAPolicy

        sha = digest_of(policy)
        path = Path(cache) / f"{sha}.pt"
        if not path.is_file() or sha256_file(path) != sha:
            from sim2real.media import atomic_path

            with atomic_path(path, ".part") as temporary:
                fetch(sha, temporary)
                if sha256_file(temporary) != sha:
                    raise Sim2RealError(f"the platform sent checkpoint bytes whose sha256 is not {sha}")
        metadata_of(path)  # weights_only, and a VLA checkpoint, before the server announces it

        def make():
            return VLAPolicy.load(path)

    with ServerThread(make) as server:
        yield server.url
