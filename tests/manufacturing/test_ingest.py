"""Ingesting files into a batch: layouts, units, time, all-or-nothing and re-ingestion."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.exceptions import PermissionDenied
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.core.tenancy import caller_scope
from opencdmo.manufacturing import services
from opencdmo.manufacturing.models import Batch, ProcessDataFile
from opencdmo.manufacturing.store import ProcessDataStore

WIDE = b"time,ph,temperature_c,do_pct\nh,pH,degC,% air sat\n0,7.00,36.5,80\n1,7.01,36.6,79.5\n2,7.02,,79\n"


@pytest.fixture
def msat(plant: Any) -> Iterator[Any]:
    user = plant.user("alpha-bio", "cdmo_msat")
    with caller_scope(user):
        yield user


def ingest(data: bytes, name: str, user: Any, lot: str = "A-101", **options: Any) -> Any:
    return services.ingest_file(data, name=name, actor=user, lot=lot, **options)


def data_of(lot: str) -> Any:
    with scopes_disabled():
        return services.process_data(Batch.objects.get(lot=lot))


def state(store: ProcessDataStore) -> tuple[int, int, list[str]]:
    """Registered versions, audit entries and stored files."""
    with scopes_disabled():
        return ProcessDataFile.objects.count(), AuditEntry.objects.count(), store.keys()


def test_wide_csv_with_a_units_row_keeps_the_units_as_written(msat: Any) -> None:
    """The row under the header holds the units; empty cells are not values."""
    report = ingest(WIDE, "run.csv", msat)
    assert report.lines() == [
        "run.csv: 8 new values for batch A-101 (8 read; process data version 1)."
    ]
    data = data_of("A-101")
    assert data.variables == ("do_pct", "ph", "temperature_c")
    assert data.units == {"do_pct": "% air sat", "ph": "pH", "temperature_c": "degC"}
    assert data.time_h.tolist() == [0.0, 1.0, 2.0]
    assert np.isnan(data.values[2, 2])
    assert data.values[1, 1] == 7.01


def test_long_csv_with_a_unit_column(msat: Any) -> None:
    """time, variable, value, unit: one row per value."""
    long = b"time,variable,value,unit\n0,titer_g_l,0.1,g/L\n24,titer_g_l,0.4,g/L\n24,ph,7.1,pH\n"
    ingest(long, "assays.csv", msat)
    data = data_of("A-101")
    assert data.variables == ("ph", "titer_g_l")
    assert data.units["titer_g_l"] == "g/L"
    assert data.values[:, 1].tolist() == [0.1, 0.4]


def test_excel_workbook_is_read_like_csv(msat: Any) -> None:
    """An .xlsx sheet with a units row is ingested as the same CSV would be."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["time", "ph"], ["h", "pH"], [0, 7.0], [0.5, 7.05]):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    ingest(buffer.getvalue(), "run.xlsx", msat)
    assert data_of("A-101").values[:, 0].tolist() == [7.0, 7.05]


def test_excel_formula_cell_is_refused_with_its_row_and_column(msat: Any) -> None:
    """A formula's saved value cannot be checked, so the cell is refused."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["time", "ph"], [0, 7.0], [1, "=7+0.1"]):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(services.IngestError) as caught:
        ingest(buffer.getvalue(), "run.xlsx", msat)
    assert str(caught.value).startswith("run.xlsx, line 3, column 'ph': the cell holds a formula")


def test_parquet_file_with_unit_metadata(msat: Any) -> None:
    """A Parquet file's field metadata gives the units."""
    table = pa.table({"time": [0.0, 1.0], "volume_l": [1000.0, 1010.0]})
    table = table.cast(
        pa.schema(
            [
                pa.field("time", pa.float64()),
                pa.field("volume_l", pa.float64(), metadata={"unit": "L"}),
            ]
        )
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    ingest(sink.getvalue(), "run.parquet", msat)
    data = data_of("A-101")
    assert data.units == {"volume_l": "L"}
    assert data.values[:, 0].tolist() == [1000.0, 1010.0]


def test_minutes_and_timestamps_become_hours_from_the_batch_start(msat: Any) -> None:
    """time_min is divided by 60; ISO timestamps count from the batch's actual start."""
    ingest(b"time_min,ph\n0,7.0\n90,7.1\n", "minutes.csv", msat)
    stamps = b"timestamp,do_pct\n2026-11-01T08:00:00Z,80\n2026-11-01T10:30:00+00:00,70\n"
    ingest(stamps, "historian.csv", msat)
    data = data_of("A-101")
    assert data.time_h.tolist() == [0.0, 1.5, 2.5]
    with scopes_disabled():
        assert (
            Batch.objects.get(lot="A-101").data_time_zero.isoformat() == "2026-11-01T08:00:00+00:00"
        )


def test_a_known_variable_in_another_unit_is_converted(msat: Any) -> None:
    """310 K lands as 36.85 degC and 2 mg/mL as 2 g/L, because the batch holds them so."""
    ingest(b"time,temperature_c,titer\nh,degC,g/L\n0,36.5,0.1\n", "first.csv", msat)
    ingest(b"time,temperature_c,titer\nh,K,mg/mL\n1,310,2\n", "second.csv", msat)
    data = data_of("A-101")
    assert data.units == {"temperature_c": "degC", "titer": "g/L"}
    assert data.values[1].tolist() == [36.85, 2.0]


def test_an_unconvertible_unit_is_refused_naming_file_line_and_column(
    msat: Any, process_data_store: ProcessDataStore
) -> None:
    """Nothing is stored: no version, no audit entry, no file."""
    ingest(WIDE, "run.csv", msat)
    before = state(process_data_store)
    bad = b"time,variable,value,unit\n3,ph,7.0,pH\n4,temperature_c,2.5,bar\n"
    with pytest.raises(services.IngestError) as caught:
        ingest(bad, "bad.csv", msat)
    assert str(caught.value) == (
        "bad.csv, line 3, column 'unit': variable 'temperature_c' is given in 'bar' but held "
        "in 'degC', and 'bar' does not convert to 'degC'"
    )
    assert state(process_data_store) == before


def test_a_bad_value_leaves_the_database_and_the_store_as_they_were(
    msat: Any, process_data_store: ProcessDataStore
) -> None:
    """A cell that is not a number is named by line and column; nothing is written."""
    before = state(process_data_store)
    with pytest.raises(services.IngestError) as caught:
        ingest(b"time,ph,do_pct\n0,7.0,80\n1,7.1,high\n", "run.csv", msat)
    assert str(caught.value) == "run.csv, line 3, column 'do_pct': 'high' is not a number"
    assert state(process_data_store) == before == (0, before[1], [])


def test_a_different_value_for_a_stored_time_is_refused(msat: Any) -> None:
    """A value is never silently replaced."""
    ingest(WIDE, "run.csv", msat)
    with pytest.raises(services.IngestError) as caught:
        ingest(b"time,ph\n1,7.5\n", "again.csv", msat)
    assert str(caught.value) == (
        "again.csv, line 2, column 'ph': ph at 1 h is already stored as 7.01; the file says 7.5"
    )


def test_reingesting_the_same_rows_adds_nothing(
    msat: Any, process_data_store: ProcessDataStore
) -> None:
    """The second run reports 0 new values and writes no version."""
    ingest(WIDE, "run.csv", msat)
    before = state(process_data_store)
    report = ingest(WIDE, "run.csv", msat)
    assert report.added == 0
    assert report.lines() == [
        "run.csv: 0 new values for batch A-101: all 8 are already stored (process data version 1)."
    ]
    assert state(process_data_store) == before


def test_appending_writes_a_new_version_with_old_and_new_values(
    msat: Any, process_data_store: ProcessDataStore
) -> None:
    """Version 2 holds everything; version 1's file stays as registered."""
    ingest(WIDE, "run.csv", msat)
    report = ingest(b"time,ph\n2,7.02\n3,7.03\n", "more.csv", msat)
    assert report.lots[0].added == 1
    assert report.lots[0].version == 2
    with scopes_disabled():
        versions = list(ProcessDataFile.objects.order_by("version"))
    assert [v.rows for v in versions] == [8, 9]
    assert len(process_data_store.keys()) == 2
    assert data_of("A-101").time_h.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_export_round_trip_equals_the_ingested_data(msat: Any, plant: Any) -> None:
    """The exported long CSV, ingested into another batch, gives the same arrays."""
    ingest(WIDE, "run.csv", msat)
    ingest(b"time,temperature_c\nh,K\n3,310.15\n", "kelvin.csv", msat)
    with scopes_disabled():
        exported = "".join(services.export_csv(Batch.objects.get(lot="A-101"))).encode()
        Batch.objects.create(
            cdmo=plant.orgs["alpha-bio"],
            project=plant.extra["project/alpha-bio"],
            lot="A-102",
            site=plant.sites["alpha-bio"],
            state="running",
        )
    assert exported.splitlines()[0] == b"time,variable,value,unit"
    ingest(exported, "A-101.csv", msat, lot="A-102")
    first, second = data_of("A-101"), data_of("A-102")
    assert first.variables == second.variables
    assert first.units == second.units
    assert np.array_equal(first.time_h, second.time_h)
    assert np.array_equal(first.values, second.values, equal_nan=True)


def test_tag_mapping_lands_plant_tags_as_variables(msat: Any, plant: Any) -> None:
    """TIC-101.PV (in K) lands as temperature_c in degC, as the batch already holds it."""
    services.set_tag_mapping(
        plant.sites["alpha-bio"], actor=msat, tag="TIC-101.PV", variable="temperature_c", unit="K"
    )
    ingest(b"time,temperature_c\nh,degC\n0,36.5\n", "first.csv", msat)
    ingest(b"time,TIC-101.PV\n1,309.65\n", "historian.csv", msat)
    data = data_of("A-101")
    assert data.variables == ("temperature_c",)
    assert data.values[:, 0].tolist() == [36.5, 36.5]


def test_batch_column_spreads_rows_over_lots_and_new_creates_missing_ones(
    msat: Any, plant: Any
) -> None:
    """Without --new an unknown lot is refused by line; with it the batch is created."""
    rows = b"lot,time,ph\nA-101,0,7.0\nA-900,0,7.1\n"
    with pytest.raises(services.IngestError) as caught:
        services.ingest_file(rows, name="two.csv", actor=msat, batch_column="lot")
    assert str(caught.value).startswith("two.csv, line 3, column 'lot': no batch with lot 'A-900'")
    report = services.ingest_file(
        rows,
        name="two.csv",
        actor=msat,
        batch_column="lot",
        new=True,
        product="sponsor-one mAb",
        site="main",
    )
    assert [(lot.lot, lot.added) for lot in report.lots] == [("A-101", 1), ("A-900", 1)]
    with scopes_disabled():
        created = Batch.objects.get(lot="A-900")
    assert created.project == plant.extra["project/alpha-bio"]
    assert created.state == "planned"


def test_sponsors_and_roles_without_the_permission_cannot_ingest(plant: Any) -> None:
    """The sponsor reads batches but never writes them; a planner does not record data."""
    for org, role in (("sponsor-one", "sponsor_manager"), ("alpha-bio", "cdmo_planner")):
        user = plant.user(org, role)
        with caller_scope(user), pytest.raises(PermissionDenied):
            ingest(WIDE, "run.csv", user)


def test_another_cdmos_lot_is_not_found(plant: Any) -> None:
    """beta-pharma's MSAT cannot reach alpha-bio's batch by its lot."""
    user = plant.user("beta-pharma", "cdmo_msat")
    with caller_scope(user), pytest.raises(services.IngestError, match="no batch with lot 'A-101'"):
        ingest(WIDE, "run.csv", user)


def test_a_changed_file_in_the_store_is_refused_on_reading(
    msat: Any, process_data_store: ProcessDataStore
) -> None:
    """The registered SHA-256 is checked before the bytes are trusted."""
    ingest(WIDE, "run.csv", msat)
    (key,) = process_data_store.keys()
    path = process_data_store.root + "/" + key
    with open(path, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ValueError, match="does not match its registered SHA-256"):
        data_of("A-101")


def test_the_reader_aligns_variables_for_the_monitoring_engine(msat: Any) -> None:
    """A time grid × variables matrix, and the monitoring engine's Batch from it."""
    ingest(WIDE, "run.csv", msat)
    batch = data_of("A-101").as_monitoring_batch(("ph", "do_pct"))
    assert batch.batch_id == "A-101"
    assert batch.values.shape == (3, 2)
    assert batch.values[0].tolist() == [7.0, 80.0]
