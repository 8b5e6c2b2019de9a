"""The scenario API: a planner's whole what-if round trip without the pages, and who may call it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.engines.planning.result_reader import read_result
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.engines.planning.schedule.solution import ScheduleSolution
from opencdmo.scheduling.models import Scenario, SitePlan
from opencdmo.scheduling.tasks import solve_scenario
from tests.conftest import World
from tests.projects.conftest import PURIFICATION, time_zero


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _at(hours: int) -> str:
    return (time_zero() + dt.timedelta(hours=hours)).isoformat()


def test_breakdown_round_trip_solves_rechecks_compares_and_publishes(
    ctp_world: World, client_for: Any, tmp_path: Path
) -> None:
    """DSP 1 breaks down over [440, 470) h: EX-1's purification, due at 600 h, may wait 48 h
    after its harvest at 432 h, so it starts at 470 h, 38 h later, and is still on time."""
    planner = client_for(ctp_world.user("alpha-bio", "cdmo_planner"))
    site = ctp_world.sites["alpha-bio"].pk
    created = _post(
        planner, f"/api/v1/sites/{site}/scenarios", {"name": "DSP fault", "reason": "Skid alarm"}
    )
    assert created.status_code == 201, created.content
    scenario = created.json()
    assert (scenario["status"], scenario["base_version"]) == ("draft", 1)
    url = f"/api/v1/scenarios/{scenario['id']}"
    breakdown = {
        "edit": "breakdown",
        "suite": PURIFICATION,
        "start": _at(440),
        "end": _at(470),
        "reason": "Chromatography skid fault",
    }
    edited = _post(planner, f"{url}/edits", breakdown)
    assert edited.status_code == 200, edited.content
    assert edited.json()["edit_kinds"] == ["breakdown"]
    assert edited.json()["edits"][0].startswith(f"breakdown of {PURIFICATION}")
    with scopes_disabled():
        reasons = set(
            AuditEntry.objects.filter(action="opencdmo.scenario.changed").values_list(
                "reason", flat=True
            )
        )
    assert "Chromatography skid fault" in reasons
    queued = _post(planner, f"{url}/solve", {"time_limit_s": 5})
    assert queued.status_code == 202, queued.content
    assert queued.json()["status"] == "queued"
    solve_scenario.call(scenario["id"])
    solved = planner.get(url).json()
    assert solved["status"] == "solved", solved["message"]
    assert solved["figures"]["late_batches"] == 0
    assert solved["figures"]["moved"] == 1

    document = planner.get(f"{url}/plan").json()
    problem = parse_schedule(document["instance"])
    (tmp_path / "result.json").write_text(json.dumps(document["result"]))
    solution, objective = read_result(tmp_path / "result.json", problem)
    assert isinstance(solution, ScheduleSolution)
    assert check_schedule_solution(problem, solution, objective).ok
    placed = {b.batch: b for b in solution.batches}
    assert (placed["EX-1-purification"].start_h, placed["EX-1-purification"].end_h) == (470, 590)

    columns = planner.get(f"/api/v1/compare?scenarios={scenario['id']}").json()
    assert [c["scenario"] for c in columns] == [None, scenario["id"]]
    assert columns[0]["version"] == 1
    assert columns[1]["figures"]["moved"] == 1

    published = _post(planner, f"{url}/publish", {"reason": "DSP 1 down for repair"})
    assert published.status_code == 201, published.content
    assert published.json()["version"] == 2
    assert published.json()["causes"] == ["equipment breakdown"]
    assert planner.get(url).json()["published_version"] == 2
    assert planner.get(f"/api/v1/sites/{site}/plan").json()["version"] == 2


def test_edits_name_the_field_and_change_nothing(ctp_world: World, client_for: Any) -> None:
    planner = client_for(ctp_world.user("alpha-bio", "cdmo_planner"))
    site = ctp_world.sites["alpha-bio"].pk
    scenario = _post(planner, f"/api/v1/sites/{site}/scenarios", {}).json()
    url = f"/api/v1/scenarios/{scenario['id']}/edits"
    cases = [
        ({"edit": "breakdown", "suite": PURIFICATION, "reason": "r"}, 400, "start"),
        ({"edit": "maintenance", "suite": "DSP 9", "start": _at(1), "end": _at(2), "reason": "r"},
         400, "suite"),
        ({"edit": "due", "lot": "ZZ-1", "due": _at(900), "reason": "r"}, 400, "lot"),
        ({"edit": "due", "lot": "EX-1", "due": _at(900), "reason": "  "}, 400, "reason"),
        ({"edit": "repaint", "lot": "EX-1", "reason": "r"}, 422, "payload.edit"),
        ({"edit": "remove", "lot": "EX-1"}, 422, "payload.reason"),
    ]  # fmt: skip
    for body, status, field in cases:
        answer = _post(planner, url, body)
        assert answer.status_code == status, (body, answer.content)
        errors = answer.json()["errors"]
        named = errors if status == 400 else [e["field"] for e in errors]
        assert field in named, (body, errors)
    with scopes_disabled():
        stored = Scenario.objects.get(pk=scenario["id"])
    assert stored.edits == []
    assert stored.status == "draft"
    assert _post(planner, "/api/v1/compare?scenarios=1,x", {}).status_code == 405
    assert "scenarios" in planner.get("/api/v1/compare?scenarios=1,x").json()["errors"]
    draft = planner.get(f"/api/v1/scenarios/{scenario['id']}/plan")
    assert draft.status_code == 400
    assert "status" in draft.json()["errors"]


def test_sponsors_and_other_cdmos_get_404_and_other_roles_only_read(
    ctp_world: World, client_for: Any
) -> None:
    site = ctp_world.sites["alpha-bio"].pk
    planner = client_for(ctp_world.user("alpha-bio", "cdmo_planner"))
    scenario = _post(planner, f"/api/v1/sites/{site}/scenarios", {"name": "Mine"}).json()
    url = f"/api/v1/scenarios/{scenario['id']}"
    for outsider in (
        ctp_world.user("sponsor-one", "sponsor_manager"),
        ctp_world.user("beta-pharma", "cdmo_planner"),
    ):
        client = client_for(outsider)
        for path in (url, f"/api/v1/sites/{site}/scenarios", f"/api/v1/compare?scenarios={scenario['id']}"):  # fmt: skip
            answer = client.get(path)
            assert answer.status_code == 404, (outsider, path)
            assert answer.json() == {"detail": "Not found."}
        assert _post(client, f"{url}/solve", {"time_limit_s": 5}).status_code == 404
    qa = client_for(ctp_world.user("alpha-bio", "cdmo_qa"))
    assert qa.get(url).status_code == 200
    assert _post(qa, f"{url}/solve", {"time_limit_s": 5}).status_code == 403
    assert _post(qa, f"/api/v1/sites/{site}/scenarios", {}).status_code == 403
    with scopes_disabled():
        assert Scenario.objects.get(pk=scenario["id"]).status == "draft"
        assert SitePlan.objects.filter(site_id=site).count() == 1


def test_the_solve_goal_is_kept_and_an_unknown_one_refused(
    ctp_world: World, client_for: Any
) -> None:
    """A solve asked to re-optimise says so on the scenario; another goal answers 422 and the
    scenario stays a draft."""
    planner = client_for(ctp_world.user("alpha-bio", "cdmo_planner"))
    site = ctp_world.sites["alpha-bio"].pk
    scenario = _post(planner, f"/api/v1/sites/{site}/scenarios", {"name": "What if"}).json()
    url = f"/api/v1/scenarios/{scenario['id']}"
    assert scenario["goal"] == "repair"
    refused = _post(planner, f"{url}/solve", {"time_limit_s": 5, "goal": "fastest"})
    assert refused.status_code == 422
    assert planner.get(url).json()["status"] == "draft"
    queued = _post(planner, f"{url}/solve", {"time_limit_s": 5, "goal": "reoptimise"})
    assert queued.status_code == 202, queued.content
    assert queued.json()["goal"] == "reoptimise"
