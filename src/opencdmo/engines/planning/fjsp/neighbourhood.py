"""Neighbourhoods of a flexible job-shop schedule for the large-neighbourhood search."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from opencdmo.engines.planning.fjsp.model import Operation
from opencdmo.engines.planning.fjsp.problem import FjspProblem
from opencdmo.engines.planning.fjsp.solution import FjspSolution

KINDS = {"window": 5, "jobs": 3, "machines": 2}
"""Free the operations starting in a time window, of a few jobs or on a few machines; the
values weight the draw. On a mk10 schedule of makespan 209, windows found 8 shorter ones in
60 tries, jobs 2 in 44 and machines none in 19."""
SMALLEST_SHARE = 0.02
LARGEST_SHARE = 0.8
GROWTH = 1.1
"""Factor on a kind's share after a neighbourhood solved to optimality within the step."""


@dataclass
class Neighbourhoods:
    """Random neighbourhoods whose size adapts per kind.

    The kinds differ widely in difficulty: a few machines' operations, re-sequenced, solve
    in milliseconds while a time window of the same share rarely closes. Each kind therefore
    keeps its own share, which grows after a neighbourhood solved to optimality and shrinks
    after a timeout, so that each sits near the largest size CP-SAT still closes in a step.
    """

    problem: FjspProblem
    rng: random.Random
    shares: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.2))

    def draw(self, incumbent: FjspSolution) -> tuple[str, set[Operation]]:
        """A kind and the operations it frees in ``incumbent``."""
        kind = self.rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        share = self.shares[kind]
        operations = incumbent.operations
        if kind == "machines":
            count = max(1, round(share * self.problem.machine_count))
            machines = set(self.rng.sample(range(1, self.problem.machine_count + 1), count))
            return kind, {(a.job, a.operation) for a in operations if a.machine in machines}
        if kind == "jobs":
            count = max(1, round(share * len(self.problem.jobs)))
            jobs = set(self.rng.sample(range(1, len(self.problem.jobs) + 1), count))
            return kind, {(a.job, a.operation) for a in operations if a.job in jobs}
        width = max(1, round(share * incumbent.makespan))
        begin = self.rng.randrange(max(1, incumbent.makespan - width + 1))
        return kind, {(a.job, a.operation) for a in operations if begin <= a.start < begin + width}

    def report(self, kind: str, *, closed: bool) -> None:
        """Grow ``kind`` after a neighbourhood closed within the step, shrink it otherwise."""
        factor = GROWTH if closed else 1 / GROWTH
        self.shares[kind] = min(LARGEST_SHARE, max(SMALLEST_SHARE, self.shares[kind] * factor))
