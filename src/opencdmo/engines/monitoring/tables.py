"""Reading tabular files (CSV, Parquet, Excel) into columns, without pandas.

A table is a ``dict`` from column name to a 1-D numpy array (float where every value is
numeric or empty, otherwise ``object`` holding strings).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .errors import MonitoringInputError

__all__ = ["Table", "column_as_float", "read_table", "table_from_mapping"]

Table = dict[str, np.ndarray]


def _typed(values: Sequence[object]) -> np.ndarray:
    """Float array when every value is numeric or empty, otherwise an array of strings."""
    out = np.empty(len(values), dtype=float)
    for i, value in enumerate(values):
        if value is None or value == "":
            out[i] = np.nan
            continue
        if isinstance(value, bool):
            return np.array(["" if v is None else str(v) for v in values], dtype=object)
        try:
            out[i] = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return np.array(["" if v is None else str(v) for v in values], dtype=object)
    return out


def table_from_mapping(data: Mapping[str, Sequence[object] | np.ndarray]) -> Table:
    """Turn a mapping of column name → values (or a pyarrow Table) into a :data:`Table`."""
    if hasattr(data, "column_names") and hasattr(data, "column"):
        names = list(data.column_names)
        return {str(n): _typed(data.column(n).to_pylist()) for n in names}
    columns: Table = {}
    length: int | None = None
    for name, values in data.items():
        array = np.asarray(values)
        column = array.astype(float) if array.dtype.kind in "fiu" else _typed(list(array))
        if length is not None and column.shape[0] != length:
            raise MonitoringInputError(
                f"column {name!r} has {column.shape[0]} values; the others have {length}."
            )
        length = column.shape[0]
        columns[str(name)] = column
    return columns


def _read_csv(path: Path, delimiter: str | None) -> Table:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.readline()
        if delimiter is None:
            counts = {d: sample.count(d) for d in (",", ";", "\t")}
            delimiter = max(counts, key=lambda d: counts[d])
            if counts[delimiter] == 0:
                delimiter = ","
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise MonitoringInputError(f"{path}: the file is empty.")
        rows = list(reader)
    width = len(header)
    for number, row in enumerate(rows, start=2):
        if len(row) != width and any(cell.strip() for cell in row):
            raise MonitoringInputError(
                f"{path}, line {number}: {len(row)} fields where the header has {width}."
            )
    rows = [row for row in rows if len(row) == width]
    return {name.strip(): _typed([row[k].strip() for row in rows]) for k, name in enumerate(header)}


def _read_excel(path: Path, sheet: str | None) -> Table:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise MonitoringInputError(
                f"{path}: no sheet {sheet!r}; the sheets are {', '.join(workbook.sheetnames)}."
            )
        rows = list(worksheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    if not rows:
        raise MonitoringInputError(f"{path}: the sheet is empty.")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    body = [row for row in rows[1:] if any(v is not None for v in row)]
    return {name: _typed([row[k] for row in body]) for k, name in enumerate(header) if name}


def read_table(
    path: str | Path, *, delimiter: str | None = None, sheet: str | None = None
) -> Table:
    """Read a CSV (delimiter detected unless given), Parquet or Excel (.xlsx) file.

    Raises
    ------
    MonitoringInputError
        If the file does not exist, has an unknown extension or is malformed.
    """
    file = Path(path)
    if not file.is_file():
        raise MonitoringInputError(f"{file}: no such file.")
    suffix = file.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        return _read_csv(file, "\t" if suffix == ".tsv" and delimiter is None else delimiter)
    if suffix in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return table_from_mapping(pq.read_table(file))
    if suffix in {".xlsx", ".xlsm"}:
        return _read_excel(file, sheet)
    raise MonitoringInputError(f"{file}: unknown file type {suffix!r}; use CSV, Parquet or .xlsx.")


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
