"""A generated CDMO suite-scheduling instance: 3 sites, 12 suites, 10 products, 200 batches.

Each site has two upstream trains, one purification suite and one fill-finish line. Every
product is tech-transferred to two of the three sites. 70 upstream batches each feed one
purification batch within a 48 h hold; 60 fill-finish lots run on their own. The horizon is
26 weeks, every suite has one maintenance week, changeovers depend on the product pair, and
campaigns hold at most six batches. The objective is weighted tardiness plus changeover cost.
"""

from __future__ import annotations

import dataclasses
import random

from opencdmo.engines.planning import (
    Changeover,
    Downtime,
    ObjectiveKind,
    ObjectiveTerm,
    ScheduleBatch,
    ScheduledBatch,
    ScheduleProblem,
    ScheduleProduct,
    ScheduleSuite,
    SuiteOption,
)

HORIZON_H = 26 * 7 * 24
SITES = ("Basel", "Singapore", "Boston")
STAGES = {"USP": ("USP-1", "USP-2"), "DSP": ("DSP-1",), "FF": ("FF-1",)}
CHANGEOVER_H = {"USP": 48, "DSP": 24, "FF": 12}


def generate_cdmo_instance(seed: int = 7) -> ScheduleProblem:
    """Build the instance deterministically from ``seed``.

    Parameters
    ----------
    seed
        Seed of the pseudo-random generator.

    Returns
    -------
    ScheduleProblem
        200 batches on 12 suites over 26 weeks.
    """
    rng = random.Random(seed)
    suites = []
    suite_stage: dict[str, str] = {}
    for site in SITES:
        for stage, names in STAGES.items():
            for name in names:
                suite_name = f"{site}/{name}"
                week = rng.randrange(2, 24)
                suites.append(
                    ScheduleSuite(
                        suite_name,
                        site,
                        (Downtime(week * 168, (week + 1) * 168, "maintenance"),),
                    )
                )
                suite_stage[suite_name] = stage
    products = [ScheduleProduct(f"P{n:02d}", 1, 6) for n in range(1, 11)]
    sites_of = {p.name: rng.sample(SITES, 2) for p in products}
    changeovers = []
    for stage, hours in CHANGEOVER_H.items():
        for a in products:
            for b in products:
                if a.name == b.name:
                    continue
                for site in SITES:
                    for name in STAGES[stage]:
                        changeovers.append(
                            Changeover(
                                a.name,
                                b.name,
                                hours + rng.choice((0, 12, 24)),
                                20.0,
                                f"{site}/{name}",
                            )
                        )
    batches = []
    for n in range(70):
        product = products[n % 10].name
        usp_h = rng.choice((168, 192, 216, 240))
        dsp_h = rng.choice((48, 72))
        release = rng.randrange(0, HORIZON_H // 2, 24)
        due = min(HORIZON_H - 1, release + usp_h + dsp_h + rng.randrange(240, 1600, 24))
        usp_options = tuple(
            SuiteOption(f"{site}/{name}", usp_h)
            for site in sites_of[product]
            for name in STAGES["USP"]
        )
        dsp_options = tuple(SuiteOption(f"{site}/DSP-1", dsp_h) for site in sites_of[product])
        usp_id = f"{product}-U{n:02d}"
        batches.append(ScheduleBatch(usp_id, product, usp_options, release_h=release))
        batches.append(
            ScheduleBatch(
                f"{product}-D{n:02d}",
                product,
                dsp_options,
                due_h=due,
                tardiness_weight=float(rng.choice((1, 2, 5))),
                upstream=usp_id,
                max_hold_h=48,
            )
        )
    for n in range(60):
        product = products[(3 * n) % 10].name
        ff_h = rng.choice((24, 36, 48))
        release = rng.randrange(0, HORIZON_H - 600, 24)
        options = tuple(SuiteOption(f"{site}/FF-1", ff_h) for site in sites_of[product])
        batches.append(
            ScheduleBatch(
                f"{product}-F{n:02d}",
                product,
                options,
                release_h=release,
                due_h=release + ff_h + rng.randrange(48, 400, 24),
                tardiness_weight=float(rng.choice((1, 3))),
            )
        )
    return ScheduleProblem(
        id="cdmo_3sites_12suites_200batches",
        horizon_h=HORIZON_H,
        suites=tuple(suites),
        products=tuple(products),
        batches=tuple(batches),
        changeovers=tuple(changeovers),
        objective=(
            (
                ObjectiveTerm(ObjectiveKind.WEIGHTED_TARDINESS),
                ObjectiveTerm(ObjectiveKind.CHANGEOVER_COST),
            ),
        ),
    )


BREAKDOWN_SUITE = "Basel/USP-1"
BREAKDOWN_WEEKS = 2
FROZEN_BEFORE_H = 4 * 168


def breakdown_reschedule(
    problem: ScheduleProblem, published: tuple[ScheduledBatch, ...]
) -> ScheduleProblem:
    """The instance after a breakdown: ``published`` is the plan in force, batches that start
    in the first four weeks are frozen, and bioreactor train Basel/USP-1 goes down for two
    weeks once its frozen batches are done. Cost first, then the fewest and smallest moves
    from the published plan.
    """
    down_h = max(
        [FROZEN_BEFORE_H]
        + [
            item.end_h
            for item in published
            if item.start_h < FROZEN_BEFORE_H and item.suite == BREAKDOWN_SUITE
        ]
    )
    breakdown = Downtime(down_h, down_h + BREAKDOWN_WEEKS * 168, "breakdown")
    suites = tuple(
        dataclasses.replace(suite, downtimes=(*suite.downtimes, breakdown))
        if suite.name == BREAKDOWN_SUITE
        else suite
        for suite in problem.suites
    )
    return dataclasses.replace(
        problem.with_plan_in_force(published, FROZEN_BEFORE_H),
        id=f"{problem.id}_breakdown",
        suites=suites,
        objective=(*problem.objective, (ObjectiveTerm(ObjectiveKind.SCHEDULE_CHANGES),)),
        suite_change_cost=100.0,
    )
