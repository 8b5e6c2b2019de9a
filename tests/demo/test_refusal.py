"""The demo is seeded only into an empty database; anything else is refused untouched."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from opencdmo.accounts import services as accounts
from opencdmo.accounts.models import Organisation, User
from opencdmo.audit.models import AuditEntry
from opencdmo.demo.seed import DemoRefusedError, seed_demo_world

pytestmark = pytest.mark.django_db


def _state() -> tuple[int, int, int]:
    with scopes_disabled():
        return Organisation.objects.count(), User.objects.count(), AuditEntry.objects.count()


def test_a_real_organisation_blocks_seeding_and_nothing_changes() -> None:
    """An organisation that is not part of the demo makes seeding refuse."""
    accounts.create_organisation(name="Real Pharma", kind="sponsor")
    before = _state()
    with pytest.raises(DemoRefusedError, match=r"\(1 organisation\)"):
        seed_demo_world()
    assert _state() == before


def test_a_user_outside_the_demo_blocks_seeding() -> None:
    """A user without an organisation (e.g. a Django superuser) is not demo data either."""
    User.objects.create_user(username="root", password="x")
    with pytest.raises(DemoRefusedError, match="1 user outside the demo organisations"):
        seed_demo_world()
    assert not Organisation.objects.exists()


def test_the_command_refuses_with_a_message_and_exit_status_one(
    capsys: pytest.CaptureFixture[str], world: Any, opencdmo_cli: Any
) -> None:
    """`opencdmo demo` names what is in the way and exits non-zero."""
    before = _state()
    with pytest.raises(CommandError, match="not part of the demo"):
        call_command("demo", "--no-serve")
    assert opencdmo_cli(["demo", "--no-serve"]) == 1
    assert "Point OPENCDMO_DATA_DIR or DATABASE_URL at a new one" in capsys.readouterr().err
    assert _state() == before
