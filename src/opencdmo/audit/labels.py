"""The words a QA reviewer reads in place of the audit trail's codes.

Labels come from the models' own metadata wherever it says something: an action's noun or an
entry's object type names a model (its verbose name), a changed key names a field (its
verbose name, or the field name read with its unit suffix), a choice value has its label and
a foreign key's id names its object. Only what no model can say is written down here: the
events that are not a creation, change or deletion, and the verbs.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.text import camel_case_to_spaces, capfirst

from opencdmo.audit.models import AuditEntry

ACTION_PREFIX = "opencdmo."
TRAIL_EXPORTED = "opencdmo.audit_trail.exported"
CHAIN_VERIFIED = "opencdmo.audit_chain.verified"
CHAIN_WITNESSED = "opencdmo.audit_chain.witnessed"
KEY_ROTATED = "opencdmo.audit_key.rotated"

EVENT_LABELS: dict[str, str] = {
    "opencdmo.user.logged_in": "Login",
    "opencdmo.user.logged_out": "Logout",
    "opencdmo.user.login_failed": "Failed login",
    TRAIL_EXPORTED: "Audit trail exported",
    CHAIN_VERIFIED: "Audit chain verified",
    CHAIN_WITNESSED: "Partner chain witnessed",
    KEY_ROTATED: "Audit signing key rotated",
    "opencdmo.signature.signed": "Electronic signature",
    "opencdmo.signature.refused": "Electronic signature refused",
}
"""Events whose label is not '<model> <verb>'."""

VERB_LABELS: dict[str, str] = {
    "created": "created",
    "changed": "changed",
    "deleted": "deleted",
    "revoked": "revoked",
    "invited": "invited",
    "role_changed": "role changed",
    "deactivated": "deactivated",
    "reactivated": "reactivated",
    "password_set": "password set",
    "password_changed": "password changed",
    "password_reset": "password reset",
    "password_set_by_administrator": "password set by administrator",
    "two_factor_enabled": "turned two-factor sign-in on",
    "two_factor_disabled": "turned two-factor sign-in off",
    "two_factor_required": "requires two-factor sign-in",
    "two_factor_optional": "no longer requires two-factor sign-in",
    "recovery_code_used": "used a recovery code",
}
"""Verbs the services use after a model's noun: ``opencdmo.<noun>.<verb>``. A state
transition's verb needs no entry: it is a value of one of the model's choice fields
(``opencdmo.batch.released``) and reads as that choice's label."""

UNIT_LABELS: dict[str, str] = {
    "l": "L",
    "ml": "mL",
    "h": "h",
    "min": "min",
    "s": "s",
    "kg": "kg",
    "g": "g",
    "usd": "USD",
    "eur": "EUR",
    "pct": "%",
    "c": "°C",
}
"""Unit suffixes of field names (``working_volume_l``), as a label writes them."""

ACRONYMS: dict[str, str] = {
    "api": "API",
    "gmp": "GMP",
    "id": "ID",
    "ip": "IP",
    "opc": "OPC",
    "ua": "UA",
    "url": "URL",
    "sha256": "SHA-256",
}
"""Words a field name spells in lower case that a label writes as the acronym."""

EMPTY = "–"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def humanise(code: str) -> str:
    """``working_volume_l`` → 'Working volume (L)', ``throughput_units_per_h`` → 'Throughput (units/h)'."""
    words = [ACRONYMS.get(w, w) for w in code.split("_") if w]
    if len(words) >= 3 and words[-2] == "per" and words[-1] in UNIT_LABELS:
        quantity, per = words[:-3], f"{words[-3]}/{UNIT_LABELS[words[-1]]}"
        return f"{capfirst(' '.join(quantity))} ({per})" if quantity else per
    if len(words) >= 2 and words[-1] in UNIT_LABELS:
        return f"{capfirst(' '.join(words[:-1]))} ({UNIT_LABELS[words[-1]]})"
    return capfirst(" ".join(words))


@functools.cache
def _models_by_noun() -> dict[str, type[models.Model]]:
    """Every project model under the nouns an action may use for it.

    A service names a model by its model name (``suite``), its class name in snake case
    (``api_token``) or the tail of that (``approval`` for ``RegulatoryApproval``); a tail
    that fits two models names neither.
    """
    exact: dict[str, type[models.Model]] = {}
    tails: dict[str, set[type[models.Model]]] = defaultdict(set)
    for model in apps.get_models():
        if not model.__module__.startswith(ACTION_PREFIX):
            continue
        snake = _snake(model.__name__)
        exact[model._meta.model_name or snake] = model
        exact[snake] = model
        words = snake.split("_")
        for start in range(1, len(words)):
            tails["_".join(words[start:])].add(model)
    unique_tails = {noun: next(iter(m)) for noun, m in tails.items() if len(m) == 1}
    return {**unique_tails, **exact}


def model_label(model: type[models.Model]) -> str:
    """The model's verbose name; one Django derived from the class name spells its acronyms."""
    name = str(model._meta.verbose_name)
    if name == camel_case_to_spaces(model.__name__):
        name = " ".join(ACRONYMS.get(word, word) for word in name.split())
    return str(capfirst(name))


def model_for(object_type: str) -> type[models.Model] | None:
    """The model an entry's ``object_type`` (``network.suite``) names, if it still exists."""
    if "." not in object_type:
        return None
    try:
        return apps.get_model(object_type)
    except LookupError:
        return None


def _split(action: str) -> tuple[str, str]:
    noun, _, verb = action.removeprefix(ACTION_PREFIX).rpartition(".")
    return noun, verb


def noun_model(action: str) -> type[models.Model] | None:
    """The model an action's noun names (``opencdmo.suite.changed`` → ``Suite``)."""
    return _models_by_noun().get(_split(action)[0])


def subject_label(action: str, object_type: str = "") -> str:
    """What an action is about, e.g. 'Suite' or 'Audit trail'; groups the action filter."""
    model = model_for(object_type) or noun_model(action)
    if model is not None:
        return model_label(model)
    return humanise(_split(action)[0].replace(".", "_"))


def _verb_label(verb: str, model: type[models.Model] | None) -> str | None:
    """The verb's words, or the label of the state a transition moved to."""
    if verb in VERB_LABELS:
        return VERB_LABELS[verb]
    for field in model._meta.concrete_fields if model is not None else ():
        if field.choices and verb in dict(field.flatchoices):
            return str(dict(field.flatchoices)[verb]).lower()
    return None


def action_label(action: str, object_type: str = "") -> str:
    """'Suite changed' for ``opencdmo.suite.changed``; 'Failed login' for a failed login."""
    if action in EVENT_LABELS:
        return EVENT_LABELS[action]
    verb = _split(action)[1]
    model = model_for(object_type) or noun_model(action)
    words = _verb_label(verb, model) or verb.replace("_", " ")
    return f"{subject_label(action, object_type)} {words}"


def is_labelled(action: str) -> bool:
    """Whether ``action`` has a label of its own rather than its code read aloud."""
    if action in EVENT_LABELS:
        return True
    model = noun_model(action)
    return model is not None and _verb_label(_split(action)[1], model) is not None


def object_type_label(object_type: str) -> str:
    """'Suite' for ``network.suite``; the code itself for a model that no longer exists."""
    model = model_for(object_type)
    return model_label(model) if model is not None else object_type


def _field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    """The concrete field stored under ``key`` (a name or, for a foreign key, its ``_id``)."""
    if model is None:
        return None
    for field in model._meta.concrete_fields:
        if key in (field.name, field.attname):
            return field
    return _listed_field(model, key)


def _listed_field(model: type[models.Model], key: str) -> models.Field[Any, Any] | None:
    """A related model's choice field whose plural is ``key`` (a suite's ``modalities``)."""
    for relation in model._meta.related_objects:
        for field in relation.related_model._meta.concrete_fields:
            if field.choices and key in _plurals(field.name):
                return field
    return None


def _plurals(name: str) -> set[str]:
    return {f"{name}s", f"{name[:-1]}ies" if name.endswith("y") else f"{name}es"}


def field_label(model: type[models.Model] | None, key: str) -> str:
    """The field's own verbose name if it has one, else its name read with its unit."""
    field = _field(model, key)
    if field is not None and key in (field.name, field.attname):
        default = field.name.replace("_", " ")
        if field.verbose_name and str(field.verbose_name) != default:
            return str(capfirst(field.verbose_name))
        return humanise(field.name)
    return humanise(key.removesuffix("_id"))


def number_text(value: float) -> str:
    """No spurious '.0'; thousands grouped from five digits on (years stay 2024)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if abs(value) >= 10_000 else str(value)


def _parsed_time(value: str, field: models.Field[Any, Any]) -> str | None:
    try:
        if isinstance(field, models.DateTimeField):
            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                moment = moment.astimezone(dt.UTC)
            return f"{moment.day} {moment:%b %Y, %H:%M} UTC"
        if isinstance(field, models.DateField):
            day = dt.date.fromisoformat(value)
            return f"{day.day} {day:%b %Y}"
    except ValueError:
        return None
    return None


def _is_id(value: Any) -> bool:
    """Snapshots store a foreign key as its integer id; anything else is shown as it is."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class FieldChange:
    """One changed field of an entry as a reviewer reads it."""

    code: str
    label: str
    old: str
    new: str
    has_old: bool


class Labeller:
    """Labels for a batch of entries, naming the objects their foreign keys point at.

    Names are looked up once per model for the whole batch, with the caller's manager, so
    an object the caller may not see shows by its id as a deleted one does.
    """

    def __init__(self, entries: Iterable[AuditEntry]) -> None:
        self.entries = list(entries)
        wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
        for entry in self.entries:
            model = model_for(entry.object_type)
            for key, old, new in entry.changes():
                field = _field(model, key)
                target = field.related_model if field is not None and field.is_relation else None
                if isinstance(target, type) and issubclass(target, models.Model):
                    wanted[target] |= {v for v in (old, new) if _is_id(v)}
        self.names: dict[tuple[type[models.Model], int], str] = {}
        for target, ids in wanted.items():
            for obj in target._default_manager.filter(pk__in=ids):
                self.names[(target, obj.pk)] = str(obj)

    def value(self, field: models.Field[Any, Any] | None, value: Any) -> str:
        """``value`` as text: a choice's label, an object's name, Yes/No, a readable date."""
        if value is None or value == "" or value == []:
            return EMPTY
        if isinstance(value, list):
            return ", ".join(self.value(field, item) for item in value)
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        if field is not None:
            if field.choices:
                return str(dict(field.flatchoices).get(value, value))
            target: Any = field.related_model if field.is_relation else None
            if target is not None and _is_id(value):
                name = self.names.get((target, value))
                kind = model_label(target)
                return name if name is not None else f"{kind} #{value} (deleted)"
            if isinstance(value, str) and (text := _parsed_time(value, field)) is not None:
                return text
        if isinstance(value, int | float):
            return number_text(value)
        return str(value)

    def changes(self, entry: AuditEntry) -> list[FieldChange]:
        """Every changed field of ``entry``, labelled, in the order of the model's fields."""
        model = model_for(entry.object_type)
        has_old = entry.before is not None
        rows = [
            FieldChange(
                code=key,
                label=field_label(model, key),
                old=self.value(_field(model, key), old),
                new=self.value(_field(model, key), new),
                has_old=has_old,
            )
            for key, old, new in entry.changes()
        ]
        if model is None:
            return rows
        order = {f.name: i for i, f in enumerate(model._meta.concrete_fields)}
        order |= {f.attname: i for i, f in enumerate(model._meta.concrete_fields)}
        return sorted(rows, key=lambda row: order.get(row.code, len(order)))

    def rows(self) -> list[LabelledEntry]:
        return [
            LabelledEntry(
                entry=entry,
                action_label=action_label(entry.action, entry.object_type),
                object_type_label=object_type_label(entry.object_type),
                changes=self.changes(entry),
            )
            for entry in self.entries
        ]


@dataclass(frozen=True)
class LabelledEntry:
    """An entry with the words the page, the CSV and the PDF show for it."""

    entry: AuditEntry
    action_label: str
    object_type_label: str
    changes: list[FieldChange]

    @property
    def action_parts(self) -> list[str]:
        """The action code's dotted parts, so a narrow column breaks it at the dots."""
        return self.entry.action.split(".")


def labelled(entries: Iterable[AuditEntry]) -> list[LabelledEntry]:
    """Label a batch of entries; foreign keys are resolved once for the whole batch."""
    return Labeller(entries).rows()
