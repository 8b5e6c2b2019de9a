"""Capable-to-promise: insert a request's batches into a site's plan in force and say when
they can run.

A site's published plan is an ``opencdmo-schedule/1`` instance with its ``opencdmo-result/1``
result. The promise freezes what has started, lets every other batch move but never end
later than it was promised (its due date, or its published end when that was later), adds
the request's batches as chains of stages, solves, and has the independent checker verify
the answer before anyone reads a date from it. Documents in, documents out, so that what a
sponsor is shown can be re-checked by anyone from the same two files.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opencdmo.engines.planning.registry import solve
from opencdmo.engines.planning.result import SolveStatus
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule
from opencdmo.engines.planning.schedule.problem import ScheduleBatch, ScheduleProblem
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.engines.planning.schedule.solution import ScheduledBatch, ScheduleSolution
from opencdmo.engines.progress import CancelToken, ProgressCallback

__all__ = [
    "NewBatches",
    "Promise",
    "PromiseCheckError",
    "PromisedStage",
    "Stage",
    "changeover_count",
    "insert_batches",
    "plan_in_force",
    "promise",
    "utilisation",
]

EXISTING_WEIGHT = 100.0
"""Tardiness weight of the plan's own batches: a promise never buys its dates with theirs."""


class PromiseCheckError(RuntimeError):
    """The solver's answer failed the independent checker; no date from it may be shown."""


@dataclass(frozen=True)
class Stage:
    """One stage of the process at a site: where it may run and for how long.

    ``min_gap_h`` and ``max_hold_h`` bound the wait after the previous stage ends (the
    maximum hold time of its intermediate); the first stage ignores them.
    """

    name: str
    options: tuple[tuple[str, int], ...]
    min_gap_h: int = 0
    max_hold_h: int | None = None


@dataclass(frozen=True)
class NewBatches:
    """The batches a request asks for, as the site would run them.

    ``key`` prefixes the batch ids (``R12-1-usp``); ``release_h`` and ``need_by_h`` are
    hours from the plan's time zero; ``changeover_h`` / ``changeover_cost`` apply between
    this product and any other on a suite, ``cleaning_h`` between two batches of it.
    """

    key: str
    product: str
    count: int
    stages: tuple[Stage, ...]
    release_h: int
    need_by_h: int
    changeover_h: int = 0
    changeover_cost: float = 0.0
    cleaning_h: int = 0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"count must be ≥ 1, got {self.count}")
        if not self.stages:
            raise ValueError("a request needs at least one stage")
        for stage in self.stages:
            if not stage.options:
                raise ValueError(f"stage '{stage.name}' has no suite to run on")

    def batch_id(self, number: int, stage: Stage) -> str:
        return f"{self.key}-{number}-{stage.name}"

    @property
    def chain_h(self) -> int:
        """Shortest time from the first stage's start to the last stage's end."""
        return sum(min(d for _, d in s.options) + s.min_gap_h for s in self.stages) - (
            self.stages[0].min_gap_h
        )


@dataclass(frozen=True)
class PromisedStage:
    """Where and when one stage of one requested batch runs (hours from time zero)."""

    batch: int
    stage: str
    suite: str
    start_h: int
    end_h: int


@dataclass(frozen=True)
class Promise:
    """A site's answer: the checked plan with the request inside, and what it means."""

    status: str
    feasible: bool
    reasons: tuple[str, ...]
    stages: tuple[PromisedStage, ...]
    lateness_h: int
    changeovers_before: int
    changeovers_after: int
    utilisation_before: float
    utilisation_after: float
    moved: int
    proven_optimal: bool
    instance: dict[str, Any] = field(repr=False)
    result: dict[str, Any] = field(repr=False)

    @property
    def on_time(self) -> bool:
        return self.feasible and self.lateness_h == 0

    @property
    def extra_changeovers(self) -> int:
        return self.changeovers_after - self.changeovers_before

    def batch_windows(self) -> list[tuple[int, int, int]]:
        """``(batch number, first start, last end)`` of each requested batch."""
        spans: dict[int, tuple[int, int]] = {}
        for item in self.stages:
            start, end = spans.get(item.batch, (item.start_h, item.end_h))
            spans[item.batch] = (min(start, item.start_h), max(end, item.end_h))
        return [(n, s, e) for n, (s, e) in sorted(spans.items())]


def plan_in_force(
    instance: dict[str, Any],
    result: dict[str, Any] | None,
    now_h: int,
    *,
    keep_promises: bool = True,
) -> dict:
    """The published plan as a reschedule instance: placed batches get ``previous`` and
    those started before ``now_h`` are frozen. With ``keep_promises`` (a promise to a new
    customer) the others may end no later than promised and outweigh the newcomer; without
    it (the planner's own reschedule) lateness and moves decide."""
    document = copy.deepcopy(instance)
    placed = {
        item["batch"]: item for item in ((result or {}).get("schedule") or {}).get("batches", [])
    }
    horizon = int(document["horizon_h"])
    for batch in document["batches"]:
        at = placed.get(batch["id"])
        if at is None:
            continue
        batch["previous"] = {"suite": at["suite"], "start_h": at["start_h"]}
        if at["start_h"] < now_h or batch.get("frozen"):
            batch["frozen"] = True
            continue
        batch["release_h"] = max(int(batch.get("release_h", 0)), now_h)
        if not keep_promises:
            continue
        promised = max(at["end_h"], batch.get("due_h") or at["end_h"])
        batch["deadline_h"] = min(promised, horizon)
        if batch.get("due_h") is not None:
            batch["tardiness_weight"] = max(
                float(batch.get("tardiness_weight", 1.0)), EXISTING_WEIGHT
            )
    return document


def insert_batches(document: dict[str, Any], new: NewBatches) -> dict[str, Any]:
    """``document`` with the request's batch chains, its product and changeovers added.

    The new batches are due at their earliest possible end, so the first objective level
    asks for the earliest dates; the plan's own moves and changeovers are the second."""
    out = copy.deepcopy(document)
    suites = {s["name"] for s in out["suites"]}
    for stage in new.stages:
        for suite, _ in stage.options:
            if suite not in suites:
                raise ValueError(f"stage '{stage.name}': the plan has no suite '{suite}'")
    products = [p["name"] for p in out["products"]]
    changeovers = list(out.get("changeovers", []))
    known = new.product in products
    if not known:
        out["products"] = [*out["products"], {"name": new.product}]
    for other in [] if known else products:
        for pair in ((other, new.product), (new.product, other)):
            changeovers.append(
                {
                    "from_product": pair[0],
                    "to_product": pair[1],
                    "duration_h": new.changeover_h,
                    "cost": new.changeover_cost,
                }
            )
    if new.cleaning_h and not known:
        changeovers.append(
            {"from_product": new.product, "to_product": new.product, "duration_h": new.cleaning_h}
        )
    out["changeovers"] = changeovers
    earliest_end = new.release_h + new.chain_h
    batches = list(out["batches"])
    for number in range(1, new.count + 1):
        upstream: str | None = None
        for index, stage in enumerate(new.stages):
            item: dict[str, Any] = {
                "id": new.batch_id(number, stage),
                "product": new.product,
                "options": [{"suite": s, "duration_h": d} for s, d in stage.options],
                "release_h": new.release_h,
            }
            if upstream is not None:
                item["upstream"] = upstream
                item["min_gap_h"] = stage.min_gap_h
                if stage.max_hold_h is not None:
                    item["max_hold_h"] = stage.max_hold_h
            if index == len(new.stages) - 1:
                item["due_h"] = earliest_end
            batches.append(item)
            upstream = item["id"]
    out["batches"] = batches
    needed = new.release_h + new.count * (new.chain_h + new.changeover_h + new.cleaning_h)
    out["horizon_h"] = max(int(out["horizon_h"]), needed + new.chain_h, new.need_by_h)
    out["objective"] = {
        "levels": [
            [{"kind": "weighted_tardiness"}],
            [{"kind": "schedule_changes"}, {"kind": "changeover_cost", "weight": 0.001}],
        ]
    }
    out["id"] = f"{out.get('id', 'plan')}+{new.key}"
    return out


def changeover_count(batches: Iterable[dict[str, Any] | ScheduledBatch]) -> int:
    """Product switches between consecutive batches of each suite."""
    rows = [b if isinstance(b, dict) else b.__dict__ for b in batches]
    count = 0
    by_suite: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_suite.setdefault(row["suite"], []).append(row)
    for sequence in by_suite.values():
        sequence.sort(key=lambda r: (r["start_h"], r["end_h"]))
        count += sum(a["product"] != b["product"] for a, b in itertools.pairwise(sequence))
    return count


def utilisation(batches: Iterable[dict[str, Any]], suites: int, start_h: int, end_h: int) -> float:
    """Share of suite-hours in ``[start_h, end_h)`` that batches occupy."""
    if suites < 1 or end_h <= start_h:
        return 0.0
    busy = sum(max(0, min(b["end_h"], end_h) - max(b["start_h"], start_h)) for b in batches)
    return busy / (suites * (end_h - start_h))


def promise(
    instance: dict[str, Any],
    result: dict[str, Any] | None,
    new: NewBatches,
    *,
    now_h: int,
    time_limit: float = 10.0,
    threads: int = 1,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Promise:
    """Solve the plan in force with ``new`` inserted and check the answer.

    Raises ``PromiseCheckError`` when the solver's schedule fails the independent checker
    and ``ValueError`` (from the reader) when the documents are malformed.
    """
    document = insert_batches(plan_in_force(instance, result, now_h), new)
    problem = parse_schedule(document, source=document["id"])
    slotted = _with_inserted_slots(problem, document, new)
    if slotted is not None:
        document, problem = slotted
    outcome = solve(
        problem, time_limit=time_limit, threads=threads, seed=seed, progress=progress, cancel=cancel
    )
    result_document = outcome.document()
    before = ((result or {}).get("schedule") or {}).get("batches", [])
    window_end = max(new.need_by_h, *(b["end_h"] for b in before), now_h + 1)
    suites = len(document["suites"])
    if outcome.solution is None:
        why = tuple(c.reason for c in outcome.conflicts) or (_no_schedule(outcome.status),)
        return Promise(
            status=outcome.status.value,
            feasible=False,
            reasons=why,
            stages=(),
            lateness_h=0,
            changeovers_before=changeover_count(before),
            changeovers_after=changeover_count(before),
            utilisation_before=utilisation(before, suites, now_h, window_end),
            utilisation_after=utilisation(before, suites, now_h, window_end),
            moved=0,
            proven_optimal=False,
            instance=document,
            result=result_document,
        )
    _check(problem, outcome.solution, outcome.objective)
    after = [b.__dict__ for b in outcome.solution.batches]
    stages = _stages(new, outcome.solution)
    finish = max((s.end_h for s in stages if s.stage == new.stages[-1].name), default=0)
    previous = {b["batch"]: (b["suite"], b["start_h"]) for b in before}
    moved = sum(
        1
        for b in after
        if b["batch"] in previous and previous[b["batch"]] != (b["suite"], b["start_h"])
    )
    lateness = max(0, finish - new.need_by_h)
    reasons: tuple[str, ...] = ()
    if lateness:
        reasons = (f"the last batch ends {_hours(lateness)} after the need-by date",)
    return Promise(
        status=outcome.status.value,
        feasible=True,
        reasons=reasons,
        stages=stages,
        lateness_h=lateness,
        changeovers_before=changeover_count(before),
        changeovers_after=changeover_count(after),
        utilisation_before=utilisation(before, suites, now_h, window_end),
        utilisation_after=utilisation(after, suites, now_h, window_end),
        moved=moved,
        proven_optimal=outcome.status is SolveStatus.OPTIMAL,
        instance=document,
        result=result_document,
    )


def _with_inserted_slots(
    problem: ScheduleProblem, document: dict[str, Any], new: NewBatches
) -> tuple[dict[str, Any], ScheduleProblem] | None:
    """The request's chains placed into the gaps of the plan in force, earliest first, as
    the new batches' ``previous``: with the plan's own batches where they are published, a
    schedule that passes every rule, so the solver starts from it instead of searching for
    a first answer. ``None`` when the gaps hold no such placement (the solver then searches
    alone) or the instance has rules the gap search does not model."""
    if problem.resources or any(
        p.campaign_min_batches > 1 or p.campaign_max_batches for p in problem.products
    ):
        return None
    placed = [ScheduledBatch.published(b) for b in problem.batches if b.previous is not None]
    if any(item is None for item in placed):
        return None
    gaps = _Gaps(problem, [item for item in placed if item is not None])
    slots: dict[str, tuple[str, int]] = {}
    for number in range(1, new.count + 1):
        chain = gaps.insert_chain(
            [problem.batch_by_id[new.batch_id(number, stage)] for stage in new.stages]
        )
        if chain is None:
            return None
        slots.update({item.batch: (item.suite, item.start_h) for item in chain})
    out = copy.deepcopy(document)
    for batch in out["batches"]:
        if batch["id"] in slots:
            suite, start = slots[batch["id"]]
            batch["previous"] = {"suite": suite, "start_h": start}
    slotted = parse_schedule(out, source=out["id"])
    everything = [ScheduledBatch.published(b) for b in slotted.batches]
    solution = ScheduleSolution(
        tuple(b for b in everything if b is not None),
        *evaluate_schedule(slotted, [b for b in everything if b is not None]),
    )
    if not check_schedule_solution(slotted, solution).ok:
        return None
    return out, slotted


class _Gaps:
    """What each unit holds, to find the earliest gap a batch fits in with its changeovers."""

    def __init__(self, problem: ScheduleProblem, placed: list[ScheduledBatch]) -> None:
        self.problem = problem
        self.units: dict[str, list[ScheduledBatch]] = {s.name: [] for s in problem.suites}
        for item in placed:
            self.units[item.suite].append(item)
        for sequence in self.units.values():
            sequence.sort(key=lambda b: (b.start_h, b.end_h))

    def fits(self, batch: ScheduleBatch, suite: str, start: int) -> int | None:
        """``start`` if ``batch`` fits on ``suite`` there, else the next start worth trying
        (``None`` when there is none before the horizon)."""
        duration = batch.duration_on(suite)
        assert duration is not None
        unit = self.problem.suite_by_name[suite]
        free = unit.earliest_start(start, duration)
        if free != start:
            return free
        end = start + duration
        if end > self.problem.latest_end_h(batch):
            return None
        for other in self.units[suite]:
            before, _ = self.problem.changeover(suite, other.product, batch.product)
            after, _ = self.problem.changeover(suite, batch.product, other.product)
            if other.end_h + before <= start or end + after <= other.start_h:
                continue
            return other.end_h + before
        return start

    def earliest(
        self, batch: ScheduleBatch, start: int, latest: int | None
    ) -> ScheduledBatch | None:
        """The earliest placement of ``batch`` starting in ``[start, latest]`` on any unit."""
        best: ScheduledBatch | None = None
        for option in batch.options:
            moment: int | None = max(start, batch.release_h)
            while moment is not None and (latest is None or moment <= latest):
                found = self.fits(batch, option.suite, moment)
                if found == moment:
                    if best is None or moment < best.start_h:
                        best = ScheduledBatch(
                            batch.id,
                            batch.product,
                            option.suite,
                            moment,
                            moment + option.duration_h,
                        )
                    break
                moment = found
        return best

    def insert_chain(self, chain: list[ScheduleBatch]) -> list[ScheduledBatch] | None:
        """Place the chain's stages at the earliest start where every hold window fits."""
        start = chain[0].release_h
        for _ in range(10_000):
            first = self.earliest(chain[0], start, None)
            if first is None:
                return None
            placed = [first]
            for batch in chain[1:]:
                ready = placed[-1].end_h + batch.min_gap_h
                step = self.earliest(batch, ready, None)
                if step is None:
                    return None
                latest = None if batch.max_hold_h is None else placed[-1].end_h + batch.max_hold_h
                if latest is not None and step.start_h > latest:
                    # The stage waits too long: start the chain that much later.
                    start = first.start_h + (step.start_h - latest)
                    break
                placed.append(step)
            else:
                for item in placed:
                    self.units[item.suite].append(item)
                    self.units[item.suite].sort(key=lambda b: (b.start_h, b.end_h))
                return placed
        return None


def _check(problem: Any, solution: ScheduleSolution, objective: float | None) -> None:
    report = check_schedule_solution(problem, solution, objective)
    if not report.ok:
        raise PromiseCheckError(
            "the schedule failed the independent check: " + "; ".join(report.violations[:5])
        )


def _stages(new: NewBatches, solution: ScheduleSolution) -> tuple[PromisedStage, ...]:
    wanted = {
        new.batch_id(number, stage): (number, stage.name)
        for number in range(1, new.count + 1)
        for stage in new.stages
    }
    out = [
        PromisedStage(wanted[b.batch][0], wanted[b.batch][1], b.suite, b.start_h, b.end_h)
        for b in solution.batches
        if b.batch in wanted
    ]
    return tuple(sorted(out, key=lambda s: (s.batch, s.start_h)))


def _no_schedule(status: SolveStatus) -> str:
    if status is SolveStatus.INFEASIBLE:
        return "no capacity: the plan in force leaves no room for these batches"
    return "no schedule found within the time limit"


def _hours(hours: int) -> str:
    days, rest = divmod(hours, 24)
    if not days:
        return f"{rest} h"
    return f"{days} d {rest} h" if rest else f"{days} d"
