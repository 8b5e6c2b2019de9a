"""Shared fixtures: the benchmark instances vendored under ``tests/data/planning``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]
BENCHMARKS = REPOSITORY / "tests" / "data" / "planning"
DATA = BENCHMARKS
KONDILI = BENCHMARKS / "stn" / "kondili_h10_unlimited_storage.json"
LAKHDAR_EXAMPLE1 = BENCHMARKS / "campaign" / "lakhdar2005_example1.json"


def load(path: Path) -> dict[str, Any]:
    """Parse a JSON instance file."""
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def kondili_document() -> dict[str, Any]:
    """A fresh copy of the Kondili STN instance document."""
    return copy.deepcopy(load(KONDILI))


@pytest.fixture
def lakhdar_document() -> dict[str, Any]:
    """A fresh copy of the Lakhdar Example 1 campaign document."""
    return copy.deepcopy(load(LAKHDAR_EXAMPLE1))
