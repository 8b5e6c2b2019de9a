"""Every write to the site network: permission, validation, one audit entry per change.

Pages, the API, the importer and the demo seeder all call these functions, so the rules
live here once. A caller may change only the sites its own organisation owns and only with
``EDIT_NETWORK``; another organisation's object answers like a missing one (``Http404``).
The platform administrator (``MAINTAIN_NETWORK``) curates master data of every CDMO; those
changes go to the owning CDMO's audit chain under the administrator's name.
``actor=None`` is the system (seeding, migrations): no permission check, but still audited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.http import Http404
from django_scopes import scopes_disabled

from opencdmo.accounts.models import Organisation, User
from opencdmo.accounts.roles import EDIT_NETWORK, MAINTAIN_NETWORK, OrganisationKind
from opencdmo.audit import services as audit
from opencdmo.network.choices import BIOREACTOR_KINDS, Modality
from opencdmo.network.models import (
    Equipment,
    Inspection,
    ModalityQualification,
    RegulatoryApproval,
    Site,
    SitePrivateProfile,
    Suite,
)

__all__ = [
    "EDITABLE_FIELDS",
    "can_edit_site",
    "create_approval",
    "create_equipment",
    "create_inspection",
    "create_site",
    "create_suite",
    "delete_approval",
    "delete_equipment",
    "delete_inspection",
    "delete_site",
    "delete_suite",
    "rule_violations",
    "update_approval",
    "update_equipment",
    "update_inspection",
    "update_private_profile",
    "update_site",
    "update_suite",
]

M = TypeVar("M", bound=models.Model)

EDITABLE_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Site: (
        "code",
        "name",
        "country",
        "region",
        "city",
        "latitude",
        "longitude",
        "description",
        "established_year",
    ),
    Suite: ("name", "kind", "gmp_grade", "status"),
    Equipment: ("tag", "kind", "working_volume_l", "throughput_units_per_h", "manufacturer"),
    RegulatoryApproval: ("agency", "scope", "granted_on"),
    Inspection: ("agency", "inspected_on", "outcome", "observations"),
    SitePrivateProfile: (
        "indicative_batch_price_usd",
        "spare_capacity_note",
        "key_contact",
        "internal_notes",
    ),
}

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


# --- rules shared by every write -------------------------------------------------------------


def can_edit_site(user: User | Any, site: Site) -> bool:
    """Whether ``user`` may change ``site`` and everything in it (for showing edit links)."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.can(EDIT_NETWORK)
        and user.organisation_id == site.owner_id
    )


def _authorise(actor: User | None, owner_id: int) -> None:
    """Refuse a caller without ``EDIT_NETWORK`` (403) or from another organisation (404)."""
    if actor is None or actor.can(MAINTAIN_NETWORK):
        return
    if not actor.can(EDIT_NETWORK):
        raise PermissionDenied("Your role may not change the site network.")
    if actor.organisation_id != owner_id:
        raise Http404("No such object.")


def _reason(reason: str | None, *, required: bool, default: str = "") -> str:
    """A stripped reason; updates and deletions must say why (GMP change control)."""
    text = (reason or "").strip()
    if not text and required:
        raise ValidationError(
            {"reason": "Give a reason for this change; it goes on the audit trail."}
        )
    return text or default


def _check_fields(model: type[models.Model], fields: Iterable[str]) -> None:
    """Reject names that are not editable fields of ``model`` instead of ignoring them."""
    allowed = EDITABLE_FIELDS[model]
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        label = model._meta.verbose_name
        raise ValidationError(
            {
                name: f"'{name}' is not a field of a {label} that can be set; "
                f"use one of: {', '.join(allowed)}."
                for name in unknown
            }
        )


def _full_clean(instance: models.Model) -> None:
    """Django's validation plus the network's own rules, with messages keyed by field.

    Uniqueness must be checked against every tenant's rows, hence outside the caller's scope.
    """
    nul = [
        f.name
        for f in instance._meta.concrete_fields
        if "\x00" in str(f.value_from_object(instance))
    ]
    if nul:
        # Checked first: PostgreSQL rejects such text even in the uniqueness queries below.
        raise ValidationError(dict.fromkeys(nul, "Text must not contain NUL characters."))
    errors: dict[str, list[str]] = {}
    try:
        with scopes_disabled():
            instance.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for field, message in rule_violations(instance):
        errors.setdefault(field, []).append(message)
    if errors:
        raise ValidationError(errors)


def rule_violations(instance: models.Model) -> list[tuple[str, str]]:
    """(field, message) for each network rule the schema cannot express; for forms too."""
    problems: list[tuple[str, str]] = []
    today = dt.date.today()
    if isinstance(instance, Site) and not _COUNTRY_CODE.match(instance.country or ""):
        problems.append(("country", "Use a two-letter ISO 3166-1 country code such as 'US'."))
    bioreactor = isinstance(instance, Equipment) and instance.kind in BIOREACTOR_KINDS
    if bioreactor and getattr(instance, "working_volume_l", None) is None:
        problems.append(("working_volume_l", "A bioreactor needs its working volume in L."))
    if isinstance(instance, RegulatoryApproval) and _after(instance.granted_on, today):
        problems.append(("granted_on", "An approval cannot be granted in the future."))
    if isinstance(instance, Inspection) and _after(instance.inspected_on, today):
        problems.append(("inspected_on", "Record inspections once they have taken place."))
    return problems


def _after(value: Any, day: dt.date) -> bool:
    return isinstance(value, dt.date) and value > day


def _normalise(model: type[models.Model], fields: dict[str, Any]) -> dict[str, Any]:
    """Forgiving spellings that mean the same value (country codes in lower case)."""
    if model is Site and isinstance(fields.get("country"), str):
        fields = {**fields, "country": fields["country"].strip().upper()}
    return fields


def _action(model: type[models.Model], verb: str) -> str:
    noun = {
        RegulatoryApproval: "approval",
        SitePrivateProfile: "site_private_profile",
    }.get(model, model._meta.model_name)
    return f"opencdmo.{noun}.{verb}"


def _stored(instance: M) -> M:
    """A fresh, locked copy of ``instance``; one deleted meanwhile answers like a missing one."""
    with scopes_disabled():
        stored = type(instance)._default_manager.select_for_update().filter(pk=instance.pk).first()
    if stored is None:
        raise Http404("No such object.")
    return stored


def _modalities(values: Iterable[str]) -> list[str]:
    """Validated, de-duplicated and sorted modality codes."""
    chosen = sorted({str(v).strip() for v in values if str(v).strip()})
    unknown = [v for v in chosen if v not in Modality.values]
    if unknown:
        raise ValidationError(
            {
                "modalities": f"Unknown modality {', '.join(repr(v) for v in unknown)}; "
                f"choose from: {', '.join(Modality.values)}."
            }
        )
    return chosen


def _suite_state(suite: Suite, modalities: list[str] | None = None) -> dict[str, Any]:
    state = audit.snapshot(suite)
    if modalities is None:
        modalities = sorted(suite.qualifications.values_list("modality", flat=True))
    state["modalities"] = modalities
    return state


def _create(
    model: type[M],
    *,
    actor: User | None,
    owner_id: int,
    reason: str,
    default_reason: str,
    fields: dict[str, Any],
    **parent: Any,
) -> M:
    """Check, validate and save a new ``model`` under ``parent``; record its creation."""
    _authorise(actor, owner_id)
    _check_fields(model, fields)
    instance = model(**parent, **_normalise(model, fields))
    _full_clean(instance)
    with transaction.atomic():
        instance.save()
        audit.record(
            _action(model, "created"),
            actor=actor,
            organisation_id=owner_id,
            target=instance,
            after=audit.snapshot(instance),
            reason=_reason(reason, required=False, default=default_reason),
        )
    return instance


def _update(
    instance: M, *, actor: User | None, owner_id: int, reason: str, changes: dict[str, Any]
) -> M:
    """Apply ``changes`` to the stored object; record one entry if anything changed."""
    model = type(instance)
    _authorise(actor, owner_id)
    _check_fields(model, changes)
    reason = _reason(reason, required=True)
    changes = _normalise(model, changes)
    with transaction.atomic():
        stored = _stored(instance)
        before = audit.snapshot(stored)
        for name, value in changes.items():
            setattr(stored, name, value)
        _full_clean(stored)
        after = audit.snapshot(stored)
        old, new = audit.changed(before, after)
        if old or new:
            stored.save()
            audit.record(
                _action(model, "changed"),
                actor=actor,
                organisation_id=owner_id,
                target=stored,
                before=old,
                after=new,
                reason=reason,
            )
    instance.refresh_from_db()
    return instance


def _delete(instance: models.Model, *, actor: User | None, owner_id: int, reason: str) -> None:
    """Delete the object and record what it was."""
    _authorise(actor, owner_id)
    reason = _reason(reason, required=True)
    with transaction.atomic():
        stored = _stored(instance)
        before = _suite_state(stored) if isinstance(stored, Suite) else audit.snapshot(stored)
        audit.record(
            _action(type(instance), "deleted"),
            actor=actor,
            organisation_id=owner_id,
            target=stored,
            before=before,
            reason=reason,
        )
        try:
            stored.delete()
        except ProtectedError as exc:
            used_by = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
            raise ValidationError(
                f"{stored} is still referred to by {', '.join(used_by)}; remove those first."
            ) from exc


# --- sites -----------------------------------------------------------------------------------


def create_site(*, actor: User | None, owner: Organisation, reason: str, **fields: Any) -> Site:
    """Add a plant to a CDMO's network; a caller may only add to its own organisation."""
    if owner.kind != OrganisationKind.CDMO:
        raise ValidationError({"owner": f"{owner} is not a CDMO; only CDMOs own sites."})
    _authorise(actor, actor.organisation_id if actor is not None else owner.pk)
    if actor is not None and actor.organisation_id != owner.pk and not actor.can(MAINTAIN_NETWORK):
        raise PermissionDenied("You can only add sites to your own organisation.")
    return _create(
        Site,
        actor=actor,
        owner_id=owner.pk,
        reason=reason,
        default_reason="Site created",
        fields=fields,
        owner=owner,
    )


def update_site(site: Site, *, actor: User | None, reason: str, **changes: Any) -> Site:
    """Change a site's public profile (name, location, description, …)."""
    return _update(site, actor=actor, owner_id=site.owner_id, reason=reason, changes=changes)


def delete_site(site: Site, *, actor: User | None, reason: str) -> None:
    """Remove a site with its suites, equipment, approvals and inspections."""
    _delete(site, actor=actor, owner_id=site.owner_id, reason=reason)


def update_private_profile(
    site: Site, *, actor: User | None, reason: str, **changes: Any
) -> SitePrivateProfile:
    """Set the owner-only commercial details of a site, creating the profile on first use."""
    with scopes_disabled():
        profile = SitePrivateProfile.objects.filter(site=site).first()
    if profile is not None:
        return _update(profile, actor=actor, owner_id=site.owner_id, reason=reason, changes=changes)
    return _create(
        SitePrivateProfile,
        actor=actor,
        owner_id=site.owner_id,
        reason=reason,
        default_reason="Private profile created",
        fields=changes,
        site=site,
    )


# --- suites and their qualified modalities -------------------------------------------------


def create_suite(
    *,
    actor: User | None,
    site: Site,
    reason: str,
    modalities: Iterable[str] = (),
    **fields: Any,
) -> Suite:
    """Add a GMP suite to a site, qualified for ``modalities`` (codes from ``Modality``)."""
    _authorise(actor, site.owner_id)
    _check_fields(Suite, fields)
    chosen = _modalities(modalities)
    suite = Suite(site=site, **fields)
    _full_clean(suite)
    with transaction.atomic():
        suite.save()
        ModalityQualification.objects.bulk_create(
            ModalityQualification(suite=suite, modality=m) for m in chosen
        )
        audit.record(
            _action(Suite, "created"),
            actor=actor,
            organisation_id=site.owner_id,
            target=suite,
            after=_suite_state(suite, chosen),
            reason=_reason(reason, required=False, default="Suite created"),
        )
    return suite


def update_suite(
    suite: Suite,
    *,
    actor: User | None,
    reason: str,
    modalities: Iterable[str] | None = None,
    **changes: Any,
) -> Suite:
    """Change a suite and, when ``modalities`` is given, replace its qualified modalities."""
    owner_id = suite.site.owner_id
    _authorise(actor, owner_id)
    _check_fields(Suite, changes)
    reason = _reason(reason, required=True)
    chosen = _modalities(modalities) if modalities is not None else None
    with transaction.atomic():
        stored = _stored(suite)
        before = _suite_state(stored)
        for name, value in changes.items():
            setattr(stored, name, value)
        _full_clean(stored)
        after = _suite_state(stored, chosen if chosen is not None else before["modalities"])
        old, new = audit.changed(before, after)
        if old or new:
            stored.save()
            if chosen is not None and chosen != before["modalities"]:
                stored.qualifications.exclude(modality__in=chosen).delete()
                ModalityQualification.objects.bulk_create(
                    ModalityQualification(suite=stored, modality=m)
                    for m in chosen
                    if m not in before["modalities"]
                )
            audit.record(
                _action(Suite, "changed"),
                actor=actor,
                organisation_id=owner_id,
                target=stored,
                before=old,
                after=new,
                reason=reason,
            )
    suite.refresh_from_db()
    return suite


def delete_suite(suite: Suite, *, actor: User | None, reason: str) -> None:
    """Remove a suite with its equipment and qualifications."""
    _delete(suite, actor=actor, owner_id=suite.site.owner_id, reason=reason)


# --- equipment -------------------------------------------------------------------------------


def create_equipment(*, actor: User | None, suite: Suite, reason: str, **fields: Any) -> Equipment:
    """Add a piece of major equipment to a suite."""
    return _create(
        Equipment,
        actor=actor,
        owner_id=suite.site.owner_id,
        reason=reason,
        default_reason="Equipment added",
        fields=fields,
        suite=suite,
    )


def update_equipment(
    equipment: Equipment, *, actor: User | None, reason: str, **changes: Any
) -> Equipment:
    """Change a piece of equipment (tag, kind, working volume, throughput, maker)."""
    owner_id = equipment.suite.site.owner_id
    return _update(equipment, actor=actor, owner_id=owner_id, reason=reason, changes=changes)


def delete_equipment(equipment: Equipment, *, actor: User | None, reason: str) -> None:
    """Remove a piece of equipment."""
    _delete(equipment, actor=actor, owner_id=equipment.suite.site.owner_id, reason=reason)


# --- approvals and inspections ---------------------------------------------------------------


def create_approval(
    *, actor: User | None, site: Site, reason: str, **fields: Any
) -> RegulatoryApproval:
    """Record an agency's approval of a site (agency, scope, granted_on)."""
    return _create(
        RegulatoryApproval,
        actor=actor,
        owner_id=site.owner_id,
        reason=reason,
        default_reason="Approval recorded",
        fields=fields,
        site=site,
    )


def update_approval(
    approval: RegulatoryApproval, *, actor: User | None, reason: str, **changes: Any
) -> RegulatoryApproval:
    """Correct a recorded approval."""
    owner_id = approval.site.owner_id
    return _update(approval, actor=actor, owner_id=owner_id, reason=reason, changes=changes)


def delete_approval(approval: RegulatoryApproval, *, actor: User | None, reason: str) -> None:
    """Remove an approval (withdrawn or recorded in error)."""
    _delete(approval, actor=actor, owner_id=approval.site.owner_id, reason=reason)


def create_inspection(*, actor: User | None, site: Site, reason: str, **fields: Any) -> Inspection:
    """Record an inspection (agency, inspected_on, outcome, observations)."""
    return _create(
        Inspection,
        actor=actor,
        owner_id=site.owner_id,
        reason=reason,
        default_reason="Inspection recorded",
        fields=fields,
        site=site,
    )


def update_inspection(
    inspection: Inspection, *, actor: User | None, reason: str, **changes: Any
) -> Inspection:
    """Correct a recorded inspection."""
    owner_id = inspection.site.owner_id
    return _update(inspection, actor=actor, owner_id=owner_id, reason=reason, changes=changes)


def delete_inspection(inspection: Inspection, *, actor: User | None, reason: str) -> None:
    """Remove an inspection recorded in error."""
    _delete(inspection, actor=actor, owner_id=inspection.site.owner_id, reason=reason)
