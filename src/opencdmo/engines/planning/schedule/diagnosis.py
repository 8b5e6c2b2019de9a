"""Why a suite-scheduling instance has no schedule: the batches and the rule that conflict.

Two steps. :func:`precheck` tests each rule on each batch and chain without a solver: the
window from the earliest start (release, upstream end plus gap, downtimes) to the latest end
(deadline, horizon, what the downstream batches need) must hold a run on some eligible suite;
a coupled batch must be able to start within its hold of the upstream's latest end; a product
with a minimum campaign length needs that many batches able to share a suite; frozen batches
must keep to their rules. Every conflict it reports is a proof: no schedule exists.

When CP-SAT proves infeasibility beyond these checks, :func:`explain_infeasibility` relaxes
one rule family at a time (deadlines, releases, coupling, gaps, downtimes, campaign lengths,
frozen places, changeover times, the horizon) and, for a family whose relaxation makes the
instance feasible, removes its batches' constraints one by one while the instance stays
infeasible: the batches left form a small set whose constraints of that family conflict.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ortools.sat.python import cp_model

from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.result import Conflict
from opencdmo.engines.planning.schedule.cpsat import build_model
from opencdmo.engines.planning.schedule.greedy import chain_roots, downstream_of, greedy_schedule
from opencdmo.engines.planning.schedule.problem import (
    Changeover,
    Resource,
    ScheduleBatch,
    ScheduleProblem,
    ScheduleProduct,
    SuiteOption,
)

CHECK_S = 2.0
"""Time limit of one feasibility check of a relaxed instance (s)."""


@dataclass(frozen=True)
class _Bound:
    """A time bound of a batch (h) and what sets it, in words."""

    value_h: int
    why: str
    downstream: str | None = None
    """The downstream batch whose needs set this latest end, if one did."""


def precheck(problem: ScheduleProblem) -> list[Conflict]:
    """Conflicts that no schedule can avoid, found rule by rule without a solver.

    Parameters
    ----------
    problem
        The instance.

    Returns
    -------
    list[Conflict]
        Empty when every batch and chain passes; each conflict names its batches and rule.
    """
    conflicts = _frozen_conflicts(problem)
    conflicts += _campaign_conflicts(problem)
    earliest, upstream_conflicts = _earliest_starts(problem)
    conflicts += upstream_conflicts
    latest = _latest_ends(problem)
    in_conflict: set[str] = set()
    for batch in reversed(_chains_first(problem)):
        bound = latest[batch.id]
        if bound.downstream in in_conflict:
            # The downstream batch's own conflict says it already.
            in_conflict.add(batch.id)
            continue
        conflict = _window_conflict(problem, batch, earliest[batch.id], bound)
        if conflict is not None:
            conflicts.append(conflict)
            in_conflict.add(batch.id)
    conflicts += _coupling_conflicts(problem, latest)
    return conflicts


def _chains_first(problem: ScheduleProblem) -> list[ScheduleBatch]:
    """Batches with every upstream batch before its downstream ones."""
    order: list[ScheduleBatch] = []
    placed: set[str] = set()

    def visit(batch: ScheduleBatch) -> None:
        if batch.id in placed:
            return
        if batch.upstream is not None:
            visit(problem.batch_by_id[batch.upstream])
        placed.add(batch.id)
        order.append(batch)

    for batch in problem.batches:
        visit(batch)
    return order


def _options(batch: ScheduleBatch) -> tuple[SuiteOption, ...]:
    """The suites a batch may use: its published one only when frozen."""
    if batch.frozen and batch.previous is not None:
        return tuple(o for o in batch.options if o.suite == batch.previous.suite)
    return batch.options


def _earliest_starts(problem: ScheduleProblem) -> tuple[dict[str, _Bound], list[Conflict]]:
    """Each batch's earliest start, from its release and its upstream batch's earliest end
    (on the suite where that comes first, after downtimes) plus the gap."""
    earliest: dict[str, _Bound] = {}
    conflicts: list[Conflict] = []
    for batch in _chains_first(problem):
        start = _Bound(batch.release_h, f"its release {batch.release_h} h")
        if batch.upstream is not None:
            upstream = problem.batch_by_id[batch.upstream]
            upstream_start = earliest.get(upstream.id)
            if upstream_start is None:
                continue
            ends = [
                problem.suite_by_name[o.suite].earliest_start(upstream_start.value_h, o.duration_h)
                + o.duration_h
                for o in _options(upstream)
            ]
            after = min(ends) + batch.min_gap_h
            if after > start.value_h:
                gap = f" + gap {batch.min_gap_h} h" if batch.min_gap_h else ""
                start = _Bound(
                    after, f"upstream {upstream.id} ends at {min(ends)} h at the earliest{gap}"
                )
        if batch.frozen and batch.previous is not None:
            frozen_h = batch.previous.start_h
            if batch.upstream is not None and start.value_h > max(frozen_h, batch.release_h):
                conflicts.append(
                    Conflict(
                        "frozen",
                        (batch.upstream, batch.id),
                        f"frozen batch {batch.id} of product {batch.product}: its start "
                        f"{frozen_h} h is before {start.why}",
                    )
                )
            start = _Bound(frozen_h, f"its frozen start {frozen_h} h")
        earliest[batch.id] = start
    return earliest, conflicts


def _latest_ends(problem: ScheduleProblem) -> dict[str, _Bound]:
    """Each batch's latest end, from its deadline and the horizon and from what its
    downstream batches need (their latest start less the gap)."""
    latest: dict[str, _Bound] = {}
    for batch in reversed(_chains_first(problem)):
        end = (
            _Bound(batch.deadline_h, f"its deadline {batch.deadline_h} h")
            if batch.deadline_h is not None and batch.deadline_h < problem.horizon_h
            else _Bound(problem.horizon_h, f"the horizon {problem.horizon_h} h")
        )
        latest[batch.id] = end
    for batch in _chains_first(problem)[::-1]:
        if batch.upstream is None:
            continue
        own = latest[batch.id]
        latest_start = own.value_h - min(o.duration_h for o in _options(batch))
        need = latest_start - batch.min_gap_h
        upstream = latest[batch.upstream]
        if need < upstream.value_h:
            latest[batch.upstream] = _Bound(
                need,
                f"{need} h, the latest end that lets downstream {batch.id} finish by "
                f"{own.why.removeprefix('its ')}",
                batch.id,
            )
            continue
    return latest


def _window_conflict(
    problem: ScheduleProblem, batch: ScheduleBatch, earliest: _Bound, latest: _Bound
) -> Conflict | None:
    """Whether some eligible suite holds the batch's run in its window; why not if none."""
    fits_without_downtime = False
    for option in _options(batch):
        if earliest.value_h + option.duration_h > latest.value_h:
            continue
        fits_without_downtime = True
        suite = problem.suite_by_name[option.suite]
        start = suite.earliest_start(earliest.value_h, option.duration_h)
        if batch.frozen:
            start = earliest.value_h if start == earliest.value_h else latest.value_h + 1
        if start + option.duration_h <= latest.value_h:
            return None
    label = f"batch {batch.id} of product {batch.product}"
    window = f"[{earliest.value_h}, {latest.value_h}) h"
    if fits_without_downtime:
        downs = "; ".join(
            f"{o.suite} is down "
            + ", ".join(
                f"{w.start_h}-{w.end_h} h ({w.reason})"
                for w in problem.suite_by_name[o.suite].downtimes
            )
            for o in _options(batch)
            if problem.suite_by_name[o.suite].downtimes
        )
        return Conflict(
            "downtime",
            (batch.id,),
            f"{label}: downtime covers the whole window {window} on every eligible suite ({downs})",
        )
    shortest = min(o.duration_h for o in _options(batch))
    if "downstream" in latest.why:
        rule = "chain"
    else:
        rule = "deadline" if "deadline" in latest.why else "horizon"
    return Conflict(
        rule,
        (batch.id,),
        f"{label}: earliest start {earliest.value_h} h ({earliest.why}) + duration "
        f"{shortest} h exceeds {latest.why}",
    )


def _coupling_conflicts(problem: ScheduleProblem, latest: dict[str, _Bound]) -> list[Conflict]:
    """Coupled batches that cannot start within their hold of the upstream's latest end."""
    conflicts = []
    for batch in problem.batches:
        if batch.upstream is None or batch.max_hold_h is None:
            continue
        own_start = max(
            batch.release_h, batch.previous.start_h if batch.frozen and batch.previous else 0
        )
        upstream_end = latest[batch.upstream]
        if own_start > upstream_end.value_h + batch.max_hold_h:
            conflicts.append(
                Conflict(
                    "coupling",
                    (batch.upstream, batch.id),
                    f"batch {batch.id} of product {batch.product}: the coupling window of "
                    f"{batch.max_hold_h} h cannot be met because it starts at {own_start} h at "
                    f"the earliest, while upstream {batch.upstream} ends by "
                    f"{upstream_end.value_h} h ({upstream_end.why})",
                )
            )
    return conflicts


def _campaign_conflicts(problem: ScheduleProblem) -> list[Conflict]:
    """Products whose minimum campaign cannot be formed: a suite serves a product only with
    at least ``campaign_min_batches`` of its batches able to run there."""
    conflicts = []
    for product in problem.products:
        minimum = product.campaign_min_batches
        if minimum <= 1:
            continue
        batches = [b for b in problem.batches if b.product == product.name]
        usable = {o.suite for b in batches for o in _options(b)}
        changed = True
        while changed:
            changed = False
            for suite in sorted(usable):
                able = [b for b in batches if any(o.suite == suite for o in _options(b))]
                if len(able) < minimum:
                    usable.discard(suite)
                    changed = True
        for batch in batches:
            if any(o.suite in usable for o in _options(batch)):
                continue
            counts = " and ".join(
                f"{_count(batches, o.suite)} of {product.name} on {o.suite}"
                for o in _options(batch)
            )
            conflicts.append(
                Conflict(
                    "campaign",
                    (batch.id,),
                    f"batch {batch.id} of product {product.name}: campaigns of {product.name} "
                    f"need at least {minimum} consecutive batches on one suite, but there can "
                    f"run only {counts}",
                )
            )
    return conflicts


def _count(batches: list[ScheduleBatch], suite: str) -> str:
    """``"1 batch"``, ``"3 batches"``: how many of ``batches`` may run on ``suite``."""
    count = sum(1 for b in batches if any(o.suite == suite for o in _options(b)))
    return f"{count} batch" if count == 1 else f"{count} batches"


def _frozen_conflicts(problem: ScheduleProblem) -> list[Conflict]:
    """Frozen places that break their batch's release or deadline, a downtime, or overlap
    another frozen batch on the same suite."""
    conflicts = []
    frozen = [(b, b.previous) for b in problem.batches if b.frozen and b.previous is not None]
    for batch, previous in frozen:
        start = previous.start_h
        duration = batch.duration_on(previous.suite) or 0
        end = start + duration
        label = f"frozen batch {batch.id} of product {batch.product}"
        if start < batch.release_h:
            conflicts.append(
                Conflict(
                    "frozen",
                    (batch.id,),
                    f"{label}: its start {start} h is before its release {batch.release_h} h",
                )
            )
        if end > problem.latest_end_h(batch):
            conflicts.append(
                Conflict(
                    "frozen",
                    (batch.id,),
                    f"{label}: it ends at {end} h, after its latest end "
                    f"{problem.latest_end_h(batch)} h",
                )
            )
        for window in problem.suite_by_name[previous.suite].downtimes:
            if start < window.end_h and window.start_h < end:
                conflicts.append(
                    Conflict(
                        "frozen",
                        (batch.id,),
                        f"{label}: it runs {start}-{end} h on {previous.suite}, into the "
                        f"{window.reason} {window.start_h}-{window.end_h} h",
                    )
                )
    for n, (first, first_place) in enumerate(frozen):
        for second, second_place in frozen[n + 1 :]:
            if first_place.suite != second_place.suite:
                continue
            a_start, b_start = first_place.start_h, second_place.start_h
            a_end = a_start + (first.duration_on(first_place.suite) or 0)
            b_end = b_start + (second.duration_on(second_place.suite) or 0)
            if a_start < b_end and b_start < a_end:
                conflicts.append(
                    Conflict(
                        "frozen",
                        (first.id, second.id),
                        f"frozen batches {first.id} ({a_start}-{a_end} h) and {second.id} "
                        f"({b_start}-{b_end} h) overlap on {first_place.suite}",
                    )
                )
    return conflicts


@dataclass(frozen=True)
class _Family:
    """A rule family: its name, the items it binds, and the instance with some items' rule
    relaxed."""

    rule: str
    items: Callable[[ScheduleProblem], list[str]]
    relax: Callable[[ScheduleProblem, set[str]], ScheduleProblem]
    describe: Callable[[ScheduleProblem, list[str]], str]


def _replace_batches(
    problem: ScheduleProblem, ids: set[str], change: Callable[[ScheduleBatch], ScheduleBatch]
) -> ScheduleProblem:
    return dataclasses.replace(
        problem, batches=tuple(change(b) if b.id in ids else b for b in problem.batches)
    )


def _batch_list(
    problem: ScheduleProblem, ids: list[str], what: Callable[[ScheduleBatch], str]
) -> str:
    return ", ".join(f"{i} ({what(problem.batch_by_id[i])})" for i in ids)


def _changeover_text(problem: ScheduleProblem, pair: str) -> str:
    """``"mAb-A -> mAb-B (8 h)"`` for the changeover family's item ``"mAb-A->mAb-B"``."""
    hours = sorted(
        {c.duration_h for c in problem.changeovers if f"{c.from_product}->{c.to_product}" == pair}
    )
    return pair.replace("->", " -> ") + " (" + ", ".join(f"{h} h" for h in hours) + ")"


def _longer_horizon(problem: ScheduleProblem) -> int:
    """A horizon long enough for every batch one after another, with every changeover."""
    longest_change = max((c.duration_h for c in problem.changeovers), default=0)
    work = sum(max(o.duration_h for o in b.options) + b.min_gap_h for b in problem.batches)
    return problem.horizon_h + work + longest_change * len(problem.batches)


FAMILIES = (
    _Family(
        "deadline",
        lambda p: [b.id for b in p.batches if b.deadline_h is not None],
        lambda p, ids: _replace_batches(p, ids, lambda b: dataclasses.replace(b, deadline_h=None)),
        lambda p, ids: (
            "the deadlines of "
            + _batch_list(p, ids, lambda b: f"{b.product}, deadline {b.deadline_h} h")
            + " cannot all be met together"
        ),
    ),
    _Family(
        "release",
        lambda p: [b.id for b in p.batches if b.release_h > 0],
        lambda p, ids: _replace_batches(p, ids, lambda b: dataclasses.replace(b, release_h=0)),
        lambda p, ids: (
            "the releases of "
            + _batch_list(p, ids, lambda b: f"{b.product}, release {b.release_h} h")
            + " leave no room for the rest"
        ),
    ),
    _Family(
        "coupling",
        lambda p: [b.id for b in p.batches if b.max_hold_h is not None],
        lambda p, ids: _replace_batches(p, ids, lambda b: dataclasses.replace(b, max_hold_h=None)),
        lambda p, ids: (
            "the coupling windows of "
            + _batch_list(p, ids, lambda b: f"at most {b.max_hold_h} h after {b.upstream}")
            + " cannot all be met"
        ),
    ),
    _Family(
        "gap",
        lambda p: [b.id for b in p.batches if b.min_gap_h > 0],
        lambda p, ids: _replace_batches(p, ids, lambda b: dataclasses.replace(b, min_gap_h=0)),
        lambda p, ids: (
            "the minimum gaps of "
            + _batch_list(p, ids, lambda b: f"{b.min_gap_h} h after {b.upstream}")
            + " cannot all be kept"
        ),
    ),
    _Family(
        "downtime",
        lambda p: [s.name for s in p.suites if s.downtimes],
        lambda p, names: dataclasses.replace(
            p,
            suites=tuple(
                dataclasses.replace(s, downtimes=()) if s.name in names else s for s in p.suites
            ),
        ),
        lambda p, names: (
            "the downtimes of "
            + ", ".join(
                f"{n} ("
                + ", ".join(f"{w.start_h}-{w.end_h} h" for w in p.suite_by_name[n].downtimes)
                + ")"
                for n in names
            )
            + " leave too little time"
        ),
    ),
    _Family(
        "campaign",
        lambda p: [
            q.name
            for q in p.products
            if q.campaign_min_batches > 1 or q.campaign_max_batches is not None
        ],
        lambda p, names: dataclasses.replace(
            p,
            products=tuple(ScheduleProduct(q.name) if q.name in names else q for q in p.products),
        ),
        lambda p, names: (
            "the campaign lengths of "
            + ", ".join(
                f"{n} ({p.product_by_name[n].campaign_min_batches} to "
                f"{p.product_by_name[n].campaign_max_batches or 'any number of'} batches)"
                for n in names
            )
            + " cannot be kept"
        ),
    ),
    _Family(
        "frozen",
        lambda p: [b.id for b in p.batches if b.frozen],
        lambda p, ids: _replace_batches(p, ids, lambda b: dataclasses.replace(b, frozen=False)),
        lambda p, ids: (
            "the frozen places of "
            + _batch_list(
                p,
                ids,
                lambda b: f"{b.previous.suite} from {b.previous.start_h} h" if b.previous else "",
            )
            + " block the others"
        ),
    ),
    _Family(
        "changeover",
        lambda p: [f"{c.from_product}->{c.to_product}" for c in p.changeovers if c.duration_h > 0],
        lambda p, names: dataclasses.replace(
            p,
            changeovers=tuple(
                Changeover(c.from_product, c.to_product, 0, c.cost, c.suite)
                if f"{c.from_product}->{c.to_product}" in names
                else c
                for c in p.changeovers
            ),
        ),
        lambda p, names: (
            "the changeover times "
            + ", ".join(_changeover_text(p, name) for name in names)
            + " leave too little time"
        ),
    ),
    _Family(
        "resource",
        lambda p: sorted({u.resource for b in p.batches for u in b.uses}),
        lambda p, names: dataclasses.replace(
            p,
            resources=tuple(
                Resource(r.name, sum(u.amount for b in p.batches for u in b.uses))
                if r.name in names
                else r
                for r in p.resources
            ),
        ),
        lambda p, names: (
            "the capacity of "
            + ", ".join(f"{n} ({p.resource_by_name[n].capacity})" for n in names)
            + " is too small for the batches that need it together"
        ),
    ),
    _Family(
        "horizon",
        lambda p: [str(p.horizon_h)],
        lambda p, _: dataclasses.replace(p, horizon_h=_longer_horizon(p)),
        lambda p, _: f"the horizon of {p.horizon_h} h is too short for all batches",
    ),
)


def _feasible(problem: ScheduleProblem, seconds: float) -> bool | None:
    """Whether CP-SAT finds a schedule (``None``: it could not tell in ``seconds``)."""
    try:
        model = build_model(problem)
    except InstanceError:
        return None
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = 1
    code = solver.solve(model.cp)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    if code == cp_model.INFEASIBLE:
        return False
    return None


def explain_infeasibility(
    problem: ScheduleProblem, time_limit: float = 30.0, *, by_chain: bool = True
) -> list[Conflict]:
    """Why ``problem`` has no schedule: :func:`precheck`'s conflicts, or else, for each rule
    family whose relaxation alone makes the instance feasible, a small set of its constraints
    that conflict with the other rules, found by relaxing and re-solving.

    Parameters
    ----------
    problem
        An instance CP-SAT proved infeasible.
    time_limit
        Wall-clock budget of the search for conflicting constraints (s).
    by_chain
        First look for chains that fit nowhere alone (:func:`chain_conflicts`), which say
        precisely which chain and rule.

    Returns
    -------
    list[Conflict]
        The conflicts found, one per such family (any one of them relaxed would do); a single
        ``unexplained`` entry when none restores feasibility within the budget.
    """
    found = precheck(problem)
    if found:
        return found
    deadline = time.monotonic() + time_limit
    found = chain_conflicts(problem, time_limit / 2) if by_chain else []
    if found:
        return found
    conflicts = []
    for family in FAMILIES:
        items = family.items(problem)
        if not items or time.monotonic() >= deadline:
            continue
        relaxed = _relaxed(family, problem, set(items))
        if relaxed is None or _feasible(relaxed, _left(deadline)) is not True:
            continue
        needed = list(_needed(family, problem, items, deadline))
        batches = _batches_of(problem, family, needed)
        conflicts.append(Conflict(family.rule, batches, family.describe(problem, needed)))
    if conflicts:
        return conflicts
    return [
        Conflict(
            "unexplained",
            (),
            "no single rule family, relaxed alone, makes the instance feasible: several "
            "rules conflict together",
        )
    ]


CHAINS_EXPLAINED = 3
"""At most this many chains that fit nowhere are explained: the first say enough."""


def chain_conflicts(problem: ScheduleProblem, time_limit: float = 10.0) -> list[Conflict]:
    """Chains (a batch without upstream and every batch downstream of it) that fit nowhere
    even alone on the plant, each with the rule that stops it.

    Each chain is first placed alone by the chain construction; one it cannot place is
    solved alone by CP-SAT, and one proved infeasible is explained by
    :func:`explain_infeasibility` on that chain alone. Every conflict is a proof: a chain
    that fits nowhere alone fits nowhere among the others.

    Parameters
    ----------
    problem
        The instance.
    time_limit
        Wall-clock budget (s).

    Returns
    -------
    list[Conflict]
        For up to :data:`CHAINS_EXPLAINED` such chains, the conflicts of each, their reasons
        naming the chain; empty when every chain fits alone (or time ran out).
    """
    deadline = time.monotonic() + time_limit
    children = downstream_of(problem)
    conflicts: list[Conflict] = []
    explained = 0
    for root in chain_roots(problem):
        if explained >= CHAINS_EXPLAINED or time.monotonic() >= deadline:
            break
        members = [root.id]
        for batch_id in members:
            members.extend(b.id for b in children.get(batch_id, []))
        inside = set(members)
        alone = dataclasses.replace(
            problem,
            id=f"{problem.id}/{root.id}",
            batches=tuple(b for b in problem.batches if b.id in inside),
        )
        if greedy_schedule(alone) is not None or _feasible(alone, _left(deadline)) is not False:
            continue
        explained += 1
        chain = " → ".join(members)
        left = max(0.0, deadline - time.monotonic())
        for found in explain_infeasibility(alone, left, by_chain=False):
            conflicts.append(
                Conflict(
                    found.rule,
                    found.batches or tuple(members),
                    f"chain {chain} fits nowhere, even alone: {found.reason}",
                )
            )
    return conflicts


def _relaxed(family: _Family, problem: ScheduleProblem, items: set[str]) -> ScheduleProblem | None:
    try:
        return family.relax(problem, items)
    except InstanceError:
        return None


def _left(deadline: float) -> float:
    return min(CHECK_S, max(0.0, deadline - time.monotonic()))


def _needed(
    family: _Family, problem: ScheduleProblem, items: list[str], deadline: float
) -> Iterator[str]:
    """A minimal set of ``items`` whose rule alone keeps the instance infeasible: each item is
    relaxed in turn and stays relaxed when the instance is still infeasible without it."""
    relaxed: set[str] = set()
    for item in items:
        if time.monotonic() >= deadline:
            yield item
            continue
        candidate = _relaxed(family, problem, relaxed | {item})
        if candidate is not None and _feasible(candidate, _left(deadline)) is False:
            relaxed.add(item)
        else:
            yield item


def _batches_of(problem: ScheduleProblem, family: _Family, items: list[str]) -> tuple[str, ...]:
    """The batches a family's items bind: themselves, or those on a suite, of a product."""
    ids = {b.id for b in problem.batches}
    if all(item in ids for item in items):
        return tuple(items)
    if family.rule == "downtime":
        return tuple(b.id for b in problem.batches if any(o.suite in items for o in b.options))
    if family.rule == "campaign":
        return tuple(b.id for b in problem.batches if b.product in items)
    return ()
