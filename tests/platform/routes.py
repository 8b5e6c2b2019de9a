"""Every page and API route that shows or changes one object, for the tenant-isolation suite.

Each app registers its routes here. A route says whose objects it serves and which
permission it needs; ``test_tenant_isolation`` then requests it as every role of every
organisation for an own, a foreign and a missing object and checks the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from opencdmo.accounts.roles import EDIT_NETWORK, VIEW_NETWORK, VIEW_PRIVATE_SITE

MISSING_ID = 987654321

Relation = Literal["own", "foreign", "missing"]


@dataclass(frozen=True)
class Route:
    """One route serving a single object.

    ``objects`` maps an organisation slug to the object that organisation owns in the test
    world (organisations absent from the map own none). ``url`` builds the address from the
    object's key. ``visibility`` is ``"public"`` when any signed-in user may read any object
    (site profiles) and ``"owner"`` when only the owning organisation may.
    """

    name: str
    front: Literal["page", "api"]
    objects: Callable[[Any], dict[str, Any]]
    url: Callable[[Any], str]
    visibility: Literal["public", "owner"]
    permission: str | None = None
    method: Literal["get", "post"] = "get"
    data: dict[str, Any] | None = None
    key: Callable[[Any], Any] = lambda obj: obj.pk

    def expected_status(self, permissions: frozenset[str], relation: Relation) -> int:
        if self.permission is not None and self.permission not in permissions:
            return 403
        if relation == "missing":
            return 404
        if self.visibility == "owner" and relation == "foreign":
            return 404
        return 302 if self.method == "post" and self.front == "page" else 200


def _sites(world: Any) -> dict[str, Any]:
    return dict(world.sites)


def _suites(world: Any) -> dict[str, Any]:
    return dict(world.suites)


def _equipment(world: Any) -> dict[str, Any]:
    return dict(world.equipment)


def _import_jobs(world: Any) -> dict[str, Any]:
    """One finished import job per CDMO, made once per test world."""
    if "import_jobs" not in world.extra:
        from django_scopes import scopes_disabled

        from opencdmo.network.models import ImportJob

        with scopes_disabled():
            world.extra["import_jobs"] = {
                slug: ImportJob.objects.create(
                    organisation=world.orgs[slug],
                    user=world.user(slug, "cdmo_admin"),
                    filename="sites.csv",
                    stored_path="/nonexistent/sites.csv",
                    sha256="0" * 64,
                    status="imported",
                    summary="Imported 1 site from sites.csv.",
                )
                for slug in ("alpha-bio", "beta-pharma")
            }
    return dict(world.extra["import_jobs"])


def _organisations(world: Any) -> dict[str, Any]:
    return {slug: org for slug, org in world.orgs.items() if slug != "platform"}


ROUTES: list[Route] = [
    Route(
        "import-job-page",
        "page",
        _import_jobs,
        lambda key: f"/sites/import/{key}/",
        "owner",
        permission="network.import",
    ),
    Route(
        "organisation-page",
        "page",
        _organisations,
        lambda key: f"/organisations/{key}/",
        "public",
        key=lambda org: org.slug,
    ),
    Route(
        "organisation-api",
        "api",
        _organisations,
        lambda key: f"/api/v1/organisations/{key}",
        "public",
        key=lambda org: org.slug,
    ),
    # network routes
    Route(
        "site-page",
        "page",
        _sites,
        lambda key: f"/sites/{key}/",
        "public",
        permission=VIEW_NETWORK,
    ),
    Route(
        "site-api",
        "api",
        _sites,
        lambda key: f"/api/v1/sites/{key}",
        "public",
        permission=VIEW_NETWORK,
    ),
    Route(
        "site-private-api",
        "api",
        _sites,
        lambda key: f"/api/v1/sites/{key}/private",
        "owner",
        permission=VIEW_PRIVATE_SITE,
    ),
    Route(
        "suite-edit-page",
        "page",
        _suites,
        lambda key: f"/suites/{key}/edit/",
        "owner",
        permission=EDIT_NETWORK,
    ),
    Route(
        "suite-edit-page-post",
        "page",
        _suites,
        lambda key: f"/suites/{key}/edit/",
        "owner",
        permission=EDIT_NETWORK,
        method="post",
        data={
            "name": "USP 1",
            "kind": "upstream",
            "gmp_grade": "B",
            "status": "operational",
            "modalities": ["mab"],
            "reason": "Tenant-isolation check",
        },
    ),
    Route(
        "equipment-edit-page",
        "page",
        _equipment,
        lambda key: f"/equipment/{key}/edit/",
        "owner",
        permission=EDIT_NETWORK,
    ),
    Route(
        "equipment-edit-page-post",
        "page",
        _equipment,
        lambda key: f"/equipment/{key}/edit/",
        "owner",
        permission=EDIT_NETWORK,
        method="post",
        data={
            "tag": "BR-1",
            "kind": "bioreactor_su",
            "working_volume_l": "2500",
            "reason": "Tenant-isolation check",
        },
    ),
    Route(
        "private-profile-edit-page",
        "page",
        _sites,
        lambda key: f"/sites/{key}/private/edit/",
        "owner",
        permission=EDIT_NETWORK,
    ),
    Route(
        "private-profile-edit-page-post",
        "page",
        _sites,
        lambda key: f"/sites/{key}/private/edit/",
        "owner",
        permission=EDIT_NETWORK,
        method="post",
        data={"key_contact": "Tenant check", "reason": "Tenant-isolation check"},
    ),
]
