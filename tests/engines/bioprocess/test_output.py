"""Long-format, summary and fault tables, written as Parquet and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from opencdmo.engines.bioprocess.errors import InvalidInputError
from opencdmo.engines.bioprocess.faults import Fault
from opencdmo.engines.bioprocess.output import (
    faults_table,
    long_table,
    summary_table,
    write_dataset,
)
from opencdmo.engines.bioprocess.reactor import bioreactor
from opencdmo.engines.bioprocess.recipe import ProcessRecipe
from opencdmo.engines.bioprocess.sensors import OFFLINE_ASSAYS, ONLINE_SENSORS
from opencdmo.engines.bioprocess.simulator import (
    BatchResult,
    BatchSpec,
    SimulationSettings,
    simulate,
)


@pytest.fixture(scope="module")
def short_batches() -> list[BatchResult]:
    recipe = ProcessRecipe(duration_days=3.0, temperature_shift_day=None)
    reactor = bioreactor(50.0)
    specs = [
        BatchSpec("N1", reactor, recipe=recipe, seed=1),
        BatchSpec(
            "F1", reactor, recipe=recipe, seed=2, faults=(Fault("ph_probe_bias", 24, 72, 0.1),)
        ),
    ]
    return simulate(specs, SimulationSettings(sensor_interval_min=30.0))


def test_long_table_has_one_row_per_batch_time_and_variable(
    short_batches: list[BatchResult],
) -> None:
    """Columns are batch, time (h), variable, value, unit; rows cover online and offline data."""
    table = long_table(short_batches)
    assert table.column_names == ["batch", "time", "variable", "value", "unit"]
    assert table.schema.metadata[b"time_unit"] == b"h"
    per_batch = 145 * len(ONLINE_SENSORS) + 4 * len(OFFLINE_ASSAYS)
    assert table.num_rows == 2 * per_batch
    rows = table.to_pylist()
    titer = [r for r in rows if r["batch"] == "F1" and r["variable"] == "titer_g_l"]
    assert [r["time"] for r in titer] == [0.0, 24.0, 48.0, 72.0]
    assert {r["unit"] for r in titer} == {"g/L"}
    do = [r["value"] for r in rows if r["batch"] == "N1" and r["variable"] == "do_pct"]
    np.testing.assert_array_equal(do, short_batches[0].online["do_pct"])


def test_summary_and_fault_tables_label_the_faults(short_batches: list[BatchResult]) -> None:
    """The summary marks faulty batches; the fault table carries start, end and magnitude."""
    summary = summary_table(short_batches).to_pylist()
    assert [row["faulty"] for row in summary] == [False, True]
    assert summary[1]["fault_kinds"] == "ph_probe_bias"
    assert summary[0]["harvest_volume_l"] > 0.0
    assert summary[0]["product_g"] == pytest.approx(
        summary[0]["final_titer_g_l"] * summary[0]["harvest_volume_l"]
    )
    faults = faults_table(short_batches).to_pylist()
    assert faults == [
        {
            "batch": "F1",
            "kind": "ph_probe_bias",
            "start_h": 24.0,
            "end_h": 72.0,
            "magnitude": 0.1,
            "magnitude_unit": "pH units added to the reading",
            "signature": "ph;co2_flow_slpm;base_added_l",
        }
    ]


def test_write_dataset_writes_parquet_and_csv_that_read_back(
    short_batches: list[BatchResult], tmp_path: Path
) -> None:
    """Both formats hold the same rows; no temporary files are left behind."""
    written = write_dataset(tmp_path / "out", short_batches, "both")
    assert sorted(p.name for p in written) == sorted(
        f"{n}.{e}" for n in ("timeseries", "summary", "faults") for e in ("parquet", "csv")
    )
    parquet = pq.read_table(tmp_path / "out" / "timeseries.parquet")
    csv = pacsv.read_csv(tmp_path / "out" / "timeseries.csv")
    assert parquet.num_rows == csv.num_rows == long_table(short_batches).num_rows
    np.testing.assert_allclose(csv.column("value").to_numpy(), parquet.column("value").to_numpy())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written)


def test_write_dataset_rejects_a_file_as_directory(
    short_batches: list[BatchResult], tmp_path: Path
) -> None:
    """An output path that is a file is refused, naming --out."""
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InvalidInputError) as caught:
        write_dataset(target, short_batches)
    assert caught.value.parameter == "out"


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_monitoring_engine_reads_the_written_files_with_its_defaults(
    short_batches: list[BatchResult], tmp_path: Path, suffix: str
) -> None:
    """read_batch_file takes the time series as written, Parquet or CSV, without options."""
    from opencdmo.engines.monitoring import read_batch_file

    write_dataset(tmp_path, short_batches, "both")
    dataset = read_batch_file(tmp_path / f"timeseries.{suffix}")
    assert tuple(dataset.batch_ids) == ("N1", "F1")
    assert set(dataset.variables) == {m.name for m in (*ONLINE_SENSORS, *OFFLINE_ASSAYS)}
    assert dataset.units["titer_g_l"] == "g/L"


def test_a_failed_write_leaves_earlier_files_whole_and_no_temporary_file(
    short_batches: list[BatchResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV writer that breaks half way keeps the file from the run before, byte for byte."""
    written = write_dataset(tmp_path, short_batches, "csv")
    before = {p.name: p.read_bytes() for p in written}

    def fail_half_way(table: object, handle: Any) -> None:
        handle.write(b'"batch","time"\n"N1",')
        raise OSError("disk full")

    monkeypatch.setattr(pacsv, "write_csv", fail_half_way)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(tmp_path, short_batches, "csv")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
