"""Controlled vocabularies of the site network."""

from __future__ import annotations

from django.db import models


class Region(models.TextChoices):
    NORTH_AMERICA = "north_america", "North America"
    LATIN_AMERICA = "latin_america", "Latin America"
    EUROPE = "europe", "Europe"
    MIDDLE_EAST_AFRICA = "middle_east_africa", "Middle East & Africa"
    ASIA = "asia", "Asia"
    OCEANIA = "oceania", "Oceania"


class Modality(models.TextChoices):
    MAB = "mab", "Monoclonal antibody"
    BISPECIFIC = "bispecific", "Bispecific antibody"
    ADC = "adc", "Antibody-drug conjugate"
    RECOMBINANT_PROTEIN = "recombinant_protein", "Recombinant protein"
    VIRAL_VACCINE = "viral_vaccine", "Viral vaccine"
    AAV = "aav", "AAV gene therapy"
    LENTIVIRUS = "lentivirus", "Lentiviral vector"
    CELL_THERAPY = "cell_therapy", "Cell therapy"
    MRNA_LNP = "mrna_lnp", "mRNA-LNP"
    SMALL_MOLECULE_API = "small_molecule_api", "Small-molecule API"
    ORAL_SOLID_DOSE = "oral_solid_dose", "Oral solid dose"
    STERILE_FILL_FINISH = "sterile_fill_finish", "Sterile fill-finish"


class SuiteKind(models.TextChoices):
    UPSTREAM = "upstream", "Upstream (cell culture)"
    DOWNSTREAM = "downstream", "Downstream (purification)"
    FILL_FINISH = "fill_finish", "Fill-finish"
    SMALL_MOLECULE_API = "small_molecule_api", "Small-molecule API"
    ORAL_SOLID_DOSE = "oral_solid_dose", "Oral solid dose"


class GmpGrade(models.TextChoices):
    A = "A", "Grade A"
    B = "B", "Grade B"
    C = "C", "Grade C"
    D = "D", "Grade D"
    CNC = "CNC", "Controlled not classified"


class SuiteStatus(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    QUALIFICATION = "qualification", "In qualification"
    MAINTENANCE = "maintenance", "Shut down for maintenance"
    CONSTRUCTION = "construction", "Under construction"
    DECOMMISSIONED = "decommissioned", "Decommissioned"


class EquipmentKind(models.TextChoices):
    BIOREACTOR_SINGLE_USE = "bioreactor_su", "Single-use bioreactor"
    BIOREACTOR_STAINLESS = "bioreactor_ss", "Stainless-steel bioreactor"
    CHROMATOGRAPHY = "chromatography", "Chromatography skid"
    TFF = "tff", "Tangential-flow filtration"
    FILL_LINE = "fill_line", "Fill line"
    LYOPHILISER = "lyophiliser", "Lyophiliser"
    CHEMICAL_REACTOR = "chemical_reactor", "Chemical reactor"
    TABLET_PRESS = "tablet_press", "Tablet press"


BIOREACTOR_KINDS = (EquipmentKind.BIOREACTOR_SINGLE_USE, EquipmentKind.BIOREACTOR_STAINLESS)


class Agency(models.TextChoices):
    FDA = "FDA", "US FDA"
    EMA = "EMA", "EMA / EU"
    MHRA = "MHRA", "UK MHRA"
    PMDA = "PMDA", "Japan PMDA"
    NMPA = "NMPA", "China NMPA"
    HEALTH_CANADA = "HC", "Health Canada"
    TGA = "TGA", "Australia TGA"
    ANVISA = "ANVISA", "Brazil ANVISA"
    MFDS = "MFDS", "Korea MFDS"
    SWISSMEDIC = "SMC", "Swissmedic"
    CDSCO = "CDSCO", "India CDSCO"
    WHO = "WHO", "WHO prequalification"


class InspectionOutcome(models.TextChoices):
    NO_ACTION = "no_action", "No action indicated"
    VOLUNTARY_ACTION = "voluntary_action", "Voluntary action indicated"
    OFFICIAL_ACTION = "official_action", "Official action indicated"
