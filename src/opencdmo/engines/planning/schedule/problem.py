"""Suite scheduling for CDMOs (format ``opencdmo-schedule/1``, see ``docs/planning_schedule_format.md``).

Batches of products are placed on suites (bioreactor trains, purification, fill-finish) in
continuous time, in whole hours. Field names follow the JSON format, so a validation error's
path is the JSON path of the offending field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

from opencdmo.engines.planning import validation as v

if TYPE_CHECKING:
    from opencdmo.engines.planning.schedule.solution import ScheduledBatch


class ObjectiveKind(StrEnum):
    """The quantities a schedule can minimise."""

    WEIGHTED_TARDINESS = "weighted_tardiness"
    LATENESS_INCREASE = "lateness_increase"
    MAKESPAN = "makespan"
    CHANGEOVER_COST = "changeover_cost"
    SCHEDULE_CHANGES = "schedule_changes"


LATENESS_KINDS = frozenset({ObjectiveKind.WEIGHTED_TARDINESS, ObjectiveKind.LATENESS_INCREASE})
"""The kinds that count hours late."""


@dataclass(frozen=True)
class Downtime:
    """A maintenance or shutdown window ``[start_h, end_h)`` in which a suite runs no batch."""

    start_h: int
    end_h: int
    reason: str = "maintenance"

    def __post_init__(self) -> None:
        v.whole(self.start_h, "start_h")
        v.whole(self.end_h, "end_h")
        v.require(self.end_h > self.start_h, "end_h", f"must be > start_h = {self.start_h}")


@dataclass(frozen=True)
class ScheduleSuite:
    """A suite, the site it belongs to and its downtimes."""

    name: str
    site: str = ""
    downtimes: tuple[Downtime, ...] = ()

    def __post_init__(self) -> None:
        v.name(self.name, "name")

    @cached_property
    def blocked(self) -> tuple[tuple[int, int], ...]:
        """The downtimes as disjoint ``(start_h, end_h)`` windows, in time order: overlapping
        and touching windows merged, so that a model may treat each as one fixed interval."""
        merged: list[tuple[int, int]] = []
        for window in sorted(self.downtimes, key=lambda w: (w.start_h, w.end_h)):
            if merged and window.start_h <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], window.end_h))
            else:
                merged.append((window.start_h, window.end_h))
        return tuple(merged)

    def earliest_start(self, start_h: int, duration_h: int) -> int:
        """First start ≥ ``start_h`` at which a run of ``duration_h`` misses every downtime."""
        for window_start, window_end in self.blocked:
            if start_h < window_end and window_start < start_h + duration_h:
                start_h = window_end
        return start_h


@dataclass(frozen=True)
class ScheduleProduct:
    """A product and the allowed length of its campaigns (consecutive batches on one suite)."""

    name: str
    campaign_min_batches: int = 1
    campaign_max_batches: int | None = None

    def __post_init__(self) -> None:
        v.name(self.name, "name")
        v.whole(self.campaign_min_batches, "campaign_min_batches")
        v.at_least(self.campaign_min_batches, 1, "campaign_min_batches")
        if self.campaign_max_batches is not None:
            v.whole(self.campaign_max_batches, "campaign_max_batches")
            v.require(
                self.campaign_max_batches >= self.campaign_min_batches,
                "campaign_max_batches",
                f"must be ≥ campaign_min_batches = {self.campaign_min_batches}",
            )


@dataclass(frozen=True)
class Changeover:
    """Time and cost between a batch of ``from_product`` and the next of ``to_product``.

    ``from_product == to_product`` gives the cleaning between batches of one product. With a
    ``suite`` the entry applies to that suite only and overrides a general entry.
    """

    from_product: str
    to_product: str
    duration_h: int
    cost: float = 0.0
    suite: str | None = None

    def __post_init__(self) -> None:
        v.name(self.from_product, "from_product")
        v.name(self.to_product, "to_product")
        v.whole(self.duration_h, "duration_h")
        v.at_least(self.duration_h, 0, "duration_h")
        v.at_least(self.cost, 0.0, "cost")


@dataclass(frozen=True)
class SuiteOption:
    """A suite that can run a batch and the batch's duration there (h).

    With ``max_duration_h`` the batch holds the suite for any whole number of hours from
    ``duration_h`` to ``max_duration_h``, as the schedule chooses: a tank that holds an
    intermediate until the next stage takes it."""

    suite: str
    duration_h: int
    max_duration_h: int | None = None

    def __post_init__(self) -> None:
        v.name(self.suite, "suite")
        v.whole(self.duration_h, "duration_h")
        v.at_least(self.duration_h, 0, "duration_h")
        if self.max_duration_h is not None:
            v.whole(self.max_duration_h, "max_duration_h")
            v.require(
                self.max_duration_h >= self.duration_h,
                "max_duration_h",
                f"must be ≥ duration_h = {self.duration_h}",
            )

    @property
    def longest_h(self) -> int:
        """The longest the batch may hold the suite (h)."""
        return self.duration_h if self.max_duration_h is None else self.max_duration_h


@dataclass(frozen=True)
class Resource:
    """A shared resource that is not a suite: an operator crew, a utility, a pool of tanks.

    At no time may the batches using it need more than ``capacity`` units together."""

    name: str
    capacity: int

    def __post_init__(self) -> None:
        v.name(self.name, "name")
        v.whole(self.capacity, "capacity")
        v.at_least(self.capacity, 1, "capacity")


@dataclass(frozen=True)
class ResourceUse:
    """``amount`` units of ``resource`` held from a batch's start for ``duration_h`` hours
    (``None``: for the whole run, however long the batch holds its suite)."""

    resource: str
    amount: int = 1
    duration_h: int | None = None

    def __post_init__(self) -> None:
        v.name(self.resource, "resource")
        v.whole(self.amount, "amount")
        v.at_least(self.amount, 1, "amount")
        if self.duration_h is not None:
            v.whole(self.duration_h, "duration_h")
            v.at_least(self.duration_h, 1, "duration_h")

    def span_h(self, start_h: int, end_h: int) -> tuple[int, int]:
        """The hours ``[from, to)`` it is held by a batch that runs ``[start_h, end_h)``."""
        return start_h, start_h + (end_h - start_h if self.duration_h is None else self.duration_h)


@dataclass(frozen=True)
class PreviousAssignment:
    """Where and when a batch sat in the previous (published) schedule."""

    suite: str
    start_h: int

    def __post_init__(self) -> None:
        v.name(self.suite, "suite")
        v.whole(self.start_h, "start_h")


@dataclass(frozen=True)
class ScheduleBatch:
    """A batch to place.

    Attributes
    ----------
    id, product
        Identifier and product.
    options
        Eligible suites with the batch's duration on each.
    release_h
        Earliest start (h).
    due_h
        Due end (h) for tardiness; ``None`` for no due date.
    deadline_h
        Latest end (h), a hard limit; ``None`` for none.
    tardiness_weight
        Weight of each hour late (money or priority per h).
    upstream
        Id of the batch this one processes the output of (USP → DSP coupling), or ``None``.
    min_gap_h, max_hold_h
        The batch starts at least ``min_gap_h`` and at most ``max_hold_h`` (``None``: no limit)
        after its upstream batch ends.
    previous
        Suite and start in the published schedule: a warm start and the reference for
        ``schedule_changes``.
    frozen
        Keep ``previous`` exactly.
    uses
        Shared resources (not suites) the batch holds from its start.
    """

    id: str
    product: str
    options: tuple[SuiteOption, ...]
    release_h: int = 0
    due_h: int | None = None
    deadline_h: int | None = None
    tardiness_weight: float = 1.0
    upstream: str | None = None
    min_gap_h: int = 0
    max_hold_h: int | None = None
    previous: PreviousAssignment | None = None
    frozen: bool = False
    uses: tuple[ResourceUse, ...] = ()

    def __post_init__(self) -> None:
        v.name(self.id, "id")
        v.name(self.product, "product")
        v.require(len(self.options) >= 1, "options", "a batch needs at least one eligible suite")
        v.unique_names((o.suite for o in self.options), "options", "suite")
        v.whole(self.release_h, "release_h")
        v.at_least(self.release_h, 0, "release_h")
        if self.due_h is not None:
            v.whole(self.due_h, "due_h")
        if self.deadline_h is not None:
            v.whole(self.deadline_h, "deadline_h")
            v.require(
                self.deadline_h >= self.release_h + self.shortest_h,
                "deadline_h",
                f"release_h {self.release_h} + shortest duration {self.shortest_h} h exceeds the"
                " deadline",
            )
        v.at_least(self.tardiness_weight, 0.0, "tardiness_weight")
        v.whole(self.min_gap_h, "min_gap_h")
        v.at_least(self.min_gap_h, 0, "min_gap_h")
        if self.max_hold_h is not None:
            v.whole(self.max_hold_h, "max_hold_h")
            v.require(
                self.max_hold_h >= self.min_gap_h,
                "max_hold_h",
                f"must be ≥ min_gap_h = {self.min_gap_h}",
            )
        if self.upstream is not None:
            v.name(self.upstream, "upstream")
            v.require(self.upstream != self.id, "upstream", "a batch cannot follow itself")
        if self.frozen:
            v.require(self.previous is not None, "frozen", "a frozen batch needs 'previous'")
        v.unique_names((u.resource for u in self.uses), "uses", "resource")

    def option_on(self, suite: str) -> SuiteOption | None:
        """The option of ``suite``, ``None`` when not eligible."""
        return next((o for o in self.options if o.suite == suite), None)

    def duration_on(self, suite: str) -> int | None:
        """Duration on ``suite`` (h), ``None`` when not eligible."""
        return next((o.duration_h for o in self.options if o.suite == suite), None)

    @property
    def shortest_h(self) -> int:
        """Duration on the fastest eligible suite (h)."""
        return min(o.duration_h for o in self.options)

    @property
    def published_end_h(self) -> int | None:
        """End at the published place (h): ``previous``'s start plus the duration on its suite,
        or the shortest duration when that suite is no longer eligible; ``None`` without one."""
        if self.previous is None:
            return None
        duration = self.duration_on(self.previous.suite)
        return self.previous.start_h + (self.shortest_h if duration is None else duration)

    def late_from_h(self, kind: ObjectiveKind) -> int | None:
        """The hour after which ``kind`` counts the batch late: its due time, and for
        ``lateness_increase`` its published end when that is later; ``None``: never late."""
        if self.due_h is None:
            return None
        published = self.published_end_h if kind is ObjectiveKind.LATENESS_INCREASE else None
        return self.due_h if published is None else max(self.due_h, published)


@dataclass(frozen=True)
class ObjectiveTerm:
    """One weighted quantity of an objective level."""

    kind: ObjectiveKind
    weight: float = 1.0

    def __post_init__(self) -> None:
        v.require(isinstance(self.kind, ObjectiveKind), "kind", "unknown objective kind")
        v.at_least(self.weight, 0.0, "weight")


@dataclass(frozen=True)
class ScheduleProblem:
    """A suite-scheduling instance.

    Attributes
    ----------
    id
        Identifier copied into the result.
    horizon_h
        Every batch ends by this time (h).
    suites, products, batches, changeovers
        The plant, the products, the batches to place and the changeover matrix.
    resources
        Shared resources other than suites, which batches hold through ``uses``.
    objective
        Levels minimised lexicographically; each level is a weighted sum of terms.
    move_cost_per_h
        ``schedule_changes``: cost per hour a published batch moves.
    suite_change_cost
        ``schedule_changes``: cost of moving a published batch to another suite.
    """

    id: str
    horizon_h: int
    suites: tuple[ScheduleSuite, ...]
    products: tuple[ScheduleProduct, ...]
    batches: tuple[ScheduleBatch, ...]
    changeovers: tuple[Changeover, ...] = ()
    objective: tuple[tuple[ObjectiveTerm, ...], ...] = field(
        default=((ObjectiveTerm(ObjectiveKind.WEIGHTED_TARDINESS),),)
    )
    move_cost_per_h: float = 1.0
    suite_change_cost: float = 0.0
    resources: tuple[Resource, ...] = ()

    def __post_init__(self) -> None:
        v.name(self.id, "id")
        v.whole(self.horizon_h, "horizon_h")
        v.at_least(self.horizon_h, 1, "horizon_h")
        v.require(len(self.suites) >= 1, "suites", "at least one suite is needed")
        v.require(len(self.batches) >= 1, "batches", "at least one batch is needed")
        v.unique_names((s.name for s in self.suites), "suites")
        v.unique_names((p.name for p in self.products), "products")
        v.unique_names((b.id for b in self.batches), "batches", "id")
        v.unique_names((r.name for r in self.resources), "resources")
        capacity = {r.name: r.capacity for r in self.resources}
        v.at_least(self.move_cost_per_h, 0.0, "rescheduling.move_cost_per_h")
        v.at_least(self.suite_change_cost, 0.0, "rescheduling.suite_change_cost")
        suites = {s.name for s in self.suites}
        products = {p.name for p in self.products}
        ids = {b.id for b in self.batches}
        for n, suite in enumerate(self.suites):
            for k, window in enumerate(suite.downtimes):
                v.require(
                    window.start_h >= 0 and window.end_h <= self.horizon_h,
                    f"suites[{n}].downtimes[{k}]",
                    f"must lie within [0, horizon_h = {self.horizon_h}]",
                )
        for n, change in enumerate(self.changeovers):
            for key in ("from_product", "to_product"):
                value = getattr(change, key)
                v.require(
                    value in products, f"changeovers[{n}].{key}", f"unknown product {value!r}"
                )
            if change.suite is not None:
                v.require(
                    change.suite in suites,
                    f"changeovers[{n}].suite",
                    f"unknown suite {change.suite!r}",
                )
        seen: set[tuple[str | None, str, str]] = set()
        for n, change in enumerate(self.changeovers):
            entry = (change.suite, change.from_product, change.to_product)
            v.require(entry not in seen, f"changeovers[{n}]", "duplicate changeover entry")
            seen.add(entry)
        for n, batch in enumerate(self.batches):
            path = f"batches[{n}]"
            v.require(
                batch.product in products, f"{path}.product", f"unknown product {batch.product!r}"
            )
            for k, option in enumerate(batch.options):
                v.require(
                    option.suite in suites,
                    f"{path}.options[{k}].suite",
                    f"unknown suite {option.suite!r}",
                )
                v.require(
                    batch.release_h + option.duration_h <= self.horizon_h,
                    f"{path}.options[{k}].duration_h",
                    f"release_h + duration_h exceeds horizon_h = {self.horizon_h}",
                )
            if batch.upstream is not None:
                v.require(
                    batch.upstream in ids, f"{path}.upstream", f"unknown batch {batch.upstream!r}"
                )
            for k, use in enumerate(batch.uses):
                v.require(
                    use.resource in capacity,
                    f"{path}.uses[{k}].resource",
                    f"unknown resource {use.resource!r}",
                )
                v.require(
                    use.amount <= capacity[use.resource],
                    f"{path}.uses[{k}].amount",
                    f"exceeds the capacity {capacity[use.resource]} of {use.resource!r}",
                )
            # A published place may name a suite the instance no longer has (taken out of
            # service): the batch then moves and pays for it. Only a frozen batch must stay.
            if batch.previous is not None and batch.frozen:
                v.require(
                    batch.duration_on(batch.previous.suite) is not None,
                    f"{path}.previous.suite",
                    f"a frozen batch must stay on an eligible suite, not {batch.previous.suite!r}",
                )
        by_id = {b.id: b for b in self.batches}
        for n, batch in enumerate(self.batches):
            chain = {batch.id}
            current = batch.upstream
            while current is not None:
                v.require(
                    current not in chain, f"batches[{n}].upstream", "upstream links form a cycle"
                )
                chain.add(current)
                current = by_id[current].upstream
        v.require(len(self.objective) >= 1, "objective", "at least one objective level is needed")
        for n, level in enumerate(self.objective):
            v.require(len(level) >= 1, f"objective.levels[{n}]", "a level needs at least one term")

    @cached_property
    def product_by_name(self) -> dict[str, ScheduleProduct]:
        """Products by name."""
        return {p.name: p for p in self.products}

    @cached_property
    def resource_by_name(self) -> dict[str, Resource]:
        """Resources by name."""
        return {r.name: r for r in self.resources}

    @cached_property
    def batch_by_id(self) -> dict[str, ScheduleBatch]:
        """Batches by id."""
        return {b.id: b for b in self.batches}

    @cached_property
    def suite_by_name(self) -> dict[str, ScheduleSuite]:
        """Suites by name."""
        return {s.name: s for s in self.suites}

    def with_plan_in_force(
        self, placed: Iterable[ScheduledBatch], frozen_before_h: int | None = None
    ) -> ScheduleProblem:
        """This instance for a reschedule of ``placed``: each batch ``placed`` holds gets its
        place there as ``previous``, and is frozen when it starts before ``frozen_before_h``
        or was frozen already. Batches ``placed`` does not hold (new ones) stay as they are."""
        at = {item.batch: item for item in placed}
        batches = tuple(
            batch
            if batch.id not in at
            else dataclasses.replace(
                batch,
                previous=PreviousAssignment(at[batch.id].suite, at[batch.id].start_h),
                frozen=batch.frozen
                or (frozen_before_h is not None and at[batch.id].start_h < frozen_before_h),
            )
            for batch in self.batches
        )
        return dataclasses.replace(self, batches=batches)

    @cached_property
    def lateness_kind(self) -> ObjectiveKind:
        """How the heuristics count a batch late: ``lateness_increase`` when the first level
        weighs it and not ``weighted_tardiness``, else ``weighted_tardiness``."""
        weighed = {t.kind for t in self.objective[0] if t.weight > 0}
        if ObjectiveKind.LATENESS_INCREASE in weighed - {ObjectiveKind.WEIGHTED_TARDINESS}:
            return ObjectiveKind.LATENESS_INCREASE
        return ObjectiveKind.WEIGHTED_TARDINESS

    @cached_property
    def late_from(self) -> dict[str, int | None]:
        """Each batch's ``late_from_h`` as the heuristics count it (see ``lateness_kind``)."""
        return {b.id: b.late_from_h(self.lateness_kind) for b in self.batches}

    def latest_end_h(self, batch: ScheduleBatch) -> int:
        """Latest end of ``batch`` (h): its deadline, within the horizon."""
        if batch.deadline_h is None:
            return self.horizon_h
        return min(self.horizon_h, batch.deadline_h)

    @cached_property
    def _changeover_table(self) -> dict[tuple[str | None, str, str], Changeover]:
        return {(c.suite, c.from_product, c.to_product): c for c in self.changeovers}

    def changeover(self, suite: str, from_product: str, to_product: str) -> tuple[int, float]:
        """Changeover ``(duration_h, cost)`` on ``suite`` between two products (0, 0 if none)."""
        table = self._changeover_table
        entry = table.get((suite, from_product, to_product)) or table.get(
            (None, from_product, to_product)
        )
        return (0, 0.0) if entry is None else (entry.duration_h, entry.cost)
