"""The filtered trail: one form and one query shared by the page, the CSV and the PDF.

Every reader of the trail goes through ``filtered_entries`` inside the caller's tenant
scope, so an export holds exactly the entries the page lists for the same filter.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from opencdmo.audit.labels import action_label, object_type_label, subject_label
from opencdmo.audit.models import AuditEntry


def visible_entries() -> QuerySet[AuditEntry]:
    """The entries of the tenant scope in force (own chain and shared entries), newest first."""
    return AuditEntry.objects.select_related("organisation").order_by("-at", "-id")


def action_choices(entries: QuerySet[AuditEntry]) -> list[tuple[str, Any]]:
    """The actions present in ``entries``, labelled and grouped by what they are about."""
    pairs = entries.order_by().values_list("action", "object_type").distinct()
    object_types: dict[str, str] = {}
    for action, object_type in pairs:
        if object_type or action not in object_types:
            object_types[action] = object_type
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for action, object_type in object_types.items():
        groups[subject_label(action, object_type)].append(
            (action, action_label(action, object_type))
        )
    grouped: list[tuple[str, Any]] = [("", "Any action")]
    for subject in sorted(groups):
        grouped.append((subject, sorted(groups[subject], key=lambda choice: choice[1])))
    return grouped


def object_type_choices(entries: QuerySet[AuditEntry]) -> list[tuple[str, str]]:
    """The object types present in ``entries``, by their models' names."""
    present = entries.order_by().exclude(object_type="").values_list("object_type", flat=True)
    labelled = sorted(
        ((code, object_type_label(code)) for code in present.distinct()), key=lambda c: c[1]
    )
    return [("", "Any object"), *labelled]


class AuditFilter(forms.Form):
    """What a reviewer narrows the trail by; every field is optional."""

    action = forms.ChoiceField(required=False)
    actor = forms.CharField(required=False, max_length=200, label="Who (name contains)")
    object_type = forms.ChoiceField(required=False, label="Object type")
    text = forms.CharField(required=False, max_length=200, label="Object or reason contains")
    since = forms.DateField(
        required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data: Any, entries: QuerySet[AuditEntry]) -> None:
        super().__init__(data)
        self.fields["action"].choices = action_choices(entries)
        self.fields["object_type"].choices = object_type_choices(entries)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def applied(self) -> dict[str, Any]:
        """The valid, non-empty filter values; an invalid field narrows nothing."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if value not in (None, "") and name not in self.errors
        }

    def described(self) -> list[tuple[str, str]]:
        """The filter in force as (label, value) pairs for a report's header."""
        described = []
        for name, value in self.applied().items():
            shown = str(value)
            if name in ("action", "object_type"):
                shown = str(dict(_flat(self.fields[name].choices)).get(value, value))
            described.append((str(self.fields[name].label or name.capitalize()), shown))
        return described


def _flat(choices: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    for value, label in choices:
        flat.extend(label if isinstance(label, list) else [(value, label)])
    return flat


def filtered_entries(
    entries: QuerySet[AuditEntry], applied: dict[str, Any]
) -> QuerySet[AuditEntry]:
    """``entries`` narrowed by the filter values ``AuditFilter.applied`` returns."""
    if "action" in applied:
        entries = entries.filter(action=applied["action"])
    if "actor" in applied:
        entries = entries.filter(actor_name__icontains=applied["actor"])
    if "object_type" in applied:
        entries = entries.filter(object_type=applied["object_type"])
    if "text" in applied:
        entries = entries.filter(
            Q(object_repr__icontains=applied["text"]) | Q(reason__icontains=applied["text"])
        )
    if "since" in applied:
        entries = entries.filter(at__date__gte=applied["since"])
    if "until" in applied:
        entries = entries.filter(at__date__lte=applied["until"])
    return entries
