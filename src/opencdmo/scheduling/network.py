"""A CDMO's medium-term campaign plan across its sites, from the sites' plans in force.

The campaign engine (``engines/planning/campaign``, the Lakhdar et al. model) plans months,
not hours. Its instances are built from what the sites have published:

- **periods**: 12 periods of 30 days from the first of the current month (UTC), one a month;
- **suites**: every upstream suite whose bioreactors a lot of the plan in force runs on, and
  every purification suite, at its site;
- **products**: every product of the plan with an upstream and a purification stage; its
  batch rate is its bioreactors' (each makes a batch every production time plus a day's
  cleaning) and its purification suite's; a new campaign's lead time is the product
  changeover plus, upstream, the seed train;
- **qualification**: a product runs from month 1 on the suites its lots run on, on the site's
  other suites of the stage from month 4, after a technology transfer of a quarter;
- **demand**: every unfinished lot (awarded projects' lots and the other customers' alike:
  the plan is the forecast) is one batch due in the month its last stage is due, or, without
  a due date, planned to end; lots due past the twelve months are left out, counted.

Each site is solved on its own. Measured on the demo's Hoshimori network (5 sites, 12
products, 20 bioreactors and purification suites, two cores under load): one joint solve
with crude transfers between the sites found no plan in 60 s, nor without transfers, while
each site alone is solved to optimality in 3 to 14 s (the four sites with biologics in 33 s
in all). The engine's lateness explanation re-solves a site with one family of limits lifted
at a time (capacity, shelf life, storage, qualification) and names the ones that make a
product late.

Prices and costs are nominal, the same for every product (``SALES_PRICE_USD`` …): the plan
is about when and where, so lateness (a month's backlog costs a tenth of a batch's price) and
changeovers weigh, not margins. Fill-finish and single-stage processes (APIs, tablets) are not
in the campaign model and are left out, counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from opencdmo.engines.planning.campaign.lateness import LateDemand, LatenessCause
from opencdmo.engines.planning.campaign.solution import CampaignSolution
from opencdmo.network.models import Site
from opencdmo.scheduling import scenarios
from opencdmo.scheduling.models import SitePlan
from opencdmo.scheduling.resources import CHANGEOVER_COST_USD, CHANGEOVER_H, CLEANING_H, site_units

MONTHS = 12
PERIOD_D = 30
TRANSFER_MONTHS = 3
SALES_PRICE_USD = 1_000_000.0
PRODUCTION_COST_USD = 100_000.0
BACKLOG_PENALTY_USD = 100_000.0
WASTE_COST_USD = 50_000.0
STORAGE_COST_USD = 5_000.0
STORAGE_BATCHES = 50.0
HARVEST_SHELF_LIFE_MONTHS = 1
"""Harvest waits days, not months, for purification: it is used in the month it is made or
the next (a frozen intermediate)."""
SUBSTANCE_SHELF_LIFE_MONTHS = MONTHS

CAUSES_IN_WORDS = {
    LatenessCause.CAPACITY: "not enough suite capacity: more units would make it on time",
    LatenessCause.SHELF_LIFE: "the harvest or drug substance would expire if made earlier",
    LatenessCause.STORAGE: "no room to store it if made earlier",
    LatenessCause.QUALIFICATION: (
        "units that could make it on time are not qualified for it yet (technology transfer) "
        "or sit at another site"
    ),
    LatenessCause.COST: "no single limit: delivering late costs less than the changeovers",
}


@dataclass
class _Product:
    production_h: int
    purification_h: int
    seed_h: int
    bioreactors: int
    usp_suites: set[str] = field(default_factory=set)
    dsp_suites: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class SiteInstance:
    """One site's campaign document; ``left_out`` counts the lots not in it, by reason."""

    site: str
    document: dict[str, Any]
    left_out: dict[str, int]


def month_start(moment: dt.datetime) -> dt.datetime:
    """Midnight UTC of the first of ``moment``'s month."""
    utc = moment.astimezone(dt.UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_labels(zero: dt.datetime) -> list[str]:
    """``"Dec 2026"`` for each period (a period is 30 days, so a label is its month's mostly)."""
    return [f"{(zero + dt.timedelta(days=PERIOD_D * n + 15)):%b %Y}" for n in range(MONTHS)]


def site_instance(site: Site, plan: SitePlan, zero: dt.datetime, now: dt.datetime) -> SiteInstance:
    """The ``opencdmo-campaign/1`` document of ``site``'s plan in force, period 1 at ``zero``."""
    now_h = (now - zero).total_seconds() / 3600
    period_h = PERIOD_D * 24
    offset_h = (plan.time_zero - zero).total_seconds() / 3600
    units = {unit.name: unit for unit in site_units(site)}
    ends = {b["batch"]: b["end_h"] for b in (plan.result.get("schedule") or {}).get("batches", [])}
    products: dict[str, _Product] = {}
    demand: Counter[tuple[str, int]] = Counter()
    left_out: Counter[str] = Counter()
    for chain in scenarios.lots(plan.instance).values():
        stages = {b["id"].rpartition("-")[2]: b for b in chain}
        last = chain[-1]
        end_h = ends.get(last["id"])
        if end_h is None or end_h + offset_h <= now_h:
            left_out["finished"] += 1
            continue
        if "production" not in stages or "purification" not in stages:
            left_out["not made upstream and purified"] += 1
            continue
        period = max(1, -(-int(last.get("due_h", end_h) + offset_h) // period_h))
        if period > MONTHS:
            left_out["due after the twelve months"] += 1
            continue
        production, purification = stages["production"], stages["purification"]
        bioreactors = [o["suite"] for o in production["options"]]
        product = products.setdefault(
            production["product"],
            _Product(
                production["options"][0]["duration_h"],
                purification["options"][0]["duration_h"],
                stages["seed"]["options"][0]["duration_h"] if "seed" in stages else 0,
                len(bioreactors),
            ),
        )
        product.usp_suites |= {_suite_of(unit, units) for unit in bioreactors}
        product.dsp_suites |= {o["suite"] for o in purification["options"]}
        demand[production["product"], period] += 1
    suites = [
        _suite(name, "usp", products, lambda p: p.usp_suites, site.name)
        for name in sorted({u for p in products.values() for u in p.usp_suites})
    ] + [
        _suite(name, "dsp", products, lambda p: p.dsp_suites, site.name)
        for name in sorted({u for p in products.values() for u in p.dsp_suites})
    ]
    document = {
        "format": "opencdmo-campaign/1",
        "id": f"site-{site.pk}",
        "title": f"{site.name}: campaign plan",
        "periods": {"count": MONTHS, "length_d": PERIOD_D},
        "products": [_product(n, p) for n, p in sorted(products.items())],
        "suites": suites,
        "demand": [
            {"product": product, "period": period, "batches": count}
            for (product, period), count in sorted(demand.items())
        ],
        "conventions": {
            "period_model": "lakhdar2005",
            "one_product_per_suite_and_period": True,
            "dsp_lead_time_trigger": "usp_and_dsp_start_same_period",
            "crude_shelf_life_basis": "dsp_batches",
            "shelf_life_window": "truncated_at_horizon",
            "backlog": "cumulative_unmet_demand_penalised_each_period",
            "dsp_single_lead_time_per_suite_and_period": True,
        },
    }
    return SiteInstance(site.name, document, dict(left_out))


def _suite_of(unit: str, units: dict[str, Any]) -> str:
    """A production bioreactor's suite: the campaign model plans suites, not vessels."""
    known = units.get(unit)
    return known.suite if known is not None else unit.split(" / ", 1)[0]


def _suite(name: str, stage: str, products: dict[str, _Product], own: Any, site: str) -> dict:
    """A campaign suite: its own products from month 1, the site's others of its stage after
    a technology transfer."""
    qualified = {
        product_name: 1 if name in own(product) else 1 + TRANSFER_MONTHS
        for product_name, product in sorted(products.items())
    }
    return {
        "name": name,
        "stage": stage,
        "products": list(qualified),
        "site": site,
        "qualified_from_period": {p: m for p, m in qualified.items() if m > 1},
    }


def _product(name: str, product: _Product) -> dict[str, Any]:
    def stage(rate: float, lead_h: int, shelf_life: int) -> dict[str, Any]:
        return {
            "rate_batches_per_d": round(rate, 6),
            "lead_time_d": round(lead_h / 24, 3),
            "campaign_min_d": 0,
            "campaign_max_d": PERIOD_D,
            "storage_capacity_batches": STORAGE_BATCHES,
            "storage_cost_per_batch_period": STORAGE_COST_USD,
            "shelf_life_periods": shelf_life,
        }

    return {
        "name": name,
        "sales_price_per_batch": SALES_PRICE_USD,
        "production_cost_per_batch": PRODUCTION_COST_USD,
        "changeover_cost_per_campaign": CHANGEOVER_COST_USD,
        "backlog_penalty_per_batch_period": BACKLOG_PENALTY_USD,
        "waste_cost_per_batch": WASTE_COST_USD,
        "dsp_batches_per_usp_batch": 1,
        "usp": stage(
            product.bioreactors * 24 / (product.production_h + CLEANING_H),
            CHANGEOVER_H + product.seed_h,
            HARVEST_SHELF_LIFE_MONTHS,
        ),
        "dsp": stage(
            24 / (product.purification_h + CLEANING_H), CHANGEOVER_H, SUBSTANCE_SHELF_LIFE_MONTHS
        ),
    }


def lateness_in_words(late: tuple[LateDemand, ...], months: list[str]) -> list[dict[str, Any]]:
    """The engine's explanation of each late demand, as the page says it."""
    return [
        {
            "product": row.product,
            "month": months[row.period - 1],
            "backlog_batches": round(row.backlog_batches, 3),
            "causes": [str(cause) for cause in row.causes],
            "words": [CAUSES_IN_WORDS[cause] for cause in row.causes],
        }
        for row in late
    ]


@dataclass(frozen=True)
class SiteMonth:
    """One site in one month: its campaigns and the share of its suites' days they use."""

    campaigns: tuple[str, ...]
    utilisation: float


def site_months(solution: CampaignSolution, suites: int) -> list[SiteMonth]:
    """Per month: ``"Client A: 3 batches in USP-1"`` and the utilisation of the site's suites."""
    by_period: dict[int, list[str]] = defaultdict(list)
    days: defaultdict[int, float] = defaultdict(float)
    for c in sorted(solution.campaigns, key=lambda c: (c.period, c.suite, c.product)):
        if c.batches:
            by_period[c.period].append(f"{c.product}: {c.batches} in {c.suite}")
        days[c.period] += c.days
    return [
        SiteMonth(
            tuple(by_period[period]),
            round(days[period] / (max(1, suites) * solution.period_length_d), 3),
        )
        for period in range(1, MONTHS + 1)
    ]
