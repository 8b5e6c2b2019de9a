"""``audit verify``'s signature check reads signatures in chunks and their records per chunk
and record type: the same verdicts in signature order, in a few queries per chunk however
many signatures a chunk holds."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from opencdmo.audit import signatures_check
from opencdmo.projects.models import Product, Project
from opencdmo.quality import services, signing
from opencdmo.quality.models import QualityAgreement, Signature
from tests.conftest import PASSWORD


def _agreements(world: Any, count: int) -> list[QualityAgreement]:
    """``count`` agreements of alpha-bio with sponsor-one, each signed by both parties' QA."""
    found = []
    for n in range(count):
        with scopes_disabled():
            product = Product.objects.create(
                owner=world.orgs["sponsor-one"], name=f"mAb {n}", modality="mab", phase="phase_2"
            )
            project = Project.objects.create(
                name=f"Project {n}",
                sponsor=world.orgs["sponsor-one"],
                cdmo=world.orgs["alpha-bio"],
                site=world.sites["alpha-bio"],
                product=product,
                scope="clinical",
                phase="phase_2",
            )
        agreement = services.create_agreement(
            world.user("alpha-bio", "cdmo_qa"),
            project,
            {"minor_notice_h": 720, "major_notice_h": 72, "critical_notice_h": 24},
        )
        for signer in ("alpha-bio/cdmo_qa", "sponsor-one/sponsor_qa"):
            seen = signing.content_sha256(signing.canonical_content(agreement))
            services.sign(world.users[signer], agreement, "approved", PASSWORD, "", "OK", seen)
        found.append(agreement)
    return found


def test_chunks_cost_queries_per_chunk_not_per_signature(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight signatures in chunks of three: one read of the chunk and one of its records each,
    and one empty read that ends the walk."""
    _agreements(world, 4)
    monkeypatch.setattr(signatures_check, "CHUNK", 3)
    with CaptureQueriesContext(connection) as queries:
        found = signatures_check.check_signatures()
    assert found.breaks == []
    assert found.changed == []
    assert len(queries.captured_queries) == 3 * 2 + 1


def test_chunked_verdicts_name_each_signature_in_order(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record changed behind the services' back, one changed through them and one deleted,
    across chunk boundaries: each of their signatures is named, in signature order."""
    agreements = _agreements(world, 4)
    monkeypatch.setattr(signatures_check, "CHUNK", 3)
    with scopes_disabled():
        QualityAgreement.objects.filter(pk=agreements[1].pk).update(critical_notice_h=48)
        QualityAgreement.objects.filter(pk=agreements[3].pk).delete()
        signed = {
            a.pk: [s.pk for s in Signature.objects.filter(record_id=str(a.pk)).order_by("pk")]
            for a in agreements
        }
    services.update_agreement(
        world.user("alpha-bio", "cdmo_qa"), agreements[2], {"minor_notice_h": 480}, "Faster"
    )
    found = signatures_check.check_signatures()
    named = [b.chain.split()[1].lstrip("#") for b in found.breaks]
    assert named == [str(pk) for pk in signed[agreements[1].pk] + signed[agreements[3].pk]]
    assert all("critical_notice_h" in b.problem for b in found.breaks[:2])
    assert all("no longer exists" in b.problem for b in found.breaks[2:])
    assert [line.split()[1].lstrip("#") for line in found.changed] == [
        str(pk) for pk in signed[agreements[2].pk]
    ]
    sponsor_only = signatures_check.check_signatures({world.orgs["sponsor-one"].pk})
    assert sponsor_only == found
    assert signatures_check.check_signatures({world.orgs["beta-pharma"].pk}).breaks == []
