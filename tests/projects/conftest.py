"""A CDMO site whose plan in force is small enough to work out its earliest slot by hand.

``alpha-bio``'s site gets a purification suite beside its upstream suite (one 2,000 L
bioreactor) and a published plan whose hour 0 is ten days ago: one lot of product EX, seed
train [0, 96) h, production [96, 432) h, purification [432, 552) h.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.engines.planning.schedule.solution import ScheduledBatch
from tests.conftest import World, build_world

SEED, BIOREACTOR, PURIFICATION = "USP 1 / seed train", "USP 1 / BR-1", "DSP 1"


def time_zero() -> dt.datetime:
    today = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=10)


def plan_documents() -> tuple[dict[str, Any], dict[str, Any]]:
    instance = {
        "format": "opencdmo-schedule/1",
        "id": "alpha-main",
        "horizon_h": 9000,
        "suites": [{"name": SEED}, {"name": BIOREACTOR}, {"name": PURIFICATION}],
        "products": [{"name": "EX"}],
        "batches": [
            {"id": "EX-1-seed", "product": "EX", "options": [{"suite": SEED, "duration_h": 96}]},
            {
                "id": "EX-1-production",
                "product": "EX",
                "options": [{"suite": BIOREACTOR, "duration_h": 336}],
                "upstream": "EX-1-seed",
                "max_hold_h": 12,
            },
            {
                "id": "EX-1-purification",
                "product": "EX",
                "options": [{"suite": PURIFICATION, "duration_h": 120}],
                "upstream": "EX-1-production",
                "max_hold_h": 48,
                "due_h": 600,
            },
        ],
    }
    placed = [
        ScheduledBatch("EX-1-seed", "EX", SEED, 0, 96),
        ScheduledBatch("EX-1-production", "EX", BIOREACTOR, 96, 432),
        ScheduledBatch("EX-1-purification", "EX", PURIFICATION, 432, 552),
    ]
    parse_schedule(instance)
    result = {
        "format": "opencdmo-result/1",
        "problem": "schedule",
        "instance_id": "alpha-main",
        "status": "feasible",
        "objective": 0.0,
        "bound": None,
        "gap": None,
        "wall_s": 0.0,
        "solver": {"name": "hand", "version": "1", "threads": 1, "time_limit_s": 0, "seed": 0},
        "objective_breakdown": {"weighted_tardiness": 0.0, "level_1": 0.0},
        "schedule": {"batches": [b.__dict__ for b in placed]},
    }
    return instance, result


@pytest.fixture
def ctp_world(db: Any, settings: Any) -> World:
    from opencdmo.network.models import ModalityQualification, SitePrivateProfile, Suite
    from opencdmo.scheduling.services import publish_plan

    settings.PROMISE_TIME_LIMIT_S = 5.0
    world = build_world()
    with scopes_disabled():
        site = world.sites["alpha-bio"]
        dsp = Suite.objects.create(site=site, name="DSP 1", kind="downstream", gmp_grade="C")
        ModalityQualification.objects.create(suite=dsp, modality="mab")
        SitePrivateProfile.objects.filter(site=site).update(indicative_batch_price_usd=1_000_000)
        instance, result = plan_documents()
        world.extra["plan"] = publish_plan(
            site,
            actor=None,
            reason="Plan for the test",
            time_zero=time_zero(),
            instance=instance,
            result=result,
        )
    return world
