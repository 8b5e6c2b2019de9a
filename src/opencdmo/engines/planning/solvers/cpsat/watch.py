"""Run CP-SAT under a :class:`SolveControl`: report its solutions and bound, stop it on cancel.

CP-SAT calls back from its own worker threads, while :mod:`opencdmo.engines.progress` asks
engines to report from the thread that runs them. So the solve runs on a helper thread (CP-SAT
releases the interpreter lock) and the calling thread forwards the callbacks' reports from a
queue, polling the cancel token between them and calling ``StopSearch`` once it is set.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from ortools.sat.python import cp_model

from opencdmo.engines.planning.solvers.control import SolveControl, Throttle

POLL_S = 0.05
"""How often the calling thread looks at the cancel token while CP-SAT searches."""


class _Reporter(cp_model.CpSolverSolutionCallback):
    """Queues every solution's objective and the bound at that moment."""

    def __init__(self, reports: queue.SimpleQueue[tuple[float | None, float | None]]) -> None:
        super().__init__()
        self._reports = reports

    def on_solution_callback(self) -> None:
        self._reports.put((self.objective_value, self.best_objective_bound))


def solve_watched(
    solver: cp_model.CpSolver,
    model: cp_model.CpModel,
    control: SolveControl | None,
    *,
    message: str,
    objective: Callable[[float], float] = float,
    report_objective: bool = True,
) -> cp_model.CpSolverStatus:
    """``solver.solve(model)``, with reports to and the stop check of ``control``.

    Parameters
    ----------
    solver, model
        As for ``CpSolver.solve``.
    control
        Progress and cancel; ``None``: a plain solve.
    message
        Text of the reports.
    objective
        Turns CP-SAT's objective value (and bound) into the problem's unit.
    report_objective
        ``False`` while the model's objective is not the problem's (a later lexicographic
        level): the reports then carry neither objective nor bound.

    Returns
    -------
    cp_model.CpSolverStatus
        CP-SAT's status; a cancel makes it ``FEASIBLE`` or ``UNKNOWN``, as a time limit does
        (``UNKNOWN`` without a search when the token was cancelled before).
    """
    if control is None:
        return solver.solve(model)
    if control.stopped:
        return cp_model.UNKNOWN
    reports: queue.SimpleQueue[tuple[float | None, float | None]] = queue.SimpleQueue()
    solver.best_bound_callback = lambda bound: reports.put((None, bound))
    outcome: list[cp_model.CpSolverStatus] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(solver.solve(model, _Reporter(reports)))
        except BaseException as error:  # re-raised in the calling thread
            failure.append(error)

    worker = threading.Thread(target=run, name="cp-sat", daemon=True)
    worker.start()
    throttle = Throttle()
    best: float | None = None
    bound: float | None = None
    while worker.is_alive() or not reports.empty():
        if control.stopped:
            # Asked again at every poll: a request before CP-SAT has started is not kept.
            solver.stop_search()
        try:
            found, proved = reports.get(timeout=POLL_S)
        except queue.Empty:
            continue
        if proved is not None:
            bound = objective(proved)
        if found is not None:
            best = objective(found)
        if report_objective and (found is not None or throttle.due()):
            control.report(message, best, bound)
    worker.join()
    solver.best_bound_callback = None
    if failure:
        raise failure[0]
    return outcome[0]
