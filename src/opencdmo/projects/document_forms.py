"""Forms of the document pages: upload, a new version, review routing, metadata, reasons."""

from __future__ import annotations

from typing import Any

from django import forms

from opencdmo.accounts.models import User
from opencdmo.core.inputs import CleanTextFields
from opencdmo.projects.models import Project


class UploadForm(CleanTextFields, forms.Form):
    number = forms.CharField(max_length=40, help_text="The document's number, e.g. TT-001")
    title = forms.CharField(max_length=200)
    summary = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    file = forms.FileField()


class VersionForm(CleanTextFields, forms.Form):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What this version changes",
    )
    file = forms.FileField()


class RouteForm(CleanTextFields, forms.Form):
    reviewers = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False)
    approvers = forms.ModelMultipleChoiceField(queryset=User.objects.none())

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = User.objects.filter(
            organisation_id__in=(project.cdmo_id, project.sponsor_id), is_active=True
        ).order_by("organisation__name", "username")
        for name in ("reviewers", "approvers"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = people
            field.label_from_instance = lambda u: (
                f"{u.get_full_name() or u.username} ({u.organisation})"
            )


class MetadataForm(CleanTextFields, forms.Form):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reason = forms.CharField(max_length=500, help_text="Why; it goes on the audit trail.")


class ReasonForm(CleanTextFields, forms.Form):
    reason = forms.CharField(max_length=500, help_text="Why; it goes on the audit trail.")
