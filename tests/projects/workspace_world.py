"""A project of alpha-bio for sponsor-one, for the workspace and document tests."""

from __future__ import annotations

from typing import Any

from django_scopes import scopes_disabled

from opencdmo.projects.models import Product, Project
from tests.conftest import World


def awarded_project(world: World) -> Any:
    with scopes_disabled():
        product = Product.objects.create(
            owner=world.orgs["sponsor-one"], name="MAB-W", modality="mab", phase="phase_2"
        )
        return Project.objects.create(
            name="MAB-W at Alpha Bio",
            sponsor=world.orgs["sponsor-one"],
            cdmo=world.orgs["alpha-bio"],
            site=world.sites["alpha-bio"],
            product=product,
            scope="tech_transfer",
            phase="phase_2",
        )
