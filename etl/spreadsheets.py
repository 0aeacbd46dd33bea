"""Spreadsheets (.xlsx, .ods) read as a stream of rows.

A city registry's export usually comes as a spreadsheet.  GDAL, which reads
the GIS files here, builds a whole sheet in memory before its first row
comes out (680 MiB for a 200,000-row .xlsx, against 182 MiB for the same
rows as CSV), and its ODS driver stops on sheets of a few tens of thousands
of rows ("Too much accumulated memory for row/cell repetition").  Both
formats are zipped XML, so this module parses the sheet's XML as it is
decompressed and hands rows on in batches: memory stays nearly flat (about
70 bytes per row read, see XlsxSource._rows).  An .xlsx keeps most of its
text in one shared-strings part that every row points into; that part is
held in memory, as the format requires.

A spreadsheet is a file from outside: XML with a document type declaration
(which holds entity declarations, the way to an entity-expansion attack or
to an outside file, and which spreadsheet XML never has) is refused wherever
it stands in the prolog, before the parser sees a byte, and so is XML that
is not UTF-8 (where the declaration's bytes would not show); Python's expat
(2.4.1 and later) limits entity expansion anyway.  The standard library's parser is used
rather than ``defusedxml``'s, whose pure-Python event handling took 1.8
times as long to parse an 89 MB sheet (bench/RESULTS.md).

What a cell gives, as text like a CSV value:

- text cells: their text; numbers: the number as the file writes it;
- date cells (typed as dates by the file): ISO 8601 (``2026-05-04T10:15:00``),
  read as such whatever pattern the mapping gives for text dates (see
  ``Source.typed_dates``); a time-only cell: ``HH:MM:SS``;
- booleans: ``true``/``false``; error cells (``#N/A``) and empty cells: empty.

The first non-empty row is the header; empty rows are skipped, like blank
lines of a CSV, but keep their place in the numbering: data row n is the
sheet's row (header row + n), which is what a reject names.  Cells right of
the header's last name are not read.
"""

from __future__ import annotations

import codecs
import functools
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import unescape

from etl.readers import Batch, Source
from sesizari.errors import ValidationError

#: The parts of a workbook read whole (workbook, relations, styles) are small;
#: a larger one is a malformed or hostile file.
_SMALL_PART = 64 * 2**20
#: The shared strings of an .xlsx are held in memory (see the module's note).
_SHARED_STRINGS_LIMIT = 2**30
#: Bytes read at a time while a part's prolog is checked (_Counting).
_PROLOG = 16 * 1024
#: The longest prolog read (comments and instructions before the root).
_PROLOG_LIMIT = 1024 * 1024

# -- XLSX (Office Open XML) ------------------------------------------------------------

_X = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_STRICT_X = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"

#: Built-in number formats that show dates or times (ECMA-376 18.8.30; 27-36
#: and 50-58 are the East Asian date formats).
_BUILTIN_DATE_FORMATS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
# In a format code: quoted text, backslash-escaped characters, and [..]
# sections (colours, conditions, locales) say nothing about dates, except
# elapsed times ([h], [mm], [ss]).
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|_.|\*.|\[(?![hms]+\])[^\]]*\]', re.IGNORECASE)
_DATE_TOKENS = re.compile(r"[dmyhs]", re.IGNORECASE)


def is_date_format(code: str) -> bool:
    """Whether an Excel number format code shows a date or a time."""
    if code.lower() == "general":
        return False
    # Only the first section (positive numbers) decides, as in Excel.
    first = _FORMAT_NOISE.sub("", code).split(";")[0]
    return bool(_DATE_TOKENS.search(first))


def excel_serial_text(serial: float, date1904: bool) -> str:
    """A date cell's serial number as ISO 8601 text (``HH:MM:SS`` below one day).

    Excel counts days from 1899-12-31 (serial 1 = 1900-01-01) and keeps the
    fictitious 1900-02-29 (serial 60); the 1904 system counts from 1904-01-01.
    Times are fractions of a day, rounded here to the millisecond, Excel's
    own precision.
    """
    ms = round(serial * 86_400_000)
    if date1904:
        base = datetime(1904, 1, 1)
    elif serial >= 61:
        base = datetime(1899, 12, 30)
    elif serial >= 60:
        return "1900-02-29"  # no such day: read as a bad date
    else:
        base = datetime(1899, 12, 31)
    if 0 <= serial < 1 and not date1904:
        moment = datetime(2000, 1, 1) + timedelta(milliseconds=ms)
        return moment.time().isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    try:
        moment = base + timedelta(milliseconds=ms)
    except OverflowError:
        return repr(serial)
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")


_DIGITS = "0123456789"


@functools.cache
def _column_of_letters(letters: str) -> int:
    """0-based column of a reference's letters (``AB`` -> 27), computed once each."""
    if not letters or not letters.isascii() or not letters.isupper():
        raise ValueError(f"bad cell reference {letters!r}")
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _column_index(ref: str) -> int:
    """0-based column of a cell reference (``AB12`` -> 27)."""
    return _column_of_letters(ref.rstrip(_DIGITS))


#: What may come before a part's root element: white space, the XML
#: declaration and other processing instructions, comments.
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_DOCTYPE = b"<!DOCTYPE"


def _prolog_checked(head: bytes) -> bool:
    """Whether ``head`` (a part's first bytes) reaches its root element with
    no document type declared before it; False when more bytes are needed to
    tell.  A declaration anywhere in the prolog (after a long comment, say),
    or XML that is not UTF-8 (where the bytes of ``<!DOCTYPE`` would not
    show), is refused with ValueError: spreadsheet XML has neither."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head[:4]:
        raise ValueError("its XML is not UTF-8, which a spreadsheet's always is")
    pos = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    while (item := _PROLOG_ITEM.match(head, pos)) is not None:
        pos = item.end()
    rest = head[pos:pos + len(_DOCTYPE)]
    if rest.upper() == _DOCTYPE:
        raise ValueError("its XML declares a document type, which a spreadsheet never does")
    # A comment or instruction not closed yet, or the start of either or of
    # a declaration: read on.
    unfinished = (rest.startswith((b"<?", b"<!--"))
                  or (len(rest) < len(_DOCTYPE)
                      and (_DOCTYPE.startswith(rest.upper()) or b"<!--".startswith(rest))))
    return not unfinished


def _checked(data: bytes) -> bytes:
    """``data`` (a whole part), unless its prolog declares a document type."""
    _prolog_checked(data)
    return data


class _Counting:
    """A part's stream, counting what was read (progress), its prolog
    checked (:func:`_prolog_checked`) before the parser sees any of it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.position = 0
        self.head: bytes | None = b""  # None once the prolog is checked

    def read(self, size: int = -1) -> bytes:
        if self.head is None:
            data = self.raw.read(size)
            self.position += len(data)
            return data
        # Hold the parser back until the prolog is known to be safe: a
        # declaration cut across two reads is still found whole.
        while True:
            data = self.raw.read(size if size and size > 0 else _PROLOG)
            self.head += data
            if not data or _prolog_checked(self.head):
                break
            if len(self.head) > _PROLOG_LIMIT:
                raise ValueError("its XML starts with over 1 MiB of comments")
        data, self.head = self.head, None
        self.position += len(data)
        return data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class SheetSource(Source):
    """Rows of one sheet of a spreadsheet, streamed (see the module's note).

    ``columns``: the header's names; ``layers``: the file's sheets in order;
    ``typed_dates``: every column (any cell may be a date cell, and date cells
    arrive as ISO 8601 text).
    """

    unit = "bytes"
    strict_columns = True

    def __init__(self, path: Path, layer: str | None = None) -> None:
        self.path = path
        self.crs = None
        try:
            with zipfile.ZipFile(path) as zf:
                self._open(zf)
                self.layers = self._sheet_names(zf)
                if not self.layers:
                    raise ValidationError("file", f"{path.name} has no sheet")
                if layer is not None and layer not in self.layers:
                    raise ValidationError(
                        "layer", f"{path.name} has no layer or sheet {layer!r}; it has"
                        f" {list(self.layers)}"
                    )
                self.layer = layer if layer is not None else self.layers[0]
                self.size = self._part_size(zf)
                self.columns = []
                self.header_row = 0
                for number, values in self._rows(zf, _Counting(self._stream(zf))):
                    self.columns = self._header(values)
                    self.header_row = number
                    break
        except ValidationError:
            raise
        except (zipfile.BadZipFile, zlib.error, KeyError, ValueError, ET.ParseError,
                OSError, EOFError, IndexError) as exc:
            raise self._unreadable(exc) from None
        if not self.columns:
            raise ValidationError(
                "file", f"sheet {self.layer!r} of {path.name} is empty: a header row is needed"
            )
        self.typed_dates = frozenset(self.columns)

    # -- what each format defines ------------------------------------------------------

    def _open(self, zf: zipfile.ZipFile) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _sheet_names(self, zf: zipfile.ZipFile) -> tuple[str, ...]:  # pragma: no cover
        raise NotImplementedError

    def _part_size(self, zf: zipfile.ZipFile) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def _stream(self, zf: zipfile.ZipFile) -> IO[bytes]:  # pragma: no cover - interface
        raise NotImplementedError

    def _rows(self, zf: zipfile.ZipFile,
              stream: _Counting) -> Iterator[tuple[int, list[str | None]]]:  # pragma: no cover
        """The sheet's non-empty rows, header first, as lists of cell texts,
        each with its row number in the sheet (1 = the sheet's first row)."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------

    def _unreadable(self, exc: BaseException) -> ValidationError:
        kind = self.path.suffix.lower()
        return ValidationError(
            "file",
            f"cannot read {self.path.name} as a {kind} spreadsheet ({exc or type(exc).__name__})."
            " Open it in a spreadsheet program and save it again as " + kind
            + " (without a password), or save the sheet as CSV (UTF-8) and load that.",
        )

    @staticmethod
    def _header(values: list[str | None]) -> list[str]:
        """Header names: trimmed, ``FieldN`` for an empty cell, up to the last name."""
        names = [(v or "").strip() for v in values]
        while names and not names[-1]:
            names.pop()
        return [name or f"Field{i + 1}" for i, name in enumerate(names)]

    def batches(self, batch_size: int) -> Iterator[Batch]:
        width = len(self.columns)
        try:
            with zipfile.ZipFile(self.path) as zf:
                self._open(zf)
                stream = _Counting(self._stream(zf))
                rows = self._rows(zf, stream)
                next(rows, None)  # the header, already read
                chunk: list[dict[str, str | None]] = []
                numbers: list[int] = []
                for number, values in rows:
                    # Counted from the header, blank rows included: a
                    # reject's row is found in the sheet at header row + n.
                    numbers.append(number - self.header_row)
                    if len(values) < width:
                        values = values + [None] * (width - len(values))
                    chunk.append(dict(zip(self.columns, values, strict=False)))
                    if len(chunk) >= batch_size:
                        yield Batch(numbers[0], chunk, None, [None] * len(chunk),
                                    stream.position, numbers)
                        chunk, numbers = [], []
                if chunk:
                    yield Batch(numbers[0], chunk, None, [None] * len(chunk),
                                stream.position, numbers)
        except ValidationError:
            raise
        except (zipfile.BadZipFile, zlib.error, KeyError, ValueError, ET.ParseError,
                OSError, EOFError, IndexError) as exc:
            raise self._unreadable(exc) from None


def _read_small(zf: zipfile.ZipFile, name: str) -> Any:
    """A small XML part of the package, parsed whole (None when absent)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _SMALL_PART:
        raise ValueError(f"part {name} is {info.file_size:,} bytes")
    return ET.fromstring(_checked(zf.read(name)))


def _relations(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, target part name)."""
    folder, name = posixpath.split(part)
    rels = _read_small(zf, posixpath.join(folder, "_rels", name + ".rels"))
    out: dict[str, tuple[str, str]] = {}
    for rel in rels if rels is not None else ():
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], target)
    return out


class XlsxSource(SheetSource):
    """An Office Open XML workbook (.xlsx) as written by Excel, LibreOffice, GDAL..."""

    def _open(self, zf: zipfile.ZipFile) -> None:
        root_rels = _relations(zf, "")
        self.workbook_part = next(
            (t for kind, t in root_rels.values() if kind == "officeDocument"), "xl/workbook.xml"
        )
        workbook = _read_small(zf, self.workbook_part)
        if workbook is None:
            raise ValueError("no workbook part")
        ns = _X if workbook.tag.startswith(_X) else _STRICT_X
        pr = workbook.find(f"{ns}workbookPr")
        self.date1904 = pr is not None and pr.get("date1904", "").lower() in {"1", "true"}
        rels = _relations(zf, self.workbook_part)
        sheets = workbook.find(f"{ns}sheets")
        self.sheet_parts: dict[str, str] = {}
        for sheet in sheets if sheets is not None else ():
            rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), "")
            kind, target = rels.get(rid, ("", ""))
            if kind == "worksheet":  # chartsheets and dialog sheets hold no rows
                self.sheet_parts[sheet.get("name", "")] = target
        self.ns = ns
        self.strings_part = next((t for kind, t in rels.values() if kind == "sharedStrings"),
                                 None)
        styles_part = next((t for kind, t in rels.values() if kind == "styles"), None)
        self.date_styles = self._date_styles(zf, styles_part)
        # Read once (for the header), kept for the batches.
        self.strings: list[str] | None = getattr(self, "strings", None)

    def _date_styles(self, zf: zipfile.ZipFile, part: str | None) -> frozenset[int]:
        """Indexes of the cell formats (``s`` of a cell) that show dates."""
        styles = _read_small(zf, part) if part else None
        if styles is None:
            return frozenset()
        ns = self.ns
        custom = {
            int(f.get("numFmtId", "-1")): f.get("formatCode", "")
            for f in styles.iterfind(f"{ns}numFmts/{ns}numFmt")
        }
        dates = set()
        for i, xf in enumerate(styles.iterfind(f"{ns}cellXfs/{ns}xf")):
            fmt = int(xf.get("numFmtId", "0"))
            if fmt in custom:
                if is_date_format(custom[fmt]):
                    dates.add(i)
            elif fmt in _BUILTIN_DATE_FORMATS:
                dates.add(i)
        return frozenset(dates)

    def _sheet_names(self, zf: zipfile.ZipFile) -> tuple[str, ...]:
        return tuple(self.sheet_parts)

    def _part_size(self, zf: zipfile.ZipFile) -> int:
        return zf.getinfo(self.sheet_parts[self.layer]).file_size

    def _stream(self, zf: zipfile.ZipFile) -> IO[bytes]:
        return zf.open(self.sheet_parts[self.layer])

    def _shared_strings(self, zf: zipfile.ZipFile) -> list[str]:
        if self.strings is not None:
            return self.strings
        strings: list[str] = []
        if self.strings_part is not None:
            if zf.getinfo(self.strings_part).file_size > _SHARED_STRINGS_LIMIT:
                raise ValueError("its shared strings are over 1 GiB")
            si, t, r = f"{self.ns}si", f"{self.ns}t", f"{self.ns}r"
            with zf.open(self.strings_part) as raw:
                for _, elem in ET.iterparse(_Counting(raw), events=("end",)):
                    if elem.tag == si:
                        # Plain text, or rich-text runs; phonetic runs (rPh) are not text.
                        parts = [child.text or "" for child in elem if child.tag == t]
                        parts += [run.findtext(t) or "" for run in elem if run.tag == r]
                        strings.append("".join(parts))
                        elem.clear()
        self.strings = strings
        return strings

    def _rows(self, zf: zipfile.ZipFile,
              stream: _Counting) -> Iterator[tuple[int, list[str | None]]]:
        strings = self._shared_strings(zf)
        ns, dates, date1904 = self.ns, self.date_styles, self.date1904
        row_tag, cell_tag = f"{ns}row", f"{ns}c"
        v_tag, is_tag, t_tag, r_tag = f"{ns}v", f"{ns}is", f"{ns}t", f"{ns}r"
        # End events only (start events would double the parser's Python-side
        # work): a handed-on row is emptied but stays in sheetData, about 70
        # bytes, at most 72 MiB for a sheet's 1,048,576 rows.
        number = 0
        for _, elem in ET.iterparse(stream, events=("end",)):
            if elem.tag != row_tag:
                continue
            # A row's r attribute is its number; writers may leave it out.
            # Numbers only go up, whatever a broken file says.
            ref = elem.get("r")
            number = max(int(ref), number + 1) if ref else number + 1
            values: list[str | None] = []
            for cell in elem:
                if cell.tag != cell_tag:
                    continue
                ref = cell.get("r")
                col = _column_index(ref) if ref else len(values)
                kind = cell.get("t", "n")
                value: str | None
                if kind == "inlineStr":
                    inline = cell.find(is_tag)
                    value = None if inline is None else "".join(
                        [x.text or "" for x in inline if x.tag == t_tag]
                        + [x.findtext(t_tag) or "" for x in inline if x.tag == r_tag]
                    )
                else:
                    value = cell.findtext(v_tag)
                    if value is None:
                        pass
                    elif kind == "s":
                        value = strings[int(value)]
                    elif kind == "b":
                        value = "true" if value.strip() in {"1", "true"} else "false"
                    elif kind == "e":
                        value = None  # #N/A, #REF!...: no value
                    elif kind == "d":
                        value = value.strip()
                        value = value + "T00:00:00" if len(value) == 10 else value
                    elif kind == "n" and int(cell.get("s", "0")) in dates:
                        value = excel_serial_text(float(value), date1904)
                if value == "":
                    value = None
                if col >= len(values):
                    values.extend([None] * (col - len(values) + 1))
                values[col] = value
            elem.clear()
            if any(v is not None for v in values):
                yield number, values


# -- ODS (OpenDocument spreadsheet) ------------------------------------------------------

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TX = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
#: Sheet names, found without parsing the rows (content.xml holds every sheet).
_ODS_TABLE_NAME = re.compile(rb'<([\w.-]+):table\s[^>]*?\1:name="([^"]*)"')
_DURATION = re.compile(r"^-?PT?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
#: The most cells one row may add by repetition (number-columns-repeated):
#: LibreOffice writes an empty cell repeated to column 1024 (or 16384).
_MAX_COLUMNS = 16_384


def _xml_unescape(text: str) -> str:
    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def _odf_text(elem: Any) -> str:
    """The text of an ODF paragraph: spans and links, text:s spaces, tabs, breaks."""
    out = [elem.text or ""]
    for child in elem:
        tag = _local(child.tag)
        if tag == "s":
            out.append(" " * int(child.get(f"{_TX}c", "1")))
        elif tag == "tab":
            out.append("\t")
        elif tag == "line-break":
            out.append("\n")
        elif tag != "annotation":  # a comment on the cell is not its value
            out.append(_odf_text(child))
        out.append(child.tail or "")
    return "".join(out)


def _odf_time(value: str) -> str:
    """An ODF time value (``PT10H15M00S``) as ``HH:MM:SS``."""
    m = _DURATION.match(value.strip())
    if not m:
        return value
    h, mi, s = int(m.group(1) or 0), int(m.group(2) or 0), float(m.group(3) or 0)
    return f"{h:02d}:{mi:02d}:{int(s):02d}"


def _odf_cell(cell: Any) -> str | None:
    kind = cell.get(f"{_O}value-type")
    if kind in {"float", "percentage", "currency"}:
        return cell.get(f"{_O}value")
    if kind == "date":
        value = (cell.get(f"{_O}date-value") or "").strip()
        return value + "T00:00:00" if len(value) == 10 else (value or None)
    if kind == "time":
        return _odf_time(cell.get(f"{_O}time-value") or "") or None
    if kind == "boolean":
        return cell.get(f"{_O}boolean-value")
    text = cell.get(f"{_O}string-value")
    if text is None:
        paragraphs = [_odf_text(p) for p in cell if p.tag == f"{_TX}p"]
        text = "\n".join(paragraphs)
    return text or None


class OdsSource(SheetSource):
    """An OpenDocument spreadsheet (.ods), as written by LibreOffice, GDAL..."""

    part = "content.xml"

    def _open(self, zf: zipfile.ZipFile) -> None:
        zf.getinfo(self.part)  # KeyError: not an ODF document

    def _sheet_names(self, zf: zipfile.ZipFile) -> tuple[str, ...]:
        """The sheets' names, from their tags in the raw XML: a fast scan, not a
        parse of every row of every sheet."""
        names: list[str] = []
        buf = b""
        with zf.open(self.part) as part:
            raw = _Counting(part)  # the prolog checked here too
            while True:
                chunk = raw.read(1 << 20)
                buf += chunk
                # A tag cut by the chunk's end is found whole in the next round.
                cut = len(buf) - 4096 if chunk else len(buf)
                for m in _ODS_TABLE_NAME.finditer(buf):
                    if m.start() >= cut:
                        break
                    names.append(_xml_unescape(m.group(2).decode("utf-8")))
                if not chunk:
                    break
                buf = buf[max(cut, 0):]
        return tuple(names)

    def _part_size(self, zf: zipfile.ZipFile) -> int:
        return zf.getinfo(self.part).file_size

    def _stream(self, zf: zipfile.ZipFile) -> IO[bytes]:
        return zf.open(self.part)

    def _rows(self, zf: zipfile.ZipFile,
              stream: _Counting) -> Iterator[tuple[int, list[str | None]]]:
        table, row_tag = f"{_T}table", f"{_T}table-row"
        cell_tags = {f"{_T}table-cell", f"{_T}covered-table-cell"}
        rows_rep, cols_rep = f"{_T}number-rows-repeated", f"{_T}number-columns-repeated"
        # End events only, as for an .xlsx: a row ends before its table, and
        # the tables come in the order of self.layers, so the tables ended so
        # far tell which one a row is in.  Handed-on rows are emptied.
        wanted = self.layers.index(self.layer)
        tables_ended = 0
        number = 0  # rows of the wanted table so far, repeated ones included
        for _, elem in ET.iterparse(stream, events=("end",)):
            tag = elem.tag
            if tag == table:
                if tables_ended == wanted:
                    return
                tables_ended += 1
                elem.clear()
                continue
            if tag != row_tag:
                continue
            if tables_ended == wanted:
                values: list[str | None] = []
                for cell in elem:
                    if cell.tag not in cell_tags:
                        continue
                    value = _odf_cell(cell)
                    repeat = min(int(cell.get(cols_rep, "1")), _MAX_COLUMNS - len(values))
                    values.extend([value] * repeat)
                while values and values[-1] is None:
                    values.pop()
                repeat = int(elem.get(rows_rep, "1"))
                if values:
                    for k in range(1, repeat + 1):
                        yield number + k, values
                number += repeat
            elem.clear()


def open_sheet(path: Path, layer: str | None = None) -> SheetSource:
    """The reader for a spreadsheet file (by its suffix)."""
    if path.suffix.lower() == ".ods":
        return OdsSource(path, layer)
    return XlsxSource(path, layer)
