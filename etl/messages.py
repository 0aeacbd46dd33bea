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
from etl.mapping import MERIDIEM_FORMAT, Mapping
from sesizari.catalog import City

#: Reason code -> what the reject message says (filled from the row and mapping).
REASONS: dict[str, str] = {
    "malformed_row": "the row has {problem}",
    "missing_external_id": "'{id_col}' is empty: every row needs its id in the source",
    "external_id_too_long": "'{id_col}' has {length} characters; at most 200",
    "duplicate_external_id": "'{id_col}' {ext!r} already appeared earlier in the file",
    "missing_date": "'{col}' is empty: the creation date is required",
    "bad_date": "'{col}' {value!r} does not match the format {fmt!r}{hint}",
    "nonexistent_local_time": "'{col}' {value!r} does not exist in {tz} (clocks jump forward"
    " at the DST change); correct it or give the time with its UTC offset",
    "ambiguous_local_time": "'{col}' {value!r} happens twice in {tz} (clocks go back at the DST"
    " change); give the time with its UTC offset",
    "closed_before_created": "'{closed_col}' {closed!r} is before '{col}' {value!r}",
    "date_in_future": "'{col}' {value!r} is more than a day after the load; check the date"
    " (day and month swapped?) and the mapping's format {fmt!r}",
    "missing_coordinates": "no coordinates ({where} empty)",
    "bad_coordinates": "coordinates in {where} are not valid numbers/geometry for"
    " EPSG:{crs}{stereo70}",
    "outside_boundary": "the point is outside the boundary of {city}{swap}",
    "unknown_category": "'{cat_col}' {category!r} is not in the mapping's category map,"
    " and the mapping has no fallback",
    "description_too_long": "the description has {length} characters; at most 5000",
    "address_too_long": "the address has {length} characters; at most 500",
    "resolution_too_long": "the resolution text has {length} characters; at most 5000",
    "missing_registry_number": "'{reg_col}' is empty: this source is the city's registry,"
    " every row needs its registry number",
    "bad_registry_number": "'{reg_col}' {regno!r} is not a registry number of {city}"
    " ({prefix}-YYYY- and 6 to 9 digits)",
    "duplicate_registry_number": "'{reg_col}' {regno!r} already appeared earlier in the file",
    "registry_number_taken": "'{reg_col}' {regno!r} already belongs to another incident"
    " of {city}",
    "registry_number_changed": "'{reg_col}' {regno!r} is not the number this incident was"
    " registered with; a registry number never changes",
}


ISO_DATE = re.compile(sql.ISO_DATE_RE)
_MERIDIEM = re.compile(r"[AP]\.?M\.?", re.IGNORECASE)


def date_hint(fmt: str, value: str, reads_with: str | None = None) -> str:
    """What a bad date's message adds when the value is a date, only not in
    the form the mapping states (migration 0024), or reads in ``reads_with``,
    the mapping's format with day and month swapped."""
    if fmt == "iso" and not ISO_DATE.match(value):
        return ("; 'iso' is YYYY-MM-DD, optionally followed by THH:MM[:SS] and a UTC offset:"
                " for dates written another way, set the mapping's [time] format to"
                " their pattern, e.g. \"DD.MM.YYYY HH24:MI\"")
    if MERIDIEM_FORMAT.search(fmt) and not _MERIDIEM.search(value):
        return "; the value has no AM/PM, so its hour is ambiguous"
    if reads_with:
        return (f"; it reads as a date with day and month swapped, {reads_with!r}: if that is"
                " the file's format, fix the mapping's [time] format and load the file again"
                " (its rows with a day up to 12 were read with day and month swapped)")
    return ""


_DAY_OR_MONTH = re.compile(r"(?<![A-Z])(DD|MM)(?![A-Z])", re.IGNORECASE)


def day_month_swapped(fmt: str) -> str | None:
    """``fmt`` with its day (DD) and month (MM) swapped, or None when it has
    not both once: 'MM/DD/YYYY' -> 'DD/MM/YYYY'."""
    found = [m.group(1).upper() for m in _DAY_OR_MONTH.finditer(fmt)]
    if fmt == "iso" or sorted(found) != ["DD", "MM"]:
        return None
    return _DAY_OR_MONTH.sub(lambda m: "MM" if m.group(1).upper() == "DD" else "DD", fmt)


def stereo70_hint(mapping: Mapping, as_is: bool | None) -> str:
    """What a bad-coordinates message adds when the values are Stereo 70
    metres inside the city (``as_is``: in the order given; False: swapped)."""
    if as_is is None:
        return ""
    fix = "set crs = \"EPSG:3844\" in the mapping's [geometry]"
    if mapping.lon:
        if as_is:
            return f"; read as Stereo 70 metres they fall inside the city: {fix}"
        return (f"; read as Stereo 70 metres, swapped, they fall inside the city: {fix} and"
                f" swap '{mapping.lon}' and '{mapping.lat}'")
    why = "" if mapping.wkt else " (the file names no CRS: a Shapefile without its .prj?)"
    order = "" if as_is else " with x and y swapped"
    return f"; read as Stereo 70 metres{order} it falls inside the city{why}: {fix}"


def message(reason: str, row: dict[str, str | None], mapping: Mapping, city: City,
             crs: int, detail: dict[str, Any], formats: dict[str | None, str]) -> str:
    """A reject message naming the column and value at fault (no personal fields).

    ``formats``: the date format read in each date column.
    """
    col = mapping.closed if detail.get("field") == "closed" else mapping.created
    fmt = formats.get(col, mapping.date_format)
    if mapping.lon:
        where = f"'{mapping.lon}'/'{mapping.lat}'"
    elif mapping.wkt:
        where = f"'{mapping.wkt}'"
    else:
        where = "the feature geometry"
    values = {
        "problem": detail.get("problem") or "",
        "id_col": mapping.external_id,
        "ext": (row.get(mapping.external_id) or "")[:100],
        "col": col,
        "value": (row.get(col or "") or "")[:100],
        "closed_col": mapping.closed,
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
        "hint": date_hint(fmt, row.get(col or "") or "", detail.get("reads_with"))
        if reason == "bad_date" else "",
        "stereo70": stereo70_hint(mapping, detail.get("stereo70")),
        "swap": "" if not detail.get("swapped") else (
            f"; with the two values swapped it falls inside: are '{mapping.lon}' and"
            f" '{mapping.lat}' the wrong way round in the mapping?" if mapping.lon else
            "; with x and y swapped it falls inside: the source writes its coordinates"
            " in the other order (latitude or northing first)"),
    }
    return REASONS[reason].format(**values)[:1000]
