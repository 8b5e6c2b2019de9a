"""API: a CDMO planner's scenarios of a site's plan, as the pages offer them.

Create a scenario from the plan in force, edit it (a breakdown or maintenance of a unit, a due
date, a lot added or removed; each with a reason, each on the audit trail), solve it in the
background, read its figures and its plan documents, compare, publish. The handlers call
``scheduling.services`` as the pages do. Plans are the CDMO's own: a caller without
``VIEW_PLANS`` (a sponsor) is answered 404 everywhere, as for a record that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from opencdmo.accounts.roles import PLAN_SITES, VIEW_PLANS
from opencdmo.api_errors import answers
from opencdmo.core.inputs import InputSchema, Text
from opencdmo.core.tenancy import get_owned_or_404
from opencdmo.network.models import Site
from opencdmo.scheduling import services
from opencdmo.scheduling.models import Scenario, SitePlan
from opencdmo.scheduling.scenarios import figures

router = Router(tags=["site plans and scenarios"])

DOWNTIMES = ("breakdown", "maintenance")
NEEDS: dict[str, tuple[str, ...]] = {
    "breakdown": ("suite", "start", "end"),
    "maintenance": ("suite", "start", "end"),
    "due": ("lot", "due"),
    "add": ("lot", "release"),
    "remove": ("lot",),
}
"""The fields each kind of edit needs."""


class ScenarioOut(Schema):
    id: int
    site: int = Field(..., alias="site_id")
    name: str
    base_version: int = Field(..., description="The published version it was copied from")
    status: str = Field(
        ..., description="draft, queued, solving, solved, failed, cancelled or published"
    )
    message: str = Field(..., description="Progress while solving; why, when it failed")
    time_limit_s: int
    goal: str = Field(..., description="repair or reoptimise: what the last solve minimised first")
    edits: list[str] = Field(..., description="Each edit in words, in order")
    edit_kinds: list[str] = Field(..., description="Each edit's kind, in order")
    figures: dict[str, Any] = Field(
        ..., description="Lateness, changeovers, moves and utilisation of the last solve"
    )
    published_version: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ScenarioIn(InputSchema):
    name: str = Field("", max_length=120, description="Empty: 'Scenario from v<n>'")
    reason: str = Field("", max_length=2000, description="Why, for the audit trail")


class EditIn(InputSchema):
    """One edit; which fields it needs depends on ``edit`` (see docs/api.md)."""

    edit: Literal["breakdown", "maintenance", "due", "add", "remove"]
    reason: str = Field(..., min_length=1, max_length=2000, description="Why, for the audit trail")
    suite: str | None = Field(None, max_length=200, description="The unit, for a downtime")
    start: dt.datetime | None = Field(None, description="Downtime start (UTC)")
    end: dt.datetime | None = Field(None, description="Downtime end (UTC)")
    lot: str | None = Field(
        None, max_length=80, description="The lot to change or remove; for 'add', the lot to copy"
    )
    due: dt.datetime | None = Field(None, description="New due date (UTC); optional for 'add'")
    release: dt.datetime | None = Field(None, description="Earliest start of an added lot (UTC)")


class SolveIn(InputSchema):
    time_limit_s: int = Field(20, ge=1, le=600, description="Seconds the solver may take")
    goal: Literal["repair", "reoptimise"] = Field(
        "repair",
        description="repair: count only lateness added to the published plan, then moves; "
        "reoptimise: count all lateness, then moves",
    )


class ReasonIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=2000, description="Why, for the audit trail")


class ScenarioPlanOut(Schema):
    """A solved scenario's plan, re-checkable like a site's published plan."""

    time_zero: dt.datetime = Field(..., description="UTC datetime of hour 0")
    instance: dict[str, Any] = Field(..., description="opencdmo-schedule/1")
    result: dict[str, Any] = Field(..., description="opencdmo-result/1")
    version: int | None = Field(None, description="The version it was published as, if it was")


class ColumnOut(Schema):
    label: str
    site: int
    scenario: int | None = Field(..., description="null: the site's published plan in force")
    version: int | None = Field(..., description="The published version (plans in force)")
    figures: dict[str, Any]


class SitePlanOut(Schema):
    site: int = Field(..., alias="site_id")
    version: int
    reason: str
    causes: list[str] = Field(..., description="What kind of change, as sponsors read it")
    published_at: dt.datetime


def _reader(request: HttpRequest) -> None:
    """Plans are the CDMO's own: anyone else is answered as if there were none."""
    if not request.user.can(VIEW_PLANS):
        raise Http404("No such plan.")


def _planner(request: HttpRequest) -> None:
    _reader(request)
    if not request.user.can(PLAN_SITES):
        raise PermissionDenied("Your role does not allow this.")


def _scenario(request: HttpRequest, scenario_id: int) -> Scenario:
    return get_owned_or_404(Scenario, request.user, pk=scenario_id)


@router.get(
    "/sites/{site_id}/scenarios",
    response=answers(list[ScenarioOut], 400, 401, 404, 422),
    summary="A site's scenarios, newest first",
)
def list_scenarios(request: HttpRequest, site_id: int) -> Any:
    _reader(request)
    site = get_owned_or_404(Site, request.user, pk=site_id)
    return list(Scenario.objects.filter(site=site).order_by("-pk")[:200])


@router.post(
    "/sites/{site_id}/scenarios",
    response=answers(ScenarioOut, 400, 401, 403, 404, 422, success=201),
    summary="Copy the site's plan in force into a new scenario",
)
def create_scenario(request: HttpRequest, site_id: int, payload: ScenarioIn) -> Status:
    _planner(request)
    site = get_owned_or_404(Site, request.user, pk=site_id)
    scenario = services.create_scenario(
        site, actor=request.user, name=payload.name, reason=payload.reason
    )
    return Status(201, scenario)


@router.get(
    "/scenarios/{scenario_id}",
    response=answers(ScenarioOut, 400, 401, 404, 422),
    summary="A scenario: status, progress, edits and figures",
)
def get_scenario(request: HttpRequest, scenario_id: int) -> Scenario:
    _reader(request)
    return _scenario(request, scenario_id)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


@router.post(
    "/scenarios/{scenario_id}/edits",
    response=answers(ScenarioOut, 400, 401, 403, 404, 422),
    summary="Edit a scenario: a breakdown, maintenance, due date, added or removed lot",
)
def edit_scenario(request: HttpRequest, scenario_id: int, payload: EditIn) -> Scenario:
    _planner(request)
    scenario = _scenario(request, scenario_id)
    given = payload.dict()
    missing = [name for name in NEEDS[payload.edit] if given[name] in (None, "")]
    if missing:
        raise ValidationError(dict.fromkeys(missing, f"Required for '{payload.edit}'."))
    if payload.edit in DOWNTIMES:
        edit = "downtime"
        arguments: dict[str, Any] = {
            "unit": payload.suite,
            "kind": payload.edit,
            "start": _utc(payload.start),
            "end": _utc(payload.end),
        }
    else:
        edit = payload.edit
        arguments = {
            "lot": payload.lot,
            "due": _utc(payload.due),
            "release": _utc(payload.release),
        }
    try:
        return services.edit_scenario(
            scenario, actor=request.user, reason=payload.reason, edit=edit, **arguments
        )
    except ValidationError as error:
        # The unit of the schedule format is this API's ``suite``.
        named = {("suite" if k == "unit" else k): v for k, v in error.message_dict.items()}
        raise ValidationError(named) from None


@router.post(
    "/scenarios/{scenario_id}/solve",
    response=answers(ScenarioOut, 400, 401, 403, 404, 422, success=202),
    summary="Solve the scenario in the background; poll it for progress",
)
def solve_scenario(request: HttpRequest, scenario_id: int, payload: SolveIn) -> Status:
    _planner(request)
    scenario = _scenario(request, scenario_id)
    queued = services.queue_solve(
        scenario, actor=request.user, time_limit_s=payload.time_limit_s, goal=payload.goal
    )
    return Status(202, queued)


@router.post(
    "/scenarios/{scenario_id}/cancel",
    response=answers(ScenarioOut, 400, 401, 403, 404, 422),
    summary="Stop the scenario's solve (a running one within about a second)",
)
def cancel_scenario(request: HttpRequest, scenario_id: int) -> Scenario:
    _planner(request)
    scenario = _scenario(request, scenario_id)
    services.cancel_solve(scenario, actor=request.user)
    scenario.refresh_from_db()
    return scenario


@router.get(
    "/scenarios/{scenario_id}/plan",
    response=answers(ScenarioPlanOut, 400, 401, 404, 422),
    summary="A solved scenario's plan documents",
)
def get_scenario_plan(request: HttpRequest, scenario_id: int) -> dict[str, Any]:
    _reader(request)
    scenario = _scenario(request, scenario_id)
    if scenario.status not in {Scenario.Status.SOLVED, Scenario.Status.PUBLISHED}:
        raise ValidationError(
            {"status": f"The scenario is {scenario.status}; its plan is there once it is solved."}
        )
    return {
        "time_zero": scenario.time_zero,
        "instance": scenario.instance,
        "result": scenario.result,
        "version": scenario.published_version,
    }


def _ids(text: str) -> list[int]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts) or len(parts) > 20:
        raise ValidationError(
            {"scenarios": "Give 1 to 20 scenario ids separated by commas, e.g. 4,7."}
        )
    return list(dict.fromkeys(int(part) for part in parts))


@router.get(
    "/compare",
    response=answers(list[ColumnOut], 400, 401, 404, 422),
    summary="The figures of scenarios beside their sites' plans in force",
)
def compare(request: HttpRequest, scenarios: Text) -> Any:
    """Each site's plan in force first, then its scenarios, in the order asked."""
    _reader(request)
    chosen = [_scenario(request, pk) for pk in _ids(scenarios)]
    columns: list[dict[str, Any]] = []
    for site_id in dict.fromkeys(s.site_id for s in chosen):
        plan = SitePlan.objects.filter(site_id=site_id).order_by("-version").first()
        if plan is not None:
            hour = services.now_h(plan.time_zero)
            columns.append(
                {
                    "label": f"Published v{plan.version}",
                    "site": site_id,
                    "scenario": None,
                    "version": plan.version,
                    "figures": figures(plan.instance, plan.result, plan.result, hour),
                }
            )
        columns += [
            {
                "label": s.name,
                "site": site_id,
                "scenario": s.pk,
                "version": s.published_version,
                "figures": s.figures,
            }
            for s in chosen
            if s.site_id == site_id
        ]
    return columns


@router.post(
    "/scenarios/{scenario_id}/publish",
    response=answers(SitePlanOut, 400, 401, 403, 404, 422, success=201),
    summary="Publish a solved scenario as the site's next plan version",
)
def publish_scenario(request: HttpRequest, scenario_id: int, payload: ReasonIn) -> Status:
    _planner(request)
    scenario = _scenario(request, scenario_id)
    plan = services.publish_scenario(scenario, actor=request.user, reason=payload.reason)
    return Status(201, plan)
