"""The collector's on-disk buffer: append-only segment files, fsynced before anything else.

Every value the collector receives is appended to the open segment as one line
(``lot``, ``variable``, ``unit``, ISO 8601 source timestamp, value; tab-separated) and the
file is fsynced before the collector counts the value as received. The store is fed from
closed segments only: ``rotate`` closes the open one and starts the next, and a closed
segment is deleted only after its values are committed to the process-data store. A crash
at any point leaves every received value either stored or in a segment, which the next
start delivers again; the store skips a value it already holds, so delivery is at least
once and the result exactly once. A line cut short by a crash was never counted as
received and is ignored (HistoryRead fetches that value again).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = ["COLUMNS", "Buffer", "BufferedValue"]

COLUMNS = {
    "lot": pa.string(),
    "variable": pa.string(),
    "unit": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "value": pa.float64(),
}
"""A segment's columns, as :meth:`Buffer.table` reads them."""


@dataclass(frozen=True)
class BufferedValue:
    lot: str
    variable: str
    unit: str
    timestamp: str
    value: float

    def line(self) -> bytes:
        fields = (self.lot, self.variable, self.unit, self.timestamp, repr(self.value))
        return ("\t".join(fields) + "\n").encode()


class Buffer:
    """Segments ``segment-000000000001.tsv`` … under ``folder``, oldest first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        existing = self.segments()
        self._next = (int(existing[-1].stem.split("-")[1]) + 1) if existing else 1
        self._open: IO[bytes] | None = None
        self._open_path: Path | None = None

    def segments(self) -> list[Path]:
        """Every segment on disk, the open one last."""
        return sorted(self.folder.glob("segment-*.tsv"))

    def append(self, values: Iterable[BufferedValue]) -> int:
        """Append ``values`` and fsync; the number appended."""
        data = b"".join(value.line() for value in values)
        if not data:
            return 0
        if self._open is None:
            self._open_path = self.folder / f"segment-{self._next:012d}.tsv"
            self._next += 1
            self._open = open(self._open_path, "ab")  # noqa: SIM115 (kept open between appends)
            _fsync_folder(self.folder)
        self._open.write(data)
        self._open.flush()
        os.fsync(self._open.fileno())
        return data.count(b"\n")

    def rotate(self) -> list[Path]:
        """Close the open segment; every closed segment, oldest first, ready to deliver."""
        if self._open is not None:
            self._open.close()
            self._open = None
            self._open_path = None
        return self.segments()

    def close(self) -> None:
        self.rotate()

    @staticmethod
    def table(paths: Iterable[Path]) -> pa.Table:
        """The complete lines of the segments as one table (:data:`COLUMNS`), parsed by
        Arrow's CSV reader rather than value by value."""
        data = b""
        for path in paths:
            chunk = path.read_bytes()
            data += chunk[: chunk.rfind(b"\n") + 1]
        if not data:
            return pa.schema(COLUMNS).empty_table()
        return pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=list(COLUMNS), use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types=COLUMNS, strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )

    def set_aside(self, values: list[BufferedValue]) -> Path:
        """Keep values the store refused in a file of their own; its path."""
        path = self.folder / f"rejected-{self._next:012d}.tsv"
        self._next += 1
        with open(path, "ab") as out:
            out.write(b"".join(value.line() for value in values))
            out.flush()
            os.fsync(out.fileno())
        return path

    def delivered(self, path: Path) -> None:
        """Remove a segment whose values are committed to the store."""
        path.unlink(missing_ok=True)
        _fsync_folder(self.folder)


def _fsync_folder(folder: Path) -> None:
    """Make a created or removed file name durable, not only its contents."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
