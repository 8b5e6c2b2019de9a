"""Read the ``schedule`` of an ``opencdmo-result/1`` document back into a solution.

Lets the independent checkers verify a result file produced by any solver, as the format's
"conforming checker" does: no solver is involved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opencdmo.engines.planning import json_fields as jf
from opencdmo.engines.planning.campaign_problem import CampaignProblem
from opencdmo.engines.planning.campaign_solution import (
    CampaignSolution,
    CrudeShipment,
    ProductPeriod,
    SiteCrude,
    SuiteCampaign,
)
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.fjsp_problem import FjspProblem
from opencdmo.engines.planning.fjsp_solution import FjspAssignment, FjspSolution
from opencdmo.engines.planning.result import RESULT_FORMAT
from opencdmo.engines.planning.schedule_problem import ScheduleProblem
from opencdmo.engines.planning.schedule_solution import ScheduledBatch, ScheduleSolution
from opencdmo.engines.planning.stn_problem import StnProblem
from opencdmo.engines.planning.stn_solution import StnBatch, StnSolution

ReadSolution = StnSolution | CampaignSolution | ScheduleSolution | FjspSolution


def read_result(
    path: Path | str, problem: StnProblem | CampaignProblem | ScheduleProblem | FjspProblem
) -> tuple[ReadSolution | None, float | None]:
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


def _parse(
    document: dict[str, Any], problem: StnProblem | CampaignProblem | ScheduleProblem | FjspProblem
) -> tuple[ReadSolution | None, float | None]:
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
    if isinstance(problem, StnProblem):
        return _stn(problem, schedule, parts), objective
    if isinstance(problem, CampaignProblem):
        return _campaign(problem, schedule, parts), objective
    if isinstance(problem, ScheduleProblem):
        return _schedule(problem, schedule, parts), objective
    return _fjsp(schedule), objective


def _stn(problem: StnProblem, schedule: dict[str, Any], parts: dict[str, float]) -> StnSolution:
    batches = []
    for n, raw in enumerate(jf.array(schedule["batches"], "schedule.batches")):
        item = jf.obj(raw, f"schedule.batches[{n}]")
        task = problem.task_by_name.get(item["task"])
        start_h = jf.real(item["start_h"], f"schedule.batches[{n}].start_h")
        end_h = start_h + (task.duration_h if task is not None else 0.0)
        batches.append(
            StnBatch(
                item["task"],
                item["unit"],
                start_h,
                end_h,
                jf.real(item["batch_kg"], f"schedule.batches[{n}].batch_kg"),
            )
        )
    inventory = {
        state: tuple(float(x) for x in levels)
        for state, levels in jf.obj(schedule["inventory_kg"], "schedule.inventory_kg").items()
    }
    return StnSolution(
        tuple(batches),
        inventory,
        parts.get("inventory_value", float("nan")),
        parts.get("fixed_costs", float("nan")),
        parts.get("variable_costs", float("nan")),
    )


def _campaign(
    problem: CampaignProblem, schedule: dict[str, Any], parts: dict[str, float]
) -> CampaignSolution:
    campaigns = tuple(
        SuiteCampaign(
            c["suite"],
            int(c["period"]),
            c["product"],
            float(c["days"]),
            bool(c["new_campaign"]),
            bool(c["lead_time"]),
            c["batches"],
        )
        for c in jf.array(schedule["campaigns"], "schedule.campaigns")
    )
    rows = tuple(
        ProductPeriod(
            r["product"],
            int(r["period"]),
            float(r["sales_batches"]),
            float(r["usp_waste_batches"]),
            float(r["dsp_waste_batches"]),
            float(r["usp_inventory_batches"]),
            float(r["dsp_inventory_batches"]),
            float(r["backlog_batches"]),
        )
        for r in jf.array(schedule["products"], "schedule.products")
    )
    shipments = tuple(
        CrudeShipment(
            s["product"], s["from_site"], s["to_site"], int(s["period"]), float(s["batches"])
        )
        for s in schedule.get("crude_shipments", [])
    )
    site_crude = tuple(
        SiteCrude(
            s["product"],
            s["site"],
            int(s["period"]),
            float(s["waste_batches"]),
            float(s["inventory_batches"]),
        )
        for s in schedule.get("site_crude", [])
    )
    return CampaignSolution(
        campaigns=campaigns,
        products=rows,
        period_length_d=problem.period_length_d,
        sales_revenue=parts.get("sales_revenue", float("nan")),
        production_cost=parts.get("production_cost", float("nan")),
        changeover_cost=parts.get("changeover_cost", float("nan")),
        storage_cost=parts.get("storage_cost", float("nan")),
        backlog_cost=parts.get("backlog_cost", float("nan")),
        waste_cost=parts.get("waste_cost", float("nan")),
        shipments=shipments,
        site_crude=site_crude,
    )


def _schedule(
    problem: ScheduleProblem, schedule: dict[str, Any], parts: dict[str, float]
) -> ScheduleSolution:
    batches = tuple(
        ScheduledBatch(
            b["batch"],
            b["product"],
            b["suite"],
            jf.integer(b["start_h"], f"schedule.batches[{n}].start_h"),
            jf.integer(b["end_h"], f"schedule.batches[{n}].end_h"),
        )
        for n, b in enumerate(jf.array(schedule["batches"], "schedule.batches"))
    )
    levels = tuple(
        parts.get(f"level_{n}", float("nan")) for n in range(1, len(problem.objective) + 1)
    )
    terms = {k: v for k, v in parts.items() if not k.startswith("level_")}
    return ScheduleSolution(batches, terms, levels)


def _fjsp(schedule: dict[str, Any]) -> FjspSolution:
    return FjspSolution(
        tuple(
            FjspAssignment(
                int(a["job"]),
                int(a["operation"]),
                int(a["machine"]),
                int(a["start"]),
                int(a["end"]),
            )
            for a in jf.array(schedule["operations"], "schedule.operations")
        )
    )
