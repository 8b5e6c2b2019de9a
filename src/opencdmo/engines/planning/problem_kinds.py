"""The problem classes the command line knows: how to read, solve and check each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opencdmo.engines.planning.campaign_checker import check_campaign_solution
from opencdmo.engines.planning.campaign_reader import read_campaign
from opencdmo.engines.planning.campaign_solver import solve_campaign
from opencdmo.engines.planning.check_report import CheckReport
from opencdmo.engines.planning.fjsp_checker import check_fjsp_solution
from opencdmo.engines.planning.fjsp_reader import read_fjsp
from opencdmo.engines.planning.fjsp_solver import solve_fjsp
from opencdmo.engines.planning.result import Result
from opencdmo.engines.planning.schedule_checker import check_schedule_solution
from opencdmo.engines.planning.schedule_reader import read_schedule
from opencdmo.engines.planning.schedule_solver import solve_schedule
from opencdmo.engines.planning.stn_checker import check_stn_solution
from opencdmo.engines.planning.stn_reader import read_stn
from opencdmo.engines.planning.stn_solver import solve_stn


@dataclass(frozen=True)
class ProblemKind:
    """Reader, solver and checker of one problem class."""

    name: str
    help: str
    file_help: str
    read: Callable[[str], Any]
    solve: Callable[..., Result[Any]]
    check: Callable[[Any, Any, float | None], CheckReport]


PROBLEM_KINDS: dict[str, ProblemKind] = {
    kind.name: kind
    for kind in (
        ProblemKind(
            "stn",
            "State-Task Network batch scheduling (HiGHS MILP)",
            "an opencdmo-stn/1 JSON file",
            read_stn,
            solve_stn,
            check_stn_solution,
        ),
        ProblemKind(
            "campaign",
            "Biopharmaceutical campaign planning, Lakhdar et al. 2005 (HiGHS MILP)",
            "an opencdmo-campaign/1 JSON file",
            read_campaign,
            solve_campaign,
            check_campaign_solution,
        ),
        ProblemKind(
            "schedule",
            "Suite scheduling with changeovers, downtimes, coupling and campaigns (CP-SAT)",
            "an opencdmo-schedule/1 JSON file",
            read_schedule,
            solve_schedule,
            check_schedule_solution,
        ),
        ProblemKind(
            "fjsp",
            "Flexible job shop, minimum makespan (CP-SAT)",
            "a Brandimarte .fjs text file",
            read_fjsp,
            solve_fjsp,
            check_fjsp_solution,
        ),
    )
}
