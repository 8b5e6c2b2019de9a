"""A result as people read it: the summary that ``opencdmo plan --format table`` prints."""

from __future__ import annotations

from typing import Any

from opencdmo.engines.planning.registry import PROBLEM_KINDS
from opencdmo.engines.planning.result import Result


def summary_table(result: Result[Any], check: str | None = None) -> str:
    """Status, objective with its meaning, bound, gap, time, the conflicts of an infeasible
    instance, then one row per bar of the plan, grouped by suite, unit or machine.

    Parameters
    ----------
    result
        The solve's result.
    check
        The independent checker's verdict (``"passed"`` or why not); ``None``: not checked.

    Returns
    -------
    str
        Lines of text, ending in a newline.
    """
    kind = PROBLEM_KINDS[result.problem]
    meaning = result.objective_meaning
    objective = _number(result.objective)
    if meaning is not None and result.objective is not None:
        objective += f" ({meaning.describe()})"
    rows = [
        ("problem", f"{result.problem} {result.instance_id}"),
        ("status", result.status.value + (", stopped on request" if result.cancelled else "")),
        ("objective", objective),
        ("bound", _number(result.bound)),
        ("gap", "-" if result.gap is None else f"{100 * result.gap:.2f} %"),
        ("time", f"{result.wall_s:.2f} s"),
    ]
    if check is not None:
        rows.append(("check", check))
    rows += [("why", f"{conflict.rule}: {conflict.reason}") for conflict in result.conflicts]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label.ljust(width)}  {value}" for label, value in rows]
    bars = sorted(result.gantt(), key=lambda bar: (bar.resource, bar.start, bar.label))
    if bars:
        unit = "" if kind.time_unit == "time units" else f" ({kind.time_unit})"
        table = [(kind.resource, f"start{unit}", f"end{unit}", "what")]
        table += [(bar.resource, _time(bar.start), _time(bar.end), bar.label) for bar in bars]
        widths = [max(len(row[column]) for row in table) for column in range(3)]
        lines.append("")
        for resource, start, end, label in table:
            lines.append(
                f"{resource.ljust(widths[0])}  {start.rjust(widths[1])}  "
                f"{end.rjust(widths[2])}  {label}"
            )
    return "\n".join(lines) + "\n"


def _number(value: float | None) -> str:
    """A value without float noise: ``598``, ``4969.6967``; ``-`` when there is none."""
    if value is None:
        return "-"
    return f"{value:.10g}" if value != round(value) else f"{round(value)}"


def _time(value: float) -> str:
    """A bar's start or end to two decimals: ``54.22``, ``60``."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
