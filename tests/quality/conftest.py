"""A project of alpha-bio for sponsor-one with its quality agreement, nobody's signature yet."""

from __future__ import annotations

from typing import Any

import pytest
from django_scopes import scopes_disabled

from opencdmo.quality.models import QualityAgreement
from tests.conftest import World


def make_project(world: World, cdmo: str, sponsor: str) -> Any:
    from opencdmo.projects.models import Product, Project

    with scopes_disabled():
        product = Product.objects.create(
            owner=world.orgs[sponsor], name=f"{sponsor} mAb", modality="mab", phase="phase_2"
        )
        return Project.objects.create(
            name=f"{product.name} at {cdmo}",
            sponsor=world.orgs[sponsor],
            cdmo=world.orgs[cdmo],
            site=world.sites[cdmo],
            product=product,
            scope="clinical",
            phase="phase_2",
        )


@pytest.fixture
def agreement(world: World) -> QualityAgreement:
    """alpha-bio's agreement with sponsor-one: 720 h / 72 h / 24 h, sponsor releases."""
    from opencdmo.quality import services

    project = make_project(world, "alpha-bio", "sponsor-one")
    return services.create_agreement(
        world.user("alpha-bio", "cdmo_qa"),
        project,
        {"minor_notice_h": 720, "major_notice_h": 72, "critical_notice_h": 24},
    )
