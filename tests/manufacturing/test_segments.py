"""Process-data versions as segments: each file holds what its version added, the series is
their union, and old full-series files still read."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from django.apps import apps as django_apps
from django_scopes import scopes_disabled

from opencdmo.core.tenancy import caller_scope
from opencdmo.manufacturing import services
from opencdmo.manufacturing.models import Batch, ProcessDataFile
from opencdmo.manufacturing.store import ProcessDataStore, Series

migration = __import__(
    "opencdmo.manufacturing.migrations.0003_process_data_segments",
    fromlist=["describe_existing_files"],
)

WIDE = b"time,ph,temperature_c\nh,pH,degC\n0,7.00,36.5\n1,7.01,36.6\n"


@pytest.fixture
def msat(plant: Any) -> Iterator[Any]:
    user = plant.user("alpha-bio", "cdmo_msat")
    with caller_scope(user):
        yield user


def ingest(data: bytes, user: Any, name: str = "run.csv") -> Any:
    return services.ingest_file(data, name=name, actor=user, lot="A-101")


def versions() -> list[ProcessDataFile]:
    with scopes_disabled():
        return list(ProcessDataFile.objects.order_by("version"))


def series_of(lot: str = "A-101") -> Series:
    with scopes_disabled():
        return services.stored_series(Batch.objects.get(lot=lot))


def test_the_second_file_holds_only_the_new_values_and_reading_gives_the_union(
    msat: Any, process_data_store: ProcessDataStore
) -> None:
    """Version 2's file has the one new value; the series has all five, sorted as one file."""
    ingest(WIDE, msat)
    report = ingest(b"time,ph,do_pct\n1,7.01,\n2,7.02,80\n", msat, "more.csv")
    assert report.added == 2
    first, second = versions()
    assert len(process_data_store.read(first.path, first.sha256)) == 4
    file = process_data_store.read(second.path, second.sha256)
    assert (file.variable.tolist(), file.time_h.tolist()) == (["do_pct", "ph"], [2.0, 2.0])
    assert (second.first_version, second.parts, second.added, second.rows) == (2, [1, 2], 2, 6)
    assert second.counts == {"do_pct": 1, "ph": 3, "temperature_c": 2}
    assert second.variables == {"do_pct": "", "ph": "pH", "temperature_c": "degC"}
    assert second.ranges == {"do_pct": [2.0, 2.0], "ph": [2.0, 2.0]}
    assert (second.start_h, second.end_h) == (0.0, 2.0)
    series = series_of()
    assert series.variable.tolist() == [
        "do_pct",
        "ph",
        "ph",
        "ph",
        "temperature_c",
        "temperature_c",
    ]
    assert series.time_h.tolist() == [2.0, 0.0, 1.0, 2.0, 0.0, 1.0]
    assert series.unit.tolist()[1:4] == ["pH"] * 3


def test_a_changed_value_in_an_earlier_segment_is_refused(msat: Any) -> None:
    """The stored value may sit in any file of the series, not only the newest."""
    ingest(WIDE, msat)
    ingest(b"time,ph\n5,7.05\n", msat, "later.csv")
    with pytest.raises(services.IngestError) as caught:
        ingest(b"time,ph\n0,7.00\n1,7.2\n", msat, "again.csv")
    assert str(caught.value) == (
        "again.csv, line 3, column 'ph': ph at 1 h is already stored as 7.01; the file says 7.2"
    )
    assert len(versions()) == 2


def test_values_given_again_across_segments_add_nothing(
    msat: Any, process_data_store: ProcessDataStore
) -> None:
    """A file spanning two earlier versions' values adds only what neither holds."""
    ingest(WIDE, msat)
    ingest(b"time,ph\n2,7.02\n", msat, "two.csv")
    report = ingest(b"time,ph\n0,7.00\n1,7.01\n2,7.02\n3,7.03\n", msat, "all.csv")
    assert report.added == 1
    latest = versions()[-1]
    assert len(process_data_store.read(latest.path, latest.sha256)) == 1
    assert series_of().time_h.tolist() == [0.0, 1.0, 2.0, 3.0, 0.0, 1.0]


def test_later_values_read_none_of_the_stored_files(
    msat: Any, process_data_store: ProcessDataStore
) -> None:
    """De-duplication reads only files whose time ranges overlap: a later value reads none,
    so it is stored even with an earlier file gone (which reading the series then refuses)."""
    ingest(WIDE, msat)
    ingest(b"time,ph\n2,7.02\n", msat, "two.csv")
    first = versions()[0]
    process_data_store.delete(first.path)
    assert ingest(b"time,ph\n3,7.03\n", msat, "three.csv").added == 1
    with pytest.raises(FileNotFoundError):
        series_of()


def test_files_are_taken_in_so_that_a_long_series_stays_in_few_files(
    msat: Any, process_data_store: ProcessDataStore
) -> None:
    """The 16th version's file takes in the 15 before it: one file holds all 16 versions."""
    for hour in range(services.MERGE_FANOUT):
        ingest(f"time,ph\n{hour},{7 + hour / 100:.2f}\n".encode(), msat, f"h{hour}.csv")
    latest = versions()[-1]
    assert (latest.version, latest.first_version, latest.parts) == (16, 1, [16])
    file = process_data_store.read(latest.path, latest.sha256)
    assert file.time_h.tolist() == [float(h) for h in range(16)]
    assert latest.ranges == {"ph": [0.0, 15.0]}
    assert len(process_data_store.keys()) == 16, "the files taken in stay as registered"
    ingest(b"time,ph\n16,7.16\n", msat, "h16.csv")
    assert versions()[-1].parts == [16, 17]
    assert series_of().time_h.tolist() == [float(h) for h in range(17)]


def test_the_number_of_files_grows_with_the_logarithm_of_the_versions() -> None:
    """100,000 appends: never more than 15 files per size class, each value rewritten once per
    class it passes through."""
    spans: list[int] = []
    most = 0
    rewritten = 0
    for _ in range(100_000):
        taken = services.files_to_take_in(spans)
        if taken:
            rewritten += sum(spans[-taken:])
            spans = [*spans[:-taken], 1 + sum(spans[-taken:])]
        else:
            spans.append(1)
        most = max(most, len(spans))
    classes = math.ceil(math.log(100_000, services.MERGE_FANOUT))
    assert sum(spans) == 100_000
    assert most <= (services.MERGE_FANOUT - 1) * classes + 1
    assert rewritten <= 100_000 * classes


def test_full_series_files_written_before_segments_still_read(
    msat: Any, process_data_store: ProcessDataStore, plant: Any
) -> None:
    """Two versions registered as before (each file the whole series), described by the
    migration; the series is the newer file, and appending adds a segment beside it."""
    with scopes_disabled():
        batch = Batch.objects.get(lot="A-101")
    whole = [
        Series(np.array([0.0]), np.array(["ph"]), np.array([7.0]), np.array(["pH"])),
        Series(
            np.array([0.0, 1.0]), np.array(["ph", "ph"]), np.array([7.0, 7.1]), np.array(["pH"] * 2)
        ),
    ]
    with scopes_disabled():
        for version, series in enumerate(whole, start=1):
            key = f"batches/{batch.pk}/v{version:04d}-old.parquet"
            sha256, size = process_data_store.write(key, series.to_arrow(), {"lot": "A-101"})
            ProcessDataFile.objects.create(
                batch=batch,
                version=version,
                path=key,
                sha256=sha256,
                size=size,
                rows=len(series),
                variables={"ph": "pH"},
                counts={"ph": len(series)},
                start_h=0.0,
                end_h=float(series.time_h.max()),
                added=1,
                source="old.csv",
                first_version=1,
            )
    migration.describe_existing_files(django_apps, None)
    assert [(v.parts, v.ranges) for v in versions()] == [
        ([1], {"ph": [0.0, 0.0]}),
        ([2], {"ph": [0.0, 1.0]}),
    ]
    assert series_of().value.tolist() == [7.0, 7.1]
    with pytest.raises(services.IngestError, match=r"ph at 1 h is already stored as 7\.1"):
        ingest(b"time,ph\n1,7.3\n", msat)
    assert ingest(b"time,ph\n1,7.1\n2,7.2\n", msat).added == 1
    assert versions()[-1].parts == [2, 3]
    assert series_of().value.tolist() == [7.0, 7.1, 7.2]
