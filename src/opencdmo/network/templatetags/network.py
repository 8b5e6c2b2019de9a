"""Display helpers for network pages: litres, labels for codes, badge tones for outcomes."""

from __future__ import annotations

from django import template

from opencdmo.network.choices import Agency, InspectionOutcome, Modality

register = template.Library()

_TONES: dict[str, str] = {"no_action": "ok", "voluntary_action": "warn", "official_action": "bad"}
_OUTCOME_LABELS: dict[str, str] = {code: str(label) for code, label in InspectionOutcome.choices}
_MODALITY_LABELS: dict[str, str] = {code: str(label) for code, label in Modality.choices}
_AGENCY_LABELS: dict[str, str] = {code: str(label) for code, label in Agency.choices}


@register.filter
def litres(value: float | None) -> str:
    """2000.0 → '2,000 L'; no value → an en dash."""
    if value is None:
        return "–"
    return f"{value:,.0f} L" if value >= 10 else f"{value:,.1f} L"


@register.filter
def outcome_tone(outcome: str | None) -> str:
    """The badge class for an inspection outcome."""
    return _TONES.get(outcome or "", "")


@register.filter
def outcome_label(outcome: str | None) -> str:
    return _OUTCOME_LABELS.get(outcome or "", "")


@register.filter
def modality_label(code: str) -> str:
    return _MODALITY_LABELS.get(code, code)


_SHORT_MODALITY: dict[str, str] = {
    "mab": "mAb",
    "bispecific": "Bispecific",
    "adc": "ADC",
    "recombinant_protein": "Protein",
    "viral_vaccine": "Viral vaccine",
    "aav": "AAV",
    "lentivirus": "Lentivirus",
    "cell_therapy": "Cell therapy",
    "mrna_lnp": "mRNA-LNP",
    "small_molecule_api": "SM API",
    "oral_solid_dose": "OSD",
    "sterile_fill_finish": "Fill-finish",
}


@register.filter
def modality_short(code: str) -> str:
    """A badge-sized name for lists; the full name goes in the tooltip."""
    return _SHORT_MODALITY.get(code, code)


@register.filter
def agency_label(code: str) -> str:
    return _AGENCY_LABELS.get(code, code)


@register.filter
def thousands(value: int | float | None) -> str:
    """18000 → '18,000'."""
    return "–" if value is None else f"{value:,.0f}"
