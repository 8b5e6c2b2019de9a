"""One test world per module: the shared two-CDMO, two-sponsor world plus what the matrix needs.

The world is written once inside a transaction that is rolled back when the module ends;
each test runs in a savepoint of it (pytest-django's ``db``), so requests that change
objects leave the next test the same world.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django_scopes import scopes_disabled

from tests.conftest import World, build_world

SHARING = {"alpha-bio": "sponsor-one", "beta-pharma": "sponsor-two"}
"""Each CDMO executes one record for one sponsor."""


def build_platform_world() -> World:
    """``build_world`` plus, per CDMO, a private note, a record shared with its sponsor and a
    finished import job; and one API token per user."""
    from opencdmo.accounts.models import ApiToken
    from opencdmo.network.models import ImportJob
    from tests.platform.shared_records.models import OwnerNote, SharedRecord

    world = build_world()
    with scopes_disabled():
        for cdmo, sponsor in SHARING.items():
            note = OwnerNote.objects.create(cdmo=world.orgs[cdmo], text=f"private to {cdmo}")
            world.extra[f"note/{cdmo}"] = note
            world.extra[f"record/{cdmo}"] = SharedRecord.objects.create(
                cdmo=world.orgs[cdmo],
                sponsor=world.orgs[sponsor],
                title=f"Batch of {cdmo} for {sponsor}",
                note=note,
            )
            ImportJob.objects.create(
                organisation=world.orgs[cdmo],
                user=world.user(cdmo, "cdmo_admin"),
                filename="sites.csv",
                stored_path="/nonexistent/sites.csv",
                sha256="0" * 64,
                status="imported",
                summary="Imported 1 site from sites.csv.",
            )
        for user in world.users.values():
            ApiToken.objects.create(
                user=user, name="matrix", prefix=f"t{user.pk:06d}", digest=f"{user.pk:064d}"
            )
    return world


@pytest.fixture(scope="module")
def platform_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_platform_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
