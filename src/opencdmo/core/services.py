"""Audited writes for every app: create, update, delete and state transitions.

Each app describes how a model is written once, as a ``Writable`` (which fields a caller may
set, the app's own rules, what the audit entry records), and its services call the four
functions here. Every one of them, in this order:

1. checks the caller through the model's tenancy declaration (``authorise_change``: 403 for
   a role without the permission, 404 for another tenant's object; ``actor=None`` is the
   system, e.g. seeding, and is still audited; a ``Writable`` may name its own check);
2. refuses fields outside the whitelist and, for updates, deletions and transitions, a
   missing reason (GMP change control; creation may default it);
3. validates with ``full_clean`` and the app's rules, raising ``ValidationError`` keyed by
   field and leaving the database as it was;
4. writes in one transaction with exactly one audit entry (old → new, who, why), in the
   acting organisation's chain; for a record shared by two organisations the entry names the
   other one, so both read it on their audit pages.

Example, a manufacturing app::

    BATCH = Writable(Batch, fields=("lot", "suite", "planned_start"),
                     transitions={"planned": ("started",), "started": ("released", "rejected")})

    def release_batch(batch, *, actor, reason):
        return services.transition(BATCH, batch, actor=actor, reason=reason, to="released")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.http import Http404
from django_scopes import scopes_disabled

from opencdmo.audit import services as audit
from opencdmo.core.tenancy import authorise_change, tenancy_of
from opencdmo.core.text import control_character_problem, texts_in

__all__ = ["Writable", "create", "delete", "transition", "update"]

M = TypeVar("M", bound=models.Model)

Rules = Callable[[Any], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Writable(Generic[M]):
    """How the services write one model.

    ``fields`` are the names a caller may set; ``rules`` yields ``(field, message)`` for each
    rule the schema cannot express; ``normalise`` maps forgiving spellings to stored values;
    ``state`` is what the audit entry records (stored field values by default); ``noun``
    names the actions (``opencdmo.<noun>.created``); ``transitions`` maps each value of
    ``state_field`` to the values it may move to. ``authorise`` is the write check, the
    declaration's by default; a model whose writes the declaration alone cannot judge names
    one that adds to it (a token only its own user revokes) or replaces it (a password set
    by its user, whose one-time link is the credential).
    """

    model: type[M]
    fields: tuple[str, ...]
    noun: str = ""
    rules: Rules | None = None
    normalise: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    state: Callable[[Any], dict[str, Any]] = audit.snapshot
    state_field: str = "status"
    transitions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    authorise: Callable[[Any, Any], None] = authorise_change

    def action(self, verb: str) -> str:
        return f"opencdmo.{self.noun or self.model._meta.model_name}.{verb}"

    def check_fields(self, names: Iterable[str]) -> None:
        """Refuse names that are not settable fields instead of ignoring them."""
        unknown = sorted(set(names) - set(self.fields))
        if unknown:
            label = self.model._meta.verbose_name
            raise ValidationError(
                {
                    name: f"'{name}' is not a field of a {label} that can be set; "
                    f"use one of: {', '.join(self.fields)}."
                    for name in unknown
                }
            )

    def validate(self, instance: M) -> None:
        """Django's validation plus the app's rules, every message keyed by its field.

        Uniqueness is checked against every tenant's rows, hence outside the caller's scope.
        """
        refused = {
            f.name: problem
            for f in instance._meta.concrete_fields
            if (problem := _text_problem(f.value_from_object(instance)))
        }
        if refused:
            # Checked first: PostgreSQL rejects a NUL even in the uniqueness queries.
            raise ValidationError(refused)
        errors: dict[str, list[str]] = {}
        try:
            with scopes_disabled():
                instance.full_clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
        for name, message in self.rules(instance) if self.rules else ():
            errors.setdefault(name, []).append(message)
        if errors:
            raise ValidationError(errors)


def _text_problem(value: object) -> str | None:
    """'The text contains a control character …' for the first such string in ``value``."""
    for text in texts_in(value):
        problem = control_character_problem(text)
        if problem is not None:
            return f"The text {problem}."
    return None


def _reason(reason: str | None, *, required: bool, default: str = "") -> str:
    """A stripped reason; changes and deletions must say why (GMP change control)."""
    text = (reason or "").strip()
    if problem := _text_problem(text):
        raise ValidationError({"reason": problem})
    if not text and required:
        raise ValidationError(
            {"reason": "Give a reason for this change; it goes on the audit trail."}
        )
    return text or default


def _chain(actor: Any, instance: models.Model) -> tuple[int | None, int | None]:
    """(acting organisation, other party) of a write, for the audit entry.

    The actor's own organisation when it is a party to the record, otherwise (the system, a
    curator) the owner's; the other party is the first remaining owner or sharer.
    """
    tenancy = tenancy_of(instance)
    owner = tenancy.owner_id(instance)
    parties = [owner, *tenancy.shared_ids(instance)]
    own = getattr(actor, "organisation_id", None)
    acting = own if own is not None and own in parties else owner
    others = [party for party in parties if party is not None and party != acting]
    return acting, (others[0] if others else None)


def _record(
    verb: str, spec: Writable[Any], instance: models.Model, *, actor: Any, **entry: Any
) -> None:
    acting, other = _chain(actor, instance)
    audit.record(
        spec.action(verb),
        actor=actor,
        organisation_id=acting,
        shared_with_id=other,
        target=instance,
        **entry,
    )


def _stored(instance: M) -> M:
    """A fresh, locked copy of ``instance``; one deleted meanwhile answers like a missing one."""
    with scopes_disabled():
        stored = type(instance)._default_manager.select_for_update().filter(pk=instance.pk).first()
    if stored is None:
        raise Http404("No such object.")
    return stored


def create(
    spec: Writable[M],
    *,
    actor: Any,
    reason: str = "",
    default_reason: str = "",
    require_reason: bool = False,
    parent: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any],
    after_save: Callable[[M], None] | None = None,
    verb: str = "created",
) -> M:
    """Check, validate and save a new record under ``parent``; record its creation.

    A creation may default its reason, unless ``require_reason``; ``verb`` names a creation
    with a meaning of its own (``opencdmo.user.invited``).

    ``after_save`` writes what belongs to the record (rows of a child table) inside the
    same transaction, before the audit entry takes ``spec.state`` of the result.
    """
    instance = spec.model(**(parent or {}))
    spec.authorise(actor, instance)
    spec.check_fields(fields)
    reason = _reason(reason, required=require_reason, default=default_reason)
    values = spec.normalise(dict(fields)) if spec.normalise else dict(fields)
    for name, value in values.items():
        setattr(instance, name, value)
    spec.validate(instance)
    with transaction.atomic():
        instance.save()
        if after_save is not None:
            after_save(instance)
        _record(
            verb,
            spec,
            instance,
            actor=actor,
            after=spec.state(instance),
            reason=reason,
        )
    return instance


def update(
    spec: Writable[M],
    instance: M,
    *,
    actor: Any,
    reason: str,
    changes: Mapping[str, Any],
    extra_state: Mapping[str, Any] | None = None,
    after_save: Callable[[M], None] | None = None,
    verb: str = "changed",
) -> M:
    """Apply ``changes`` to the stored record; one entry if anything changed, none otherwise.

    ``extra_state`` is the new value of state kept outside the record's own fields (a
    suite's modalities), which ``after_save`` writes when something changed. ``verb`` names
    a change with a meaning of its own (``opencdmo.user.role_changed``).
    """
    spec.authorise(actor, instance)
    spec.check_fields(changes)
    reason = _reason(reason, required=True)
    values = spec.normalise(dict(changes)) if spec.normalise else dict(changes)
    with transaction.atomic():
        stored = _stored(instance)
        before = spec.state(stored)
        for name, value in values.items():
            setattr(stored, name, value)
        spec.validate(stored)
        old, new = audit.changed(before, {**spec.state(stored), **(extra_state or {})})
        if old or new:
            stored.save()
            if after_save is not None:
                after_save(stored)
            _record(verb, spec, stored, actor=actor, before=old, after=new, reason=reason)
    instance.refresh_from_db()
    return instance


def delete(spec: Writable[Any], instance: models.Model, *, actor: Any, reason: str) -> None:
    """Delete the record and record what it was; one still referred to is refused by name."""
    spec.authorise(actor, instance)
    reason = _reason(reason, required=True)
    with transaction.atomic():
        stored = _stored(instance)
        _record("deleted", spec, stored, actor=actor, before=spec.state(stored), reason=reason)
        try:
            stored.delete()
        except ProtectedError as exc:
            used_by = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
            raise ValidationError(
                f"{stored} is still referred to by {', '.join(used_by)}; remove those first."
            ) from exc


def transition(spec: Writable[M], instance: M, *, actor: Any, reason: str, to: str) -> M:
    """Move ``spec.state_field`` to ``to`` if ``spec.transitions`` allows it; the action is
    named after the new state (``opencdmo.batch.released``)."""
    spec.authorise(actor, instance)
    reason = _reason(reason, required=True)
    name = spec.state_field
    with transaction.atomic():
        stored = _stored(instance)
        current = getattr(stored, name)
        allowed = spec.transitions.get(current, ())
        if to not in allowed:
            label = spec.model._meta.verbose_name
            choices = ", ".join(allowed) or "nothing: it is final"
            raise ValidationError(
                {name: f"A {label} cannot go from '{current}' to '{to}'; it may go to {choices}."}
            )
        before = spec.state(stored)
        setattr(stored, name, to)
        spec.validate(stored)
        stored.save()
        old, new = audit.changed(before, spec.state(stored))
        _record(to, spec, stored, actor=actor, before=old, after=new, reason=reason)
    instance.refresh_from_db()
    return instance
