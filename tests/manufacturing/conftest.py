"""Each CDMO of the shared test world executes one project for one sponsor, with one batch.

``alpha-bio`` makes ``sponsor-one``'s mAb (batch ``A-101``, running since two days ago) and
``beta-pharma`` makes ``sponsor-two``'s (batch ``B-201``, planned). The process-data store
is a fresh folder per test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django_scopes import scopes_disabled

from opencdmo.manufacturing.store import ProcessDataStore
from tests.conftest import World, build_world

SHARING = {"alpha-bio": ("sponsor-one", "A-101"), "beta-pharma": ("sponsor-two", "B-201")}
STARTED = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def add_projects_and_batches(world: World) -> None:
    """A project and a batch per CDMO (see the module docstring)."""
    from opencdmo.manufacturing.models import Batch
    from opencdmo.projects.models import Product, Project

    with scopes_disabled():
        for cdmo, (sponsor, lot) in SHARING.items():
            product = Product.objects.create(
                owner=world.orgs[sponsor], name=f"{sponsor} mAb", modality="mab", phase="phase_2"
            )
            project = Project.objects.create(
                name=f"{product.name} at {world.sites[cdmo].name}",
                sponsor=world.orgs[sponsor],
                cdmo=world.orgs[cdmo],
                site=world.sites[cdmo],
                product=product,
                scope="clinical",
                phase="phase_2",
            )
            running = cdmo == "alpha-bio"
            world.extra[f"project/{cdmo}"] = project
            world.extra[f"batch/{cdmo}"] = Batch.objects.create(
                cdmo=world.orgs[cdmo],
                project=project,
                lot=lot,
                site=world.sites[cdmo],
                suite=world.suites[cdmo],
                equipment=world.equipment[cdmo],
                state="running" if running else "planned",
                actual_start=STARTED if running else None,
            )


@pytest.fixture
def plant(db: Any) -> World:
    world = build_world()
    add_projects_and_batches(world)
    return world


@pytest.fixture(autouse=True)
def process_data_store(tmp_path: Path, settings: Any) -> ProcessDataStore:
    """A store of the test's own, so no test sees another's files."""
    settings.PROCESS_DATA_URL = str(tmp_path / "process-data")
    return ProcessDataStore(settings.PROCESS_DATA_URL)
