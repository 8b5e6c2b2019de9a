"""One test world per module: the shared two-CDMO, two-sponsor world plus what the matrix needs.

The world is written once inside a transaction that is rolled back when the module ends;
each test runs in a savepoint of it (pytest-django's ``db``), so requests that change
objects leave the next test the same world.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django_scopes import scopes_disabled

from tests.conftest import World, build_world

SHARING = {"alpha-bio": "sponsor-one", "beta-pharma": "sponsor-two"}
"""Each CDMO executes one record for one sponsor."""


def build_platform_world() -> World:
    """``build_world`` plus, per CDMO, a private note, a record shared with its sponsor and a
    finished import job; and one API token per user."""
    from opencdmo.accounts.models import ApiToken
    from opencdmo.network.models import ImportJob
    from opencdmo.notifications.models import Notification
    from tests.platform.shared_records.models import OwnerNote, SharedRecord

    world = build_world()
    with scopes_disabled():
        for cdmo, sponsor in SHARING.items():
            note = OwnerNote.objects.create(cdmo=world.orgs[cdmo], text=f"private to {cdmo}")
            world.extra[f"note/{cdmo}"] = note
            world.extra[f"record/{cdmo}"] = SharedRecord.objects.create(
                cdmo=world.orgs[cdmo],
                sponsor=world.orgs[sponsor],
                title=f"Batch of {cdmo} for {sponsor}",
                note=note,
            )
            _capacity_records(world, cdmo, sponsor)
            _quality_agreement(world, cdmo)
            _quality_records(world, cdmo)
            _workspace(world, cdmo, sponsor)
            _document(world, cdmo)
            ImportJob.objects.create(
                organisation=world.orgs[cdmo],
                user=world.user(cdmo, "cdmo_admin"),
                filename="sites.csv",
                stored_path="/nonexistent/sites.csv",
                sha256="0" * 64,
                status="imported",
                summary="Imported 1 site from sites.csv.",
            )
        for user in world.users.values():
            ApiToken.objects.create(
                user=user, name="matrix", prefix=f"t{user.pk:06d}", digest=f"{user.pk:064d}"
            )
            Notification.objects.create(user=user, event="digest", title="Matrix", link="/")
    return world


def _capacity_records(world: World, cdmo: str, sponsor: str) -> None:
    """The sponsor's product and request, the CDMO site's published plan, the option it
    answered with and the plan behind it, and the project."""
    import datetime as dt

    from opencdmo.analytics.models import Alarm, MonitoringModel, ProjectDataSharing
    from opencdmo.manufacturing.models import Batch, OpcConnection
    from opencdmo.projects.models import CapacityRequest, Option, OptionPlan, Product, Project
    from opencdmo.scheduling.models import Scenario, SitePlan
    from tests.projects.conftest import plan_documents

    site = world.sites[cdmo]
    zero = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    instance, result = plan_documents()
    SitePlan.objects.create(
        site=site, version=1, time_zero=zero, instance=instance, result=result, reason="test"
    )
    Scenario.objects.create(
        site=site,
        name="What if",
        base_version=1,
        time_zero=zero,
        instance=instance,
        result=result,
        status="solved",
    )
    product = Product.objects.create(
        owner=world.orgs[sponsor], name=f"{sponsor} mAb", modality="mab", phase="phase_2"
    )
    request = CapacityRequest.objects.create(
        sponsor=world.orgs[sponsor],
        product=product,
        scale_l=1000,
        batches=2,
        earliest_start=dt.date(2026, 3, 1),
        need_by=dt.date(2026, 9, 1),
        state="submitted",
        created_by=world.user(sponsor, "sponsor_manager"),
    )
    option = Option.objects.create(request=request, site=site, status="answered", feasible=True)
    OptionPlan.objects.create(
        option=option, time_zero=zero, instance=instance, result=result, based_on_version=1
    )
    project = Project.objects.create(
        name=f"{product.name} at {site.name}",
        sponsor=world.orgs[sponsor],
        cdmo=world.orgs[cdmo],
        site=site,
        product=product,
        scope="clinical",
        phase="phase_2",
    )
    batch = Batch.objects.create(
        cdmo=world.orgs[cdmo], project=project, lot=f"{cdmo}-1", site=site, state="planned"
    )
    # Shared raw data: the matrix checks who may read a batch's data, not the CDMO's choice.
    ProjectDataSharing.objects.create(project=project, share_process_data=True)
    model = MonitoringModel.objects.create(
        site=site, product=product, version=1, name=f"{product} model"
    )
    Alarm.objects.create(
        batch=batch, model=model, sample=3, time_h=3.0, statistic="spe", value=9.0, limit=4.0
    )
    OpcConnection.objects.create(
        site=site,
        name=f"{cdmo} BR-1",
        endpoint="opc.tcp://127.0.0.1:4840",
        nodes=[{"node_id": "ns=2;s=x", "lot": batch.lot, "variable": "ph", "unit": "pH"}],
    )


def _quality_agreement(world: World, cdmo: str) -> None:
    """The quality agreement of the CDMO's project, signed by nobody yet."""
    from opencdmo.projects.models import Project
    from opencdmo.quality.models import QualityAgreement

    project = Project.objects.get(cdmo=world.orgs[cdmo])
    world.extra[f"agreement/{cdmo}"] = QualityAgreement.objects.create(
        project=project, minor_notice_h=720, major_notice_h=72, critical_notice_h=24
    )


def _workspace(world: World, cdmo: str, sponsor: str) -> None:
    """A milestone and a task of the CDMO's project, the task owned by the sponsor's QA."""
    import datetime as dt

    from opencdmo.projects.models import Milestone, Project, Task

    project = Project.objects.get(cdmo=world.orgs[cdmo])
    Milestone.objects.create(
        project=project, name="Kick-off", kind="tech_transfer", planned_date=dt.date(2026, 3, 1)
    )
    Task.objects.create(
        project=project,
        title="Send the process description",
        owner=world.user(sponsor, "sponsor_qa"),
        due_date=dt.date(2026, 3, 1),
    )


def _quality_records(world: World, cdmo: str) -> None:
    """An open deviation of the CDMO's batch, a CAPA with one action, and the batch's
    disposition awaiting the sponsor."""
    import datetime as dt

    from opencdmo.manufacturing.models import Batch
    from opencdmo.quality.records import Capa, CapaAction, Deviation, Disposition

    batch = Batch.objects.get(cdmo=world.orgs[cdmo])
    deviation = Deviation.objects.create(
        project=batch.project, title=f"Deviation at {cdmo}", description="Matrix"
    )
    deviation.batches.set([batch])
    capa = Capa.objects.create(
        deviation=deviation,
        title="Matrix CAPA",
        effectiveness_criteria="None again",
        effectiveness_due=dt.date(2026, 6, 1),
    )
    CapaAction.objects.create(
        capa=capa,
        description="Retrain",
        owner=world.user(cdmo, "cdmo_qa"),
        due_on=dt.date(2026, 3, 1),
    )
    Disposition.objects.create(
        batch=batch,
        decision="release",
        state="awaiting_sponsor",
        decided_at=dt.datetime.now(dt.UTC),
    )


def _document(world: World, cdmo: str) -> None:
    """A document of the CDMO's project with one draft version, its file in the store."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from opencdmo.projects.document_services import upload_document
    from opencdmo.projects.models import Project

    project = Project.objects.get(cdmo=world.orgs[cdmo])
    upload = SimpleUploadedFile("plan.pdf", f"%PDF plan of {cdmo}".encode())
    upload_document(project, actor=None, number="TT-001", title="Transfer plan", upload=upload)


@pytest.fixture(scope="module")
def platform_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_platform_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
