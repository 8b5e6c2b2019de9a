"""A campaign plan: suite assignments per period and product flows per period."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from opencdmo.engines.planning import json_fields as jf
from opencdmo.engines.planning.campaign.problem import CampaignProblem
from opencdmo.engines.planning.result import GanttBar


@dataclass(frozen=True)
class SuiteCampaign:
    """A suite making a product in a period.

    Attributes
    ----------
    suite, period, product
        Where, when (period number from 1) and what.
    days
        Days spent in the period [``CT``, ``FT``].
    new_campaign
        A new campaign starts here [``Z``, ``X``]; pays the changeover cost.
    lead_time
        The lead time applies [``Z`` for USP, ``W`` for DSP].
    batches
        Batches made [``CP``, ``FP``].
    """

    suite: str
    period: int
    product: str
    days: float
    new_campaign: bool
    lead_time: bool
    batches: int


@dataclass(frozen=True)
class ProductPeriod:
    """Sales, waste, end-of-period inventories and backlog of a product in a period (batches)."""

    product: str
    period: int
    sales_batches: float
    usp_waste_batches: float
    dsp_waste_batches: float
    usp_inventory_batches: float
    dsp_inventory_batches: float
    backlog_batches: float


@dataclass(frozen=True)
class CrudeShipment:
    """Crude batches of ``product`` leaving ``from_site`` in ``period`` for ``to_site``."""

    product: str
    from_site: str
    to_site: str
    period: int
    batches: float


@dataclass(frozen=True)
class SiteCrude:
    """Crude of ``product`` wasted at and held at ``site`` at the end of ``period`` (batches)."""

    product: str
    site: str
    period: int
    waste_batches: float
    inventory_batches: float


@dataclass(frozen=True)
class CampaignSolution:
    """A plan with its objective parts (money).

    ``shipments`` and ``site_crude`` are empty unless the problem has sites (an extension of
    the paper); then ``products[].usp_inventory_batches`` is the total over sites and transit.
    """

    campaigns: tuple[SuiteCampaign, ...]
    products: tuple[ProductPeriod, ...]
    period_length_d: float
    sales_revenue: float
    production_cost: float
    changeover_cost: float
    storage_cost: float
    backlog_cost: float
    waste_cost: float
    shipments: tuple[CrudeShipment, ...] = ()
    site_crude: tuple[SiteCrude, ...] = ()

    @property
    def profit(self) -> float:
        """Sales revenue less all costs (money)."""
        return self.sales_revenue - (
            self.production_cost
            + self.changeover_cost
            + self.storage_cost
            + self.backlog_cost
            + self.waste_cost
        )

    def breakdown(self) -> dict[str, float]:
        """Objective parts as in ``opencdmo-result/1`` §4.4."""
        return {
            "sales_revenue": self.sales_revenue,
            "production_cost": self.production_cost,
            "changeover_cost": self.changeover_cost,
            "storage_cost": self.storage_cost,
            "backlog_cost": self.backlog_cost,
            "waste_cost": self.waste_cost,
        }

    def schedule_document(self) -> dict[str, Any]:
        """The ``schedule`` object of the result document."""
        document: dict[str, Any] = {
            "campaigns": [asdict(c) for c in self.campaigns],
            "products": [asdict(p) for p in self.products],
        }
        if self.site_crude:
            document["crude_shipments"] = [asdict(s) for s in self.shipments]
            document["site_crude"] = [asdict(s) for s in self.site_crude]
        return document

    def gantt(self) -> list[GanttBar]:
        """One bar per suite and period, from the period start (days from the plan start)."""
        bars = []
        for c in sorted(self.campaigns, key=lambda c: (c.suite, c.period)):
            start_d = (c.period - 1) * self.period_length_d
            label = f"{c.product} ({c.batches} batches{', new' if c.new_campaign else ''})"
            bars.append(GanttBar(c.suite, start_d, start_d + c.days, label))
        return bars


def solution_from_document(
    problem: CampaignProblem, schedule: dict[str, Any], parts: dict[str, float]
) -> CampaignSolution:
    """The solution held in a result document's ``schedule`` and ``objective_breakdown``
    (``parts``): the reverse of :meth:`CampaignSolution.schedule_document`, for the checker."""
    campaigns = tuple(
        SuiteCampaign(
            c["suite"],
            int(c["period"]),
            c["product"],
            float(c["days"]),
            bool(c["new_campaign"]),
            bool(c["lead_time"]),
            c["batches"],
        )
        for c in jf.array(schedule["campaigns"], "schedule.campaigns")
    )
    rows = tuple(
        ProductPeriod(
            r["product"],
            int(r["period"]),
            float(r["sales_batches"]),
            float(r["usp_waste_batches"]),
            float(r["dsp_waste_batches"]),
            float(r["usp_inventory_batches"]),
            float(r["dsp_inventory_batches"]),
            float(r["backlog_batches"]),
        )
        for r in jf.array(schedule["products"], "schedule.products")
    )
    shipments = tuple(
        CrudeShipment(
            s["product"], s["from_site"], s["to_site"], int(s["period"]), float(s["batches"])
        )
        for s in schedule.get("crude_shipments", [])
    )
    site_crude = tuple(
        SiteCrude(
            s["product"],
            s["site"],
            int(s["period"]),
            float(s["waste_batches"]),
            float(s["inventory_batches"]),
        )
        for s in schedule.get("site_crude", [])
    )
    return CampaignSolution(
        campaigns=campaigns,
        products=rows,
        period_length_d=problem.period_length_d,
        sales_revenue=parts.get("sales_revenue", float("nan")),
        production_cost=parts.get("production_cost", float("nan")),
        changeover_cost=parts.get("changeover_cost", float("nan")),
        storage_cost=parts.get("storage_cost", float("nan")),
        backlog_cost=parts.get("backlog_cost", float("nan")),
        waste_cost=parts.get("waste_cost", float("nan")),
        shipments=shipments,
        site_crude=site_crude,
    )
