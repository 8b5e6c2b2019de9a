"""A fast constructive schedule: the starting point (and fallback) of the CP-SAT search."""

from __future__ import annotations

from dataclasses import dataclass, field

from opencdmo.engines.planning.schedule_problem import ScheduleBatch, ScheduleProblem
from opencdmo.engines.planning.schedule_solution import ScheduledBatch

MAX_HOLD_REPAIRS = 20


@dataclass
class _SuiteState:
    """What a suite has been given so far (batches are only appended)."""

    free_h: int = 0
    product: str | None = None
    run_length: int = 0
    placed: list[ScheduledBatch] = field(default_factory=list)


def _downstream(problem: ScheduleProblem) -> dict[str, list[ScheduleBatch]]:
    children: dict[str, list[ScheduleBatch]] = {}
    for batch in problem.batches:
        if batch.upstream is not None:
            children.setdefault(batch.upstream, []).append(batch)
    return children


def _earliest_fit(problem: ScheduleProblem, suite: str, start_h: int, duration_h: int) -> int:
    """First start ≥ ``start_h`` at which the batch misses every downtime of ``suite``."""
    windows = next(s.downtimes for s in problem.suites if s.name == suite)
    moved = True
    while moved:
        moved = False
        for window in windows:
            if start_h < window.end_h and window.start_h < start_h + duration_h:
                start_h = window.end_h
                moved = True
    return start_h


def _candidate(
    problem: ScheduleProblem,
    states: dict[str, _SuiteState],
    batch: ScheduleBatch,
    not_before_h: int,
) -> tuple[int, str] | None:
    """Earliest (start, suite) appending ``batch`` after ``not_before_h``, or ``None``."""
    product = problem.product_by_name[batch.product]
    best: tuple[int, str] | None = None
    for option in batch.options:
        state = states[option.suite]
        if state.product == batch.product:
            if (
                product.campaign_max_batches is not None
                and state.run_length >= product.campaign_max_batches
            ):
                continue
        elif state.product is not None:
            previous = problem.product_by_name[state.product]
            if state.run_length < previous.campaign_min_batches:
                continue
        changeover_h = (
            0
            if state.product is None
            else problem.changeover(option.suite, state.product, batch.product)[0]
        )
        start = max(batch.release_h, not_before_h, state.free_h + changeover_h)
        start = _earliest_fit(problem, option.suite, start, option.duration_h)
        end = start + option.duration_h
        latest = (
            problem.horizon_h
            if batch.deadline_h is None
            else min(problem.horizon_h, batch.deadline_h)
        )
        if end <= latest and (best is None or end < best[0] + (batch.duration_on(best[1]) or 0)):
            best = (start, option.suite)
    return best


def _place(
    states: dict[str, _SuiteState], batch: ScheduleBatch, start_h: int, suite: str
) -> ScheduledBatch:
    duration = batch.duration_on(suite)
    assert duration is not None
    item = ScheduledBatch(batch.id, batch.product, suite, start_h, start_h + duration)
    state = states[suite]
    state.run_length = state.run_length + 1 if state.product == batch.product else 1
    state.product = batch.product
    state.free_h = item.end_h
    state.placed.append(item)
    return item


def greedy_schedule(problem: ScheduleProblem) -> list[ScheduledBatch] | None:
    """Place batches chain by chain (an upstream batch, then its downstream batches).

    Chains are taken by earliest due date; each batch goes to the eligible suite where it
    ends first, after the suite's last batch and its changeover, outside downtimes, within
    campaign limits. When a downstream batch cannot start within its upstream's maximum hold,
    the upstream batch is placed later and the chain retried.

    Parameters
    ----------
    problem
        The instance.

    Returns
    -------
    list[ScheduledBatch] or None
        A schedule meeting every constraint the greedy rules cover, or ``None`` when the rules
        get stuck (frozen batches, deadlines or campaign minimums they cannot meet). The
        caller verifies the schedule with the checker before using it.
    """
    if any(b.frozen for b in problem.batches):
        return None
    children = _downstream(problem)
    roots = [b for b in problem.batches if b.upstream is None]

    def chain_due(batch: ScheduleBatch) -> float:
        dues = [b.due_h for b in [batch, *children.get(batch.id, [])] if b.due_h is not None]
        return min(dues) if dues else float("inf")

    roots.sort(key=lambda b: (chain_due(b), b.release_h, b.id))
    states = {s.name: _SuiteState() for s in problem.suites}
    placed: list[ScheduledBatch] = []
    queue = list(roots)
    postponed = 0
    while queue:
        root = queue.pop(0)
        chain = _place_chain(problem, states, root, children)
        if chain is None:
            # Typically a campaign at its maximum length on every eligible suite: try again
            # once other products have been placed in between.
            postponed += 1
            if postponed > len(roots):
                return None
            queue.append(root)
            continue
        placed.extend(chain)
    for state in states.values():
        if state.product is not None:
            minimum = problem.product_by_name[state.product].campaign_min_batches
            if state.run_length < minimum:
                return None
    return placed


def _place_chain(
    problem: ScheduleProblem,
    states: dict[str, _SuiteState],
    root: ScheduleBatch,
    children: dict[str, list[ScheduleBatch]],
) -> list[ScheduledBatch] | None:
    not_before = 0
    for _ in range(MAX_HOLD_REPAIRS):
        snapshot = {name: _copy(state) for name, state in states.items()}
        found = _candidate(problem, snapshot, root, not_before)
        if found is None:
            return None
        items = [_place(snapshot, root, *found)]
        delay = _place_children(problem, snapshot, items[0], children, items)
        if delay is None:
            return None
        if delay == 0:
            states.update(snapshot)
            return items
        not_before = found[0] + delay
    return None


def _place_children(
    problem: ScheduleProblem,
    states: dict[str, _SuiteState],
    parent: ScheduledBatch,
    children: dict[str, list[ScheduleBatch]],
    items: list[ScheduledBatch],
) -> int | None:
    """Place the downstream batches of ``parent``; return how much later the root must start."""
    for child in children.get(parent.batch, []):
        found = _candidate(problem, states, child, parent.end_h + child.min_gap_h)
        if found is None:
            return None
        start, suite = found
        if child.max_hold_h is not None and start > parent.end_h + child.max_hold_h:
            return start - (parent.end_h + child.max_hold_h)
        item = _place(states, child, start, suite)
        items.append(item)
        delay = _place_children(problem, states, item, children, items)
        if delay != 0:
            return delay
    return 0


def _copy(state: _SuiteState) -> _SuiteState:
    return _SuiteState(state.free_h, state.product, state.run_length, list(state.placed))
