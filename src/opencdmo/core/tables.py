"""Reading tables from CSV, Excel (.xlsx) and Parquet files, without pandas.

The contract every reader of tabular files in opencdmo relies on:

* **Types** are told by the file name's suffix: ``.csv``, ``.txt``, ``.tsv`` (CSV), ``.xlsx``,
  ``.xlsm`` (Excel, through openpyxl) and ``.parquet``, ``.pq`` (Parquet, through pyarrow).
  A source is a path or the file's bytes with a ``name`` that tells its type.
* **CSV text** is UTF-8, UTF-8 with a byte-order mark, or UTF-16 (little or big endian) with
  a byte-order mark. Bytes that do not decode raise a :class:`TableError` naming the line and
  the byte offset. The delimiter is ``,``, ``;``, tab or ``|``: whichever occurs most often
  outside quotes in the first non-blank line (``,`` on a tie or when none occurs; tab for a
  ``.tsv`` file), unless the caller gives it. A quoted value may span lines; each row is
  numbered by the physical line it starts on.
* **Header and units**: the first non-blank row names the columns (names are stripped; a name
  may not repeat; a column without a name must be empty). The row under it may hold the units
  (``units_row=True``), may not (``False``), or is taken as units when every value in it is
  text and it sits over numbers (``None``, the default).
* **Cells** are stripped; a column becomes floats (NaN where empty) when every value is a
  number or empty, otherwise strings. Blank rows are skipped.
* **Layouts**: a *long* table has one row per (batch, time, variable) with columns
  ``batch``, ``time``, ``variable`` and ``value`` (and optionally ``unit``), as the
  bioprocess simulator writes it; a *wide* table has one row per (batch, time) with one
  column per variable, as plant historians export it. :attr:`Table.layout` tells which a
  table is and :meth:`Table.to_wide` turns a long table into a wide one.
* **Limits**: reading stops with a :class:`TableError` as soon as a file has more than
  ``max_rows`` rows or ``max_cells`` cells, so a small .xlsx that decompresses to
  millions of rows costs only the rows up to the limit. A file (or an Excel sheet or its
  shared strings, unpacked, as the zip records them) larger than ``max_bytes`` is refused
  before it is parsed. A Parquet file's row count is read from its footer, before any data.
* **Formulas**: an Excel cell holding a formula is read as the value Excel saved with it
  (empty when the file was written by a program that saves no values). :func:`read_rows`
  with ``formulas=True`` yields a :class:`FormulaCell` instead, so a caller can refuse it
  rather than trust a saved value it cannot check.
* **Errors** are :class:`TableError`: file, sheet, line (CSV line, Excel row or Parquet row),
  column and reason, each field also available on its own.

This module imports nothing from Django: engines use it as well as apps.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple
from xml.etree import ElementTree

import numpy as np

from opencdmo.core.text import CONTROL_CHARACTERS, control_character_problem

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_CELLS",
    "DEFAULT_MAX_ROWS",
    "DELIMITERS",
    "FormulaCell",
    "Layout",
    "Row",
    "Table",
    "TableError",
    "decode_text",
    "detect_delimiter",
    "read_rows",
    "read_table",
    "sheet_names",
    "typed_column",
]

DELIMITERS = (",", ";", "\t", "|")
"""Delimiters a CSV file may use, in the order that breaks a tie."""

DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_MAX_CELLS = 50_000_000
DEFAULT_MAX_BYTES = 256 * 2**20
"""Default limits: a million rows (11.5 days of one-second data) of fifty values each, and
256 MiB of file (or of an Excel sheet unpacked)."""

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")

_CHUNK_BYTES = 1 << 16
_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.-]*:)?sheetData[\s/>]")

Layout = Literal["long", "wide"]
Source = str | os.PathLike[str] | bytes
_Raw = tuple[int, tuple[object, ...]]
"""A row as the readers yield it inside this module: (line, cells)."""

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class TableError(ValueError):
    """A file that cannot be read as a table, with where and why.

    Attributes
    ----------
    file : str
        The file's name as the caller gave it.
    reason : str
        What is wrong, written for the person who made the file.
    line : int or None
        CSV line, Excel row or Parquet row (1-based); None for the whole file.
    column : str or None
        Column name, or ``#n`` for the n-th column when it has no name.
    sheet : str or None
        Excel sheet.
    byte_offset : int or None
        Offset of the first undecodable (or NUL) byte from the start of the file, from 0.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        line: int | None = None,
        column: str | None = None,
        sheet: str | None = None,
        byte_offset: int | None = None,
    ) -> None:
        self.file = file
        self.reason = reason
        self.line = line
        self.column = column
        self.sheet = sheet
        self.byte_offset = byte_offset
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file if self.sheet is None else f"{self.file} [sheet {self.sheet}]"]
        if self.line is not None:
            position = f"{'row' if self.sheet is not None else 'line'} {self.line}"
            if self.byte_offset is not None:
                position += f" (byte {self.byte_offset})"
            where.append(position)
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}"


@dataclass(frozen=True)
class FormulaCell:
    """An Excel cell that holds a formula, as :func:`read_rows` yields it with ``formulas=True``.

    ``formula`` is its text as Excel shows it in the formula bar (``=1+2``).
    """

    formula: str


class Row(NamedTuple):
    """One row as read: its line (CSV line it starts on, Excel row) and its cells.

    Cells are stripped of surrounding white space. CSV cells are strings; Excel cells are
    what openpyxl gives (str, int, float, bool, datetime or None), trailing empty cells
    dropped.
    """

    line: int
    cells: tuple[object, ...]


# --- sources ---------------------------------------------------------------------------------


def _name_and_suffix(source: Source, name: str | None) -> tuple[str, str]:
    if name is None:
        if isinstance(source, bytes):
            raise TypeError("a table given as bytes needs a name that tells its type")
        name = str(source)
    return name, Path(name).suffix.lower()


def _bytes(source: Source, name: str, max_bytes: int) -> bytes:
    """The file's bytes, refused unread when there are more than ``max_bytes``."""
    if isinstance(source, bytes):
        size = len(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise TableError(name, "no such file")
        size = path.stat().st_size
    if size > max_bytes:
        raise TableError(name, f"{size:,} bytes; the limit is {max_bytes:,}")
    return source if isinstance(source, bytes) else path.read_bytes()


def _unknown_type(name: str, suffix: str) -> TableError:
    return TableError(name, f"unknown file type '{suffix}'; use CSV, Parquet or .xlsx")


class _Counter:
    """Stops reading at ``max_rows`` rows or ``max_cells`` cells."""

    def __init__(self, name: str, sheet: str | None, max_rows: int, max_cells: int) -> None:
        self.name, self.sheet = name, sheet
        self.max_rows, self.max_cells = max_rows, max_cells
        self.rows = self.cells = 0

    def error(self, line: int) -> TableError:
        """The limit that the row on ``line`` passed."""
        if self.rows > self.max_rows:
            reason = f"more than {self.max_rows:,} rows; the limit is {self.max_rows:,}"
        else:
            reason = f"more than {self.max_cells:,} cells; the limit is {self.max_cells:,}"
        return TableError(self.name, reason, line=line, sheet=self.sheet)


# --- CSV -------------------------------------------------------------------------------------


def decode_text(data: bytes, name: str) -> str:
    """CSV bytes as text: UTF-8, or UTF-8/UTF-16 LE/UTF-16 BE told by a byte-order mark.

    Raises
    ------
    TableError
        Naming the line and the byte offset of the first byte that does not decode, or of
        the first NUL when the text is full of them (UTF-16 text without its mark decodes
        as UTF-8 full of NULs).
    """
    encoding, start = "utf-8", 0
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            encoding, start = bom_encoding, len(bom)
            break
    try:
        text = data[start:].decode(encoding)
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        before = data[start:offset].decode(encoding, errors="replace")
        expected = "UTF-8" if encoding == "utf-8" else encoding.upper()
        raise TableError(
            name,
            f"not {expected} text; save the file as CSV UTF-8",
            line=before.count("\n") + 1,
            byte_offset=offset,
        ) from None
    nul = text.find("\x00")
    if nul >= 0 and _looks_like_utf16(text):
        raise TableError(
            name,
            "NUL bytes in the text, as in UTF-16 without a byte-order mark; "
            "save the file as CSV UTF-8",
            line=text.count("\n", 0, nul) + 1,
            byte_offset=start + len(text[:nul].encode(encoding)),
        )
    return text


def _looks_like_utf16(text: str) -> bool:
    """At least one NUL in eight characters: UTF-16 read as UTF-8, not a stray NUL in a cell.

    A stray one is left to the header and cell checks, which name its line and column.
    """
    sample = text[:4096]
    return 8 * sample.count("\x00") >= len(sample)


def _unquoted_count(line: str, delimiter: str) -> int:
    """How often ``delimiter`` occurs in ``line`` outside double quotes."""
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def detect_delimiter(text: str) -> str:
    """The delimiter of :data:`DELIMITERS` most frequent in the first non-blank line."""
    first = next((line for line in io.StringIO(text) if line.strip()), "")
    counts = [_unquoted_count(first, d) for d in DELIMITERS]
    return DELIMITERS[counts.index(max(counts))] if max(counts) else ","


def _csv_rows(data: bytes, name: str, suffix: str, delimiter: str | None) -> Iterator[_Raw]:
    text = decode_text(data, name)
    if delimiter is None:
        delimiter = "\t" if suffix == ".tsv" else detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            yield start, tuple(map(str.strip, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise TableError(name, f"unreadable CSV ({exc})", line=start) from None


# --- Excel -----------------------------------------------------------------------------------


def _declares_dimension(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    """Whether a sheet's XML has a dimension record before its data (read up to the data)."""
    parser: Any = ElementTree.XMLPullParser(events=("start",))
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                parser.feed(chunk)
                for _, element in parser.read_events():
                    local = str(element.tag).rsplit("}", 1)[-1]
                    if local in {"dimension", "sheetData"}:
                        return local == "dimension"
    except (ElementTree.ParseError, zipfile.BadZipFile, zlib.error, EOFError):
        return True  # damaged: left to openpyxl, which names it
    return True


def _copy_with_dimension(source: IO[bytes], target: IO[bytes]) -> None:
    """Copy a sheet's XML, adding a dimension record just before its data."""
    head = b""
    while chunk := source.read(_CHUNK_BYTES):
        head += chunk
        found = _SHEET_DATA.search(head)
        if found is not None:
            prefix = found.group(1) or b""
            target.write(head[: found.start()] + b"<" + prefix + b'dimension ref="A1"/>')
            target.write(head[found.start() :])
            while chunk := source.read(_CHUNK_BYTES):
                target.write(chunk)
            return
    target.write(head)


def _guarded_workbook(data: bytes, name: str, max_bytes: int) -> bytes:
    """The workbook checked against ``max_bytes`` unpacked, each sheet with a dimension record.

    openpyxl reads whole, when it opens a workbook, the shared strings and every sheet that
    lacks a dimension record (about 50 µs a row: 50 s for a million rows), so those parts
    are checked against the limit first, and a dimension is added to sheets without one; the
    reader then ignores it (``reset_dimensions``) and stops at the row limit instead.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return data  # not a zip: left to openpyxl, which names it
    with archive:
        sheets = [
            part
            for part in archive.infolist()
            if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml")
        ]
        for part in archive.infolist():
            if (part in sheets or part.filename == "xl/sharedStrings.xml") and (
                part.file_size > max_bytes
            ):
                raise TableError(
                    name,
                    f"{part.filename} unpacks to {part.file_size:,} bytes; "
                    f"the limit is {max_bytes:,}",
                )
        lacking = [part for part in sheets if not _declares_dimension(archive, part)]
        if not lacking:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as copy:
            for part in archive.infolist():
                if part in lacking:  # stored: compressing again would cost more than reading
                    with archive.open(part) as source, copy.open(part.filename, "w") as target:
                        _copy_with_dimension(source, target)
                else:
                    copy.writestr(part, archive.read(part))
        return out.getvalue()


def _open_workbook(source: Source, name: str, max_bytes: int, *, data_only: bool = True) -> Any:
    """The workbook read-only; ``data_only`` reads formulas' saved values, not the formulas."""
    from openpyxl import load_workbook

    data = _guarded_workbook(_bytes(source, name, max_bytes), name, max_bytes)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise TableError(name, f"not a readable Excel workbook ({type(exc).__name__})") from None


def sheet_names(
    source: Source, *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[str]:
    """The sheets of an Excel workbook, in workbook order."""
    file, _ = _name_and_suffix(source, name)
    workbook = _open_workbook(source, file, max_bytes)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _with_formulas(cells: tuple[Any, ...]) -> tuple[object, ...]:
    """Cell values, a formula's as a :class:`FormulaCell` (openpyxl marks its type ``f``)."""
    return tuple(FormulaCell(str(c.value)) if c.data_type == "f" else c.value for c in cells)


def _excel_rows(
    workbook: Any, worksheet: Any, name: str, *, formulas: bool = False
) -> Iterator[_Raw]:
    """The rows of an opened sheet, numbered as Excel numbers them; closes the workbook."""
    try:
        worksheet.reset_dimensions()  # a recorded dimension may be wrong; rows tell the truth
        cells_of: Iterator[tuple[object, ...]] = worksheet.iter_rows(
            min_row=1, values_only=not formulas
        )
        if formulas:
            cells_of = map(_with_formulas, cells_of)
        number = 0
        while True:
            try:
                cells = next(cells_of, None)
            except Exception as exc:  # a damaged sheet fails part way, in zip or XML code
                raise TableError(
                    name,
                    f"the workbook is damaged ({type(exc).__name__})",
                    line=number + 1,
                    sheet=worksheet.title,
                ) from None
            if cells is None:
                return
            number += 1
            trimmed = [cell.strip() if isinstance(cell, str) else cell for cell in cells]
            while trimmed and (trimmed[-1] is None or trimmed[-1] == ""):
                trimmed.pop()
            yield number, tuple(trimmed)
    finally:
        workbook.close()


def _open_sheet(
    source: Source, name: str, sheet: str | None, max_bytes: int, *, formulas: bool = False
) -> tuple[Any, Any]:
    """The workbook (read from bytes in memory) and its sheet ``sheet`` or its first sheet."""
    workbook = _open_workbook(source, name, max_bytes, data_only=not formulas)
    if sheet is None:
        return workbook, workbook.worksheets[0]
    if sheet in workbook.sheetnames:
        return workbook, workbook[sheet]
    workbook.close()
    raise TableError(name, f"no sheet '{sheet}'; the sheets are {', '.join(workbook.sheetnames)}")


# --- rows ------------------------------------------------------------------------------------


def _open_rows(
    source: Source,
    file: str,
    suffix: str,
    sheet: str | None,
    delimiter: str | None,
    max_bytes: int,
    *,
    formulas: bool = False,
) -> tuple[Iterator[_Raw], str | None]:
    """The rows of a CSV file or an Excel sheet, and the sheet's name; raises on opening."""
    if suffix in CSV_SUFFIXES:
        return _csv_rows(_bytes(source, file, max_bytes), file, suffix, delimiter), None
    if suffix in EXCEL_SUFFIXES:
        workbook, worksheet = _open_sheet(source, file, sheet, max_bytes, formulas=formulas)
        return _excel_rows(workbook, worksheet, file, formulas=formulas), str(worksheet.title)
    if suffix in PARQUET_SUFFIXES:
        raise TableError(file, "a Parquet file is read by columns; use read_table")
    raise _unknown_type(file, suffix)


def _counted(rows: Iterator[_Raw], counter: _Counter) -> Iterator[_Raw]:
    for row in rows:
        counter.rows += 1
        counter.cells += len(row[1])
        if counter.rows > counter.max_rows or counter.cells > counter.max_cells:
            raise counter.error(row[0])
        yield row


def read_rows(
    source: Source,
    *,
    name: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_cells: int = DEFAULT_MAX_CELLS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    formulas: bool = False,
) -> Iterator[Row]:
    """Every row of a CSV file or an Excel sheet, blank ones included, as read.

    For callers that check cells themselves (the network importer). Errors are raised while
    iterating: a file that does not open or decode on the first ``next``, a damaged part or
    a limit where it is met, after the rows before it.

    Parameters
    ----------
    source : path or bytes
        The file, or its bytes (then ``name`` is required).
    name : str, optional
        The file name used in messages and to tell the type; default the path.
    sheet : str, optional
        Excel sheet (exact name); default the first.
    delimiter : str, optional
        CSV delimiter; detected by default.
    max_rows, max_cells, max_bytes : int
        Limits on rows, on cells and on the bytes of the file (of an Excel
        sheet or its shared strings, unpacked).
    formulas : bool
        Yield an Excel cell that holds a formula as a :class:`FormulaCell` instead of the
        value saved with it.
    """
    file, suffix = _name_and_suffix(source, name)
    rows, title = _open_rows(source, file, suffix, sheet, delimiter, max_bytes, formulas=formulas)
    for line, cells in _counted(rows, _Counter(file, title, max_rows, max_cells)):
        yield Row(line, cells)


# --- tables ----------------------------------------------------------------------------------


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def typed_column(values: Sequence[object]) -> np.ndarray:
    """Floats (NaN where empty) when every value is a number or empty, otherwise strings."""
    if set(map(type, values)) <= {str, int, float}:
        try:  # numpy parses text as float() does; an empty or non-numeric value falls through
            return np.array(values, dtype=float)
        except ValueError:
            pass
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


@dataclass(frozen=True)
class Table:
    """A table read from a file: typed columns, their units and each row's line.

    Attributes
    ----------
    file : str
        The file's name, for messages.
    columns : dict of str to numpy.ndarray
        Column name → values: float (NaN where empty) or object (strings).
    units : dict of str to str
        Unit per column where the file gives one (units row or Parquet field metadata).
    lines : numpy.ndarray of int
        Line (CSV), row (Excel) or row number (Parquet) of each row, for messages.
    sheet : str or None
        The Excel sheet read.
    """

    file: str
    columns: dict[str, np.ndarray]
    units: dict[str, str] = field(default_factory=dict)
    lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    sheet: str | None = None

    def __len__(self) -> int:
        return int(self.lines.shape[0])

    @property
    def layout(self) -> Layout:
        """``"long"`` when the table has ``variable`` and ``value`` columns, else ``"wide"``."""
        return "long" if {"variable", "value"} <= set(self.columns) else "wide"

    def error(
        self, reason: str, *, row: int | None = None, column: str | None = None
    ) -> TableError:
        """A :class:`TableError` for row index ``row`` (0-based) and ``column`` of this table."""
        line = None if row is None else int(self.lines[row])
        return TableError(self.file, reason, line=line, column=column, sheet=self.sheet)

    def column(self, name: str) -> np.ndarray:
        """Column ``name``, or a :class:`TableError` listing the columns there are."""
        if name not in self.columns:
            raise self.error(
                f"no such column; the columns are {', '.join(self.columns)}", column=name
            )
        return self.columns[name]

    def floats(self, name: str) -> np.ndarray:
        """Column ``name`` as floats; a :class:`TableError` names the first non-number's line."""
        column = self.column(name)
        if column.dtype == float:
            return column
        for row, value in enumerate(column):
            if value != "" and not _is_number(value):
                raise self.error(f"{value!r} is not a number", row=row, column=name)
        return np.array([float(v) if v != "" else np.nan for v in column])

    def to_wide(
        self,
        *,
        key_columns: Sequence[str] = ("batch", "time"),
        variable_column: str = "variable",
        value_column: str = "value",
        unit_column: str | None = "unit",
    ) -> Table:
        """This long table as a wide one: a row per key, a column per variable.

        Rows keep the order in which each key first appears; variables the order in which
        each first appears; a variable not given for a key is NaN. Units come from
        ``unit_column`` when present.

        Raises
        ------
        TableError
            For a missing column, a non-numeric value, a key and variable given twice, or a
            variable with two units, naming the line.
        """
        keys = [self.column(c) for c in key_columns]
        variables = self.column(variable_column)
        values = self.floats(value_column)
        key_index: dict[tuple[object, ...], int] = {}
        key_rows: list[int] = []
        variable_index: dict[str, int] = {}
        cells: dict[tuple[int, int], int] = {}
        for row in range(len(self)):
            key = tuple(column[row] for column in keys)
            if key not in key_index:
                key_index[key] = len(key_rows)
                key_rows.append(row)
            k = key_index[key]
            v = variable_index.setdefault(str(variables[row]), len(variable_index))
            if (k, v) in cells:
                where = ", ".join(f"{c} {x}" for c, x in zip(key_columns, key, strict=True))
                raise self.error(
                    f"variable {str(variables[row])!r} at {where} is given twice "
                    f"(first on line {int(self.lines[cells[(k, v)]])})",
                    row=row,
                    column=variable_column,
                )
            cells[(k, v)] = row
        matrix = np.full((len(key_rows), len(variable_index)), np.nan)
        for (k, v), row in cells.items():
            matrix[k, v] = values[row]
        columns = {name: self.columns[name][key_rows] for name in key_columns}
        for name, v in variable_index.items():
            columns[name] = matrix[:, v]
        units = self._variable_units(variable_index, unit_column, variable_column)
        return Table(self.file, columns, units, self.lines[key_rows], self.sheet)

    def _variable_units(
        self, variable_index: dict[str, int], unit_column: str | None, variable_column: str
    ) -> dict[str, str]:
        if unit_column is None or unit_column not in self.columns:
            return {}
        units: dict[str, str] = {}
        first: dict[str, int] = {}
        for row, (variable, unit) in enumerate(
            zip(self.columns[variable_column], self.columns[unit_column], strict=True)
        ):
            name, text = str(variable), "" if unit is None else str(unit)
            if name in units and units[name] != text:
                raise self.error(
                    f"variable {name!r} has unit {text!r} here but {units[name]!r} on line "
                    f"{int(self.lines[first[name]])}",
                    row=row,
                    column=unit_column,
                )
            units.setdefault(name, text)
            first.setdefault(name, row)
        return {name: units[name] for name in variable_index if units.get(name)}


def _header(row: _Raw, file: str, sheet: str | None) -> list[str]:
    line, cells = row
    names = ["" if _is_blank(cell) else str(cell).strip() for cell in cells]
    for index, name in enumerate(names):
        if problem := control_character_problem(name):
            raise TableError(
                file, f"the column name {problem}", line=line, column=f"#{index + 1}", sheet=sheet
            )
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise TableError(
                file, "column appears more than once", line=line, column=name, sheet=sheet
            )
        seen.add(name)
    return names


def _looks_like_units(units: tuple[object, ...], below: tuple[object, ...] | None) -> bool:
    """All text, and at least half of it over numbers in the first data row."""
    texts = [k for k, cell in enumerate(units) if not _is_blank(cell)]
    if not texts or below is None or any(_is_number(units[k]) for k in texts):
        return False
    over_numbers = sum(k < len(below) and _is_number(below[k]) for k in texts)
    return over_numbers > 0 and 2 * over_numbers >= len(texts)


def _check_width(
    row: _Raw, names: list[str], file: str, sheet: str | None, is_csv: bool
) -> tuple[object, ...]:
    """The row's cells, one per header column; an error for values outside the header."""
    line, cells = row
    width = len(names)
    if len(cells) == width:
        return cells
    extra = next((k for k in range(width, len(cells)) if not _is_blank(cells[k])), None)
    if is_csv and (len(cells) < width or extra is not None):
        raise TableError(file, f"{len(cells)} fields where the header has {width}", line=line)
    if extra is not None:
        raise TableError(
            file,
            "value in a column without a header",
            line=line,
            column=f"#{extra + 1}",
            sheet=sheet,
        )
    return cells[:width] + (None,) * (width - len(cells))


def _is_blank_row(cells: tuple[object, ...]) -> bool:
    """Cells are stripped, so a blank one is None or ""; counting them runs in C."""
    return cells.count(None) + cells.count("") == len(cells)


def _table_from_rows(
    rows: Iterable[_Raw], file: str, sheet: str | None, units_row: bool | None, is_csv: bool
) -> Table:
    content = (row for row in rows if not _is_blank_row(row[1]))
    header_row = next(content, None)
    if header_row is None:
        raise TableError(
            file, "the file is empty; the first line must name the columns", sheet=sheet
        )
    names = _header(header_row, file, sheet)
    width = len(names)
    lines: list[int] = []
    body: list[tuple[object, ...]] = []
    for row in content:
        lines.append(row[0])
        body.append(
            row[1] if len(row[1]) == width else _check_width(row, names, file, sheet, is_csv)
        )
    units: dict[str, str] = {}
    if body and (
        units_row
        or (units_row is None and _looks_like_units(body[0], body[1] if len(body) > 1 else None))
    ):
        del lines[0]
        units = {
            n: str(u) for n, u in zip(names, body.pop(0), strict=True) if n and not _is_blank(u)
        }
    transposed = list(zip(*body, strict=True)) or [()] * width
    columns: dict[str, np.ndarray] = {}
    for index, name in enumerate(names):
        values = transposed[index]
        if not name:
            blank = [_is_blank(v) for v in values]
            if not all(blank):
                raise TableError(
                    file,
                    "value in a column without a header",
                    line=lines[blank.index(False)],
                    column=f"#{index + 1}",
                    sheet=sheet,
                )
            continue
        columns[name] = typed_column(values)
        if columns[name].dtype == object:
            _check_text_column(columns[name], name, lines, file, sheet)
    return Table(file, columns, units, np.array(lines, dtype=int), sheet)


def _check_text_column(
    values: np.ndarray, name: str, lines: list[int], file: str, sheet: str | None
) -> None:
    """Refuse a control character in a text column, naming the first cell that holds one.

    The column is searched as one string first (a pass in C), cell by cell only on a hit.
    """
    texts = [value if isinstance(value, str) else "" for value in values.tolist()]
    if CONTROL_CHARACTERS.search("\n".join(texts)) is None:
        return
    for row, value in enumerate(texts):
        if problem := control_character_problem(value):
            raise TableError(
                file, f"the value {problem}", line=lines[row], column=name, sheet=sheet
            )


def _arrow_column(column: Any) -> np.ndarray:
    """A Parquet column as :func:`typed_column` makes it, typing each distinct value once.

    Text columns (batch ids, variable names, units) repeat a few values over many rows;
    typing them per level instead of per cell reads a 600,000-row long table in well under a
    second instead of about ten.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return column.cast(pa.float64()).fill_null(float("nan")).to_numpy()
    if not pa.types.is_dictionary(kind):
        try:
            column = pc.dictionary_encode(column)
        except pa.ArrowNotImplementedError:  # nested types (lists, structs) have no levels
            return typed_column(column.to_pylist())
    encoded = column.unify_dictionaries().combine_chunks()
    levels = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(len(levels)).to_numpy(zero_copy_only=False)
    return typed_column([*levels, None])[codes]


def _read_parquet(
    source: Source, file: str, max_rows: int, max_cells: int, max_bytes: int
) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = _bytes(source, file, max_bytes)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        n_rows, n_columns = parquet.metadata.num_rows, parquet.metadata.num_columns
        if n_rows > max_rows:
            raise TableError(file, f"{n_rows:,} rows; the limit is {max_rows:,}")
        if n_rows * n_columns > max_cells:
            raise TableError(file, f"{n_rows * n_columns:,} cells; the limit is {max_cells:,}")
        arrow = parquet.read()
    except (pa.ArrowException, OSError) as exc:
        raise TableError(file, f"not a readable Parquet file ({exc})") from None
    columns: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    lines = list(range(1, arrow.num_rows + 1))
    for index, (schema_field, column) in enumerate(zip(arrow.schema, arrow.columns, strict=True)):
        if problem := control_character_problem(schema_field.name):
            raise TableError(file, f"the column name {problem}", column=f"#{index + 1}")
        columns[schema_field.name] = _arrow_column(column)
        if columns[schema_field.name].dtype == object:
            _check_text_column(columns[schema_field.name], schema_field.name, lines, file, None)
        unit = (schema_field.metadata or {}).get(b"unit")
        if unit:
            units[schema_field.name] = unit.decode("utf-8")
    return Table(file, columns, units, np.array(lines, dtype=int))


def read_table(
    source: Source,
    *,
    name: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
    units_row: bool | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_cells: int = DEFAULT_MAX_CELLS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Table:
    """Read a CSV, Excel or Parquet file into a :class:`Table` (see the module contract).

    Parameters
    ----------
    source : path or bytes
        The file, or its bytes (then ``name`` is required).
    name : str, optional
        The file name used in messages and to tell the type; default the path.
    sheet : str, optional
        Excel sheet (exact name); default the first.
    delimiter : str, optional
        CSV delimiter; detected by default.
    units_row : bool, optional
        Whether the row under the header holds units; detected when None.
    max_rows, max_cells, max_bytes : int
        Limits on rows, on cells and on the bytes of the file (of an Excel sheet
        or its shared strings, unpacked); reading stops as soon as one is passed.

    Raises
    ------
    TableError
        For a missing, unknown, undecodable, damaged, malformed or over-limit file.
    """
    file, suffix = _name_and_suffix(source, name)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(source, file, max_rows, max_cells, max_bytes)
    rows, title = _open_rows(source, file, suffix, sheet, delimiter, max_bytes)
    counted = _counted(rows, _Counter(file, title, max_rows, max_cells))
    return _table_from_rows(counted, file, title, units_row, suffix in CSV_SUFFIXES)
