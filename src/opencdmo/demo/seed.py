"""Writing the demo world into the database through the services, with its audit trail.

Every organisation, user, site, suite, piece of equipment, approval and inspection is created
by the same service functions that pages and the API call, and so are the sites' published
plans and the sponsors' capacity requests, so the demo shows a complete audit trail from its
first minute. Seeding is all or nothing (one transaction), runs
only on a database without other data, and does nothing on a database already seeded.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from django.db import transaction
from django_scopes import scopes_disabled

from opencdmo.accounts import services as accounts
from opencdmo.accounts.models import Organisation, User
from opencdmo.accounts.roles import Role
from opencdmo.demo.batches import seed_batches
from opencdmo.demo.hashing import one_hash_per_password
from opencdmo.demo.monitoring import seed_monitoring
from opencdmo.demo.plans import demo_plan, plan_start
from opencdmo.demo.quality import seed_quality
from opencdmo.demo.requests import seed_requests
from opencdmo.demo.workspace import seed_workspaces
from opencdmo.demo.world import DEMO_PASSWORD, OrganisationRecord, SiteRecord, demo_world
from opencdmo.network import services as network
from opencdmo.network.models import Equipment, Inspection, RegulatoryApproval, Site, Suite
from opencdmo.projects.models import CapacityRequest, Product, Project
from opencdmo.scheduling import services as plans
from opencdmo.scheduling.models import SitePlan

__all__ = [
    "DEMO_REASON",
    "DemoRefusedError",
    "Login",
    "SeedResult",
    "demo_counts",
    "demo_logins",
    "seed_demo_world",
]

DEMO_REASON = "Demo world seeded by opencdmo demo"


class DemoRefusedError(Exception):
    """The database holds data that is not part of the demo; seeding would mix the two."""


@dataclass(frozen=True)
class Login:
    """One demo user as printed for the people trying the demo."""

    organisation: str
    kind: str
    role: str
    username: str
    password: str


@dataclass(frozen=True)
class SeedResult:
    """Whether this call seeded (False: the world was already there), how long, what is there."""

    seeded: bool
    seconds: float
    counts: dict[str, int]


def demo_logins() -> list[Login]:
    """Every demo user, by organisation in seeding order."""
    return [
        Login(org.name, org.kind, Role(user.role).label, user.username, DEMO_PASSWORD)
        for org in demo_world()
        for user in org.users
    ]


def demo_counts() -> dict[str, int]:
    """How much of the demo world the database holds."""
    with scopes_disabled():
        demo = Organisation.objects.filter(is_demo=True)
        sites = Site.objects.filter(owner__is_demo=True)
        return {
            "organisations": demo.count(),
            "cdmos": demo.filter(kind="cdmo").count(),
            "sponsors": demo.filter(kind="sponsor").count(),
            "users": User.objects.filter(organisation__is_demo=True).count(),
            "sites": sites.count(),
            "countries": sites.values("country").distinct().count(),
            "regions": sites.values("region").distinct().count(),
            "suites": Suite.objects.filter(site__in=sites).count(),
            "equipment": Equipment.objects.filter(suite__site__in=sites).count(),
            "approvals": RegulatoryApproval.objects.filter(site__in=sites).count(),
            "inspections": Inspection.objects.filter(site__in=sites).count(),
            "plans": SitePlan.objects.filter(site__in=sites).count(),
            "products": Product.objects.filter(owner__in=demo).count(),
            "requests": CapacityRequest.objects.filter(sponsor__in=demo).count(),
            "projects": Project.objects.filter(sponsor__in=demo).count(),
        }


def _non_demo_data() -> list[str]:
    """What in the database is not part of the demo world, in words."""
    found = []
    organisations = Organisation.objects.filter(is_demo=False).count()
    if organisations:
        found.append(f"{organisations} organisation{'s' * (organisations != 1)}")
    users = User.objects.exclude(organisation__is_demo=True).count()
    if users:
        found.append(f"{users} user{'s' * (users != 1)} outside the demo organisations")
    return found


def seed_demo_world() -> SeedResult:
    """Seed the demo world into an empty database; leave an already seeded one as it is.

    Raises ``DemoRefusedError`` (and changes nothing) when the database holds anything that
    is not part of the demo.
    """
    started = time.perf_counter()
    with scopes_disabled():
        if Organisation.objects.filter(is_demo=True).exists():
            return SeedResult(False, time.perf_counter() - started, demo_counts())
        found = _non_demo_data()
        if found:
            raise DemoRefusedError(
                f"This database already holds data that is not part of the demo "
                f"({' and '.join(found)}); the demo world is seeded only into an empty "
                "database. Point OPENCDMO_DATA_DIR or DATABASE_URL at a new one."
            )
        with transaction.atomic(), one_hash_per_password():
            for organisation in demo_world():
                _seed_organisation(organisation)
            _seed_plans()
            seed_requests(DEMO_REASON)
            seed_batches(DEMO_REASON)
            seed_monitoring(DEMO_REASON)
            seed_quality(DEMO_REASON)
            seed_workspaces(DEMO_REASON)
    return SeedResult(True, time.perf_counter() - started, demo_counts())


def _seed_organisation(record: OrganisationRecord) -> None:
    organisation = accounts.create_organisation(
        name=record.name,
        kind=record.kind,
        slug=record.slug,
        country=record.country,
        headquarters=record.headquarters,
        website=record.website,
        description=record.description,
        is_demo=True,
        reason=DEMO_REASON,
    )
    for user in record.users:
        accounts.create_user(
            organisation=organisation,
            username=user.username,
            password=DEMO_PASSWORD,
            role=user.role,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            reason=DEMO_REASON,
            check_password=False,
        )
    for site in record.sites:
        _seed_site(organisation, site)


def _seed_site(owner: Organisation, record: SiteRecord) -> None:
    site = network.create_site(
        actor=None,
        owner=owner,
        reason=DEMO_REASON,
        code=record.code,
        name=record.name,
        country=record.country,
        region=record.region,
        city=record.city,
        latitude=record.latitude,
        longitude=record.longitude,
        description=record.description,
        established_year=record.established_year,
    )
    network.update_private_profile(
        site, actor=None, reason=DEMO_REASON, **dataclasses.asdict(record.private)
    )
    for suite_record in record.suites:
        suite = network.create_suite(
            actor=None,
            site=site,
            reason=DEMO_REASON,
            modalities=suite_record.modalities,
            name=suite_record.name,
            kind=suite_record.kind,
            gmp_grade=suite_record.gmp_grade,
            status=suite_record.status,
        )
        for equipment in suite_record.equipment:
            network.create_equipment(
                actor=None, suite=suite, reason=DEMO_REASON, **dataclasses.asdict(equipment)
            )
    for approval in record.approvals:
        network.create_approval(
            actor=None, site=site, reason=DEMO_REASON, **dataclasses.asdict(approval)
        )
    for inspection in record.inspections:
        network.create_inspection(
            actor=None, site=site, reason=DEMO_REASON, **dataclasses.asdict(inspection)
        )


def _seed_plans() -> None:
    """Publish each site's first plan, built and checked by the planning engine."""
    time_zero = plan_start()
    for index, site in enumerate(Site.objects.order_by("pk")):
        plan = demo_plan(site, time_zero, seed=index)
        if plan is not None:
            plans.publish_plan(
                site,
                actor=None,
                reason=DEMO_REASON,
                time_zero=plan.time_zero,
                instance=plan.instance,
                result=plan.result,
            )
