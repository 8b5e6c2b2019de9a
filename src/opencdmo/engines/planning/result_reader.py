"""Read the ``schedule`` of an ``opencdmo-result/1`` document back into a solution.

Lets the independent checkers verify a result file produced by any solver, as the format's
"conforming checker" does: no solver is involved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opencdmo.engines.planning import json_fields as jf
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.registry import Problem, Solution, kind_of
from opencdmo.engines.planning.result import RESULT_FORMAT


def read_result(path: Path | str, problem: Problem) -> tuple[Solution | None, float | None]:
    """Read a result file's solution and objective for ``problem``.

    Parameters
    ----------
    path
        An ``opencdmo-result/1`` file.
    problem
        The instance the result claims to solve.

    Returns
    -------
    tuple
        The solution (``None`` when the document has no schedule) and the reported objective.

    Raises
    ------
    InstanceError
        When the document is malformed, naming the file, the JSON path and the reason.
    """
    document = jf.load_document(path)
    try:
        return _parse(document, problem)
    except (KeyError, TypeError) as error:
        raise InstanceError("schedule", f"malformed schedule: {error!r}", str(path)) from None
    except InstanceError as error:
        raise error.within("", str(path)) from None


def _parse(document: dict[str, Any], problem: Problem) -> tuple[Solution | None, float | None]:
    jf.format_tag(document, RESULT_FORMAT)
    objective = jf.number(document.get("objective"), "objective", nullable=True)
    schedule = document.get("schedule")
    if schedule is None:
        return None, objective
    jf.obj(schedule, "schedule")
    parts = {
        k: float(v)
        for k, v in jf.obj(document.get("objective_breakdown", {}), "objective_breakdown").items()
    }
    return kind_of(problem).read_solution(problem, schedule, parts), objective
