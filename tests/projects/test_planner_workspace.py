"""The planner's workspace: scenarios copied from the plan, edited, solved, compared, published."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from opencdmo.accounts.tenancy import caller_scope
from opencdmo.engines.planning.result_reader import read_result
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.scheduling import scenarios, services
from opencdmo.scheduling.models import PlannedBatch, Scenario
from opencdmo.scheduling.tasks import solve_scenario
from tests.conftest import World
from tests.projects.conftest import PURIFICATION, plan_documents, time_zero


def _solved(scenario: Scenario, planner: Any) -> Scenario:
    with caller_scope(planner):
        services.queue_solve(scenario, actor=planner, time_limit_s=5)
    solve_scenario.call(scenario.pk)
    with scopes_disabled():
        return Scenario.objects.get(pk=scenario.pk)


def test_edits_refuse_what_the_plan_cannot_take() -> None:
    instance, _ = plan_documents()
    with pytest.raises(scenarios.EditError, match="no unit 'USP 9'"):
        scenarios.add_downtime(instance, "USP 9", 0, 10, "breakdown")
    with pytest.raises(scenarios.EditError, match="end after it starts"):
        scenarios.add_downtime(instance, PURIFICATION, 10, 10, "breakdown")
    with pytest.raises(scenarios.EditError, match="no lot 'ZZ-1'"):
        scenarios.set_due(instance, "ZZ-1", 100)
    frozen = json.loads(json.dumps(instance))
    frozen["batches"][0]["frozen"] = True
    frozen["batches"][0]["previous"] = {"suite": "USP 1 / seed train", "start_h": 0}
    with pytest.raises(scenarios.EditError, match="has started"):
        scenarios.remove_lot(frozen, "EX-1")
    added, lot = scenarios.add_lot(instance, "EX-1", 300, 2000)
    chain = scenarios.lots(added)[lot]
    assert [b["id"] for b in chain] == [f"{lot}-seed", f"{lot}-production", f"{lot}-purification"]
    assert chain[1]["upstream"] == chain[0]["id"]
    assert chain[2]["due_h"] == 2000


def test_a_new_lot_is_solved_checked_and_published_without_moving_the_started_one(
    ctp_world: World, tmp_path: Path
) -> None:
    planner = ctp_world.user("alpha-bio", "cdmo_planner")
    site = ctp_world.sites["alpha-bio"]
    start = time_zero() + dt.timedelta(days=20)
    with caller_scope(planner):
        scenario = services.create_scenario(site, actor=planner, name="One more EX")
        scenario = services.edit_scenario(
            scenario,
            actor=planner,
            reason="Forecast up",
            edit="add",
            lot="EX-1",
            release=start,
            due=start + dt.timedelta(days=60),
        )
    assert scenario.edits == ["lot EX-N1 added like EX-1"]
    solved = _solved(scenario, planner)
    assert solved.status == Scenario.Status.SOLVED, solved.message
    assert solved.figures["moved"] == 0
    assert solved.figures["late_batches"] == 0
    problem = parse_schedule(solved.instance)
    (tmp_path / "r.json").write_text(json.dumps(solved.result))
    solution, objective = read_result(tmp_path / "r.json", problem)
    assert check_schedule_solution(problem, solution, objective).ok  # type: ignore[arg-type]
    with caller_scope(planner):
        plan = services.publish_scenario(solved, actor=planner, reason="Forecast for EX raised")
    assert plan.version == 2
    with scopes_disabled():
        lots = set(PlannedBatch.objects.filter(plan=plan).values_list("lot", flat=True))
        assert lots == {"EX-1", "EX-N1"}
        assert Scenario.objects.get(pk=solved.pk).published_version == 2
    with caller_scope(planner), pytest.raises(ValidationError):
        services.publish_scenario(solved, actor=planner, reason="twice")


def test_a_breakdown_that_breaks_a_maximum_hold_names_the_chain_and_the_downtime(
    ctp_world: World,
) -> None:
    """EX-1's harvest (hour 432) may wait at most 48 h for purification; a breakdown of the
    purification suite over [400, 500) leaves it nowhere to go."""
    planner = ctp_world.user("alpha-bio", "cdmo_planner")
    zero = time_zero()
    with caller_scope(planner):
        scenario = services.create_scenario(
            ctp_world.sites["alpha-bio"], actor=planner, name="DSP down"
        )
        scenario = services.edit_scenario(
            scenario,
            actor=planner,
            reason="Chromatography skid fault",
            edit="downtime",
            unit=PURIFICATION,
            kind="breakdown",
            start=zero + dt.timedelta(hours=400),
            end=zero + dt.timedelta(hours=500),
        )
    solved = _solved(scenario, planner)
    assert solved.status == Scenario.Status.FAILED
    assert "EX-1-purification" in solved.message
    assert "downtimes of DSP 1 (400-500 h)" in solved.message


def test_only_the_planner_edits_and_other_cdmos_see_nothing(
    ctp_world: World, client_for: Any
) -> None:
    planner = ctp_world.user("alpha-bio", "cdmo_planner")
    with caller_scope(planner):
        scenario = services.create_scenario(
            ctp_world.sites["alpha-bio"], actor=planner, name="Mine"
        )
    qa = client_for(ctp_world.user("alpha-bio", "cdmo_qa"))
    assert qa.get(f"/scenarios/{scenario.pk}/").status_code == 200
    posted = qa.post(f"/scenarios/{scenario.pk}/solve/", {"time_limit_s": "5"})
    assert posted.status_code == 403
    other = client_for(ctp_world.user("beta-pharma", "cdmo_planner"))
    assert other.get(f"/scenarios/{scenario.pk}/").status_code == 404
    sponsor = client_for(ctp_world.user("sponsor-one", "sponsor_manager"))
    assert sponsor.get(f"/scenarios/{scenario.pk}/").status_code == 403


def test_plan_lists_show_each_site_at_its_newest_version(ctp_world: World, client_for: Any) -> None:
    planner = ctp_world.user("alpha-bio", "cdmo_planner")
    instance, result = plan_documents()
    with caller_scope(planner):
        services.publish_plan(
            ctp_world.sites["alpha-bio"],
            actor=planner,
            reason="Second version",
            time_zero=time_zero(),
            instance=instance,
            result=result,
        )
    client = client_for(planner)
    for page in ("/plans/", "/"):
        html = client.get(page).content.decode()
        assert "<td>v2</td>" in html, page
        assert "<td>v1</td>" not in html, page
