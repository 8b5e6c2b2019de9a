"""Loader for the film-coated tablet data set of Žagar and Mihelič (2022, Sci. Data 9:99).

Laboratory.csv (1,005 batches: genealogy, raw-material QC, in-process and final quality) is
joined with Process.csv (tablet-press features) on the batch number. Licence CC BY 4.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import MonitoringInputError
from .tables import Table, read_table

__all__ = [
    "QUALITY_COLUMNS",
    "DescriptiveStatistics",
    "TabletData",
    "load_tablet_data",
    "table7",
]

QUALITY_COLUMNS = (
    "dissolution_av",
    "dissolution_min",
    "resodual_solvent",
    "impurities_total",
    "impurity_o",
    "impurity_l",
)
_IDENTIFIERS = ("batch", "code", "strength", "start", "api_code", "api_batch", "smcc_batch",
                "lactose_batch", "starch_batch")  # fmt: skip
_OUTCOMES_AFTER_PRESS = ("tbl_yield", "batch_yield")


@dataclass(frozen=True)
class DescriptiveStatistics:
    """Mean, sample standard deviation, minimum and maximum of a column."""

    mean: float
    sd: float
    minimum: float
    maximum: float
    n: int


@dataclass(frozen=True)
class TabletData:
    """The joined tablet data set.

    Attributes
    ----------
    batch : numpy.ndarray (n,)
        Batch numbers.
    product_code : numpy.ndarray (n,)
        Product code of each batch (25 codes), the natural grouping for cross-validation.
    quality : dict of str to numpy.ndarray
        Final quality attributes (:data:`QUALITY_COLUMNS`).
    features : numpy.ndarray (n, F)
        Predictors known before release testing: raw-material QC, in-process tests, batch
        size, strength and tablet-press features.
    feature_names : list of str
    """

    batch: np.ndarray
    product_code: np.ndarray
    quality: dict[str, np.ndarray]
    features: np.ndarray
    feature_names: list[str]


def _strength_mg(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.shape[0])
    for i, text in enumerate(values):
        digits = "".join(ch for ch in str(text) if ch.isdigit())
        if not digits:
            raise MonitoringInputError(
                f"Laboratory.csv, row {i + 1}: strength {text!r} has no number."
            )
        out[i] = float(digits)
    return out


def load_tablet_data(directory: str | Path) -> TabletData:
    """Read and join ``Laboratory.csv`` and ``Process.csv`` from ``directory``."""
    folder = Path(directory)
    lab: Table = read_table(folder / "Laboratory.csv", delimiter=";")
    process: Table = read_table(folder / "Process.csv", delimiter=";")
    for name in ("batch", "code", *QUALITY_COLUMNS):
        if name not in lab:
            raise MonitoringInputError(f"{folder / 'Laboratory.csv'}: no column {name!r}.")
    if "batch" not in process:
        raise MonitoringInputError(f"{folder / 'Process.csv'}: no column 'batch'.")
    order = np.argsort(process["batch"])
    position = np.searchsorted(process["batch"][order], lab["batch"])
    position = np.clip(position, 0, order.size - 1)
    matched = process["batch"][order][position] == lab["batch"]
    rows = np.where(matched, order[position], -1)
    names: list[str] = []
    columns: list[np.ndarray] = []
    for name, column in lab.items():
        if name in _IDENTIFIERS or name in QUALITY_COLUMNS or name in _OUTCOMES_AFTER_PRESS:
            continue
        if column.dtype == float:
            names.append(name)
            columns.append(column)
    names.append("strength_mg")
    columns.append(_strength_mg(lab["strength"]))
    process_outcomes = {"Drug release average (%)", "Drug release min (%)", "Residual solvent",
                        "Total impurities", "Impurity O", "Impurity L"}  # fmt: skip
    for name, column in process.items():
        if name in ("batch", "code") or name in process_outcomes:
            continue
        values = (
            column
            if column.dtype == float
            else np.array([1.0 if str(v).lower() in {"yes", "true", "1"} else 0.0 for v in column])
        )
        joined = np.where(rows >= 0, values[np.maximum(rows, 0)], np.nan)
        names.append(f"press:{name}")
        columns.append(joined)
    return TabletData(
        batch=lab["batch"],
        product_code=lab["code"],
        quality={name: lab[name] for name in QUALITY_COLUMNS},
        features=np.column_stack(columns),
        feature_names=names,
    )


def table7(data: TabletData) -> dict[str, DescriptiveStatistics]:
    """Descriptive statistics of drug release (average and minimum), as the paper's Table 7."""
    out = {}
    for label, column in (("drug release average", "dissolution_av"),
                          ("drug release minimum", "dissolution_min")):  # fmt: skip
        values = data.quality[column]
        values = values[np.isfinite(values)]
        out[label] = DescriptiveStatistics(
            float(values.mean()), float(values.std(ddof=1)), float(values.min()),
            float(values.max()), int(values.size),
        )  # fmt: skip
    return out
