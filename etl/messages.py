"""The reject messages: what each refused row's message says, and the fix
it names when the loader can tell one.

A message names the column and the value at fault (never a personal field)
and, for the mistakes a whole export makes at once, the change to make:
a date format that reads the value with day and month swapped, lon/lat
the wrong way round, Stereo 70 metres under a lon/lat mapping.  The
database checks behind those hints are in :class:`etl.load.Loader`; this
module only turns their answers into text.
"""

from __future__ import annotations

import re
from typing import Any

from etl import sql
from etl.mapping import MERIDIEM_FORMAT, Mapping, fold, folded
from sesizari.catalog import City

#: The languages a reject message is written in: English (the command line's
#: and the reject CSV's) and Romanian (the Data feeds page's default).
LANGUAGES = ("en", "ro")

#: Reason code -> what the reject message says, per language (filled from the
#: row and mapping).
REASONS: dict[str, dict[str, str]] = {
    "malformed_row": {
        "en": "the row has {found} fields where the header has {width}",
        "ro": "rândul are {found} câmpuri, iar antetul are {width}",
    },
    "bad_encoding": {
        "en": "'{bad_col}' holds byte 0x{bad_byte}, which is not {encoding} text: this row was"
        " written in another encoding; correct it in the source (or, if the whole file"
        " is in another encoding, load it with --encoding, e.g. cp1250)",
        "ro": "'{bad_col}' conține octetul 0x{bad_byte}, care nu este text {encoding}: rândul"
        " a fost scris în altă codificare; corectați-l în sursă (sau, dacă tot fișierul"
        " are altă codificare, încărcați-l cu --encoding, de ex. cp1250)",
    },
    "missing_external_id": {
        "en": "'{id_col}' is empty: every row needs its id in the source",
        "ro": "'{id_col}' este gol: fiecare rând are nevoie de id-ul lui din sursă",
    },
    "external_id_too_long": {
        "en": "'{id_col}' has {length} characters; at most 200",
        "ro": "'{id_col}' are {length} caractere; cel mult 200",
    },
    "duplicate_external_id": {
        "en": "'{id_col}' {ext!r} already appeared earlier in the file",
        "ro": "'{id_col}' {ext!r} a mai apărut mai sus în fișier",
    },
    "missing_date": {
        "en": "'{col}' is empty: the creation date is required",
        "ro": "'{col}' este gol: data creării este obligatorie",
    },
    "bad_date": {
        "en": "'{col}' {value!r} does not match the format {fmt!r}{hint}",
        "ro": "'{col}' {value!r} nu respectă formatul {fmt!r}{hint}",
    },
    "nonexistent_local_time": {
        "en": "'{col}' {value!r} does not exist in {tz} (clocks jump forward at the DST"
        " change); correct it or give the time with its UTC offset",
        "ro": "'{col}' {value!r} nu există în {tz} (ceasul sare înainte la trecerea la ora"
        " de vară); corectați ora sau scrieți-o cu decalajul ei față de UTC",
    },
    "ambiguous_local_time": {
        "en": "'{col}' {value!r} happens twice in {tz} (clocks go back at the DST change);"
        " give the time with its UTC offset",
        "ro": "'{col}' {value!r} apare de două ori în {tz} (ceasul se dă înapoi la trecerea"
        " la ora de iarnă); scrieți ora cu decalajul ei față de UTC",
    },
    "closed_before_created": {
        "en": "'{closed_col}' {closed!r} is before '{col}' {value!r}",
        "ro": "'{closed_col}' {closed!r} este înainte de '{col}' {value!r}",
    },
    "closed_without_date": {
        "en": "{status_said} says the report is {status_to}, but {closing}: a"
        " closing time is never made up (it would be a time to resolve of zero)",
        "ro": "{status_said} spune că sesizarea este {status_to}, dar {closing}:"
        " o dată de închidere nu se inventează (ar fi un timp de rezolvare zero)",
    },
    "date_in_future": {
        "en": "'{col}' {value!r} is more than a day after the load; check the date"
        " (day and month swapped?) and the mapping's format {fmt!r}",
        "ro": "'{col}' {value!r} este la mai mult de o zi după import; verificați data"
        " (ziua și luna inversate?) și formatul {fmt!r} din mapare",
    },
    "missing_coordinates": {
        "en": "no coordinates ({where} empty)",
        "ro": "lipsesc coordonatele ({where}: gol)",
    },
    "bad_coordinates": {
        "en": "coordinates in {where} are not valid numbers/geometry for EPSG:{crs}{stereo70}",
        "ro": "coordonatele din {where} nu sunt numere sau geometrie valide pentru"
        " EPSG:{crs}{stereo70}",
    },
    "outside_boundary": {
        "en": "the point is outside the boundary of {city}{swap}",
        "ro": "punctul este în afara limitei localității {city}{swap}",
    },
    "unknown_category": {
        "en": "'{cat_col}' {category!r} is not in the mapping's category map,"
        " and the mapping has no fallback",
        "ro": "'{cat_col}' {category!r} nu este în lista de categorii a mapării,"
        " iar maparea nu are o categorie de rezervă (fallback)",
    },
    "description_too_long": {
        "en": "the description has {length} characters; at most 5000",
        "ro": "descrierea are {length} caractere; cel mult 5000",
    },
    "address_too_long": {
        "en": "the address has {length} characters; at most 500",
        "ro": "adresa are {length} caractere; cel mult 500",
    },
    "resolution_too_long": {
        "en": "the resolution text has {length} characters; at most 5000",
        "ro": "textul soluției are {length} caractere; cel mult 5000",
    },
    "missing_registry_number": {
        "en": "'{reg_col}' is empty: this source is the city's registry,"
        " every row needs its registry number",
        "ro": "'{reg_col}' este gol: această sursă este registrul localității,"
        " fiecare rând are nevoie de numărul lui de înregistrare",
    },
    "bad_registry_number": {
        "en": "'{reg_col}' {regno!r} is not a registry number of {city}"
        " ({prefix}-YYYY- and 6 to 9 digits)",
        "ro": "'{reg_col}' {regno!r} nu este un număr de înregistrare al localității {city}"
        " ({prefix}-AAAA- și 6 până la 9 cifre)",
    },
    "duplicate_registry_number": {
        "en": "'{reg_col}' {regno!r} already appeared earlier in the file",
        "ro": "'{reg_col}' {regno!r} a mai apărut mai sus în fișier",
    },
    "registry_number_taken": {
        "en": "'{reg_col}' {regno!r} already belongs to another incident of {city}",
        "ro": "'{reg_col}' {regno!r} aparține deja altei sesizări din {city}",
    },
    "registry_number_changed": {
        "en": "'{reg_col}' {regno!r} is not the number this incident was registered with;"
        " a registry number never changes",
        "ro": "'{reg_col}' {regno!r} nu este numărul cu care a fost înregistrată sesizarea;"
        " un număr de înregistrare nu se schimbă niciodată",
    },
}

#: The pieces a message adds after its reason's text: the fix, when the
#: loader can tell one (:func:`date_hint`, :func:`stereo70_hint`, the swapped
#: coordinates of :func:`message`), per language.
PIECES: dict[str, dict[str, str]] = {
    "iso": {
        "en": "; 'iso' is YYYY-MM-DD, optionally followed by THH:MM[:SS] and a UTC offset:"
        " for dates written another way, set the mapping's [time] format to their pattern,"
        " e.g. \"DD.MM.YYYY HH24:MI\"",
        "ro": "; 'iso' înseamnă AAAA-LL-ZZ, urmat opțional de THH:MM[:SS] și un decalaj față"
        " de UTC: pentru date scrise altfel, puneți în [time] din mapare formatul lor,"
        " de exemplu \"DD.MM.YYYY HH24:MI\"",
    },
    "meridiem": {
        "en": "; the value has no AM/PM, so its hour is ambiguous",
        "ro": "; valoarea nu are AM/PM, deci ora ei este ambiguă",
    },
    "reads_with": {
        "en": "; it reads as a date with day and month swapped, {fmt!r}: if that is the"
        " file's format, fix the mapping's [time] format and load the file again (its rows"
        " with a day up to 12 were read with day and month swapped)",
        "ro": "; se citește ca dată cu ziua și luna inversate, {fmt!r}: dacă acesta este"
        " formatul fișierului, corectați formatul din [time] al mapării și importați din nou"
        " fișierul (rândurile lui cu ziua până la 12 au fost citite cu ziua și luna inversate)",
    },
    "crs_fix": {
        "en": "set crs = \"EPSG:3844\" in the mapping's [geometry]",
        "ro": "puneți crs = \"EPSG:3844\" în [geometry] din mapare",
    },
    "stereo70_columns": {
        "en": "; read as Stereo 70 metres they fall inside the city: {fix}",
        "ro": "; citite ca metri Stereo 70, cad în interiorul localității: {fix}",
    },
    "stereo70_columns_swapped": {
        "en": "; read as Stereo 70 metres, swapped, they fall inside the city: {fix} and"
        " swap '{lon}' and '{lat}'",
        "ro": "; citite ca metri Stereo 70, inversate, cad în interiorul localității: {fix}"
        " și inversați '{lon}' cu '{lat}'",
    },
    "stereo70_geometry": {
        "en": "; read as Stereo 70 metres it falls inside the city{why}: {fix}",
        "ro": "; citită ca metri Stereo 70, cade în interiorul localității{why}: {fix}",
    },
    "stereo70_geometry_swapped": {
        "en": "; read as Stereo 70 metres with x and y swapped it falls inside the city{why}:"
        " {fix}",
        "ro": "; citită ca metri Stereo 70, cu x și y inversate, cade în interiorul"
        " localității{why}: {fix}",
    },
    "no_crs": {
        "en": " (the file names no CRS: a Shapefile without its .prj?)",
        "ro": " (fișierul nu numește niciun CRS: un Shapefile fără fișierul .prj?)",
    },
    "swapped_columns": {
        "en": "; with the two values swapped it falls inside: are '{lon}' and '{lat}' the"
        " wrong way round in the mapping?",
        "ro": "; cu cele două valori inversate cade în interior: sunt '{lon}' și '{lat}'"
        " inversate în mapare?",
    },
    "swapped_geometry": {
        "en": "; with x and y swapped it falls inside: the source writes its coordinates in"
        " the other order (latitude or northing first)",
        "ro": "; cu x și y inversate cade în interior: sursa își scrie coordonatele în"
        " ordinea cealaltă (întâi latitudinea sau nordul)",
    },
    "closing_empty": {
        "en": "'{closed_col}' is empty; give the date it was closed",
        "ro": "'{closed_col}' este gol; completați data la care a fost închisă",
    },
    "closing_unmapped": {
        "en": "the mapping names no closing-date column; add closed = \"COLUMN\" to its"
        " [columns]",
        "ro": "maparea nu numește o coloană cu data închiderii; adăugați closed = \"COLOANĂ\""
        " în [columns]",
    },
    "status_default": {
        "en": "the mapping's [status] default, {default!r},",
        "ro": "valoarea implicită din [status] a mapării, {default!r},",
    },
    "status_resolved": {"en": "resolved", "ro": "rezolvată"},
    "status_closed": {"en": "closed", "ro": "închisă"},
    "feature_geometry": {
        "en": "the feature geometry",
        "ro": "geometria obiectului",
    },
}


def field_count(found: int, width: int) -> str:
    """A row's reader-level defect (``Batch.problems``): ``found`` fields where
    the header has ``width``, kept as 'found/width' so that :func:`message`
    can say it in either language."""
    return f"{found}/{width}"


#: How :func:`bad_bytes` marks a row's defect (etl/sql.py reads the prefix).
BAD_BYTES_PREFIX = "encoding:"


def bad_bytes(encoding: str, byte: int, column: str) -> str:
    """A row's reader-level defect: ``column`` holds ``byte``, which the
    file's ``encoding`` cannot read.  Kept as data, like :func:`field_count`,
    for :func:`message` to say in either language."""
    return f"{BAD_BYTES_PREFIX}{encoding}:{byte:02X}:{column}"


ISO_DATE = re.compile(sql.ISO_DATE_RE)
_MERIDIEM = re.compile(r"[AP]\.?M\.?", re.IGNORECASE)


def date_hint(fmt: str, value: str, reads_with: str | None = None, lang: str = "en") -> str:
    """What a bad date's message adds when the value is a date, only not in
    the form the mapping states (migration 0024), or reads in ``reads_with``,
    the mapping's format with day and month swapped."""
    if fmt == "iso" and not ISO_DATE.match(value):
        return PIECES["iso"][lang]
    if MERIDIEM_FORMAT.search(fmt) and not _MERIDIEM.search(value):
        return PIECES["meridiem"][lang]
    if reads_with:
        return PIECES["reads_with"][lang].format(fmt=reads_with)
    return ""


_DAY_OR_MONTH = re.compile(r"(?<![A-Z])(DD|MM)(?![A-Z])", re.IGNORECASE)


def day_month_swapped(fmt: str) -> str | None:
    """``fmt`` with its day (DD) and month (MM) swapped, or None when it has
    not both once: 'MM/DD/YYYY' -> 'DD/MM/YYYY'."""
    found = [m.group(1).upper() for m in _DAY_OR_MONTH.finditer(fmt)]
    if fmt == "iso" or sorted(found) != ["DD", "MM"]:
        return None
    return _DAY_OR_MONTH.sub(lambda m: "MM" if m.group(1).upper() == "DD" else "DD", fmt)


def stereo70_hint(mapping: Mapping, as_is: bool | None, lang: str = "en") -> str:
    """What a bad-coordinates message adds when the values are Stereo 70
    metres inside the city (``as_is``: in the order given; False: swapped)."""
    if as_is is None:
        return ""
    fix = PIECES["crs_fix"][lang]
    if mapping.lon:
        key = "stereo70_columns" if as_is else "stereo70_columns_swapped"
        return PIECES[key][lang].format(fix=fix, lon=mapping.lon, lat=mapping.lat)
    why = "" if mapping.wkt else PIECES["no_crs"][lang]
    key = "stereo70_geometry" if as_is else "stereo70_geometry_swapped"
    return PIECES[key][lang].format(fix=fix, why=why)


def _swap_hint(mapping: Mapping, swapped: bool, lang: str) -> str:
    """What an outside-boundary message adds when the point falls inside with
    its two coordinates swapped."""
    if not swapped:
        return ""
    if mapping.lon:
        return PIECES["swapped_columns"][lang].format(lon=mapping.lon, lat=mapping.lat)
    return PIECES["swapped_geometry"][lang]


def _status_said(row: dict[str, str | None], mapping: Mapping, lang: str) -> str:
    """Who says a report's status: its status column's value when the map
    has it, else the mapping's default (an empty or unmapped value)."""
    value = (row.get(mapping.status or "") or "").strip()
    if value and (value in mapping.status_map or fold(value) in folded(mapping.status_map)):
        return f"'{mapping.status}' {value[:100]!r}"
    return PIECES["status_default"][lang].format(default=mapping.status_default)


def message(reason: str, row: dict[str, str | None], mapping: Mapping, city: City,
            crs: int, detail: dict[str, Any], formats: dict[str | None, str],
            lang: str = "en") -> str:
    """A reject message naming the column and value at fault (no personal
    fields), in ``lang`` (:data:`LANGUAGES`).

    ``formats``: the date format read in each date column.
    """
    col = {"closed": mapping.closed, "updated": mapping.updated}.get(
        detail.get("field") or "", mapping.created)
    fmt = formats.get(col, mapping.date_format)
    if mapping.lon:
        where = f"'{mapping.lon}'/'{mapping.lat}'"
    elif mapping.wkt:
        where = f"'{mapping.wkt}'"
    else:
        where = PIECES["feature_geometry"][lang]
    problem = detail.get("problem") or ""
    if problem.startswith(BAD_BYTES_PREFIX):
        encoding, bad_byte, bad_col = problem[len(BAD_BYTES_PREFIX):].split(":", 2)
        found = width = ""
    else:
        encoding = bad_byte = bad_col = ""
        found, _, width = problem.partition("/")
    values = {
        "found": found,
        "encoding": encoding,
        "bad_byte": bad_byte,
        "bad_col": bad_col,
        "width": width,
        "id_col": mapping.external_id,
        "ext": (row.get(mapping.external_id) or "")[:100],
        "col": col,
        "value": (row.get(col or "") or "")[:100],
        "closed_col": mapping.closed,
        "status_said": _status_said(row, mapping, lang),
        "status_to": PIECES[f"status_{detail.get('status')}"][lang]
        if detail.get("status") in ("resolved", "closed") else "",
        "closing": PIECES["closing_empty" if mapping.closed else "closing_unmapped"][lang]
        .format(closed_col=mapping.closed),
        "closed": (row.get(mapping.closed or "") or "")[:100],
        "fmt": fmt,
        "tz": mapping.timezone or city.timezone,
        "where": where,
        "crs": crs,
        "city": city.name_ro,
        "cat_col": mapping.category,
        "category": (row.get(mapping.category or "") or "")[:100],
        "length": detail.get("length"),
        "reg_col": mapping.registry_number,
        "regno": (row.get(mapping.registry_number or "") or "")[:100],
        "prefix": city.registry_prefix,
        "hint": date_hint(fmt, row.get(col or "") or "", detail.get("reads_with"), lang)
        if reason == "bad_date" else "",
        "stereo70": stereo70_hint(mapping, detail.get("stereo70"), lang),
        "swap": _swap_hint(mapping, bool(detail.get("swapped")), lang),
    }
    return REASONS[reason][lang].format(**values)[:1000]
