"""Values per second of ``opencdmo ingest`` on a large wide CSV, beside pandas (not a test).

A wide CSV of ``--days`` of ``--tags`` plant tags every minute (a units row under the
header, a value missing now and then) is written to a temporary folder; a throw-away SQLite
database (or, with ``--database postgres://…``, a new PostgreSQL database beside that URL)
is migrated and given one running batch. The file is then ingested into the batch through
``services.ingest_file``, as ``opencdmo ingest`` does it (reading, checking, the Parquet
segment, its registration and audit entry), and ingested again (nothing new: every value
checked against the stored ones). The peer, in the same run, is pandas' ``read_csv`` of the
same file written to Parquet (no checks, no database), when pandas is installed. Printed:
wall time, values per second and the process's CPU time of each. The goal: at least one
million values a second on two cores.

    .venv/bin/python bench/ingest.py [--days 14] [--tags 50] [--database sqlite|postgres://…]
        [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib.util
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from scratch import scratch_database


def write_csv(path: Path, days: int, tags: int) -> int:
    """The wide file; the number of values it holds."""
    rng = np.random.default_rng(7)
    rows = days * 24 * 60
    values = np.round(rng.normal(50.0, 10.0, size=(rows, tags)), 3)
    values[rng.random(values.shape) < 0.01] = np.nan
    hours = np.arange(rows) / 60.0
    buffer = io.StringIO()
    buffer.write(",".join(["time", *(f"TAG-{k:03d}.PV" for k in range(tags))]) + "\n")
    buffer.write(",".join(["h", *(["degC"] * tags)]) + "\n")
    body = np.column_stack([hours, values])
    text = np.char.mod("%.6g", body)
    text[np.isnan(body)] = ""
    buffer.write("\n".join(",".join(row) for row in text.tolist()) + "\n")
    path.write_text(buffer.getvalue())
    return int((~np.isnan(values)).sum())


def timed(what: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``what()``, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = what()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--tags", type=int, default=50)
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", "sqlite"))
    parser.add_argument("--profile", help="write a cProfile of the first ingestion here")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as temporary,
        scratch_database(args.database, "ingest") as url,
    ):
        folder = Path(temporary)
        os.environ.update(
            OPENCDMO_DATA_DIR=str(folder),
            DATABASE_URL=url,
            DJANGO_SETTINGS_MODULE="opencdmo.settings",
        )
        import django

        django.setup()
        from django.core.management import call_command
        from django_scopes import scopes_disabled

        from opencdmo.accounts.models import Organisation
        from opencdmo.manufacturing import services
        from opencdmo.manufacturing.models import Batch
        from opencdmo.network.models import Site
        from opencdmo.projects.models import Product, Project

        call_command("migrate", verbosity=0)
        with scopes_disabled():
            cdmo = Organisation.objects.create(name="Bench CDMO", slug="bench", kind="cdmo")
            sponsor = Organisation.objects.create(name="Sponsor", slug="sponsor", kind="sponsor")
            site = Site.objects.create(
                owner=cdmo,
                code="main",
                name="Bench site",
                country="US",
                region="north_america",
                city="Boston",
                latitude=42,
                longitude=-71,
            )
            product = Product.objects.create(
                owner=sponsor, name="mAb", modality="mab", phase="phase_2"
            )
            project = Project.objects.create(
                name="Bench",
                sponsor=sponsor,
                cdmo=cdmo,
                site=site,
                product=product,
                scope="clinical",
                phase="phase_2",
            )
            Batch.objects.create(
                cdmo=cdmo,
                project=project,
                lot="BENCH-1",
                site=site,
                state="running",
                actual_start=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
            )
        path = folder / "historian.csv"
        count = write_csv(path, args.days, args.tags)
        size_mb = path.stat().st_size / 1e6

        def ingest() -> Any:
            with scopes_disabled():
                return services.ingest_file(path, actor=None, lot="BENCH-1")

        profile = cProfile.Profile() if args.profile else None
        if profile:
            profile.enable()
        first = timed(ingest)
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        again = timed(ingest)
        print(
            f"{path.name}: {args.days * 24 * 60:,} rows x {args.tags} tags, {count:,} values, "
            f"{size_mb:.1f} MB; database {'PostgreSQL' if url else 'SQLite'}"
        )
        for label, (wall, cpu, report) in (("ingest", first), ("ingest again", again)):
            print(
                f"{label:>13}: {wall:6.2f} s, {count / wall:>12,.0f} values/s "
                f"(CPU {cpu:.2f} s; {report.added:,} new; goal >= 1,000,000/s)"
            )
        if importlib.util.find_spec("pandas") is None:
            print("pandas is not installed: no peer")
            return
        import pandas as pd

        def peer() -> None:
            frame = pd.read_csv(path, skiprows=[1])
            frame.to_parquet(folder / "pandas.parquet", compression="zstd")

        wall, cpu, _ = timed(peer)
        print(
            f"{'pandas peer':>13}: {wall:6.2f} s, {count / wall:>12,.0f} values/s "
            f"(CPU {cpu:.2f} s; read_csv -> to_parquet, pandas {pd.__version__})"
        )


if __name__ == "__main__":
    main()
