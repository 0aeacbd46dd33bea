"""The streaming spreadsheet reader (etl/spreadsheets.py), cell by cell.

The files are written here as the XML the formats define, to reach what
Excel and LibreOffice write and GDAL's writer does not: shared strings with
rich text, inline strings, sparse and repeated cells, date styles, the 1904
date system, row groups, a sheet far larger than GDAL's ODS driver reads.
"""

from __future__ import annotations

import tracemalloc
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from etl.load import load_file
from etl.readers import open_source
from etl.spreadsheets import OdsSource, excel_serial_text, is_date_format
from sesizari.errors import ValidationError
from tests.etl_helpers import incidents, rejects, test_mapping

X_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"

STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="{X_NS}">
<numFmts count="2"><numFmt numFmtId="164" formatCode="[$-418]dd\\.mm\\.yyyy\\ hh:mm"/>
<numFmt numFmtId="165" formatCode="&quot;lei&quot;\\ #,##0.00"/></numFmts>
<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="22"/><xf numFmtId="164"/>
<xf numFmtId="165"/><xf numFmtId="21"/></cellXfs>
</styleSheet>"""


def _xlsx(path: Path, sheets: dict[str, str], shared: list[str] | None = None,
          date1904: bool = False) -> Path:
    """A workbook: ``sheets`` name -> the rows' XML; ``shared``: <si> bodies."""
    rels = [f'<Relationship Id="rIdS" Type="{REL}/styles" Target="styles.xml"/>']
    entries = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="r1"'
                    f' Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        for i, (name, rows) in enumerate(sheets.items(), 1):
            rels.append(f'<Relationship Id="rId{i}" Type="{REL}/worksheet"'
                        f' Target="/xl/worksheets/s{i}.xml"/>')
            entries.append(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>')
            zf.writestr(f"xl/worksheets/s{i}.xml", f'<worksheet xmlns="{X_NS}">'
                        f"<sheetData>{rows}</sheetData></worksheet>")
        if shared is not None:
            rels.append(f'<Relationship Id="rIdT" Type="{REL}/sharedStrings"'
                        ' Target="sharedStrings.xml"/>')
            zf.writestr("xl/sharedStrings.xml", f'<sst xmlns="{X_NS}">'
                        + "".join(f"<si>{s}</si>" for s in shared) + "</sst>")
        zf.writestr("xl/styles.xml", STYLES)
        pr = '<workbookPr date1904="1"/>' if date1904 else ""
        zf.writestr("xl/workbook.xml", f'<workbook xmlns="{X_NS}" xmlns:r="{R_NS}">{pr}'
                    f'<sheets>{"".join(entries)}</sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels",
                    f'<Relationships xmlns="{PKG}">{"".join(rels)}</Relationships>')
    return path


ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
    ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    ' office:version="1.2"><office:body><office:spreadsheet>'
)
ODS_TAIL = "</office:spreadsheet></office:body></office:document-content>"


def _ods(path: Path, tables: dict[str, str]) -> Path:
    """An ODF spreadsheet: ``tables`` name (XML-escaped) -> its rows' XML."""
    body = "".join(f'<table:table table:name="{name}">{rows}</table:table>'
                   for name, rows in tables.items())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", ODS_HEAD + body + ODS_TAIL)
    return path


def _rows(path: Path, layer: str | None = None, batch: int = 1000) -> list[dict]:
    return [row for b in open_source(path, layer=layer).batches(batch) for row in b.rows]


def _c(ref: str, value: str, t: str | None = None, s: int | None = None) -> str:
    attrs = f' r="{ref}"' + (f' t="{t}"' if t else "") + (f' s="{s}"' if s is not None else "")
    return f"<c{attrs}><v>{value}</v></c>"


def test_xlsx_cells_of_every_kind(tmp_path):
    shared = ["<t>id</t>", "<t>nume</t>", "<t>valoare</t>",
              # Rich text in runs; the phonetic run (rPh) is not part of the text.
              '<r><t>Str. </t></r><r><rPr><b/></rPr><t xml:space="preserve">Bucegi 3 </t></r>'
              "<rPh><t>ぶ</t></rPh>", "<t>A&amp;B &lt;x&gt;</t>"]
    rows = (
        # Empty rows before the header; the header has an empty cell and a
        # trailing empty one.
        '<row r="2"/>'
        f'<row r="3">{_c("A3", "0", "s")}{_c("C3", "1", "s")}{_c("D3", "2", "s")}'
        '<c r="E3" t="inlineStr"><is><t></t></is></c></row>'
        # Sparse cells: B and the empty header column are skipped.
        f'<row r="4">{_c("A4", "7")}{_c("C4", "3", "s")}{_c("D4", "45.69")}'
        # Beyond the header: not read.
        f'{_c("H4", "x", "str")}</row>'
        '<row r="6"><c r="A6" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c>'
        f'{_c("C6", "4", "s")}<c r="D6" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
        f'<row r="7">{_c("A7", "1", "b")}<c r="C7" t="str"><f>A1</f><v>calculat</v></c>'
        f'{_c("D7", "1234.5", s=3)}</row>'
        # A row of empty cells only: skipped like a blank CSV line.
        '<row r="8"><c r="A8" t="inlineStr"><is><t></t></is></c></row>'
    )
    path = _xlsx(tmp_path / "a.xlsx", {"Date": rows}, shared)
    source = open_source(path)
    assert source.columns == ["id", "Field2", "nume", "valoare"]
    assert source.layers == ("Date",) and source.layer == "Date"
    assert _rows(path) == [
        {"id": "7", "Field2": None, "nume": "Str. Bucegi 3 ", "valoare": "45.69"},
        {"id": "inline", "Field2": None, "nume": "A&B <x>", "valoare": None},
        # A currency format is a number, not a date.
        {"id": "true", "Field2": None, "nume": "calculat", "valoare": "1234.5"},
    ]


def test_xlsx_date_cells_become_iso_text(tmp_path):
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>creat</t></is></c></row>'
    cells = [
        ("46146.4270833333", 1),   # built-in m/d/yy h:mm: 2026-05-04 10:15
        ("46146.4270833333", 2),   # custom [$-418]dd.mm.yyyy hh:mm
        ("46146", 1),              # a date at midnight
        ("0.5", 4),                # built-in h:mm:ss, time only
        ("46146.4270833333", 0),   # no date style: a number
        ("46146.42708912", 1),     # milliseconds kept
    ]
    rows = header + "".join(
        f'<row r="{i}">{_c(f"A{i}", v, s=s)}</row>' for i, (v, s) in enumerate(cells, 2))
    rows += '<row r="9"><c r="A9" t="d"><v>2026-05-04</v></c></row>'
    path = _xlsx(tmp_path / "d.xlsx", {"S": rows})
    assert [r["creat"] for r in _rows(path)] == [
        "2026-05-04T10:15:00", "2026-05-04T10:15:00", "2026-05-04T00:00:00", "12:00:00",
        "46146.4270833333", "2026-05-04T10:15:00.500", "2026-05-04T00:00:00",
    ]
    # The 1904 system counts from 1904-01-01: 1462 days less.
    path = _xlsx(tmp_path / "d1904.xlsx", {"S": header + f'<row r="2">{_c("A2", "44684", s=1)}'
                                                          "</row>"}, date1904=True)
    assert _rows(path) == [{"creat": "2026-05-04T00:00:00"}]


@pytest.mark.parametrize(("code", "is_date"), [
    ("General", False), ("GENERAL", False), ("0.00", False), ("#,##0", False),
    ('"lei" #,##0.00', False), ("[Red]0.00;[Blue]-0.00", False), ("@", False),
    ("dd.mm.yyyy", True), ("[$-418]d mmmm yyyy", True), ("hh:mm", True), ("[h]:mm", True),
    ("yyyy\\-mm\\-dd", True), ('0.00" days"', False),
])
def test_date_formats(code, is_date):
    assert is_date_format(code) is is_date


def test_excel_serials():
    assert excel_serial_text(1, False) == "1900-01-01T00:00:00"
    assert excel_serial_text(59, False) == "1900-02-28T00:00:00"
    assert excel_serial_text(61, False) == "1900-03-01T00:00:00"
    assert excel_serial_text(60, False) == "1900-02-29"  # Excel's day that never was


def _cell(value: str, kind: str = "string", attr: str = "", repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    if kind == "string":
        return f'<table:table-cell office:value-type="string"{rep}>{value}</table:table-cell>'
    return f'<table:table-cell office:value-type="{kind}" {attr}{rep}>{value}</table:table-cell>'


def test_ods_cells_of_every_kind(tmp_path):
    empty_tail = ('<table:table-row table:number-rows-repeated="1048000">'
                  '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
    rows = (
        '<table:table-header-rows><table:table-row>'
        + _cell("<text:p>id</text:p>") + _cell("<text:p>text</text:p>")
        + _cell("<text:p>nr</text:p>") + _cell("<text:p>când</text:p>")
        + '<table:table-cell table:number-columns-repeated="1020"/>'
        + "</table:table-row></table:table-header-rows>"
        '<table:table-row-group><table:table-row>'
        + _cell("<text:p>A1</text:p>")
        + _cell('<text:p>Str.<text:s text:c="2"/><text:span>Bucegi</text:span> 3</text:p>'
                "<text:p>bloc<text:tab/>A</text:p>"
                "<office:annotation><text:p>un comentariu</text:p></office:annotation>")
        + _cell("<text:p>45,69 lei</text:p>", "currency", 'office:value="45.69"')
        + _cell("<text:p>04.05.2026 10:15</text:p>", "date",
                'office:date-value="2026-05-04T10:15:00"')
        + "</table:table-row></table:table-row-group>"
        # Repeated cells and rows carry their values.
        '<table:table-row table:number-rows-repeated="2">'
        + _cell("<text:p>R</text:p>", repeat=2)
        + _cell("", "boolean", 'office:boolean-value="true"')
        + _cell("", "date", 'office:date-value="2026-05-04"')
        + "</table:table-row>"
        '<table:table-row><table:table-cell/></table:table-row>'  # empty: skipped
        '<table:table-row>' + _cell("<text:p>T</text:p>")
        + '<table:covered-table-cell/>'
        + _cell("", "float", 'office:value="-0.5"')
        + _cell("", "time", 'office:time-value="PT10H15M00S"')
        + "</table:table-row>" + empty_tail
    )
    path = _ods(tmp_path / "a.ods", {"Arhivă &amp; 2025": "", "Sesizări": rows})
    source = open_source(path, layer="Sesizări")
    assert source.layers == ("Arhivă & 2025", "Sesizări")
    assert source.columns == ["id", "text", "nr", "când"]
    assert _rows(path, layer="Sesizări") == [
        {"id": "A1", "text": "Str.  Bucegi 3\nbloc\tA", "nr": "45.69",
         "când": "2026-05-04T10:15:00"},
        {"id": "R", "text": "R", "nr": "true", "când": "2026-05-04T00:00:00"},
        {"id": "R", "text": "R", "nr": "true", "când": "2026-05-04T00:00:00"},
        {"id": "T", "text": None, "nr": "-0.5", "când": "10:15:00"},
    ]
    # The first sheet is the default; an empty one says so.
    with pytest.raises(ValidationError, match=r"sheet 'Arhivă & 2025' of a\.ods is empty"):
        open_source(path)


def test_unreadable_files_say_what_to_do(tmp_path):
    not_zip = tmp_path / "x.xlsx"
    not_zip.write_bytes(b"\xd0\xcf\x11\xe0 an old or password-protected workbook")
    with pytest.raises(ValidationError, match=r"cannot read x.xlsx as a .xlsx spreadsheet"
                                              r".*without a password.*CSV"):
        open_source(not_zip)
    doctype = _ods(tmp_path / "d.ods", {})
    with zipfile.ZipFile(doctype, "w") as zf:
        zf.writestr("content.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                    + ODS_HEAD.split("?>", 1)[1] + '<table:table table:name="S">'
                    "<table:table-row>" + _cell("<text:p>&a;</text:p>")
                    + "</table:table-row></table:table>" + ODS_TAIL)
    with pytest.raises(ValidationError, match="declares a document type"):
        open_source(doctype)
    # A file cut or damaged in transfer: the damage is found while reading.
    rows = "".join(f"<table:table-row>{_cell(f'<text:p>r{i} {i * 7919}</text:p>')}"
                   "</table:table-row>" for i in range(3000))
    damaged = _ods(tmp_path / "t.ods", {"S": rows})
    data = bytearray(damaged.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    damaged.write_bytes(bytes(data))
    with pytest.raises(ValidationError, match=r"cannot read t.ods as a .ods spreadsheet"):
        for _ in open_source(damaged).batches(100):
            pass
    with pytest.raises(ValidationError, match=r"no layer or sheet 'Nu'; it has \['S'\]"):
        open_source(_xlsx(tmp_path / "s.xlsx", {"S": ""}), layer="Nu")


def test_a_large_ods_streams_in_flat_memory(tmp_path):
    """60,000 rows (about 60 MB of XML): GDAL's ODS driver stops on such a
    sheet ("Too much accumulated memory for row/cell repetition"); read here
    one row at a time, Python's allocations stay a fraction of the XML."""
    n = 60_000
    path = tmp_path / "mare.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open("content.xml", "w") as out:
        out.write((ODS_HEAD + '<table:table table:name="S"><table:table-row>'
                   + "".join(_cell(f"<text:p>c{i}</text:p>") for i in range(10))
                   + "</table:table-row>").encode())
        for r in range(n):
            out.write(("<table:table-row>" + "".join(
                _cell(f"<text:p>rândul {r} coloana {i} {'x' * 40}</text:p>") for i in range(10))
                + "</table:table-row>").encode())
        out.write(("</table:table>" + ODS_TAIL).encode())
    xml_size = zipfile.ZipFile(path).getinfo("content.xml").file_size
    assert xml_size > 50e6
    source = OdsSource(path)
    tracemalloc.start()
    try:
        count, last = 0, None
        for batch in source.batches(2000):
            assert batch.first_row == count + 1
            count += len(batch.rows)
            last = batch.rows[-1]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == n
    assert last == {f"c{i}": f"rândul {n - 1} coloana {i} {'x' * 40}" for i in range(10)}
    assert peak < xml_size / 5, (peak, xml_size)


def test_a_date_column_may_mix_date_cells_and_text_in_the_mapping_pattern(engine, city,
                                                                          tmp_path):
    """Each cell is read by its own type: a date cell as a date, a text cell
    with the mapping's pattern (here DD.MM.YYYY HH24:MI)."""
    names = ["id", "creat", "inchis", "tip", "stare", "lat", "lon", "adresa", "descriere"]
    header = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in names)

    def row(i: int, ext: str, created: str) -> str:
        cells = [f'<c t="inlineStr"><is><t>{ext}</t></is></c>', created, "<c/>",
                 '<c t="inlineStr"><is><t>Groapă</t></is></c>',
                 '<c t="inlineStr"><is><t>Deschisă</t></is></c>', "<c><v>45.69</v></c>",
                 "<c><v>21.9</v></c>", '<c t="inlineStr"><is><t>Str. X</t></is></c>',
                 '<c t="inlineStr"><is><t>Groapă</t></is></c>']
        return f'<row r="{i}">{"".join(cells)}</row>'

    rows = (f'<row r="1">{header}</row>'
            + row(2, "A1", '<c s="1"><v>46146.4270833333</v></c>')
            + row(3, "A2", '<c t="inlineStr"><is><t>04.05.2026 10:15</t></is></c>')
            + row(4, "A3", '<c t="inlineStr"><is><t>4 mai 2026</t></is></c>'))
    path = _xlsx(tmp_path / "mix.xlsx", {"S": rows})
    mapping = test_mapping(time={"format": "DD.MM.YYYY HH24:MI", "timezone": "Europe/Bucharest"})
    result = load_file(engine, path, "testville", mapping)
    assert (result.inserted, result.rejected) == (2, 1), result.reasons
    assert result.reasons == {"bad_date": 1}
    opened = datetime(2026, 5, 4, 7, 15, tzinfo=UTC)  # 10:15 in Bucharest
    assert {i["external_id"]: i["created_at"] for i in incidents(engine)} == {
        "A1": opened, "A2": opened}


def test_row_numbers_count_a_sheets_blank_rows(tmp_path):
    """Row n of a sheet's data is the sheet's row header + n, blank rows
    included, so that a reject's number is found in the spreadsheet."""
    def xrow(r: int, value: str) -> str:
        return f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{value}</t></is></c></row>'

    # Header on sheet row 2; rows 4, 5 and 8 blank (absent, or cells without text).
    xlsx = _xlsx(tmp_path / "gaps.xlsx", {"S": (
        xrow(2, "id") + xrow(3, "a") + '<row r="5"><c r="A5"/></row>' + xrow(6, "b")
        + xrow(7, "c") + xrow(9, "d"))})
    batches = list(open_source(xlsx).batches(2))
    assert [b.numbers for b in batches] == [[1, 4], [5, 7]]
    assert [b.number(1) for b in batches] == [4, 7]
    assert batches[1].index(7) == 1
    with pytest.raises(KeyError):
        batches[1].index(6)
    # Rows without their r attribute follow the row before.
    bare = _xlsx(tmp_path / "bare.xlsx", {"S": (
        '<row><c t="inlineStr"><is><t>id</t></is></c></row>'
        '<row><c t="inlineStr"><is><t>a</t></is></c></row><row/>'
        '<row><c t="inlineStr"><is><t>b</t></is></c></row>')})
    assert [b.numbers for b in open_source(bare).batches(10)] == [[1, 3]]
    # An .ods counts its repeated rows, empty or not.
    empty = '<table:table-row table:number-rows-repeated="3"><table:table-cell/></table:table-row>'
    twice = ('<table:table-row table:number-rows-repeated="2">'
             f'{_cell("<text:p>x</text:p>")}</table:table-row>')
    ods = _ods(tmp_path / "gaps.ods", {"T": (
        empty + f'<table:table-row>{_cell("<text:p>id</text:p>")}</table:table-row>'
        + empty + twice + f'<table:table-row>{_cell("<text:p>y</text:p>")}</table:table-row>')})
    assert [b.numbers for b in open_source(ods).batches(10)] == [[4, 5, 6]]


def test_a_reject_names_the_row_found_in_the_sheet(engine, city, tmp_path):
    names = ["id", "creat", "inchis", "tip", "stare", "lat", "lon", "adresa", "descriere"]

    def row(r: int, values: list[str]) -> str:
        cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)
        return f'<row r="{r}">{cells}</row>'

    good = ["2026-05-04 10:15", "", "Groapă", "Deschisă", "45.69", "21.9", "Str. X", "Groapă"]
    no_place = [*good[:4], "", "", *good[6:]]
    rows = (row(1, names) + row(2, ["B1", *good])
            # sheet rows 3 and 4 blank: a separator
            + row(5, ["B2", *no_place]) + row(6, ["B3", *good]))
    path = _xlsx(tmp_path / "sep.xlsx", {"S": rows})
    result = load_file(engine, path, "testville", test_mapping(), batch_size=2)
    assert (result.inserted, result.rejected) == (2, 1)
    got = [(r["source_row"], r["reason"]) for r in rejects(engine, result.run_id)]
    assert got == [(4, "missing_coordinates")]  # sheet row 5 = header row 1 + 4
