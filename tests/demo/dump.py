"""A canonical dump of the demo world: natural keys only, sorted, free of database ids.

Two databases seeded by ``seed_demo_world`` must give the same dump, whatever their ids,
backend or the Python process's hash seed. Run as a script it migrates and seeds the database
configured by the environment and prints the dump as JSON (used by the determinism test).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django_scopes import scopes_disabled


def canonical_dump() -> dict[str, list[Any]]:
    from opencdmo.accounts.models import Organisation, User
    from opencdmo.audit.models import AuditEntry
    from opencdmo.audit.services import chains_of as audit_chains_of
    from opencdmo.network.models import (
        Equipment,
        Inspection,
        RegulatoryApproval,
        Site,
        SitePrivateProfile,
        Suite,
    )

    with scopes_disabled():
        demo = Organisation.objects.filter(is_demo=True)
        chains = {
            chain: slug + chain.removeprefix(f"org:{pk}")
            for pk, slug in demo.values_list("pk", "slug")
            for chain in audit_chains_of(pk)
        }
        dump: dict[str, list[Any]] = {
            "organisations": list(
                demo.values_list(
                    "slug", "name", "kind", "country", "headquarters", "website", "description"
                )
            ),
            "users": list(
                User.objects.filter(organisation__is_demo=True).values_list(
                    "username",
                    "organisation__slug",
                    "role",
                    "first_name",
                    "last_name",
                    "email",
                    "is_staff",
                    "is_superuser",
                    "is_active",
                )
            ),
            "sites": list(
                Site.objects.values_list(
                    "owner__slug",
                    "code",
                    "name",
                    "country",
                    "region",
                    "city",
                    "latitude",
                    "longitude",
                    "description",
                    "established_year",
                )
            ),
            "private_profiles": list(
                SitePrivateProfile.objects.values_list(
                    "site__owner__slug",
                    "site__code",
                    "indicative_batch_price_usd",
                    "spare_capacity_note",
                    "key_contact",
                    "internal_notes",
                )
            ),
            "suites": [
                [
                    s.site.owner.slug,
                    s.site.code,
                    s.name,
                    s.kind,
                    s.gmp_grade,
                    s.status,
                    s.modalities,
                ]
                for s in Suite.objects.select_related("site__owner").prefetch_related(
                    "qualifications"
                )
            ],
            "equipment": list(
                Equipment.objects.values_list(
                    "suite__site__owner__slug",
                    "suite__site__code",
                    "suite__name",
                    "tag",
                    "kind",
                    "working_volume_l",
                    "throughput_units_per_h",
                    "manufacturer",
                )
            ),
            "approvals": [
                [*row[:3], row[3].isoformat(), row[4]]
                for row in RegulatoryApproval.objects.values_list(
                    "site__owner__slug", "site__code", "agency", "granted_on", "scope"
                )
            ],
            "inspections": [
                [*row[:3], row[3].isoformat(), *row[4:]]
                for row in Inspection.objects.values_list(
                    "site__owner__slug",
                    "site__code",
                    "agency",
                    "inspected_on",
                    "outcome",
                    "observations",
                )
            ],
            "audit": _numbered(
                [chains.get(chain, chain), seq, action, object_type, object_repr, reason]
                for chain, seq, action, object_type, object_repr, reason in (
                    AuditEntry.objects.values_list(
                        "chain", "seq", "action", "object_type", "object_repr", "reason"
                    )
                )
            ),
        }
    return {key: sorted((list(row) for row in rows), key=repr) for key, rows in dump.items()}


ID_IN_NAME = re.compile(r"(Request #|Message #|DEV-|CAPA-|\bR)(\d+)")
"""Names that carry a database id: requests, messages, deviations, CAPAs, reserved lots."""


def _numbered(entries: Iterable[list[Any]]) -> list[list[Any]]:
    """Entries with each id in a name replaced by its rank among the ids of its kind.

    Ids depend on what the database held before (PostgreSQL's sequences survive a rolled-back
    transaction), so the nth deviation of the trail is called DEV-n, whatever its id.
    """
    rows = sorted(entries, key=lambda row: (row[0], row[1]))
    ranks: dict[tuple[str, str], str] = {}

    def rank(match: re.Match[str]) -> str:
        key = (match[1], match[2])
        ranks.setdefault(key, str(1 + sum(kind == match[1] for kind, _ in ranks)))
        return match[1] + ranks[key]

    return [[*row[:4], ID_IN_NAME.sub(rank, row[4]), *row[5:]] for row in rows]


if __name__ == "__main__":
    import django

    django.setup()
    from django.core.management import call_command

    from opencdmo.demo.seed import seed_demo_world

    call_command("migrate", interactive=False, verbosity=0)
    seed_demo_world()
    print(json.dumps(canonical_dump()))
