"""Lower bounds that hold in every schedule, computed without a solver.

They give the result a valid bound even when CP-SAT stops before its first bound, and the
switch count also enters the CP-SAT model as a redundant row.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from opencdmo.engines.planning.schedule.decomposition import suite_groups
from opencdmo.engines.planning.schedule.problem import (
    LATENESS_KINDS,
    ObjectiveKind,
    ScheduleBatch,
    ScheduleProblem,
)

WINDOW_READY_TIMES = 20
"""A crowded window spans at most this many distinct ready times: the bound stays near-linear,
and on the generated CDMO instance longer windows add nothing (20: 1100 in 0.05 s; 60: 1100
in 0.2 s)."""


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

    def end_of(batch: ScheduleBatch) -> int:
        if batch.id in ends:
            return ends[batch.id]
        if batch.upstream is not None:
            end_of(problem.batch_by_id[batch.upstream])
        ready = _ready_h(batch, ends)
        ends[batch.id] = min(
            problem.suite_by_name[o.suite].earliest_start(ready, o.duration_h) + o.duration_h
            for o in batch.options
        )
        return ends[batch.id]

    for batch in problem.batches:
        end_of(batch)
    return ends


def first_level_bound(problem: ScheduleProblem) -> float:
    """A lower bound on the first objective level, valid for every schedule.

    Weighted tardiness and lateness increase: each batch ends no earlier than
    :func:`earliest_ends`. Makespan: the
    latest earliest end. Changeover cost, per group of suites: the larger of
    :func:`switches_needed` times the cheapest changeover between two different products on
    its suites, and :func:`crowded_windows_bound` (which also counts the lateness of batches
    kept out of a crowded window, beyond what :func:`earliest_ends` already forces).
    Schedule changes: 0.
    """
    ends = earliest_ends(problem)
    level = problem.objective[0]
    weight = {kind: sum(t.weight for t in level if t.kind is kind) for kind in ObjectiveKind}
    bound = 0.0
    for kind in LATENESS_KINDS:
        late_from = {b.id: b.late_from_h(kind) for b in problem.batches}
        bound += weight[kind] * sum(
            b.tardiness_weight * max(0, ends[b.id] - due)
            for b in problem.batches
            if (due := late_from[b.id]) is not None
        )
    if weight[ObjectiveKind.MAKESPAN] > 0:
        bound += weight[ObjectiveKind.MAKESPAN] * max(max(ends.values()), load_bound(problem, ends))
    switch_weight = weight[ObjectiveKind.CHANGEOVER_COST]
    if switch_weight > 0:
        for suites in suite_groups(problem):
            switch_cost = switch_weight * _cheapest_switch(problem, suites)
            bound += max(
                switches_needed(problem, suites) * switch_cost,
                crowded_windows_bound(
                    problem, suites, ends, weight[ObjectiveKind.WEIGHTED_TARDINESS], switch_cost
                ),
            )
    return bound


def tails(problem: ScheduleProblem) -> dict[str, int]:
    """Least time (h) from each batch's end to the end of the last batch downstream of it."""
    children: dict[str, list[ScheduleBatch]] = {}
    for batch in problem.batches:
        if batch.upstream is not None:
            children.setdefault(batch.upstream, []).append(batch)
    found: dict[str, int] = {}

    def tail_of(batch: ScheduleBatch) -> int:
        if batch.id not in found:
            found[batch.id] = max(
                (c.min_gap_h + c.shortest_h + tail_of(c) for c in children.get(batch.id, [])),
                default=0,
            )
        return found[batch.id]

    for batch in problem.batches:
        tail_of(batch)
    return found


def load_bound(problem: ScheduleProblem, ends: dict[str, int]) -> int:
    """A lower bound on the makespan from the busiest group of suites or shared resource.

    Work that cannot start before the earliest ready time ``a`` of its batches, and whose
    batches still need at least ``b`` hours downstream when it is done, ends no earlier than
    ``a`` plus the work divided by the capacity plus ``b``. On a group of ``k`` suites, ``n``
    batches take their shortest durations and at least ``n − k`` setups of the group's
    shortest changeover; a resource of capacity ``C`` carries each use's amount times its
    length (the batch's shortest run for a whole-run use), and the last use to end is
    followed by its batch's remaining run and tail.
    """
    tail = tails(problem)
    best = 0
    for suites in suite_groups(problem):
        inside = set(suites)
        members = [b for b in problem.batches if b.options[0].suite in inside]
        if not members:
            continue
        products = {b.product for b in members}
        setup_h = min(
            problem.changeover(suite, a, b)[0]
            for suite in suites
            for a in products
            for b in products
        )
        work = sum(b.shortest_h for b in members) + max(0, len(members) - len(suites)) * setup_h
        head = min(_ready_h(b, ends) for b in members)
        best = max(best, head + -(-work // len(suites)) + min(tail[b.id] for b in members))
    for resource in problem.resources:
        energy = 0
        first: int | None = None
        after: int | None = None
        for batch in problem.batches:
            for use in batch.uses:
                if use.resource != resource.name:
                    continue
                length = batch.shortest_h if use.duration_h is None else use.duration_h
                energy += use.amount * length
                ready = _ready_h(batch, ends)
                rest = batch.shortest_h - length + tail[batch.id]
                first = ready if first is None else min(first, ready)
                after = rest if after is None else min(after, rest)
        if first is not None and after is not None:
            best = max(best, first + -(-energy // resource.capacity) + after)
    return best


@dataclass(frozen=True)
class _Ready:
    """A batch of a suite group and what waiting costs it."""

    batch: ScheduleBatch
    ready_h: int
    """No option can start it earlier: release and upstream chain."""
    shortest_h: int
    least_end_h: int
    """Its end in :func:`earliest_ends`."""


def crowded_windows_bound(
    problem: ScheduleProblem,
    suites: list[str],
    ends: dict[str, int],
    tardiness_weight: float,
    switch_cost: float,
) -> float:
    """Least switch cost plus extra lateness that crowded stretches of time force on a group.

    Take a window ``[a, e)`` and the batches of the group that cannot start before ``a`` but
    can before ``e``. Each either starts inside the window or waits until ``e``. Those that
    start inside occupy a suite during the window, and a suite that runs ``m`` products during
    it switches ``m - 1`` times inside it. With ``R`` the products of those batches and ``k``
    the suites that can take them (and are not down all window long), the window therefore
    costs at least the least, over the products ``S`` kept out, of
    ``Σ_{p∈S} wait(p) + switch_cost · max(0, |R∖S| − k)``, where ``wait(p)`` adds up, over
    ``p``'s batches, how much later starting at ``e`` makes them than :func:`earliest_ends`
    does (infinite past a deadline or the horizon). Each batch belongs to the one window its
    ready time falls in and each switch to the window it happens in, so disjoint windows add
    up; the best disjoint windows are chosen by dynamic programming over the ready times.

    Parameters
    ----------
    problem
        The instance.
    suites
        One of :func:`suite_groups`.
    ends
        :func:`earliest_ends` of the instance.
    tardiness_weight
        Weight of weighted tardiness in the level (0 when absent: waiting is then free).
    switch_cost
        Least cost of one switch on the group's suites, weighted.
    """
    inside = set(suites)
    ready = sorted(
        (
            _Ready(batch, _ready_h(batch, ends), batch.shortest_h, ends[batch.id])
            for batch in problem.batches
            if batch.options[0].suite in inside
        ),
        key=lambda item: item.ready_h,
    )
    cuts = [*sorted({item.ready_h for item in ready}), problem.horizon_h]
    # Batches ready in [cuts[i], cuts[j]) are ready[member_from[i]:member_from[j]].
    member_from = [bisect.bisect_left(ready, cut, key=lambda item: item.ready_h) for cut in cuts]
    member_from[-1] = len(ready)

    def window(first: int, last: int) -> float:
        start_h, end_h = cuts[first], cuts[last]
        waits: dict[str, float] = {}
        able: set[str] = set()
        for item in ready[member_from[first] : member_from[last]]:
            waits[item.batch.product] = waits.get(item.batch.product, 0.0) + _wait_cost(
                problem, item, end_h, tardiness_weight
            )
            able.update(o.suite for o in item.batch.options)
        free = sum(
            1
            for suite in able
            if not any(
                down_from <= start_h and end_h <= down_until
                for down_from, down_until in problem.suite_by_name[suite].blocked
            )
        )
        best = math.inf
        kept_out = 0.0
        costs = sorted(waits.values())
        for count in range(len(costs) + 1):
            best = min(best, kept_out + switch_cost * max(0, len(costs) - count - free))
            if count < len(costs):
                kept_out += costs[count]
        return best

    best_until = [0.0] * len(cuts)
    for last in range(1, len(cuts)):
        best_until[last] = best_until[last - 1]
        for first in range(max(0, last - WINDOW_READY_TIMES), last):
            best_until[last] = max(best_until[last], best_until[first] + window(first, last))
    return best_until[-1]


def _ready_h(batch: ScheduleBatch, ends: dict[str, int]) -> int:
    """Earliest start of ``batch`` on any option: its release, and the earliest end of its
    upstream batch (in ``ends``) plus the minimum gap."""
    if batch.upstream is None:
        return batch.release_h
    return max(batch.release_h, ends[batch.upstream] + batch.min_gap_h)


def _wait_cost(problem: ScheduleProblem, item: _Ready, start_h: int, weight: float) -> float:
    """Weighted lateness that starting no earlier than ``start_h`` adds to the least possible."""
    batch = item.batch
    end_h = start_h + item.shortest_h
    if end_h > problem.latest_end_h(batch):
        return math.inf
    if batch.due_h is None or weight == 0 or batch.tardiness_weight == 0:
        return 0.0
    extra = max(0, end_h - batch.due_h) - max(0, item.least_end_h - batch.due_h)
    return weight * batch.tardiness_weight * max(0, extra)


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
