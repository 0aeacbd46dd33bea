"""Reference data of the demo cities: departments, categories, people, places.

Centres are the real town centres; boundaries are the real administrative
units (``data/cities``).  Districts and hotspots are approximations drawn for
the demo, not official subdivisions (see ``data/cities/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name_ro: str
    name_en: str
    ack_median_h: float  # median hours to acknowledge
    fix_median_h: float  # median hours to resolve (log-normal)
    fix_sigma: float


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name_ro: str
    name_en: str
    department: str
    target_hours: float
    weight: float
    #: relative monthly intensity, January..December
    season: tuple[float, ...]
    sensitive: bool = False


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec("roads", "Drumuri și poduri", "Roads and bridges", 10, 110, 1.0),
    DepartmentSpec("sanitation", "Salubritate", "Sanitation", 4, 26, 0.8),
    DepartmentSpec("water", "Apă-Canal", "Water and sewerage", 1.5, 14, 0.9),
    DepartmentSpec("lighting", "Iluminat public", "Public lighting", 12, 70, 0.9),
    DepartmentSpec("police", "Poliția Locală", "Local police", 0.4, 5, 1.1),
    DepartmentSpec("green", "Spații verzi", "Green spaces", 16, 120, 0.9),
    DepartmentSpec("traffic", "Circulație și semnalizare", "Traffic and signage", 8, 48, 0.9),
    DepartmentSpec(
        "urbanism", "Urbanism și disciplină în construcții", "Urban planning", 48, 400, 0.8
    ),
)

_FLAT = (1.0,) * 12
CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "pothole",
        "Groapă în carosabil",
        "Pothole",
        "roads",
        168,
        0.18,
        (1.4, 1.8, 1.9, 1.6, 1.1, 0.8, 0.7, 0.7, 0.8, 0.9, 1.0, 1.2),
    ),
    CategorySpec("sidewalk", "Trotuar deteriorat", "Damaged sidewalk", "roads", 336, 0.06, _FLAT),
    CategorySpec(
        "public_order",
        "Tulburarea ordinii publice",
        "Public-order disturbance",
        "police",
        4,
        0.08,
        (0.7, 0.7, 0.8, 0.9, 1.1, 1.3, 1.5, 1.5, 1.1, 0.9, 0.8, 0.9),
        sensitive=True,
    ),
    CategorySpec(
        "water_fault",
        "Avarie la rețeaua de apă",
        "Water-network fault",
        "water",
        24,
        0.09,
        (1.6, 1.4, 1.1, 0.9, 0.8, 0.8, 0.9, 0.9, 0.8, 0.9, 1.1, 1.5),
    ),
    CategorySpec(
        "sewer",
        "Canalizare înfundată",
        "Blocked sewer",
        "water",
        48,
        0.05,
        (0.8, 0.8, 1.0, 1.2, 1.3, 1.3, 1.1, 1.0, 1.0, 1.0, 0.9, 0.8),
    ),
    CategorySpec(
        "garbage",
        "Gunoi neridicat",
        "Uncollected garbage",
        "sanitation",
        48,
        0.14,
        (1.1, 0.8, 0.8, 0.9, 1.0, 1.2, 1.3, 1.3, 1.0, 0.9, 0.8, 1.3),
    ),
    CategorySpec(
        "illegal_dump",
        "Depozitare ilegală de deșeuri",
        "Illegal dump",
        "sanitation",
        120,
        0.08,
        (0.7, 0.7, 1.0, 1.3, 1.3, 1.2, 1.1, 1.1, 1.1, 1.0, 0.8, 0.7),
    ),
    CategorySpec(
        "abandoned_car", "Autoturism abandonat", "Abandoned car", "police", 720, 0.05, _FLAT
    ),
    CategorySpec(
        "street_light",
        "Iluminat public defect",
        "Broken street light",
        "lighting",
        120,
        0.12,
        (1.5, 1.3, 1.1, 0.8, 0.6, 0.5, 0.5, 0.6, 0.9, 1.2, 1.5, 1.6),
    ),
    CategorySpec(
        "fallen_tree",
        "Copac căzut sau periculos",
        "Fallen or dangerous tree",
        "green",
        72,
        0.04,
        (0.6, 0.6, 0.8, 1.0, 1.3, 1.6, 1.7, 1.5, 1.0, 0.9, 0.8, 0.6),
    ),
    CategorySpec(
        "traffic_sign",
        "Semafor sau indicator defect",
        "Broken traffic light or sign",
        "traffic",
        48,
        0.05,
        _FLAT,
    ),
    CategorySpec(
        "illegal_construction",
        "Construcție fără autorizație",
        "Illegal construction",
        "urbanism",
        720,
        0.02,
        (0.5, 0.6, 0.9, 1.2, 1.4, 1.4, 1.3, 1.3, 1.2, 1.0, 0.7, 0.5),
    ),
)


@dataclass(frozen=True)
class CitySpec:
    slug: str
    name_ro: str
    name_en: str
    prefix: str
    uat_name: str  # feature name in data/cities/lugoj_alba_iulia.geojson
    center: tuple[float, float]  # (lon, lat) of the town centre
    share: float  # share of the demo incidents
    streets: tuple[str, ...]


CITIES: tuple[CitySpec, ...] = (
    CitySpec(
        "lugoj",
        "Lugoj",
        "Lugoj",
        "LUG",
        "Lugoj",
        (21.9035, 45.6887),
        0.42,
        (
            "Str. Timișorii",
            "Bd. Republicii",
            "Str. Făgetului",
            "Str. Buziașului",
            "Str. Caransebeșului",
            "Piața Victoriei",
            "Str. Bocșei",
            "Str. Ion Vidu",
            "Str. Banatului",
            "Str. Andrei Mureșanu",
            "Str. 20 Decembrie 1989",
            "Str. Mihai Viteazul",
        ),
    ),
    CitySpec(
        "alba-iulia",
        "Alba Iulia",
        "Alba Iulia",
        "ALB",
        "Alba Iulia",
        (23.5800, 46.0700),
        0.58,
        (
            "Bd. Transilvaniei",
            "Bd. Revoluției 1989",
            "Bd. Ferdinand I",
            "Calea Moților",
            "Str. Octavian Goga",
            "Bd. Încoronării",
            "Str. Vasile Goldiș",
            "Str. Mihai Viteazul",
            "Str. Tudor Vladimirescu",
            "Str. Cloșca",
            "Str. Gladiolelor",
            "Str. Arnsberg",
        ),
    ),
)

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "pothole": (
        "Groapă mare în carosabil, periculoasă pentru mașini.",
        "Asfaltul s-a rupt lângă trecerea de pietoni.",
        "Gropi multiple după ultimele ploi.",
    ),
    "sidewalk": ("Dale de trotuar desprinse.", "Trotuar surpat lângă stația de autobuz."),
    "public_order": ("Scandal și zgomot noaptea în parcare.", "Grup care consumă alcool în parc."),
    "water_fault": (
        "Apă care țâșnește din carosabil.",
        "Fără apă de azi-dimineață pe toată strada.",
        "Capac de hidrant spart, curge apă.",
    ),
    "sewer": ("Canalizare înfundată, miros neplăcut.", "Gura de scurgere este blocată."),
    "garbage": (
        "Containerele nu au fost golite de o săptămână.",
        "Gunoiul menajer nu a fost ridicat.",
    ),
    "illegal_dump": ("Moloz aruncat la marginea drumului.", "Deșeuri depozitate ilegal lângă râu."),
    "abandoned_car": (
        "Autoturism fără numere, abandonat de luni de zile.",
        "Mașină părăsită care ocupă locul de parcare.",
    ),
    "street_light": ("Stâlpul de iluminat nu funcționează.", "Strada este complet în întuneric."),
    "fallen_tree": ("Copac căzut peste trotuar după furtună.", "Ramură uscată care stă să cadă."),
    "traffic_sign": ("Semaforul nu funcționează la intersecție.", "Indicator de stop căzut."),
    "illegal_construction": (
        "Se construiește fără autorizație afișată.",
        "Anexă ridicată pe domeniul public.",
    ),
}

RESOLUTIONS: dict[str, str] = {
    "pothole": "Groapa a fost plombată cu mixtură asfaltică.",
    "sidewalk": "Dalele au fost refăcute.",
    "public_order": "Echipaj trimis la fața locului; persoanele au fost sancționate.",
    "water_fault": "Conducta a fost reparată și alimentarea reluată.",
    "sewer": "Canalizarea a fost desfundată cu utilajul specializat.",
    "garbage": "Deșeurile au fost ridicate.",
    "illegal_dump": "Deșeurile au fost ridicate și zona igienizată.",
    "abandoned_car": "Vehiculul a fost ridicat conform procedurii.",
    "street_light": "Corpul de iluminat a fost înlocuit.",
    "fallen_tree": "Copacul a fost toaletat și resturile îndepărtate.",
    "traffic_sign": "Semnalizarea a fost repusă în funcțiune.",
    "illegal_construction": "Control efectuat; s-a aplicat amendă și s-a dispus intrarea în legalitate.",
}

FIRST_NAMES = (
    "Andrei",
    "Maria",
    "Ioana",
    "Mihai",
    "Elena",
    "Alexandru",
    "Ana",
    "Gabriel",
    "Cristina",
    "Florin",
    "Raluca",
    "Vlad",
    "Daniela",
    "Sorin",
    "Irina",
    "Bogdan",
)
LAST_NAMES = (
    "Popescu",
    "Ionescu",
    "Popa",
    "Stan",
    "Dumitru",
    "Stoica",
    "Munteanu",
    "Matei",
    "Constantin",
    "Marin",
    "Lungu",
    "Ardelean",
    "Moldovan",
    "Crișan",
    "Rusu",
    "Oprea",
)
CHANNELS = (("web", 0.42), ("app", 0.28), ("phone", 0.15), ("email", 0.09), ("counter", 0.06))
