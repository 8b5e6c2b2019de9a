"""What the tenancy declaration derives: scoped querysets, lookups and the write check."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django_scopes import scopes_disabled
from django_scopes.exceptions import ScopeError

from opencdmo.accounts.models import User
from opencdmo.core.tenancy import (
    authorise_change,
    caller_scope,
    get_changeable_or_404,
    get_visible_or_404,
    tenant_models,
)
from opencdmo.network.models import Site, SitePrivateProfile
from tests.platform.shared_records.models import SharedRecord

PRIVATE_MODELS = sorted(
    (
        model
        for model, tenancy in tenant_models().items()
        if not tenancy.public and model is not User
    ),
    key=lambda model: model._meta.label,
)


@pytest.mark.parametrize("model", PRIVATE_MODELS, ids=[m._meta.label for m in PRIVATE_MODELS])
def test_private_rows_are_refused_outside_a_caller_scope(model: Any, db: Any) -> None:
    """Forgetting the scope raises instead of leaking, for every declared private model."""
    with pytest.raises(ScopeError):
        list(model.objects.all())


def test_the_user_model_keeps_an_unscoped_manager_for_sign_in_only(db: Any) -> None:
    """Authentication reads users before a scope exists; its reverse accessor is scoped."""
    assert not User.objects.filter(pk=-1).exists()
    assert User.tenancy.owner == "organisation"


def test_public_site_profiles_need_no_scope(platform_world: Any, db: Any) -> None:
    """Site profiles are declared public: every query sees every CDMO's sites."""
    assert Site.objects.count() == 2
    with caller_scope(platform_world.user("sponsor-two", "sponsor_viewer")):
        assert Site.objects.count() == 2


@pytest.mark.parametrize(
    ("caller", "titles"),
    [
        ("alpha-bio/cdmo_operator", ["Batch of alpha-bio for sponsor-one"]),
        ("sponsor-one/sponsor_viewer", ["Batch of alpha-bio for sponsor-one"]),
        ("sponsor-two/sponsor_viewer", ["Batch of beta-pharma for sponsor-two"]),
        ("beta-pharma/cdmo_qa", ["Batch of beta-pharma for sponsor-two"]),
    ],
)
def test_scope_holds_owned_and_shared_rows(
    platform_world: Any, db: Any, caller: str, titles: list[str]
) -> None:
    """Owner or sharer reads a record; nobody else does."""
    with caller_scope(platform_world.users[caller]):
        assert [r.title for r in SharedRecord.objects.order_by("pk")] == titles


def test_visible_lookup_answers_foreign_like_missing(platform_world: Any, db: Any) -> None:
    """Another sponsor's record and a missing one raise the same 404; anonymous sees nothing."""
    record = platform_world.extra["record/alpha-bio"]
    sponsor = platform_world.user("sponsor-one", "sponsor_viewer")
    with caller_scope(sponsor):
        assert get_visible_or_404(SharedRecord, sponsor, pk=record.pk) == record
    for user, pk in [
        (platform_world.user("sponsor-two", "sponsor_viewer"), record.pk),
        (sponsor, 987654321),
        (None, record.pk),
    ]:
        with caller_scope(user), pytest.raises(Http404, match=r"^No such object\.$"):
            get_visible_or_404(SharedRecord, user, pk=pk)


def test_changeable_lookup_checks_the_role_then_ownership(platform_world: Any, db: Any) -> None:
    """403 for a role without the permission (the sharer's too); 404 for another CDMO."""
    record = platform_world.extra["record/alpha-bio"]
    planner = platform_world.user("alpha-bio", "cdmo_planner")
    with caller_scope(planner):
        assert get_changeable_or_404(SharedRecord, planner, pk=record.pk) == record
    sponsor = platform_world.user("sponsor-one", "sponsor_qa")
    with caller_scope(sponsor), pytest.raises(PermissionDenied):
        get_changeable_or_404(SharedRecord, sponsor, pk=record.pk)
    other = platform_world.user("beta-pharma", "cdmo_planner")
    with caller_scope(other), pytest.raises(Http404):
        get_changeable_or_404(SharedRecord, other, pk=record.pk)


def test_curator_changes_every_tenants_master_data(platform_world: Any, db: Any) -> None:
    """The platform administrator passes the write check on any CDMO's private profile."""
    with scopes_disabled():
        profile = SitePrivateProfile.objects.get(site=platform_world.sites["beta-pharma"])
    authorise_change(platform_world.user("platform", "platform_admin"), profile)
    with pytest.raises(Http404):
        authorise_change(platform_world.user("alpha-bio", "cdmo_admin"), profile)
