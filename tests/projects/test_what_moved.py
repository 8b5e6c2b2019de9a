"""The project page after a breakdown: what moved in each of the sponsor's lots, and why in
words the sponsor may read (the kind of change, never the planner's reason)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django_scopes import scopes_disabled

from opencdmo.accounts.tenancy import caller_scope
from opencdmo.projects.models import Option
from opencdmo.projects.tasks import run_option
from opencdmo.scheduling import services
from opencdmo.scheduling.models import Scenario
from opencdmo.scheduling.moves import LotMove, PlanChange, StageMove, what_moved
from opencdmo.scheduling.tasks import solve_scenario
from tests.conftest import World
from tests.projects.conftest import PURIFICATION, time_zero

SECRET = "Client Zephyr's urgent lot jumped the queue"


def _awarded_project(world: World, client_for: Any) -> dict[str, Any]:
    """One batch of MAB-7 accepted at alpha-bio: production 480-816 h, purification 816-936 h
    (worked out in test_capable_to_promise), published as plan v2."""
    sponsor = client_for(world.user("sponsor-one", "sponsor_manager"))
    start = time_zero() + dt.timedelta(hours=288)
    body = {
        "new_product": {"name": "MAB-7", "modality": "mab", "phase": "phase_3"},
        "scale_l": 2000,
        "batches": 1,
        "earliest_start": start.date().isoformat(),
        "need_by": (start + dt.timedelta(days=120)).date().isoformat(),
    }
    created = sponsor.post("/api/v1/requests", json.dumps(body), content_type="application/json")
    with scopes_disabled():
        (option,) = Option.objects.filter(request_id=created.json()["id"])
    run_option.call(option.pk)
    accepted = sponsor.post(
        f"/api/v1/options/{option.pk}/accept", "{}", content_type="application/json"
    )
    assert accepted.status_code == 201, accepted.content
    return accepted.json()


def _publish(world: World, reason: str, **edit: Any) -> None:
    planner = world.user("alpha-bio", "cdmo_planner")
    with caller_scope(planner):
        scenario = services.create_scenario(world.sites["alpha-bio"], actor=planner, name="What if")
        scenario = services.edit_scenario(scenario, actor=planner, reason=reason, **edit)
        services.queue_solve(scenario, actor=planner, time_limit_s=10)
    solve_scenario.call(scenario.pk)
    with scopes_disabled():
        solved = Scenario.objects.get(pk=scenario.pk)
    assert solved.status == Scenario.Status.SOLVED, solved.message
    with caller_scope(planner):
        services.publish_scenario(solved, actor=planner, reason=reason)


def _cells(html: str, testid: str) -> list[str]:
    found = re.findall(rf'data-testid="{testid}">(.*?)</td>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in found]


def test_a_breakdown_tells_the_sponsor_what_moved_and_its_kind_not_the_reason(
    ctp_world: World, client_for: Any
) -> None:
    """DSP 1 down over [820, 850) h: the lot's purification, which may wait 48 h after its
    harvest at 816 h, starts once the unit is back."""
    project = _awarded_project(ctp_world, client_for)
    zero = time_zero()
    _publish(
        ctp_world,
        SECRET,
        edit="downtime",
        unit=PURIFICATION,
        kind="breakdown",
        start=zero + dt.timedelta(hours=820),
        end=zero + dt.timedelta(hours=850),
    )
    sponsor = client_for(ctp_world.user("sponsor-one", "sponsor_manager"))
    html = sponsor.get(f"/projects/{project['id']}/").content.decode()
    (moved,) = _cells(html, "lot-moved")
    assert re.fullmatch(r"purification \d+ h later", moved), moved
    assert _cells(html, "lot-why") == ["equipment breakdown (plan v3)"]
    assert "Zephyr" not in html, "the planner's reason may name other customers"
    assert "the award (plan version 2)" in html
    answer = sponsor.get(f"/api/v1/projects/{project['id']}")
    (move,) = answer.json()["moves"]
    assert (move["moved"], move["causes"], move["versions"]) == (
        moved,
        ["equipment breakdown"],
        [3],
    )
    assert "Zephyr" not in answer.content.decode()
    planner = client_for(ctp_world.user("alpha-bio", "cdmo_planner"))
    assert (
        "Client Zephyr&#x27;s urgent lot"
        in planner.get(f"/projects/{project['id']}/").content.decode()
    )

    _publish(ctp_world, "Customer asked", edit="due", lot="EX-1", due=zero + dt.timedelta(days=60))
    again = sponsor.get(f"/projects/{project['id']}/").content.decode()
    assert "you last looked at this project (plan version 3)" in again
    assert _cells(again, "lot-moved") == [], "a due date of another lot moved nothing of this one"


def test_each_lot_is_blamed_on_the_versions_that_moved_it() -> None:
    """Three versions: v2 moves L-1's production 27 h later (a breakdown), v3 moves L-2's
    purification to another unit (maintenance); L-3 first appears in v3."""
    zero = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def row(version: int, lot: str, stage: str, hour: int, suite: str = "A") -> dict[str, Any]:
        return {
            "plan__version": version,
            "lot": lot,
            "stage": stage,
            "suite": suite,
            "start": zero + dt.timedelta(hours=hour),
        }

    rows = [
        row(1, "L-1", "production", 0),
        row(1, "L-2", "purification", 100),
        row(2, "L-1", "production", 27),
        row(2, "L-2", "purification", 100),
        row(3, "L-1", "production", 27),
        row(3, "L-2", "purification", 100, "B"),
        row(3, "L-3", "production", 300),
    ]
    changes = {
        2: PlanChange(2, ("equipment breakdown",), "BR-2 seal", zero),
        3: PlanChange(3, ("maintenance",), "Column repack", zero),
    }
    moves = what_moved(rows, 1, 3, changes)
    assert moves == [
        LotMove(
            "L-1",
            (StageMove("production", 27, False),),
            (2,),
            ("equipment breakdown",),
            ("BR-2 seal",),
        ),
        LotMove(
            "L-2", (StageMove("purification", 0, True),), (3,), ("maintenance",), ("Column repack",)
        ),
        LotMove("L-3", (), (), (), (), added=True),
    ]
    assert [m.words() for m in moves] == [
        "production 27 h later",
        "purification to another unit",
        "new in the plan",
    ]
    assert what_moved(rows, 2, 3, changes)[0].lot == "L-2", "L-1 has not moved since v2"
