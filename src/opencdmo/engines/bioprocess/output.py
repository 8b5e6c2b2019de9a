"""Tables of simulated batches (long format, summary, fault labels) and their files.

The long format is what the monitoring engine reads by default (``read_batch_file``): one
row per (batch, time, variable) with its value and unit; time is culture time in hours,
also recorded in the Parquet schema metadata. Files are written atomically
(:mod:`opencdmo.core.files`: temporary file, fsync, rename).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from opencdmo.core.files import write_atomically
from opencdmo.engines.bioprocess.errors import InvalidInputError
from opencdmo.engines.bioprocess.sensors import OFFLINE_ASSAYS, ONLINE_SENSORS
from opencdmo.engines.bioprocess.simulator import BatchResult

__all__ = [
    "OutputFormat",
    "faults_table",
    "long_table",
    "summary_table",
    "write_dataset",
]

OutputFormat = Literal["parquet", "csv", "both"]


def long_table(results: Sequence[BatchResult]) -> pa.Table:
    """Online readings and offline assays of all batches in long format.

    Parameters
    ----------
    results : sequence of BatchResult
        Simulated batches.

    Returns
    -------
    pyarrow.Table
        Columns ``batch`` (str), ``time`` (float64, culture time in h), ``variable`` (str),
        ``value`` (float64) and ``unit`` (str); string columns dictionary-encoded.
    """
    measurements = (*ONLINE_SENSORS, *OFFLINE_ASSAYS)
    variables = pa.array([m.name for m in measurements])
    units = pa.array(sorted({m.unit for m in measurements}))
    unit_code = {u: i for i, u in enumerate(units.to_pylist())}
    batch_codes, times, var_codes, unit_codes, values = [], [], [], [], []
    for index, result in enumerate(results):
        for offset, (time_h, source, sensors) in enumerate(
            (
                (result.time_h, result.online, ONLINE_SENSORS),
                (result.sample_time_h, result.offline, OFFLINE_ASSAYS),
            )
        ):
            first = 0 if offset == 0 else len(ONLINE_SENSORS)
            block = np.column_stack([source[m.name] for m in sensors])
            n_times, n_vars = block.shape
            values.append(block.ravel())
            times.append(np.repeat(time_h, n_vars))
            var_codes.append(np.tile(np.arange(first, first + n_vars, dtype=np.int32), n_times))
            unit_codes.append(
                np.tile(np.array([unit_code[m.unit] for m in sensors], dtype=np.int32), n_times)
            )
            batch_codes.append(np.full(n_times * n_vars, index, dtype=np.int32))
    batches = pa.array([r.spec.batch_id for r in results])
    table = pa.table(
        {
            "batch": pa.DictionaryArray.from_arrays(pa.array(_cat(batch_codes, np.int32)), batches),
            "time": pa.array(_cat(times, np.float64)),
            "variable": pa.DictionaryArray.from_arrays(
                pa.array(_cat(var_codes, np.int32)), variables
            ),
            "value": pa.array(_cat(values, np.float64)),
            "unit": pa.DictionaryArray.from_arrays(pa.array(_cat(unit_codes, np.int32)), units),
        }
    )
    return table.replace_schema_metadata({"time_unit": "h", "source": "opencdmo.bioprocess"})


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def summary_table(results: Sequence[BatchResult]) -> pa.Table:
    """One row per batch: recipe, lot, harvest figures and fault labels.

    Harvest figures come from the measured data (last offline sample and online volume),
    as a plant's batch record would show them.

    Parameters
    ----------
    results : sequence of BatchResult
        Simulated batches.

    Returns
    -------
    pyarrow.Table
        Columns ``batch``, ``regime``, ``reactor_kind``, ``scale_l``, ``seed``,
        ``raw_material_lot``, ``inoculum_density_e6_per_ml``, ``harvest_time_h``,
        ``final_titer_g_l``, ``harvest_volume_l``, ``product_g``,
        ``harvest_viability_pct``, ``peak_vcd_e6_per_ml``, ``peak_vcd_day``,
        ``feed_added_l``, ``base_added_l``, ``glucose_added_l``, ``faulty``,
        ``fault_kinds``.
    """
    rows: dict[str, list[object]] = {}
    for result in results:
        spec = result.spec
        titer = float(result.offline["titer_g_l"][-1])
        volume = float(result.online["volume_l"][-1])
        vcd = result.offline["vcd_e6_per_ml"]
        row: dict[str, object] = {
            "batch": spec.batch_id,
            "regime": spec.regime,
            "reactor_kind": spec.reactor.kind,
            "scale_l": spec.reactor.working_volume_l,
            "seed": spec.seed,
            "raw_material_lot": spec.lot.lot_id,
            "inoculum_density_e6_per_ml": spec.recipe.seeding_density_e6_per_ml
            * result.variation.inoculum_multiplier,
            "harvest_time_h": float(result.time_h[-1]),
            "final_titer_g_l": titer,
            "harvest_volume_l": volume,
            "product_g": titer * volume,
            "harvest_viability_pct": float(result.offline["viability_pct"][-1]),
            "peak_vcd_e6_per_ml": float(vcd.max()),
            "peak_vcd_day": float(result.sample_time_h[int(vcd.argmax())] / 24.0),
            "feed_added_l": float(result.online["feed_added_l"][-1]),
            "base_added_l": float(result.online["base_added_l"][-1]),
            "glucose_added_l": result.glucose_added_l,
            "faulty": bool(spec.faults),
            "fault_kinds": ";".join(f.kind for f in spec.faults),
        }
        for key, value in row.items():
            rows.setdefault(key, []).append(value)
    return pa.table(rows) if rows else pa.table({"batch": pa.array([], pa.string())})


def faults_table(results: Sequence[BatchResult]) -> pa.Table:
    """Fault labels: one row per fault.

    Parameters
    ----------
    results : sequence of BatchResult
        Simulated batches.

    Returns
    -------
    pyarrow.Table
        Columns ``batch``, ``kind``, ``start_h``, ``end_h``, ``magnitude``,
        ``magnitude_unit`` and ``signature`` (';'-joined affected variables).
    """
    rows = [
        (r.spec.batch_id, f.kind, f.start_h, f.end_h, f.magnitude, f.unit, ";".join(f.signature))
        for r in results
        for f in r.spec.faults
    ]
    names = ("batch", "kind", "start_h", "end_h", "magnitude", "magnitude_unit", "signature")
    text, number = pa.string(), pa.float64()
    types = (text, text, number, number, number, text, text)
    return pa.table(
        {
            name: pa.array([row[i] for row in rows], type=kind)
            for i, (name, kind) in enumerate(zip(names, types, strict=True))
        }
    )


def write_dataset(
    out_dir: str | os.PathLike[str],
    results: Sequence[BatchResult],
    output_format: OutputFormat = "both",
) -> list[Path]:
    """Write ``timeseries``, ``summary`` and ``faults`` tables under ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Directory, created if missing.
    results : sequence of BatchResult
        Simulated batches.
    output_format : {"parquet", "csv", "both"}
        File formats to write.

    Returns
    -------
    list of pathlib.Path
        Files written.

    Raises
    ------
    InvalidInputError
        For an unknown format or an output path that is not a directory.
    """
    if output_format not in ("parquet", "csv", "both"):
        raise InvalidInputError(
            "format", f"must be 'parquet', 'csv' or 'both', got {output_format!r}"
        )
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise InvalidInputError("out", f"{directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "timeseries": long_table(results),
        "summary": summary_table(results),
        "faults": faults_table(results),
    }
    written: list[Path] = []
    for name, table in tables.items():
        if output_format in ("parquet", "both"):
            path = directory / f"{name}.parquet"
            write_atomically(path, partial(pq.write_table, table))
            written.append(path)
        if output_format in ("csv", "both"):
            path = directory / f"{name}.csv"
            plain = table.cast(
                pa.schema(
                    [
                        pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f
                        for f in table.schema
                    ]
                )
            )
            write_atomically(path, partial(pacsv.write_csv, plain))
            written.append(path)
    return written
