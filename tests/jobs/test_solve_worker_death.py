"""A worker killed in the middle of a long solve: the next worker solves it again within the
lease, or it is marked failed with the reason once its attempts are spent; the page's record
never stays 'solving' for good."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.jobs.conftest import JobWorld

pytestmark = pytest.mark.slow

LEASE_S = 3

SCENARIO_SCRIPT = """
import random, sys, django
django.setup()
from django.utils import timezone
from django_scopes import scopes_disabled
from opencdmo.accounts.models import Organisation, User
from opencdmo.accounts.tenancy import caller_scope
from opencdmo.demo.plans import constructed_plan
from opencdmo.network.models import Site
from opencdmo.scheduling import services
rng = random.Random(3)
products = [f"P{i}" for i in range(5)]
suites = ["S1", "S2", "S3"]
batches = []
for n in range(60):
    product = rng.choice(products)
    batches.append({
        "id": f"L{n:02d}-run", "product": product,
        "options": [{"suite": s, "duration_h": rng.randint(20, 60)} for s in suites],
        "release_h": 48 + rng.randint(0, 600), "due_h": 48 + rng.randint(200, 900),
    })
instance = {
    "format": "opencdmo-schedule/1", "id": "hard", "horizon_h": 8000,
    "suites": [{"name": s} for s in suites], "products": [{"name": p} for p in products],
    "changeovers": [
        {"from_product": a, "to_product": b, "duration_h": rng.randint(4, 24), "cost": 100}
        for a in products for b in products if a != b
    ],
    "batches": batches,
    "objective": {"levels": [[{"kind": "weighted_tardiness"}], [{"kind": "changeover_cost"}]]},
}
with scopes_disabled():
    org = Organisation.objects.create(slug="alpha-bio", name="Alpha Bio", kind="cdmo")
    planner = User.objects.create(username="alpha-planner", organisation=org, role="cdmo_planner")
    site = Site.objects.create(owner=org, code="main", name="Alpha Main", country="FR",
        region="europe", city="Lyon", latitude=45.7, longitude=4.8)
zero = timezone.now().replace(microsecond=0)
plan = constructed_plan(instance, zero, {})
with caller_scope(planner):
    services.publish_plan(site, actor=None, reason="test plan", time_zero=zero,
        instance=plan.instance, result=plan.result)
    scenario = services.create_scenario(site, actor=planner, name="Long solve")
    services.queue_solve(scenario, actor=planner, time_limit_s=int(sys.argv[1]))
print(scenario.pk)
"""


def _queue_scenario(world: JobWorld, time_limit_s: int) -> int:
    out = subprocess.run(
        [sys.executable, "-c", SCENARIO_SCRIPT, str(time_limit_s)],
        env={**world.env, "DJANGO_SETTINGS_MODULE": "opencdmo.settings"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip().splitlines()[-1])


def _scenario(world: JobWorld, pk: int) -> dict[str, object]:
    columns = ("status", "attempts", "message")
    row = world.query(f"SELECT {', '.join(columns)} FROM scheduling_scenario WHERE id = %s", pk)[0]
    return dict(zip(columns, row, strict=True))


def _kill_mid_solve(world: JobWorld, pk: int) -> None:
    worker = world.start_worker(OPENCDMO_JOB_LEASE_S=str(LEASE_S), OPENCDMO_JOB_ATTEMPTS="2")
    world.wait_for(
        "The worker taking the solve", lambda: _scenario(world, pk)["status"] == "solving", 30
    )
    time.sleep(1.0)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=20)
    assert _scenario(world, pk)["status"] == "solving"


def test_a_solve_whose_worker_was_killed_is_solved_by_the_next_worker(job_world: JobWorld) -> None:
    """kill -9 one second into a 6 s solve; another worker takes it up once the lease has
    run out and finishes it: solved, on the second attempt."""
    pk = _queue_scenario(job_world, time_limit_s=6)
    _kill_mid_solve(job_world, pk)
    job_world.start_worker(OPENCDMO_JOB_LEASE_S=str(LEASE_S), OPENCDMO_JOB_ATTEMPTS="2")
    job_world.wait_for(
        "The second worker solving it", lambda: _scenario(job_world, pk)["status"] == "solved", 60
    )
    assert _scenario(job_world, pk)["attempts"] == 2
    assert "queued again" in job_world.log()


def test_a_solve_out_of_attempts_is_failed_with_the_reason(job_world: JobWorld) -> None:
    """With one attempt allowed, the killed solve is not run again but failed, saying why."""
    pk = _queue_scenario(job_world, time_limit_s=30)
    _kill_mid_solve(job_world, pk)
    job_world.start_worker(OPENCDMO_JOB_LEASE_S=str(LEASE_S), OPENCDMO_JOB_ATTEMPTS="1")
    job_world.wait_for(
        "The solve marked failed", lambda: _scenario(job_world, pk)["status"] == "failed", 30
    )
    assert "worker stopped while solving" in str(_scenario(job_world, pk)["message"])
