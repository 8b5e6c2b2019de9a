"""The process-data store: Parquet files, each holding the values of some versions of a batch.

The store's root is ``settings.PROCESS_DATA_URL``: a folder (the default,
``<DATA_DIR>/process-data``) or an S3-compatible URL such as ``s3://bucket/process-data``.
A URL is opened with ``pyarrow.fs.FileSystem.from_uri``, a folder as a
``pyarrow.fs.LocalFileSystem``, and both are read through that file system, one code path.
A local folder is written through the core file store (temporary file, fsync, rename), an
object store with one PUT per file, which it makes visible whole.

A file is never rewritten: appending writes the next version's file, a *segment* holding
only the values that version added (or, now and then, those of the newest few versions
before it too, so that a batch's files stay few; see ``services``). A batch's series is the
union of the files its latest version lists, read by :meth:`ProcessDataStore.read_parts`;
what the database registered (path, SHA-256, rows) stays true of the file it names, and
every read checks the SHA-256 before it trusts the bytes.

A file holds the long table ``time_h`` (float64, hours from the batch's hour 0),
``variable``, ``value`` (float64) and ``unit``, sorted by variable and time, one row per
(variable, time); so does the union, sorted the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from django.conf import settings

from opencdmo.core.files import FileStore

if TYPE_CHECKING:
    from opencdmo.engines.monitoring.dataset import Batch as MonitoringBatch

__all__ = ["ProcessData", "ProcessDataStore", "Series", "default_store", "encoded", "in_order"]


def encoded(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(values, return_index=True, return_inverse=True)``, sorting only one value
    per run of equal ones: a variable's values come in runs (a wide file column by column, a
    stored file sorted by variable), so a million of them cost a pass, not a sort."""
    if not values.size:
        empty = np.zeros(0, dtype=np.int64)
        return values[:0], empty, empty
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    levels, first_run, run_codes = np.unique(values[starts], return_index=True, return_inverse=True)
    codes = np.repeat(run_codes.ravel(), np.diff(np.r_[starts, values.size]))
    return levels, starts[first_run], codes


@dataclass(frozen=True)
class Series:
    """Values in long form: one entry per (variable, time), each with its unit."""

    time_h: np.ndarray
    variable: np.ndarray
    value: np.ndarray
    unit: np.ndarray

    def __len__(self) -> int:
        return int(self.time_h.shape[0])

    @classmethod
    def empty(cls) -> Series:
        text = np.array([], dtype=str)
        return cls(np.array([], dtype=float), text, np.array([], dtype=float), text.copy())

    def to_arrow(self) -> pa.Table:
        def dictionary(values: np.ndarray) -> pa.DictionaryArray:
            levels, _, codes = encoded(values)
            return pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int32)), pa.array(levels.tolist(), pa.string())
            )

        return pa.table(
            {
                "time_h": pa.array(self.time_h, pa.float64()),
                "variable": dictionary(self.variable),
                "value": pa.array(self.value, pa.float64()),
                "unit": dictionary(self.unit),
            }
        )

    @classmethod
    def from_arrow(cls, table: pa.Table) -> Series:
        def text(name: str) -> np.ndarray:
            column = table.column(name)
            if not pa.types.is_dictionary(column.type):
                column = column.dictionary_encode()
            encoded = column.unify_dictionaries().combine_chunks()
            levels = np.array(encoded.dictionary.to_pylist() or [""], dtype=str)
            return levels[encoded.indices.to_numpy(zero_copy_only=False)]

        return cls(
            table.column("time_h").to_numpy(),
            text("variable"),
            table.column("value").to_numpy(),
            text("unit"),
        )


@dataclass(frozen=True)
class ProcessData:
    """A batch's values aligned on one time grid, for the engines.

    Attributes
    ----------
    lot : str
    variables : tuple of str
    units : dict of str to str
    time_h : numpy.ndarray (n,)
        Every time at which any variable has a value, h from the batch's hour 0, increasing.
    values : numpy.ndarray (n, J)
        ``values[i, j]`` is variable ``j`` at ``time_h[i]``; NaN where it was not measured.
    """

    lot: str
    variables: tuple[str, ...]
    units: dict[str, str] = field(default_factory=dict)
    time_h: np.ndarray = field(default_factory=lambda: np.zeros(0))
    values: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @classmethod
    def from_series(cls, lot: str, series: Series) -> ProcessData:
        names, first, column = encoded(series.variable)
        order = np.argsort(first)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        variables = tuple(str(names[k]) for k in order)
        units = {str(names[k]): str(series.unit[first[k]]) for k in order}
        grid, row = np.unique(series.time_h, return_inverse=True)
        values = np.full((grid.shape[0], len(variables)), np.nan)
        values[row.ravel(), rank[column.ravel()]] = series.value
        return cls(lot, variables, units, grid, values)

    def as_monitoring_batch(self, variables: tuple[str, ...] | None = None) -> MonitoringBatch:
        """The batch as ``engines.monitoring`` takes it, with ``variables`` in that order."""
        from opencdmo.engines.monitoring.dataset import Batch as MonitoringBatch

        chosen = variables or self.variables
        columns = [self.variables.index(v) for v in chosen]
        return MonitoringBatch(self.lot, self.time_h, self.values[:, columns])


class ProcessDataStore:
    """Parquet files under one root, local or in an S3-compatible object store."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.filesystem: pafs.FileSystem
        if "://" in url:
            self.filesystem, self.root = pafs.FileSystem.from_uri(url)
        else:
            # A plain folder needs no URI parsing, which would set up every registered
            # file system (the S3 client's threads among them) for a local read.
            self.filesystem, self.root = pafs.LocalFileSystem(), str(Path(url).resolve())

    @property
    def local(self) -> bool:
        return isinstance(self.filesystem, pafs.LocalFileSystem)

    def _path(self, key: str) -> str:
        FileStore(self.root).path(key)  # refuses absolute keys and ".."
        return f"{self.root.rstrip('/')}/{key}"

    def write(self, key: str, table: pa.Table, metadata: dict[str, str]) -> tuple[str, int]:
        """Write ``table`` (a series as ``Series.to_arrow`` gives it) as the file ``key``;
        its SHA-256 and size in bytes."""
        table = table.replace_schema_metadata(metadata)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        data = sink.getvalue().to_pybytes()
        if self.local:
            stored = FileStore(self.root).put(data, name=key)
            return stored.sha256, stored.size
        path = self._path(key)
        self.filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with self.filesystem.open_output_stream(path) as out:
            out.write(data)
        return hashlib.sha256(data).hexdigest(), len(data)

    def read_table(self, key: str, sha256: str) -> pa.Table:
        """The file ``key`` as a table, refused unless its bytes have the registered SHA-256."""
        with self.filesystem.open_input_file(self._path(key)) as handle:
            data = handle.readall()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(
                f"The process-data file {key} does not match its registered SHA-256; "
                "it was changed after it was written."
            )
        # Decoded on this thread: a few MB per batch, and no pool threads left at exit.
        table = pq.ParquetFile(pa.BufferReader(data)).read(use_threads=False)
        return table.replace_schema_metadata(None)

    def read(self, key: str, sha256: str) -> Series:
        """The file ``key``, refused unless its bytes have the registered SHA-256."""
        return Series.from_arrow(self.read_table(key, sha256))

    def read_parts(self, parts: Iterable[tuple[str, str]]) -> Series:
        """The union of the files ``(key, sha256)``, sorted by variable and time."""
        return Series.from_arrow(in_order([self.read_table(key, sha) for key, sha in parts]))

    def delete(self, key: str) -> None:
        """Remove ``key`` (a file written by an ingestion that then failed)."""
        with contextlib.suppress(FileNotFoundError):
            self.filesystem.delete_file(self._path(key))

    def keys(self) -> list[str]:
        """Every file in the store, relative to the root (for checks and tests)."""
        selector = pafs.FileSelector(self.root, recursive=True, allow_not_found=True)
        prefix = self.root.rstrip("/") + "/"
        return sorted(
            info.path.removeprefix(prefix)
            for info in self.filesystem.get_file_info(selector)
            if info.type == pafs.FileType.File and not info.base_name.startswith(".")
        )


def in_order(tables: list[pa.Table]) -> pa.Table:
    """``tables`` (files of disjoint values, each sorted) as one table sorted by variable and
    time: the order a single file has, so that readers see the same series either way."""
    if not tables:
        return Series.empty().to_arrow()
    if len(tables) == 1:
        return tables[0]
    table = pa.concat_tables(tables, promote_options="permissive")
    variable = table.column("variable")
    if not pa.types.is_dictionary(variable.type):
        variable = variable.dictionary_encode()
    encoded = variable.unify_dictionaries().combine_chunks()
    levels = np.array(encoded.dictionary.to_pylist(), dtype=str)
    rank = np.empty(levels.size, dtype=np.int64)
    rank[np.argsort(levels, kind="stable")] = np.arange(levels.size)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    time = table.column("time_h").to_numpy()
    return table.take(pa.array(np.lexsort((time, codes))))


def default_store() -> ProcessDataStore:
    """The store at ``settings.PROCESS_DATA_URL``."""
    return ProcessDataStore(str(settings.PROCESS_DATA_URL))
