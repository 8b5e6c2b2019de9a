"""Shared fixtures: the real data sets vendored under ``tests/data/monitoring``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opencdmo.engines.monitoring import BatchDataset, read_batch_file

DATA = Path(__file__).resolve().parents[3] / "tests" / "data" / "monitoring"
TE = DATA / "tennessee_eastman"
BATCH = DATA / "batch"
TABLET = DATA / "tablet"


def te_matrix(name: str) -> np.ndarray:
    """A Tennessee Eastman file as (samples × 52); ``d00.dat`` is stored transposed."""
    values = np.loadtxt(TE / name)
    return values.T if name == "d00.dat" else values


@pytest.fixture(scope="session")
def te_train() -> np.ndarray:
    """Normal operation, 500 × 52."""
    return te_matrix("d00.dat")


@pytest.fixture(scope="session")
def nylon() -> BatchDataset:
    """57 unaligned nylon batches, 10 tags."""
    return read_batch_file(BATCH / "nylon.csv")


@pytest.fixture(scope="session")
def dryer() -> BatchDataset:
    """71 unaligned dryer batches, 10 tags, clock time."""
    return read_batch_file(BATCH / "dryer.csv", time_column="ClockTime")


@pytest.fixture(scope="session")
def film_coating() -> BatchDataset:
    """17 film-coating batches with phases."""
    return read_batch_file(
        BATCH / "Batch_Film_Coating.xlsx", time_column="Time (min)", phase_column="PHASE"
    )
