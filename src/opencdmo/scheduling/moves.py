"""What moved in a project's lots between two published plan versions, and why.

A sponsor reads, for each of its lots, which stages moved ("production 27 h later",
"purification to another unit") and the kind of change that moved them ("equipment
breakdown"), never the planner's reason: that may name the site's other customers. The CDMO's
own users read the reasons as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django_scopes import scopes_disabled

from opencdmo.scheduling.models import SitePlan


@dataclass(frozen=True)
class StageMove:
    """One stage of a lot at another time or on another unit than in the earlier version."""

    stage: str
    hours: int
    """Positive: later."""
    other_unit: bool

    def words(self) -> str:
        """``"production 27 h later"``, ``"purification to another unit"``."""
        parts = []
        if self.hours:
            parts.append(f"{duration(abs(self.hours))} {'later' if self.hours > 0 else 'earlier'}")
        if self.other_unit:
            parts.append("to another unit")
        return f"{self.stage} {', '.join(parts)}"


@dataclass(frozen=True)
class LotMove:
    """What moved in one lot, and the versions, causes and reasons that moved it."""

    lot: str
    stages: tuple[StageMove, ...]
    versions: tuple[int, ...]
    causes: tuple[str, ...]
    reasons: tuple[str, ...]
    added: bool = False
    """The lot is not in the earlier version: it came with this project's later order."""

    def words(self) -> str:
        if self.added:
            return "new in the plan"
        return "; ".join(stage.words() for stage in self.stages)


@dataclass(frozen=True)
class PlanChange:
    """A published version as the project page tells it: its causes and its reason."""

    version: int
    causes: tuple[str, ...]
    reason: str
    published_at: dt.datetime


def duration(hours: int) -> str:
    """``27 h``, ``3 d 4 h``: hours up to two days, days and hours beyond."""
    if hours < 48:
        return f"{hours} h"
    days, rest = divmod(hours, 24)
    return f"{days} d {rest} h" if rest else f"{days} d"


def plan_changes(site_id: int, versions: Iterable[int]) -> dict[int, PlanChange]:
    """The causes and reasons of ``versions`` of a site's plan.

    Read past the caller's scope: a sponsor may not read the plan, but the page it sees shows
    only the causes; the reason reaches the CDMO's users alone (``what_moved``'s caller)."""
    with scopes_disabled():
        rows = SitePlan.objects.filter(site_id=site_id, version__in=list(versions)).values(
            "version", "causes", "reason", "published_at"
        )
        return {
            row["version"]: PlanChange(
                row["version"], tuple(row["causes"] or ()), row["reason"], row["published_at"]
            )
            for row in rows
        }


def what_moved(
    rows: Iterable[Mapping[str, Any]],
    baseline: int,
    latest: int,
    changes: Mapping[int, PlanChange],
) -> list[LotMove]:
    """Each lot of ``latest`` that moved since ``baseline``, with what moved it.

    ``rows`` are the project's planned batches of every version (``lot``, ``stage``,
    ``suite``, ``start``, ``plan__version``). A version is blamed for a lot when the lot's
    stages stand differently in it than in the project's version before it."""
    placed: dict[int, dict[tuple[str, str], tuple[dt.datetime, str]]] = {}
    for row in rows:
        placed.setdefault(row["plan__version"], {})[row["lot"], row["stage"]] = (
            row["start"],
            row["suite"],
        )
    versions = sorted(placed)
    if latest not in placed or baseline not in placed:
        return []
    now, before = placed[latest], placed[baseline]
    lots = sorted({lot for lot, _ in now})
    found = []
    for lot in lots:
        keys = sorted(k for k in now if k[0] == lot)
        if not any(k in before for k in keys):
            found.append(LotMove(lot, (), (), (), (), added=True))
            continue
        stages = []
        for key in keys:
            if key not in before:
                continue
            (start, suite), (was, was_on) = now[key], before[key]
            hours = round((start - was).total_seconds() / 3600)
            if hours or suite != was_on:
                stages.append(StageMove(key[1], hours, suite != was_on))
        if not stages:
            continue
        blamed = [
            version
            for earlier, version in pairwise(versions)
            if baseline <= earlier
            and version <= latest
            and any(placed[version].get(k) != placed[earlier].get(k) for k in keys)
        ]
        causes = [c for v in blamed for c in (changes[v].causes if v in changes else ())]
        reasons = [changes[v].reason for v in blamed if v in changes]
        found.append(
            LotMove(
                lot,
                tuple(stages),
                tuple(blamed),
                tuple(dict.fromkeys(causes)),
                tuple(dict.fromkeys(reasons)),
            )
        )
    return found
