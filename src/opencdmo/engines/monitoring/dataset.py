"""Batch data: variable-length batches of time-stamped process variables, with units.

Two table layouts are read:

* **long**: one row per (batch, time, variable) with columns ``batch``, ``time``,
  ``variable``, ``value`` and optionally ``unit`` and ``phase``;
* **wide**: one row per (batch, time) with a column per variable (``nylon.csv``,
  ``dryer.csv``, the film-coating workbook).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np

from .errors import MonitoringInputError
from .tables import Table, column_as_float, read_table, table_from_mapping

__all__ = ["Batch", "BatchDataset", "read_batch_file"]


def _codes(values: Sequence[object] | np.ndarray) -> tuple[list[str], np.ndarray]:
    """Distinct labels in order of first appearance, and each entry's label index."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        array = np.array([_batch_label(v) for v in array.tolist()])
    elif array.dtype.kind != "U":
        array = array.astype(str)
    labels, first, inverse = np.unique(array, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return [str(label) for label in labels[order]], rank[inverse.ravel()]


def _units(
    variables: list[str],
    var_code: np.ndarray,
    unit: Sequence[object] | np.ndarray,
    source: str,
) -> dict[str, str]:
    """One unit per variable, or an error naming the first row that contradicts it."""
    given = np.asarray(unit)
    if given.dtype == object:
        given = np.array(["" if u is None else str(u) for u in given.tolist()])
    unit_labels, unit_code = _codes(given)
    if unit_code.shape[0] != var_code.shape[0]:
        raise MonitoringInputError(
            f"{source}: column 'unit' has {unit_code.shape[0]} entries; 'variable' has "
            f"{var_code.shape[0]}."
        )
    first_row = np.full(len(variables), -1)
    seen = np.flatnonzero(np.r_[True, np.diff(np.sort(var_code)) != 0])
    by_variable = np.argsort(var_code, kind="stable")
    first_row[var_code[by_variable[seen]]] = by_variable[seen]
    expected = unit_code[first_row[var_code]]
    bad = np.flatnonzero(unit_code != expected)
    if bad.size:
        row = int(bad[0])
        variable = variables[var_code[row]]
        raise MonitoringInputError(
            f"{source}, row {row + 1}: variable {variable!r} has unit "
            f"{unit_labels[unit_code[row]]!r} but {unit_labels[expected[row]]!r} earlier."
        )
    return {variables[v]: unit_labels[unit_code[first_row[v]]] for v in range(len(variables))}


def _time_values(table: Table, name: str, source: str) -> np.ndarray:
    column = table.get(name)
    if column is not None and column.dtype == object:
        try:
            stamps = np.array(column, dtype="datetime64[ms]")
        except ValueError:
            return column_as_float(table, name, source)
        return stamps.astype("int64").astype(float) / 1000.0
    return column_as_float(table, name, source)


@dataclass(frozen=True)
class Batch:
    """One batch: sample times and a (samples × variables) value matrix.

    Attributes
    ----------
    batch_id : str
    time : numpy.ndarray (n,)
        Sample times (the file's unit; seconds for timestamps), increasing.
    values : numpy.ndarray (n, J)
        Values of the dataset's variables; NaN where missing.
    phases : numpy.ndarray (n,) of str, optional
        Phase name of each sample.
    """

    batch_id: str
    time: np.ndarray
    values: np.ndarray
    phases: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.values.shape[0])


@dataclass(frozen=True)
class BatchDataset:
    """A set of batches measured on the same variables.

    Build one with :meth:`from_long`, :meth:`from_wide` or :func:`read_batch_file`.

    Attributes
    ----------
    variables : tuple of str
    batches : tuple of Batch
    units : dict of str to str
        Unit per variable (empty string where unknown).
    """

    variables: tuple[str, ...]
    batches: tuple[Batch, ...]
    units: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.batches:
            raise MonitoringInputError("a batch dataset needs at least one batch.")
        seen: set[str] = set()
        J = len(self.variables)
        for batch in self.batches:
            if batch.batch_id in seen:
                raise MonitoringInputError(f"batch {batch.batch_id!r} appears twice.")
            seen.add(batch.batch_id)
            if batch.values.ndim != 2 or batch.values.shape[1] != J:
                raise MonitoringInputError(
                    f"batch {batch.batch_id!r}: values have shape {batch.values.shape}; "
                    f"expected (samples, {J})."
                )
            if batch.time.shape[0] != batch.values.shape[0]:
                raise MonitoringInputError(
                    f"batch {batch.batch_id!r}: {batch.time.shape[0]} times for "
                    f"{batch.values.shape[0]} samples."
                )
            if batch.n_samples < 2:
                raise MonitoringInputError(
                    f"batch {batch.batch_id!r} has {batch.n_samples} sample(s); at least 2 needed."
                )
            empty = np.flatnonzero(np.isnan(batch.values).all(axis=0))
            if empty.size:
                raise MonitoringInputError(
                    f"batch {batch.batch_id!r}: variable {self.variables[int(empty[0])]!r} has no "
                    "observed value."
                )
            if np.isnan(batch.time).any() or np.any(np.diff(batch.time) < 0):
                raise MonitoringInputError(
                    f"batch {batch.batch_id!r}: the time values are missing or not increasing."
                )

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, batch_id: str) -> Batch:
        for batch in self.batches:
            if batch.batch_id == batch_id:
                return batch
        raise MonitoringInputError(f"no batch {batch_id!r} in this dataset.")

    @property
    def batch_ids(self) -> list[str]:
        """Batch identifiers in dataset order."""
        return [b.batch_id for b in self.batches]

    @property
    def lengths(self) -> np.ndarray:
        """Number of samples of each batch."""
        return np.array([b.n_samples for b in self.batches])

    def select(self, batch_ids: Sequence[str]) -> BatchDataset:
        """A dataset holding only ``batch_ids`` (in that order)."""
        return BatchDataset(self.variables, tuple(self[b] for b in batch_ids), dict(self.units))

    def drop(self, batch_ids: Sequence[str]) -> BatchDataset:
        """A dataset without ``batch_ids``."""
        excluded = set(batch_ids)
        unknown = excluded - set(self.batch_ids)
        if unknown:
            raise MonitoringInputError(f"no batch {sorted(unknown)[0]!r} in this dataset.")
        kept = tuple(b for b in self.batches if b.batch_id not in excluded)
        return BatchDataset(self.variables, kept, dict(self.units))

    def with_variables(self, variables: Sequence[str]) -> BatchDataset:
        """A dataset restricted to ``variables`` (in that order)."""
        index = [self.variable_index(v) for v in variables]
        batches = tuple(
            Batch(b.batch_id, b.time, b.values[:, index], b.phases) for b in self.batches
        )
        return BatchDataset(
            tuple(variables), batches, {v: self.units.get(v, "") for v in variables}
        )

    def variable_index(self, variable: str) -> int:
        """Column index of ``variable``."""
        try:
            return self.variables.index(variable)
        except ValueError:
            raise MonitoringInputError(
                f"no variable {variable!r}; the variables are {', '.join(self.variables)}."
            ) from None

    @classmethod
    def from_long(
        cls,
        batch: Sequence[object] | np.ndarray,
        time: Sequence[float] | np.ndarray,
        variable: Sequence[str] | np.ndarray,
        value: Sequence[float] | np.ndarray,
        unit: Sequence[str] | np.ndarray | None = None,
        phase: Sequence[str] | np.ndarray | None = None,
        *,
        source: str = "long table",
    ) -> BatchDataset:
        """Build a dataset from long-format columns, one entry per (batch, time, variable).

        A batch need not measure every variable at every time: the missing cells are NaN.

        Raises
        ------
        MonitoringInputError
            On unequal column lengths, non-numeric values, a duplicated
            (batch, time, variable), a variable with two units, or a variable never
            observed in a batch.
        """
        batch_ids, batch_code = _codes(batch)
        variables, var_code = _codes(variable)
        time_col = np.asarray(time, dtype=float)
        value_col = np.asarray(value, dtype=float)
        n = batch_code.shape[0]
        for name, col in (("time", time_col), ("variable", var_code), ("value", value_col)):
            if col.shape[0] != n:
                raise MonitoringInputError(
                    f"{source}: column {name!r} has {col.shape[0]} entries; 'batch' has {n}."
                )
        bad_time = np.flatnonzero(np.isnan(time_col))
        if bad_time.size:
            raise MonitoringInputError(
                f"{source}, row {int(bad_time[0]) + 1}: the time is missing."
            )
        units = {} if unit is None else _units(variables, var_code, unit, source)
        phase_labels: list[str] = []
        phase_code = None
        if phase is not None:
            phase_labels, phase_code = _codes(phase)
        order = np.lexsort((var_code, time_col, batch_code))
        b_sorted, t_sorted, v_sorted = batch_code[order], time_col[order], var_code[order]
        same = (np.diff(b_sorted) == 0) & (np.diff(t_sorted) == 0) & (np.diff(v_sorted) == 0)
        if same.any():
            k = int(np.flatnonzero(same)[0])
            dup = int(max(order[k], order[k + 1]))
            raise MonitoringInputError(
                f"{source}, row {dup + 1}: batch {batch_ids[batch_code[dup]]!r}, variable "
                f"{variables[var_code[dup]]!r} at time {time_col[dup]:g} is given twice."
            )
        bounds = np.concatenate([[0], np.flatnonzero(np.diff(b_sorted)) + 1, [n]])
        J = len(variables)
        batches = []
        for start, stop in pairwise(bounds.tolist()):
            rows = order[start:stop]
            times, inverse = np.unique(t_sorted[start:stop], return_inverse=True)
            values = np.full((times.shape[0], J), np.nan)
            values.reshape(-1)[inverse * J + v_sorted[start:stop]] = value_col[rows]
            phases = None
            if phase_code is not None:
                phases = np.empty(times.shape[0], dtype=object)
                phases[inverse] = [phase_labels[c] for c in phase_code[rows]]
            batches.append(Batch(batch_ids[b_sorted[start]], times, values, phases))
        return cls(tuple(variables), tuple(batches), units)

    @classmethod
    def from_long_table(
        cls,
        table: Mapping[str, Sequence[object] | np.ndarray],
        *,
        batch_column: str = "batch",
        time_column: str = "time",
        variable_column: str = "variable",
        value_column: str = "value",
        unit_column: str | None = "unit",
        phase_column: str | None = None,
        source: str = "long table",
    ) -> BatchDataset:
        """Build a dataset from a long-format table (mapping of columns or pyarrow Table)."""
        columns = table_from_mapping(table)
        for name in (batch_column, time_column, variable_column, value_column):
            if name not in columns:
                raise MonitoringInputError(
                    f"{source}: no column {name!r}; the columns are {', '.join(columns)}."
                )
        unit = columns[unit_column] if unit_column and unit_column in columns else None
        phase = None
        if phase_column is not None:
            if phase_column not in columns:
                raise MonitoringInputError(f"{source}: no column {phase_column!r}.")
            phase = columns[phase_column]
        return cls.from_long(
            columns[batch_column],
            _time_values(columns, time_column, source),
            columns[variable_column],
            column_as_float(columns, value_column, source),
            unit,
            phase,
            source=source,
        )

    @classmethod
    def from_wide_table(
        cls,
        table: Mapping[str, Sequence[object] | np.ndarray],
        *,
        batch_column: str,
        time_column: str | None = None,
        variables: Sequence[str] | None = None,
        phase_column: str | None = None,
        units: Mapping[str, str] | None = None,
        source: str = "wide table",
    ) -> BatchDataset:
        """Build a dataset from a table with one row per sample and one column per variable.

        Without ``time_column`` the sample number (0, 1, 2, ...) within each batch is the
        time; rows of a batch are then taken in file order.
        """
        columns = table_from_mapping(table)
        if batch_column not in columns:
            raise MonitoringInputError(
                f"{source}: no column {batch_column!r}; the columns are {', '.join(columns)}."
            )
        reserved = {batch_column, time_column, phase_column}
        names = [c for c in columns if c not in reserved] if variables is None else list(variables)
        matrix = np.column_stack([column_as_float(columns, v, source) for v in names])
        labels, codes = _codes(columns[batch_column])
        time = None if time_column is None else _time_values(columns, time_column, source)
        if phase_column is not None and phase_column not in columns:
            raise MonitoringInputError(f"{source}: no column {phase_column!r}.")
        phases = None if phase_column is None else columns[phase_column]
        order = np.argsort(codes, kind="stable")
        bounds = np.concatenate([[0], np.flatnonzero(np.diff(codes[order])) + 1, [codes.size]])
        batches = []
        for start, stop in pairwise(bounds.tolist()):
            rows = order[start:stop]
            batch_id = labels[codes[rows[0]]]
            if time is None:
                batch_time = np.arange(rows.shape[0], dtype=float)
            else:
                batch_time = time[rows]
                if np.any(np.diff(batch_time) < 0):
                    bad = rows[int(np.flatnonzero(np.diff(batch_time) < 0)[0]) + 1]
                    raise MonitoringInputError(
                        f"{source}, row {int(bad) + 1}: batch {batch_id!r}, time "
                        f"{time[bad]:g} goes backwards."
                    )
            batch_phases = None
            if phases is not None:
                batch_phases = np.asarray([str(p) for p in phases[rows]], dtype=object)
            batches.append(Batch(batch_id, batch_time, matrix[rows], batch_phases))
        unit_map = {v: (units or {}).get(v, "") for v in names}
        return cls(tuple(names), tuple(batches), unit_map)


def _batch_label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_batch_file(
    path: str | Path,
    *,
    layout: str = "auto",
    batch_column: str | None = None,
    time_column: str | None = None,
    variables: Sequence[str] | None = None,
    phase_column: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> BatchDataset:
    """Read a batch dataset from a CSV, Parquet or Excel file.

    Parameters
    ----------
    path : str or Path
        The file.
    layout : {"auto", "long", "wide"}
        ``"auto"`` reads long format when the file has ``variable`` and ``value`` columns.
    batch_column : str, optional
        Batch identifier column; default ``batch`` (long) or the first of ``batch``,
        ``batch_id``, ``BATCH NUMBER`` present (wide).
    time_column : str, optional
        Time column; default ``time`` (long); none (sample number) for wide.
    variables : sequence of str, optional
        Wide layout: the variable columns to keep (default: all other columns).
    phase_column : str, optional
        Column naming the phase of each sample.
    delimiter, sheet : str, optional
        CSV delimiter (detected by default) and Excel sheet (first by default).
    """
    table = read_table(path, delimiter=delimiter, sheet=sheet)
    source = str(path)
    if layout == "auto":
        layout = "long" if {"variable", "value"} <= set(table) else "wide"
    if layout == "long":
        return BatchDataset.from_long_table(
            table,
            batch_column=batch_column or "batch",
            time_column=time_column or "time",
            phase_column=phase_column,
            source=source,
        )
    if layout != "wide":
        raise MonitoringInputError(f"layout must be 'auto', 'long' or 'wide'; got {layout!r}.")
    if batch_column is None:
        candidates = [c for c in ("batch", "batch_id", "BATCH NUMBER") if c in table]
        if not candidates:
            raise MonitoringInputError(
                f"{source}: no batch column found; name it with batch_column (columns: "
                f"{', '.join(table)})."
            )
        batch_column = candidates[0]
    return BatchDataset.from_wide_table(
        table,
        batch_column=batch_column,
        time_column=time_column,
        variables=variables,
        phase_column=phase_column,
        source=source,
    )
