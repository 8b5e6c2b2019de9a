"""Helpers for the deviation, CAPA and disposition tests: a batch of the agreement's project."""

from __future__ import annotations

from typing import Any

from django_scopes import scopes_disabled

from tests.conftest import World


def make_batch(
    world: World, agreement: Any, lot: str = "A-001", state: str = "under_review"
) -> Any:
    from opencdmo.manufacturing.models import Batch

    project = agreement.project
    with scopes_disabled():
        return Batch.objects.create(
            cdmo=project.cdmo, project=project, lot=lot, site=project.site, state=state
        )
