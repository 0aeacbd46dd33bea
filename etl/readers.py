"""Readers: a source file as a stream of batches of raw rows.

Only one batch is in memory at a time, so a file of any size loads with flat
memory.  Values stay text, as in the file: parsing and checking happen in
PostGIS, set-wise, where a bad value becomes a reject instead of an exception.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from etl.download import is_web_page
from etl.messages import bad_bytes, field_count
from sesizari.errors import ValidationError

#: Spreadsheets (the usual form of a city registry's export), streamed by
#: etl.spreadsheets.
SPREADSHEET_SUFFIXES = {".xlsx", ".ods"}
#: Files read by GDAL (via pyogrio) rather than by the csv module.
OGR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb", ".gml", ".kml"}
#: GDAL field types whose values arrive as ISO 8601 text (see Source.typed_dates).
_OGR_DATE_TYPES = {"OFTDate", "OFTDateTime"}
SNIFF_BYTES = 256 * 1024
#: The longest CSV field read (characters).  The csv module's default,
#: 131,072, failed a whole load on one long cell (a pasted e-mail thread);
#: under this bound such a row is rejected as too long and the load goes on.
#: Past it, the cause is almost surely a quote never closed, and the load
#: stops there with that advice.
CSV_FIELD_LIMIT = 16 * 1024 * 1024


@dataclass
class Batch:
    """Up to ``batch_size`` rows of the source, in order.

    ``rows[i]`` is source row ``first_row + i`` (1 = first data row after the
    header), as a column -> text dict, unless ``numbers`` gives the rows' own
    numbers (increasing, with gaps: a spreadsheet's blank rows keep their
    place, so that a reject's row number is found in the sheet).
    ``geometries`` holds the WKB of file geometries (GeoJSON, GeoPackage...),
    else None.  ``problems[i]`` is a reader-level defect of that row (wrong
    number of fields: :func:`etl.messages.field_count`; bytes not in the
    file's encoding: :func:`etl.messages.bad_bytes`), else None.
    """

    first_row: int
    rows: list[dict[str, str | None]]
    geometries: list[bytes | None] | None
    problems: list[str | None]
    position: int  # bytes (CSV, spreadsheet XML) or rows (GDAL) consumed so far, for progress
    numbers: list[int] | None = None

    def number(self, i: int) -> int:
        """The source row number of ``rows[i]``."""
        return self.numbers[i] if self.numbers is not None else self.first_row + i

    def index(self, number: int) -> int:
        """The position in ``rows`` of source row ``number``."""
        if self.numbers is None:
            return number - self.first_row
        i = bisect.bisect_left(self.numbers, number)
        if i == len(self.numbers) or self.numbers[i] != number:
            raise KeyError(number)
        return i


class Source:
    """An opened source file: its columns, CRS and batches.

    ``strict_columns``: every column the mapping names must be in the header
    (CSV: a missing one means a wrong mapping or delimiter).  GIS files
    list only the properties some feature has (GeoJSON) or those of their
    export (one generic mapping serves several layouts), so there an absent
    optional column reads as empty, and the load names it
    (:attr:`etl.load.RunResult.absent_columns`): a misspelt name looks the same.
    """

    strict_columns = True
    columns: list[str]
    crs: int | None
    size: int
    unit: str
    #: Columns where the file itself may type values as dates (a GeoPackage
    #: date field, any column of a spreadsheet, whose cells are typed one by
    #: one): such values arrive as ISO 8601 text, and in these columns a value
    #: in ISO 8601 form is read as such whatever pattern the mapping gives for
    #: text dates (other values still follow the pattern).
    typed_dates: frozenset[str] = frozenset()
    #: The layer or sheet read, and all those of the file (GIS files and
    #: spreadsheets; empty for CSV).
    layer: str | None = None
    layers: tuple[str, ...] = ()
    #: The row number means nothing to whoever fixes the source (a feed's
    #: position in what it answered): reject messages then start with the
    #: row's id, by which the source finds it.
    rows_by_id: bool = False
    #: Known to hold no rows at all (a GIS layer without features): then no
    #: column can be missing, and the load reads 0 rows instead of failing,
    #: as for a CSV with a header only.  A scheduled feed's quiet day is
    #: an empty FeatureCollection, which has no properties to list.
    no_rows: bool = False

    def batches(self, batch_size: int) -> Iterator[Batch]:  # pragma: no cover - interface
        raise NotImplementedError


def _cell(value: str) -> str | None:
    """A CSV value: empty is NULL; NUL characters (which PostgreSQL text cannot
    hold and which would fail the whole batch) are dropped."""
    if value == "":
        return None
    return value.replace("\x00", "") if "\x00" in value else value


#: The characters Python's ``surrogateescape`` decoding puts in place of
#: bytes that are not valid in the encoding read (U+DC80..U+DCFF): valid
#: text never holds them.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _undecodable(record: list[str], columns: list[str], encoding: str) -> str | None:
    """The defect of a CSV record holding bytes its file's encoding cannot
    read (a row pasted from a Windows-1250 export into a UTF-8 file), as
    :func:`etl.messages.bad_bytes`; None for a record that decoded whole.
    Such a row is rejected, not the whole file: the rows around it are fine."""
    for i, value in enumerate(record):
        found = _ESCAPED_BYTE.search(value)
        if found is not None:
            column = columns[i] if i < len(columns) else f"#{i + 1}"
            return bad_bytes(encoding, ord(found.group()) - 0xDC00, column)
    return None


def _readable(record: list[str]) -> list[str]:
    """The record with each undecodable byte as U+FFFD, the replacement
    character: what is stored of a rejected row must be valid text (the
    database refuses the escaped bytes, and would fail the batch)."""
    return [_ESCAPED_BYTE.sub("\ufffd", v) for v in record]


def detect_encoding(head: bytes) -> str:
    """The text encoding of a file from its first bytes.

    A BOM decides; else UTF-8 when the sample reads as UTF-8 (a multi-byte
    character cut at the end of the sample is fine), else Windows-1250, the
    usual encoding of Romanian spreadsheets exported on Windows.

    "Reads as UTF-8": more of its non-ASCII characters are valid UTF-8 than
    not.  A UTF-8 file with a few rows pasted from a Windows-1250 export
    stays UTF-8 (those rows are rejected, :func:`_undecodable`) instead of
    being read whole as Windows-1250, which would garble every diacritic of
    the good rows without a single reject.  Windows-1250 text almost never
    forms valid UTF-8 sequences ("ă" is one byte followed by a letter).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=False)
    invalid = len(_ESCAPED_BYTE.findall(text))
    valid = sum(1 for ch in text if ch > "\x7f") - invalid
    return "utf-8" if valid > invalid or not invalid else "cp1250"


def detect_delimiter(sample: str) -> str:
    """The field delimiter among , ; TAB | (the sniffer, then the most frequent in the header)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max(",;\t|", key=header.count)


#: Excel's delimiter line, ``sep=;`` (also quoted), above a CSV's header.
_SEP_LINE = re.compile(r'^\s*"?sep=([^\s"])"?\s*$', re.IGNORECASE)


class CsvSource(Source):
    """Delimited text, any delimiter and encoding, read with the csv module."""

    unit = "bytes"

    def __init__(self, path: Path, encoding: str | None, delimiter: str | None) -> None:
        # Process-wide in the csv module; only raised, never lowered.
        if csv.field_size_limit() < CSV_FIELD_LIMIT:
            csv.field_size_limit(CSV_FIELD_LIMIT)
        self.path = path
        self.size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        self.encoding = encoding or detect_encoding(head)
        try:
            codec = codecs.lookup(self.encoding)
        except LookupError:
            raise ValidationError("encoding", f"unknown encoding {self.encoding!r}") from None
        if codec.name == "utf-8" and head.startswith(codecs.BOM_UTF8):
            # --encoding utf-8 for a file Excel saved "UTF-8 with BOM": the
            # mark is not part of the first column's name.
            self.encoding = "utf-8-sig"
        text = head.decode(self.encoding, errors="ignore")
        if self.encoding == "utf-8-sig":
            text = text.lstrip("\ufeff")
        # Excel writes "sep=;" above the header when asked to keep the list
        # separator: it names the delimiter and is not the header.
        first = text.splitlines()[0] if text else ""
        sep = _SEP_LINE.match(first)
        self.sep_line = sep is not None
        if sep is not None:
            text = text[len(first):].lstrip("\r\n")
        self.delimiter = delimiter or (sep[1] if sep else detect_delimiter(text[:SNIFF_BYTES]))
        try:
            # newline="": lines end at \n, \r\n or a lone \r (Excel for Mac's CSV).
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter),
                          None)
        except csv.Error as exc:
            raise ValidationError(
                "file", f"{path.name}: the header row cannot be read ({exc}); check quotes and"
                " delimiter"
            ) from None
        if not header:
            raise ValidationError("file", f"{path.name} is empty: a header row is needed")
        self.columns = [h.strip() for h in header]
        self.crs = None

    def batches(self, batch_size: int) -> Iterator[Batch]:
        raw: BinaryIO
        with self.path.open("rb") as raw:
            # surrogateescape: a byte the encoding cannot read rejects its row
            # (_undecodable), instead of stopping the load there.
            text = io.TextIOWrapper(raw, encoding=self.encoding, errors="surrogateescape",
                                    newline="")
            reader = csv.reader(text, delimiter=self.delimiter)
            try:
                if self.sep_line:
                    next(reader)  # "sep=;"
                next(reader)  # header, already read
                n = 0
                rows: list[dict[str, str | None]] = []
                problems: list[str | None] = []
                width = len(self.columns)
                for record in reader:
                    if not record or (len(record) == 1 and not record[0].strip()):
                        continue  # blank line: not a row
                    n += 1
                    problem = _undecodable(record, self.columns, self.encoding)
                    if problem is not None:
                        record = _readable(record)
                    elif len(record) != width:
                        problem = field_count(len(record), width)
                    rows.append(
                        {c: _cell(v) for c, v in zip(self.columns, record, strict=False)}
                    )
                    problems.append(problem)
                    if len(rows) >= batch_size:
                        yield Batch(n - len(rows) + 1, rows, None, problems, raw.tell())
                        rows, problems = [], []
                if rows:
                    yield Batch(n - len(rows) + 1, rows, None, problems, raw.tell())
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    "encoding",
                    f"{self.path.name} is not valid {self.encoding} near byte {exc.start}"
                    f" of a block; give the right one with --encoding (e.g. cp1250, utf-8)",
                ) from None
            except csv.Error as exc:
                raise ValidationError(
                    "file", f"{self.path.name} row {n + 1}: {exc}; check quotes and delimiter"
                ) from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


class OgrSource(Source):
    """GeoJSON, GeoPackage, Shapefile... read in Arrow batches through GDAL."""

    unit = "rows"
    strict_columns = False

    def __init__(self, path: Path, encoding: str | None, layer: str | None = None) -> None:
        import pyogrio

        self.path = path
        self.encoding = encoding
        #: What GDAL opens: the file, or the folder inside a .zip that holds it.
        self.gdal_path: str | Path = _inside_zip(path) if path.suffix.lower() == ".zip" else path
        try:
            self.layers = tuple(str(name) for name, _ in pyogrio.list_layers(self.gdal_path))
            if layer is not None and layer not in self.layers:
                raise ValidationError(
                    "layer", f"{path.name} has no layer or sheet {layer!r}; it has"
                    f" {list(self.layers)}"
                )
            self.layer = layer if layer is not None else (self.layers[0] if self.layers else None)
            info = pyogrio.read_info(self.gdal_path, layer=self.layer, encoding=encoding)
        except ValidationError:
            raise
        except Exception as exc:  # GDAL raises several types for unreadable files
            raise ValidationError(
                "file", f"cannot read {path.name} as a GIS file: {_not_gis(path, exc)}"
            ) from None
        self.columns = [str(c) for c in info["fields"]]
        self.typed_dates = frozenset(
            str(c) for c, t in zip(info["fields"], info.get("ogr_types", ()), strict=False)
            if t in _OGR_DATE_TYPES
        )
        self.size = max(int(info.get("features") or 0), 0)
        self.no_rows = info.get("features") == 0
        self.crs = None
        crs = info.get("crs")
        if crs:
            from pyproj import CRS

            epsg = CRS.from_user_input(crs).to_epsg()
            if epsg is None:
                raise ValidationError(
                    "crs", f"{path.name} has a CRS without EPSG code; reproject it first"
                )
            self.crs = epsg

    def batches(self, batch_size: int) -> Iterator[Batch]:
        from pyogrio.raw import open_arrow

        n = 0
        with open_arrow(
            self.gdal_path,
            layer=self.layer,
            batch_size=batch_size,
            use_pyarrow=True,
            datetime_as_string=True,
            encoding=self.encoding,
        ) as (meta, reader):
            geom_col = meta["geometry_name"] or "wkb_geometry"
            for record_batch in reader:
                data = record_batch.to_pydict()
                geoms = data.pop(geom_col, None)
                count = record_batch.num_rows
                rows = [{c: _text(data[c][i]) for c in data} for i in range(count)]
                yield Batch(
                    n + 1,
                    rows,
                    list(geoms) if geoms is not None else [None] * count,
                    [None] * count,
                    n + count,
                )
                n += count


#: The files GDAL reads that a .zip may hold (a Shapefile's .shp names its layer).
_GIS_MEMBERS = (".shp", ".gpkg", ".geojson", ".json", ".fgb", ".gml", ".kml")


def _inside_zip(path: Path) -> str | Path:
    """The .zip itself when its GIS files are at its top, else GDAL's path to
    the one folder that holds them: "zip the folder" is what people do, and
    GDAL looks only at the top of an archive."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(_GIS_MEMBERS)
                     and not n.startswith("__MACOSX/")]
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValidationError("file", f"{path.name} is not a readable .zip ({exc})") from None
    if not names:
        raise ValidationError(
            "file", f"{path.name} holds no GIS file ({', '.join(_GIS_MEMBERS)}): zip the"
            " Shapefile's files (.shp, .shx, .dbf, .prj) or give the file itself",
        )
    # A Shapefile is read from its folder, which GDAL opens as a folder of
    # Shapefiles (a metadata .json beside it does not count); any other
    # format from its one file.
    shapefiles = [n for n in names if n.lower().endswith(".shp")]
    folders = sorted({n.rpartition("/")[0] for n in shapefiles})
    if shapefiles and folders == [""]:
        return path
    if len(folders) == 1:
        return f"/vsizip/{path.resolve()}/{folders[0]}"
    if not shapefiles and len(names) == 1:
        return f"/vsizip/{path.resolve()}/{names[0]}"
    raise ValidationError(
        "file", f"{path.name} holds several GIS files ({sorted(names)[:10]}): unzip it and give"
        " the one to load",
    )


def _not_gis(path: Path, exc: Exception) -> str:
    """Why GDAL could not read ``path``, in words for the common mistakes
    (a JSON list or a web page saved as .geojson), else GDAL's own, cut."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        head = b""
    if head[:1] == b"[":
        return ("it holds a JSON list; GeoJSON is an object, {\"type\": \"FeatureCollection\","
                " \"features\": [...]}")
    if is_web_page(head):
        return "it is a web page (HTML), not GeoJSON: download the data file itself"
    said = str(exc).split("; It might help")[0]
    return f"{said[:300]} (GeoJSON, GeoPackage, a Shapefile or a .zip of one)"


def open_source(
    path: Path, encoding: str | None = None, delimiter: str | None = None,
    layer: str | None = None,
) -> Source:
    """Open ``path`` with the reader its suffix calls for (CSV/TSV/TXT otherwise).

    ``layer``: the layer or sheet of a GIS file or spreadsheet (default: the first).
    """
    if not path.exists():
        raise ValidationError("file", f"{path} does not exist")
    if path.is_dir():
        raise ValidationError(
            "file", f"{path} is a folder: give the file to load (a Shapefile's .shp, or the"
            " folder zipped)",
            ro=f"{path} este un dosar: dați fișierul de încărcat (fișierul .shp al unui"
            " Shapefile, sau dosarul arhivat .zip)",
        )
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        from etl.spreadsheets import open_sheet  # imports this module

        return open_sheet(path, layer)
    if path.suffix.lower() in OGR_SUFFIXES:
        return OgrSource(path, encoding, layer)
    if layer is not None:
        raise ValidationError(
            "layer", f"{path.name} is a text file: a layer or sheet can only be chosen in a"
            " GIS file or spreadsheet"
        )
    return CsvSource(path, encoding, delimiter)


class RowsSource(Source):
    """Rows from any iterator of dicts (an HTTP feed), batched like a file."""

    unit = "rows"

    def __init__(self, columns: list[str], rows: Iterator[dict[str, str | None]],
                 crs: int | None = None) -> None:
        self.columns = columns
        self.rows = rows
        self.crs = crs
        self.size = 0

    def batches(self, batch_size: int) -> Iterator[Batch]:
        n = 0
        chunk: list[dict[str, str | None]] = []
        for row in self.rows:
            chunk.append({c: row.get(c) for c in self.columns})
            if len(chunk) >= batch_size:
                yield Batch(n + 1, chunk, None, [None] * len(chunk), n + len(chunk))
                n += len(chunk)
                chunk = []
        if chunk:
            yield Batch(n + 1, chunk, None, [None] * len(chunk), n + len(chunk))
