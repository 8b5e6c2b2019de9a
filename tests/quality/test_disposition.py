"""Batch review and disposition: blocked by an open deviation or an uncovered out-of-spec
result, released by the CDMO's QA then the sponsor's QA each with a signature, each side kept
to its own step, the LIMS import all or nothing, and the PDFs showing every signature."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled
from pypdf import PdfReader

from opencdmo.core.tables import TableError
from opencdmo.manufacturing import services as manufacturing
from opencdmo.quality import deviations, disposition, signing
from opencdmo.quality.records import Disposition
from tests.conftest import PASSWORD, World
from tests.quality.records_world import make_batch


def _result(world: World, batch: Any, value: float) -> None:
    manufacturing.add_offline_result(
        batch,
        actor=world.user("alpha-bio", "cdmo_qa"),
        attribute="Titer",
        value=value,
        unit="g/L",
        spec_low=2.0,
        spec_high=5.0,
    )


def _dispose_page(client: Any, batch: Any, password: str = PASSWORD) -> Any:
    return client.post(
        f"/quality/batches/{batch.pk}/dispose/",
        {"decision": "release", "password": password, "reason": "Batch record reviewed"},
    )


def _close(world: World, deviation: Any) -> None:
    qa = world.user("alpha-bio", "cdmo_qa")
    deviations.classify(qa, deviation, "minor", "Within validated range", "c")
    deviations.start_investigation(qa, deviation, "i")
    deviations.record_investigation(qa, deviation, "method", "Sampling error", "r")
    digest = signing.content_sha256(signing.canonical_content(deviation))
    deviations.close(
        qa, deviation, password=PASSWORD, totp_code="", reason="ok", seen_sha256=digest
    )


def test_open_deviation_blocks_then_closure_allows(
    world: World, agreement: Any, client_for: Any
) -> None:
    """An open deviation on the batch (and its out-of-spec result) block the disposition;
    closed by QA's signature, the release goes through and awaits the sponsor."""
    batch = make_batch(world, agreement)
    _result(world, batch, 1.5)
    deviation = deviations.raise_deviation(
        world.user("alpha-bio", "cdmo_operator"),
        agreement.project,
        title="Low titer",
        description="1.5 g/L",
        batches=[batch],
    )
    client = client_for(world.user("alpha-bio", "cdmo_qa"))
    blocked = _dispose_page(client, batch)
    assert blocked.status_code == 400
    assert f"{deviation.reference} is open" in blocked.content.decode()
    with scopes_disabled():
        assert not Disposition.objects.exists()
    _close(world, deviation)
    assert _dispose_page(client, batch).status_code == 302
    batch.refresh_from_db()
    assert batch.state == "dispositioned"
    with scopes_disabled():
        found = Disposition.objects.get(batch=batch)
    assert found.state == "awaiting_sponsor"


def test_out_of_spec_result_without_deviation_blocks(world: World, agreement: Any) -> None:
    """A result out of specification with no approved deviation is named as the blocker."""
    batch = make_batch(world, agreement)
    _result(world, batch, 6.0)
    assert any("out of specification" in b for b in disposition.review_of(batch).blockers)


def test_wrong_password_writes_nothing(world: World, agreement: Any, client_for: Any) -> None:
    """A wrong password leaves the batch under review and no disposition."""
    batch = make_batch(world, agreement)
    response = _dispose_page(client_for(world.user("alpha-bio", "cdmo_qa")), batch, "wrong")
    assert response.status_code == 400
    batch.refresh_from_db()
    assert batch.state == "under_review"
    with scopes_disabled():
        assert not Disposition.objects.exists()


def _released_by_cdmo(world: World, agreement: Any, client_for: Any) -> Any:
    batch = make_batch(world, agreement)
    _result(world, batch, 3.2)
    assert _dispose_page(client_for(world.user("alpha-bio", "cdmo_qa")), batch).status_code == 302
    with scopes_disabled():
        return Disposition.objects.get(batch=batch)


def _sponsor_post(client: Any, found: Any, password: str = PASSWORD) -> Any:
    digest = signing.content_sha256(signing.canonical_content(found))
    return client.post(
        f"/quality/dispositions/{found.pk}/sponsor/",
        {"decision": "release", "password": password, "reason": "OK", "seen_sha256": digest},
    )


def test_two_step_release_and_sides(world: World, agreement: Any, client_for: Any) -> None:
    """The sponsor may not disposition for the CDMO (403), the CDMO may not release for the
    sponsor (403); the sponsor QA's signature makes it released, with both signatures."""
    found = _released_by_cdmo(world, agreement, client_for)
    sponsor = client_for(world.user("sponsor-one", "sponsor_qa"))
    assert _dispose_page(sponsor, found.batch).status_code == 403
    cdmo = client_for(world.user("alpha-bio", "cdmo_qa"))
    assert _sponsor_post(cdmo, found).status_code == 403
    other_sponsor = client_for(world.user("sponsor-two", "sponsor_qa"))
    assert _sponsor_post(other_sponsor, found).status_code == 404
    assert _sponsor_post(sponsor, found).status_code == 302
    found.refresh_from_db()
    assert found.state == "released"
    signatures = deviations.quality.signatures_of(found)
    assert [s.signature.organisation.slug for s in signatures] == ["alpha-bio", "sponsor-one"]
    assert all(s.current for s in signatures)


def test_pdfs_show_every_signature(world: World, agreement: Any, client_for: Any) -> None:
    """The CoA and the disposition report name each signer, the meaning and the UTC time."""
    found = _released_by_cdmo(world, agreement, client_for)
    sponsor_qa = world.user("sponsor-one", "sponsor_qa")
    _sponsor_post(client_for(sponsor_qa), found)
    client = client_for(sponsor_qa)
    for url in ("coa.pdf", "disposition.pdf"):
        response = client.get(f"/quality/batches/{found.batch_id}/{url}")
        assert response["Content-Type"] == "application/pdf"
        text = " ".join(
            page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages
        )
        for shown in deviations.quality.signatures_of(found):
            signature = shown.signature
            assert signature.signer_name in text
            assert f"{signature.signed_at:%Y-%m-%d %H:%M:%S} UTC" in text
        assert "Released" in text
        assert "Titer" in text


LIMS = b"lot,attribute,value,unit,low,high\nA-001,Titer,3.4,g/L,2,5\nA-001,Purity,98.1,%,95,\n"


def test_lims_import_all_rows(world: World, agreement: Any) -> None:
    """Every row of a good LIMS file becomes an offline result with its limits."""
    batch = make_batch(world, agreement)
    written = disposition.import_lims(world.user("alpha-bio", "cdmo_qa"), batch, LIMS, "lims.csv")
    assert [r.attribute for r in written] == ["Titer", "Purity"]


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (LIMS + b"A-001,pH,seven,,6.8,7.2\n", "lims.csv, line 4, column 'value'"),
        (LIMS + b"B-999,pH,7.0,,6.8,7.2\n", "lims.csv, line 4, column 'lot'"),
        (LIMS + b"A-001,pH,7.0,,7.2,6.8\n", "lims.csv, line 4, column 'high'"),
    ],
)
def test_lims_import_is_all_or_nothing(
    world: World, agreement: Any, content: bytes, where: str
) -> None:
    """A bad cell names file, line and column, and no row of the file is kept."""
    batch = make_batch(world, agreement)
    with pytest.raises(TableError) as caught:
        disposition.import_lims(world.user("alpha-bio", "cdmo_qa"), batch, content, "lims.csv")
    assert str(caught.value).startswith(where)
    with scopes_disabled():
        assert not batch.offline_results.exists()


def test_disposition_twice_is_refused(world: World, agreement: Any, client_for: Any) -> None:
    """A dispositioned batch is not dispositioned again."""
    found = _released_by_cdmo(world, agreement, client_for)
    with pytest.raises(ValidationError):
        disposition.dispose(
            world.user("alpha-bio", "cdmo_qa"),
            found.batch,
            decision="reject",
            password=PASSWORD,
            totp_code="",
            reason="again",
        )
