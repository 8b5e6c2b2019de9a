"""Page forms: the directory filters and the suite editor."""

from __future__ import annotations

from typing import Any, Self

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from opencdmo.core.inputs import CleanTextFields
from opencdmo.network.choices import (
    Agency,
    EquipmentKind,
    GmpGrade,
    InspectionOutcome,
    Modality,
    Region,
    SuiteKind,
    SuiteStatus,
)
from opencdmo.network.models import Suite
from opencdmo.network.search import SORTS, SiteQuery


def _any(choices: list[tuple[str, str]], label: str = "Any") -> list[tuple[str, str]]:
    return [("", label), *choices]


class SiteFilterForm(CleanTextFields, forms.Form):
    """The directory's filters; every field optional, invalid ones reported and ignored."""

    q = forms.CharField(required=False, max_length=100, label="Name, city or company")
    modality = forms.ChoiceField(required=False, choices=_any(Modality.choices))
    min_volume_l = forms.FloatField(required=False, min_value=0, label="Min. single bioreactor (L)")
    min_total_volume_l = forms.FloatField(
        required=False, min_value=0, label="Min. total bioreactor volume (L)"
    )
    region = forms.ChoiceField(required=False, choices=_any(Region.choices))
    country = forms.CharField(
        required=False,
        max_length=2,
        validators=[RegexValidator(r"^[A-Za-z]{2}$", "Use a two-letter ISO code such as 'DE'.")],
        label="Country (ISO code)",
    )
    agency = forms.ChoiceField(required=False, choices=_any(Agency.choices), label="Approved by")
    inspection_outcome = forms.ChoiceField(
        required=False, choices=_any(InspectionOutcome.choices), label="Latest inspection"
    )
    sort = forms.ChoiceField(required=False, choices=list(SORTS.items()), label="Sort by")

    def __init__(self, data: Any = None, *, countries: list[str] | None = None) -> None:
        super().__init__(data)
        if countries:
            self.fields["country"].widget = forms.Select(choices=_any([(c, c) for c in countries]))

    def query(self) -> SiteQuery:
        """The valid filters as a query; invalid fields are left out (and shown as errors)."""
        if self.is_bound:
            self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return SiteQuery(
            modality=data.get("modality") or "",
            min_volume_l=data.get("min_volume_l"),
            min_total_volume_l=data.get("min_total_volume_l"),
            country=(data.get("country") or "").upper(),
            region=data.get("region") or "",
            agency=data.get("agency") or "",
            inspection_outcome=data.get("inspection_outcome") or "",
            text=(data.get("q") or "").strip(),
            sort=data.get("sort") or "name",
        )

    def problems(self) -> list[str]:
        """One readable line per rejected filter: '<label>: <message>'."""
        return [
            f"{self[name].label}: {' '.join(messages)}" for name, messages in self.errors.items()
        ]


class ChangeForm(CleanTextFields, forms.Form):
    """An edit form for one record: its fields plus the reason for the change.

    The form only parses; the service validates, and its messages come back through
    ``show_rejection`` so that page and API report the same rules.
    """

    FIELDS: tuple[str, ...] = ()

    reason = forms.CharField(
        max_length=500,
        label="Reason for change",
        help_text="Recorded on the audit trail with your name and the time.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    @classmethod
    def for_record(cls, record: Any, data: Any = None, **initial: Any) -> Self:
        values = {name: getattr(record, name) for name in cls.FIELDS}
        return cls(data, initial={**values, **initial})

    @property
    def record_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.FIELDS]

    def changes(self) -> dict[str, Any]:
        """The record's fields as the update service takes them."""
        return {name: self.cleaned_data[name] for name in self.FIELDS}

    def edited(self) -> bool:
        """Whether any value differs from what was shown (the reason does not count)."""
        return any(name != "reason" for name in self.changed_data)

    def show_rejection(self, error: ValidationError) -> None:
        """Attach a service's ValidationError to the matching fields, the rest to the form."""
        messages = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        for name, texts in messages.items():
            for text in texts:
                self.add_error(name if name in self.fields else None, text)


class SuiteForm(ChangeForm):
    """A suite and its qualified modalities."""

    FIELDS = ("name", "kind", "gmp_grade", "status")

    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=SuiteKind.choices)
    gmp_grade = forms.ChoiceField(choices=GmpGrade.choices, label="GMP grade")
    status = forms.ChoiceField(choices=SuiteStatus.choices)
    modalities = forms.MultipleChoiceField(
        required=False,
        choices=Modality.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Qualified modalities",
    )
    field_order = ["name", "kind", "gmp_grade", "status", "modalities", "reason"]

    @classmethod
    def for_suite(cls, suite: Suite, data: Any = None) -> SuiteForm:
        return cls.for_record(suite, data, modalities=suite.modalities)

    def changes(self) -> dict[str, Any]:
        return {**super().changes(), "modalities": self.cleaned_data["modalities"]}


class EquipmentForm(ChangeForm):
    """One piece of equipment; volumes in litres, throughput in units per hour."""

    FIELDS = ("tag", "kind", "working_volume_l", "throughput_units_per_h", "manufacturer")

    tag = forms.CharField(max_length=40)
    kind = forms.ChoiceField(choices=EquipmentKind.choices)
    working_volume_l = forms.FloatField(required=False, label="Working volume (L)")
    throughput_units_per_h = forms.IntegerField(required=False, label="Throughput (units/h)")
    manufacturer = forms.CharField(max_length=120, required=False)
    field_order = [*FIELDS, "reason"]


class PrivateProfileForm(ChangeForm):
    """The owner-only commercial details of a site."""

    FIELDS = ("indicative_batch_price_usd", "spare_capacity_note", "key_contact", "internal_notes")

    indicative_batch_price_usd = forms.IntegerField(
        required=False, label="Indicative batch price (USD)"
    )
    spare_capacity_note = forms.CharField(max_length=300, required=False, label="Spare capacity")
    key_contact = forms.CharField(max_length=200, required=False)
    internal_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    field_order = [*FIELDS, "reason"]


class ImportForm(CleanTextFields, forms.Form):
    """Upload of a sites, suites or equipment file (docs/import.md lists the columns)."""

    file = forms.FileField(help_text="CSV (UTF-8, with a header row) or Excel .xlsx")
    kind = forms.ChoiceField(
        required=False,
        choices=[
            ("", "From the file or sheet names"),
            ("sites", "Sites"),
            ("suites", "Suites"),
            ("equipment", "Equipment"),
        ],
        label="What the file holds",
    )
    dry_run = forms.BooleanField(required=False, label="Only check the file; import nothing")
