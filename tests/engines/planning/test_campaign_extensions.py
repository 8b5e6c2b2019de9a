"""Sites, qualification dates, crude transfers and lateness causes, with the paper as a special case."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from opencdmo.engines.planning import (
    CampaignProblem,
    SolveStatus,
    check_campaign_solution,
    parse_campaign,
    read_campaign,
    solve,
)
from opencdmo.engines.planning.campaign.lateness import LatenessCause, explain_lateness
from opencdmo.engines.planning.campaign.problem import SiteTransfer
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.json_fields import load_document
from tests.engines.planning.conftest import LAKHDAR_EXAMPLE1
from tests.engines.planning.test_campaign_solver import _one_period_document


def checked(problem: CampaignProblem) -> float:
    """Solve, verify with the checker, return the profit."""
    result = solve(problem, time_limit=60)
    assert result.status is SolveStatus.OPTIMAL
    assert result.solution is not None
    report = check_campaign_solution(problem, result.solution, result.objective)
    assert report.ok, report.violations
    assert result.objective is not None
    return result.objective


def with_sites(problem: CampaignProblem, sites: dict[str, str]) -> CampaignProblem:
    """The problem with each suite placed at ``sites[suite]``."""
    return dataclasses.replace(
        problem, suites=tuple(dataclasses.replace(s, site=sites[s.name]) for s in problem.suites)
    )


def test_one_site_is_the_paper() -> None:
    """All suites at one site: exactly the paper's optimum 490."""
    problem = with_sites(
        read_campaign(LAKHDAR_EXAMPLE1), dict.fromkeys(("i1", "i2", "j1", "j2"), "A")
    )
    assert checked(problem) == pytest.approx(490.0)


def test_instant_transfer_between_sites_is_the_paper() -> None:
    """USP at site A, DSP at site B with a zero-lead route: still 490."""
    base = with_sites(read_campaign(LAKHDAR_EXAMPLE1), {"i1": "A", "i2": "A", "j1": "B", "j2": "B"})
    problem = dataclasses.replace(base, transfers=(SiteTransfer("A", "B", 0),))
    assert checked(problem) == pytest.approx(490.0)


def test_transfer_lead_time_costs_profit() -> None:
    """A one-period shipment with one-period crude shelf life makes the plan much worse."""
    base = with_sites(read_campaign(LAKHDAR_EXAMPLE1), {"i1": "A", "i2": "A", "j1": "B", "j2": "B"})
    problem = dataclasses.replace(base, transfers=(SiteTransfer("A", "B", 1),))
    assert checked(problem) < 490.0 - 1


def test_without_route_dsp_site_gets_no_crude() -> None:
    """DSP suites at a site no route reaches purify nothing: every demand stays open."""
    problem = with_sites(_problem(), {"u": "A", "d": "B"})
    result = solve(problem, time_limit=20)
    assert result.solution is not None
    assert all(c.batches == 0 for c in result.solution.campaigns if c.suite == "d")
    assert check_campaign_solution(problem, result.solution, result.objective).ok


def test_qualification_date_blocks_early_periods() -> None:
    """A product qualified from period 4 on every USP suite is not made before period 4."""
    base = read_campaign(LAKHDAR_EXAMPLE1)
    suites = tuple(
        dataclasses.replace(s, qualified_from_period=(("p3", 4),)) if s.stage.value == "usp" else s
        for s in base.suites
    )
    problem = dataclasses.replace(base, suites=suites)
    result = solve(problem, time_limit=60)
    assert result.solution is not None
    assert not [
        c
        for c in result.solution.campaigns
        if c.product == "p3" and c.period < 4 and c.suite.startswith("i")
    ]
    assert check_campaign_solution(problem, result.solution, result.objective).ok
    assert result.objective is not None
    assert result.objective < 490.0


def test_mixed_site_declarations_are_rejected() -> None:
    """Either every suite names its site or none does."""
    base = read_campaign(LAKHDAR_EXAMPLE1)
    suites = (dataclasses.replace(base.suites[0], site="A"), *base.suites[1:])
    with pytest.raises(InstanceError, match=r"suites\[1\]\.site"):
        dataclasses.replace(base, suites=suites)


def test_lateness_is_explained_by_capacity() -> None:
    """Demand of 8 with room for 6 batches in the period: the backlog is a capacity problem."""
    document = _one_period_document()
    document["demand"][0]["batches"] = 8
    problem = parse_campaign(document)
    result = solve(problem, time_limit=20)
    assert result.solution is not None
    late = explain_lateness(problem, result.solution, time_limit=20)
    assert [(d.product, d.period, d.backlog_batches) for d in late] == [("mab", 1, 2.0)]
    assert late[0].causes == (LatenessCause.CAPACITY,)


def test_on_time_plan_needs_no_explanation() -> None:
    """A plan without backlog has nothing to explain (and runs no extra solve)."""
    problem = parse_campaign(_one_period_document())
    result = solve(problem, time_limit=20)
    assert result.solution is not None
    assert explain_lateness(problem, result.solution) == ()


def _problem() -> CampaignProblem:
    return parse_campaign(_one_period_document())


def _two_site_document(lead_periods: int) -> dict[str, Any]:
    """Example 1 with USP in Basel, DSP in Singapore and one route, as a file would hold it."""
    document = load_document(LAKHDAR_EXAMPLE1)
    for suite in document["suites"]:
        suite["site"] = "Basel" if suite["stage"] == "usp" else "Singapore"
    document["transfers"] = [
        {"from_site": "Basel", "to_site": "Singapore", "lead_periods": lead_periods}
    ]
    return document


def test_site_extension_is_read_from_the_file() -> None:
    """Sites, qualification dates and routes in the file reach the problem."""
    document = _two_site_document(1)
    document["suites"][3]["qualified_from_period"] = {"p3": 3}
    problem = parse_campaign(document)
    assert problem.sites == ("Basel", "Singapore")
    assert problem.transfers == (SiteTransfer("Basel", "Singapore", 1),)
    assert problem.suite_by_name["j2"].first_period("p3") == 3
    assert problem.suite_by_name["j2"].first_period("p1") == 1


def test_file_with_instant_route_reproduces_the_paper() -> None:
    """Two sites joined by a zero-lead route, read from JSON: still 490."""
    assert checked(parse_campaign(_two_site_document(0))) == pytest.approx(490.0)


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (
            lambda d: d["transfers"][0].update(to_site="Boston"),
            r"transfers\[0\]\.to_site",
            "unknown site 'Boston'",
        ),
        (
            lambda d: d["transfers"][0].update(lead_periods=-1),
            r"transfers\[0\]\.lead_periods",
            "",
        ),
        (
            lambda d: d["transfers"][0].update(lead_periods=0.5),
            r"transfers\[0\]\.lead_periods",
            "must be an integer",
        ),
        (
            lambda d: d["transfers"].append(dict(d["transfers"][0])),
            r"transfers\[1\]",
            "duplicate route",
        ),
        (lambda d: d["transfers"][0].pop("lead_periods"), r"transfers\[0\]\.lead_periods", ""),
        (lambda d: d["suites"][0].pop("site"), r"suites\[0\]\.site", "every suite"),
        (
            lambda d: d["suites"][2].update(qualified_from_period={"p9": 2}),
            r"suites\[2\]\.qualified_from_period\.p9",
            "not among the suite's products",
        ),
        (
            lambda d: d["suites"][2].update(qualified_from_period={"p1": 0}),
            r"suites\[2\]\.qualified_from_period\.p1",
            "",
        ),
        (
            lambda d: d["suites"][2].update(qualified_from_period=[["p1", 2]]),
            r"suites\[2\]\.qualified_from_period",
            "must be an object",
        ),
        (lambda d: d["suites"][2].update(site=7), r"suites\[2\]\.site", "must be a string"),
    ],
)
def test_bad_extension_fields_are_named(
    change: Callable[[dict[str, Any]], object], path: str, reason: str
) -> None:
    """Each malformed extension field is rejected with its JSON path and the reason."""
    document = _two_site_document(1)
    change(document)
    with pytest.raises(InstanceError, match=path) as error:
        parse_campaign(document, source="net.json")
    assert reason in str(error.value)
    assert "net.json" in str(error.value)
