"""Fixtures shared by the platform tests: a small two-CDMO, two-sponsor world."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django_scopes import scopes_disabled

PASSWORD = "correct-horse-battery-staple"


@dataclass
class World:
    """Organisations keyed by slug, users keyed by ``"<org slug>/<role>"``, network objects."""

    orgs: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    sites: dict[str, Any] = field(default_factory=dict)
    suites: dict[str, Any] = field(default_factory=dict)
    equipment: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def user(self, org: str, role: str) -> Any:
        return self.users[f"{org}/{role}"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is slow by design; tests that check it restore it themselves."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build_world() -> World:
    """Two CDMOs with one site each, two sponsors, and a user for every role."""
    from opencdmo.accounts.models import Organisation, User
    from opencdmo.accounts.roles import ROLES_BY_KIND
    from opencdmo.network.models import (
        Equipment,
        Inspection,
        ModalityQualification,
        RegulatoryApproval,
        Site,
        SitePrivateProfile,
        Suite,
    )

    world = World()
    specs = [
        ("alpha-bio", "cdmo"),
        ("beta-pharma", "cdmo"),
        ("sponsor-one", "sponsor"),
        ("sponsor-two", "sponsor"),
        ("platform", "platform"),
    ]
    with scopes_disabled():
        for slug, kind in specs:
            org = Organisation.objects.create(
                name=slug.replace("-", " ").title(), slug=slug, kind=kind
            )
            world.orgs[slug] = org
            for role in ROLES_BY_KIND[kind]:
                user = User(username=f"{slug}-{role}", organisation=org, role=role)
                user.set_password(PASSWORD)
                user.is_staff = user.is_superuser = role == "platform_admin"
                user.save()
                world.users[f"{slug}/{role}"] = user
        for slug, country, city, volume, agency in [
            ("alpha-bio", "US", "Boston", 2000.0, "FDA"),
            ("beta-pharma", "DE", "Munich", 15000.0, "EMA"),
        ]:
            site = Site.objects.create(
                owner=world.orgs[slug],
                code="main",
                name=f"{world.orgs[slug].name} {city}",
                country=country,
                region="north_america" if country == "US" else "europe",
                city=city,
                latitude=42.0,
                longitude=-71.0 if country == "US" else 11.5,
            )
            SitePrivateProfile.objects.create(site=site, internal_notes=f"secret of {slug}")
            suite = Suite.objects.create(site=site, name="USP 1", kind="upstream", gmp_grade="C")
            ModalityQualification.objects.create(suite=suite, modality="mab")
            eq = Equipment.objects.create(
                suite=suite, tag="BR-1", kind="bioreactor_su", working_volume_l=volume
            )
            RegulatoryApproval.objects.create(
                site=site,
                agency=agency,
                scope="Commercial mAb drug substance",
                granted_on=dt.date(2020, 1, 1),
            )
            Inspection.objects.create(
                site=site,
                agency=agency,
                inspected_on=dt.date(2024, 5, 1),
                outcome="no_action",
                observations=0,
            )
            world.sites[slug], world.suites[slug], world.equipment[slug] = site, suite, eq
    return world


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def client_for() -> Any:
    """A logged-in test client for a user."""

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def opencdmo_cli(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``opencdmo ARGV`` in-process and return its exit status.

    Django closes every connection after a command run from the command line; inside a test
    transaction that would drop the test's own connection, so closing is skipped here.
    """
    from django.db import connections

    from opencdmo.cli import main

    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(argv: list[str]) -> int:
        try:
            return main(argv)
        except SystemExit as exc:
            return int(exc.code or 0)

    return run
