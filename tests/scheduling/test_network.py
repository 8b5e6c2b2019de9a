"""The network view: a campaign plan across a CDMO's sites from their plans in force, checked,
with the engine's explanation of a late product; only the CDMO's own roles see it."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.tenancy import caller_scope
from opencdmo.engines.planning.campaign.checker import check_campaign_solution
from opencdmo.engines.planning.campaign.reader import parse_campaign
from opencdmo.engines.planning.campaign.solution import solution_from_document
from opencdmo.scheduling import services
from opencdmo.scheduling.models import NetworkPlan, SitePlan
from opencdmo.scheduling.network import month_start
from opencdmo.scheduling.tasks import solve_network
from opencdmo.web.management.commands import worker
from tests.conftest import World, build_world

BIOREACTOR, PURIFICATION = "USP 1 / BR-1", "DSP 1"


def _plan_documents(product: str, dues_h: list[int]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Lots of ``product``: production on one bioreactor, then purification, each lot due (and
    planned to end) at its hour."""
    batches: list[dict[str, Any]] = []
    placed: list[dict[str, Any]] = []
    for number, due_h in enumerate(dues_h, start=1):
        lot = f"{product}-{number}"
        batches += [
            {
                "id": f"{lot}-production",
                "product": product,
                "options": [{"suite": BIOREACTOR, "duration_h": 336}],
            },
            {
                "id": f"{lot}-purification",
                "product": product,
                "options": [{"suite": PURIFICATION, "duration_h": 120}],
                "upstream": f"{lot}-production",
                "due_h": due_h,
            },
        ]
        placed += [
            {"batch": f"{lot}-production", "product": product, "suite": BIOREACTOR,
             "start_h": due_h - 456, "end_h": due_h - 120},
            {"batch": f"{lot}-purification", "product": product, "suite": PURIFICATION,
             "start_h": due_h - 120, "end_h": due_h},
        ]  # fmt: skip
    instance = {
        "format": "opencdmo-schedule/1",
        "id": f"{product.lower()}-plan",
        "horizon_h": 12_000,
        "suites": [{"name": BIOREACTOR}, {"name": PURIFICATION}],
        "products": [{"name": product}],
        "batches": batches,
    }
    return instance, {"status": "feasible", "schedule": {"batches": placed}}


@pytest.fixture
def network_world(db: Any) -> World:
    """Alpha-bio with two sites: at the first, six lots of EX due within three weeks, more than
    its one bioreactor makes in a month (two batches); at the second, one lot of EY in month 3."""
    from opencdmo.network.models import Site

    world = build_world()
    zero = month_start(timezone.now())
    soon = int((timezone.now() - zero).total_seconds() // 3600) + 21 * 24
    with scopes_disabled():
        first = world.sites["alpha-bio"]
        second = Site.objects.create(
            owner=first.owner,
            code="alpha2",
            name="Alpha Two",
            country="DE",
            region="europe",
            city="Marburg",
            latitude=50.8,
            longitude=8.77,
        )
        world.sites["alpha-two"] = second
        for site, (product, dues) in (
            (first, ("EX", [soon] * 6)),
            (second, ("EY", [70 * 24])),
        ):
            instance, result = _plan_documents(product, dues)
            SitePlan.objects.create(
                site=site, version=1, time_zero=zero, instance=instance, result=result, reason="t"
            )
    return world


def test_two_sites_get_checked_campaign_plans_and_a_late_product_is_explained(
    network_world: World, client_for: Any
) -> None:
    planner = network_world.user("alpha-bio", "cdmo_planner")
    with caller_scope(planner):
        plan = services.queue_network_plan(actor=planner)
    assert [entry["name"] for entry in plan.instance["sites"]] == ["Alpha Bio Boston", "Alpha Two"]
    solve_network.call(plan.pk)
    with scopes_disabled():
        plan = NetworkPlan.objects.get(pk=plan.pk)
    assert plan.status == NetworkPlan.Status.SOLVED, plan.message
    for entry, solved in zip(plan.instance["sites"], plan.result["sites"], strict=True):
        problem = parse_campaign(entry["document"])
        result = solved["result"]
        solution = solution_from_document(
            problem, result["schedule"], result["objective_breakdown"]
        )
        assert check_campaign_solution(problem, solution, result["objective"]).ok, entry["name"]
        assert len(solved["months"]) == 12
    (late, *_) = plan.lateness
    assert (late["site"], late["product"]) == ("Alpha Bio Boston", "EX")
    assert "capacity" in late["causes"]
    assert all(row["product"] != "EY" for row in plan.lateness), "EY is due in month 3"

    html = client_for(planner).get("/planning/network/").content.decode()
    assert "not enough suite capacity" in html
    assert "EY: 1 in USP 1" in html
    assert 'data-testid="network-run"' in html


def test_only_the_cdmos_own_roles_see_the_network_and_only_planners_run_it(
    network_world: World, client_for: Any
) -> None:
    planner = network_world.user("alpha-bio", "cdmo_planner")
    with caller_scope(planner):
        services.queue_network_plan(actor=planner)
    qa = client_for(network_world.user("alpha-bio", "cdmo_qa"))
    page = qa.get("/planning/network/")
    assert page.status_code == 200
    assert 'data-testid="network-run"' not in page.content.decode()
    assert qa.post("/planning/network/run/").status_code == 403
    other = client_for(network_world.user("beta-pharma", "cdmo_planner")).get("/planning/network/")
    assert "Alpha Two" not in other.content.decode()
    assert "No network plan yet" in other.content.decode()
    sponsor = client_for(network_world.user("sponsor-one", "sponsor_manager"))
    assert sponsor.get("/planning/network/").status_code == 403
    with scopes_disabled():
        assert NetworkPlan.objects.count() == 1


def test_a_network_without_plans_says_so_and_stores_nothing(
    network_world: World, client_for: Any
) -> None:
    planner = client_for(network_world.user("beta-pharma", "cdmo_planner"))
    answer = planner.post("/planning/network/run/", follow=True)
    assert "None of your sites has a published plan" in answer.content.decode()
    with scopes_disabled():
        assert not NetworkPlan.objects.exists()


def test_month_one_starts_on_the_first_of_the_month() -> None:
    moment = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)
    assert month_start(moment) == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_a_solve_whose_worker_stopped_is_queued_again_by_a_worker_not_by_the_page(
    network_world: World, client_for: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the page changes nothing; the next lost-jobs pass of any worker queues the
    solve again."""
    planner = network_world.user("alpha-bio", "cdmo_planner")
    with caller_scope(planner):
        plan = services.queue_network_plan(actor=planner)
    long_ago = timezone.now() - dt.timedelta(seconds=10 * settings.JOB_LEASE_S)
    with scopes_disabled():
        NetworkPlan.objects.filter(pk=plan.pk).update(
            status=NetworkPlan.Status.SOLVING, attempts=1, heartbeat_at=long_ago
        )
    client_for(planner).get("/planning/network/")
    with scopes_disabled():
        assert NetworkPlan.objects.get(pk=plan.pk).status == NetworkPlan.Status.SOLVING
    # The pass closes stale connections first; here that would close the test's transaction.
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)
    stop = threading.Event()
    stop.set()
    worker.look_after_lost_jobs(stop)
    with scopes_disabled():
        assert NetworkPlan.objects.get(pk=plan.pk).status == NetworkPlan.Status.QUEUED
