"""Flexible job shop (Brandimarte format): the public yardstick of the CP-SAT scheduler."""

from __future__ import annotations

from dataclasses import dataclass

from opencdmo.engines.planning import validation as v


@dataclass(frozen=True)
class FjspOperation:
    """An operation and its eligible machines: ``(machine, processing time)`` pairs.

    Machines are numbered from 1, as in the file; times are whole time units of the file.
    """

    alternatives: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        v.require(len(self.alternatives) >= 1, "alternatives", "needs at least one machine")
        machines = [machine for machine, _ in self.alternatives]
        v.require(len(set(machines)) == len(machines), "alternatives", "a machine is listed twice")
        for index, (machine, duration) in enumerate(self.alternatives):
            v.require(machine >= 1, f"alternatives[{index}]", f"machine {machine} must be ≥ 1")
            v.require(duration >= 0, f"alternatives[{index}]", f"time {duration} must be ≥ 0")


@dataclass(frozen=True)
class FjspJob:
    """A job: operations that run in the given order."""

    operations: tuple[FjspOperation, ...]

    def __post_init__(self) -> None:
        v.require(len(self.operations) >= 1, "operations", "a job needs at least one operation")


@dataclass(frozen=True)
class FjspProblem:
    """A flexible job-shop instance: minimise the makespan.

    Attributes
    ----------
    id
        Identifier (the file name without extension).
    machine_count
        Number of machines; machines are numbered ``1 … machine_count``.
    jobs
        The jobs, numbered from 1 in order.
    """

    id: str
    machine_count: int
    jobs: tuple[FjspJob, ...]

    def __post_init__(self) -> None:
        v.name(self.id, "id")
        v.require(self.machine_count >= 1, "machines", "at least one machine is needed")
        v.require(len(self.jobs) >= 1, "jobs", "at least one job is needed")
        for j, job in enumerate(self.jobs, start=1):
            for o, operation in enumerate(job.operations, start=1):
                for machine, _ in operation.alternatives:
                    v.require(
                        machine <= self.machine_count,
                        f"job {j} operation {o}",
                        f"machine {machine} exceeds the {self.machine_count} machines",
                    )
