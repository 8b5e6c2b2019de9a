"""Reading batch data from long and wide tables (CSV, Parquet, Excel) with validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opencdmo.engines.monitoring import BatchDataset, MonitoringInputError, read_batch_file


def _long_rows() -> dict[str, list[object]]:
    return {
        "batch": ["B1", "B1", "B1", "B1", "B2", "B2", "B2", "B2"],
        "time": [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 2.0, 2.0],
        "variable": ["temp", "ph", "temp", "ph", "temp", "ph", "temp", "ph"],
        "value": [36.9, 7.1, 37.0, 7.0, 37.2, 7.2, 37.1, 6.9],
        "unit": ["degC", "pH", "degC", "pH", "degC", "pH", "degC", "pH"],
    }


def test_long_table_builds_batches_with_units() -> None:
    """Long rows become one (time × variable) matrix per batch, units kept."""
    data = BatchDataset.from_long_table(_long_rows())
    assert data.batch_ids == ["B1", "B2"]
    assert data.variables == ("temp", "ph")
    assert data.units == {"temp": "degC", "ph": "pH"}
    np.testing.assert_allclose(data["B2"].time, [0.0, 2.0])
    np.testing.assert_allclose(data["B2"].values, [[37.2, 7.2], [37.1, 6.9]])


def test_parquet_long_file(tmp_path: Path) -> None:
    """A long-format Parquet file reads to the same dataset as the table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "batches.parquet"
    pq.write_table(pa.table(_long_rows()), path)
    data = read_batch_file(path)
    assert data.variables == ("temp", "ph")
    np.testing.assert_allclose(data["B1"].values, [[36.9, 7.1], [37.0, 7.0]])


def test_sparse_long_data_leaves_gaps_as_missing() -> None:
    """A variable not measured at a time is NaN there, not zero."""
    rows = _long_rows()
    for column in rows.values():
        del column[3]
    data = BatchDataset.from_long_table(rows)
    assert np.isnan(data["B1"].values[1, 1])


def test_duplicate_long_entry_is_named() -> None:
    """The same (batch, time, variable) twice is refused, naming row, batch and variable."""
    rows = _long_rows()
    rows["time"][2] = 0.0
    with pytest.raises(MonitoringInputError, match=r"row 3: batch 'B1', variable 'temp' at time 0"):
        BatchDataset.from_long_table(rows)


def test_non_numeric_value_is_named() -> None:
    """A value that is not a number is refused with its row and column."""
    rows = _long_rows()
    rows["value"][5] = "n/a"
    with pytest.raises(MonitoringInputError, match=r"column 'value', row 6: 'n/a' is not a number"):
        BatchDataset.from_long_table(rows)


def test_unknown_column_lists_the_columns() -> None:
    """Asking for a column the table lacks names it and the columns present."""
    with pytest.raises(MonitoringInputError, match="no column 'lot'; the columns are batch, time"):
        BatchDataset.from_long_table(_long_rows(), batch_column="lot")


def test_two_units_for_one_variable_are_refused() -> None:
    """A variable reported in two units is refused with the row."""
    rows = _long_rows()
    rows["unit"][4] = "K"
    with pytest.raises(MonitoringInputError, match=r"row 5: variable 'temp' has unit 'K'"):
        BatchDataset.from_long_table(rows)


def test_variable_never_observed_in_a_batch_is_named() -> None:
    """A batch without any value of a variable is refused, naming both."""
    rows = _long_rows()
    for column in rows.values():
        del column[6]
        del column[4]
    with pytest.raises(MonitoringInputError, match=r"batch 'B2': variable 'temp' has no observed"):
        BatchDataset.from_long_table(rows)


def test_wide_csv_with_time_going_backwards(tmp_path: Path) -> None:
    """A wide file whose time decreases within a batch is refused with the file row."""
    path = tmp_path / "wide.csv"
    path.write_text("batch_id,t,x\n1,0,1.0\n1,1,2.0\n1,0.5,3.0\n2,0,1.0\n2,1,1.5\n")
    with pytest.raises(MonitoringInputError, match=r"row 3: batch '1', time 0.5 goes backwards"):
        read_batch_file(path, time_column="t")


def test_dryer_clock_time_and_excel_phases(dryer: BatchDataset, film_coating: BatchDataset) -> None:
    """Wide CSV with clock time and the film-coating workbook with phases read fully."""
    assert len(dryer) == 71
    assert (dryer.lengths.min(), dryer.lengths.max()) == (89, 201)
    assert len(film_coating) == 17
    assert (film_coating.lengths.min(), film_coating.lengths.max()) == (271, 481)
    assert film_coating["B211"].phases is not None
    assert film_coating["B211"].phases[0] == "STARTUP"


def test_unknown_file_type_is_refused(tmp_path: Path) -> None:
    """A file that is not CSV, Parquet or Excel is refused with its suffix."""
    path = tmp_path / "data.json"
    path.write_text("{}")
    with pytest.raises(MonitoringInputError, match=r"unknown file type '\.json'"):
        read_batch_file(path)


def test_wide_csv_with_a_units_row_reads_its_numbers(tmp_path: Path) -> None:
    """A units row under the header is not taken for a batch's first sample."""
    path = tmp_path / "wide.csv"
    path.write_text("batch_id;t;temp\n;h;degC\n1;0;36.9\n1;1;37.0\n2;0;37.1\n2;1;37.2\n")
    data = read_batch_file(path, time_column="t")
    np.testing.assert_allclose(data["1"].values[:, 0], [36.9, 37.0])


def test_undecodable_file_names_line_and_byte(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are refused with the line and byte offset where they sit."""
    path = tmp_path / "wide.csv"
    path.write_bytes(b"batch_id,x\n1,1.0\n1,\xb52.0\n")
    with pytest.raises(MonitoringInputError, match=r"wide\.csv, line 3 \(byte 19\): not UTF-8"):
        read_batch_file(path)
