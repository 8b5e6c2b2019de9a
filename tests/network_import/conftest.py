"""Helpers that write import files into ``tmp_path`` and count what the database holds."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from django_scopes import scopes_disabled
from openpyxl import Workbook

SITE_HEADER = ["owner", "code", "name", "country", "region", "city", "latitude", "longitude"]
SUITE_HEADER = ["owner", "site_code", "name", "kind", "gmp_grade", "status", "modalities"]
EQUIPMENT_HEADER = [
    "owner",
    "site_code",
    "suite",
    "tag",
    "kind",
    "working_volume_l",
    "throughput_units_per_h",
    "manufacturer",
]

Rows = Sequence[Sequence[object]]


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[str, Rows], Path]:
    """Write rows (the first one the header) as a UTF-8 CSV file."""

    def write(name: str, rows: Rows) -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        return path

    return write


@pytest.fixture
def write_xlsx(tmp_path: Path) -> Callable[[str, dict[str, Rows]], Path]:
    """Write a workbook with one sheet per entry of ``sheets``."""

    def write(name: str, sheets: dict[str, Rows]) -> Path:
        workbook = Workbook()
        workbook.remove(workbook.active)
        for title, rows in sheets.items():
            sheet = workbook.create_sheet(title)
            for row in rows:
                sheet.append(list(row))
        path = tmp_path / name
        workbook.save(path)
        return path

    return write


@pytest.fixture
def db_counts() -> Callable[[], dict[str, int]]:
    """Rows of every table an import may write, to prove a rejected file wrote nothing."""
    from opencdmo.audit.models import AuditEntry, ChainHead
    from opencdmo.network.models import (
        Equipment,
        ModalityQualification,
        Site,
        SitePrivateProfile,
        Suite,
    )

    def counts() -> dict[str, int]:
        with scopes_disabled():
            models: list[Any] = [
                Site,
                SitePrivateProfile,
                Suite,
                ModalityQualification,
                Equipment,
                AuditEntry,
                ChainHead,
            ]
            return {model.__name__: model.objects.count() for model in models}

    return counts
