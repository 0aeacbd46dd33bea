"""Mapping files: how one source's columns become incident fields.

A mapping is a small TOML or YAML file (read with :mod:`tomllib` or
``yaml.safe_load``: the same keys in either), kept next to the code in
``etl/mappings/`` or anywhere else, so a new feed needs no new code.  It is
validated when read, and every error names the key at fault.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from sesizari.errors import ValidationError
from sesizari.vocab import Status

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
#: Mapping file suffixes, in the order a bare name is looked up in MAPPINGS_DIR.
SUFFIXES = (".toml", ".yaml", ".yml")
#: Statuses a feed may set.  'duplicate' needs a link to another incident.
FEED_STATUSES = frozenset(s.value for s in Status) - {Status.DUPLICATE.value}
DEFAULT_RESOLUTION = "Închisă în sistemul sursă"


@dataclass(frozen=True)
class Mapping:
    """One source's layout.  Column names are the source's, as in its header."""

    source: str
    external_id: str
    created: str
    closed: str | None = None
    #: When the source last changed the row (Open311's updated_datetime):
    #: a row older than the version already loaded is left alone.
    updated: str | None = None
    date_format: str = "iso"
    #: The zone of naive times; None: the zone of the city loaded into.
    timezone: str | None = None
    category: str | None = None
    category_map: dict[str, str] = field(default_factory=dict)
    category_fallback: str | None = None
    #: The agency/department column and its map to the city's department
    #: codes.  A mapped value sets the department; an empty or unmapped one
    #: leaves it to the category's routing rules.
    department: str | None = None
    department_map: dict[str, str] = field(default_factory=dict)
    status: str | None = None
    status_map: dict[str, str] = field(default_factory=dict)
    status_default: str = Status.NEW.value
    lon: str | None = None
    lat: str | None = None
    wkt: str | None = None
    crs: int = 4326
    address: str | None = None
    description: tuple[str, ...] = ()
    resolution: str | None = None
    resolution_default: str = DEFAULT_RESOLUTION
    #: The registry number column, for a source that is the city's own
    #: registry: its numbers are kept instead of allocating new ones.
    registry_number: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    #: Cell values that mean "no value" in this source (e.g. "NA" in exports
    #: written by R), besides the empty cell.  Compared after trimming spaces.
    null_values: frozenset[str] = frozenset()
    #: Whether the source's descriptions are published (open data, public
    #: map, Open311).  False for a source whose descriptions may name people
    #: (a registry's notes): staff publish them one by one.  Either way, a
    #: description that looks like it holds contact data is not (migration 0027).
    publish_descriptions: bool = True

    def columns(self) -> frozenset[str]:
        """Every source column the mapping reads (to check against a file's header)."""
        return self._columns

    @cached_property
    def _columns(self) -> frozenset[str]:
        # Computed once: the loader reads it for every row of a source with null_values.
        cols = {self.external_id, self.created}
        for c in (self.closed, self.updated, self.category, self.department, self.status,
                  self.lon, self.lat, self.wkt, self.address, self.resolution,
                  self.registry_number):
            if c:
                cols.add(c)
        cols.update(self.description)
        return frozenset(cols)

    @property
    def file_geometry(self) -> bool:
        """True when points come from the file's own geometry (GeoJSON, GeoPackage...)."""
        return not (self.lon or self.wkt)


#: The keys each table of a mapping may have ("" is the top level).  Any
#: other key is refused: a misspelt one would otherwise be ignored in silence
#: and its column never loaded.
KEYS: dict[str, frozenset[str]] = {
    "": frozenset({"source", "resolution_default", "null_values", "publish_descriptions",
                   "columns", "time", "category", "department", "status", "geometry", "csv"}),
    "columns": frozenset({"external_id", "created", "closed", "updated", "address",
                          "description", "resolution", "registry_number"}),
    "time": frozenset({"format", "timezone"}),
    "category": frozenset({"column", "fallback", "map"}),
    "department": frozenset({"column", "map"}),
    "status": frozenset({"column", "default", "map"}),
    "geometry": frozenset({"lon", "lat", "wkt", "crs"}),
    "csv": frozenset({"delimiter", "encoding"}),
}


def _known_keys(table: dict[str, Any], where: str, known: frozenset[str]) -> None:
    unknown = sorted(str(k) for k in table if k not in known)
    if unknown:
        raise ValidationError(
            f"{where}{unknown[0]}",
            f"is not a mapping key; {where or 'the top level'} takes {sorted(known)}",
        )


def _str(table: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ValidationError(f"{where}{key}", "is required in the mapping")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where}{key}", "must be a non-empty string")
    return value


def read_delimiter(value: str | None, field: str) -> str | None:
    """A CSV delimiter as written in a mapping or on the command line: one
    character, ``tab`` (or ``\\t``), or ``auto``; None means "detect it"."""
    if value is None or value.strip().lower() == "auto":
        return None
    char = {"\\t": "\t", "tab": "\t"}.get(value.strip().lower(), value)
    if len(char) != 1:
        raise ValidationError(
            field, f"{value!r} is not a delimiter: give one character (; , |), 'tab' or 'auto'",
            ro=f"{value!r} nu este un separator: dați un singur caracter (; , |), 'tab' sau"
            " 'auto'",
        )
    return char


def fold(value: str) -> str:
    """How a map compares a source value that is not one of its keys: in
    lower case, runs of white space as one space ("GROAPĂ  mare" -> "groapă
    mare").  The load's SQL folds the values the same way (``sql.FOLDED``)."""
    return " ".join(value.split()).lower()


def folded(values: dict[str, str]) -> dict[str, str]:
    """A map with its keys folded (:func:`fold`)."""
    return {fold(k): v for k, v in values.items()}


def _str_map(table: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        # YAML reads unquoted yes/no/on/off as booleans and 01 as a number: quote them.
        raise ValidationError(
            f"{where}{key}",
            'must be a table of "source value" = "code" (quote both sides in YAML)',
        )
    result = {k.strip(): v.strip() for k, v in value.items()}
    # Keys that differ only in case or spacing must agree: a value written
    # another way would otherwise match one of them at random.
    seen: dict[str, str] = {}
    for k, v in result.items():
        other = seen.setdefault(fold(k), k)
        if other != k and result[other] != v:
            raise ValidationError(
                f"{where}{key}",
                f"{other!r} and {k!r} differ only in case or spaces but map to {result[other]!r}"
                f" and {v!r}; a source value matches both, so give them the same code",
            )
    return result


_QUOTED = re.compile(r'"[^"]*"')
_TWELVE_HOUR = re.compile(r"HH(?!24)", re.IGNORECASE)
#: A meridiem field (AM, PM, A.M., P.M.) in a to_timestamp() pattern.
MERIDIEM_FORMAT = re.compile(r"(^|[^A-Z])(AM|PM|A\.M\.|P\.M\.)", re.IGNORECASE)
_MM = re.compile(r"(?<![A-Z])MM(?![A-Z])", re.IGNORECASE)


def _check_date_format(fmt: str) -> None:
    """Refuse the two to_timestamp() patterns that load wrong times without a
    reject on most rows: MM written for minutes (it is the month), and a
    12-hour hour (HH is HH12) without AM/PM, which reads 12:30 as 00:30 and
    refuses every afternoon."""
    if fmt == "iso":
        return
    bare = _QUOTED.sub("", fmt)  # "T" and other quoted literal text
    if len(_MM.findall(bare)) > 1:
        raise ValidationError(
            "time.format", f"{fmt!r} has MM twice: MM is the month, minutes are MI"
            " (e.g. \"DD.MM.YYYY HH24:MI\")"
        )
    if _TWELVE_HOUR.search(bare) and not MERIDIEM_FORMAT.search(bare):
        raise ValidationError(
            "time.format", f"{fmt!r} reads a 12-hour hour (HH is HH12) without AM/PM: 13:00"
            " would be refused and 12:30 read as 00:30. Use HH24 for hours 0-23, or end the"
            " pattern with AM when the values carry AM/PM"
        )


def parse_mapping(data: dict[str, Any]) -> Mapping:
    """Build and validate a :class:`Mapping` from a parsed TOML or YAML file."""
    if not isinstance(data, dict):
        raise ValidationError("mapping", "must be a table of keys (source, columns, time...)")
    source = _str(data, "source", "", required=True)
    assert source is not None
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,59}", source):
        raise ValidationError("source", "use 1-60 lowercase letters, digits, '_', '.' or '-'")
    cols = data.get("columns", {})
    times = data.get("time", {})
    cat = data.get("category", {})
    department = data.get("department", {})
    status = data.get("status", {})
    geo = data.get("geometry", {})
    csv = data.get("csv", {})
    _known_keys(data, "", KEYS[""])
    for name, table in (("columns", cols), ("time", times), ("category", cat),
                        ("department", department), ("status", status), ("geometry", geo),
                        ("csv", csv)):
        if not isinstance(table, dict):
            raise ValidationError(name, "must be a TOML table, e.g. [" + name + "]")
        _known_keys(table, f"{name}.", KEYS[name])

    _check_date_format(_str(times, "format", "time.") or "iso")
    external_id = _str(cols, "external_id", "columns.", required=True) or ""
    created = _str(cols, "created", "columns.", required=True) or ""
    tz = _str(times, "timezone", "time.")
    try:
        if tz is not None:
            ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("time.timezone", f"unknown time zone {tz!r}") from None

    statuses = _str_map(status, "map", "status.")
    default_status = _str(status, "default", "status.") or Status.NEW.value
    for value in [*statuses.values(), default_status]:
        if value not in FEED_STATUSES:
            raise ValidationError(
                "status.map", f"unknown status {value!r}; use one of {sorted(FEED_STATUSES)}"
            )

    description = data.get("columns", {}).get("description", [])
    if isinstance(description, str):
        description = [description]
    if not isinstance(description, list) or not all(isinstance(c, str) for c in description):
        raise ValidationError("columns.description", "must be a column name or a list of them")

    lon, lat = _str(geo, "lon", "geometry."), _str(geo, "lat", "geometry.")
    if (lon is None) != (lat is None):
        raise ValidationError("geometry", "give both lon and lat columns, or neither")
    crs = geo.get("crs", 4326)
    if isinstance(crs, str):
        m = re.fullmatch(r"(?i)(?:epsg:)?(\d{4,6})", crs.strip())
        crs = int(m[1]) if m else None
    if not isinstance(crs, int) or crs <= 0:
        raise ValidationError("geometry.crs", "give an EPSG code, e.g. 3844 or \"EPSG:3844\"")

    if _str(cat, "column", "category.") is None and _str(cat, "fallback", "category.") is None:
        raise ValidationError("category", "give a category column, a fallback, or both")

    department_column = _str(department, "column", "department.")
    department_map = _str_map(department, "map", "department.")
    if department_map and department_column is None:
        raise ValidationError("department.column", "give the column the map reads")
    for code in department_map.values():
        if not re.fullmatch(r"[a-z0-9_]{2,40}", code):
            raise ValidationError("department.map", f"{code!r} is not a department code")

    delimiter = read_delimiter(_str(csv, "delimiter", "csv."), "csv.delimiter")
    encoding = _str(csv, "encoding", "csv.")

    return Mapping(
        source=source,
        external_id=external_id,
        created=created,
        closed=_str(cols, "closed", "columns."),
        updated=_str(cols, "updated", "columns."),
        date_format=_str(times, "format", "time.") or "iso",
        timezone=tz,
        category=_str(cat, "column", "category."),
        category_map=_str_map(cat, "map", "category."),
        category_fallback=_str(cat, "fallback", "category."),
        department=department_column,
        department_map=department_map,
        status=_str(status, "column", "status."),
        status_map=statuses,
        status_default=default_status,
        lon=lon,
        lat=lat,
        wkt=_str(geo, "wkt", "geometry."),
        crs=crs,
        address=_str(cols, "address", "columns."),
        description=tuple(description),
        resolution=_str(cols, "resolution", "columns."),
        resolution_default=_str(data, "resolution_default", "") or DEFAULT_RESOLUTION,
        registry_number=_str(cols, "registry_number", "columns."),
        delimiter=delimiter,
        encoding=None if encoding == "auto" else encoding,
        null_values=_null_values(data),
        publish_descriptions=_flag(data, "publish_descriptions", True),
    )


def _flag(table: dict[str, Any], key: str, default: bool) -> bool:
    """A true/false key (not "no" as text, nor 0: YAML and TOML both write booleans)."""
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ValidationError(key, "must be true or false (unquoted)")
    return value


def _null_values(data: dict[str, Any]) -> frozenset[str]:
    """The ``null_values`` list: short markers such as "NA", "N/A" or "-"."""
    value = data.get("null_values", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() and len(v) <= 20 for v in value
    ):
        raise ValidationError(
            "null_values",
            'must be a list of short non-empty texts that mean "no value", e.g. ["NA", "N/A"]'
            " (quote them in YAML: an unquoted NULL or ~ is not a text there)",
        )
    return frozenset(v.strip() for v in value)


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Read a mapping by path, or by name from ``etl/mappings`` (``nyc311``)."""
    path = Path(name_or_path)
    if not path.exists():
        candidates = [MAPPINGS_DIR / f"{name_or_path}{suffix}" for suffix in SUFFIXES]
        path = next((c for c in candidates if c.exists()), path)
        if not path.exists():
            names = {p.stem for s in SUFFIXES for p in MAPPINGS_DIR.glob(f"*{s}")}
            known = ", ".join(sorted(names))
            raise ValidationError(
                "mapping", f"no file {str(name_or_path)!r}; give a path or one of: {known}"
            )
    return parse_mapping(_read(path))


def _read(path: Path) -> Any:
    """The parsed file: YAML for .yaml/.yml, TOML otherwise."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # Notepad's "UTF-8 with BOM" too
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError("mapping", f"cannot read {path} ({exc})") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValidationError("mapping", f"{path.name} is not valid YAML ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError("mapping", f"{path.name} is not valid TOML ({exc})") from None
