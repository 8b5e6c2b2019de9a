"""Reader of the ``opencdmo-campaign/1`` instance format and its site extension (``docs/planning_campaign_format.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opencdmo.engines.planning import json_fields as jf
from opencdmo.engines.planning.campaign.problem import (
    CampaignProblem,
    CampaignProduct,
    CampaignSuite,
    Demand,
    SiteTransfer,
    Stage,
    StageData,
)
from opencdmo.engines.planning.errors import InstanceError

CAMPAIGN_FORMAT = "opencdmo-campaign/1"
_FIXED_CONVENTIONS: dict[str, Any] = {
    "period_model": "lakhdar2005",
    "one_product_per_suite_and_period": True,
    "dsp_lead_time_trigger": "usp_and_dsp_start_same_period",
    "crude_shelf_life_basis": "dsp_batches",
    "shelf_life_window": "truncated_at_horizon",
    "backlog": "cumulative_unmet_demand_penalised_each_period",
}
_SWITCH = "dsp_single_lead_time_per_suite_and_period"
_TOP_KEYS = ("format", "id", "periods", "products", "suites", "demand", "conventions")
_INFO_KEYS = ("title", "description", "money_unit", "reference", "provenance")
_EXTENSION_KEYS = ("transfers",)
"""Optional keys beyond the shared v1 format (``docs/planning_campaign_format.md``); without them a file
is the paper's single-plant model."""
_PRODUCT_NUMBERS = (
    "sales_price_per_batch",
    "production_cost_per_batch",
    "changeover_cost_per_campaign",
    "backlog_penalty_per_batch_period",
    "waste_cost_per_batch",
    "dsp_batches_per_usp_batch",
)
_STAGE_NUMBERS = (
    "rate_batches_per_d",
    "lead_time_d",
    "campaign_min_d",
    "campaign_max_d",
    "storage_capacity_batches",
    "storage_cost_per_batch_period",
)


def read_campaign(path: Path | str) -> CampaignProblem:
    """Read an ``opencdmo-campaign/1`` file.

    Parameters
    ----------
    path
        The instance file.

    Returns
    -------
    CampaignProblem
        The validated problem.

    Raises
    ------
    InstanceError
        Naming the file, the JSON path and the reason, for any malformed or inconsistent field.
    """
    return parse_campaign(jf.load_document(path), source=str(path))


def parse_campaign(document: dict[str, Any], source: str | None = None) -> CampaignProblem:
    """Build a :class:`CampaignProblem` from a parsed ``opencdmo-campaign/1`` document.

    Parameters
    ----------
    document
        The parsed JSON object.
    source
        File name for error messages.

    Returns
    -------
    CampaignProblem
        The validated problem.
    """
    try:
        return _parse(document)
    except InstanceError as error:
        raise error.within("", source) from None


def _parse(document: dict[str, Any]) -> CampaignProblem:
    jf.format_tag(document, CAMPAIGN_FORMAT)
    jf.keys(document, "", _TOP_KEYS, (*_INFO_KEYS, *_EXTENSION_KEYS))
    conventions = jf.obj(document["conventions"], "conventions")
    jf.keys(conventions, "conventions", (*_FIXED_CONVENTIONS, _SWITCH))
    jf.conventions(
        {key: conventions[key] for key in _FIXED_CONVENTIONS}, "conventions", _FIXED_CONVENTIONS
    )
    switch = jf.boolean(conventions[_SWITCH], f"conventions.{_SWITCH}")
    periods = jf.obj(document["periods"], "periods")
    jf.keys(periods, "periods", ("count", "length_d"))
    products = jf.array(document["products"], "products", 1)
    suites = jf.array(document["suites"], "suites", 1)
    demand = jf.array(document["demand"], "demand")
    transfers = jf.array(document.get("transfers", []), "transfers")
    return jf.construct(
        CampaignProblem,
        "",
        id=jf.identifier(document["id"], "id"),
        period_count=jf.integer(periods["count"], "periods.count"),
        period_length_d=jf.real(periods["length_d"], "periods.length_d"),
        products=tuple(_product(item, f"products[{n}]") for n, item in enumerate(products)),
        suites=tuple(_suite(item, f"suites[{n}]") for n, item in enumerate(suites)),
        demand=tuple(_demand(item, f"demand[{n}]") for n, item in enumerate(demand)),
        single_dsp_lead_time_per_suite_and_period=switch,
        transfers=tuple(_transfer(item, f"transfers[{n}]") for n, item in enumerate(transfers)),
    )


def _stage(value: Any, path: str) -> StageData:
    item = jf.obj(value, path)
    jf.keys(item, path, (*_STAGE_NUMBERS, "shelf_life_periods"))
    numbers = {key: jf.real(item[key], f"{path}.{key}") for key in _STAGE_NUMBERS}
    shelf_life = jf.integer(item["shelf_life_periods"], f"{path}.shelf_life_periods")
    return jf.construct(StageData, path, shelf_life_periods=shelf_life, **numbers)


def _product(value: Any, path: str) -> CampaignProduct:
    item = jf.obj(value, path)
    jf.keys(item, path, ("name", *_PRODUCT_NUMBERS, "usp", "dsp"))
    numbers = {key: jf.real(item[key], f"{path}.{key}") for key in _PRODUCT_NUMBERS}
    return jf.construct(
        CampaignProduct,
        path,
        name=jf.string(item["name"], f"{path}.name"),
        usp=_stage(item["usp"], f"{path}.usp"),
        dsp=_stage(item["dsp"], f"{path}.dsp"),
        **numbers,
    )


def _suite(value: Any, path: str) -> CampaignSuite:
    item = jf.obj(value, path)
    jf.keys(item, path, ("name", "stage", "products"), ("site", "qualified_from_period"))
    stage = jf.string(item["stage"], f"{path}.stage")
    if stage not in ("usp", "dsp"):
        raise InstanceError(f"{path}.stage", f'must be "usp" or "dsp", got {stage!r}')
    products = jf.array(item["products"], f"{path}.products")
    site = item.get("site")
    qualified = jf.obj(item.get("qualified_from_period", {}), f"{path}.qualified_from_period")
    return jf.construct(
        CampaignSuite,
        path,
        name=jf.string(item["name"], f"{path}.name"),
        stage=Stage(stage),
        products=tuple(jf.string(p, f"{path}.products[{n}]") for n, p in enumerate(products)),
        site=None if site is None else jf.string(site, f"{path}.site"),
        qualified_from_period=tuple(
            (product, jf.integer(period, f"{path}.qualified_from_period.{product}"))
            for product, period in qualified.items()
        ),
    )


def _transfer(value: Any, path: str) -> SiteTransfer:
    item = jf.obj(value, path)
    jf.keys(item, path, ("from_site", "to_site", "lead_periods"))
    return jf.construct(
        SiteTransfer,
        path,
        from_site=jf.string(item["from_site"], f"{path}.from_site"),
        to_site=jf.string(item["to_site"], f"{path}.to_site"),
        lead_periods=jf.integer(item["lead_periods"], f"{path}.lead_periods"),
    )


def _demand(value: Any, path: str) -> Demand:
    item = jf.obj(value, path)
    jf.keys(item, path, ("product", "period", "batches"))
    return jf.construct(
        Demand,
        path,
        product=jf.string(item["product"], f"{path}.product"),
        period=jf.integer(item["period"], f"{path}.period"),
        batches=jf.real(item["batches"], f"{path}.batches"),
    )
