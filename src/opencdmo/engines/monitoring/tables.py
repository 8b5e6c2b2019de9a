"""Tabular files (CSV, Parquet, Excel) as columns, without pandas.

A table is a ``dict`` from column name to a 1-D numpy array (float where every value is
numeric or empty, otherwise ``object`` holding strings). Files are read by
:mod:`opencdmo.core.tables`; this module turns its errors into the engine's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from opencdmo.core.tables import TableError, typed_column
from opencdmo.core.tables import read_table as read_file

from .errors import MonitoringInputError

__all__ = ["Table", "column_as_float", "read_table", "table_from_mapping"]

Table = dict[str, np.ndarray]


def table_from_mapping(data: Mapping[str, Sequence[object] | np.ndarray]) -> Table:
    """Turn a mapping of column name → values (or a pyarrow Table) into a :data:`Table`."""
    if hasattr(data, "column_names") and hasattr(data, "column"):
        names = list(data.column_names)
        return {str(n): typed_column(data.column(n).to_pylist()) for n in names}
    columns: Table = {}
    length: int | None = None
    for name, values in data.items():
        array = np.asarray(values)
        column = array.astype(float) if array.dtype.kind in "fiu" else typed_column(list(array))
        if length is not None and column.shape[0] != length:
            raise MonitoringInputError(
                f"column {name!r} has {column.shape[0]} values; the others have {length}."
            )
        length = column.shape[0]
        columns[str(name)] = column
    return columns


def read_table(
    path: str | Path, *, delimiter: str | None = None, sheet: str | None = None
) -> Table:
    """Read a CSV (delimiter detected unless given), Parquet or Excel (.xlsx) file.

    The file is read by :func:`opencdmo.core.tables.read_table`, whose contract (encodings,
    delimiters, a units row under the header, limits) applies; a units row is dropped here.

    Raises
    ------
    MonitoringInputError
        If the file does not exist, has an unknown extension or is malformed; the message
        names the file and, where it applies, the line and column.
    """
    try:
        return read_file(path, delimiter=delimiter, sheet=sheet).columns
    except TableError as exc:
        raise MonitoringInputError(str(exc)) from None


def column_as_float(table: Table, name: str, source: str = "table") -> np.ndarray:
    """Return column ``name`` as floats, or raise naming the first non-numeric row."""
    if name not in table:
        raise MonitoringInputError(
            f"{source}: no column {name!r}; the columns are {', '.join(table)}."
        )
    column = table[name]
    if column.dtype == float:
        return column
    for row, value in enumerate(column):
        try:
            float(value) if value != "" else None
        except (TypeError, ValueError):
            raise MonitoringInputError(
                f"{source}: column {name!r}, row {row + 1}: {value!r} is not a number."
            ) from None
    return np.array([float(v) if v != "" else np.nan for v in column])
