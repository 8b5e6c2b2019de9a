"""The tenant-isolation matrix, generated rather than kept by hand.

Routes come from Django's URL patterns and from the OpenAPI operations of ``/api/v1/``;
every one with an object id in its path must say below what it serves (``PAGES`` by URL
name, ``OPERATIONS`` by method and path) or why it serves no tenant object
(``NOT_TENANT_OBJECTS``); ``test_matrix_covers_every_route`` fails otherwise. The expected
answer for each caller and object is derived from the served model's tenancy declaration and
the route's permission, never written per route.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scopes_disabled

from opencdmo.accounts.models import ApiToken, Organisation, User
from opencdmo.accounts.roles import (
    BUILD_MODELS,
    EDIT_BATCHES,
    EDIT_NETWORK,
    EDIT_QUALITY,
    IMPORT_NETWORK,
    MANAGE_TOKENS,
    MANAGE_USERS,
    PLAN_SITES,
    REQUEST_CAPACITY,
    SIGN_RECORDS,
    VIEW_NETWORK,
    VIEW_PLANS,
    VIEW_PRIVATE_SITE,
)
from opencdmo.analytics.models import Alarm, MonitoringModel
from opencdmo.api import api
from opencdmo.core.tenancy import tenancy_of
from opencdmo.manufacturing.models import Batch, OpcConnection
from opencdmo.network.models import Equipment, ImportJob, Site, Suite
from opencdmo.notifications.models import Notification
from opencdmo.projects.models import (
    CapacityRequest,
    Document,
    DocumentVersion,
    Milestone,
    Option,
    Project,
    Task,
)
from opencdmo.quality.models import QualityAgreement
from opencdmo.quality.records import Capa, CapaAction, Deviation, Disposition
from opencdmo.scheduling.models import Scenario
from tests.platform.shared_records.models import SharedRecord

MISSING_ID = 987654321
ORGANISATIONS = ("alpha-bio", "beta-pharma", "sponsor-one", "sponsor-two")

Relation = Literal["own", "shared", "foreign", "missing"]
RELATIONS: tuple[Relation, ...] = ("own", "shared", "foreign", "missing")
SERVED = "served"
"""A write that reached the object: a redirect after saving or the form shown again (400)."""


@dataclass(frozen=True)
class Serves:
    """What a route with an id serves.

    ``access`` is ``"read"`` (whoever the declaration lets read), ``"owner"`` (the owner's
    private side of a record others may read), ``"change"`` (the owner, via the declaration's
    write check) or ``"sharer"`` (the party a record is shared with, acting on its own step:
    the owner is refused, 403). ``per_user`` routes serve the caller's own object only (its
    API tokens).
    """

    model: type[models.Model]
    access: Literal["read", "owner", "change", "sharer"]
    permission: str | None = None
    key: str = "pk"
    methods: tuple[str, ...] = ("get",)
    data: Mapping[str, Any] = field(default_factory=dict)
    per_user: bool = False
    hidden_without: str | None = None
    """A caller without this permission is answered 404, as if nothing were there (plans)."""


_REASON = "Tenant-isolation check"
_TERMS = {
    "minor_notice_h": "720",
    "major_notice_h": "72",
    "critical_notice_h": "24",
    "sponsor_release_required": "on",
    "reason": _REASON,
}
PAGES: dict[str, Serves] = {
    "network:site": Serves(Site, "read", VIEW_NETWORK),
    "network:import-job": Serves(ImportJob, "read", IMPORT_NETWORK),
    "network:suite-edit": Serves(
        Suite,
        "change",
        EDIT_NETWORK,
        methods=("get", "post"),
        data={
            "name": "USP 1",
            "kind": "upstream",
            "gmp_grade": "B",
            "status": "operational",
            "modalities": ["mab"],
            "reason": _REASON,
        },
    ),
    "network:equipment-edit": Serves(
        Equipment,
        "change",
        EDIT_NETWORK,
        methods=("get", "post"),
        data={
            "tag": "BR-1",
            "kind": "bioreactor_su",
            "working_volume_l": "2500",
            "reason": _REASON,
        },
    ),
    "network:private-edit": Serves(
        Site,
        "change",
        EDIT_NETWORK,
        methods=("get", "post"),
        data={"key_contact": "Tenant check", "reason": _REASON},
    ),
    "organisation": Serves(Organisation, "read", key="slug"),
    "revoke-token": Serves(ApiToken, "change", MANAGE_TOKENS, methods=("post",), per_user=True),
    "user": Serves(User, "change", MANAGE_USERS),
    "user-role": Serves(User, "change", MANAGE_USERS, methods=("post",)),
    "user-active": Serves(User, "change", MANAGE_USERS, methods=("post",)),
    "user-link": Serves(User, "change", MANAGE_USERS, methods=("post",)),
    "shared_records:record": Serves(SharedRecord, "read"),
    "projects:request": Serves(CapacityRequest, "read", REQUEST_CAPACITY),
    "projects:request-cancel": Serves(
        CapacityRequest, "change", REQUEST_CAPACITY, methods=("post",)
    ),
    "projects:option": Serves(Option, "owner", VIEW_PLANS),
    "projects:option-accept": Serves(Option, "read", REQUEST_CAPACITY, methods=("post",)),
    "projects:project": Serves(Project, "read"),
    "projects:workspace": Serves(Project, "read"),
    "projects:workspace-message": Serves(
        Project, "read", methods=("post",), data={"body": "Tenant check"}
    ),
    "projects:workspace-member": Serves(Project, "read", methods=("post",)),
    "projects:workspace-milestone": Serves(Project, "read", methods=("post",)),
    "projects:workspace-task": Serves(Project, "read", methods=("post",)),
    "projects:milestone": Serves(
        Milestone,
        "read",
        methods=("post",),
        data={"state": "in_progress", "planned_date": "2026-06-01", "reason": _REASON},
    ),
    "projects:task-done": Serves(Task, "read", methods=("post",)),
    "projects:documents": Serves(Project, "read"),
    "projects:document-upload": Serves(Project, "read", methods=("post",)),
    "projects:document": Serves(Document, "read"),
    "projects:version-upload": Serves(Document, "read", methods=("post",)),
    "projects:version-submit": Serves(DocumentVersion, "read", methods=("post",)),
    "projects:version-edit": Serves(DocumentVersion, "read", methods=("post",)),
    "projects:version-sign": Serves(DocumentVersion, "read", methods=("post",)),
    "projects:version-effective": Serves(DocumentVersion, "read", SIGN_RECORDS, methods=("post",)),
    "projects:version-obsolete": Serves(DocumentVersion, "read", methods=("post",)),
    "projects:version-download": Serves(DocumentVersion, "read"),
    "quality:agreement": Serves(QualityAgreement, "read"),
    "quality:agreement-edit": Serves(
        QualityAgreement, "change", EDIT_QUALITY, methods=("get", "post"), data=_TERMS
    ),
    "quality:agreement-sign": Serves(QualityAgreement, "read", SIGN_RECORDS, methods=("post",)),
    "quality:agreement-new": Serves(
        Project, "change", EDIT_QUALITY, methods=("get", "post"), data=_TERMS
    ),
    "quality:deviation": Serves(Deviation, "read"),
    "quality:deviation-classify": Serves(Deviation, "change", EDIT_QUALITY, methods=("post",)),
    "quality:deviation-investigate": Serves(Deviation, "change", EDIT_QUALITY, methods=("post",)),
    "quality:deviation-close": Serves(Deviation, "change", EDIT_QUALITY, methods=("post",)),
    "quality:capa-new": Serves(Deviation, "change", EDIT_QUALITY, methods=("post",)),
    "quality:capa": Serves(Capa, "read"),
    "quality:capa-action-new": Serves(Capa, "change", EDIT_QUALITY, methods=("post",)),
    "quality:capa-effectiveness": Serves(Capa, "change", EDIT_QUALITY, methods=("post",)),
    "quality:capa-action-done": Serves(CapaAction, "change", EDIT_BATCHES, methods=("post",)),
    "quality:deviation-from-alarm": Serves(
        Alarm,
        "owner",
        methods=("get", "post"),
        data={"title": "Tenant check", "description": "Matrix", "reason": _REASON},
        hidden_without=EDIT_BATCHES,
    ),
    "quality:batch-review": Serves(Batch, "read"),
    "quality:batch-lims": Serves(Batch, "change", EDIT_BATCHES, methods=("post",)),
    "quality:batch-dispose": Serves(Batch, "change", EDIT_QUALITY, methods=("post",)),
    "quality:batch-coa": Serves(Batch, "read"),
    "quality:batch-disposition-report": Serves(Batch, "read"),
    "quality:disposition-sponsor": Serves(
        Disposition, "sharer", SIGN_RECORDS, methods=("post",), data={"reason": _REASON}
    ),
    "manufacturing:batch": Serves(Batch, "read"),
    "manufacturing:batch-export": Serves(Batch, "read"),
    "manufacturing:connection-edit": Serves(OpcConnection, "change", EDIT_BATCHES),
    "manufacturing:batch-state": Serves(
        Batch, "change", EDIT_BATCHES, methods=("post",), data={"to": "running", "reason": _REASON}
    ),
    "manufacturing:batch-upload": Serves(Batch, "change", EDIT_BATCHES, methods=("post",)),
    "manufacturing:batch-result": Serves(
        Batch,
        "change",
        EDIT_BATCHES,
        methods=("post",),
        data={"attribute": "Titer", "value": "3.1", "reason": _REASON},
    ),
    "analytics:model-new": Serves(Project, "owner", BUILD_MODELS),
    "analytics:sharing": Serves(
        Project,
        "owner",
        BUILD_MODELS,
        methods=("post",),
        data={"share_process_data": "on", "reason": _REASON},
    ),
    "analytics:model": Serves(MonitoringModel, "read"),
    "analytics:model-sign": Serves(MonitoringModel, "read", SIGN_RECORDS, methods=("post",)),
    "analytics:batch": Serves(Batch, "read"),
    "analytics:contributions": Serves(Batch, "read"),
    "notifications:open": Serves(Notification, "read", methods=("post",), per_user=True),
    "scheduling:site-plan": Serves(Site, "owner", VIEW_PLANS),
    "scheduling:compare": Serves(Site, "owner", VIEW_PLANS),
    "scheduling:scenario-new": Serves(
        Site, "change", PLAN_SITES, methods=("post",), data={"name": "Tenant check"}
    ),
    "scheduling:scenario": Serves(Scenario, "read", VIEW_PLANS),
    "scheduling:scenario-solve": Serves(
        Scenario, "change", PLAN_SITES, methods=("post",), data={"time_limit_s": "5"}
    ),
    "scheduling:scenario-cancel": Serves(Scenario, "change", PLAN_SITES, methods=("post",)),
    "scheduling:scenario-publish": Serves(
        Scenario, "change", PLAN_SITES, methods=("post",), data={"reason": _REASON}
    ),
}
_SIGNATURE = {"password": "not the password", "seen_sha256": "0" * 64, "reason": _REASON}
"""An e-signature's body: every signing route is reached, none signs."""
OPERATIONS: dict[str, Serves] = {
    "GET /api/v1/organisations/{slug}": Serves(Organisation, "read", key="slug"),
    "GET /api/v1/sites/{site_id}": Serves(Site, "read", VIEW_NETWORK),
    "GET /api/v1/sites/{site_id}/private": Serves(Site, "owner", VIEW_PRIVATE_SITE),
    "PATCH /api/v1/suites/{suite_id}": Serves(
        Suite, "change", EDIT_NETWORK, data={"reason": _REASON, "status": "operational"}
    ),
    "GET /api/v1/shared-records/{record_id}": Serves(SharedRecord, "read"),
    "GET /api/v1/requests/{request_id}": Serves(CapacityRequest, "read", REQUEST_CAPACITY),
    "GET /api/v1/requests/{request_id}/options": Serves(CapacityRequest, "read", REQUEST_CAPACITY),
    "POST /api/v1/options/{option_id}/accept": Serves(
        Option, "read", REQUEST_CAPACITY, data={"reason": _REASON}
    ),
    "GET /api/v1/options/{option_id}/plan": Serves(Option, "owner"),
    "GET /api/v1/projects/{project_id}": Serves(Project, "read"),
    "GET /api/v1/batches/{batch_id}": Serves(Batch, "read"),
    "GET /api/v1/batches/{batch_id}/data": Serves(Batch, "read"),
    "GET /api/v1/batches/{batch_id}/monitoring": Serves(Batch, "read"),
    "GET /api/v1/sites/{site_id}/plan": Serves(Site, "owner"),
    "GET /api/v1/sites/{site_id}/scenarios": Serves(Site, "owner", hidden_without=VIEW_PLANS),
    "POST /api/v1/sites/{site_id}/scenarios": Serves(
        Site, "change", PLAN_SITES, data={"name": "Tenant check"}, hidden_without=VIEW_PLANS
    ),
    "GET /api/v1/scenarios/{scenario_id}": Serves(Scenario, "read", hidden_without=VIEW_PLANS),
    "POST /api/v1/scenarios/{scenario_id}/edits": Serves(
        Scenario,
        "change",
        PLAN_SITES,
        data={"edit": "remove", "lot": "EX-1", "reason": _REASON},
        hidden_without=VIEW_PLANS,
    ),
    "POST /api/v1/scenarios/{scenario_id}/solve": Serves(
        Scenario, "change", PLAN_SITES, data={"time_limit_s": 5}, hidden_without=VIEW_PLANS
    ),
    "POST /api/v1/scenarios/{scenario_id}/cancel": Serves(
        Scenario, "change", PLAN_SITES, hidden_without=VIEW_PLANS
    ),
    "GET /api/v1/scenarios/{scenario_id}/plan": Serves(Scenario, "read", hidden_without=VIEW_PLANS),
    "POST /api/v1/scenarios/{scenario_id}/publish": Serves(
        Scenario, "change", PLAN_SITES, data={"reason": _REASON}, hidden_without=VIEW_PLANS
    ),
    "PATCH /api/v1/shared-records/{record_id}": Serves(
        SharedRecord, "change", EDIT_NETWORK, data={"reason": _REASON, "title": "Retitled"}
    ),
    "GET /api/v1/deviations/{deviation_id}": Serves(Deviation, "read"),
    "POST /api/v1/deviations/{deviation_id}/classify": Serves(
        Deviation,
        "change",
        EDIT_QUALITY,
        data={"classification": "minor", "rationale": "Tenant check", "reason": _REASON},
    ),
    "POST /api/v1/deviations/{deviation_id}/investigate": Serves(
        Deviation, "change", EDIT_QUALITY, data={"reason": _REASON}
    ),
    "POST /api/v1/deviations/{deviation_id}/close": Serves(
        Deviation, "change", EDIT_QUALITY, data=_SIGNATURE
    ),
    "POST /api/v1/deviations/{deviation_id}/capas": Serves(
        Deviation,
        "change",
        EDIT_QUALITY,
        data={
            "title": "Tenant check",
            "effectiveness_criteria": "None again",
            "effectiveness_due": "2026-06-01",
            "reason": _REASON,
        },
    ),
    "GET /api/v1/capas/{capa_id}": Serves(Capa, "read"),
    "POST /api/v1/capas/{capa_id}/actions": Serves(
        Capa,
        "change",
        EDIT_QUALITY,
        data={
            "description": "Tenant check",
            "owner": "nobody",
            "due_on": "2026-06-01",
            "reason": _REASON,
        },
    ),
    "POST /api/v1/capa-actions/{action_id}/done": Serves(
        CapaAction, "change", EDIT_BATCHES, data={"reason": _REASON}
    ),
    "POST /api/v1/capas/{capa_id}/effectiveness": Serves(
        Capa, "change", EDIT_QUALITY, data={"effective": True, "result": "x", "reason": _REASON}
    ),
    "GET /api/v1/batches/{batch_id}/review": Serves(Batch, "read"),
    "POST /api/v1/batches/{batch_id}/disposition": Serves(
        Batch, "change", EDIT_QUALITY, data={**_SIGNATURE, "decision": "release"}
    ),
    "POST /api/v1/dispositions/{disposition_id}/sponsor-decision": Serves(
        Disposition, "sharer", SIGN_RECORDS, data={**_SIGNATURE, "decision": "release"}
    ),
    "GET /api/v1/batches/{batch_id}/coa.pdf": Serves(Batch, "read"),
    "GET /api/v1/projects/{project_id}/documents": Serves(Project, "read"),
    "GET /api/v1/documents/{document_id}": Serves(Document, "read"),
    "GET /api/v1/document-versions/{version_id}/file": Serves(DocumentVersion, "read"),
    "GET /api/v1/projects/{project_id}/team": Serves(Project, "read"),
    "GET /api/v1/projects/{project_id}/milestones": Serves(Project, "read"),
    "GET /api/v1/projects/{project_id}/tasks": Serves(Project, "read"),
    "GET /api/v1/projects/{project_id}/messages": Serves(Project, "read"),
    "POST /api/v1/projects/{project_id}/messages": Serves(
        Project, "read", data={"body": "Tenant check"}
    ),
}
NOT_TENANT_OBJECTS: dict[str, str] = {
    "set-password": "a one-time link whose signed token is the credential, for anyone invited",
    "password-reset-confirm": "an e-mailed one-time link whose signed token is the credential",
}
SKIPPED_NAMESPACES: dict[str, str] = {
    "admin": "Django's admin is for platform administrators only (tests/network/test_admin.py)",
    "api": "the API is enumerated from its OpenAPI operations instead",
}


@dataclass(frozen=True)
class Route:
    """One method on one route with an object id, and what it serves."""

    name: str
    front: Literal["page", "api"]
    method: str
    path: str
    param: str
    serves: Serves

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def url(self, key: Any) -> str:
        return self.path.replace("{" + self.param + "}", str(key))

    def expected(self, user: Any, relation: Relation) -> int | str:
        """The answer the declaration and the permission call for."""
        serves = self.serves
        if serves.hidden_without is not None and not user.can(serves.hidden_without):
            return 404
        if serves.permission is not None and not user.can(serves.permission):
            return 403
        if relation == "missing":
            return 404
        tenancy = tenancy_of(serves.model)
        if serves.access == "sharer":
            return {"own": 403, "shared": SERVED}.get(relation, 404)
        if serves.access == "read":
            reaches = tenancy.public or relation in ("own", "shared")
        else:
            reaches = relation == "own"
        if not reaches:
            return 404
        return 200 if self.method == "get" else SERVED


# --- discovery -------------------------------------------------------------------------------

_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, str]]:
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace or "") if n)
            yield from _walk(entry.url_patterns, prefix + route, inner)
        elif isinstance(entry, URLPattern):
            name = ":".join(n for n in (namespace, entry.name or route) if n)
            yield name, "/" + prefix + route, namespace


def url_patterns_with_ids() -> dict[str, str]:
    """URL name → path template (``/sites/{pk}/``) of every page route taking parameters."""
    found: dict[str, str] = {}
    for name, route, namespace in _walk(get_resolver().url_patterns):
        if namespace.split(":")[0] in SKIPPED_NAMESPACES or "<" not in route:
            continue
        found[name] = _CONVERTER.sub(lambda m: "{" + m["parameter"] + "}", route)
    return found


def api_operations_with_ids() -> dict[str, list[str]]:
    """``"METHOD /api/v1/path"`` → path parameters, for every OpenAPI operation taking one."""
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    found: dict[str, list[str]] = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            if params:
                found[f"{method.upper()} {path}"] = params
    return found


def routes() -> list[Route]:
    """Every covered route as one ``Route`` per method."""
    found: list[Route] = []
    for name, path in sorted(url_patterns_with_ids().items()):
        if name in NOT_TENANT_OBJECTS or name not in PAGES:
            continue
        serves = PAGES[name]
        (param,) = re.findall(r"{(\w+)}", path)
        found += [Route(name, "page", method, path, param, serves) for method in serves.methods]
    for operation, params in sorted(api_operations_with_ids().items()):
        if operation not in OPERATIONS:
            continue
        method, path = operation.split(" ", 1)
        (param,) = params
        found.append(Route(operation, "api", method.lower(), path, param, OPERATIONS[operation]))
    return found


# --- the objects each caller asks for -------------------------------------------------------


def target(route: Route, world: Any, caller: Any, relation: Relation) -> Any | None:
    """The key of an object standing in ``relation`` to the caller's organisation, or None.

    Classified by the model's declaration: own (the caller's organisation owns it), shared
    (shared with the caller's organisation), foreign (neither).
    """
    serves = route.serves
    if relation == "missing":
        return MISSING_ID if serves.key == "pk" else "no-such-object"
    tenancy = tenancy_of(serves.model)
    matrix = {world.orgs[slug].pk for slug in ORGANISATIONS}
    org = caller.organisation_id
    with scopes_disabled():
        candidates = [
            (obj, tenancy.owner_id(obj), tenancy.shared_ids(obj))
            for obj in serves.model._default_manager.order_by("pk")
        ]
    for obj, owner, shared in candidates:
        if owner not in matrix:
            continue
        if serves.per_user and relation == "own" and getattr(obj, "user_id", None) != caller.pk:
            continue
        kind = "own" if owner == org else "shared" if org in shared else "foreign"
        if kind == relation:
            return getattr(obj, serves.key)
    return None
