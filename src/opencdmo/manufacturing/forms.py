from __future__ import annotations

from django import forms

from opencdmo.core.inputs import CleanTextFields
from opencdmo.manufacturing.models import Batch

STATE_CHOICES = [("", "Any state"), *Batch.State.choices]


class BatchFilterForm(CleanTextFields, forms.Form):
    state = forms.ChoiceField(choices=STATE_CHOICES, required=False)
    site = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    project = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        *args: object,
        sites: list[tuple[int, str]],
        projects: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "Any site"), *sites]
        self.fields["project"].choices = [("", "Any project"), *projects]


class StateForm(CleanTextFields, forms.Form):
    to = forms.ChoiceField(choices=Batch.State.choices, widget=forms.HiddenInput)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class UploadForm(CleanTextFields, forms.Form):
    file = forms.FileField(help_text="CSV, Excel (.xlsx) or Parquet; long or wide")
    reason = forms.CharField(
        max_length=2000, required=False, help_text="Optional; the default names the file"
    )


class OfflineResultForm(CleanTextFields, forms.Form):
    attribute = forms.CharField(max_length=80, help_text="e.g. Titer, Aggregate, HCP")
    value = forms.FloatField()
    unit = forms.CharField(max_length=30, required=False)
    spec_low = forms.FloatField(label="Specification low", required=False)
    spec_high = forms.FloatField(label="Specification high", required=False)
    sampled_at = forms.DateTimeField(
        label="Sampled (UTC)", required=False, help_text="YYYY-MM-DD HH:MM"
    )
    method = forms.CharField(max_length=120, required=False)
    reason = forms.CharField(max_length=2000, required=False)
