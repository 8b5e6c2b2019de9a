"""Independent checker of campaign plans: recomputes balances and profit, no solver involved."""

from __future__ import annotations

import math

from opencdmo.engines.planning.campaign.problem import CampaignProblem, Stage
from opencdmo.engines.planning.campaign.solution import CampaignSolution
from opencdmo.engines.planning.check_report import CheckReport, objective_matches

QUANTITY_TOLERANCE = 1e-5
INTEGRALITY_TOLERANCE = 1e-6


def check_campaign_solution(
    problem: CampaignProblem, solution: CampaignSolution, objective: float | None = None
) -> CheckReport:
    """Verify every constraint of ``lakhdar2005-model.md`` on a plan and recompute its profit.

    Parameters
    ----------
    problem
        The instance.
    solution
        The plan to verify.
    objective
        The objective reported with the plan, compared with the recomputed one if given.

    Returns
    -------
    CheckReport
        The recomputed profit (money) and every violation found.
    """
    tol = QUANTITY_TOLERANCE
    violations: list[str] = []
    n = problem.period_count
    cell: dict[tuple[str, int], tuple[str, bool, bool, int]] = {}
    made: dict[tuple[str, int], float] = {}
    purified: dict[tuple[str, int], float] = {}
    production = changeovers = 0.0
    for c in solution.campaigns:
        where = f"campaign {c.suite}/period {c.period}"
        suite = problem.suite_by_name.get(c.suite)
        product = problem.product_by_name.get(c.product)
        if suite is None or product is None or not 1 <= c.period <= n:
            violations.append(f"{where}: unknown suite, product or period")
            continue
        if c.product not in suite.products:
            violations.append(f"{where}: {c.product} is not qualified on {c.suite}")
        if (c.suite, c.period) in cell:
            violations.append(f"{where}: more than one product in one period (C7)")
        cell[c.suite, c.period] = (c.product, c.new_campaign, c.lead_time, c.batches)
        data = product.stage(suite.stage)
        if (
            not data.campaign_min_d - tol
            <= c.days
            <= min(data.campaign_max_d, problem.period_length_d) + tol
        ):
            violations.append(f"{where}: {c.days:g} days outside the campaign bounds (C8, C9)")
        if (
            isinstance(c.batches, bool)
            or c.batches < 0
            or abs(c.batches - round(c.batches)) > INTEGRALITY_TOLERANCE
        ):
            violations.append(f"{where}: batches {c.batches!r} is not a non-negative integer")
        if suite.stage is Stage.USP and c.lead_time != c.new_campaign:
            violations.append(f"{where}: a USP lead time applies exactly to new campaigns")
        lead = 1.0 if c.lead_time else 0.0
        expected = lead + data.rate_batches_per_d * (c.days - data.lead_time_d * lead)
        if abs(expected - c.batches) > tol:
            violations.append(f"{where}: {c.batches} batches, (C1)/(C2) give {expected:g}")
        target = made if suite.stage is Stage.USP else purified
        target[c.product, c.period] = target.get((c.product, c.period), 0.0) + c.batches
        production += product.production_cost_per_batch * c.batches
        changeovers += product.changeover_cost_per_campaign if c.new_campaign else 0.0
    for (suite_name, period), (product_name, new, lead, _) in cell.items():
        previous = cell.get((suite_name, period - 1))
        continues = previous is not None and previous[0] == product_name
        if not continues and not new:
            violations.append(
                f"campaign {suite_name}/period {period}: must start a new campaign (C3, C4)"
            )
        if problem.suite_by_name[suite_name].stage is Stage.DSP and new and not lead:
            usp_start = any(
                cell.get((s.name, period), ("", False))[0:2] == (product_name, True)
                for s in problem.usp_suites
            )
            if usp_start:
                violations.append(
                    f"campaign {suite_name}/period {period}: DSP lead time required (C5)"
                )
    rows = {(r.product, r.period): r for r in solution.products}
    if len(rows) != len(solution.products) or len(rows) != n * len(problem.products):
        violations.append("products: need exactly one row per product and period")
    sales_revenue = storage = backlog_cost = waste = 0.0
    for product in problem.products:
        crude = final = backlog = 0.0
        crude_levels: list[float] = []
        final_levels: list[float] = []
        sales_by_period: list[float] = []
        dsp_by_period: list[float] = []
        for period in problem.periods:
            row = rows.get((product.name, period))
            where = f"product {product.name}/period {period}"
            if row is None:
                violations.append(f"{where}: missing row")
                sales = usp_waste = dsp_waste = 0.0
            else:
                sales, usp_waste, dsp_waste = (
                    row.sales_batches,
                    row.usp_waste_batches,
                    row.dsp_waste_batches,
                )
            for label, value in (
                ("sales", sales),
                ("USP waste", usp_waste),
                ("DSP waste", dsp_waste),
            ):
                if value < -tol:
                    violations.append(f"{where}: negative {label} {value:g}")
            key = (product.name, period)
            crude += (
                made.get(key, 0.0)
                - purified.get(key, 0.0) / product.dsp_batches_per_usp_batch
                - usp_waste
            )
            final += purified.get(key, 0.0) - sales - dsp_waste
            backlog += problem.demand_batches(product.name, period) - sales
            if row is not None:
                for label, reported, balance in (
                    ("usp_inventory_batches (C10)", row.usp_inventory_batches, crude),
                    ("dsp_inventory_batches (C11)", row.dsp_inventory_batches, final),
                    ("backlog_batches (C15)", row.backlog_batches, backlog),
                ):
                    if abs(reported - balance) > tol:
                        violations.append(
                            f"{where}: {label} {reported:g}, balance gives {balance:g}"
                        )
            if crude < -tol or final < -tol or backlog < -tol:
                violations.append(
                    f"{where}: negative inventory or backlog (delivery before due date)"
                )
            if crude > product.usp.storage_capacity_batches + tol:
                violations.append(f"{where}: crude inventory {crude:g} above capacity (C12)")
            if final > product.dsp.storage_capacity_batches + tol:
                violations.append(f"{where}: final inventory {final:g} above capacity (C12)")
            crude_levels.append(crude)
            final_levels.append(final)
            sales_by_period.append(sales)
            dsp_by_period.append(purified.get(key, 0.0))
            sales_revenue += product.sales_price_per_batch * sales
            storage += (
                product.usp.storage_cost_per_batch_period * crude
                + product.dsp.storage_cost_per_batch_period * final
            )
            backlog_cost += product.backlog_penalty_per_batch_period * backlog
            waste += product.waste_cost_per_batch * (usp_waste + dsp_waste)
        for index in range(n):
            crude_cover = sum(
                dsp_by_period[index + 1 : min(index + 1 + product.usp.shelf_life_periods, n)]
            )
            if crude_levels[index] > crude_cover + tol:
                violations.append(
                    f"product {product.name}/period {index + 1}: crude inventory outlives its shelf life (C13)"
                )
            final_cover = sum(
                sales_by_period[index + 1 : min(index + 1 + product.dsp.shelf_life_periods, n)]
            )
            if final_levels[index] > final_cover + tol:
                violations.append(
                    f"product {product.name}/period {index + 1}: final inventory outlives its shelf life (C14)"
                )
    if problem.sites:
        violations.extend(_site_violations(problem, solution))
    profit = sales_revenue - production - changeovers - storage - backlog_cost - waste
    for label, reported_part, recomputed in (
        ("sales_revenue", solution.sales_revenue, sales_revenue),
        ("production_cost", solution.production_cost, production),
        ("changeover_cost", solution.changeover_cost, changeovers),
        ("storage_cost", solution.storage_cost, storage),
        ("backlog_cost", solution.backlog_cost, backlog_cost),
        ("waste_cost", solution.waste_cost, waste),
    ):
        if not math.isnan(reported_part) and not objective_matches(reported_part, recomputed):
            violations.append(
                f"breakdown {label}: reported {reported_part:g}, recomputed {recomputed:g}"
            )
    if objective is not None and not objective_matches(objective, profit):
        violations.append(f"objective: reported {objective:g}, recomputed {profit:g}")
    return CheckReport(objective=profit, violations=tuple(violations))


def _site_violations(problem: CampaignProblem, solution: CampaignSolution) -> list[str]:
    """Per-site crude balances, shipments on known routes, and totals matching the products rows."""
    tol = QUANTITY_TOLERANCE
    violations: list[str] = []
    leads = {(t.from_site, t.to_site): t.lead_periods for t in problem.transfers}
    n = problem.period_count
    for s in solution.shipments:
        lead = leads.get((s.from_site, s.to_site))
        if lead is None:
            violations.append(f"shipment {s.from_site}->{s.to_site}: no such route")
        elif s.period + lead > n or s.period < 1:
            violations.append(
                f"shipment {s.from_site}->{s.to_site} in period {s.period}: arrives after the horizon"
            )
        if s.batches < -tol:
            violations.append(f"shipment {s.from_site}->{s.to_site}: negative quantity")
    site_rows = {(r.product, r.site, r.period): r for r in solution.site_crude}
    product_rows = {(r.product, r.period): r for r in solution.products}
    site_of = {suite.name: suite.site for suite in problem.suites}
    for product in problem.products:
        inverse_yield = 1.0 / product.dsp_batches_per_usp_batch
        held = dict.fromkeys(problem.sites, 0.0)
        for period in problem.periods:
            total_waste = 0.0
            for site in problem.sites:
                row = site_rows.get((product.name, site, period))
                if row is None:
                    violations.append(
                        f"site crude {product.name}/{site}/period {period}: missing row"
                    )
                    continue
                change = -row.waste_batches
                for c in solution.campaigns:
                    if (
                        c.product == product.name
                        and c.period == period
                        and site_of.get(c.suite) == site
                    ):
                        stage = problem.suite_by_name[c.suite].stage
                        change += c.batches if stage is Stage.USP else -c.batches * inverse_yield
                for s in solution.shipments:
                    if s.product != product.name or (s.from_site, s.to_site) not in leads:
                        continue
                    if s.from_site == site and s.period == period:
                        change -= s.batches
                    if s.to_site == site and s.period + leads[s.from_site, s.to_site] == period:
                        change += s.batches
                held[site] += change
                total_waste += row.waste_batches
                where = f"site crude {product.name}/{site}/period {period}"
                if held[site] < -tol:
                    violations.append(f"{where}: purifies crude the site does not hold")
                if abs(row.inventory_batches - held[site]) > tol:
                    violations.append(
                        f"{where}: reported {row.inventory_batches:g}, balance gives {held[site]:g}"
                    )
            in_transit = sum(
                s.batches
                for s in solution.shipments
                if s.product == product.name
                and (s.from_site, s.to_site) in leads
                and s.period <= period < s.period + leads[s.from_site, s.to_site]
            )
            total = product_rows.get((product.name, period))
            if total is not None:
                if abs(total.usp_waste_batches - total_waste) > tol:
                    violations.append(
                        f"product {product.name}/period {period}: site waste does not add up"
                    )
                if abs(total.usp_inventory_batches - sum(held.values()) - in_transit) > tol:
                    violations.append(
                        f"product {product.name}/period {period}: site crude does not add up"
                    )
    return violations
