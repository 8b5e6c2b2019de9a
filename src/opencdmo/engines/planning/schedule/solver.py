"""Suite scheduling: the greedy order search on every core, then CP-SAT on the model of
``schedule_cpsat.py``, level by level."""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from opencdmo.engines.planning.result import Conflict, Result, Sense, SolveStatus
from opencdmo.engines.planning.schedule.bound import first_level_bound
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.cpsat import add_warm_start, build_model, minimise_levels
from opencdmo.engines.planning.schedule.decomposition import independent_parts
from opencdmo.engines.planning.schedule.diagnosis import (
    chain_conflicts,
    explain_infeasibility,
    precheck,
)
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule
from opencdmo.engines.planning.schedule.greedy import greedy_schedule, repair_schedule
from opencdmo.engines.planning.schedule.problem import ScheduleProblem
from opencdmo.engines.planning.schedule.search import search_schedule
from opencdmo.engines.planning.schedule.solution import ScheduledBatch, ScheduleSolution
from opencdmo.engines.planning.solvers.control import SolveControl, stopped
from opencdmo.engines.planning.solvers.cpsat.status import cpsat_status, minimising_result
from opencdmo.engines.planning.solvers.forked_runs import NoAnswerError, can_fork, run_forked
from opencdmo.engines.progress import CancelToken, ProgressCallback

LARGE_MODEL_VARIABLES = 5000
"""Above this many CP-SAT variables, presolve skips probing."""
LNS_ONLY_VARIABLES = 10000
"""Above this many CP-SAT variables, every worker runs neighbourhood search.

On such models CP-SAT's full-search worker neither finds schedules nor moves the bound past
:func:`first_level_bound` within a minute, so its core is better spent on more neighbourhoods
(generated CDMO instance, 60 s, seeds 0-3: 2.4 % to 6 % lower cost). Below it, that worker
still raises the bound.
"""
FULL_SEARCH_WORKERS = ("max_lp", "core", "default_lp", "fixed")
"""CP-SAT's full-search workers, first first: with two workers it runs one, beside the
neighbourhood searches. ``max_lp`` (the linear relaxation of the circuits at its fullest)
proves what its default (``default_lp``) does not: the fill-finish part of the generated CDMO
instance (60 batches, 3 suites; generator seeds 1, 2, 3, 7) becomes optimal in 27-36 s
instead of stopping at 40 s 8 % to 30 % above its bound."""
EXPLAIN_MIN_S = 5.0
"""Least time the search for conflicting constraints gets after CP-SAT proves infeasibility,
even past the time limit: an answer without its reason helps no one."""
SEARCH_GRACE_S = 5.0
"""Time a forked order search may overrun its budget before it is left out."""
SEARCH_SHARE = 0.8
"""Share of the time limit spent reordering the greedy before CP-SAT starts from its best."""
FULL_SEARCH_SHARE = 0.1
FULL_SEARCH_MIN_S = 2.0
"""On models small enough for CP-SAT's full search (at most :data:`LNS_ONLY_VARIABLES`) the
order search keeps only this share of the time, or this many seconds when that is more (but
never more than its usual share): CP-SAT then finds good schedules itself and needs the time
to prove them (the fill-finish part of the generated CDMO instance is optimal in 34-36 s
with a tenth, seeds 0-2, and still 2 % from its bound at 40 s with 0.8), while its presolve
and first schedules take a second or two, which at short limits the order search uses
better."""
PUBLISHED_SEARCH_SHARE = 0.25
"""The same share in a reschedule whose published schedule is still feasible: CP-SAT then
usually improves that start, which the order search rarely beats. When it is not, its
repair (:func:`repair_schedule`) competes with the order search's schedule, which keeps the
usual share: after a breakdown the repair may place a displaced chain far too late."""


def solve_schedule(
    problem: ScheduleProblem,
    *,
    time_limit: float = 600.0,
    threads: int = 1,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Result[ScheduleSolution]:
    """Schedule batches on suites, minimising the objective levels lexicographically.

    Parameters
    ----------
    problem
        The instance.
    time_limit
        Wall-clock limit in seconds, shared by all levels.
    threads
        Cores: that many order searches (seeded ``seed, seed + 1, …``, in forked processes)
        start the search, then that many CP-SAT workers.
    seed
        Seed of the first order search and of CP-SAT.
    progress
        Called with the first level's best value and bound as the order search and CP-SAT
        improve them (summed over the independent parts solved so far), and with the share
        of the time limit used.
    cancel
        When cancelled, the order search stops after its current move and CP-SAT at once
        (``StopSearch``); the parts not reached yet get the greedy's schedule, and the best
        schedule so far is returned with ``cancelled`` set.

    Returns
    -------
    Result[ScheduleSolution]
        ``objective`` and ``bound`` refer to the first level; ``optimal`` means every level
        was proved optimal in turn.
    """
    started = time.perf_counter()
    control = SolveControl.of(progress, cancel, time_limit_s=time_limit, maximise=False)
    found = precheck(problem)
    if found:
        return _infeasible(problem, found, started, threads, time_limit, seed)
    parts = sorted(independent_parts(problem), key=lambda part: len(part.batches))
    outcomes: list[_Outcome] = []
    batches_left = len(problem.batches)
    for number, part in enumerate(parts, start=1):
        # Time is shared by batch count; what a small part leaves over goes to the next.
        remaining = time_limit - (time.perf_counter() - started)
        share = remaining * len(part.batches) / batches_left
        batches_left -= len(part.batches)
        part_control = None
        if control is not None:
            done = sum(o.first_level for o in outcomes if o.first_level is not None)
            part_control = control.shifted(done, with_bound=number == len(parts))
        outcome = _solve_part(part, share, threads, seed, part_control)
        outcomes.append(outcome)
        if outcome.infeasible:
            break
    placed = None
    if all(o.placed is not None for o in outcomes) and not any(o.infeasible for o in outcomes):
        placed = [item for o in outcomes for item in o.placed or []]
        placed.sort(key=lambda b: (b.suite, b.start_h, b.batch))
    solution = None
    objective = None
    if placed is not None:
        terms, values = evaluate_schedule(problem, placed)
        solution = ScheduleSolution(tuple(placed), terms, values)
        objective = values[0]
    bound = sum(o.bound for o in outcomes) if len(outcomes) == len(parts) else None
    if bound is not None and objective is not None:
        # Each part's bound is a true lower bound, conservatively mapped back from CP-SAT's
        # scaled one; only float noise can put it above the schedule's value.
        bound = min(bound, objective)
    time_out = (
        stopped(control)
        or any(o.time_out for o in outcomes)
        or time.perf_counter() - started >= time_limit
    )
    status = _status(len(problem.objective), outcomes, objective, bound, time_out=time_out)
    if status is SolveStatus.INFEASIBLE:
        budget = max(EXPLAIN_MIN_S, time_limit - (time.perf_counter() - started))
        found = explain_infeasibility(parts[len(outcomes) - 1], budget)
        return _infeasible(problem, found, started, threads, time_limit, seed)
    if solution is None and not stopped(control):
        # No schedule and no proof: a chain that fits nowhere alone is both, and says why.
        found = chain_conflicts(problem, EXPLAIN_MIN_S)
        if found:
            return _infeasible(problem, found, started, threads, time_limit, seed)
    return minimising_result(
        "schedule",
        problem.id,
        status,
        objective,
        bound,
        solution,
        started=started,
        threads=threads,
        time_limit=time_limit,
        seed=seed,
        cancelled=stopped(control),
    )


def _infeasible(
    problem: ScheduleProblem,
    conflicts: list[Conflict],
    started: float,
    threads: int,
    time_limit: float,
    seed: int,
) -> Result[ScheduleSolution]:
    """The result of an instance without a schedule, with the conflicts that say why."""
    result: Result[ScheduleSolution] = minimising_result(
        "schedule",
        problem.id,
        SolveStatus.INFEASIBLE,
        None,
        None,
        None,
        started=started,
        threads=threads,
        time_limit=time_limit,
        seed=seed,
    )
    return dataclasses.replace(result, conflicts=tuple(conflicts))


@dataclass(frozen=True)
class _Outcome:
    """What the search found for one independent part."""

    placed: list[ScheduledBatch] | None
    bound: float
    """Proven lower bound on the part's first level."""
    optimal: bool
    """Every level proved optimal."""
    infeasible: bool
    first_level: float | None = None
    """The first level's value of ``placed`` (none without a schedule)."""
    time_out: bool = False
    """The part's search stopped at its time limit (or on cancel) rather than by itself."""


def _status(
    levels: int,
    outcomes: list[_Outcome],
    objective: float | None,
    bound: float | None,
    *,
    time_out: bool,
) -> SolveStatus:
    """Optimal when every part proved every level, or, with one level, when the schedule
    meets the proven bound, whoever proved it (CP-SAT or :func:`first_level_bound`); else
    ``time_limit`` when the limit stopped the search, and ``feasible`` when it ended by
    itself (CP-SAT done, but the bound not met: a level whose costs entered it rounded)."""
    if any(o.infeasible for o in outcomes):
        return SolveStatus.INFEASIBLE
    if objective is not None and (levels == 1 or all(o.optimal for o in outcomes)):
        proven = cpsat_status(
            cp_model.FEASIBLE, objective, bound, Sense.MINIMISE, has_solution=True
        )
        if proven is SolveStatus.OPTIMAL:
            return proven
    if objective is None or time_out:
        return SolveStatus.TIME_LIMIT
    return SolveStatus.FEASIBLE


def _solve_part(
    problem: ScheduleProblem,
    time_limit: float,
    threads: int,
    seed: int,
    control: SolveControl | None = None,
) -> _Outcome:
    """Reorder the greedy, then let CP-SAT improve its best schedule level by level."""
    started = time.perf_counter()
    if stopped(control):
        # Cancelled before this part: its greedy schedule, without a search.
        greedy = search_schedule(problem, 0.0, seed)
        placed = greedy if greedy is not None and _feasible(problem, greedy) else None
        return _finished(problem, placed, first_level_bound(problem), optimal=False, time_out=True)
    constructed = greedy_schedule(problem)
    if constructed is not None and not _feasible(problem, constructed):
        constructed = None
    if constructed is not None and control is not None:
        # The first checked schedule, before the model is built: on large plants with exact
        # stage windows neither CP-SAT nor the order search gets one sooner.
        control.report("chain construction", evaluate_schedule(problem, constructed)[1][0])
    model = build_model(problem)
    variables = len(model.cp.proto.variables)
    published = _published(problem)
    share = PUBLISHED_SEARCH_SHARE
    if published is None or not _feasible(problem, published):
        has_published = any(b.previous is not None for b in problem.batches)
        repaired = repair_schedule(problem) if has_published else None
        published = repaired if repaired is not None and _feasible(problem, repaired) else None
        share = SEARCH_SHARE
    search_s = share * time_limit
    if variables <= LNS_ONLY_VARIABLES:
        search_s = min(search_s, max(FULL_SEARCH_SHARE * time_limit, FULL_SEARCH_MIN_S))
    bound = first_level_bound(problem)
    if control is not None:
        control.report("bound without a solver", None, bound)
    searched = _best_search(problem, search_s, threads, seed, control)
    if searched is not None and not _feasible(problem, searched):
        searched = None
    starts = [s for s in (searched, published, constructed) if s is not None]
    start = min(starts, key=lambda s: evaluate_schedule(problem, s)[1]) if starts else None
    add_warm_start(problem, model, start)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = threads
    solver.parameters.random_seed = seed
    if variables > LARGE_MODEL_VARIABLES:
        # Probing in presolve takes seconds on large circuit models and delays the search.
        solver.parameters.cp_model_probing_level = 0
    if start is not None and variables > LNS_ONLY_VARIABLES:
        solver.parameters.use_lns_only = True
    else:
        # The circuits' own relaxation moves the bound where the precedence rows do not.
        solver.parameters.linearization_level = 2
        solver.parameters.subsolvers.extend(FULL_SEARCH_WORKERS)
    outcome = minimise_levels(
        problem, model, solver, time_limit - (time.perf_counter() - started), control
    )
    placed = outcome.placed
    if outcome.first_bound is not None:
        bound = max(bound, outcome.first_bound)
    all_optimal = outcome.optimal
    if (
        start is not None
        and outcome.code != cp_model.INFEASIBLE
        and (
            placed is None
            or evaluate_schedule(problem, start)[1] < evaluate_schedule(problem, placed)[1]
        )
    ):
        # CP-SAT may stop before it re-finds the hinted schedule.
        placed = start
        all_optimal = False
    if outcome.code == cp_model.INFEASIBLE and placed is None:
        return _Outcome(None, bound, optimal=False, infeasible=True)
    return _finished(problem, placed, bound, optimal=all_optimal, time_out=outcome.time_out)


def _finished(
    problem: ScheduleProblem,
    placed: list[ScheduledBatch] | None,
    bound: float,
    *,
    optimal: bool,
    time_out: bool,
) -> _Outcome:
    """A part's outcome that is not proven infeasible, with its schedule's first level."""
    first_level = None if placed is None else evaluate_schedule(problem, placed)[1][0]
    return _Outcome(placed, bound, optimal and placed is not None, False, first_level, time_out)


def _published(problem: ScheduleProblem) -> list[ScheduledBatch] | None:
    """The published schedule, when every batch has a published place.

    In a reschedule it is often a better start than the order search, which places the
    batches that are not frozen afresh.
    """
    placed = [ScheduledBatch.published(batch) for batch in problem.batches]
    return None if None in placed else [item for item in placed if item is not None]


def _feasible(problem: ScheduleProblem, placed: list[ScheduledBatch]) -> bool:
    solution = ScheduleSolution(tuple(placed), *evaluate_schedule(problem, placed))
    return check_schedule_solution(problem, solution).ok


def _best_search(
    problem: ScheduleProblem,
    time_limit: float,
    threads: int,
    seed: int,
    control: SolveControl | None = None,
) -> list[ScheduledBatch] | None:
    """The order search once per core, seeded ``seed, seed + 1, …``; the best schedule wins.

    The search is pure Python and its result varies widely with the seed (generated CDMO
    instance, 60 s: 2360 to 3632 over four seeds), so the cores run separate draws.
    """
    if threads <= 1 or not can_fork():
        return search_schedule(problem, time_limit, seed, control=control)
    try:
        found = run_forked(
            [
                functools.partial(search_schedule, problem, time_limit, seed + offset)
                for offset in range(threads)
            ],
            timeout_s=time_limit + SEARCH_GRACE_S,
            control=control,
        )
    except NoAnswerError:
        # Each search still in its first schedule (a large plant on a busy machine): the
        # chain construction's schedule stands in for them.
        return None
    schedules = [schedule for schedule in found if schedule is not None]
    if not schedules:
        return None
    return min(schedules, key=lambda schedule: evaluate_schedule(problem, schedule)[1])
