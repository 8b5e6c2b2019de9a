"""Biopharmaceutical medium-term campaign planning (format ``opencdmo-campaign/1``).

The model is Lakhdar et al. (2005) as defined in ``lakhdar2005-model.md``. Field names follow
the instance format, so a validation error's path is the JSON path of the offending field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from opencdmo.engines.planning import validation as v
from opencdmo.engines.planning.errors import InstanceError


class Stage(StrEnum):
    """Kind of suite: upstream (fermentation) or downstream (purification)."""

    USP = "usp"
    DSP = "dsp"


@dataclass(frozen=True)
class StageData:
    """Production, campaign and storage data of one product in one stage.

    Attributes
    ----------
    rate_batches_per_d
        Batches per day of a running campaign [USP ``r``, DSP ``f``].
    lead_time_d
        Days before the first batch of a new campaign [``α``, ``β``].
    campaign_min_d, campaign_max_d
        Bounds on the days a suite assigned to the product runs in one period.
    storage_capacity_batches
        End-of-period inventory limit (batches).
    storage_cost_per_batch_period
        Charge on every end-of-period inventory (money per batch and period).
    shelf_life_periods
        Inventory at the end of a period must be used within this many periods.
    """

    rate_batches_per_d: float
    lead_time_d: float
    campaign_min_d: float
    campaign_max_d: float
    storage_capacity_batches: float
    storage_cost_per_batch_period: float
    shelf_life_periods: int

    def __post_init__(self) -> None:
        v.positive(self.rate_batches_per_d, "rate_batches_per_d")
        v.at_least(self.lead_time_d, 0.0, "lead_time_d")
        v.at_least(self.campaign_min_d, 0.0, "campaign_min_d")
        v.finite(self.campaign_max_d, "campaign_max_d")
        v.require(
            self.campaign_max_d >= self.campaign_min_d,
            "campaign_max_d",
            f"must be ≥ campaign_min_d = {self.campaign_min_d:g}, got {self.campaign_max_d:g}",
        )
        v.at_least(self.storage_capacity_batches, 0.0, "storage_capacity_batches")
        v.finite(self.storage_cost_per_batch_period, "storage_cost_per_batch_period")
        v.whole(self.shelf_life_periods, "shelf_life_periods")
        v.at_least(self.shelf_life_periods, 0, "shelf_life_periods")


@dataclass(frozen=True)
class CampaignProduct:
    """A product with its prices, costs and stage data (money per batch unless named)."""

    name: str
    sales_price_per_batch: float
    production_cost_per_batch: float
    changeover_cost_per_campaign: float
    backlog_penalty_per_batch_period: float
    waste_cost_per_batch: float
    dsp_batches_per_usp_batch: float
    usp: StageData
    dsp: StageData

    def __post_init__(self) -> None:
        v.name(self.name, "name")
        for key in (
            "sales_price_per_batch",
            "production_cost_per_batch",
            "changeover_cost_per_campaign",
            "backlog_penalty_per_batch_period",
            "waste_cost_per_batch",
        ):
            v.finite(getattr(self, key), key)
        v.positive(self.dsp_batches_per_usp_batch, "dsp_batches_per_usp_batch")

    def stage(self, stage: Stage) -> StageData:
        """The data of ``stage``."""
        return self.usp if stage is Stage.USP else self.dsp


@dataclass(frozen=True)
class CampaignSuite:
    """A USP or DSP suite and the products qualified on it [``M_I``, ``M_J``].

    Attributes
    ----------
    name, stage, products
        As in the format.
    site
        Site the suite belongs to (extension; ``None`` in the paper's single-plant model).
    qualified_from_period
        ``(product, period)`` pairs: the product's tech transfer to this suite completes at
        the start of that period, so it cannot run here earlier (extension).
    """

    name: str
    stage: Stage
    products: tuple[str, ...]
    site: str | None = None
    qualified_from_period: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        v.name(self.name, "name")
        v.require(isinstance(self.stage, Stage), "stage", 'must be "usp" or "dsp"')
        for index, product in enumerate(self.products):
            v.name(product, f"products[{index}]")
        v.unique_names(self.products, "products", "")
        if self.site is not None:
            v.name(self.site, "site")
        for product, period in self.qualified_from_period:
            path = f"qualified_from_period.{product}"
            v.require(
                product in self.products, path, f"{product!r} is not among the suite's products"
            )
            v.whole(period, path)
            v.at_least(period, 1, path)

    def first_period(self, product: str) -> int:
        """First period in which ``product`` may run on this suite."""
        return dict(self.qualified_from_period).get(product, 1)


@dataclass(frozen=True)
class SiteTransfer:
    """Crude can be shipped from one site to another, arriving ``lead_periods`` later.

    An extension of the paper: with sites, a DSP suite purifies only crude held at its own
    site; shipping takes ``lead_periods`` (0: usable in the same period).
    """

    from_site: str
    to_site: str
    lead_periods: int

    def __post_init__(self) -> None:
        v.name(self.from_site, "from_site")
        v.name(self.to_site, "to_site")
        v.require(self.from_site != self.to_site, "to_site", "a transfer needs two different sites")
        v.whole(self.lead_periods, "lead_periods")
        v.at_least(self.lead_periods, 0, "lead_periods")


@dataclass(frozen=True)
class Demand:
    """Final (DSP) batches of ``product`` due at the end of ``period`` (numbered from 1)."""

    product: str
    period: int
    batches: float

    def __post_init__(self) -> None:
        v.name(self.product, "product")
        v.whole(self.period, "period")
        v.at_least(self.batches, 0.0, "batches")


@dataclass(frozen=True)
class CampaignProblem:
    """A campaign-planning instance.

    Attributes
    ----------
    id
        Identifier copied into the result.
    period_count
        Number of periods ``n``.
    period_length_d
        Days available per suite in each period [``L``].
    products, suites, demand
        The plant and its orders.
    single_dsp_lead_time_per_suite_and_period
        The model's switch (C6).
    transfers
        Crude shipping routes between sites (extension; needs every suite to have a site).
    """

    id: str
    period_count: int
    period_length_d: float
    products: tuple[CampaignProduct, ...]
    suites: tuple[CampaignSuite, ...]
    demand: tuple[Demand, ...]
    single_dsp_lead_time_per_suite_and_period: bool = True
    transfers: tuple[SiteTransfer, ...] = ()

    def __post_init__(self) -> None:
        v.name(self.id, "id")
        v.whole(self.period_count, "periods.count")
        v.at_least(self.period_count, 1, "periods.count")
        v.positive(self.period_length_d, "periods.length_d")
        v.require(len(self.products) >= 1, "products", "at least one product is needed")
        v.unique_names((p.name for p in self.products), "products")
        v.unique_names((s.name for s in self.suites), "suites")
        v.require(
            any(s.stage is Stage.USP for s in self.suites),
            "suites",
            "at least one USP suite is needed",
        )
        names = {p.name for p in self.products}
        for s_index, suite in enumerate(self.suites):
            for p_index, product in enumerate(suite.products):
                v.require(
                    product in names,
                    f"suites[{s_index}].products[{p_index}]",
                    f"unknown product {product!r}",
                )
        with_site = [s.site is not None for s in self.suites]
        if any(with_site) and not all(with_site):
            raise InstanceError(
                f"suites[{with_site.index(False)}].site",
                "either every suite names its site or none does",
            )
        sites = {s.site for s in self.suites if s.site is not None}
        routes: set[tuple[str, str]] = set()
        for t_index, transfer in enumerate(self.transfers):
            for key in ("from_site", "to_site"):
                site = getattr(transfer, key)
                v.require(site in sites, f"transfers[{t_index}].{key}", f"unknown site {site!r}")
            route = (transfer.from_site, transfer.to_site)
            v.require(route not in routes, f"transfers[{t_index}]", "duplicate route")
            routes.add(route)
        for d_index, entry in enumerate(self.demand):
            v.require(
                entry.product in names,
                f"demand[{d_index}].product",
                f"unknown product {entry.product!r}",
            )
            v.require(
                1 <= entry.period <= self.period_count,
                f"demand[{d_index}].period",
                f"must lie in 1 … {self.period_count}, got {entry.period}",
            )

    @cached_property
    def sites(self) -> tuple[str, ...]:
        """Sites in order of first appearance; empty in the paper's single-plant model."""
        return tuple(dict.fromkeys(s.site for s in self.suites if s.site is not None))

    @cached_property
    def periods(self) -> range:
        """Period numbers ``1 … n``."""
        return range(1, self.period_count + 1)

    @cached_property
    def product_by_name(self) -> dict[str, CampaignProduct]:
        """Products by name."""
        return {p.name: p for p in self.products}

    @cached_property
    def usp_suites(self) -> tuple[CampaignSuite, ...]:
        """The USP suites, in file order."""
        return tuple(s for s in self.suites if s.stage is Stage.USP)

    @cached_property
    def dsp_suites(self) -> tuple[CampaignSuite, ...]:
        """The DSP suites, in file order."""
        return tuple(s for s in self.suites if s.stage is Stage.DSP)

    @cached_property
    def suite_by_name(self) -> dict[str, CampaignSuite]:
        """Suites by name."""
        return {s.name: s for s in self.suites}

    def demand_batches(self, product: str, period: int) -> float:
        """Total demand of ``product`` due at the end of ``period`` (DSP batches)."""
        return sum(d.batches for d in self.demand if d.product == product and d.period == period)
