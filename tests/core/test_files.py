"""Atomic writes and the file store: all or nothing, with the checksum of what is on disk."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from opencdmo.core.files import (
    FileStore,
    file_sha256,
    write_atomically,
    write_bytes,
    write_chunks,
    write_text,
)


class _Interrupted(BaseException):
    """Stands for a KeyboardInterrupt or SystemExit arriving in the middle of a write."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_write_bytes_returns_the_sha256_and_size_of_the_file(tmp_path: Path) -> None:
    """The returned checksum and size are those of the bytes now in the file."""
    data = b"batch,time\nB1,0\n" * 1000
    stored = write_bytes(tmp_path / "data.csv", data)
    assert stored.path == tmp_path / "data.csv"
    assert stored.path.read_bytes() == data
    assert stored.sha256 == _sha(data)
    assert stored.size == len(data)
    assert file_sha256(stored.path) == (_sha(data), len(data))


def test_write_text_and_chunks_write_what_they_are_given(tmp_path: Path) -> None:
    """Text is encoded as asked; chunks are written in order."""
    text = write_text(tmp_path / "a.txt", "Zürich\n", encoding="utf-16")
    assert text.path.read_text(encoding="utf-16") == "Zürich\n"
    chunks = write_chunks(tmp_path / "b.bin", iter([b"ab", b"", b"cd"]))
    assert chunks.path.read_bytes() == b"abcd"
    assert chunks.sha256 == _sha(b"abcd")


def test_checksum_is_read_back_after_a_writer_that_seeks(tmp_path: Path) -> None:
    """A zip writer rewrites headers after seeking back; the checksum still matches the file."""

    def write_zip(handle: BinaryIO) -> None:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("a.txt", "x" * 10_000)

    stored = write_atomically(tmp_path / "a.zip", write_zip)
    assert stored.sha256 == _sha((tmp_path / "a.zip").read_bytes())
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.read("a.txt") == b"x" * 10_000


@pytest.mark.parametrize("error", [OSError("disk full"), _Interrupted()])
def test_a_writer_that_raises_leaves_nothing_behind(tmp_path: Path, error: BaseException) -> None:
    """Half-written content never appears: no target, no temporary file."""

    def write_half(handle: BinaryIO) -> None:
        handle.write(b"half of the ")
        handle.flush()
        raise error

    with pytest.raises(type(error)):
        write_atomically(tmp_path / "model.npz", write_half)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_previous_file_as_it_was(tmp_path: Path) -> None:
    """Replacing a file is all or nothing: a failure keeps the old content."""
    target = tmp_path / "summary.csv"
    write_bytes(target, b"old\n")

    def fail(handle: BinaryIO) -> None:
        handle.write(b"new but incomplete")
        raise ValueError("the writer broke")

    with pytest.raises(ValueError, match="the writer broke"):
        write_atomically(target, fail)
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]


def test_a_failed_rename_removes_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when the final rename fails, the temporary file goes."""

    def refuse(source: object, target: object) -> None:
        raise PermissionError("read-only folder")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_bytes(tmp_path / "x.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_file_and_folder_are_fsynced_before_the_write_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's bytes and the folder entry of the rename are both flushed to disk."""
    synced: list[str] = []
    real_fsync = os.fsync

    def record(descriptor: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", record)
    write_bytes(tmp_path / "x.bin", b"data")
    assert synced == ["file", "folder"]


def test_written_files_are_readable_by_the_group_and_others(tmp_path: Path) -> None:
    """A temporary file is private (0600); the written file gets the usual 0644."""
    stored = write_bytes(tmp_path / "x.bin", b"data")
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o644


def test_store_names_content_by_its_checksum_and_keeps_it_once(tmp_path: Path) -> None:
    """The same upload sent twice is one file named <sha256><suffix>."""
    store = FileStore(tmp_path / "imports")
    content = b"owner,code\nalpha,lyon\n"
    first = store.put([b"owner,code\n", b"alpha,lyon\n"], suffix=".csv")
    second = store.put(content, suffix=".csv")
    assert first == second
    assert first.path.name == _sha(content) + ".csv"
    assert [p.name for p in (tmp_path / "imports").iterdir()] == [first.path.name]
    with store.open(first.path.name) as handle:
        assert handle.read() == content
    assert store.sha256(first.path.name) == first.sha256


def test_store_keeps_named_files_and_notices_a_changed_one(tmp_path: Path) -> None:
    """A named file can be replaced atomically; its checksum shows when it changed on disk."""
    store = FileStore(tmp_path)
    stored = store.put(b"v1", name="batches/B-101.parquet")
    assert stored.path == tmp_path / "batches" / "B-101.parquet"
    store.put(b"v2", name="batches/B-101.parquet")
    assert store.path("batches/B-101.parquet").read_bytes() == b"v2"
    store.path("batches/B-101.parquet").write_bytes(b"tampered")
    assert store.sha256("batches/B-101.parquet") != _sha(b"v2")


@pytest.mark.parametrize("key", ["../outside.csv", "/etc/passwd", "a/../../b", ""])
def test_store_refuses_keys_outside_its_root(tmp_path: Path, key: str) -> None:
    """A key may not climb out of the root or be absolute."""
    with pytest.raises(ValueError, match="not a path inside the file store"):
        FileStore(tmp_path).path(key)


def test_store_refuses_a_suffix_that_is_not_one(tmp_path: Path) -> None:
    """A suffix from an uploaded name cannot smuggle a path into the store."""
    with pytest.raises(ValueError, match="not a file suffix"):
        FileStore(tmp_path).put(b"x", suffix="/../../x")


def test_an_upload_that_breaks_off_leaves_the_store_empty(tmp_path: Path) -> None:
    """A stream that fails part way stores nothing, not even a temporary file."""

    def broken_upload() -> Iterator[bytes]:
        yield b"owner,code\n"
        raise ConnectionResetError("client went away")

    store = FileStore(tmp_path / "imports")
    with pytest.raises(ConnectionResetError):
        store.put(broken_upload(), suffix=".csv")
    assert list((tmp_path / "imports").iterdir()) == []


def test_stream_sha_matches_hashlib_on_a_large_stream(tmp_path: Path) -> None:
    """A multi-megabyte stream is hashed as a whole, across the 1 MiB read chunks."""
    data = os.urandom(3 * 2**20 + 17)
    chunks = [data[start : start + 65_536] for start in range(0, len(data), 65_536)]
    stored = FileStore(tmp_path).put(chunks)
    assert (stored.sha256, stored.size) == (_sha(data), len(data))
