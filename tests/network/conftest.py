"""A fleet of four sites with distinct capabilities, on top of the shared two-CDMO world."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from opencdmo.network import services


@pytest.fixture
def fleet(world: Any) -> Any:
    """Adds 'Beta Singapore' and 'Alpha Cork' to Boston (2,000 L) and Munich (15,000 L).

    Singapore: 4 × 2,000 L single-use (mAb, bispecific), FDA + PMDA approvals, latest
    inspection official action (an older one had no action). Cork: a fill-finish suite and a
    20,000 L stainless suite still in qualification (AAV), so neither volume nor AAV counts.
    """
    beta, alpha = world.orgs["beta-pharma"], world.orgs["alpha-bio"]
    singapore = services.create_site(
        actor=None,
        owner=beta,
        reason="Test fleet",
        code="sg",
        name="Beta Singapore",
        country="SG",
        region="asia",
        city="Singapore",
        latitude=1.35,
        longitude=103.8,
    )
    usp = services.create_suite(
        actor=None,
        site=singapore,
        reason="Test fleet",
        modalities=["mab", "bispecific"],
        name="USP A",
        kind="upstream",
        gmp_grade="C",
    )
    for n in range(4):
        services.create_equipment(
            actor=None,
            suite=usp,
            reason="Test fleet",
            tag=f"SUB-{n}",
            kind="bioreactor_su",
            working_volume_l=2000,
        )
    for agency, day in [("FDA", dt.date(2019, 3, 1)), ("PMDA", dt.date(2021, 6, 1))]:
        services.create_approval(
            actor=None,
            site=singapore,
            reason="Test fleet",
            agency=agency,
            scope="mAb DS",
            granted_on=day,
        )
    for outcome, day in [
        ("no_action", dt.date(2023, 1, 10)),
        ("official_action", dt.date(2025, 2, 1)),
    ]:
        services.create_inspection(
            actor=None,
            site=singapore,
            reason="Test fleet",
            agency="FDA",
            inspected_on=day,
            outcome=outcome,
            observations=4,
        )
    cork = services.create_site(
        actor=None,
        owner=alpha,
        reason="Test fleet",
        code="cork",
        name="Alpha Cork",
        country="IE",
        region="europe",
        city="Cork",
        latitude=51.9,
        longitude=-8.47,
    )
    fill = services.create_suite(
        actor=None,
        site=cork,
        reason="Test fleet",
        modalities=["sterile_fill_finish"],
        name="Fill 1",
        kind="fill_finish",
        gmp_grade="A",
    )
    services.create_equipment(
        actor=None,
        suite=fill,
        reason="Test fleet",
        tag="FL-1",
        kind="fill_line",
        throughput_units_per_h=12000,
    )
    new = services.create_suite(
        actor=None,
        site=cork,
        reason="Test fleet",
        modalities=["aav"],
        name="USP new",
        kind="upstream",
        gmp_grade="C",
        status="qualification",
    )
    services.create_equipment(
        actor=None,
        suite=new,
        reason="Test fleet",
        tag="SS-1",
        kind="bioreactor_ss",
        working_volume_l=20000,
    )
    services.create_approval(
        actor=None,
        site=cork,
        reason="Test fleet",
        agency="EMA",
        scope="Sterile fill",
        granted_on=dt.date(2018, 1, 1),
    )
    services.create_inspection(
        actor=None,
        site=cork,
        reason="Test fleet",
        agency="EMA",
        inspected_on=dt.date(2024, 9, 1),
        outcome="voluntary_action",
        observations=2,
    )
    world.sites["singapore"], world.sites["cork"] = singapore, cork
    return world
