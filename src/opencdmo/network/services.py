"""Every write to the site network: permission, validation, one audit entry per change.

Pages, the API and the demo seeder call these functions, and the importer applies their
rules row by row before it writes in bulk, so the rules live here once; the checks, validation, transaction and audit entry are the core's audited
services (``opencdmo.core.services``), driven by each model's tenancy declaration. A caller
may change only the sites its own organisation owns and only with ``EDIT_NETWORK``; another
organisation's object answers like a missing one (``Http404``). The platform administrator
(``MAINTAIN_NETWORK``) curates master data of every CDMO; those changes go to the owning
CDMO's audit chain under the administrator's name. ``actor=None`` is the system (seeding,
migrations): no permission check, but still audited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django_scopes import scopes_disabled

from opencdmo.accounts.models import Organisation, User
from opencdmo.accounts.roles import EDIT_NETWORK, OrganisationKind
from opencdmo.audit import services as audit
from opencdmo.core import services as core
from opencdmo.core.services import Writable
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

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def can_edit_site(user: User | Any, site: Site) -> bool:
    """Whether ``user`` may change ``site`` and everything in it (for showing edit links)."""
    return (
        getattr(user, "is_authenticated", False)
        and user.can(EDIT_NETWORK)
        and Site.tenancy.owns(user, site)
    )


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


def _upper_country(fields: dict[str, Any]) -> dict[str, Any]:
    """Country codes in lower case mean the same code."""
    if isinstance(fields.get("country"), str):
        fields = {**fields, "country": fields["country"].strip().upper()}
    return fields


def _suite_state(suite: Suite) -> dict[str, Any]:
    """A suite as the audit trail records it: its fields and its qualified modalities."""
    state = audit.snapshot(suite)
    state["modalities"] = (
        sorted(suite.qualifications.values_list("modality", flat=True)) if suite.pk else []
    )
    return state


SITE = Writable(
    Site,
    fields=(
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
    rules=rule_violations,
    normalise=_upper_country,
)
SUITE = Writable(
    Suite, fields=("name", "kind", "gmp_grade", "status"), rules=rule_violations, state=_suite_state
)
EQUIPMENT = Writable(
    Equipment,
    fields=("tag", "kind", "working_volume_l", "throughput_units_per_h", "manufacturer"),
    rules=rule_violations,
)
APPROVAL = Writable(
    RegulatoryApproval,
    fields=("agency", "scope", "granted_on"),
    noun="approval",
    rules=rule_violations,
)
INSPECTION = Writable(
    Inspection, fields=("agency", "inspected_on", "outcome", "observations"), rules=rule_violations
)
PRIVATE_PROFILE = Writable(
    SitePrivateProfile,
    fields=("indicative_batch_price_usd", "spare_capacity_note", "key_contact", "internal_notes"),
    noun="site_private_profile",
)

EDITABLE_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    spec.model: spec.fields
    for spec in (SITE, SUITE, EQUIPMENT, APPROVAL, INSPECTION, PRIVATE_PROFILE)
}


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


def _qualify(chosen: list[str]) -> Any:
    """Make a suite's qualified modalities exactly ``chosen`` (after it is saved)."""

    def apply(suite: Suite) -> None:
        suite.qualifications.exclude(modality__in=chosen).delete()
        held = set(suite.qualifications.values_list("modality", flat=True))
        ModalityQualification.objects.bulk_create(
            ModalityQualification(suite=suite, modality=m) for m in chosen if m not in held
        )

    return apply


# --- sites -----------------------------------------------------------------------------------


def create_site(*, actor: User | None, owner: Organisation, reason: str, **fields: Any) -> Site:
    """Add a plant to a CDMO's network; a caller may only add to its own organisation."""
    if owner.kind != OrganisationKind.CDMO:
        raise ValidationError({"owner": f"{owner} is not a CDMO; only CDMOs own sites."})
    return core.create(
        SITE,
        actor=actor,
        reason=reason,
        default_reason="Site created",
        parent={"owner": owner},
        fields=fields,
    )


def update_site(site: Site, *, actor: User | None, reason: str, **changes: Any) -> Site:
    """Change a site's public profile (name, location, description, …)."""
    return core.update(SITE, site, actor=actor, reason=reason, changes=changes)


def delete_site(site: Site, *, actor: User | None, reason: str) -> None:
    """Remove a site with its suites, equipment, approvals and inspections."""
    core.delete(SITE, site, actor=actor, reason=reason)


def update_private_profile(
    site: Site, *, actor: User | None, reason: str, **changes: Any
) -> SitePrivateProfile:
    """Set the owner-only commercial details of a site, creating the profile on first use."""
    with scopes_disabled():
        profile = SitePrivateProfile.objects.filter(site=site).first()
    if profile is not None:
        return core.update(PRIVATE_PROFILE, profile, actor=actor, reason=reason, changes=changes)
    return core.create(
        PRIVATE_PROFILE,
        actor=actor,
        reason=reason,
        default_reason="Private profile created",
        parent={"site": site},
        fields=changes,
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
    chosen = _modalities(modalities)
    return core.create(
        SUITE,
        actor=actor,
        reason=reason,
        default_reason="Suite created",
        parent={"site": site},
        fields=fields,
        after_save=_qualify(chosen),
    )


def update_suite(
    suite: Suite,
    *,
    actor: User | None,
    reason: str,
    modalities: Iterable[str] | None = None,
    **changes: Any,
) -> Suite:
    """Change a suite and, when ``modalities`` is given, replace its qualified modalities."""
    if modalities is None:
        return core.update(SUITE, suite, actor=actor, reason=reason, changes=changes)
    chosen = _modalities(modalities)
    return core.update(
        SUITE,
        suite,
        actor=actor,
        reason=reason,
        changes=changes,
        extra_state={"modalities": chosen},
        after_save=_qualify(chosen),
    )


def delete_suite(suite: Suite, *, actor: User | None, reason: str) -> None:
    """Remove a suite with its equipment and qualifications."""
    core.delete(SUITE, suite, actor=actor, reason=reason)


# --- equipment -------------------------------------------------------------------------------


def create_equipment(*, actor: User | None, suite: Suite, reason: str, **fields: Any) -> Equipment:
    """Add a piece of major equipment to a suite."""
    return core.create(
        EQUIPMENT,
        actor=actor,
        reason=reason,
        default_reason="Equipment added",
        parent={"suite": suite},
        fields=fields,
    )


def update_equipment(
    equipment: Equipment, *, actor: User | None, reason: str, **changes: Any
) -> Equipment:
    """Change a piece of equipment (tag, kind, working volume, throughput, maker)."""
    return core.update(EQUIPMENT, equipment, actor=actor, reason=reason, changes=changes)


def delete_equipment(equipment: Equipment, *, actor: User | None, reason: str) -> None:
    """Remove a piece of equipment."""
    core.delete(EQUIPMENT, equipment, actor=actor, reason=reason)


# --- approvals and inspections ---------------------------------------------------------------


def create_approval(
    *, actor: User | None, site: Site, reason: str, **fields: Any
) -> RegulatoryApproval:
    """Record an agency's approval of a site (agency, scope, granted_on)."""
    return core.create(
        APPROVAL,
        actor=actor,
        reason=reason,
        default_reason="Approval recorded",
        parent={"site": site},
        fields=fields,
    )


def update_approval(
    approval: RegulatoryApproval, *, actor: User | None, reason: str, **changes: Any
) -> RegulatoryApproval:
    """Correct a recorded approval."""
    return core.update(APPROVAL, approval, actor=actor, reason=reason, changes=changes)


def delete_approval(approval: RegulatoryApproval, *, actor: User | None, reason: str) -> None:
    """Remove an approval (withdrawn or recorded in error)."""
    core.delete(APPROVAL, approval, actor=actor, reason=reason)


def create_inspection(*, actor: User | None, site: Site, reason: str, **fields: Any) -> Inspection:
    """Record an inspection (agency, inspected_on, outcome, observations)."""
    return core.create(
        INSPECTION,
        actor=actor,
        reason=reason,
        default_reason="Inspection recorded",
        parent={"site": site},
        fields=fields,
    )


def update_inspection(
    inspection: Inspection, *, actor: User | None, reason: str, **changes: Any
) -> Inspection:
    """Correct a recorded inspection."""
    return core.update(INSPECTION, inspection, actor=actor, reason=reason, changes=changes)


def delete_inspection(inspection: Inspection, *, actor: User | None, reason: str) -> None:
    """Remove an inspection recorded in error."""
    core.delete(INSPECTION, inspection, actor=actor, reason=reason)
