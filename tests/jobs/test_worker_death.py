"""A worker killed (or stopped) in the middle of an import: the next worker finishes the job,
or marks it failed with the reason, within the lease; the sites are written exactly once."""

from __future__ import annotations

import signal
import time

import pytest

from tests.jobs.conftest import JobWorld

pytestmark = pytest.mark.slow

LEASE_S = 3
# Reading and checking take about 0.2 ms a site on the development machine: 10,000 sites
# keep a worker busy for seconds.
SITES = 10_000
# Started after the lease, a worker looks for lost jobs at once; the rest is the re-run.
RECOVERY_LIMIT_S = 60


def _sites(world: JobWorld) -> int:
    return int(world.query("SELECT COUNT(*) FROM network_site")[0][0])


def _kill_mid_import(world: JobWorld, job_id: int, stop: signal.Signals, times: int) -> float:
    """Start a worker, let it get into the import, then send ``stop`` ``times`` times.

    Returns the monotonic time at which the job was seen running: its lease was taken (or last
    renewed) no earlier than a poll before that.
    """
    worker = world.start_worker(OPENCDMO_JOB_LEASE_S=str(LEASE_S))
    world.wait_for(
        "The first worker taking the job", lambda: world.job(job_id)["status"] == "running", 30
    )
    running_at = time.monotonic()
    time.sleep(0.5)
    for _ in range(times):
        worker.send_signal(stop)
        time.sleep(0.2)
    worker.wait(timeout=20)
    assert _sites(world) == 0, "the import finished before the worker was stopped; use more sites"
    return running_at


def test_a_job_whose_worker_was_killed_is_finished_by_the_next_worker(job_world: JobWorld) -> None:
    """kill -9 mid-import: the job stays running until the lease runs out, then another
    worker runs it again from the start and every site is written once."""
    job_id = job_world.queue_sites(SITES)
    running_at = _kill_mid_import(job_world, job_id, signal.SIGKILL, times=1)
    killed_at = time.monotonic()
    assert job_world.job(job_id)["status"] == "running"
    job_world.start_worker(OPENCDMO_JOB_LEASE_S=str(LEASE_S))
    # The lease was taken or renewed at the earliest one poll (0.1 s) before the job was seen
    # running, so it cannot run out before this moment.
    time.sleep(max(0.0, running_at + LEASE_S - 0.3 - time.monotonic()))
    assert job_world.job(job_id)["attempts"] == 1, "a live lease must not be taken over"
    job_world.wait_for(
        "The second worker taking the job over",
        lambda: job_world.job(job_id)["attempts"] == 2,
        RECOVERY_LIMIT_S,
    )
    taken_over_s = time.monotonic() - killed_at
    job_world.wait_for(
        "The second worker finishing the job",
        lambda: job_world.task(job_world.job(job_id)["task_id"])["status"] == "SUCCESSFUL",
        RECOVERY_LIMIT_S,
    )
    print(f"taken over {taken_over_s:.1f} s after the kill (lease {LEASE_S} s)")
    job = job_world.job(job_id)
    assert job["status"] == "imported"
    assert job["attempts"] == 2
    assert _sites(job_world) == SITES
    task = job_world.task(job["task_id"])
    assert len(task["worker_ids"]) == 2, "the same task result was run by both workers"
    assert "queued again: the worker stopped while running this job" in job_world.log()


def test_a_job_whose_workers_keep_dying_fails_with_the_reason(job_world: JobWorld) -> None:
    """With one attempt allowed, the next worker marks the killed job failed, saying why."""
    job_id = job_world.queue_sites(SITES)
    _kill_mid_import(job_world, job_id, signal.SIGKILL, times=1)
    job_world.start_worker(OPENCDMO_JOB_LEASE_S=str(LEASE_S), OPENCDMO_JOB_ATTEMPTS="1")
    job_world.wait_for(
        "The second worker failing the job",
        lambda: job_world.job(job_id)["status"] == "failed",
        RECOVERY_LIMIT_S,
    )
    job = job_world.job(job_id)
    assert job["summary"] == (
        "The import failed: the worker stopped while running this job (1 attempts)."
    )
    assert _sites(job_world) == 0


def test_a_worker_stopped_twice_hands_its_job_back(job_world: JobWorld) -> None:
    """SIGTERM, then SIGTERM again: the worker abandons the import, the job goes back to the
    queue without counting as an attempt, and the next worker imports it."""
    job_id = job_world.queue_sites(SITES)
    _kill_mid_import(job_world, job_id, signal.SIGTERM, times=2)
    job = job_world.job(job_id)
    assert (job["status"], job["attempts"]) == ("queued", 0)
    job_world.start_worker(OPENCDMO_JOB_LEASE_S=str(LEASE_S))
    job_world.wait_for(
        "The second worker finishing the job",
        lambda: job_world.job(job_id)["status"] == "imported",
        RECOVERY_LIMIT_S,
    )
    assert (job_world.job(job_id)["attempts"], _sites(job_world)) == (1, SITES)
