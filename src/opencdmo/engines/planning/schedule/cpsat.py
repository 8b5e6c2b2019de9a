"""The CP-SAT model of suite scheduling: optional intervals, circuits and objective levels,
and the level-by-level minimisation the solver runs on it."""

from __future__ import annotations

import bisect
import itertools
import math
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from opencdmo.engines.planning.schedule.bound import switches_needed
from opencdmo.engines.planning.schedule.decomposition import suite_groups
from opencdmo.engines.planning.schedule.evaluation import suite_sequences
from opencdmo.engines.planning.schedule.problem import (
    LATENESS_KINDS,
    ObjectiveKind,
    ObjectiveTerm,
    ScheduleBatch,
    ScheduleProblem,
    SuiteOption,
)
from opencdmo.engines.planning.schedule.solution import ScheduledBatch
from opencdmo.engines.planning.solvers.control import SolveControl, stopped
from opencdmo.engines.planning.solvers.cpsat.watch import solve_watched

COST_SCALE = 1000
"""Least factor on weights and costs before they enter the search as whole numbers."""


@dataclass
class ScheduleModel:
    """Variables of the CP-SAT model."""

    cp: cp_model.CpModel
    start: dict[str, cp_model.IntVar] = field(default_factory=dict)
    end: dict[str, cp_model.IntVar] = field(default_factory=dict)
    on_suite: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    arc_costs: list[tuple[cp_model.IntVar, float]] = field(default_factory=list)
    arcs: dict[tuple[str, str, str], cp_model.IntVar] = field(default_factory=dict)
    """Circuit literals by (suite, from batch, to batch); "" is the suite's start/end node."""
    positions: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    """Place of a batch in its campaign, by (batch, suite)."""
    late: dict[tuple[ObjectiveKind, str], cp_model.IntVar] = field(default_factory=dict)
    """Hours late by (kind, batch id), for each lateness kind of the objective and batch with
    a due time."""
    levels: list[cp_model.LinearExprT] = field(default_factory=list)
    """The objective levels with whole coefficients, each scaled as ``scales`` says."""
    scales: list[LevelScale] = field(default_factory=list)
    runs: dict[tuple[str, str], tuple[cp_model.IntervalVar, cp_model.LinearExprT]] = field(
        default_factory=dict
    )
    """Optional interval of a batch on a suite and its length, by (batch, suite)."""
    makespans: list[cp_model.IntVar] = field(default_factory=list)
    """The makespan of each level that counts it."""
    held: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    """How long a batch holds a suite, by (batch, suite), where the option lets it vary."""


def build_model(problem: ScheduleProblem) -> ScheduleModel:
    cp = cp_model.CpModel()
    model = ScheduleModel(cp)
    per_suite: dict[str, list[cp_model.IntervalVar]] = {s.name: [] for s in problem.suites}
    for batch in problem.batches:
        shortest = batch.shortest_h
        latest_end = problem.latest_end_h(batch)
        start = cp.new_int_var(batch.release_h, latest_end - shortest, f"start[{batch.id}]")
        end = cp.new_int_var(batch.release_h + shortest, latest_end, f"end[{batch.id}]")
        literals = []
        for option in _open_options(batch):
            literal = cp.new_bool_var(f"on[{batch.id},{option.suite}]")
            size: cp_model.LinearExprT = option.duration_h
            if option.max_duration_h is not None:
                size = cp.new_int_var(
                    option.duration_h, option.max_duration_h, f"held[{batch.id},{option.suite}]"
                )
                model.held[batch.id, option.suite] = size
            interval = cp.new_optional_interval_var(
                start, size, end, literal, f"run[{batch.id},{option.suite}]"
            )
            per_suite[option.suite].append(interval)
            model.runs[batch.id, option.suite] = (interval, size)
            model.on_suite[batch.id, option.suite] = literal
            literals.append(literal)
        cp.add_exactly_one(literals)
        model.start[batch.id] = start
        model.end[batch.id] = end
        if batch.frozen and batch.previous is not None:
            cp.add(start == batch.previous.start_h)
    for batch in problem.batches:
        if batch.upstream is None:
            continue
        upstream_end = model.end[batch.upstream]
        cp.add(model.start[batch.id] >= upstream_end + batch.min_gap_h)
        if batch.max_hold_h is not None:
            cp.add(model.start[batch.id] <= upstream_end + batch.max_hold_h)
    for suite in problem.suites:
        downtimes = [
            cp.new_fixed_size_interval_var(start_h, end_h - start_h, f"down[{suite.name},{n}]")
            for n, (start_h, end_h) in enumerate(suite.blocked)
        ]
        setup_h = uniform_setup_h(problem, suite.name)
        if setup_h:
            _add_uniform_setups(problem, model, suite.name, setup_h)
            if downtimes:
                cp.add_no_overlap(per_suite[suite.name] + downtimes)
            continue
        if len(per_suite[suite.name]) + len(downtimes) > 1:
            cp.add_no_overlap(per_suite[suite.name] + downtimes)
        _add_sequence(problem, model, suite.name)
    _add_resources(problem, model)
    _add_switch_count_bound(problem, model)
    _break_symmetry(problem, model)
    for level in problem.objective:
        expression, scale = _level_expression(problem, model, level)
        model.levels.append(expression)
        model.scales.append(scale)
    return model


def uniform_setup_h(problem: ScheduleProblem, suite: str) -> int | None:
    """The changeover time of ``suite`` when it is the same between any two of its batches,
    costs nothing the objective counts, and no campaign limit applies there; else ``None``.

    Such a suite needs no circuit: each run stretched by the setup time keeps clear of the
    others (a plant's cleaning between fermentations, the same whatever the products)."""
    products = {b.product for b in problem.batches if b.duration_on(suite) is not None}
    if not products or any(_campaign_limited(problem, p) for p in products):
        return None
    costs_count = any(
        term.kind is ObjectiveKind.CHANGEOVER_COST for level in problem.objective for term in level
    )
    pairs = {problem.changeover(suite, a, b) for a in products for b in products}
    durations = {duration for duration, _ in pairs}
    if len(durations) != 1 or (costs_count and any(cost for _, cost in pairs)):
        return None
    return durations.pop()


def _add_uniform_setups(
    problem: ScheduleProblem, model: ScheduleModel, suite: str, setup_h: int
) -> None:
    """No two runs of ``suite``, each followed by its setup, overlap: exact for a setup that
    is the same between any two batches (:func:`uniform_setup_h`)."""
    cp = model.cp
    stretched = []
    for batch in problem.batches:
        run = model.runs.get((batch.id, suite))
        if run is None:
            continue
        _, size = run
        stretched.append(
            cp.new_optional_interval_var(
                model.start[batch.id],
                size + setup_h,
                model.end[batch.id] + setup_h,
                model.on_suite[batch.id, suite],
                f"run_and_setup[{batch.id},{suite}]",
            )
        )
    if len(stretched) > 1:
        cp.add_no_overlap(stretched)


def _add_resources(problem: ScheduleProblem, model: ScheduleModel) -> None:
    """Each shared resource's uses, as intervals from the batch's start, within its capacity."""
    cp = model.cp
    for resource in problem.resources:
        intervals: list[cp_model.IntervalVar] = []
        demands: list[int] = []
        for batch in problem.batches:
            for use in batch.uses:
                if use.resource != resource.name:
                    continue
                if use.duration_h is not None:
                    intervals.append(
                        cp.new_fixed_size_interval_var(
                            model.start[batch.id],
                            use.duration_h,
                            f"use[{batch.id},{resource.name}]",
                        )
                    )
                    demands.append(use.amount)
                    continue
                for option in _open_options(batch):
                    intervals.append(model.runs[batch.id, option.suite][0])
                    demands.append(use.amount)
        if intervals and sum(demands) > resource.capacity:
            cp.add_cumulative(intervals, demands, resource.capacity)


def _open_options(batch: ScheduleBatch) -> tuple[SuiteOption, ...]:
    """The suites the model may put ``batch`` on: a frozen batch only its published one."""
    if batch.frozen and batch.previous is not None:
        return tuple(o for o in batch.options if o.suite == batch.previous.suite)
    return batch.options


def _add_switch_count_bound(problem: ScheduleProblem, model: ScheduleModel) -> None:
    """Every group of linked suites makes at least :func:`switches_needed` product switches.

    Every switch is a circuit arc between batches of different products, so the row holds in
    every schedule and lets CP-SAT's bound see the changeover cost it implies. Groups with a
    suite that has no circuit are skipped.
    """
    for suites in suite_groups(problem):
        if any((suite, "", "") not in model.arcs for suite in suites):
            continue
        needed = switches_needed(problem, suites)
        if needed <= 0:
            continue
        inside = set(suites)
        switches = [
            literal
            for (suite, a, b), literal in model.arcs.items()
            if suite in inside
            and a
            and b
            and problem.batch_by_id[a].product != problem.batch_by_id[b].product
        ]
        model.cp.add(sum(switches) >= needed)


def _campaign_limited(problem: ScheduleProblem, product: str) -> bool:
    data = problem.product_by_name[product]
    return data.campaign_min_batches > 1 or data.campaign_max_batches is not None


def _add_sequence(problem: ScheduleProblem, model: ScheduleModel, suite: str) -> None:
    """Order the suite's batches with a circuit when changeovers or campaign limits matter."""
    cp = model.cp
    batches = [b for b in problem.batches if (b.id, suite) in model.on_suite]
    products = {b.product for b in batches}
    needs_changeovers = any(
        problem.changeover(suite, a, b) != (0, 0.0) for a in products for b in products
    )
    limited = {p for p in products if _campaign_limited(problem, p)}
    if not batches or not (needs_changeovers or limited):
        return
    position: dict[str, cp_model.IntVar] = {}
    for batch in batches:
        if batch.product in limited:
            data = problem.product_by_name[batch.product]
            same = sum(1 for b in problem.batches if b.product == batch.product)
            longest = (
                same if data.campaign_max_batches is None else min(same, data.campaign_max_batches)
            )
            position[batch.id] = cp.new_int_var(1, max(1, longest), f"pos[{batch.id},{suite}]")
            model.positions[batch.id, suite] = position[batch.id]
    fixed = _FixedRuns(problem, batches, suite)
    empty = cp.new_bool_var(f"empty[{suite}]")
    model.arcs[suite, "", ""] = empty
    arcs: list[tuple[int, int, cp_model.LiteralT]] = [(0, 0, empty)]
    for node, batch in enumerate(batches, start=1):
        present = model.on_suite[batch.id, suite]
        arcs.append((node, node, present.Not()))
        first = cp.new_bool_var(f"first[{batch.id},{suite}]")
        last = cp.new_bool_var(f"last[{batch.id},{suite}]")
        arcs += [(0, node, first), (node, 0, last)]
        model.arcs[suite, "", batch.id] = first
        model.arcs[suite, batch.id, ""] = last
        if fixed.between(-1, fixed.earliest_end(batch), batch.id):
            cp.add(first == 0)
        if fixed.between(fixed.latest_start(batch), problem.horizon_h + 1, batch.id):
            cp.add(last == 0)
        if batch.id in position:
            cp.add(position[batch.id] == 1).only_enforce_if(first)
            minimum = problem.product_by_name[batch.product].campaign_min_batches
            cp.add(position[batch.id] >= minimum).only_enforce_if(last)
    for i, a in enumerate(batches, start=1):
        for j, b in enumerate(batches, start=1):
            if i == j:
                continue
            duration_h, cost = problem.changeover(suite, a.product, b.product)
            if not _can_precede(problem, a, b, suite, duration_h) or fixed.between(
                fixed.latest_start(a), fixed.earliest_end(b), a.id, b.id
            ):
                continue
            literal = cp.new_bool_var(f"next[{a.id},{b.id},{suite}]")
            arcs.append((i, j, literal))
            model.arcs[suite, a.id, b.id] = literal
            cp.add(model.start[b.id] >= model.end[a.id] + duration_h).only_enforce_if(literal)
            if cost > 0:
                model.arc_costs.append((literal, cost))
            if a.product == b.product and b.id in position:
                cp.add(position[b.id] == position[a.id] + 1).only_enforce_if(literal)
            else:
                if b.id in position:
                    cp.add(position[b.id] == 1).only_enforce_if(literal)
                if a.id in position:
                    minimum = problem.product_by_name[a.product].campaign_min_batches
                    cp.add(position[a.id] >= minimum).only_enforce_if(literal)
    cp.add_circuit(arcs)


class _FixedRuns:
    """The runs fixed in time on one suite: frozen there, or with this suite as only option and
    a window from release to deadline no longer than the run.

    Batch ``b`` cannot directly follow ``a`` when a fixed run lies wholly between the latest
    start of ``a`` and the earliest end of ``b``: it could go neither before ``a`` nor after
    ``b``. In a reschedule with many frozen batches this drops most arcs that pass over them.
    """

    def __init__(self, problem: ScheduleProblem, batches: list[ScheduleBatch], suite: str):
        self._problem = problem
        self._suite = suite
        self._fixed: dict[str, tuple[int, int]] = {}
        for batch in batches:
            duration = batch.duration_on(suite) or 0
            published = ScheduledBatch.published(batch) if batch.frozen else None
            if published is not None and published.suite == suite:
                self._fixed[batch.id] = (published.start_h, published.end_h)
            elif (
                len(batch.options) == 1
                and problem.latest_end_h(batch) - batch.release_h == duration
            ):
                self._fixed[batch.id] = (batch.release_h, batch.release_h + duration)
        self._runs = sorted(
            (start, end, batch_id) for batch_id, (start, end) in self._fixed.items()
        )
        self._starts = [run[0] for run in self._runs]

    def latest_start(self, batch: ScheduleBatch) -> int:
        """Latest start of ``batch`` on the suite."""
        if batch.id in self._fixed:
            return self._fixed[batch.id][0]
        return self._problem.latest_end_h(batch) - (batch.duration_on(self._suite) or 0)

    def earliest_end(self, batch: ScheduleBatch) -> int:
        """Earliest end of ``batch`` on the suite."""
        if batch.id in self._fixed:
            return self._fixed[batch.id][1]
        return batch.release_h + (batch.duration_on(self._suite) or 0)

    def between(self, after_h: int, before_h: int, *exclude: str) -> bool:
        """Whether a fixed run other than ``exclude`` ends after ``after_h`` and starts before
        ``before_h``; runs do not overlap, so the last one starting before is the one to test."""
        index = bisect.bisect_left(self._starts, before_h) - 1
        while index >= 0 and self._runs[index][2] in exclude:
            index -= 1
        return index >= 0 and self._runs[index][1] > after_h


def _can_precede(
    problem: ScheduleProblem, a: ScheduleBatch, b: ScheduleBatch, suite: str, changeover_h: int
) -> bool:
    """Whether ``b`` can directly follow ``a`` on ``suite`` within release dates and deadlines."""
    duration_a = a.duration_on(suite) or 0
    duration_b = b.duration_on(suite) or 0
    return a.release_h + duration_a + changeover_h + duration_b <= problem.latest_end_h(b)


def _interchangeable(a: ScheduleBatch, b: ScheduleBatch) -> bool:
    return (
        a.product == b.product
        and a.options == b.options
        and a.release_h == b.release_h
        and a.due_h == b.due_h
        and a.deadline_h == b.deadline_h
        and a.tardiness_weight == b.tardiness_weight
        and a.upstream is None
        and b.upstream is None
        and a.previous is None
        and b.previous is None
    )


def _break_symmetry(problem: ScheduleProblem, model: ScheduleModel) -> None:
    """Identical batches that nothing refers to may be numbered by start time."""
    referenced = {b.upstream for b in problem.batches if b.upstream is not None}
    groups: list[list[ScheduleBatch]] = []
    for batch in problem.batches:
        if batch.id in referenced:
            continue
        for group in groups:
            if _interchangeable(group[0], batch):
                group.append(batch)
                break
        else:
            groups.append([batch])
    for group in groups:
        for a, b in itertools.pairwise(group):
            model.cp.add(model.start[a.id] <= model.start[b.id])


@dataclass(frozen=True)
class LevelScale:
    """How a level's costs enter CP-SAT, which only takes whole coefficients.

    ``factor`` multiplies every weight and cost before rounding. ``error`` bounds, in scaled
    units, how far the rounded level can lie from ``factor`` times the true one in any
    schedule: 0 when every coefficient became a whole number (``exact``)."""

    factor: int
    error: float

    @property
    def exact(self) -> bool:
        """Every coefficient entered unrounded: CP-SAT's optimum is the level's."""
        return self.error == 0

    def value(self, scaled: float) -> float:
        """A CP-SAT objective value in the problem's units."""
        return scaled / self.factor

    def lower_bound(self, scaled_bound: float) -> float:
        """A CP-SAT bound in the problem's units, lowered by the rounding that could hide
        below it, so that it bounds the true level."""
        return (scaled_bound - self.error) / self.factor


SCALE_POWERS = range(3, 10)
"""Scale factors tried, as powers of ten: the least that makes every coefficient whole wins."""
EXACT_INTEGER = 2**53
"""A level's scaled value must stay below this, where doubles (CP-SAT's objective values)
still count every whole number."""
ULPS_FROM_WHOLE = 8
"""A scaled coefficient this many units in the last place from a whole number counts as whole
(float noise in weight × cost, as in 0.013 × 55.5 × 10⁴ = 7215.000000000001)."""


def _rounding_error(scaled: float) -> float:
    """How far ``scaled`` lies from the whole number it enters CP-SAT as; 0 for float noise."""
    error = abs(round(scaled) - scaled)
    return 0.0 if error <= ULPS_FROM_WHOLE * math.ulp(scaled) else error


def choose_scale(coefficients: list[tuple[float, int]]) -> LevelScale:
    """The least power of ten (from :data:`COST_SCALE`) that turns every ``(coefficient,
    reach)`` whole, where ``reach`` is the largest value its variable takes; without one,
    the largest that keeps the level below :data:`EXACT_INTEGER`, with its rounding error.

    A weight of 0.013 on a cost of 55.5 is 0.7215: rounded at 0.001 it would enter as
    0.722, and CP-SAT's bound would lie above the schedule's true value."""
    best: LevelScale | None = None
    for power in SCALE_POWERS:
        factor = 10**power
        if sum(abs(c) * factor * reach for c, reach in coefficients) >= EXACT_INTEGER:
            break
        error = sum(_rounding_error(c * factor) * reach for c, reach in coefficients)
        best = LevelScale(factor, error)
        if error == 0:
            return best
    if best is None:
        factor = COST_SCALE
        error = sum(_rounding_error(c * factor) * reach for c, reach in coefficients)
        best = LevelScale(factor, error)
    return best


def _level_expression(
    problem: ScheduleProblem, model: ScheduleModel, level: tuple[ObjectiveTerm, ...]
) -> tuple[cp_model.LinearExprT, LevelScale]:
    """The level as a CP-SAT expression with whole coefficients, and how it was scaled."""
    cp = model.cp
    parts: list[tuple[float, cp_model.LinearExprT, int]] = []
    """(coefficient, expression, largest value of the expression)"""
    for term in level:
        weight = term.weight
        if term.kind is ObjectiveKind.MAKESPAN:
            makespan = cp.new_int_var(0, problem.horizon_h, "makespan")
            cp.add_max_equality(makespan, list(model.end.values()))
            model.makespans.append(makespan)
            parts.append((weight, makespan, problem.horizon_h))
        elif term.kind in LATENESS_KINDS:
            for batch in problem.batches:
                late_from = batch.late_from_h(term.kind)
                if late_from is None or batch.tardiness_weight == 0:
                    continue
                reach = max(0, problem.horizon_h - late_from)
                late = model.late.get((term.kind, batch.id))
                if late is None:
                    late = cp.new_int_var(0, reach, f"{term.kind.value}[{batch.id}]")
                    cp.add(late >= model.end[batch.id] - late_from)
                    model.late[term.kind, batch.id] = late
                parts.append((weight * batch.tardiness_weight, late, reach))
        elif term.kind is ObjectiveKind.CHANGEOVER_COST:
            parts.extend((weight * cost, literal, 1) for literal, cost in model.arc_costs)
        else:
            parts.extend(_change_terms(problem, model, weight))
    scale = choose_scale([(c, reach) for c, _, reach in parts if c != 0])
    terms = [round(c * scale.factor) * expression for c, expression, _ in parts if c != 0]
    return (sum(terms) if terms else 0), scale


def _change_terms(
    problem: ScheduleProblem, model: ScheduleModel, weight: float
) -> list[tuple[float, cp_model.LinearExprT, int]]:
    """``schedule_changes`` as (coefficient, expression, largest value) parts."""
    cp = model.cp
    out: list[tuple[float, cp_model.LinearExprT, int]] = []
    for batch in problem.batches:
        if batch.previous is None or batch.frozen:
            continue
        # The published start may lie outside this instance's window (a plan made on a
        # longer horizon): the shift must reach every start the batch may still take.
        was = batch.previous.start_h
        domain = model.start[batch.id].proto.domain
        reach = max(abs(was - domain[0]), abs(was - domain[-1]))
        shift = cp.new_int_var(0, reach, f"shift[{batch.id}]")
        cp.add_abs_equality(shift, model.start[batch.id] - was)
        out.append((weight * problem.move_cost_per_h, shift, reach))
        if problem.suite_change_cost:
            stays = model.on_suite.get((batch.id, batch.previous.suite))
            moved: cp_model.LinearExprT = 1 if stays is None else 1 - stays
            out.append((weight * problem.suite_change_cost, moved, 1))
    return out


def add_warm_start(
    problem: ScheduleProblem, model: ScheduleModel, start: list[ScheduledBatch] | None
) -> None:
    """Hint the greedy schedule when there is one, else the published positions."""
    if start is None:
        for batch in problem.batches:
            if batch.previous is None:
                continue
            model.cp.add_hint(model.start[batch.id], batch.previous.start_h)
            for option in _open_options(batch):
                model.cp.add_hint(
                    model.on_suite[batch.id, option.suite], option.suite == batch.previous.suite
                )
        return
    for item in start:
        model.cp.add_hint(model.start[item.batch], item.start_h)
        model.cp.add_hint(model.end[item.batch], item.end_h)
        batch = problem.batch_by_id[item.batch]
        for kind in sorted(LATENESS_KINDS):
            late = model.late.get((kind, item.batch))
            late_from = batch.late_from_h(kind)
            if late is not None and late_from is not None:
                model.cp.add_hint(late, max(0, item.end_h - late_from))
    suite_of = {item.batch: item.suite for item in start}
    for (batch_id, suite), literal in model.on_suite.items():
        model.cp.add_hint(literal, suite_of[batch_id] == suite)
    held_h = {(item.batch, item.suite): item.end_h - item.start_h for item in start}
    for (batch_id, suite), held in model.held.items():
        # A complete hint: CP-SAT repairs nothing and starts from the schedule itself.
        shortest = problem.batch_by_id[batch_id].duration_on(suite) or 0
        model.cp.add_hint(held, held_h.get((batch_id, suite), shortest))
    for makespan in model.makespans:
        model.cp.add_hint(makespan, max(item.end_h for item in start))
    follows: set[tuple[str, str, str]] = set()
    for suite, sequence in suite_sequences(start).items():
        ids = ["", *(item.batch for item in sequence), ""]
        follows.update((suite, a, b) for a, b in itertools.pairwise(ids))
        run = 0
        for index, item in enumerate(sequence):
            run = run + 1 if index and sequence[index - 1].product == item.product else 1
            position = model.positions.get((item.batch, suite))
            if position is not None:
                model.cp.add_hint(position, run)
    used = {suite for suite, _, _ in follows}
    for (suite, a, b), literal in model.arcs.items():
        if a == b == "":
            model.cp.add_hint(literal, suite not in used)
        else:
            model.cp.add_hint(literal, (suite, a, b) in follows)


def hint_everything(cp: cp_model.CpModel, solver: cp_model.CpSolver) -> None:
    cp.clear_hints()
    for index in range(len(cp.proto.variables)):
        variable = cp.get_int_var_from_proto_index(index)
        cp.add_hint(variable, solver.value(variable))


def extract_schedule(
    problem: ScheduleProblem, model: ScheduleModel, solver: cp_model.CpSolver
) -> list[ScheduledBatch]:
    placed = []
    for batch in problem.batches:
        suite = next(
            o.suite for o in _open_options(batch) if solver.value(model.on_suite[batch.id, o.suite])
        )
        placed.append(
            ScheduledBatch(
                batch.id,
                batch.product,
                suite,
                solver.value(model.start[batch.id]),
                solver.value(model.end[batch.id]),
            )
        )
    placed.sort(key=lambda b: (b.suite, b.start_h, b.batch))
    return placed


@dataclass(frozen=True)
class LevelsOutcome:
    """What CP-SAT found, level by level."""

    placed: list[ScheduledBatch] | None
    """The schedule of the last level solved, ``None`` when none was found."""
    code: cp_model.CpSolverStatus
    """CP-SAT status of the last level tried."""
    optimal: bool
    """Every level proved optimal (CP-SAT proved each, and each entered it exactly)."""
    first_bound: float | None
    """A lower bound on the first level from CP-SAT's, in the problem's units."""
    time_out: bool = False
    """A level stopped at its share of the time limit, or was not reached before it."""


def minimise_levels(
    problem: ScheduleProblem,
    model: ScheduleModel,
    solver: cp_model.CpSolver,
    time_limit: float,
    control: SolveControl | None = None,
) -> LevelsOutcome:
    """Minimise the objective levels in turn, each held at its optimum (or best) value while
    the next is minimised; the time left is shared evenly by the levels still to come.

    With a ``control``, the first level's schedules and bound are reported, and a cancel
    stops the level being minimised and skips the rest."""
    started = time.perf_counter()
    levels = model.levels
    placed: list[ScheduledBatch] | None = None
    code: cp_model.CpSolverStatus = cp_model.UNKNOWN
    optimal = True
    time_out = False
    first_bound = None
    for index, expression in enumerate(levels):
        scale = model.scales[index]
        remaining = time_limit - (time.perf_counter() - started)
        if remaining <= 0 or stopped(control):
            optimal = False
            time_out = True
            break
        solver.parameters.max_time_in_seconds = remaining / (len(levels) - index)
        model.cp.minimize(expression)
        code = solve_watched(
            solver,
            model.cp,
            control,
            message=f"CP-SAT, level {index + 1} of {len(levels)}",
            objective=scale.value,
            report_objective=index == 0,
        )
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            optimal = False
            time_out = code == cp_model.UNKNOWN
            break
        placed = extract_schedule(problem, model, solver)
        if index == 0:
            first_bound = scale.lower_bound(solver.best_objective_bound)
        time_out = time_out or code != cp_model.OPTIMAL
        optimal = optimal and code == cp_model.OPTIMAL and scale.exact
        model.cp.add(expression <= round(solver.objective_value))
        hint_everything(model.cp, solver)
    return LevelsOutcome(placed, code, optimal and placed is not None, first_bound, time_out)
