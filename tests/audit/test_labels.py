"""Codes become words a QA reviewer reads: actions, fields and values, from the models' metadata."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django_scopes import scope, scopes_disabled

from opencdmo.accounts import services as accounts
from opencdmo.audit import labels
from opencdmo.audit import services as audit
from opencdmo.audit.models import AuditEntry
from opencdmo.network import services as network
from tests.conftest import PASSWORD


def _labelled(entry: AuditEntry) -> labels.LabelledEntry:
    with scope(organisation=[entry.organisation_id]):
        return labels.labelled([entry])[0]


def _change(row: labels.LabelledEntry, code: str) -> labels.FieldChange:
    return next(change for change in row.changes if change.code == code)


@pytest.mark.parametrize(
    ("action", "label"),
    [
        ("opencdmo.suite.changed", "Suite changed"),
        ("opencdmo.site.created", "Site created"),
        ("opencdmo.equipment.deleted", "Equipment deleted"),
        ("opencdmo.approval.created", "Regulatory approval created"),
        ("opencdmo.api_token.revoked", "API token revoked"),
        ("opencdmo.user.logged_in", "Login"),
        ("opencdmo.user.logged_out", "Logout"),
        ("opencdmo.user.login_failed", "Failed login"),
        ("opencdmo.user.role_changed", "User role changed"),
        ("opencdmo.importjob.failed", "Import job failed"),
        ("opencdmo.audit_trail.exported", "Audit trail exported"),
    ],
)
def test_actions_read_as_words(db: Any, action: str, label: str) -> None:
    """An action's noun names its model by verbose name; a state it moved to reads as its label."""
    assert labels.action_label(action) == label
    assert labels.is_labelled(action)


def test_an_unknown_action_is_read_aloud_but_not_labelled(db: Any) -> None:
    """A code with no model and no event entry still reads, and the registry check catches it."""
    assert labels.action_label("opencdmo.reactor_rocket.launched") == "Reactor rocket launched"
    assert not labels.is_labelled("opencdmo.reactor_rocket.launched")
    assert not labels.is_labelled("opencdmo.suite.launched")


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("working_volume_l", "Working volume (L)"),
        ("throughput_units_per_h", "Throughput (units/h)"),
        ("indicative_batch_price_usd", "Indicative batch price (USD)"),
        ("gmp_grade", "GMP grade"),
        ("suite_id", "Suite"),
        ("known_user", "Known user"),
    ],
)
def test_field_names_read_with_their_units(db: Any, code: str, label: str) -> None:
    """A field without its own verbose name reads as its name with the unit suffix spelled out."""
    from opencdmo.network.models import Equipment, SitePrivateProfile

    model = SitePrivateProfile if code.startswith("indicative") else Equipment
    assert labels.field_label(model, code) == label


@pytest.mark.parametrize(
    ("value", "text"),
    [(15000.0, "15,000"), (2000.0, "2,000"), (2024, "2024"), (0.5, "0.5"), (-71.25, "-71.25")],
)
def test_numbers_lose_spurious_decimals(value: float, text: str) -> None:
    """15000.0 reads 15,000; four-digit numbers such as years are not grouped."""
    expected = "2000" if value == 2000.0 else text
    assert labels.number_text(value) == expected


def test_values_read_as_labels_names_and_dates(world: Any) -> None:
    """Choices show their labels, foreign keys their object's name, dates and booleans as words."""
    org = world.orgs["alpha-bio"]
    site, suite = world.sites["alpha-bio"], world.suites["alpha-bio"]
    inspection = site.inspections.get()
    entry = audit.record(
        "opencdmo.inspection.changed",
        organisation_id=org.pk,
        target=inspection,
        before={"outcome": "no_action", "inspected_on": "2024-05-01", "site_id": site.pk},
        after={"outcome": "official_action", "inspected_on": "2024-06-03", "site_id": 999_999},
    )
    row = _labelled(entry)
    assert row.action_label == "Inspection changed"
    assert row.object_type_label == "Inspection"
    outcome = _change(row, "outcome")
    assert (outcome.label, outcome.old) == ("Outcome", "No action indicated")
    assert outcome.new == "Official action indicated"
    when = _change(row, "inspected_on")
    assert (when.old, when.new) == ("1 May 2024", "3 Jun 2024")
    where = _change(row, "site_id")
    assert (where.label, where.old, where.new) == ("Site", site.name, "Site #999999 (deleted)")
    failed = audit.record(
        "opencdmo.user.login_failed",
        organisation_id=org.pk,
        after={"username": "nobody", "known_user": False, "locked": True},
    )
    shown = {c.label: c.new for c in _labelled(failed).changes}
    assert shown == {"Username": "nobody", "Known user": "No", "Locked": "Yes"}
    state = audit.record(
        "opencdmo.suite.changed",
        organisation_id=org.pk,
        target=suite,
        before={"modalities": ["mab"]},
        after={"modalities": ["adc", "mab"]},
    )
    modalities = _change(_labelled(state), "modalities")
    assert modalities.label == "Modalities"
    assert modalities.new == "Antibody-drug conjugate, Monoclonal antibody"


def test_equipment_volume_change_reads_in_litres(world: Any) -> None:
    """A change through the service shows 'Working volume (L): 2,000 → 2,500', not 2000.0."""
    equipment = world.equipment["beta-pharma"]
    network.update_equipment(
        equipment,
        actor=world.user("beta-pharma", "cdmo_planner"),
        reason="Larger vessel",
        working_volume_l=25000.0,
    )
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="opencdmo.equipment.changed")
    change = _change(_labelled(entry), "working_volume_l")
    assert (change.label, change.old, change.new) == ("Working volume (L)", "15,000", "25,000")


def _walk_the_code(world: Any) -> None:
    """Write through every public service and front door that records an entry."""
    from opencdmo.network.models import Site

    planner = world.user("alpha-bio", "cdmo_planner")
    admin = world.user("alpha-bio", "cdmo_admin")
    owner = world.orgs["alpha-bio"]
    with scopes_disabled():
        site = network.create_site(
            actor=planner,
            owner=owner,
            reason="New plant",
            code="walk",
            name="Walk plant",
            country="FR",
            region="europe",
            city="Lyon",
            latitude=45.7,
            longitude=4.8,
        )
        network.update_site(site, actor=planner, reason="Renamed", name="Walk plant 2")
        network.update_private_profile(site, actor=planner, reason="Price", key_contact="Ann")
        network.update_private_profile(site, actor=planner, reason="Price", key_contact="Bob")
        suite = network.create_suite(
            actor=planner, site=site, reason="", name="W1", kind="upstream", gmp_grade="C"
        )
        network.update_suite(suite, actor=planner, reason="Grade", gmp_grade="B")
        equipment = network.create_equipment(
            actor=planner,
            suite=suite,
            reason="",
            tag="W-1",
            kind="bioreactor_su",
            working_volume_l=50.0,
        )
        network.update_equipment(equipment, actor=planner, reason="Vol", working_volume_l=60.0)
        approval = network.create_approval(
            actor=planner, site=site, reason="", agency="EMA", scope="DS", granted_on="2024-01-02"
        )
        network.update_approval(approval, actor=planner, reason="Scope", scope="DS and DP")
        inspection = network.create_inspection(
            actor=planner,
            site=site,
            reason="",
            agency="EMA",
            inspected_on="2024-02-03",
            outcome="no_action",
        )
        network.update_inspection(inspection, actor=planner, reason="Obs", observations=2)
        network.delete_equipment(equipment, actor=planner, reason="Scrapped")
        network.delete_approval(approval, actor=planner, reason="Withdrawn")
        network.delete_inspection(inspection, actor=planner, reason="Duplicate")
        network.delete_suite(suite, actor=planner, reason="Closed")
        network.delete_site(Site.objects.get(pk=site.pk), actor=planner, reason="Sold")
        accounts.create_organisation(name="Walk Org", kind="sponsor", reason="Signed")
        user, _ = accounts.invite_user(
            admin,
            organisation=owner,
            username="walker",
            email="walker@example.org",
            role="cdmo_planner",
            reason="Joined",
        )
        accounts.change_role(admin, user, "cdmo_msat", "Moved to MSAT")
        accounts.set_active(admin, user, False, "Left")
        accounts.set_active(admin, user, True, "Back")
        accounts.set_own_password(user, PASSWORD + "-walk")
        token, _ = accounts.issue_token(admin, "walk")
        accounts.revoke_token(admin, token)
    browser = Client()
    browser.post("/login/", {"username": admin.username, "password": "wrong"})
    browser.post("/login/", {"username": admin.username, "password": PASSWORD})
    qa = Client()
    qa.force_login(world.user("alpha-bio", "cdmo_qa"))
    qa.post("/audit/verify/")
    b"".join(qa.get("/audit/export.csv").streaming_content)
    qa.get("/audit/export.pdf")
    browser.post("/logout/")


def test_every_action_the_code_emits_has_a_label(world: Any) -> None:
    """Walk every writing service, login, logout, export and check; each action has a label."""
    _walk_the_code(world)
    with scopes_disabled():
        emitted = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "opencdmo.user.logged_in",
        "opencdmo.user.login_failed",
        "opencdmo.user.logged_out",
        "opencdmo.approval.deleted",
        "opencdmo.site_private_profile.changed",
        "opencdmo.audit_trail.exported",
        "opencdmo.audit_chain.verified",
    } <= emitted
    assert sorted(a for a in emitted if not labels.is_labelled(a)) == []


def test_every_model_has_labelled_create_change_delete(db: Any) -> None:
    """Any project model, present or added later, gets its creation, change and deletion labels."""
    project_models = [m for m in apps.get_models() if m.__module__.startswith("opencdmo.")]
    assert len(project_models) >= 8
    for model in project_models:
        for verb in ("created", "changed", "deleted"):
            action = f"opencdmo.{model._meta.model_name}.{verb}"
            assert labels.is_labelled(action), action
            assert labels.action_label(action).endswith(f" {verb}")
