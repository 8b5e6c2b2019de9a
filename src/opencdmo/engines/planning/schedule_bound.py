"""Lower bounds that hold in every schedule, computed without a solver.

They give the result a valid bound even when CP-SAT stops before its first bound, and the
switch count also enters the CP-SAT model as a redundant row.
"""

from __future__ import annotations

from opencdmo.engines.planning.schedule_problem import (
    ObjectiveKind,
    ScheduleBatch,
    ScheduleProblem,
)


def suite_groups(problem: ScheduleProblem) -> list[list[str]]:
    """Suites linked by batches eligible on several of them (connected components).

    Every batch runs within one group, so what a group's batches need, its suites provide.
    """
    parent = {s.name: s.name for s in problem.suites}

    def root(suite: str) -> str:
        while parent[suite] != suite:
            suite = parent[suite]
        return suite

    for batch in problem.batches:
        first = root(batch.options[0].suite)
        for option in batch.options[1:]:
            parent[root(option.suite)] = first
    members: dict[str, list[str]] = {}
    for suite in problem.suites:
        members.setdefault(root(suite.name), []).append(suite.name)
    return list(members.values())


def switches_needed(problem: ScheduleProblem, suites: list[str]) -> int:
    """Least number of product switches the group ``suites`` makes in every schedule.

    On one suite, consecutive batches of one product form a campaign of at most
    ``campaign_max_batches``. A suite holding ``n_p`` batches of product ``p`` runs at least
    ``Σ_p ⌈n_p / max_p⌉`` campaigns and switches product at least that minus one time. Summed
    over the group, with ``⌈a/m⌉ + ⌈b/m⌉ ≥ ⌈(a + b)/m⌉``, the group switches at least
    ``Σ_p ⌈N_p / max_p⌉ − k`` times, where ``N_p`` counts the group's batches of ``p`` and
    ``k`` its suites.
    """
    inside = set(suites)
    counts: dict[str, int] = {}
    for batch in problem.batches:
        if batch.options[0].suite in inside:
            counts[batch.product] = counts.get(batch.product, 0) + 1
    campaigns = 0
    for product, count in counts.items():
        longest = problem.product_by_name[product].campaign_max_batches
        campaigns += 1 if longest is None else -(-count // longest)
    return max(0, campaigns - len(suites))


def earliest_ends(problem: ScheduleProblem) -> dict[str, int]:
    """Earliest end (h) of each batch: release, upstream chain and downtimes, no capacity."""
    ends: dict[str, int] = {}
    downtimes = {s.name: s.downtimes for s in problem.suites}

    def end_of(batch: ScheduleBatch) -> int:
        if batch.id in ends:
            return ends[batch.id]
        ready = batch.release_h
        if batch.upstream is not None:
            ready = max(ready, end_of(problem.batch_by_id[batch.upstream]) + batch.min_gap_h)
        best = None
        for option in batch.options:
            start = ready
            moved = True
            while moved:
                moved = False
                for window in downtimes[option.suite]:
                    if start < window.end_h and window.start_h < start + option.duration_h:
                        start = window.end_h
                        moved = True
            end = start + option.duration_h
            best = end if best is None else min(best, end)
        assert best is not None
        ends[batch.id] = best
        return best

    for batch in problem.batches:
        end_of(batch)
    return ends


def first_level_bound(problem: ScheduleProblem) -> float:
    """A lower bound on the first objective level, valid for every schedule.

    Weighted tardiness: each batch ends no earlier than :func:`earliest_ends`. Makespan: the
    latest earliest end. Changeover cost: each group's :func:`switches_needed` times the
    cheapest changeover between two different products on its suites. Schedule changes: 0.
    """
    ends = earliest_ends(problem)
    bound = 0.0
    for term in problem.objective[0]:
        if term.kind is ObjectiveKind.WEIGHTED_TARDINESS:
            value = sum(
                b.tardiness_weight * max(0, ends[b.id] - b.due_h)
                for b in problem.batches
                if b.due_h is not None
            )
        elif term.kind is ObjectiveKind.MAKESPAN:
            value = max(ends.values())
        elif term.kind is ObjectiveKind.CHANGEOVER_COST:
            value = sum(
                switches_needed(problem, suites) * _cheapest_switch(problem, suites)
                for suites in suite_groups(problem)
            )
        else:
            value = 0.0
        bound += term.weight * value
    return bound


def _cheapest_switch(problem: ScheduleProblem, suites: list[str]) -> float:
    """Least cost of a changeover between two different products on one of ``suites``."""
    cheapest = None
    for suite in suites:
        products = sorted({b.product for b in problem.batches if b.duration_on(suite) is not None})
        for a in products:
            for b in products:
                if a != b:
                    cost = problem.changeover(suite, a, b)[1]
                    cheapest = cost if cheapest is None else min(cheapest, cost)
    return 0.0 if cheapest is None else cheapest
