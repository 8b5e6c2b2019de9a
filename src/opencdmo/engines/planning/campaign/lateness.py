"""Why is a demand late? Re-solve with one family of limits lifted at a time and compare."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from opencdmo.engines.planning.campaign.problem import CampaignProblem, CampaignSuite, SiteTransfer
from opencdmo.engines.planning.campaign.solution import CampaignSolution
from opencdmo.engines.planning.campaign.solver import solve_campaign

BACKLOG_TOLERANCE = 1e-6
UNLIMITED_STORAGE_BATCHES = 1e6


class LatenessCause(StrEnum):
    """A family of limits that, lifted, lets a late demand be delivered earlier."""

    CAPACITY = "capacity"
    SHELF_LIFE = "shelf_life"
    STORAGE = "storage"
    QUALIFICATION = "qualification_and_transfer"
    COST = "cost"


@dataclass(frozen=True)
class LateDemand:
    """Open backlog of ``product`` at the end of ``period`` and what causes it.

    ``causes`` lists every limit whose removal reduces this backlog; ``cost`` alone means no
    single limit is to blame: delivering later is simply cheaper than producing on time.
    """

    product: str
    period: int
    backlog_batches: float
    causes: tuple[LatenessCause, ...]


def _relaxations(problem: CampaignProblem) -> dict[LatenessCause, CampaignProblem]:
    twice = tuple(
        dataclasses.replace(suite, name=f"{suite.name}+{copy}")
        for suite in problem.suites
        for copy in (1, 2)
    )
    long_life = tuple(
        dataclasses.replace(
            p,
            usp=dataclasses.replace(p.usp, shelf_life_periods=problem.period_count),
            dsp=dataclasses.replace(p.dsp, shelf_life_periods=problem.period_count),
        )
        for p in problem.products
    )
    big_store = tuple(
        dataclasses.replace(
            p,
            usp=dataclasses.replace(p.usp, storage_capacity_batches=UNLIMITED_STORAGE_BATCHES),
            dsp=dataclasses.replace(p.dsp, storage_capacity_batches=UNLIMITED_STORAGE_BATCHES),
        )
        for p in problem.products
    )
    relaxed = {
        LatenessCause.CAPACITY: dataclasses.replace(problem, suites=twice),
        LatenessCause.SHELF_LIFE: dataclasses.replace(problem, products=long_life),
        LatenessCause.STORAGE: dataclasses.replace(problem, products=big_store),
    }
    restricted = any(s.qualified_from_period for s in problem.suites) or problem.transfers
    if restricted or len(problem.sites) > 1:
        everything = tuple(p.name for p in problem.products)
        open_suites: tuple[CampaignSuite, ...] = tuple(
            dataclasses.replace(s, products=everything, qualified_from_period=())
            for s in problem.suites
        )
        routes = tuple(
            SiteTransfer(a, b, 0) for a in problem.sites for b in problem.sites if a != b
        )
        relaxed[LatenessCause.QUALIFICATION] = dataclasses.replace(
            problem, suites=open_suites, transfers=routes
        )
    return relaxed


def explain_lateness(
    problem: CampaignProblem,
    solution: CampaignSolution,
    *,
    time_limit: float = 60.0,
    threads: int = 1,
) -> tuple[LateDemand, ...]:
    """Name the limits that make each late demand late.

    For every family of limits (suite capacity, shelf life, storage capacity and, with the
    site extension, qualification and transfer lead times) the problem is re-solved with that
    family lifted: capacity doubled, shelf lives extended to the horizon, storage unlimited,
    every product qualified everywhere with instant transfers. A backlog that shrinks in the
    relaxed plan is attributed to that family.

    Parameters
    ----------
    problem
        The instance.
    solution
        The plan to explain.
    time_limit
        Seconds for each relaxed solve.
    threads
        HiGHS threads.

    Returns
    -------
    tuple[LateDemand, ...]
        One entry per product and period with open backlog, in period order.
    """
    late = [row for row in solution.products if row.backlog_batches > BACKLOG_TOLERANCE]
    if not late:
        return ()
    relaxed_backlog: dict[LatenessCause, dict[tuple[str, int], float]] = {}
    for cause, relaxed in _relaxations(problem).items():
        result = solve_campaign(relaxed, time_limit=time_limit, threads=threads)
        if result.solution is not None:
            relaxed_backlog[cause] = {
                (row.product, row.period): row.backlog_batches for row in result.solution.products
            }
    explained = []
    for row in sorted(late, key=lambda r: (r.period, r.product)):
        key = (row.product, row.period)
        causes = tuple(
            cause
            for cause, backlog in relaxed_backlog.items()
            if backlog.get(key, row.backlog_batches) < row.backlog_batches - BACKLOG_TOLERANCE
        )
        explained.append(
            LateDemand(
                row.product, row.period, row.backlog_batches, causes or (LatenessCause.COST,)
            )
        )
    return tuple(explained)
