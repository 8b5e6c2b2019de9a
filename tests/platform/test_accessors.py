"""Accessors of tenant models return nothing private across tenants.

Every object of every model with a tenancy declaration is walked as a caller of each of the
four organisations: every reverse accessor (``organisation.users``, ``site.suites``,
``site.private``, ``note.records``) and every foreign key of a shared record must give back
only rows that caller may read under the related model's own declaration.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django_scopes import scopes_disabled

from opencdmo.core.tenancy import caller_scope, tenancy_of, tenant_models
from tests.platform.routes import ORGANISATIONS

NOT_TENANT_DATA = {
    "admin.logentry": "Django's admin log, shown only to platform administrators in the admin",
    "auth.group": "unused; unregistered from the admin",
    "auth.permission": "Django's model permissions, the same for every tenant",
}


def _related_rows(obj: models.Model, relation: Any) -> list[models.Model]:
    """What the accessor of ``relation`` on ``obj`` gives back, as a list."""
    try:
        value = getattr(
            obj, relation.get_accessor_name() if relation.auto_created else relation.name
        )
    except ObjectDoesNotExist:
        return []
    if value is None:
        return []
    if isinstance(value, models.Model):
        return [value]
    return list(value.all())


def _relations(model: type[models.Model]) -> list[Any]:
    """Reverse accessors of ``model`` and the foreign keys of a shared model."""
    found = [
        rel
        for rel in model._meta.related_objects
        if not rel.hidden and rel.related_model._meta.label_lower not in NOT_TENANT_DATA
    ]
    if tenancy_of(model).shared_with:
        found += [f for f in model._meta.concrete_fields if f.many_to_one]
    return found


def _caller(world: Any, slug: str) -> Any:
    role = "cdmo_admin" if world.orgs[slug].kind == "cdmo" else "sponsor_qa"
    return world.user(slug, role)


def test_every_related_model_declares_its_tenancy() -> None:
    """A model reachable from a tenant model is itself declared, or named as not tenant data."""
    undeclared = set()
    for model in tenant_models():
        for rel in _relations(model):
            related = rel.related_model
            try:
                tenancy_of(related)
            except LookupError:
                undeclared.add(related._meta.label_lower)
    assert undeclared == set()


def test_accessors_return_only_what_the_caller_may_read(platform_world: Any, db: Any) -> None:
    """No accessor of any tenant object leaks another tenant's private rows."""
    leaks: list[str] = []
    walked = 0
    for slug in ORGANISATIONS:
        caller = _caller(platform_world, slug)
        for model in tenant_models():
            with scopes_disabled():
                objects = list(model._default_manager.all())
            relations = _relations(model)
            with caller_scope(caller):
                for obj in objects:
                    for relation in relations:
                        for row in _related_rows(obj, relation):
                            walked += 1
                            if not tenancy_of(row).is_readable_by(row, [caller.organisation_id]):
                                leaks.append(f"{slug}: {obj!r}.{relation.name} → {row!r}")
    assert leaks == []
    assert walked > 100


def test_shared_record_hides_the_owners_private_note_from_the_sponsor(
    platform_world: Any, db: Any
) -> None:
    """The sponsor reads the CDMO's record but not the private note it points back to."""
    record = platform_world.extra["record/alpha-bio"]
    with caller_scope(platform_world.user("sponsor-one", "sponsor_qa")):
        fresh = type(record).objects.get(pk=record.pk)
        assert fresh.title == record.title
        try:
            note = fresh.note
        except ObjectDoesNotExist:
            note = None
        assert note is None
    with caller_scope(platform_world.user("alpha-bio", "cdmo_planner")):
        assert type(record).objects.get(pk=record.pk).note.text == "private to alpha-bio"


def test_reverse_accessors_of_another_organisation_hide_its_private_rows(
    platform_world: Any, db: Any
) -> None:
    """``organisation.users`` and ``site.private`` of another CDMO come back empty."""
    beta = platform_world.orgs["beta-pharma"]
    site = platform_world.sites["beta-pharma"]
    with caller_scope(platform_world.user("alpha-bio", "cdmo_admin")):
        assert list(beta.users.all()) == []
        assert list(beta.import_jobs.all()) == []
        try:
            private = type(site).objects.get(pk=site.pk).private
        except ObjectDoesNotExist:
            private = None
        assert private is None
        assert site.suites.count() == 1
