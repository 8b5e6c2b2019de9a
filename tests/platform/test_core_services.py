"""The core's audited services on a record a CDMO owns and shares with its sponsor."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django_scopes import scopes_disabled

from opencdmo.audit import services as audit
from opencdmo.audit.models import AuditEntry
from opencdmo.core import services
from opencdmo.core.services import Writable
from opencdmo.core.tenancy import caller_scope
from tests.platform.shared_records.api import RECORD
from tests.platform.shared_records.models import OwnerNote, SharedRecord

NOTE = Writable(OwnerNote, fields=("text",), noun="owner_note")


def _entries(**filters: Any) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(**filters).order_by("seq"))


def _record(world: Any) -> SharedRecord:
    """A fresh copy: services refresh the instance they are given, the world's is shared."""
    with scopes_disabled():
        return SharedRecord.objects.get(pk=world.extra["record/alpha-bio"].pk)


def test_owner_update_goes_to_its_chain_naming_the_sponsor(platform_world: Any, db: Any) -> None:
    """One entry, old → new and why, in the CDMO's chain; the sponsor reads it, others don't."""
    record, planner = _record(platform_world), platform_world.user("alpha-bio", "cdmo_planner")
    services.update(RECORD, record, actor=planner, reason="Typo", changes={"title": "Lot 7"})
    (entry,) = _entries(action="opencdmo.shared_record.changed")
    assert (entry.organisation_id, entry.shared_with_id) == (
        platform_world.orgs["alpha-bio"].pk,
        platform_world.orgs["sponsor-one"].pk,
    )
    assert entry.after == {"title": "Lot 7"}
    assert entry.reason == "Typo"
    assert entry.actor_id == planner.pk
    with caller_scope(platform_world.user("sponsor-one", "sponsor_qa")):
        assert AuditEntry.objects.filter(pk=entry.pk).exists()
    with caller_scope(platform_world.user("sponsor-two", "sponsor_qa")):
        assert not AuditEntry.objects.filter(pk=entry.pk).exists()
    assert audit.verify_all() == []


def test_sponsor_reads_but_may_not_write(platform_world: Any, db: Any) -> None:
    """The sponsor's role lacks the permission: 403, nothing written."""
    with pytest.raises(PermissionDenied):
        services.update(
            RECORD,
            _record(platform_world),
            actor=platform_world.user("sponsor-one", "sponsor_manager"),
            reason="x",
            changes={"title": "Mine now"},
        )
    assert _entries(action="opencdmo.shared_record.changed") == []


def test_another_cdmo_gets_a_404(platform_world: Any, db: Any) -> None:
    """A role with the permission but from another tenant is told the record does not exist."""
    with pytest.raises(Http404):
        services.update(
            RECORD,
            _record(platform_world),
            actor=platform_world.user("beta-pharma", "cdmo_planner"),
            reason="x",
            changes={"title": "Ours"},
        )


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_changes_need_a_reason(platform_world: Any, db: Any, reason: Any) -> None:
    """Update, transition and delete refuse a blank reason, naming the field."""
    record, planner = _record(platform_world), platform_world.user("alpha-bio", "cdmo_planner")
    for write in (
        lambda: services.update(RECORD, record, actor=planner, reason=reason, changes={}),
        lambda: services.transition(RECORD, record, actor=planner, reason=reason, to="closed"),
        lambda: services.delete(RECORD, record, actor=planner, reason=reason),
    ):
        with pytest.raises(ValidationError) as caught:
            write()
        assert "reason" in caught.value.message_dict
    assert _entries(object_type="shared_records.sharedrecord") == []


def test_fields_outside_the_whitelist_are_named(platform_world: Any, db: Any) -> None:
    """Setting the owner or sharer through a service is refused by field name."""
    with pytest.raises(ValidationError) as caught:
        services.update(
            RECORD,
            _record(platform_world),
            actor=None,
            reason="x",
            changes={"sponsor": platform_world.orgs["sponsor-two"]},
        )
    assert "sponsor" in caught.value.message_dict


def test_validation_errors_name_the_field_and_leave_the_record(
    platform_world: Any, db: Any
) -> None:
    """An over-long title is refused as ``title``; the stored title is unchanged."""
    record = _record(platform_world)
    with pytest.raises(ValidationError) as caught:
        services.update(RECORD, record, actor=None, reason="x", changes={"title": "x" * 201})
    assert "title" in caught.value.message_dict
    with scopes_disabled():
        assert SharedRecord.objects.get(pk=record.pk).title == record.title


def test_create_defaults_its_reason_and_checks_the_parent(platform_world: Any, db: Any) -> None:
    """Creation is audited with the default reason; under another tenant's parent it is a 404."""
    alpha, planner = (
        platform_world.orgs["alpha-bio"],
        platform_world.user("alpha-bio", "cdmo_planner"),
    )
    note = services.create(
        NOTE,
        actor=planner,
        default_reason="Note written",
        parent={"cdmo": alpha},
        fields={"text": "hi"},
    )
    (entry,) = _entries(action="opencdmo.owner_note.created")
    assert entry.reason == "Note written"
    assert entry.object_id == str(note.pk)
    assert entry.shared_with_id is None
    with pytest.raises(Http404):
        services.create(
            NOTE,
            actor=platform_world.user("beta-pharma", "cdmo_planner"),
            parent={"cdmo": alpha},
            fields={"text": "planted"},
        )
    with scopes_disabled():
        assert not OwnerNote.objects.filter(text="planted").exists()


def test_transition_follows_the_declared_moves(platform_world: Any, db: Any) -> None:
    """open → closed is recorded under the new state's name; closed → open is refused."""
    record, planner = _record(platform_world), platform_world.user("alpha-bio", "cdmo_planner")
    services.transition(RECORD, record, actor=planner, reason="Done", to="closed")
    (entry,) = _entries(action="opencdmo.shared_record.closed")
    assert (entry.before, entry.after) == ({"status": "open"}, {"status": "closed"})
    with pytest.raises(ValidationError) as caught:
        services.transition(RECORD, record, actor=planner, reason="Again", to="open")
    assert "status" in caught.value.message_dict
    assert record.status == "closed"


def test_delete_records_what_it_was_and_refuses_what_is_referred_to(
    platform_world: Any, db: Any
) -> None:
    """Deleting a record is audited with its fields; a note still referred to is refused."""
    record, planner = _record(platform_world), platform_world.user("alpha-bio", "cdmo_planner")
    note = platform_world.extra["note/alpha-bio"]
    with pytest.raises(ValidationError, match="still referred to"):
        services.delete(NOTE, note, actor=planner, reason="Tidy")
    assert _entries(action="opencdmo.owner_note.deleted") == []
    services.delete(RECORD, record, actor=planner, reason="Entered in error")
    (entry,) = _entries(action="opencdmo.shared_record.deleted")
    assert entry.before["title"] == record.title
    with scopes_disabled():
        assert not SharedRecord.objects.filter(pk=record.pk).exists()


def test_a_sharer_granted_writing_acts_in_its_own_chain(
    platform_world: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``shared_change`` the sponsor's QA writes; the entry lies in the sponsor's chain,
    names the CDMO, and both read it; the sponsor's viewer and the other sponsor may not."""
    from opencdmo.accounts.roles import VIEW_AUDIT

    monkeypatch.setattr(SharedRecord.tenancy, "shared_change", VIEW_AUDIT)
    record = _record(platform_world)
    qa = platform_world.user("sponsor-one", "sponsor_qa")
    services.transition(RECORD, record, actor=qa, reason="Accepted by sponsor QA", to="closed")
    (entry,) = _entries(action="opencdmo.shared_record.closed")
    assert entry.chain == audit.chain_key(platform_world.orgs["sponsor-one"].pk)
    assert entry.shared_with_id == platform_world.orgs["alpha-bio"].pk
    with caller_scope(platform_world.user("alpha-bio", "cdmo_qa")):
        assert AuditEntry.objects.filter(pk=entry.pk).exists()
    with pytest.raises(PermissionDenied):
        services.update(
            RECORD,
            record,
            actor=platform_world.user("sponsor-one", "sponsor_viewer"),
            reason="x",
            changes={"title": "y"},
        )
    with pytest.raises(Http404):
        services.update(
            RECORD,
            record,
            actor=platform_world.user("sponsor-two", "sponsor_qa"),
            reason="x",
            changes={"title": "y"},
        )
    assert audit.verify_all() == []


def test_a_change_with_a_meaning_of_its_own_names_its_action(platform_world: Any, db: Any) -> None:
    """``verb`` names the entry; a change that changes nothing records nothing."""
    record, planner = _record(platform_world), platform_world.user("alpha-bio", "cdmo_planner")
    services.update(
        RECORD,
        record,
        actor=planner,
        reason="Same",
        changes={"title": record.title},
        verb="retitled",
    )
    services.update(
        RECORD, record, actor=planner, reason="New", changes={"title": "Lot 9"}, verb="retitled"
    )
    (entry,) = _entries(object_type="shared_records.sharedrecord")
    assert entry.action == "opencdmo.shared_record.retitled"
