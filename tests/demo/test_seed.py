"""The seeded demo world: its size, its users, its fleets, its audit trail, its determinism.

The world is seeded once for this module inside a transaction that is rolled back at the end,
so the other tests never see it.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django_scopes import scopes_disabled

from opencdmo.accounts.models import Organisation, User
from opencdmo.accounts.roles import ROLES_BY_KIND
from opencdmo.audit.models import AuditEntry
from opencdmo.audit.services import verify_all
from opencdmo.demo.seed import DEMO_REASON, SeedResult, demo_counts, seed_demo_world
from opencdmo.demo.world import DEMO_PASSWORD, demo_world
from opencdmo.network.models import Equipment, Inspection, RegulatoryApproval, Site, Suite
from tests.demo.dump import canonical_dump

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Iterator[SeedResult]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo_world()
        transaction.set_rollback(True)


pytestmark = pytest.mark.usefixtures("seeded")


@pytest.mark.django_db
def test_the_world_has_the_promised_size(seeded: SeedResult) -> None:
    """At least 8 CDMOs, 40 sites, 12 countries, 4 regions, 10 sponsors and a platform."""
    counts = demo_counts()
    assert seeded.seeded
    assert seeded.counts == counts
    assert counts["cdmos"] >= 8
    assert counts["sites"] >= 40
    assert counts["countries"] >= 12
    assert counts["regions"] >= 4
    assert counts["sponsors"] >= 10
    assert Organisation.objects.filter(is_demo=True, kind="platform").count() == 1
    assert not Organisation.objects.filter(is_demo=False).exists()


@pytest.mark.django_db
def test_every_organisation_has_one_user_per_role() -> None:
    """Each organisation holds exactly the roles its kind allows, one user each."""
    for organisation in Organisation.objects.filter(is_demo=True):
        roles = sorted(
            User.objects.filter(organisation=organisation).values_list("role", flat=True)
        )
        assert roles == sorted(ROLES_BY_KIND[organisation.kind]), organisation.slug


@pytest.mark.django_db
def test_fleets_approvals_and_inspections_are_believable() -> None:
    """Typical fleets exist, every bioreactor has a volume, and inspections are mostly clean."""
    bioreactors = Counter(
        Equipment.objects.filter(kind__in=["bioreactor_su", "bioreactor_ss"]).values_list(
            "suite_id", "kind", "working_volume_l"
        )
    )
    assert any(k[1:] == ("bioreactor_su", 2000) and n >= 4 for k, n in bioreactors.items())
    assert any(k[1:] == ("bioreactor_ss", 15000) and n >= 6 for k, n in bioreactors.items())
    assert not Equipment.objects.filter(
        kind__in=["bioreactor_su", "bioreactor_ss"], working_volume_l=None
    ).exists()
    kinds = set(Equipment.objects.values_list("kind", flat=True))
    assert {"chromatography", "fill_line", "lyophiliser", "chemical_reactor", "tablet_press"} <= (
        kinds
    )
    assert not Equipment.objects.filter(kind="fill_line", throughput_units_per_h=None).exists()
    assert not Suite.objects.filter(qualifications__isnull=True).exists()
    modalities = set(Suite.objects.values_list("qualifications__modality", flat=True))
    assert {"mab", "aav", "lentivirus", "cell_therapy", "viral_vaccine", "mrna_lnp"} <= modalities
    agencies = set(RegulatoryApproval.objects.values_list("agency", flat=True))
    assert {"FDA", "EMA", "PMDA", "MHRA", "NMPA"} <= agencies
    assert not Site.objects.filter(approvals__isnull=True).exists()
    outcomes = Counter(Inspection.objects.values_list("outcome", flat=True))
    assert outcomes["official_action"] > 0
    assert outcomes["voluntary_action"] > 0
    assert outcomes["no_action"] > 0.7 * sum(outcomes.values())
    with scopes_disabled():
        assert not Site.objects.filter(private__isnull=True).exists()


MASTER_ACTIONS = r"^opencdmo\.(organisation|user|site|site_private_profile|suite|equipment|approval|inspection)\."
"""The network's master data. Plans, requests, projects, batches, monitoring and quality
records are seeded through the services too, with reasons of their own (a request's options
ready, an option accepted, a deviation classified)."""


@pytest.mark.django_db
def test_every_seeded_object_has_one_audit_entry_and_the_chains_verify() -> None:
    """Seeding went through the services: one entry per created object, unbroken chains."""
    assert verify_all() == []
    c = demo_counts()
    created = (
        c["organisations"]
        + c["users"]
        + 2 * c["sites"]  # the site and its private profile
        + c["suites"]
        + c["equipment"]
        + c["approvals"]
        + c["inspections"]
    )
    with scopes_disabled():
        master = AuditEntry.objects.filter(action__regex=MASTER_ACTIONS)
        assert master.count() == created
        assert set(master.values_list("reason", flat=True)) == {DEMO_REASON}
        published = AuditEntry.objects.filter(action="opencdmo.site_plan.published")
        assert published.count() == c["plans"]


@pytest.mark.django_db
def test_seeding_again_changes_nothing() -> None:
    """A second run finds the world, says so and writes nothing."""
    before = canonical_dump()
    result = seed_demo_world()
    assert not result.seeded
    assert canonical_dump() == before


@pytest.mark.django_db
def test_demo_users_sign_in_with_the_printed_password(settings: Any) -> None:
    """The stored hash is a normal Argon2 hash of the password the command prints."""
    settings.PASSWORD_HASHERS = ["opencdmo.accounts.hashers.Argon2idHasher"]
    user = User.objects.get(username="kestrelford.planner")
    assert user.password.startswith("argon2$")
    assert user.check_password(DEMO_PASSWORD)
    assert not user.check_password("wrong-password")


@pytest.mark.django_db
def test_the_data_matches_the_world_definition() -> None:
    """Every site of the world definition is stored with its suites and equipment."""
    sites = [(org.slug, site) for org in demo_world() for site in org.sites]
    assert Site.objects.count() == len(sites)
    for slug, record in sites:
        site = Site.objects.get(owner__slug=slug, code=record.code)
        assert (site.country, site.region, site.city) == (
            record.country,
            record.region,
            record.city,
        )
        assert site.suites.count() == len(record.suites)


@pytest.mark.django_db
def test_the_command_says_the_world_is_there_and_prints_the_logins() -> None:
    """`opencdmo demo --no-serve` on a seeded database prints the logins and seeds nothing."""
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    text = out.getvalue()
    assert "The demo world is already here, not seeding again" in text
    assert "kestrelford.planner" in text
    assert DEMO_PASSWORD in text


@pytest.mark.slow
@pytest.mark.django_db
def test_a_fresh_database_in_another_process_gets_the_same_world(tmp_path: Path) -> None:
    """Seeding is deterministic: another process, hash seed and database give the same dump."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"OPENCDMO_DATA_DIR": str(tmp_path), "PYTHONHASHSEED": "12345"}
    env["DJANGO_SETTINGS_MODULE"] = "opencdmo.settings"
    completed = subprocess.run(
        [sys.executable, "-m", "tests.demo.dump"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(completed.stdout) == json.loads(json.dumps(canonical_dump()))


@pytest.mark.django_db
def test_qa_has_work_and_the_running_batch_alarm_became_a_deviation() -> None:
    """The running batch's monitoring alarm is a classified deviation of that batch with the
    alarm as source and its evidence; a batch awaits review with nothing blocking it."""
    from opencdmo.analytics.models import Alarm
    from opencdmo.manufacturing.models import Batch
    from opencdmo.quality.disposition import review_of
    from opencdmo.quality.records import Deviation

    with scopes_disabled():
        raised = Deviation.objects.get(source_type="analytics.alarm")
        alarm = Alarm.objects.select_related("batch").get(pk=int(raised.source_id))
        assert alarm.batch.state == "running"
        assert list(raised.batches.all()) == [alarm.batch]
        assert raised.title == f"SPE alarm on {alarm.batch.lot} at {alarm.time_h:.1f} h"
        assert f"{alarm.value:.4g} against its limit {alarm.limit:.4g}" in raised.evidence
        assert raised.state == "classified"
        waiting = [
            batch
            for batch in Batch.objects.filter(state="under_review")
            if review_of(batch).disposition is None
        ]
        assert waiting
        review = review_of(waiting[0])
        assert review.verdict is not None
        assert review.blockers == []
