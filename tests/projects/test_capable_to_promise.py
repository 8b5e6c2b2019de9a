"""From a sponsor's request to checked slot dates, an accepted option and a project."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.engines.planning.result_reader import read_result
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.projects.models import CapacityRequest, Option, Product
from opencdmo.projects.tasks import run_option
from tests.conftest import World
from tests.projects.conftest import time_zero


def _request_body(**overrides: Any) -> dict[str, Any]:
    start = time_zero() + dt.timedelta(hours=288)
    body: dict[str, Any] = {
        "new_product": {"name": "MAB-7", "modality": "mab", "phase": "phase_3"},
        "scale_l": 2000,
        "batches": 1,
        "earliest_start": start.date().isoformat(),
        "need_by": (start + dt.timedelta(days=120)).date().isoformat(),
    }
    body.update(overrides)
    return body


def _submit(client: Client, **overrides: Any) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/requests", json.dumps(_request_body(**overrides)), content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def _solve_all(request_id: int) -> None:
    with scopes_disabled():
        ids = list(Option.objects.filter(request_id=request_id).values_list("pk", flat=True))
    for option_id in ids:
        run_option.call(option_id)


def test_the_earliest_slot_is_the_one_worked_out_by_hand(ctp_world: World, client_for: Any) -> None:
    """Release at hour 288. The bioreactor is free at 432 + 48 h changeover = 480, and the
    production must start within 12 h of the seed train's end, so the seed train ends in
    [468, 480]; production 480–816; purification waits for it: 816–936 (the purification
    suite is free from 552 + 48). Alpha's only site is capable; Beta's has no purification."""
    sponsor = client_for(ctp_world.user("sponsor-one", "sponsor_manager"))
    created = _submit(sponsor)
    assert created["state"] == "submitted"
    assert created["progress"] == {"answered": 0, "sites": 1}
    assert created["screening"] == {"no suite qualified for the modality": 1}
    _solve_all(created["id"])
    state = sponsor.get(f"/api/v1/requests/{created['id']}").json()
    assert state["state"] == "options_ready"
    assert state["progress"] == {"answered": 1, "sites": 1}
    (option,) = sponsor.get(f"/api/v1/requests/{created['id']}/options").json()
    assert option["site"] == ctp_world.sites["alpha-bio"].pk
    assert option["rank"] == 1
    assert option["on_time"] is True
    assert option["price_usd"] == 1_000_000
    zero = time_zero()
    stages = {s["stage"]: s for s in option["batches"][0]["stages"]}
    hours = {
        name: (
            (dt.datetime.fromisoformat(s["start"]) - zero) / dt.timedelta(hours=1),
            (dt.datetime.fromisoformat(s["end"]) - zero) / dt.timedelta(hours=1),
        )
        for name, s in stages.items()
    }
    assert hours["production"] == (480, 816)
    assert hours["purification"] == (816, 936)
    assert 468 <= hours["seed"][1] <= 480
    assert dt.datetime.fromisoformat(option["batches"][0]["end"]) == zero + dt.timedelta(hours=936)


def test_the_plan_behind_an_option_rechecks_and_only_its_cdmo_reads_it(
    ctp_world: World, client_for: Any, tmp_path: Path
) -> None:
    sponsor = client_for(ctp_world.user("sponsor-one", "sponsor_manager"))
    created = _submit(sponsor, batches=2)
    _solve_all(created["id"])
    (option,) = sponsor.get(f"/api/v1/requests/{created['id']}/options").json()
    planner = client_for(ctp_world.user("alpha-bio", "cdmo_planner"))
    document = planner.get(f"/api/v1/options/{option['id']}/plan").json()
    problem = parse_schedule(document["instance"])
    (tmp_path / "result.json").write_text(json.dumps(document["result"]))
    solution, objective = read_result(tmp_path / "result.json", problem)
    assert solution is not None
    assert check_schedule_solution(problem, solution, objective).ok  # type: ignore[arg-type]
    assert dt.datetime.fromisoformat(document["time_zero"]) == time_zero()
    site = ctp_world.sites["alpha-bio"].pk
    for caller in (sponsor, client_for(ctp_world.user("beta-pharma", "cdmo_planner"))):
        assert caller.get(f"/api/v1/options/{option['id']}/plan").status_code == 404
        assert caller.get(f"/api/v1/sites/{site}/plan").status_code == 404
    assert planner.get(f"/api/v1/sites/{site}/plan").json()["version"] == 1


def test_another_sponsor_sees_neither_the_request_nor_its_options(
    ctp_world: World, client_for: Any
) -> None:
    created = _submit(client_for(ctp_world.user("sponsor-one", "sponsor_manager")))
    _solve_all(created["id"])
    other = client_for(ctp_world.user("sponsor-two", "sponsor_manager"))
    assert other.get(f"/api/v1/requests/{created['id']}").status_code == 404
    assert other.get(f"/api/v1/requests/{created['id']}/options").status_code == 404
    assert other.get("/api/v1/requests").json() == []


def test_accepting_an_option_reserves_the_batches_and_opens_the_project(
    ctp_world: World, client_for: Any
) -> None:
    sponsor = client_for(ctp_world.user("sponsor-one", "sponsor_manager"))
    created = _submit(sponsor, batches=2)
    _solve_all(created["id"])
    (option,) = sponsor.get(f"/api/v1/requests/{created['id']}/options").json()
    accepted = sponsor.post(
        f"/api/v1/options/{option['id']}/accept", "{}", content_type="application/json"
    )
    assert accepted.status_code == 201, accepted.content
    project = accepted.json()
    assert project["cdmo"] == "alpha-bio"
    lots = {b["lot"] for b in project["batches"]}
    assert lots == {f"R{created['id']}-1", f"R{created['id']}-2"}
    assert {b["plan_version"] for b in project["batches"]} == {2}
    assert sponsor.get(f"/api/v1/projects/{project['id']}").status_code == 200
    other = client_for(ctp_world.user("sponsor-two", "sponsor_manager"))
    assert other.get(f"/api/v1/projects/{project['id']}").status_code == 404
    planner = client_for(ctp_world.user("alpha-bio", "cdmo_planner"))
    plan = planner.get(f"/api/v1/sites/{ctp_world.sites['alpha-bio'].pk}/plan").json()
    assert plan["version"] == 2
    placed = {b["batch"]: b for b in plan["result"]["schedule"]["batches"]}
    last = f"R{created['id']}-2-purification"
    due = {b["id"]: b.get("due_h") for b in plan["instance"]["batches"]}
    assert due[last] == placed[last]["end_h"], "an accepted batch is due when it was promised"
    own = {b["id"]: b for b in plan["instance"]["batches"]}["EX-1-purification"]
    assert "deadline_h" not in own, "the option's bound on the plan's own batches is not kept"
    assert own.get("tardiness_weight", 1) == 1
    again = sponsor.post(
        f"/api/v1/options/{option['id']}/accept", "{}", content_type="application/json"
    )
    assert again.status_code == 400


def test_bad_requests_name_the_field(ctp_world: World, client_for: Any) -> None:
    sponsor = client_for(ctp_world.user("sponsor-one", "sponsor_manager"))
    past = _request_body(earliest_start="2020-01-01")
    answer = sponsor.post("/api/v1/requests", json.dumps(past), content_type="application/json")
    assert answer.status_code == 400
    assert "earliest_start" in answer.json()["errors"]
    zero = _request_body(batches=0)
    answer = sponsor.post("/api/v1/requests", json.dumps(zero), content_type="application/json")
    assert answer.status_code == 422
    huge = _request_body(scale_l=100000)
    answer = sponsor.post("/api/v1/requests", json.dumps(huge), content_type="application/json")
    assert answer.status_code == 400
    assert "scale_l" in answer.json()["errors"]
    with scopes_disabled():
        assert not Product.objects.exists(), "a refused request left its new product behind"
    planner = client_for(ctp_world.user("alpha-bio", "cdmo_planner"))
    body = json.dumps(_request_body())
    assert (
        planner.post("/api/v1/requests", body, content_type="application/json").status_code == 403
    )


def test_screening_reads_all_sites_in_a_fixed_number_of_queries(ctp_world: World) -> None:
    """Sites, approvals, suites, equipment and qualifications: one query each, however many
    sites the network has."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opencdmo.network.models import Site
    from opencdmo.projects.services import screen_sites

    with scopes_disabled():
        product = Product(modality="mab")
        probe = CapacityRequest(scale_l=1000, approvals=[], regions=[], countries=[])
        probe.product = product
        with CaptureQueriesContext(connection) as few:
            screen_sites(probe, [])
        template = ctp_world.sites["alpha-bio"]
        for n in range(4):
            Site.objects.create(
                owner=template.owner,
                code=f"extra{n}",
                name=f"Extra {n}",
                country="US",
                region="north_america",
                city="Boston",
                latitude=42.0,
                longitude=-71.0,
            )
        with CaptureQueriesContext(connection) as many:
            screen_sites(probe, [])
    assert len(many) == len(few)
