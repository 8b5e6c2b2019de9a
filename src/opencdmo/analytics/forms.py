"""Requesting a monitoring model, and sharing a project's process data with its sponsor."""

from __future__ import annotations

from typing import Any

from django import forms

from opencdmo.core.inputs import CleanTextFields


class ModelRequestForm(CleanTextFields, forms.Form):
    batches = forms.MultipleChoiceField(
        label="Reference batches",
        widget=forms.CheckboxSelectMultiple,
        help_text="Finished batches that ran as they should; at least five.",
    )
    quality_attribute = forms.CharField(
        max_length=80,
        required=False,
        label="Quality attribute to predict",
        help_text="An offline result every reference batch has, such as Titer; empty for none.",
    )
    n_components = forms.IntegerField(min_value=1, max_value=6, initial=2, label="Components")
    reason = forms.CharField(max_length=500, required=False, label="Reason")

    def __init__(self, *args: Any, batches: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["batches"].choices = [(str(b.pk), b.lot) for b in batches]


class SharingForm(CleanTextFields, forms.Form):
    share_process_data = forms.BooleanField(
        required=False, label="The sponsor reads the process data and live trajectories"
    )
    reason = forms.CharField(max_length=500, label="Reason (on the audit trail)")
