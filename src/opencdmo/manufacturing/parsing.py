"""Turning a table read from a file into each lot's values: times in hours, units checked.

Layouts (see docs/manufacturing.md): *long*, with columns ``time``, ``variable``, ``value``
and optionally ``unit``; *wide*, with a time column and one column per variable. A column
named by ``batch_column`` gives each row's lot. The time column is ``time`` or ``time_h``
(hours), ``time_min`` (minutes), or ``time`` with the unit ``min`` in the units row, or
``time``/``timestamp`` holding ISO 8601 timestamps (UTC unless they say otherwise).
Plant tags are renamed to variables through the site's tag mapping. Every problem is a
``TableError`` naming the file, line and column.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from opencdmo.core.tables import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_ROWS,
    Table,
    TableError,
    detect_delimiter,
    read_table,
)
from opencdmo.manufacturing.store import encoded
from opencdmo.manufacturing.units import converter, same_unit

__all__ = [
    "TIME_COLUMNS",
    "Located",
    "Tag",
    "convert_units",
    "parse_table",
    "read_plain_csv",
    "to_hours",
    "with_tags",
]

TIME_COLUMNS = ("time", "time_h", "time_min", "timestamp")
"""Names the time column may have, in the order they are looked for."""

_TIME_UNITS = {"h": 1.0, "hr": 1.0, "hours": 1.0, "min": 1.0 / 60.0, "s": 1.0 / 3600.0}


@dataclass(frozen=True)
class Tag:
    """Where a plant tag lands: its variable and the unit the tag reports in."""

    variable: str
    unit: str


@dataclass(frozen=True)
class Located:
    """One lot's values as read, each with the line and column it came from.

    ``time`` holds hours, or seconds since 1970 when ``timestamps`` (converted to hours once
    the batch's hour 0 is known, see :func:`to_hours`).
    """

    time: np.ndarray
    timestamps: bool
    variable: np.ndarray
    value: np.ndarray
    unit: np.ndarray
    line: np.ndarray
    column: np.ndarray
    unit_column: np.ndarray
    unit_line: np.ndarray


def read_plain_csv(data: bytes, name: str) -> Table | None:
    """A plain CSV file of numbers read by Arrow's CSV reader, as the core table reader
    would read it; None for any other file, which the core reader then reads (and words any
    problem in it, line and column named).

    Plain: UTF-8, no quote, carriage return or blank line, a header of distinct names, and
    every other cell (under an optional units row) a number or empty. The header and the
    units row are read by the core reader itself; Arrow parses a number only where Python's
    ``float`` does, to the same value, and refuses the rest (``1_000``, spaces), which sends
    the file back to the core reader.
    """
    if Path(name).suffix.lower() != ".csv" or len(data) > DEFAULT_MAX_BYTES:
        return None
    data = data.removeprefix(codecs.BOM_UTF8)
    if not data or data[:1] in b"\n" or any(c in data for c in (b'"', b"\r", b"\n\n")):
        return None
    try:
        data.decode()
    except UnicodeDecodeError:
        return None
    head = b"\n".join(data.split(b"\n", 3)[:3]) + b"\n"
    try:
        first = read_table(head, name=name)
    except TableError:
        return None
    names = list(first.columns)
    delimiter = detect_delimiter(head.split(b"\n", 1)[0].decode())
    if len(names) != head.split(b"\n", 1)[0].count(delimiter.encode()) + 1:
        return None  # a column without a name
    skip = 2 if first.units else 1
    try:
        read = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(skip_rows=skip, column_names=names),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char=False, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
        if read.num_rows > DEFAULT_MAX_ROWS or read.num_rows * len(names) > DEFAULT_MAX_CELLS:
            return None
        columns = {
            column: pc.cast(read.column(column), pa.float64()).to_numpy() for column in names
        }
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if read.num_rows and np.isnan(np.column_stack(list(columns.values()))).all(axis=1).any():
        return None  # a row of empty cells, which the core reader skips
    lines = np.arange(skip + 1, skip + 1 + read.num_rows)
    return Table(name, columns, dict(first.units), lines)


def _time_column(table: Table) -> str:
    for name in TIME_COLUMNS:
        if name in table.columns:
            return name
    raise table.error(
        f"no time column; name it one of {', '.join(TIME_COLUMNS)} "
        f"(the columns are {', '.join(table.columns)})"
    )


def _parse_timestamp(text: str) -> float | None:
    try:
        stamp = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def _times(table: Table, name: str) -> tuple[np.ndarray, bool]:
    """The time column as hours, or as seconds since 1970 for timestamps."""
    column = table.columns[name]
    unit = table.units.get(name, "").strip()
    if column.dtype.kind == "M":
        # Instants already parsed (the OPC UA collector's), in UTC.
        return column.astype("datetime64[us]").astype(np.int64) / 1e6, True
    if column.dtype == object:
        seconds = np.empty(column.shape[0])
        for row, text in enumerate(column.tolist()):
            value = _parse_timestamp(str(text)) if text != "" else None
            if value is None:
                reason = (
                    "the time is empty"
                    if text == ""
                    else f"{text!r} is neither a number nor an ISO 8601 timestamp"
                )
                raise table.error(reason, row=row, column=name)
            seconds[row] = value
        return seconds, True
    empty = np.flatnonzero(np.isnan(column))
    if empty.size:
        raise table.error("the time is empty", row=int(empty[0]), column=name)
    if name == "time_min":
        unit = unit or "min"
    factor = _TIME_UNITS.get(unit.lower() or "h")
    if factor is None:
        line = int(table.lines[0]) - 1 if len(table) else None
        raise TableError(
            table.file,
            f"time unit {unit!r} is not one of h, min, s",
            line=line,
            column=name,
            sheet=table.sheet,
        )
    return column * factor, False


@dataclass(frozen=True)
class _Part:
    """The values of the variable columns (wide) or of the value column (long)."""

    rows: np.ndarray
    variable: np.ndarray
    value: np.ndarray
    unit: np.ndarray
    column: np.ndarray | str
    unit_column: np.ndarray | str
    """Each value's column and the column its unit came from (one name for all: long)."""
    unit_line: int | None
    """The units row's line (wide), or None when each row gives its unit (long)."""


def parse_table(table: Table, *, lot: str | None, batch_column: str | None) -> dict[str, Located]:
    """Each lot's values in ``table``, column by column in file order, empty cells left out."""
    if batch_column is not None:
        lots = _texts(table, batch_column)
        _refuse_empty(table, lots, batch_column, "the lot is empty")
    else:
        lots = np.full(len(table), lot or "")
    time_name = _time_column(table)
    time, timestamps = _times(table, time_name)
    units_line = int(table.lines[0]) - 1 if table.units and len(table) else None
    rows = np.arange(len(table))
    if table.layout == "long":
        variables = _texts(table, "variable")
        _refuse_empty(table, variables, "variable", "the variable is empty")
        values = table.floats("value")
        if "unit" in table.columns:
            units = _texts(table, "unit")
            part = _Part(rows, variables, values, units, "value", "unit", None)
        else:
            units = np.full(len(table), table.units.get("value", ""))
            part = _Part(rows, variables, values, units, "value", "value", units_line)
    else:
        skip = {time_name, batch_column}
        names = [n for n in table.columns if n not in skip]
        if not names:
            raise table.error("no variable columns beside the time column")
        # One flat array, column after column: no work per column beyond reading it.
        values = np.concatenate([table.floats(name) for name in names])
        keep = np.flatnonzero(~np.isnan(values))
        column_of = keep // max(len(table), 1)
        labels = np.array(names, dtype=str)[column_of]
        unit_labels = np.array([table.units.get(name, "") for name in names], dtype=str)
        part = _Part(
            keep % max(len(table), 1),
            labels,
            values[keep],
            unit_labels[column_of],
            labels,
            labels,
            units_line,
        )
    return _by_lot(part, lots, time, timestamps, table.lines)


def _by_lot(
    part: _Part,
    lots: np.ndarray,
    time: np.ndarray,
    timestamps: bool,
    lines: np.ndarray,
) -> dict[str, Located]:
    empty = np.isnan(part.value)
    keep = ~empty if empty.any() else slice(None)
    rows = part.rows[keep]
    n = int(rows.size)

    def cells(column: np.ndarray | str) -> np.ndarray:
        return column[keep] if isinstance(column, np.ndarray) else np.full(n, column)

    row_lines = lines[rows]
    fields = {
        "time": time[rows],
        "variable": cells(part.variable),
        "value": part.value[keep],
        "unit": cells(part.unit),
        "line": row_lines,
        "column": cells(part.column),
        "unit_column": cells(part.unit_column),
        "unit_line": row_lines if part.unit_line is None else np.full(n, part.unit_line),
    }
    row_lots = lots[rows]
    if not n:
        return {}
    if (row_lots == row_lots[0]).all():
        return {str(row_lots[0]): Located(timestamps=timestamps, **fields)}
    return {
        lot: Located(timestamps=timestamps, **{k: v[row_lots == lot] for k, v in fields.items()})
        for lot in _in_order(row_lots)
    }


def with_tags(located: Located, tags: Mapping[str, Tag]) -> Located:
    """Mapped tags renamed to their variables; the tag's unit where the file gives none."""
    variables, units = located.variable, located.unit
    if not tags or not variables.size:
        return located
    out_variables, out_units = variables, units
    for name in _in_order(variables):
        tag = tags.get(str(name))
        if tag is None:
            continue
        mask = variables == name
        out_variables = np.where(mask, tag.variable, out_variables)
        out_units = np.where(mask & (units == ""), tag.unit, out_units)
    return replace(located, variable=out_variables, unit=out_units)


def _texts(table: Table, name: str) -> np.ndarray:
    """Column ``name`` as strings; an empty cell (NaN in a numeric column) as ""."""
    column = table.column(name)
    if column.dtype == object:
        return np.array(column.tolist(), dtype=str)
    return np.array(["" if v != v else f"{v:g}" for v in column.tolist()], dtype=str)


def _refuse_empty(table: Table, values: np.ndarray, column: str, reason: str) -> None:
    empty = np.flatnonzero(values == "")
    if empty.size:
        raise table.error(reason, row=int(empty[0]), column=column)


def _in_order(values: np.ndarray) -> list[str]:
    """The distinct values in order of first appearance."""
    if not values.size:
        return []
    distinct, first, _ = encoded(values)
    return [str(v) for v in distinct[np.argsort(first)]]


def to_hours(located: Located, time_zero_s: float | None) -> np.ndarray:
    """Hours from hour 0, rounded to the millisecond so that the same instant read twice is
    the same key; timestamps count from ``time_zero_s`` (seconds since 1970)."""
    hours = (located.time - (time_zero_s or 0.0)) / 3600.0 if located.timestamps else located.time
    return np.round(hours * 3.6e6) / 3.6e6


def convert_units(
    located: Located, known: Mapping[str, str], table: Table
) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Values and units converted to each variable's unit: the one the batch holds it in,
    else the first one this file gives. Returns values, units and the variables' units.

    A value without a unit takes its variable's unit."""
    target: dict[str, str] = dict(known)
    if not located.variable.size:
        return located.value, located.unit, target
    names, _, name_of = encoded(located.variable)
    units, _, unit_of = encoded(located.unit)
    codes, first, pair_of = np.unique(
        name_of * max(units.size, 1) + unit_of, return_index=True, return_inverse=True
    )
    pair_of = pair_of.ravel()
    pairs = [
        [str(names[c // max(units.size, 1)]), str(units[c % max(units.size, 1)])] for c in codes
    ]
    for k in np.argsort(first):
        name, unit = pairs[k]
        if unit and not target.get(name):
            target[name] = unit
        target.setdefault(name, "")
    factors = np.ones(len(pairs))
    offsets = np.zeros(len(pairs))
    wanted_units = []
    for k, (name, unit) in enumerate(pairs):
        wanted = target[name]
        wanted_units.append(wanted)
        if not unit or unit == wanted or same_unit(unit, wanted):
            continue
        factor = converter(unit, wanted)
        if factor is None:
            row = int(first[k])
            raise TableError(
                table.file,
                f"variable {name!r} is given in {unit!r} but held in {wanted!r}, and "
                f"{unit!r} does not convert to {wanted!r}",
                line=int(located.unit_line[row]),
                column=str(located.unit_column[row]),
                sheet=table.sheet,
            )
        factors[k], offsets[k] = factor
    values = located.value
    converted = (factors != 1.0) | (offsets != 0.0)
    if converted.any():
        rows = converted[pair_of]
        values = values.copy()
        values[rows] = _significant(values[rows] * factors[pair_of[rows]] + offsets[pair_of[rows]])
    return values, np.array(wanted_units, dtype=str)[pair_of], target


def _significant(values: np.ndarray, digits: int = 12) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits, so that 310 K is 36.85 °C and
    not 36.85000000000002."""
    magnitude = np.floor(np.log10(np.abs(np.where(values == 0, 1.0, values))))
    scale = 10.0 ** (digits - 1 - magnitude)
    return np.round(values * scale) / scale
