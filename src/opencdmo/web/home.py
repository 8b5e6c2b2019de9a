"""The home page of each role: what that person must act on, as a list of panels.

Each panel is a small function reading through the querysets of the caller's tenant scope
(the request runs inside ``caller_scope``). ``HOME_PANELS`` is the one table saying which
role sees which panel; panels for sections that do not exist yet say what will appear there
instead of linking to a page that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import ApiToken, Organisation, User
from opencdmo.accounts.roles import EDIT_NETWORK, EDIT_QUALITY, Role
from opencdmo.audit.models import AuditEntry
from opencdmo.network.models import ImportJob, Inspection, Site, Suite
from opencdmo.projects.models import CapacityRequest, Option, Project
from opencdmo.scheduling.models import Scenario
from opencdmo.scheduling.services import latest_plans

RECENT = 8


@dataclass(frozen=True)
class Panel:
    """One box of a home page, rendered by ``web/panels/<template>.html``."""

    template: str
    title: str
    data: dict[str, Any]
    wide: bool = False


@dataclass(frozen=True)
class Upcoming:
    """A section still to come: its empty state says what will appear here once it exists."""

    title: str
    text: str

    def __call__(self, user: User) -> Panel:
        return Panel("upcoming", self.title, {"text": self.text})


BATCHES = Upcoming("Batches", "Running and recent batches with their status will appear here.")
SPONSOR_BATCHES = Upcoming(
    "Batches", "Batches made for your projects, and their status, will appear here."
)
MONITORING = Upcoming(
    "Monitoring alarms", "Alarms from the monitoring models of running batches will appear here."
)


def deviations(user: User) -> Panel:
    """What is overdue for the caller (CAPA actions, late sponsor notices), the open
    deviations and, for QA, the batches awaiting review."""
    from opencdmo.manufacturing.models import Batch
    from opencdmo.notifications.services import overdue_for
    from opencdmo.quality.records import Deviation

    open_ones = Deviation.objects.exclude(state="closed").select_related("project")[:RECENT]
    awaiting = (
        Batch.objects.filter(state="under_review", disposition__isnull=True)[:RECENT]
        if user.can(EDIT_QUALITY)
        else []
    )
    data = {"overdue": overdue_for(user), "open": open_ones, "awaiting": awaiting}
    return Panel("quality", "Deviations and CAPA", data)


DEVIATIONS = deviations
RELEASES = Upcoming(
    "Batch releases", "Batches awaiting your disposition and e-signature will appear here."
)
SPONSOR_RELEASES = Upcoming(
    "Batch releases", "Batch dispositions signed by your CDMOs' QA will appear here."
)


def requests_sent(user: User) -> Panel:
    """The sponsor's latest requests with their state: what to compare and accept."""
    rows = CapacityRequest.objects.select_related("product")[:RECENT]
    return Panel("requests", "Capacity requests", {"requests": rows, "can_ask": True})


def requests_received(user: User) -> Panel:
    """Options the caller's sites answered, the newest first: proposals to send."""
    rows = Option.objects.select_related("site").order_by("-created_at")[:RECENT]
    return Panel("options", "Requests for your sites", {"options": rows})


def projects(user: User) -> Panel:
    rows = Project.objects.select_related("site", "sponsor", "cdmo")[:RECENT]
    return Panel("projects", "Projects", {"projects": rows})


def plans(user: User) -> Panel:
    """The caller's sites with their plan in force and the scenarios being worked on."""
    latest = latest_plans()
    open_scenarios = Scenario.objects.exclude(status=Scenario.Status.PUBLISHED).count()
    return Panel(
        "plans",
        "Site plans",
        {"plans": sorted(latest.values(), key=lambda p: p.site.name), "scenarios": open_scenarios},
    )


def find_sites(user: User) -> Panel:
    return Panel("find_sites", "Find a site", {})


def recent_inspections(user: User) -> Panel:
    inspections = Inspection.objects.select_related("site__owner").order_by("-inspected_on", "-pk")[
        :RECENT
    ]
    return Panel("inspections", "Recent inspections", {"inspections": inspections})


def own_sites(user: User) -> Panel:
    """The caller's organisation's sites with each suite's equipment count."""
    suites = Suite.objects.annotate(equipment_count=Count("equipment")).order_by("name")
    sites = (
        Site.objects.filter(owner_id=user.organisation_id)
        .prefetch_related(Prefetch("suites", queryset=suites))
        .order_by("name")
    )
    return Panel(
        "own_sites",
        "Your sites and suites",
        {"sites": sites, "can_edit": user.can(EDIT_NETWORK)},
        wide=True,
    )


def latest_audit(user: User) -> Panel:
    entries = AuditEntry.objects.order_by("-at", "-pk")[:RECENT]
    return Panel("audit", "Latest audit entries", {"entries": entries}, wide=True)


def users(user: User) -> Panel:
    """Active and inactive user counts, per organisation for the platform administrator."""
    if user.is_platform_admin:
        with scopes_disabled():
            rows = list(
                Organisation.objects.annotate(
                    active=Count("users", filter=Q(users__is_active=True)),
                    inactive=Count("users", filter=Q(users__is_active=False)),
                ).order_by("kind", "name")
            )
    else:
        rows = list(
            Organisation.objects.filter(pk=user.organisation_id).annotate(
                active=Count("users", filter=Q(users__is_active=True)),
                inactive=Count("users", filter=Q(users__is_active=False)),
            )
        )
    return Panel("users", "Users", {"organisations": rows}, wide=len(rows) > 1)


def pending_imports(user: User) -> Panel:
    jobs = ImportJob.objects.order_by("-created_at", "-pk")
    return Panel(
        "imports",
        "Imports",
        {
            "pending": jobs.filter(status=ImportJob.Status.QUEUED)[:RECENT],
            "recent": jobs.exclude(status=ImportJob.Status.QUEUED)[:3],
        },
    )


def tokens(user: User) -> Panel:
    """The caller's tokens that still work: neither revoked nor expired."""
    active = (
        ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by("-created_at")
    )
    return Panel("tokens", "Your API tokens", {"tokens": active})


HOME_PANELS: dict[Any, tuple[Callable[[User], Panel], ...]] = {
    Role.SPONSOR_MANAGER: (
        find_sites,
        recent_inspections,
        requests_sent,
        projects,
        SPONSOR_BATCHES,
    ),
    Role.SPONSOR_VIEWER: (find_sites, recent_inspections, projects, SPONSOR_BATCHES),
    Role.SPONSOR_QA: (
        latest_audit,
        recent_inspections,
        DEVIATIONS,
        SPONSOR_RELEASES,
    ),
    Role.CDMO_PLANNER: (plans, requests_received, own_sites, BATCHES),
    Role.CDMO_OPERATOR: (own_sites, BATCHES, DEVIATIONS),
    Role.CDMO_MSAT: (own_sites, BATCHES, MONITORING, DEVIATIONS),
    Role.CDMO_QA: (latest_audit, own_sites, DEVIATIONS, RELEASES),
    Role.CDMO_ADMIN: (users, pending_imports, tokens, own_sites, requests_received),
    Role.PLATFORM_ADMIN: (users, pending_imports, tokens, latest_audit),
}


def panels_for(user: User) -> list[Panel]:
    """The panels of ``user``'s home page, in the order they are shown."""
    return [build(user) for build in HOME_PANELS.get(user.role, (find_sites,))]
