"""Local times across DST switches, and the encodings of real exports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from etl.load import load_file
from etl.readers import SNIFF_BYTES, detect_delimiter, detect_encoding
from tests.etl_helpers import GOOD, incidents, rejects, row, test_mapping, write_csv


@pytest.mark.parametrize(
    ("local", "expected", "problem"),
    [
        # Spring forward, Bucharest 2026-03-29: 03:00 EET becomes 04:00 EEST.
        ("2026-03-29 02:59", datetime(2026, 3, 29, 0, 59, tzinfo=UTC), None),
        ("2026-03-29 03:00", None, "nonexistent_local_time"),
        ("2026-03-29 03:30", None, "nonexistent_local_time"),
        ("2026-03-29 04:00", datetime(2026, 3, 29, 1, 0, tzinfo=UTC), None),
        # Fall back, 2025-10-26: 04:00 EEST becomes 03:00 EET; 03:xx happens twice.
        ("2025-10-26 02:59", datetime(2025, 10, 25, 23, 59, tzinfo=UTC), None),
        ("2025-10-26 03:00", None, "ambiguous_local_time"),
        ("2025-10-26 03:30", None, "ambiguous_local_time"),
        ("2025-10-26 04:00", datetime(2025, 10, 26, 2, 0, tzinfo=UTC), None),
        ("2026-07-01 12:00", datetime(2026, 7, 1, 9, 0, tzinfo=UTC), None),
        ("2026-01-15 12:00", datetime(2026, 1, 15, 10, 0, tzinfo=UTC), None),
        ("2026-02-30 12:00", None, "bad_date"),
        ("not a date", None, "bad_date"),
    ],
)
def test_local_time_in_sql(engine, local, expected, problem):
    with engine.connect() as conn:
        ts, got = conn.execute(
            sa.text("SELECT * FROM etl_local_time(:s, 'YYYY-MM-DD HH24:MI', 'Europe/Bucharest')"),
            {"s": local},
        ).one()
    assert (ts, got) == (expected, problem)


@pytest.mark.parametrize(
    ("text", "expected", "problem"),
    [
        ("2025-10-26T03:30:00+03:00", datetime(2025, 10, 26, 0, 30, tzinfo=UTC), None),
        ("2025-10-26T03:30:00+02:00", datetime(2025, 10, 26, 1, 30, tzinfo=UTC), None),
        ("2025-10-26T03:30:00Z", datetime(2025, 10, 26, 3, 30, tzinfo=UTC), None),
        ("2025-10-26T03:30:00", None, "ambiguous_local_time"),
        ("2026-03-29 03:30", None, "nonexistent_local_time"),
        ("2026-03-29", datetime(2026, 3, 28, 22, 0, tzinfo=UTC), None),
        ("", None, None),
    ],
)
def test_iso_times_with_and_without_offset(engine, text, expected, problem):
    with engine.connect() as conn:
        ts, got = conn.execute(
            sa.text("SELECT * FROM etl_local_time(:s, 'iso', 'Europe/Bucharest')"), {"s": text}
        ).one()
    assert (ts, got) == (expected, problem)


def test_dst_rows_in_a_file(engine, city, tmp_path):
    rows = [
        row(id="ok1", creat="2026-03-29 02:59"),
        row(id="gap", creat="2026-03-29 03:30"),
        row(id="ok2", creat="2026-03-29 04:00"),
        row(id="twice", creat="2025-10-26 03:30"),
        row(
            id="closed-in-gap", stare="Închisă", inchis="2026-03-29 03:15", creat="2026-03-28 10:00"
        ),
    ]
    result = load_file(engine, write_csv(tmp_path / "dst.csv", rows), "testville", test_mapping())
    assert result.inserted == 2
    assert result.reasons == {"nonexistent_local_time": 2, "ambiguous_local_time": 1}
    got = {i["external_id"]: i["created_at"] for i in incidents(engine)}
    assert got == {
        "ok1": datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
        "ok2": datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    }


def test_a_mapping_in_another_zone(engine, city, tmp_path):
    path = write_csv(tmp_path / "ny.csv", [row(creat="2026-03-08 02:30"), row(id="B")])
    result = load_file(engine, path, "testville", test_mapping(time__timezone="America/New_York"))
    assert result.reasons == {"nonexistent_local_time": 1}  # US spring forward
    (got,) = incidents(engine)
    assert got["created_at"] == datetime(2026, 5, 4, 14, 15, tzinfo=UTC)



def test_without_a_zone_in_the_mapping_naive_times_are_the_citys(engine, tmp_path):
    from sesizari import catalog
    from tests.conftest import TEST_BOUNDARY

    with engine.begin() as conn:
        cid = catalog.create_city(conn, slug="newtown", name_ro="Newtown", name_en="Newtown",
                                  registry_prefix="NEW", boundary=TEST_BOUNDARY,
                                  timezone="America/New_York")
        catalog.create_department(conn, cid, "roads", "Drumuri", "Roads")
        catalog.create_category(conn, cid, "pothole", "Groapă", "Pothole", "roads", 72)
    mapping = test_mapping(time={"format": "YYYY-MM-DD HH24:MI"},
                           category={"column": "tip", "map": {"Groapă": "pothole"}})
    assert mapping.timezone is None
    path = write_csv(tmp_path / "a.csv", [row(), row(id="B", creat="2026-03-08 02:30")])
    result = load_file(engine, path, "newtown", mapping)
    assert result.reasons == {"nonexistent_local_time": 1}  # New York's gap, not Bucharest's
    (got,) = incidents(engine)
    assert got["created_at"] == datetime(2026, 5, 4, 14, 15, tzinfo=UTC)  # 10:15 EDT
    with engine.connect() as conn:
        message = conn.execute(sa.text("SELECT message FROM feed_rejects")).scalar_one()
    assert "America/New_York" in message


TEXT = "Becul de pe strada Ştefan cel Mare nu funcţionează; groapă în faţa şcolii"


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ";"), ("utf-8", ","), ("cp1250", ";"), ("cp1250", "\t"), ("utf-8-sig", "|")],
)
def test_encodings_and_delimiters_are_detected(engine, city, tmp_path, encoding, delimiter):
    rows = [
        row(descriere=TEXT, adresa="Str. Ştefan cel Mare 5"),
        row(id="A2", tip="Bec ars", descriere="Iluminat: stâlp înclinat, ţevi"),
    ]
    path = write_csv(tmp_path / "t.csv", rows, encoding=encoding, delimiter=delimiter)
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.inserted, result.rejected) == (2, 0)
    got = {i["external_id"]: i for i in incidents(engine)}
    assert got["A1"]["description"] == TEXT
    assert got["A1"]["category"] == "pothole"  # "Groapă" matched the map after decoding
    assert got["A1"]["address"] == "Str. Ştefan cel Mare 5"
    assert got["A2"]["category"] == "street_light"


def test_comma_below_letters_in_utf8(engine, city, tmp_path):
    text = "Coș de gunoi plin lângă școală, țeava spartă"
    path = write_csv(tmp_path / "c.csv", [row(descriere=text)], encoding="utf-8-sig")
    load_file(engine, path, "testville", test_mapping())
    assert incidents(engine)[0]["description"] == text


def test_encoding_detection_units():
    assert detect_encoding("ă".encode() + b"\xef\xbb\xbf") == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfid,x") == "utf-8-sig"
    assert detect_encoding("faţă".encode("cp1250")) == "cp1250"
    assert detect_encoding("aă".encode()[:2]) == "utf-8"  # a character cut at the end
    # A UTF-8 file with one row pasted from a Windows-1250 export is UTF-8
    # (read as Windows-1250, every other diacritic would be garbled).
    utf8 = "Groapă în faţa şcolii\n".encode() * 3
    assert detect_encoding(utf8 + "Bec ars în piaţă\n".encode("cp1250")) == "utf-8"
    assert detect_encoding("Groapă în faţa şcolii\n".encode("cp1250") * 3
                           + "faţă".encode()) == "cp1250"
    assert detect_delimiter("a;b;c\n1;2;3\n") == ";"
    assert detect_delimiter("a\tb\n1\t2\n") == "\t"


def test_a_wrong_explicit_encoding_says_what_to_do(engine, city, tmp_path):
    plain = row(id="A2", tip="Bec ars", stare="", adresa="Str. Mare 1", descriere="Bec ars")
    path = write_csv(tmp_path / "w.csv", [row(), plain], encoding="cp1250")
    result = load_file(engine, path, "testville", test_mapping(), encoding="utf-8")
    # "Groapă" is not UTF-8: that row is refused with the way out; the plain one loads.
    assert (result.inserted, result.reasons) == (1, {"bad_encoding": 1})
    (rej,) = rejects(engine, result.run_id)
    assert "load it with --encoding, e.g. cp1250" in rej["message"]
    # Loaded again with the right encoding: the refused row comes in, the other stays.
    again = load_file(engine, path, "testville", test_mapping(), encoding="cp1250")
    assert (again.inserted, again.unchanged, again.rejected) == (1, 1, 0)
    assert {i["description"] for i in incidents(engine)} == {GOOD["descriere"], "Bec ars"}


@pytest.mark.parametrize("where", ["sampled", "past the sample"])
def test_a_row_pasted_in_another_encoding_is_rejected_alone(engine, city, tmp_path, where):
    """A UTF-8 export with one row typed in a Windows-1250 program: that row
    is rejected, naming its first column in error and the byte; every other
    row loads exactly, diacritics included, whether the detection sampled
    the bad row or not (before, the first case read the whole file as
    Windows-1250, the second stopped the load at that row)."""
    filler = [row(id=f"F{k}", descriere=TEXT) for k in range(
        1 if where == "sampled" else SNIFF_BYTES // len(TEXT.encode()) + 10)]
    good = write_csv(tmp_path / "g.csv", [row(descriere=TEXT), *filler])
    pasted = write_csv(tmp_path / "p.csv", [row(id="P", descriere="Groapă în faţa blocului")],
                       encoding="cp1250")
    last = write_csv(tmp_path / "l.csv", [row(id="Z", descriere="ultimul rând")])
    path = tmp_path / "mixed.csv"
    # The pasted row and the last one, without their header lines.
    path.write_bytes(good.read_bytes() + pasted.read_bytes().split(b"\r\n", 1)[1]
                     + last.read_bytes().split(b"\r\n", 1)[1])
    result = load_file(engine, path, "testville", test_mapping(), batch_size=500)
    n = len(filler) + 3
    assert (result.read, result.inserted, result.rejected) == (n, n - 1, 1)
    assert result.reasons == {"bad_encoding": 1}
    (rej,) = rejects(engine, result.run_id)
    assert rej["source_row"] == n - 1
    assert rej["message"].startswith("'tip' holds byte 0xE3, which is not utf-8 text")
    assert rej["message_ro"].startswith("'tip' conține octetul 0xE3")
    # What is kept of the refused row is valid text, the unreadable bytes marked.
    assert rej["raw"]["descriere"] == "Groap\ufffd \ufffdn fa\ufffda blocului"
    assert rej["raw"]["id"] == "P"
    got = {i["external_id"]: i["description"] for i in incidents(engine)}
    assert got["A1"] == TEXT and got["Z"] == "ultimul rând"
    assert set(got.values()) == {TEXT, "ultimul rând"}


def test_the_command_line_says_to_load_again_with_another_encoding(engine, city, tmp_path):
    from tests.test_etl_cli import MAPPING_TOML, _run

    path = write_csv(tmp_path / "w.csv", [row()], encoding="cp1250")
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    out = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping),
                "--encoding", "utf-8"], engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "rejected        1 bad_encoding" in out.stdout
    assert "load it again with --encoding (e.g. cp1250)" in out.stderr


def test_out_of_range_years_are_bad_dates_with_or_without_offset(engine):
    with engine.connect() as conn:
        for text in ("0001-01-01T00:00:00Z", "3100-01-01T00:00:00+02:00", "1850-01-01 10:00"):
            ts, problem = conn.execute(
                sa.text("SELECT * FROM etl_local_time(:s, 'iso', 'Europe/Bucharest')"),
                {"s": text},
            ).one()
            assert (ts, problem) == (None, "bad_date"), text


def test_nul_characters_do_not_fail_the_batch(engine, city, tmp_path):
    path = write_csv(tmp_path / "nul.csv", [row(descriere="Groapă\x00 mare"), row(id="B")])
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.inserted, result.rejected) == (2, 0)
    assert {i["description"] for i in incidents(engine)} == {
        "Groapă mare",
        "Groapă adâncă în carosabil",
    }


#: Values PostgreSQL's date input reads but ISO 8601 does not write: before
#: migration 0024 an 'iso' column guessed each of them (the first two month
#: first, the zone name dropped, 'now' the load's time, 'epoch' 1970).
NOT_ISO = [
    "01.02.2026", "01/02/2026", "01/02/2026 10:00", "1/2/26", "Jan 5 2026",
    "5 Jan 2026 10:00", "2026-01-01 10:00 America/New_York", "2026-1-1", "2026.01.05",
    "20260105", "20260105T1000", "J2461000", "now", "today", "tomorrow", "epoch",
    "2026-01-01 allballs", "2026-01-01 10:00 PM", "2026-01-01Z",
]
#: ISO 8601 as exports and GeoReport v2 servers write it.
ISO = [
    "2026-01-01", "2026-01-01T10:00", "2026-01-01 10:00:00", "2026-01-01T10:00:00.5",
    "2026-01-01T10:00:00Z", "2010-04-14T14:37:38.000Z", "2026-01-01T10:00:00+02",
    "2026-01-01T10:00:00+0200", "2026-01-01 10:00 +02:00", " 2026-01-01T10:00-05:00 ",
]


@pytest.mark.parametrize("text", NOT_ISO)
def test_an_iso_column_refuses_what_only_looks_like_a_date(engine, text):
    with engine.connect() as conn:
        got = conn.execute(
            sa.text("SELECT * FROM etl_local_time(:s, 'iso', 'Europe/Bucharest')"), {"s": text}
        ).one()
    assert tuple(got) == (None, "bad_date")


def test_the_iso_pattern_of_python_and_of_the_database_agree(engine):
    """etl/sql.py ISO_DATE_RE (which values of a typed date column are read
    as ISO) and migration 0024 (which values an 'iso' column accepts) must
    draw the same line."""
    import re

    from etl.sql import ISO_DATE_RE

    with engine.connect() as conn:
        for text in NOT_ISO + ISO:
            _ts, problem = conn.execute(
                sa.text("SELECT * FROM etl_local_time(:s, 'iso', 'Europe/Bucharest')"),
                {"s": text},
            ).one()
            assert (problem is None) == bool(re.match(ISO_DATE_RE, text)), text


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        # NYC 311 writes "02/17/2020 12:19:00 PM": without the PM, to_timestamp
        # read 00:19, twelve hours off.
        ("MM/DD/YYYY HH12:MI:SS AM", "02/17/2020 12:19:00", None),
        ("MM/DD/YYYY HH12:MI:SS AM", "02/17/2020 12:19:00 PM",
         datetime(2020, 2, 17, 17, 19, tzinfo=UTC)),
        ("MM/DD/YYYY HH12:MI:SS AM", "02/17/2020 12:19:00 pm",
         datetime(2020, 2, 17, 17, 19, tzinfo=UTC)),
        ("MM/DD/YYYY HH12:MI:SS a.m.", "02/17/2020 09:19:00 a.m.",
         datetime(2020, 2, 17, 14, 19, tzinfo=UTC)),
        # No meridiem in the pattern: nothing asked of the value.
        ("DD.MM.YYYY HH24:MI", "17.02.2020 12:19", datetime(2020, 2, 17, 17, 19, tzinfo=UTC)),
        ("MM/DD/YYYY", "02/17/2020", datetime(2020, 2, 17, 5, 0, tzinfo=UTC)),
    ],
)
def test_a_twelve_hour_pattern_needs_am_or_pm_in_the_value(engine, fmt, text, expected):
    with engine.connect() as conn:
        ts, problem = conn.execute(
            sa.text("SELECT * FROM etl_local_time(:s, :f, 'America/New_York')"),
            {"s": text, "f": fmt},
        ).one()
    assert (ts, problem) == (expected, None if expected else "bad_date")


def test_a_day_first_date_in_an_iso_column_is_rejected_with_the_fix(engine, city, tmp_path):
    from tests.etl_helpers import rejects

    path = write_csv(tmp_path / "d.csv", [row(creat="01.02.2026 10:00"),
                                           row(id="B", creat="2026-02-01T10:00")])
    result = load_file(engine, path, "testville", test_mapping(time__format="iso"))
    assert (result.inserted, result.reasons) == (1, {"bad_date": 1})
    assert [i["created_at"] for i in incidents(engine)] == [datetime(2026, 2, 1, 8, 0, tzinfo=UTC)]
    (reject,) = rejects(engine, result.run_id)
    assert reject["source_row"] == 1
    assert "'01.02.2026 10:00' does not match the format 'iso'" in reject["message"]
    assert 'format to their pattern, e.g. "DD.MM.YYYY HH24:MI"' in reject["message"]


def test_a_bad_date_message_says_when_the_am_pm_is_missing():
    from etl.messages import date_hint

    assert "no AM/PM" in date_hint("MM/DD/YYYY HH12:MI:SS AM", "02/17/2020 12:19:00")
    assert date_hint("MM/DD/YYYY HH12:MI:SS AM", "02/17/2020 13:19:00 PM") == ""
    assert date_hint("DD.MM.YYYY HH24:MI", "32.01.2026 10:00") == ""
    assert date_hint("iso", "2026-02-30") == ""  # ISO in form, only not a real day
    assert "DD.MM.YYYY" in date_hint("iso", "30.01.2026")


def _excel_text(rows: list[dict[str, str]], delimiter: str, newline: str) -> str:
    from tests.etl_helpers import HEADER

    lines = [delimiter.join(HEADER)] + [delimiter.join(r[h] for h in HEADER) for r in rows]
    return newline.join(lines) + newline


def test_excels_sep_line_names_the_delimiter_and_is_not_the_header(engine, city, tmp_path):
    """Excel writes "sep=;" above the header; the rows' numbers stay the data rows'."""
    from tests.etl_helpers import rejects

    path = tmp_path / "sep.csv"
    text = _excel_text([row(lat="45,69", lon="21,90"), row(id="B", creat="31.02.2026")],
                       ";", "\r\n")
    path.write_text("sep=;\r\n" + text, encoding="cp1250")
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.inserted, result.reasons) == (1, {"bad_date": 1})
    assert [r["source_row"] for r in rejects(engine, result.run_id)] == [2]
    assert incidents(engine)[0]["description"] == "Groapă adâncă în carosabil"


@pytest.mark.parametrize(
    ("encoding", "newline", "delimiter"),
    [("utf-8", "\r", ","),         # Excel for Mac's "CSV (Macintosh)": a lone CR ends a line
     ("utf-16", "\r\n", "\t")],    # Excel's "Unicode text": UTF-16 with a BOM, tabs
)
def test_excels_other_text_exports(engine, city, tmp_path, encoding, newline, delimiter):
    path = tmp_path / "x.csv"
    with path.open("w", encoding=encoding, newline="") as fh:
        fh.write(_excel_text([row(), row(id="B")], delimiter, newline))
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.read, result.inserted, result.rejected) == (2, 2, 0)
    assert {i["description"] for i in incidents(engine)} == {"Groapă adâncă în carosabil"}


def test_a_day_first_file_under_a_month_first_format_is_named_in_the_rejects(
        engine, city, tmp_path):
    """Only the days past 12 fail; the message says the format that reads
    them, and that the other rows were read with day and month swapped."""
    from tests.etl_helpers import rejects

    path = write_csv(tmp_path / "dm.csv", [
        row(creat="04/05/2026 10:15"),                   # loads, as 5 April if day-first
        row(id="B", creat="17/05/2026 10:15"),           # 17 May, day first
        row(id="C", creat="45/05/2026 10:15"),           # no format reads it
        row(id="D", creat="05/04/2026 10:15", stare="Închisă", inchis="20/05/2026 09:00"),
    ])
    result = load_file(engine, path, "testville",
                       test_mapping(time__format="MM/DD/YYYY HH24:MI"))
    assert (result.inserted, result.reasons) == (1, {"bad_date": 3})
    day_first, nothing, closed = (r["message"] for r in rejects(engine, result.run_id))
    hint = ("it reads as a date with day and month swapped, 'DD/MM/YYYY HH24:MI': if that is"
            " the file's format, fix the mapping's [time] format and load the file again")
    assert day_first.startswith("'creat' '17/05/2026 10:15' does not match the format")
    assert hint in day_first
    assert hint not in nothing
    assert closed.startswith("'inchis' '20/05/2026 09:00'") and hint in closed


def test_day_and_month_swapped_in_a_format():
    from etl.messages import day_month_swapped

    assert day_month_swapped("MM/DD/YYYY HH12:MI:SS AM") == "DD/MM/YYYY HH12:MI:SS AM"
    assert day_month_swapped("DD.MM.YYYY HH24:MI") == "MM.DD.YYYY HH24:MI"
    assert day_month_swapped("YYYY-MM-DD") == "YYYY-DD-MM"
    assert day_month_swapped("iso") is None
    assert day_month_swapped("DD Mon YYYY") is None      # no MM: nothing to swap
    assert day_month_swapped("DDD YYYY HH24:MI") is None  # day of the year


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("DD.MM.YYYY HH24:MI", "15.03.2026 10:00", datetime(2026, 3, 15, 8, 0, tzinfo=UTC)),
        # Leading zeros, other separators, letter case: the same date.
        ("DD.MM.YYYY HH24:MI", "5.3.2026 9:05", datetime(2026, 3, 5, 7, 5, tzinfo=UTC)),
        ("DD.MM.YYYY HH24:MI", "15/03/2026  10:00", datetime(2026, 3, 15, 8, 0, tzinfo=UTC)),
        ("DD Mon YYYY HH24:MI", "05 JAN 2026 10:00", datetime(2026, 1, 5, 8, 0, tzinfo=UTC)),
        ("MM/DD/YYYY HH12:MI:SS AM", "2/7/2020 1:05:00 pm",
         datetime(2020, 2, 7, 11, 5, tzinfo=UTC)),
        ("YYYYMMDDHH24MI", "202603151000", datetime(2026, 3, 15, 8, 0, tzinfo=UTC)),
        # What to_timestamp() read without a word: now refused.
        ("DD.MM.YYYY HH24:MI", "00.00.2026 10:00", None),  # read as 1 January
        ("DD.MM.YYYY HH24:MI", "31.02.2026 10:00", None),  # carried into March
        ("DD.MM.YYYY HH24:MI", "15.03.2026 10:00:99", None),  # seconds past the pattern
        ("DD.MM.YYYY HH24:MI", "15.03.2026 10:00 UTC", None),  # a zone it would ignore
        ("DD.MM.YYYY HH24:MI", "15.03.2026 10:00 extra text", None),
        ("DD.MM.YYYY HH24:MI", "15.03.2026", None),  # no time given: not midnight
        ("DD.MM.YYYY HH24:MI", "15.03.2026 10:00 ąșț", None),  # words outside ASCII too
        # A number touching a word, as to_timestamp() reads it: the same date.
        ("MM/DD/YYYY HH12:MI AM", "3/15/2026 9:05PM", datetime(2026, 3, 15, 19, 5, tzinfo=UTC)),
        ("MM/DD/YYYY HH12:MIAM", "3/15/2026 9:05 PM", datetime(2026, 3, 15, 19, 5, tzinfo=UTC)),
        ("DD-Mon-YYYY", "15Mar2026", datetime(2026, 3, 14, 22, 0, tzinfo=UTC)),
    ],
)
def test_a_date_read_with_a_pattern_is_the_date_the_source_wrote(engine, fmt, text, expected):
    """Written back with the same pattern, the value read must be the source's
    (migration 0043): to_timestamp() reads what it can and drops the rest."""
    with engine.connect() as conn:
        ts, problem = conn.execute(
            sa.text("SELECT * FROM etl_local_time(:s, :f, 'Europe/Bucharest')"),
            {"s": text, "f": fmt},
        ).one()
    assert (ts, problem) == (expected, None if expected else "bad_date")


def test_a_byte_order_mark_is_no_part_of_a_name(engine, city, tmp_path):
    """Excel's and Notepad's "UTF-8 with BOM": the CSV loaded with an explicit
    --encoding utf-8 named its first column '\\ufeffid' (so: "no column id"),
    and a mapping saved so was "not valid TOML"."""
    from etl.mapping import load_mapping

    path = write_csv(tmp_path / "b.csv", [GOOD], encoding="utf-8-sig")
    for encoding in ("utf-8", "UTF8"):
        result = load_file(engine, path, "testville", test_mapping(), encoding=encoding)
        assert (result.read, result.rejected) == (1, 0)
    toml = tmp_path / "m.toml"
    toml.write_text('source = "bom"\n[columns]\nexternal_id = "id"\ncreated = "creat"\n'
                    '[time]\nformat = "YYYY-MM-DD HH24:MI"\n[category]\ncolumn = "tip"\n'
                    '[category.map]\n"Groapă" = "pothole"\n[geometry]\nlon = "lon"\nlat = "lat"\n',
                    "utf-8-sig")
    assert load_mapping(toml).source == "bom"
