"""What-if scenarios of a site's plan: edits to its documents and the figures to compare.

Edits change the ``opencdmo-schedule/1`` instance only: a downtime on a unit (maintenance or
a breakdown), a lot's due date, a lot removed, a lot added like an existing one. Solving then
reschedules from the published plan: what has started stays, everything else may move, and
moves cost (``schedule_changes``), so a reschedule after a breakdown moves only what it must.
By default lateness counts only where the change adds to it (``lateness_increase``): a lot
that was late as published may stay as late, so the solve does not reshuffle the whole plan
to chase it; a planner who wants that asks for a re-optimisation.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from opencdmo.engines.planning.promise import changeover_count, plan_in_force, utilisation

REPAIR = "repair"
REOPTIMISE = "reoptimise"

OBJECTIVES = {
    goal: {
        "levels": [
            [{"kind": first}],
            [{"kind": "schedule_changes"}, {"kind": "changeover_cost", "weight": 0.001}],
        ]
    }
    for goal, first in ((REPAIR, "lateness_increase"), (REOPTIMISE, "weighted_tardiness"))
}
"""A solve's objective by the planner's goal: a repair counts only the lateness it adds to
the published plan; a re-optimisation all lateness, so it also moves what was late before."""


class EditError(ValueError):
    """An edit the scenario's documents cannot take; the message names the field."""


def lots(instance: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Batches of each lot (ids are ``<lot>-<stage>``), in chain order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for batch in instance["batches"]:
        found.setdefault(batch["id"].rpartition("-")[0] or batch["id"], []).append(batch)
    return found


def _lot(instance: dict[str, Any], lot: str) -> list[dict[str, Any]]:
    chain = lots(instance).get(lot)
    if not chain:
        raise EditError(f"lot: no lot '{lot}' in this scenario")
    return chain


def add_downtime(
    instance: dict[str, Any], unit: str, start_h: int, end_h: int, reason: str
) -> dict[str, Any]:
    """``instance`` with the unit stopped in ``[start_h, end_h)``."""
    out = copy.deepcopy(instance)
    suite = next((s for s in out["suites"] if s["name"] == unit), None)
    if suite is None:
        raise EditError(f"unit: no unit '{unit}' in this plan")
    if end_h <= start_h:
        raise EditError("end: the downtime must end after it starts")
    if start_h < 0 or end_h > out["horizon_h"]:
        raise EditError("start: the downtime must lie within the plan's horizon")
    suite.setdefault("downtimes", []).append({"start_h": start_h, "end_h": end_h, "reason": reason})
    return out


def set_due(instance: dict[str, Any], lot: str, due_h: int) -> dict[str, Any]:
    """``instance`` with the lot's last stage due at ``due_h``."""
    out = copy.deepcopy(instance)
    chain = _lot(out, lot)
    if due_h < 0:
        raise EditError("due: the due date lies before the plan starts")
    chain[-1]["due_h"] = due_h
    chain[-1].pop("deadline_h", None)
    return out


def remove_lot(instance: dict[str, Any], lot: str) -> dict[str, Any]:
    out = copy.deepcopy(instance)
    ids = {b["id"] for b in _lot(out, lot)}
    if any(b.get("frozen") for b in out["batches"] if b["id"] in ids):
        raise EditError(f"lot: '{lot}' has started; it cannot be removed from the plan")
    remaining = [b for b in out["batches"] if b["id"] not in ids]
    if not remaining:
        raise EditError("lot: a plan needs at least one batch")
    out["batches"] = remaining
    return out


def add_lot(
    instance: dict[str, Any], like: str, release_h: int, due_h: int | None
) -> tuple[dict[str, Any], str]:
    """``instance`` with a new lot run like ``like`` (same product, stages and units)."""
    out = copy.deepcopy(instance)
    chain = _lot(out, like)
    prefix = like.rpartition("-")[0] or like
    taken = set(lots(out))
    number = next(n for n in itertools.count(1) if f"{prefix}-N{n}" not in taken)
    lot = f"{prefix}-N{number}"
    previous_id: str | None = None
    for index, batch in enumerate(chain):
        stage = batch["id"].rpartition("-")[2]
        item = {
            key: value
            for key, value in batch.items()
            if key not in {"id", "previous", "frozen", "due_h", "deadline_h", "upstream"}
        }
        item.update(id=f"{lot}-{stage}", release_h=max(0, release_h))
        if previous_id is not None:
            item["upstream"] = previous_id
        if index == len(chain) - 1 and due_h is not None:
            item["due_h"] = due_h
        out["batches"].append(item)
        previous_id = item["id"]
    return out, lot


def for_reschedule(
    instance: dict[str, Any],
    base: dict[str, Any] | None,
    now_h: int,
    published: dict[str, Any] | None = None,
    goal: str = REPAIR,
) -> dict[str, Any]:
    """The instance to solve: batches of the base plan keep their place as ``previous``
    (frozen once started), and moves cost. A batch whose due date differs from the one in
    the ``published`` instance loses its ``previous``: its lateness counts from the new due
    date, not from its published end, and it moves freely. ``goal`` picks the objective
    (``OBJECTIVES``)."""
    out = plan_in_force(instance, base, now_h, keep_promises=False)
    out["objective"] = copy.deepcopy(OBJECTIVES[goal])
    was_due = {b["id"]: b.get("due_h") for b in (published or {}).get("batches", [])}
    for batch in out["batches"]:
        changed = batch["id"] in was_due and was_due[batch["id"]] != batch.get("due_h")
        if changed and not batch.get("frozen"):
            batch.pop("previous", None)
    return out


def figures(
    instance: dict[str, Any],
    result: dict[str, Any],
    base: dict[str, Any] | None,
    now_h: int,
) -> dict[str, Any]:
    """What a planner compares scenarios by."""
    placed: list[dict[str, Any]] = (result.get("schedule") or {}).get("batches", [])
    by_id = {b["id"]: b for b in instance["batches"]}
    late = []
    weighted = 0.0
    for item in placed:
        due = by_id[item["batch"]].get("due_h")
        if due is not None and item["end_h"] > due:
            hours = item["end_h"] - due
            late.append(hours)
            weighted += float(by_id[item["batch"]].get("tardiness_weight", 1.0)) * hours
    before = {b["batch"]: b for b in ((base or {}).get("schedule") or {}).get("batches", [])}
    moved = sum(
        1
        for b in placed
        if b["batch"] in before
        and (before[b["batch"]]["suite"], before[b["batch"]]["start_h"])
        != (b["suite"], b["start_h"])
    )
    horizon = int(instance["horizon_h"])
    units = [s["name"] for s in instance["suites"]]
    per_unit = {
        unit: round(utilisation((b for b in placed if b["suite"] == unit), 1, now_h, horizon), 3)
        for unit in units
    }
    return {
        "weighted_lateness_h": round(weighted, 3),
        "late_batches": len(late),
        "max_lateness_h": max(late, default=0),
        "changeovers": changeover_count(placed),
        "moved": moved,
        "utilisation": round(utilisation(placed, len(units), now_h, horizon), 3),
        "utilisation_per_unit": per_unit,
        "batches": len(placed),
        "status": result.get("status"),
    }
