"""Independent parts of a suite-scheduling instance.

Two sets of suites that share no eligible batch, upstream link or resource never interact: each
part can be solved alone, and a smaller CP-SAT model searches much faster than the whole
(fill-finish lines, for instance, are usually independent of the drug-substance suites).
"""

from __future__ import annotations

import dataclasses

from opencdmo.engines.planning.schedule.problem import ObjectiveKind, ScheduleBatch, ScheduleProblem


def independent_parts(problem: ScheduleProblem) -> list[ScheduleProblem]:
    """Split ``problem`` into parts linked by no batch; ``[problem]`` when it does not split.

    Every objective kind but makespan is a sum over batches or suites, so the sum of the
    parts' values is the whole's value level by level, and minimising each part minimises
    the sum. A makespan (a maximum) keeps the instance whole.

    Parameters
    ----------
    problem
        The instance.

    Returns
    -------
    list[ScheduleProblem]
        The parts, with the suites, batches and suite-specific changeovers of each and the
        whole's products, objective and rescheduling costs.
    """
    if any(term.kind is ObjectiveKind.MAKESPAN for level in problem.objective for term in level):
        return [problem]
    groups = suite_groups(problem, through_upstream=True)
    group_of = {suite: number for number, group in enumerate(groups) for suite in group}
    batches_of: dict[int, list[ScheduleBatch]] = {}
    for batch in problem.batches:
        batches_of.setdefault(group_of[batch.options[0].suite], []).append(batch)
    if len(batches_of) <= 1:
        return [problem]
    parts = []
    for number, (group, batches) in enumerate(batches_of.items(), start=1):
        suites = set(groups[group])
        # A published place may lie on a suite the batch can no longer use (a reschedule):
        # the part keeps that suite too, so the place stays a valid reference.
        published = {b.previous.suite for b in batches if b.previous is not None}
        parts.append(
            dataclasses.replace(
                problem,
                id=f"{problem.id}/part{number}",
                suites=tuple(s for s in problem.suites if s.name in suites | published),
                batches=tuple(batches),
                changeovers=tuple(
                    c for c in problem.changeovers if c.suite is None or c.suite in suites
                ),
            )
        )
    return parts


def suite_groups(problem: ScheduleProblem, *, through_upstream: bool = False) -> list[list[str]]:
    """Suites linked by batches eligible on several of them (connected components), and with
    ``through_upstream`` also by a batch's link to its upstream batch and by batches that
    share a resource.

    Every batch runs within one group, so what a group's batches need, its suites provide.
    """
    parent = {s.name: s.name for s in problem.suites}

    def root(suite: str) -> str:
        while parent[suite] != suite:
            suite = parent[suite]
        return suite

    def link(a: str, b: str) -> None:
        parent[root(b)] = root(a)

    for batch in problem.batches:
        for option in batch.options[1:]:
            link(batch.options[0].suite, option.suite)
        if through_upstream and batch.upstream is not None:
            link(batch.options[0].suite, problem.batch_by_id[batch.upstream].options[0].suite)
    if through_upstream:
        user_of: dict[str, str] = {}
        for batch in problem.batches:
            for use in batch.uses:
                first = user_of.setdefault(use.resource, batch.options[0].suite)
                link(first, batch.options[0].suite)
    members: dict[str, list[str]] = {}
    for suite in problem.suites:
        members.setdefault(root(suite.name), []).append(suite.name)
    return list(members.values())
