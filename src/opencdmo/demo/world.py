"""The fictional demo world: CDMOs with their sites and fleets, sponsors, the platform operator.

Company names, people, vendors and prices are invented. Cities, coordinates, ISO country codes
and regulatory agencies are real, so the directory, the map and the filters behave as they
will with real data. The world is built from plain data below; what would be tedious to
write out (approval dates, inspection histories, prices, capacity notes, people's names) is
drawn from a random generator seeded with each site's or organisation's key, so every build
gives exactly the same world on every machine.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass

from opencdmo.accounts.roles import ROLES_BY_KIND

__all__ = [
    "DEMO_PASSWORD",
    "ApprovalRecord",
    "EquipmentRecord",
    "InspectionRecord",
    "OrganisationRecord",
    "PrivateProfileRecord",
    "SiteRecord",
    "SuiteRecord",
    "UserRecord",
    "demo_world",
]

DEMO_PASSWORD = "demo-opencdmo-2026"
"""The password of every demo user; printed by ``opencdmo demo``."""

HISTORY_ENDS = dt.date(2025, 11, 30)
"""The last day of the invented inspection history (fixed, so the world never changes)."""


# --- records: what the seeder writes ---------------------------------------------------------


@dataclass(frozen=True)
class EquipmentRecord:
    tag: str
    kind: str
    working_volume_l: float | None
    throughput_units_per_h: int | None
    manufacturer: str


@dataclass(frozen=True)
class SuiteRecord:
    name: str
    kind: str
    gmp_grade: str
    status: str
    modalities: tuple[str, ...]
    equipment: tuple[EquipmentRecord, ...]


@dataclass(frozen=True)
class ApprovalRecord:
    agency: str
    scope: str
    granted_on: dt.date


@dataclass(frozen=True)
class InspectionRecord:
    agency: str
    inspected_on: dt.date
    outcome: str
    observations: int


@dataclass(frozen=True)
class PrivateProfileRecord:
    indicative_batch_price_usd: int
    spare_capacity_note: str
    key_contact: str
    internal_notes: str


@dataclass(frozen=True)
class SiteRecord:
    code: str
    name: str
    country: str
    region: str
    city: str
    latitude: float
    longitude: float
    description: str
    established_year: int
    suites: tuple[SuiteRecord, ...]
    approvals: tuple[ApprovalRecord, ...]
    inspections: tuple[InspectionRecord, ...]
    private: PrivateProfileRecord


@dataclass(frozen=True)
class UserRecord:
    username: str
    role: str
    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True)
class OrganisationRecord:
    slug: str
    name: str
    kind: str
    country: str
    headquarters: str
    website: str
    description: str
    users: tuple[UserRecord, ...]
    sites: tuple[SiteRecord, ...] = ()


# --- countries -------------------------------------------------------------------------------

_EU = "EMA"
COUNTRIES: dict[str, tuple[str, str, str | None]] = {
    # ISO code: (name, region, the agency at home, if it is one of ``choices.Agency``)
    "US": ("United States", "north_america", "FDA"),
    "CA": ("Canada", "north_america", "HC"),
    "MX": ("Mexico", "latin_america", None),
    "BR": ("Brazil", "latin_america", "ANVISA"),
    "AR": ("Argentina", "latin_america", None),
    "GB": ("United Kingdom", "europe", "MHRA"),
    "IE": ("Ireland", "europe", _EU),
    "NL": ("Netherlands", "europe", _EU),
    "DE": ("Germany", "europe", _EU),
    "AT": ("Austria", "europe", _EU),
    "IT": ("Italy", "europe", _EU),
    "ES": ("Spain", "europe", _EU),
    "FR": ("France", "europe", _EU),
    "PL": ("Poland", "europe", _EU),
    "DK": ("Denmark", "europe", _EU),
    "SE": ("Sweden", "europe", _EU),
    "CH": ("Switzerland", "europe", "SMC"),
    "MA": ("Morocco", "middle_east_africa", None),
    "ZA": ("South Africa", "middle_east_africa", None),
    "IN": ("India", "asia", "CDSCO"),
    "CN": ("China", "asia", "NMPA"),
    "JP": ("Japan", "asia", "PMDA"),
    "KR": ("South Korea", "asia", "MFDS"),
    "TW": ("Taiwan", "asia", None),
    "SG": ("Singapore", "asia", None),
    "AU": ("Australia", "oceania", "TGA"),
    "NZ": ("New Zealand", "oceania", None),
}

# Agencies a site exports to, with how likely a mature site holds each approval.
_EXPORT_AGENCIES: tuple[tuple[str, float], ...] = (
    ("FDA", 0.8),
    ("EMA", 0.65),
    ("MHRA", 0.3),
    ("PMDA", 0.25),
    ("HC", 0.15),
    ("SMC", 0.15),
    ("TGA", 0.15),
    ("MFDS", 0.1),
    ("NMPA", 0.1),
    ("ANVISA", 0.1),
    ("WHO", 0.05),
)


# --- fleets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Units:
    """``count`` identical units tagged ``<prefix>-01`` … in one suite."""

    prefix: str
    kind: str
    count: int
    working_volume_l: float | None = None
    throughput_units_per_h: int | None = None


@dataclass(frozen=True)
class _SuiteTemplate:
    """A typical GMP suite: what it is, what it is qualified for, what stands in it."""

    label: str
    kind: str
    gmp_grade: str
    modalities: tuple[str, ...]
    units: tuple[_Units, ...]
    scope: str
    batch_price_usd: int


_SU, _SS = "bioreactor_su", "bioreactor_ss"
_CHROM, _TFF = "chromatography", "tff"
_FILL, _LYO = "fill_line", "lyophiliser"
_REACTOR, _PRESS = "chemical_reactor", "tablet_press"
_MAB_FAMILY = ("mab", "bispecific", "recombinant_protein")
_CELL_GENE = ("aav", "lentivirus", "cell_therapy")

TEMPLATES: dict[str, _SuiteTemplate] = {
    "usp_su_2000": _SuiteTemplate(
        "Single-use 2,000 L",
        "upstream",
        "C",
        _MAB_FAMILY,
        (_Units("SUB-2000", _SU, 4, 2000), _Units("SUB-500", _SU, 2, 500)),
        "mAb and recombinant protein drug substance",
        1_100_000,
    ),
    "usp_su_500": _SuiteTemplate(
        "Clinical single-use",
        "upstream",
        "C",
        _MAB_FAMILY,
        (_Units("SUB-500", _SU, 2, 500), _Units("SUB-200", _SU, 2, 200)),
        "clinical mAb drug substance",
        450_000,
    ),
    "usp_ss_15000": _SuiteTemplate(
        "Stainless 15,000 L",
        "upstream",
        "C",
        ("mab",),
        (_Units("BR-15000", _SS, 6, 15000), _Units("BR-3000", _SS, 2, 3000)),
        "large-scale mAb drug substance",
        2_800_000,
    ),
    "usp_ss_5000": _SuiteTemplate(
        "Stainless 5,000 L",
        "upstream",
        "C",
        ("mab", "recombinant_protein"),
        (_Units("BR-5000", _SS, 4, 5000), _Units("BR-1000", _SS, 2, 1000)),
        "mAb and recombinant protein drug substance",
        1_600_000,
    ),
    "usp_microbial": _SuiteTemplate(
        "Microbial fermentation",
        "upstream",
        "C",
        ("recombinant_protein",),
        (_Units("FER-1500", _SS, 2, 1500), _Units("FER-150", _SS, 1, 150)),
        "microbial recombinant protein drug substance",
        600_000,
    ),
    "dsp_mab": _SuiteTemplate(
        "Purification",
        "downstream",
        "C",
        _MAB_FAMILY,
        (_Units("CHR", _CHROM, 3), _Units("TFF", _TFF, 2)),
        "protein purification",
        250_000,
    ),
    "dsp_large": _SuiteTemplate(
        "Large-scale purification",
        "downstream",
        "C",
        _MAB_FAMILY,
        (_Units("CHR", _CHROM, 4), _Units("TFF", _TFF, 3)),
        "protein purification",
        400_000,
    ),
    "adc_conjugation": _SuiteTemplate(
        "ADC conjugation",
        "downstream",
        "C",
        ("adc",),
        (_Units("CONJ-200", _REACTOR, 2, 200), _Units("CHR", _CHROM, 1), _Units("TFF", _TFF, 2)),
        "antibody-drug conjugates",
        900_000,
    ),
    "vector_aav": _SuiteTemplate(
        "AAV production",
        "upstream",
        "B",
        ("aav",),
        (_Units("SUB-500", _SU, 2, 500), _Units("SUB-200", _SU, 2, 200)),
        "AAV gene therapy drug substance",
        1_400_000,
    ),
    "vector_lenti": _SuiteTemplate(
        "Lentiviral vector",
        "upstream",
        "B",
        ("lentivirus",),
        (_Units("SUB-200", _SU, 2, 200), _Units("SUB-50", _SU, 4, 50)),
        "lentiviral vectors",
        700_000,
    ),
    "vector_dsp": _SuiteTemplate(
        "Vector purification",
        "downstream",
        "B",
        ("aav", "lentivirus"),
        (_Units("CHR", _CHROM, 2), _Units("TFF", _TFF, 2)),
        "viral vector purification",
        300_000,
    ),
    "cell_therapy": _SuiteTemplate(
        "Cell therapy",
        "upstream",
        "B",
        ("cell_therapy",),
        (_Units("CEX-2", _SU, 8, 2), _Units("SUB-50", _SU, 2, 50)),
        "autologous and allogeneic cell therapies",
        180_000,
    ),
    "vaccine_usp": _SuiteTemplate(
        "Viral vaccine",
        "upstream",
        "B",
        ("viral_vaccine",),
        (_Units("SUB-2000", _SU, 2, 2000), _Units("SUB-200", _SU, 2, 200)),
        "viral vaccine drug substance",
        650_000,
    ),
    "mrna": _SuiteTemplate(
        "mRNA-LNP",
        "downstream",
        "C",
        ("mrna_lnp",),
        (_Units("IVT-50", _REACTOR, 2, 50), _Units("CHR", _CHROM, 2), _Units("TFF", _TFF, 2)),
        "mRNA-LNP drug substance",
        850_000,
    ),
    "fill_vial": _SuiteTemplate(
        "Vial filling",
        "fill_finish",
        "A",
        ("sterile_fill_finish", *_MAB_FAMILY),
        (_Units("FL", _FILL, 1, throughput_units_per_h=24_000), _Units("LYO", _LYO, 2)),
        "sterile drug product in vials",
        300_000,
    ),
    "fill_syringe": _SuiteTemplate(
        "Prefilled syringes",
        "fill_finish",
        "A",
        ("sterile_fill_finish", *_MAB_FAMILY),
        (_Units("FL", _FILL, 1, throughput_units_per_h=36_000),),
        "prefilled syringes and cartridges",
        280_000,
    ),
    "fill_highspeed": _SuiteTemplate(
        "High-speed vial filling",
        "fill_finish",
        "A",
        ("sterile_fill_finish", "mab", "viral_vaccine"),
        (_Units("FL", _FILL, 2, throughput_units_per_h=48_000), _Units("LYO", _LYO, 3)),
        "high-volume sterile drug product",
        350_000,
    ),
    "fill_vaccine": _SuiteTemplate(
        "Vaccine filling",
        "fill_finish",
        "A",
        ("sterile_fill_finish", "viral_vaccine", "mrna_lnp"),
        (_Units("FL", _FILL, 1, throughput_units_per_h=30_000), _Units("LYO", _LYO, 1)),
        "vaccine drug product",
        260_000,
    ),
    "fill_cgt": _SuiteTemplate(
        "Cell and gene therapy filling",
        "fill_finish",
        "A",
        ("sterile_fill_finish", *_CELL_GENE),
        (_Units("FL", _FILL, 1, throughput_units_per_h=1_200),),
        "cell and gene therapy drug product",
        220_000,
    ),
    "api_large": _SuiteTemplate(
        "Commercial API",
        "small_molecule_api",
        "D",
        ("small_molecule_api",),
        (_Units("R-6300", _REACTOR, 4, 6300), _Units("R-16000", _REACTOR, 2, 16000)),
        "commercial small-molecule API",
        350_000,
    ),
    "api_pilot": _SuiteTemplate(
        "Pilot API",
        "small_molecule_api",
        "D",
        ("small_molecule_api",),
        (_Units("R-250", _REACTOR, 3, 250), _Units("R-1000", _REACTOR, 2, 1000)),
        "clinical small-molecule API",
        120_000,
    ),
    "hpapi": _SuiteTemplate(
        "Highly potent API",
        "small_molecule_api",
        "C",
        ("small_molecule_api", "adc"),
        (_Units("R-630", _REACTOR, 3, 630), _Units("R-100", _REACTOR, 2, 100)),
        "highly potent APIs and ADC payloads",
        480_000,
    ),
    "osd": _SuiteTemplate(
        "Tablets and capsules",
        "oral_solid_dose",
        "D",
        ("oral_solid_dose",),
        (
            _Units("TP", _PRESS, 2, throughput_units_per_h=240_000),
            _Units("TPH", _PRESS, 1, throughput_units_per_h=400_000),
        ),
        "oral solid dose",
        90_000,
    ),
}

_SUITE_PREFIX = {
    "upstream": "USP",
    "downstream": "DSP",
    "fill_finish": "FF",
    "small_molecule_api": "API",
    "oral_solid_dose": "OSD",
}

VENDORS: dict[str, tuple[str, ...]] = {
    _SU: ("Aldermoor Bioprocess", "Kelbridge Single-Use", "Veltrane Systems"),
    _SS: ("Helvar Stahlbau", "Nordkamm Process Engineering", "Brightwater Vessels"),
    _CHROM: ("Corrant Separations", "Veltrane Systems"),
    _TFF: ("Corrant Separations", "Mernholt Membranes"),
    _FILL: ("Trevane Fillsysteme", "Marlowe Aseptic", "Ostara Packaging Machines"),
    _LYO: ("Frostwick Lyo Engineering", "Castelmar Freeze-Drying"),
    _REACTOR: ("Pellham Glass-Lined", "Nordkamm Process Engineering", "Arvida Reactors"),
    _PRESS: ("Quorra Press", "Heddon Tableting"),
}


# --- organisations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Site:
    """A plant. ``suites`` are template keys; ``key:status`` marks a suite not yet in use."""

    code: str
    city: str
    country: str
    latitude: float
    longitude: float
    established_year: int
    suites: tuple[str, ...]
    district: str = ""


@dataclass(frozen=True)
class _Company:
    """An organisation; ``short`` starts its users' names, ``brand`` its sites' names."""

    slug: str
    name: str
    short: str
    country: str
    headquarters: str
    description: str
    sites: tuple[_Site, ...] = ()
    brand: str = ""


# The tables below are data, laid out by hand to read as tables.
# fmt: off
CDMOS: tuple[_Company, ...] = (
    _Company(
        "kestrelford-biologics",
        "Kestrelford Biologics",
        "kestrelford",
        "US",
        "Boston, MA",
        "Large-scale monoclonal antibody manufacturing from cell line to filled vial.",
        (
            _Site("bos", "Boston", "US", 42.3601, -71.0589, 1996,
                  ("usp_ss_15000", "usp_su_2000", "dsp_large", "fill_vial")),
            _Site("rdu", "Durham", "US", 35.9940, -78.8986, 2009,
                  ("usp_su_2000", "usp_su_2000", "dsp_mab", "fill_syringe",
                   "usp_ss_15000:construction")),
            _Site("ork", "Cork", "IE", 51.8985, -8.4756, 2005,
                  ("usp_ss_15000", "dsp_large", "fill_vial")),
            _Site("sin", "Singapore", "SG", 1.3521, 103.8198, 2014,
                  ("usp_su_2000", "usp_ss_5000", "dsp_mab")),
            _Site("icn", "Incheon", "KR", 37.4563, 126.7052, 2021,
                  ("usp_su_2000", "dsp_mab", "fill_vial:qualification")),
        ),
        brand="Kestrelford",
    ),
    _Company(
        "saltmarsh-cell-gene",
        "Saltmarsh Cell & Gene",
        "saltmarsh",
        "GB",
        "Stevenage",
        "Viral vectors and cell therapies from process development to commercial supply.",
        (
            _Site("stv", "Stevenage", "GB", 51.9038, -0.1966, 2016,
                  ("vector_aav", "vector_dsp", "fill_cgt")),
            _Site("oxf", "Oxford", "GB", 51.7520, -1.2577, 2012,
                  ("vector_lenti", "vector_dsp", "cell_therapy")),
            _Site("phl", "Philadelphia", "US", 39.9526, -75.1652, 2015,
                  ("cell_therapy", "cell_therapy", "vector_lenti")),
            _Site("gai", "Gaithersburg", "US", 39.1434, -77.2014, 2019,
                  ("vector_aav", "vector_aav:qualification", "vector_dsp")),
            _Site("lei", "Leiden", "NL", 52.1601, 4.4970, 2010,
                  ("vector_aav", "vector_dsp", "fill_cgt")),
        ),
        brand="Saltmarsh",
    ),
    _Company(
        "edelgrat-pharma-services",
        "Edelgrat Pharma Services",
        "edelgrat",
        "CH",
        "Basel",
        "Small-molecule and highly potent APIs, ADC payloads and conjugation.",
        (
            _Site("bsl", "Basel", "CH", 47.5596, 7.5886, 1988,
                  ("api_large", "hpapi", "api_pilot")),
            _Site("vsp", "Visp", "CH", 46.2934, 7.8815, 2002,
                  ("hpapi", "adc_conjugation", "fill_vial")),
            _Site("fra", "Frankfurt am Main", "DE", 50.1109, 8.6821, 1979,
                  ("api_large", "api_large", "api_pilot")),
            _Site("lnz", "Linz", "AT", 48.3069, 14.2858, 1998, ("api_large", "osd")),
            _Site("mil", "Milan", "IT", 45.4642, 9.1900, 2007,
                  ("hpapi", "api_pilot", "adc_conjugation:construction")),
        ),
        brand="Edelgrat",
    ),
    _Company(
        "hoshimori-biologics",
        "Hoshimori Biologics",
        "hoshimori",
        "JP",
        "Kobe",
        "Antibodies, recombinant proteins and microbial products for Asia and the world.",
        (
            _Site("ukb", "Kobe", "JP", 34.6901, 135.1955, 1999,
                  ("usp_ss_5000", "usp_microbial", "dsp_large", "fill_vial")),
            _Site("toy", "Toyama", "JP", 36.6959, 137.2137, 1985, ("api_large", "osd")),
            _Site("osa", "Osaka", "JP", 34.6937, 135.5023, 2018,
                  ("usp_su_2000", "dsp_mab", "fill_syringe")),
            _Site("hsz", "Hsinchu", "TW", 24.8138, 120.9675, 2013, ("usp_su_2000", "dsp_mab")),
            _Site("cjj", "Cheongju", "KR", 36.6424, 127.4890, 2022,
                  ("usp_su_2000", "dsp_mab", "usp_su_2000:construction")),
        ),
        brand="Hoshimori",
    ),
    _Company(
        "lotus-crest-biopharma",
        "Lotus Crest Biopharma",
        "lotuscrest",
        "SG",
        "Singapore",
        "Biologics, biosimilars and APIs at Asian cost with global approvals.",
        (
            _Site("szv", "Suzhou", "CN", 31.2989, 120.5853, 2011,
                  ("usp_su_2000", "usp_ss_15000", "dsp_large")),
            _Site("sha", "Shanghai", "CN", 31.2304, 121.4737, 2008,
                  ("usp_su_500", "dsp_mab", "adc_conjugation", "fill_vial")),
            _Site("hyd", "Hyderabad", "IN", 17.3850, 78.4867, 2003,
                  ("api_large", "api_large", "osd")),
            _Site("blr", "Bengaluru", "IN", 12.9716, 77.5946, 2012,
                  ("usp_su_2000", "dsp_mab", "fill_vial")),
            _Site("tua", "Singapore", "SG", 1.3200, 103.6500, 2019,
                  ("usp_ss_15000", "dsp_large", "usp_ss_15000:qualification"), "Tuas"),
        ),
        brand="Lotus Crest",
    ),
    _Company(
        "wattle-bay-sterile",
        "Wattle Bay Sterile Services",
        "wattlebay",
        "AU",
        "Melbourne",
        "Aseptic fill-finish of vials, syringes and cell and gene therapies.",
        (
            _Site("mel", "Melbourne", "AU", -37.8136, 144.9631, 2001,
                  ("fill_vial", "fill_syringe", "usp_su_500")),
            _Site("bne", "Brisbane", "AU", -27.4698, 153.0251, 2010,
                  ("fill_vial", "fill_highspeed")),
            _Site("syd", "Sydney", "AU", -33.8688, 151.2093, 1994, ("osd", "fill_syringe")),
            _Site("akl", "Auckland", "NZ", -36.8485, 174.7633, 2017, ("fill_vial", "fill_cgt")),
        ),
        brand="Wattle Bay",
    ),
    _Company(
        "quillmoor-oral-solids",
        "Quillmoor Oral Solids",
        "quillmoor",
        "IE",
        "Dublin",
        "Tablets, capsules and the APIs that go into them.",
        (
            _Site("dub", "Dublin", "IE", 53.3498, -6.2603, 1992, ("osd", "osd", "api_pilot")),
            _Site("bcn", "Barcelona", "ES", 41.3874, 2.1686, 1989, ("osd", "api_large")),
            _Site("krk", "Kraków", "PL", 50.0647, 19.9450, 2006, ("osd", "osd")),
            _Site("amd", "Ahmedabad", "IN", 23.0225, 72.5714, 2009,
                  ("api_large", "osd", "osd")),
            _Site("lys", "Lyon", "FR", 45.7640, 4.8357, 1997, ("osd", "fill_vial")),
            _Site("cmn", "Casablanca", "MA", 33.5731, -7.5898, 2014, ("osd", "api_pilot")),
        ),
        brand="Quillmoor",
    ),
    _Company(
        "solano-verde-vaccines",
        "Solano Verde Vaccines",
        "solanoverde",
        "BR",
        "São Paulo",
        "Viral and mRNA vaccines for Latin America and Africa.",
        (
            _Site("gru", "São Paulo", "BR", -23.5505, -46.6333, 1999,
                  ("vaccine_usp", "mrna", "fill_vaccine")),
            _Site("gig", "Rio de Janeiro", "BR", -22.9068, -43.1729, 1986,
                  ("vaccine_usp", "vaccine_usp", "fill_vaccine")),
            _Site("mex", "Mexico City", "MX", 19.4326, -99.1332, 2004,
                  ("vaccine_usp", "fill_vaccine")),
            _Site("cpt", "Cape Town", "ZA", -33.9249, 18.4241, 2020, ("mrna", "fill_vaccine")),
            _Site("eze", "Buenos Aires", "AR", -34.6037, -58.3816, 2011,
                  ("usp_su_2000", "dsp_mab", "fill_vaccine")),
        ),
        brand="Solano Verde",
    ),
    _Company(
        "norrvik-biotherapeutics",
        "Norrvik Biotherapeutics",
        "norrvik",
        "DK",
        "Copenhagen",
        "Microbial and mammalian biologics, from Scandinavia and Canada.",
        (
            _Site("cph", "Copenhagen", "DK", 55.6761, 12.5683, 1991,
                  ("usp_microbial", "dsp_large", "fill_syringe")),
            _Site("kal", "Kalundborg", "DK", 55.6795, 11.0886, 2003,
                  ("usp_ss_15000", "usp_microbial", "dsp_large")),
            _Site("upp", "Uppsala", "SE", 59.8586, 17.6389, 2008,
                  ("usp_su_2000", "dsp_mab", "fill_vial")),
            _Site("yul", "Montreal", "CA", 45.5019, -73.5674, 2013,
                  ("usp_su_2000", "vaccine_usp", "dsp_mab", "fill_vial")),
            _Site("yyz", "Toronto", "CA", 43.6532, -79.3832, 2017,
                  ("cell_therapy", "vector_lenti", "vector_dsp")),
        ),
        brand="Norrvik",
    ),
)

SPONSORS: tuple[_Company, ...] = (
    _Company("ashgrove-therapeutics", "Ashgrove Therapeutics", "ashgrove", "US",
             "Cambridge, MA", "Bispecific antibodies for solid tumours."),
    _Company("corvane-oncology", "Corvane Oncology", "corvane", "US", "San Diego, CA",
             "Antibody-drug conjugates in late-stage development."),
    _Company("bluefin-immunotherapies", "Bluefin Immunotherapies", "bluefin", "GB", "London",
             "Autoimmune biologics, two products on the market."),
    _Company("orrery-gene-medicines", "Orrery Gene Medicines", "orrery", "US",
             "South San Francisco, CA", "AAV gene therapies for rare eye diseases."),
    _Company("pinewick-pharma", "Pinewick Pharma", "pinewick", "DE", "Munich",
             "Generic and specialty small-molecule medicines."),
    _Company("saffrondale-biosciences", "Saffrondale Biosciences", "saffrondale", "IN",
             "Mumbai", "Biosimilars for emerging markets."),
    _Company("tessaly-rare-diseases", "Tessaly Rare Diseases", "tessaly", "FR", "Paris",
             "Enzyme replacement therapies."),
    _Company("hanabira-therapeutics", "Hanabira Therapeutics", "hanabira", "JP", "Tokyo",
             "Recombinant proteins for metabolic disease."),
    _Company("quetzal-vaccine-institute", "Quetzal Vaccine Institute", "quetzal", "MX",
             "Guadalajara", "A non-profit developing vaccines for neglected diseases."),
    _Company("marrowlight-cell-therapies", "Marrowlight Cell Therapies", "marrowlight", "US",
             "Seattle, WA", "Autologous CAR-T therapies."),
    _Company("lindqvist-moor-pharma", "Lindqvist & Moor Pharma", "lindqvist", "SE",
             "Stockholm", "Oral medicines for cardiovascular disease."),
    _Company("aroha-biologics", "Aroha Biologics", "aroha", "NZ", "Wellington",
             "mRNA vaccines and therapeutics."),
)

PLATFORM = _Company(
    "opencdmo-platform",
    "opencdmo Platform Operations",
    "platform",
    "",
    "",
    "Runs this opencdmo installation.",
)

_FIRST_NAMES = (
    "Amara", "Bjorn", "Chiara", "Dev", "Elif", "Farah", "Gustavo", "Hana", "Ines", "Jonas",
    "Kwame", "Lucia", "Mei", "Nikolai", "Oluwaseun", "Priya", "Quentin", "Rosa", "Sven",
    "Tomasz", "Uma", "Valentina", "Wei", "Ximena", "Yusuf", "Zofia", "Aiko", "Bruno",
    "Carmen", "Dmitri", "Esther", "Felix", "Grace", "Hiroshi", "Isla", "Jamal",
)
_LAST_NAMES = (
    "Abara", "Bergqvist", "Castellanos", "Dufresne", "Eriksen", "Fontaine", "Gallagher",
    "Haddad", "Iwasaki", "Janssen", "Kowalczyk", "Lindgren", "Moreau", "Nakamura", "Okafor",
    "Pereira", "Quiroga", "Rahman", "Sorensen", "Tanaka", "Urquhart", "Varga", "Whitfield",
    "Xu", "Yilmaz", "Zanetti", "Achterberg", "Brennan", "Chowdhury", "Delacroix",
)
# fmt: on


# --- building the records --------------------------------------------------------------------


def _role_word(role: str) -> str:
    """'cdmo_planner' -> 'planner', for short usernames such as 'kestrelford.planner'."""
    return role.split("_", 1)[1]


def _users(company: _Company, kind: str) -> tuple[UserRecord, ...]:
    rng = random.Random(f"people/{company.slug}")
    roles = ROLES_BY_KIND[kind]
    firsts = rng.sample(_FIRST_NAMES, len(roles))
    lasts = rng.sample(_LAST_NAMES, len(roles))
    return tuple(
        UserRecord(
            username=f"{company.short}.{_role_word(role)}",
            role=str(role),
            first_name=first,
            last_name=last,
            email=f"{_role_word(role)}@{company.short}.example",
        )
        for role, first, last in zip(roles, firsts, lasts, strict=True)
    )


def _suites(site: _Site, rng: random.Random) -> tuple[SuiteRecord, ...]:
    numbers: dict[str, int] = {}
    suites = []
    for entry in site.suites:
        key, _, status = entry.partition(":")
        template = TEMPLATES[key]
        prefix = _SUITE_PREFIX[template.kind]
        numbers[prefix] = numbers.get(prefix, 0) + 1
        equipment = []
        for units in template.units:
            maker = rng.choice(VENDORS[units.kind])
            equipment += [
                EquipmentRecord(
                    tag=f"{units.prefix}-{n:02d}",
                    kind=str(units.kind),
                    working_volume_l=units.working_volume_l,
                    throughput_units_per_h=units.throughput_units_per_h,
                    manufacturer=maker,
                )
                for n in range(1, units.count + 1)
            ]
        suites.append(
            SuiteRecord(
                name=f"{prefix}-{numbers[prefix]} {template.label}",
                kind=str(template.kind),
                gmp_grade=str(template.gmp_grade),
                status=status or "operational",
                modalities=tuple(sorted(str(m) for m in template.modalities)),
                equipment=tuple(equipment),
            )
        )
    return tuple(suites)


def _scopes(site: _Site) -> list[str]:
    """What the site makes, in the order of its suites, each phrase once."""
    live = [entry for entry in site.suites if ":" not in entry]
    return list(dict.fromkeys(TEMPLATES[entry].scope for entry in live))


def _approvals(site: _Site, rng: random.Random) -> tuple[ApprovalRecord, ...]:
    """Home agency plus export approvals; younger sites hold fewer and only clinical ones."""
    _, region, home = COUNTRIES[site.country]
    year = site.established_year
    maturity = 1.0 if year <= 2012 else 0.6 if year <= 2018 else 0.2
    agencies = [home] if home else []
    for agency, chance in _EXPORT_AGENCIES:
        bonus = 0.4 if agency == "WHO" and "vaccine" in " ".join(site.suites) else 0.0
        if agency not in agencies and rng.random() < chance * maturity + bonus:
            agencies.append(agency)
    if not agencies:
        agencies.append("WHO" if region in _WHO_FIRST else "FDA")
    commercial = site.established_year <= 2018
    scope = "; ".join(_scopes(site))
    records = []
    for agency in agencies:
        phase = "Commercial" if commercial and rng.random() < 0.85 else "Clinical"
        first_year = min(site.established_year + rng.randint(1, 3), HISTORY_ENDS.year - 1)
        last_year = first_year if agency == home else HISTORY_ENDS.year - 1
        year = rng.randint(first_year, last_year)
        granted = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        records.append(ApprovalRecord(str(agency), f"{phase}: {scope}"[:200], granted))
    return tuple(records)


_WHO_FIRST = ("latin_america", "middle_east_africa")

_OUTCOMES = (
    ("no_action", 0.83),
    ("voluntary_action", 0.15),
    ("official_action", 0.02),
)


def _outcome(rng: random.Random, after_official_action: bool) -> tuple[str, int]:
    """An outcome with its number of observations; an OAI is followed by a clean re-inspection."""
    if after_official_action:
        outcome = "no_action"
    else:
        roll, outcome = rng.random(), "no_action"
        for candidate, chance in _OUTCOMES:
            if roll < chance:
                outcome = candidate
                break
            roll -= chance
    observations = {
        "no_action": rng.choice((0, 0, 0, 1, 2)),
        "voluntary_action": rng.randint(2, 7),
        "official_action": rng.randint(5, 12),
    }[outcome]
    return str(outcome), observations


def _inspections(
    approvals: tuple[ApprovalRecord, ...], rng: random.Random
) -> tuple[InspectionRecord, ...]:
    """A pre-approval inspection, then one every two to four years until the history ends."""
    records = []
    for approval in approvals:
        day = approval.granted_on - dt.timedelta(days=rng.randint(30, 150))
        previous = ""
        while day <= HISTORY_ENDS:
            outcome, observations = _outcome(rng, previous == "official_action")
            records.append(InspectionRecord(approval.agency, day, outcome, observations))
            gap = (
                rng.randint(200, 400) if outcome == "official_action" else (rng.randint(700, 1400))
            )
            day, previous = day + dt.timedelta(days=gap), outcome
    return tuple(sorted(records, key=lambda r: (r.inspected_on, r.agency)))


def _private(
    site: _Site, suites: tuple[SuiteRecord, ...], rng: random.Random
) -> PrivateProfileRecord:
    top = max(TEMPLATES[entry.partition(":")[0]].batch_price_usd for entry in site.suites)
    price = round(top * rng.uniform(0.85, 1.25), -4)
    suite = rng.choice([s for s in suites if s.status == "operational"]).name
    quarter, slots = rng.randint(1, 4), rng.randint(2, 9)
    note = rng.choice(
        (
            f"{slots} open batch slots in {suite} from Q{quarter} 2026",
            f"{suite} fully booked until Q{quarter} 2027; waiting list open",
            f"{suite} free for a {slots}-batch campaign in H{1 + quarter % 2} 2026",
        )
    )
    contact = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}, business development"
    notes = rng.choice(
        (
            "Prefers multi-year supply agreements; discount above 10 batches a year.",
            "Capacity review every quarter; tech transfers need 9 to 12 months.",
            "Price excludes raw materials and release testing.",
        )
    )
    return PrivateProfileRecord(int(price), note, contact, notes)


def _site(company: _Company, site: _Site) -> SiteRecord:
    rng = random.Random(f"site/{company.slug}/{site.code}")
    country_name, region, _ = COUNTRIES[site.country]
    suites = _suites(site, rng)
    approvals = _approvals(site, rng)
    what = "; ".join(_scopes(site))
    return SiteRecord(
        code=site.code,
        name=" ".join(part for part in (company.brand, site.city, site.district) if part),
        country=site.country,
        region=str(region),
        city=site.city,
        latitude=site.latitude,
        longitude=site.longitude,
        description=f"{company.name} in {site.city}, {country_name}, since "
        f"{site.established_year}: {what}.",
        established_year=site.established_year,
        suites=suites,
        approvals=approvals,
        inspections=_inspections(approvals, rng),
        private=_private(site, suites, rng),
    )


def _organisation(company: _Company, kind: str) -> OrganisationRecord:
    return OrganisationRecord(
        slug=company.slug,
        name=company.name,
        kind=kind,
        country=company.country,
        headquarters=company.headquarters,
        website=f"https://{company.short}.example" if kind != "platform" else "",
        description=company.description,
        users=_users(company, kind),
        sites=tuple(_site(company, site) for site in company.sites),
    )


@functools.cache
def demo_world() -> tuple[OrganisationRecord, ...]:
    """Every demo organisation with its users and (for CDMOs) its sites, in seeding order."""
    return (
        _organisation(PLATFORM, "platform"),
        *(_organisation(company, "cdmo") for company in CDMOS),
        *(_organisation(company, "sponsor") for company in SPONSORS),
    )
