"""Atomic file writes and a small file store, shared by the engines and the apps.

Every file the platform keeps (fitted models, simulated data sets, uploaded imports, batch
Parquet files) is written the same way: into a temporary file in the target's own folder,
flushed and fsynced, renamed over the target, and the folder fsynced so that the rename
itself survives a crash. A reader therefore sees the old file or the new one, never half of
one, and a write that fails (the writer raises, the disk fills) leaves neither a partial
target nor a temporary file behind; an existing target is then left as it was.

Each write returns the SHA-256 and size of the bytes as they lie on disk, read back after the
fsync, so the checksum a caller registers is that of the stored file even when the writer
seeks back and rewrites (as zip and Parquet writers do).

This module imports nothing from Django: engines use it as well as apps.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "FileStore",
    "StoredFile",
    "file_sha256",
    "write_atomically",
    "write_bytes",
    "write_chunks",
    "write_text",
]

FILE_MODE = 0o644
"""Permissions of a written file: readable by the services that share the data folder."""

_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class StoredFile:
    """A file written to disk: where it is, its SHA-256 (hex) and its size in bytes."""

    path: Path
    sha256: str
    size: int


def file_sha256(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened (Windows)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_temporary(
    folder: Path, name: str, write: Callable[[BinaryIO], object], mode: int
) -> tuple[Path, str, int]:
    """Write into a new temporary file in ``folder``; remove it again if anything fails."""
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    path = Path(temporary)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(path, mode)
        sha256, size = file_sha256(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, sha256, size


def _commit(temporary: Path, target: Path) -> None:
    """Rename ``temporary`` over ``target`` and make the rename durable."""
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], object], *, mode: int = FILE_MODE
) -> StoredFile:
    """Write ``path`` through ``write(handle)``, all or nothing.

    Parameters
    ----------
    path : path
        The target; its folder must exist. An existing file is replaced only once the new
        content is completely on disk.
    write : callable
        Called once with a binary file handle open for writing (seekable); whatever it
        writes becomes the file. It must not close the handle.
    mode : int
        Permission bits of the file (default 0o644).

    Returns
    -------
    StoredFile
        The target, the SHA-256 of its bytes and its size.

    Raises
    ------
    Exception
        Whatever ``write`` or the file system raises; the target is then unchanged and no
        temporary file remains.
    """
    target = Path(path)
    temporary, sha256, size = _write_temporary(target.parent, target.name, write, mode)
    _commit(temporary, target)
    return StoredFile(target, sha256, size)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int = FILE_MODE) -> StoredFile:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomically`)."""
    return write_atomically(path, lambda handle: handle.write(data), mode=mode)


def write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", mode: int = FILE_MODE
) -> StoredFile:
    """Write ``text`` to ``path`` atomically in ``encoding`` (UTF-8 by default)."""
    data = text.encode(encoding)
    return write_atomically(path, lambda handle: handle.write(data), mode=mode)


def _copy_chunks(chunks: Iterable[bytes]) -> Callable[[BinaryIO], None]:
    def write(handle: BinaryIO) -> None:
        for chunk in chunks:
            handle.write(chunk)

    return write


def write_chunks(
    path: str | os.PathLike[str], chunks: Iterable[bytes], *, mode: int = FILE_MODE
) -> StoredFile:
    """Write a stream of byte chunks (an upload, a download) to ``path`` atomically."""
    return write_atomically(path, _copy_chunks(chunks), mode=mode)


class FileStore:
    """Files kept under one root folder, each named by its content or by the caller.

    * **Content addressed** (``put(chunks, suffix=".csv")``): the file is stored as
      ``<sha256><suffix>`` directly under the root, so its name is its checksum and the same
      content is stored once. Uploads are kept this way.
    * **Named** (``put(chunks, name="batches/B-101.parquet")``): the file is stored at that
      relative path, replacing an earlier version atomically. Batch Parquet files are kept
      this way and registered with the returned checksum.

    A key is what :meth:`put` returns as ``StoredFile.path`` relative to the root; the
    other methods take it. Keys never leave the root: absolute paths and ``..`` are refused.
    """

    def __init__(self, root: str | os.PathLike[str], *, mode: int = FILE_MODE) -> None:
        self.root = Path(root)
        self.mode = mode

    def path(self, key: str | os.PathLike[str]) -> Path:
        """The absolute path of ``key``; ``ValueError`` if the key would leave the root."""
        relative = Path(key)
        if relative.is_absolute() or not relative.parts or ".." in relative.parts:
            raise ValueError(f"{str(key)!r} is not a path inside the file store")
        return self.root / relative

    def put(
        self,
        content: bytes | Iterable[bytes],
        *,
        name: str | os.PathLike[str] | None = None,
        suffix: str = "",
    ) -> StoredFile:
        """Store ``content`` (bytes or byte chunks) under ``name`` or under its SHA-256.

        ``suffix`` (such as ``".csv"``) is appended to a content-addressed name so the file
        keeps its type; it is ignored for a named file. Nothing is left in the store when
        reading ``content`` or writing fails.
        """
        chunks = [content] if isinstance(content, bytes) else content
        if name is not None:
            target = self.path(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            return write_chunks(target, chunks, mode=self.mode)
        if suffix and not re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix):
            raise ValueError(f"{suffix!r} is not a file suffix such as '.csv'")
        self.root.mkdir(parents=True, exist_ok=True)
        temporary, sha256, size = _write_temporary(
            self.root, "incoming", _copy_chunks(chunks), self.mode
        )
        target = self.root / f"{sha256}{suffix}"
        _commit(temporary, target)
        return StoredFile(target, sha256, size)

    def open(self, key: str | os.PathLike[str]) -> BinaryIO:
        """The stored file ``key`` opened for binary reading; the caller closes it."""
        return self.path(key).open("rb")

    def sha256(self, key: str | os.PathLike[str]) -> str:
        """SHA-256 of the stored file ``key`` as it is on disk now, to check it is intact."""
        return file_sha256(self.path(key))[0]
