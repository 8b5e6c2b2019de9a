"""A thin, fast bridge to HiGHS: collect columns and sparse rows, pass them in one call.

The planning MILPs are built as plain lists (no modelling layer) and handed to HiGHS as one
row-wise matrix through ``passModel``, which keeps model building to a few milliseconds.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
from numpy.typing import NDArray

from opencdmo.engines.planning.result import (
    Result,
    Sense,
    SolutionT,
    SolverInfo,
    SolveStatus,
    relative_gap,
)
from opencdmo.engines.planning.solvers.control import SolveControl, Throttle

INFINITY = math.inf
OPTIMALITY_GAP = 1e-6


@dataclass
class LinearModel:
    """Columns and rows of a mixed-integer linear programme under construction."""

    col_cost: list[float] = field(default_factory=list)
    col_lower: list[float] = field(default_factory=list)
    col_upper: list[float] = field(default_factory=list)
    col_integer: list[bool] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_start: list[int] = field(default_factory=lambda: [0])
    row_index: list[int] = field(default_factory=list)
    row_value: list[float] = field(default_factory=list)
    objective_offset: float = 0.0

    def add_var(
        self, lower: float = 0.0, upper: float = INFINITY, cost: float = 0.0, integer: bool = False
    ) -> int:
        """Add a column and return its index."""
        self.col_cost.append(cost)
        self.col_lower.append(lower)
        self.col_upper.append(upper)
        self.col_integer.append(integer)
        return len(self.col_cost) - 1

    def add_row(
        self, lower: float, upper: float, indices: Sequence[int], values: Sequence[float]
    ) -> int:
        """Add the row ``lower ≤ Σ values·x[indices] ≤ upper`` and return its index."""
        merged: dict[int, float] = {}
        for index, value in zip(indices, values, strict=True):
            merged[index] = merged.get(index, 0.0) + value
        for index, value in merged.items():
            if value != 0.0:
                self.row_index.append(index)
                self.row_value.append(value)
        self.row_start.append(len(self.row_index))
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        return len(self.row_lower) - 1

    @property
    def num_cols(self) -> int:
        """Number of columns."""
        return len(self.col_cost)

    @property
    def num_rows(self) -> int:
        """Number of rows."""
        return len(self.row_lower)


@dataclass(frozen=True)
class MilpOutcome:
    """What HiGHS reported."""

    status: SolveStatus
    objective: float | None
    bound: float | None
    values: NDArray[np.float64] | None
    nodes: int


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Send file descriptor 1 to the null device (HiGHS prints a banner when constructed)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def tightest_bound(bounds: Iterable[float | None], maximise: bool) -> float | None:
    """The tightest of several valid bounds on one objective (``None`` if none is finite)."""
    finite = [b for b in bounds if b is not None and math.isfinite(b)]
    if not finite:
        return None
    return min(finite) if maximise else max(finite)


def with_bound(
    outcome: MilpOutcome, bound: float | None, nodes: int, maximise: bool
) -> MilpOutcome:
    """``outcome``'s plan judged against a bound proved elsewhere.

    Optimal when the plan reaches the bound within :data:`OPTIMALITY_GAP` (the bound then
    never lies on the wrong side of the plan's value); otherwise a plan that was optimal only
    for its own, restricted model is reported as stopped at the time limit.
    """
    objective = outcome.objective
    if objective is not None and bound is not None:
        shortfall = (bound - objective) if maximise else (objective - bound)
        if shortfall <= OPTIMALITY_GAP * max(1.0, abs(objective)):
            bound = max(bound, objective) if maximise else min(bound, objective)
            return MilpOutcome(SolveStatus.OPTIMAL, objective, bound, outcome.values, nodes)
    status = SolveStatus.TIME_LIMIT if outcome.status is SolveStatus.OPTIMAL else outcome.status
    return MilpOutcome(status, objective, bound, outcome.values, nodes)


def highs_version() -> str:
    """Version string of the HiGHS library in use."""
    return (
        f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
    )


def solve_milp(
    model: LinearModel,
    *,
    maximise: bool,
    time_limit_s: float,
    threads: int,
    seed: int,
    mip_rel_gap: float = 0.0,
    options: Mapping[str, bool | int | float | str] | None = None,
    start: NDArray[np.float64] | None = None,
    control: SolveControl | None = None,
) -> MilpOutcome:
    """Solve ``model`` with HiGHS.

    Parameters
    ----------
    model
        The programme.
    maximise
        Direction of the objective.
    time_limit_s
        Wall-clock limit in seconds.
    threads
        Number of threads HiGHS may use.
    seed
        Random seed of HiGHS.
    mip_rel_gap
        Relative gap at which branch and bound stops.
    options
        Further HiGHS options, by name.
    start
        Values of every column of a known plan, handed to HiGHS as its first incumbent.
    control
        Progress and cancel: improved incumbents and the bound are reported, and a cancel
        interrupts branch and bound (the plan found so far is kept, status ``time_limit``).

    Returns
    -------
    MilpOutcome
        Status, objective, bound, column values and node count.
    """
    with _stdout_silenced():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit_s))
    highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("random_seed", int(seed))
    highs.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    highs.setOptionValue("mip_abs_gap", 1e-9)
    for name, value in (options or {}).items():
        highs.setOptionValue(name, value)

    lp = highspy.HighsLp()
    lp.num_col_ = model.num_cols
    lp.num_row_ = model.num_rows
    lp.col_cost_ = np.asarray(model.col_cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(model.col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(model.col_upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(model.row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(model.row_upper, dtype=np.float64)
    lp.offset_ = model.objective_offset
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = model.num_cols
    lp.a_matrix_.num_row_ = model.num_rows
    lp.a_matrix_.start_ = np.asarray(model.row_start, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(model.row_index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(model.row_value, dtype=np.float64)
    if any(model.col_integer):
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in model.col_integer
        ]
    highs.passModel(lp)
    if start is not None:
        incumbent = highspy.HighsSolution()
        incumbent.col_value = [float(x) for x in start]
        incumbent.value_valid = True
        highs.setSolution(incumbent)
    # HiGHS keeps one thread pool per process, sized by the first solve; without a reset a
    # later solve that asks for another thread count fails with status "Not Set".
    highspy.Highs.resetGlobalScheduler(True)
    if control is not None:
        _watch(highs, control)
    highs.run()

    model_status = highs.getModelStatus()
    info = highs.getInfo()
    nodes = int(info.mip_node_count) if info.mip_node_count >= 0 else 0
    has_solution = info.primal_solution_status == 2
    values = np.asarray(highs.getSolution().col_value, dtype=np.float64) if has_solution else None
    objective = float(info.objective_function_value) if has_solution else None
    bound: float | None
    if any(model.col_integer):
        dual_bound = float(info.mip_dual_bound)
        bound = dual_bound if math.isfinite(dual_bound) else None
    else:
        bound = objective if model_status == highspy.HighsModelStatus.kOptimal else None

    if model_status == highspy.HighsModelStatus.kInfeasible:
        return MilpOutcome(SolveStatus.INFEASIBLE, None, None, None, nodes)
    if model_status == highspy.HighsModelStatus.kOptimal and objective is not None:
        if bound is None:
            bound = objective
        gap = abs(bound - objective) / max(1.0, abs(objective))
        status = SolveStatus.OPTIMAL if gap <= OPTIMALITY_GAP else SolveStatus.FEASIBLE
        return MilpOutcome(status, objective, bound, values, nodes)
    if model_status in (
        highspy.HighsModelStatus.kTimeLimit,
        highspy.HighsModelStatus.kInterrupt,
    ):
        return MilpOutcome(SolveStatus.TIME_LIMIT, objective, bound, values, nodes)
    if objective is not None:
        return MilpOutcome(SolveStatus.FEASIBLE, objective, bound, values, nodes)
    raise RuntimeError(f"HiGHS stopped with status {highs.modelStatusToString(model_status)}")


def _watch(highs: highspy.Highs, control: SolveControl) -> None:
    """Report HiGHS's incumbents and bound to ``control`` and interrupt it once cancelled.

    Only subscribed with a control: a Python call per interrupt check costs time.
    """
    throttle = Throttle()

    def finite(value: float) -> float | None:
        return float(value) if math.isfinite(value) else None

    def improved(event: highspy.HighsCallbackEvent) -> None:
        control.report(
            "HiGHS: better plan",
            finite(event.data_out.objective_function_value),
            finite(event.data_out.mip_dual_bound),
        )

    def interrupt(event: highspy.HighsCallbackEvent) -> None:
        if control.stopped and event.data_in is not None:
            event.data_in.user_interrupt = True
        elif throttle.due():
            control.report(
                "HiGHS: branch and bound",
                finite(event.data_out.mip_primal_bound),
                finite(event.data_out.mip_dual_bound),
            )

    def interrupt_lp(event: highspy.HighsCallbackEvent) -> None:
        if control.stopped and event.data_in is not None:
            event.data_in.user_interrupt = True

    highs.cbMipImprovingSolution.subscribe(improved)
    highs.cbMipInterrupt.subscribe(interrupt)
    if control.cancel is not None:
        highs.cbSimplexInterrupt.subscribe(interrupt_lp)


def maximising_result(
    problem: str,
    instance_id: str,
    outcome: MilpOutcome,
    solution: SolutionT | None,
    objective: float | None,
    *,
    started: float,
    threads: int,
    time_limit: float,
    seed: int,
    cancelled: bool = False,
) -> Result[SolutionT]:
    """The result of a HiGHS maximisation: ``objective`` as recomputed from the plan, the
    outcome's bound (none when infeasible), the gap, wall time since ``started``
    (``time.perf_counter()``) and the solver's settings."""
    bound = None if outcome.status is SolveStatus.INFEASIBLE else outcome.bound
    return Result(
        problem=problem,
        instance_id=instance_id,
        status=outcome.status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, outcome.bound, Sense.MAXIMISE),
        wall_s=time.perf_counter() - started,
        solver=SolverInfo(
            name="HiGHS",
            version=highs_version(),
            threads=threads,
            time_limit_s=time_limit,
            seed=seed,
            mip_rel_gap=0.0,
            nodes=outcome.nodes,
        ),
        solution=solution,
        cancelled=cancelled,
    )
