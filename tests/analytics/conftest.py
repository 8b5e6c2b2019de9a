"""alpha-bio makes sponsor-one's mAb: eight finished normal batches, one finished faulty
batch and one running faulty batch, each with five days of simulated process data ingested
through the manufacturing services. Models and process data go to the test's own folders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django_scopes import scopes_disabled

from opencdmo.accounts.tenancy import caller_scope
from tests.conftest import World, build_world
from tests.quality.conftest import make_project

START = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
NORMAL = 8


@dataclass
class Plant:
    world: World
    project: Any
    product: Any
    normal: list[Any]
    faulty: Any
    running: Any

    def user(self, role: str, org: str = "alpha-bio") -> Any:
        return self.world.user(org, role)


def _simulated() -> list[Any]:
    from opencdmo.engines.bioprocess import (
        BatchSpec,
        Fault,
        SimulationSettings,
        bioreactor,
        regime_recipe,
        simulate,
    )

    recipe = regime_recipe("bolus_shift", duration_days=5)
    reactor = bioreactor(200.0, "single_use")
    fault = Fault("temperature_controller_failure", 40.0, 100.0, -3.0)
    specs = [BatchSpec(f"A-{n:03d}", reactor, recipe=recipe, seed=n) for n in range(NORMAL)]
    specs += [
        BatchSpec("A-900", reactor, recipe=recipe, seed=900, faults=(fault,)),
        BatchSpec("A-901", reactor, recipe=recipe, seed=901, faults=(fault,)),
    ]
    return simulate(specs, SimulationSettings(control_step_min=30, sensor_interval_min=60))


def build_plant(world: World) -> Plant:
    from opencdmo.demo.batches import _table
    from opencdmo.manufacturing import services

    project = make_project(world, "alpha-bio", "sponsor-one")
    msat = world.user("alpha-bio", "cdmo_msat")
    with scopes_disabled():
        product = type(project).product.field.related_model.objects.get(pk=project.product_id)
    batches = []
    with caller_scope(msat):
        for n, result in enumerate(_simulated()):
            lot = result.spec.batch_id
            running = lot == "A-901"
            batch = services.create_batch(actor=msat, project=project, lot=lot, reason="test")
            start = START + dt.timedelta(days=7 * n)
            services.change_state(batch, to="running", actor=msat, reason="test", at=start)
            services.ingest_table(
                _table(result, 80.0 if running else None), actor=msat, lot=lot, reason="test"
            )
            if not running:
                services.add_offline_result(
                    batch,
                    actor=msat,
                    reason="test",
                    attribute="Titer",
                    value=float(result.offline["titer_g_l"][-1]),
                    unit="g/L",
                )
                services.change_state(batch, to="complete", actor=msat, reason="test")
            batch.refresh_from_db()
            batches.append(batch)
    return Plant(world, project, product, batches[:NORMAL], batches[NORMAL], batches[-1])


@pytest.fixture(autouse=True)
def stores(tmp_path: Path, settings: Any) -> None:
    settings.PROCESS_DATA_URL = str(tmp_path / "process-data")
    settings.DATA_DIR = tmp_path


@pytest.fixture
def plant(db: Any) -> Plant:
    return build_plant(build_world())


@pytest.fixture
def fitted(plant: Plant) -> Any:
    """A fitted (not approved) model on the eight normal batches, with Titer."""
    from opencdmo.analytics import services
    from opencdmo.analytics.tasks import run_fit

    msat = plant.user("cdmo_msat")
    with caller_scope(msat):
        model = services.request_model(
            msat,
            site=plant.project.site,
            product=plant.product,
            batches=plant.normal,
            quality_attribute="Titer",
            reason="reference batches",
            enqueue=False,
        )
    assert run_fit(model.pk) == "fitted"
    model.refresh_from_db()
    return model


def approve(plant: Plant, model: Any) -> Any:
    from opencdmo.analytics import services
    from opencdmo.quality import signing
    from tests.conftest import PASSWORD

    qa = plant.user("cdmo_qa")
    with caller_scope(qa):
        return services.approve_model(
            qa,
            model,
            password=PASSWORD,
            reason="reviewed",
            seen_sha256=signing.content_sha256(signing.canonical_content(model)),
        )
