"""Page forms: the capacity request, accepting an option, the CDMO's proposal terms."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from opencdmo.accounts.models import Organisation
from opencdmo.core.inputs import CleanTextFields
from opencdmo.network.choices import Agency, Modality, Region
from opencdmo.projects.models import Phase, Product

_COUNTRIES = re.compile(r"^[A-Za-z]{2}$")


class RequestForm(CleanTextFields, forms.Form):
    """A capacity request: an existing product or a new one, scale, batches and window."""

    product = forms.ModelChoiceField(
        queryset=Product.objects.none(), required=False, empty_label="A new product …"
    )
    new_product = forms.CharField(required=False, max_length=120, label="New product's name")
    modality = forms.ChoiceField(required=False, choices=[("", "–"), *Modality.choices])
    phase = forms.ChoiceField(required=False, choices=[("", "–"), *Phase.choices])
    scale_l = forms.FloatField(min_value=1, label="Scale (L)", help_text="Production bioreactor")
    batches = forms.IntegerField(min_value=1, max_value=50)
    earliest_start = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    need_by = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The last batch finished by",
    )
    regions = forms.MultipleChoiceField(
        required=False, choices=Region.choices, widget=forms.CheckboxSelectMultiple
    )
    countries = forms.CharField(
        required=False, max_length=200, help_text="Two-letter codes, comma-separated: DE, CH"
    )
    approvals = forms.MultipleChoiceField(
        required=False, choices=Agency.choices, widget=forms.CheckboxSelectMultiple
    )
    recipients = forms.ModelMultipleChoiceField(
        queryset=Organisation.objects.filter(kind="cdmo").order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every capable CDMO",
        label="Ask only these CDMOs",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, products: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products

    def clean_countries(self) -> list[str]:
        text = self.cleaned_data.get("countries") or ""
        codes = [c.strip().upper() for c in text.split(",") if c.strip()]
        wrong = [c for c in codes if not _COUNTRIES.match(c)]
        if wrong:
            raise ValidationError(f"Not two-letter country codes: {', '.join(wrong)}.")
        return codes

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("product") is None:
            missing = [f for f in ("new_product", "modality", "phase") if not data.get(f)]
            for name in missing:
                self.add_error(
                    name, "Choose a product, or name the new one with its modality and phase."
                )
        return data


class ReasonForm(CleanTextFields, forms.Form):
    reason = forms.CharField(required=False, max_length=2000)


class ProposalForm(CleanTextFields, forms.Form):
    """What the CDMO's business developer or planner sends with an option."""

    price_usd = forms.IntegerField(min_value=0, required=False, label="Price (USD)")
    valid_until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    conditions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(max_length=2000, help_text="Why, for the audit trail")
