"""The Lakhdar et al. (2005) campaign-planning MILP of ``lakhdar2005-model.md`` on HiGHS."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass

from opencdmo.engines.planning.campaign.problem import (
    CampaignProblem,
    SiteTransfer,
    Stage,
    StageData,
)
from opencdmo.engines.planning.campaign.solution import (
    CampaignSolution,
    CrudeShipment,
    ProductPeriod,
    SiteCrude,
    SuiteCampaign,
)
from opencdmo.engines.planning.result import Result
from opencdmo.engines.planning.solvers.control import SolveControl, stopped
from opencdmo.engines.planning.solvers.highs.model import LinearModel, maximising_result
from opencdmo.engines.planning.solvers.highs.phases import solve_in_phases
from opencdmo.engines.progress import CancelToken, ProgressCallback

_DECIMALS = 9

CAMPAIGN_HIGHS_OPTIONS: dict[str, bool | int | float | str] = {
    "mip_allow_restart": False,
    "mip_heuristic_run_rens": False,
}
"""Measured (1 thread, seed 0): the root restart and the RENS sub-MIP cost more than they
save on the Lakhdar examples: Example 1 1.9 s -> 1.1 s, Example 2 2.7 s -> 2.2 s,
Example 2-modified about the same (35.5 s -> 37 s)."""

TIGHTENED_HIGHS_OPTIONS: dict[str, bool | int | float | str] = {
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_pool_soft_limit": 50,
}
"""Settings of the searches on the tightened formulation, which wins on the small examples:
a smaller cut pool and no reduced-cost heuristic at the root. Measured (2 cores, seeds 0-7,
median): Example 1 0.41 -> 0.33 s, Example 2 1.41 -> 0.86 s (seeds 0-5). They slow the plain
formulation on Example 2-modified (seeds 0-2: 13.8 -> 16.2 s, one seed 22.7 s), whose
searches keep the defaults."""


@dataclass(frozen=True)
class _Assignment:
    """Columns of suite ``suite`` making ``product`` in ``period``.

    ``start`` is ``Z``/``X``; ``lead`` is ``Z`` for USP and ``W`` for DSP.
    """

    suite: str
    stage: Stage
    product: str
    period: int
    runs: int
    start: int
    lead: int
    days: int
    batches: int


@dataclass(frozen=True)
class _SiteColumns:
    """Columns of the site extension: crude held and wasted per site, and shipments."""

    inventory: dict[tuple[str, str, int], int]
    waste: dict[tuple[str, str, int], int]
    shipments: dict[tuple[str, SiteTransfer, int], int]


@dataclass(frozen=True)
class _Flows:
    """Columns of one product in one period."""

    sales: int
    usp_waste: int
    dsp_waste: int
    usp_inventory: int
    dsp_inventory: int
    backlog: int


def solve_campaign(
    problem: CampaignProblem,
    *,
    time_limit: float = 600.0,
    threads: int = 1,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Result[CampaignSolution]:
    """Solve a campaign-planning instance to optimality (or until the time limit).

    The suite assignments are decided first, with every other integer relaxed, then the plan is
    completed with them fixed (:func:`solve_in_phases`). Measured on Example 2-modified:
    HiGHS proves the relaxed optimum in about a third of the time the full model takes (12 s
    against 36 s), and the completion reaches it, which proves the plan optimal. With two or
    more cores, every second search runs on the formulation tightened by
    :func:`_add_lead_necessity` with :data:`TIGHTENED_HIGHS_OPTIONS`, which is much faster on
    Example 1 (0.65 -> 0.35 s) and slower on Example 2-modified, so the race takes the better
    of both.

    Parameters
    ----------
    problem
        The instance.
    time_limit
        Wall-clock limit in seconds.
    threads
        Cores to use: that many single-thread HiGHS searches, seeded ``seed, seed + 1, …``,
        race and the first to prove optimality wins (:func:`race_milp`).
    seed
        HiGHS random seed of the first search.
    progress
        Called with HiGHS's incumbent profit and upper bound as they improve, and with the
        share of the time limit used.
    cancel
        When cancelled, the searches stop within a fraction of a second and the best plan so
        far is returned, with ``cancelled`` set.

    Returns
    -------
    Result[CampaignSolution]
        Status, profit (money), upper bound, gap, time and the plan.
    """
    started = time.perf_counter()
    control = SolveControl.of(progress, cancel, time_limit_s=time_limit, maximise=True)
    model, assignments, flows, sites = _build(problem)
    formulations = [model]
    settings: list[dict[str, bool | int | float | str]] = [{}]
    if threads > 1:
        tightened = copy.deepcopy(model)
        _add_lead_necessity(problem, tightened, assignments, flows)
        formulations.append(tightened)
        settings.append(TIGHTENED_HIGHS_OPTIONS)
    outcome = solve_in_phases(
        formulations,
        [a.runs for a in assignments],
        maximise=True,
        time_limit_s=time_limit,
        searches=threads,
        seed=seed,
        options=CAMPAIGN_HIGHS_OPTIONS,
        model_options=settings,
        control=control,
    )
    solution = None
    objective = None
    if outcome.values is not None:
        values = [float(x) for x in outcome.values]
        solution = _extract(problem, assignments, flows, values)
        if sites is not None:
            solution = _with_site_crude(problem, solution, sites, values)
        objective = solution.profit
    return maximising_result(
        "campaign",
        problem.id,
        outcome,
        solution,
        objective,
        started=started,
        threads=threads,
        time_limit=time_limit,
        seed=seed,
        cancelled=stopped(control),
    )


def _batch_upper_bound(rate: float, lead_d: float, max_days: float) -> float:
    """Most batches a suite can make of a product in one period (valid bound for ``CP``/``FP``)."""
    return math.floor(
        max(rate * max_days, 1.0 + rate * (max_days - lead_d), 1.0 - rate * lead_d) + 1e-9
    )


def _add_valid_inequalities(
    model: LinearModel,
    item: _Assignment,
    data: StageData,
    max_days: float,
    changeover_cost: float,
) -> None:
    """Cuts that remove no optimal plan but tighten the relaxation.

    - A lead time on an idle suite would make ``1 − rate·lead`` batches from zero days; when that
      is negative the combination is infeasible, so ``lead ≤ runs``.
    - With ``lead ≤ runs`` the pair (runs, lead) takes only the values (0, 0), (1, 0) and
      (1, 1). (C1)/(C2) with (C8) and (C9) fix the batches to ``rate·days`` with days in
      ``[min, max]`` for (1, 0) and to ``1 + rate·(days − lead_d)`` for (1, 1), and batches
      are whole and non-negative, so they lie in ``[lo0, hi0]`` and ``[lo1, hi1]`` with the
      rounded ends of those ranges. The affine bounds ``lo0·runs − (lo0 − lo1)·lead ≤ batches
      ≤ hi0·runs − (hi0 − hi1)·lead`` take exactly these values at the three points (and 0 at
      (0, 0)), so every integer plan satisfies them; the relaxation of (C1)/(C2) only knows the
      unrounded ends.
    - A new DSP campaign on an idle suite only costs its changeover fee (and can only force a
      lead time, which an idle suite cannot take), so with a non-negative fee ``X ≤ U`` keeps
      every optimum.
    """
    rate = data.rate_batches_per_d
    if 1.0 - rate * data.lead_time_d < -1e-9:
        model.add_row(-math.inf, 0.0, [item.lead, item.runs], [1.0, -1.0])
        min_days = max(data.campaign_min_d, 0.0)
        hi0 = math.floor(rate * max_days + 1e-9)
        hi1 = math.floor(1.0 + rate * (max_days - data.lead_time_d) + 1e-9)
        lo0 = math.ceil(rate * min_days - 1e-9)
        lo1 = max(0, math.ceil(1.0 + rate * (min_days - data.lead_time_d) - 1e-9))
        model.add_row(-math.inf, 0.0, [item.batches, item.runs, item.lead], [1.0, -hi0, hi0 - hi1])
        model.add_row(0.0, math.inf, [item.batches, item.runs, item.lead], [1.0, -lo0, lo0 - lo1])
    if item.stage is Stage.DSP and changeover_cost >= 0.0:
        model.add_row(-math.inf, 0.0, [item.start, item.runs], [1.0, -1.0])


def _build(
    problem: CampaignProblem,
) -> tuple[LinearModel, list[_Assignment], dict[tuple[str, int], _Flows], _SiteColumns | None]:
    model = LinearModel()
    assignments: list[_Assignment] = []
    by_key: dict[tuple[str, str, int], _Assignment] = {}
    length_d = problem.period_length_d
    for suite in problem.suites:
        for product_name in suite.products:
            product = problem.product_by_name[product_name]
            data = product.stage(suite.stage)
            max_days = min(data.campaign_max_d, length_d)
            cost = product.production_cost_per_batch
            for period in problem.periods:
                allowed = 1.0 if period >= suite.first_period(product_name) else 0.0
                runs = model.add_var(0.0, allowed, integer=True)
                start = model.add_var(
                    0.0, allowed, -product.changeover_cost_per_campaign, integer=True
                )
                lead = (
                    start if suite.stage is Stage.USP else model.add_var(0.0, allowed, integer=True)
                )
                days = model.add_var(0.0, allowed * max(0.0, data.campaign_max_d))
                ub = _batch_upper_bound(
                    data.rate_batches_per_d, data.lead_time_d, max(max_days, 0.0)
                )
                batches = model.add_var(0.0, allowed * ub, -cost, integer=True)
                item = _Assignment(
                    suite.name, suite.stage, product_name, period, runs, start, lead, days, batches
                )
                assignments.append(item)
                by_key[suite.name, product_name, period] = item
                rate = data.rate_batches_per_d
                model.add_row(
                    0.0,
                    0.0,
                    [batches, days, lead],
                    [1.0, -rate, -(1.0 - rate * data.lead_time_d)],
                )
                _add_valid_inequalities(
                    model, item, data, max(max_days, 0.0), product.changeover_cost_per_campaign
                )
                previous = by_key.get((suite.name, product_name, period - 1))
                if previous is None:
                    model.add_row(0.0, math.inf, [start, runs], [1.0, -1.0])
                else:
                    model.add_row(0.0, math.inf, [start, runs, previous.runs], [1.0, -1.0, 1.0])
                model.add_row(0.0, math.inf, [days, runs], [1.0, -data.campaign_min_d])
                model.add_row(-math.inf, 0.0, [days, runs], [1.0, -data.campaign_max_d])
        for period in problem.periods:
            items = [by_key[suite.name, p, period] for p in suite.products]
            if not items:
                continue
            model.add_row(-math.inf, 1.0, [a.runs for a in items], [1.0] * len(items))
            model.add_row(-math.inf, length_d, [a.days for a in items], [1.0] * len(items))
            if suite.stage is Stage.DSP and problem.single_dsp_lead_time_per_suite_and_period:
                model.add_row(-math.inf, 1.0, [a.lead for a in items], [1.0] * len(items))

    usp_count = len(problem.usp_suites)
    for item in assignments:
        if item.stage is not Stage.DSP:
            continue
        usp_starts = [
            by_key[s.name, item.product, item.period].start
            for s in problem.usp_suites
            if (s.name, item.product, item.period) in by_key
        ]
        model.add_row(
            -1.0,
            math.inf,
            [item.lead, *usp_starts, item.start],
            [1.0, *([-1.0 / usp_count] * len(usp_starts)), -1.0],
        )
        # The same trigger per USP suite: identical on 0/1 values, tighter in the relaxation.
        for col in usp_starts:
            model.add_row(-1.0, math.inf, [item.lead, col, item.start], [1.0, -1.0, -1.0])

    flows: dict[tuple[str, int], _Flows] = {}
    for product in problem.products:
        for period in problem.periods:
            flows[product.name, period] = _Flows(
                sales=model.add_var(0.0, math.inf, product.sales_price_per_batch),
                usp_waste=model.add_var(0.0, math.inf, -product.waste_cost_per_batch),
                dsp_waste=model.add_var(0.0, math.inf, -product.waste_cost_per_batch),
                usp_inventory=model.add_var(
                    0.0,
                    product.usp.storage_capacity_batches,
                    -product.usp.storage_cost_per_batch_period,
                ),
                dsp_inventory=model.add_var(
                    0.0,
                    product.dsp.storage_capacity_batches,
                    -product.dsp.storage_cost_per_batch_period,
                ),
                backlog=model.add_var(0.0, math.inf, -product.backlog_penalty_per_batch_period),
            )
    for product in problem.products:
        usp_items = {
            t: [
                a
                for a in assignments
                if a.product == product.name and a.period == t and a.stage is Stage.USP
            ]
            for t in problem.periods
        }
        dsp_items = {
            t: [
                a
                for a in assignments
                if a.product == product.name and a.period == t and a.stage is Stage.DSP
            ]
            for t in problem.periods
        }
        inverse_yield = 1.0 / product.dsp_batches_per_usp_batch
        for period in problem.periods:
            now = flows[product.name, period]
            before = flows.get((product.name, period - 1))
            made = [a.batches for a in usp_items[period]]
            purified = [a.batches for a in dsp_items[period]]
            crude_cols = [now.usp_inventory, *made, *purified, now.usp_waste]
            crude_vals = [1.0, *([-1.0] * len(made)), *([inverse_yield] * len(purified)), 1.0]
            final_cols = [now.dsp_inventory, *purified, now.sales, now.dsp_waste]
            final_vals = [1.0, *([-1.0] * len(purified)), 1.0, 1.0]
            backlog_cols = [now.backlog, now.sales]
            backlog_vals = [1.0, 1.0]
            if before is not None:
                crude_cols.append(before.usp_inventory)
                crude_vals.append(-1.0)
                final_cols.append(before.dsp_inventory)
                final_vals.append(-1.0)
                backlog_cols.append(before.backlog)
                backlog_vals.append(-1.0)
            model.add_row(0.0, 0.0, crude_cols, crude_vals)
            model.add_row(0.0, 0.0, final_cols, final_vals)
            due = problem.demand_batches(product.name, period)
            model.add_row(due, due, backlog_cols, backlog_vals)
            crude_window = range(
                period + 1, min(period + product.usp.shelf_life_periods, problem.period_count) + 1
            )
            later_dsp = [a.batches for t in crude_window for a in dsp_items[t]]
            model.add_row(
                -math.inf, 0.0, [now.usp_inventory, *later_dsp], [1.0, *([-1.0] * len(later_dsp))]
            )
            final_window = range(
                period + 1, min(period + product.dsp.shelf_life_periods, problem.period_count) + 1
            )
            later_sales = [flows[product.name, t].sales for t in final_window]
            model.add_row(
                -math.inf,
                0.0,
                [now.dsp_inventory, *later_sales],
                [1.0, *([-1.0] * len(later_sales))],
            )
    sites = _add_site_crude(problem, model, assignments, flows) if problem.sites else None
    return model, assignments, flows, sites


def _add_lead_necessity(
    problem: CampaignProblem,
    model: LinearModel,
    assignments: list[_Assignment],
    flows: dict[tuple[str, int], _Flows],
) -> None:
    """Valid inequalities: a DSP campaign started without lead time needs crude that no new
    USP campaign made.

    A DSP suite that starts ``p`` in ``t`` without lead time (``X = 1``, ``W = 0``) runs at
    least ``min`` days and so makes ``m = ⌈f·min⌉ ≥ 1`` batches, which need crude. By (C5) no
    USP suite starts ``p`` in ``t``, so crude made in ``t`` comes only from USP suites that
    already ran ``p`` in ``t − 1`` (a suite that did not would be starting), and otherwise
    from the stock ``CI`` at the end of ``t − 1``, which must then hold ``m/λ`` batches. Hence
    ``W ≥ X − Σ_i Y_i,p,t−1 − λ·CI_p,t−1/m``; in period 1 this is ``W ≥ X``. An idle suite
    with ``X = 1`` is excluded by ``X ≤ U``, which keeps an optimum whenever the changeover
    fee is not negative (the only case where that row is added).
    """
    by_key = {(a.suite, a.product, a.period): a for a in assignments}
    for item in assignments:
        product = problem.product_by_name[item.product]
        least = math.ceil(product.dsp.rate_batches_per_d * product.dsp.campaign_min_d - 1e-9)
        if item.stage is not Stage.DSP or least < 1 or product.changeover_cost_per_campaign < 0:
            continue
        cols = [item.lead, item.start]
        vals = [1.0, -1.0]
        for suite in problem.usp_suites:
            before = by_key.get((suite.name, item.product, item.period - 1))
            if before is not None:
                cols.append(before.runs)
                vals.append(1.0)
        stock = flows.get((item.product, item.period - 1))
        if stock is not None:
            cols.append(stock.usp_inventory)
            vals.append(product.dsp_batches_per_usp_batch / least)
        model.add_row(0.0, math.inf, cols, vals)


def _add_site_crude(
    problem: CampaignProblem,
    model: LinearModel,
    assignments: list[_Assignment],
    flows: dict[tuple[str, int], _Flows],
) -> _SiteColumns:
    """Crude balances per site with shipments (extension of (C10)).

    A DSP suite purifies only crude held at its own site; crude shipped on a route arrives
    ``lead_periods`` later and counts as inventory (storage, cost and shelf life) in transit.
    The product's total crude (C10)-(C13) stays as in the paper, so with one site the model
    is the paper's exactly.
    """
    site_of = {s.name: s.site for s in problem.suites}
    columns = _SiteColumns({}, {}, {})
    n = problem.period_count
    for product in problem.products:
        inverse_yield = 1.0 / product.dsp_batches_per_usp_batch
        for period in problem.periods:
            for site in problem.sites:
                columns.inventory[product.name, site, period] = model.add_var()
                columns.waste[product.name, site, period] = model.add_var()
            for transfer in problem.transfers:
                if period + transfer.lead_periods <= n:
                    columns.shipments[product.name, transfer, period] = model.add_var()
        for period in problem.periods:
            for site in problem.sites:
                cols = [
                    columns.inventory[product.name, site, period],
                    columns.waste[product.name, site, period],
                ]
                vals = [1.0, 1.0]
                if period > 1:
                    cols.append(columns.inventory[product.name, site, period - 1])
                    vals.append(-1.0)
                for a in assignments:
                    if (
                        a.product == product.name
                        and a.period == period
                        and site_of[a.suite] == site
                    ):
                        cols.append(a.batches)
                        vals.append(-1.0 if a.stage is Stage.USP else inverse_yield)
                for transfer in problem.transfers:
                    leaving = columns.shipments.get((product.name, transfer, period))
                    if transfer.from_site == site and leaving is not None:
                        cols.append(leaving)
                        vals.append(1.0)
                    arriving = columns.shipments.get(
                        (product.name, transfer, period - transfer.lead_periods)
                    )
                    if transfer.to_site == site and arriving is not None:
                        cols.append(arriving)
                        vals.append(-1.0)
                model.add_row(0.0, 0.0, cols, vals)
            now = flows[product.name, period]
            in_transit = [
                col
                for (name, transfer, sent), col in columns.shipments.items()
                if name == product.name and sent <= period < sent + transfer.lead_periods
            ]
            held = [columns.inventory[product.name, site, period] for site in problem.sites]
            model.add_row(
                0.0,
                0.0,
                [now.usp_inventory, *held, *in_transit],
                [1.0, *([-1.0] * (len(held) + len(in_transit)))],
            )
            wasted = [columns.waste[product.name, site, period] for site in problem.sites]
            model.add_row(0.0, 0.0, [now.usp_waste, *wasted], [1.0, *([-1.0] * len(wasted))])
    return columns


def _extract(
    problem: CampaignProblem,
    assignments: list[_Assignment],
    flows: dict[tuple[str, int], _Flows],
    values: list[float],
) -> CampaignSolution:
    campaigns: list[SuiteCampaign] = []
    made = dict.fromkeys(flows, 0)
    purified = dict.fromkeys(flows, 0)
    production = 0.0
    changeovers = 0.0
    for item in assignments:
        if values[item.runs] < 0.5:
            continue
        product = problem.product_by_name[item.product]
        data = product.stage(item.stage)
        batches = round(values[item.batches])
        lead = values[item.lead] > 0.5
        new = values[item.start] > 0.5
        days = (batches - lead) / data.rate_batches_per_d + (data.lead_time_d if lead else 0.0)
        campaigns.append(
            SuiteCampaign(
                item.suite, item.period, item.product, round(days, _DECIMALS), new, lead, batches
            )
        )
        production += product.production_cost_per_batch * batches
        changeovers += product.changeover_cost_per_campaign if new else 0.0
        counter = made if item.stage is Stage.USP else purified
        counter[item.product, item.period] += batches
    rows: list[ProductPeriod] = []
    sales_revenue = storage = backlog_cost = waste = 0.0
    for product in problem.products:
        crude = final = backlog = 0.0
        for period in problem.periods:
            cols = flows[product.name, period]
            sales = _clean(values[cols.sales])
            usp_waste = _clean(values[cols.usp_waste])
            dsp_waste = _clean(values[cols.dsp_waste])
            key = (product.name, period)
            crude = _clean(
                crude + made[key] - purified[key] / product.dsp_batches_per_usp_batch - usp_waste
            )
            final = _clean(final + purified[key] - sales - dsp_waste)
            backlog = _clean(backlog + problem.demand_batches(product.name, period) - sales)
            rows.append(
                ProductPeriod(
                    product.name, period, sales, usp_waste, dsp_waste, crude, final, backlog
                )
            )
            sales_revenue += product.sales_price_per_batch * sales
            storage += (
                product.usp.storage_cost_per_batch_period * crude
                + product.dsp.storage_cost_per_batch_period * final
            )
            backlog_cost += product.backlog_penalty_per_batch_period * backlog
            waste += product.waste_cost_per_batch * (usp_waste + dsp_waste)
    campaigns.sort(key=lambda c: (c.period, c.suite))
    return CampaignSolution(
        campaigns=tuple(campaigns),
        products=tuple(rows),
        period_length_d=problem.period_length_d,
        sales_revenue=sales_revenue,
        production_cost=production,
        changeover_cost=changeovers,
        storage_cost=storage,
        backlog_cost=backlog_cost,
        waste_cost=waste,
    )


def _with_site_crude(
    problem: CampaignProblem, solution: CampaignSolution, sites: _SiteColumns, values: list[float]
) -> CampaignSolution:
    """Add shipments and per-site crude, the held amounts recomputed from the site balances."""
    site_of = {s.name: s.site for s in problem.suites}
    shipments = tuple(
        CrudeShipment(product, t.from_site, t.to_site, period, _clean(values[col]))
        for (product, t, period), col in sites.shipments.items()
        if _clean(values[col]) != 0.0
    )
    rows = []
    for product in problem.products:
        inverse_yield = 1.0 / product.dsp_batches_per_usp_batch
        for site in problem.sites:
            held = 0.0
            for period in problem.periods:
                waste = _clean(values[sites.waste[product.name, site, period]])
                for c in solution.campaigns:
                    if (
                        c.product == product.name
                        and c.period == period
                        and site_of[c.suite] == site
                    ):
                        stage = problem.suite_by_name[c.suite].stage
                        held += c.batches if stage is Stage.USP else -c.batches * inverse_yield
                for s in shipments:
                    if s.product == product.name and s.from_site == site and s.period == period:
                        held -= s.batches
                    lead = next(
                        t.lead_periods
                        for t in problem.transfers
                        if (t.from_site, t.to_site) == (s.from_site, s.to_site)
                    )
                    if (
                        s.product == product.name
                        and s.to_site == site
                        and s.period + lead == period
                    ):
                        held += s.batches
                held = _clean(held - waste)
                rows.append(SiteCrude(product.name, site, period, waste, held))
    return dataclasses.replace(solution, shipments=shipments, site_crude=tuple(rows))


def _clean(value: float) -> float:
    rounded = round(value, _DECIMALS)
    return 0.0 if rounded == 0.0 else rounded
