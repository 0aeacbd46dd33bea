"""The photo pipeline against a hostile corpus, and the store against a real database.

Every refused upload is built here with Pillow (or by hand, byte by byte), so
the corpus documents the attacks it stands for: metadata leaks, decompression
bombs, disguised files, truncation, polyglots.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, ImageCms

from sesizari import photos
from sesizari.errors import NotFoundError, ValidationError
from sesizari.incidents import Actor, NewIncident, create_incident, get_events
from sesizari.photos import (
    MAX_UPLOAD_BYTES,
    PhotoError,
    Reason,
    attach_photo,
    photo_path,
    photos_for,
    process_photo,
    remove_orphans,
    thumb_key,
)
from sesizari.settings import load_settings
from tests.conftest import TEST_LAT, TEST_LON, count

CLERK = Actor("ana", None, "staff")
CANARIES = (
    b"CANARY-GPS-4242",
    b"CANARY-MAKE-7331",
    b"CANARY-XMP-2222",
    b"CANARY-IPTC-3333",
    b"CANARY-COMMENT-1111",
    b"CANARY-PNGTEXT-5555",
)

# -- corpus builders ----------------------------------------------------------


def _save(img: Image.Image, fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kw)
    return out.getvalue()


def _gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A non-uniform picture, so resizing and re-encoding do real work."""
    g = Image.linear_gradient("L").resize(size)
    if mode == "L":
        return g
    return Image.merge("RGB", (g, g.transpose(Image.Transpose.FLIP_LEFT_RIGHT), g)).convert(mode)


def _jpeg(size: tuple[int, int] = (300, 200), **kw: object) -> bytes:
    return _save(_gradient(size), "JPEG", **kw)


def _png(size: tuple[int, int] = (300, 200), mode: str = "RGB", **kw: object) -> bytes:
    return _save(_gradient(size, "RGB").convert(mode), "PNG", **kw)


def _webp(size: tuple[int, int] = (300, 200), **kw: object) -> bytes:
    return _save(_gradient(size), "WEBP", **kw)


def _exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "CANARY-MAKE-7331"  # Make
    exif[0x0110] = "Model CANARY-MAKE-7331"  # Model
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[0x0001] = "N"  # GPSLatitudeRef
    gps[0x0002] = (45.0, 41.0, 12.5)  # GPSLatitude
    gps[0x0008] = "CANARY-GPS-4242"  # GPSSatellites
    return exif


def _with_app13(jpeg: bytes) -> bytes:
    """Insert a Photoshop/IPTC APP13 segment right after SOI."""
    iptc = b"\x1c\x02\x78" + struct.pack(">H", 16) + b"CANARY-IPTC-3333"
    body = b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def _leaky_jpeg(size: tuple[int, int] = (400, 200), orientation: int | None = None) -> bytes:
    return _with_app13(
        _save(
            _gradient(size),
            "JPEG",
            exif=_exif(orientation),
            comment=b"CANARY-COMMENT-1111",
            xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>CANARY-XMP-2222</x:xmpmeta>",
            icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        )
    )


def _leaky_png() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "CANARY-PNGTEXT-5555")
    info.add_itxt("XML:com.adobe.xmp", "CANARY-XMP-2222")
    return _save(_gradient((320, 240)), "PNG", pnginfo=info, exif=_exif())


def _leaky_webp() -> bytes:
    return _save(
        _gradient((320, 240)),
        "WEBP",
        exif=_exif(),
        xmp=b"<x:xmpmeta>CANARY-XMP-2222</x:xmpmeta>",
    )


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims ``width`` x ``height``, with a valid CRC."""
    data = bytearray(_png((8, 8), "L"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def _jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose SOF0 header claims ``width`` x ``height``."""
    data = bytearray(_jpeg((64, 64)))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _webp_declaring(width: int, height: int) -> bytes:
    """A small lossless WebP whose VP8L header claims ``width`` x ``height``."""
    data = bytearray(_save(Image.new("RGB", (64, 64)), "WEBP", lossless=True))
    at = data.find(b"VP8L") + 9
    data[at : at + 4] = ((width - 1) | ((height - 1) << 14)).to_bytes(4, "little")
    return bytes(data)


def _png_bad_idat_crc() -> bytes:
    data = bytearray(_png())
    data[data.find(b"IDAT") + 6] ^= 0xFF
    return bytes(data)


def _png_bad_ihdr_crc() -> bytes:
    data = bytearray(_png())
    data[20] ^= 0x01
    return bytes(data)


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("photo.jpg", _jpeg())
    return out.getvalue()


def _padded_jpeg() -> bytes:
    data = _jpeg()
    return data + b"\0" * (MAX_UPLOAD_BYTES + 1 - len(data))


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


REFUSED: list[tuple[str, Callable[[], bytes], Reason]] = [
    ("empty", lambda: b"", Reason.EMPTY),
    ("random-11MB", lambda: os.urandom(11 * 1024 * 1024), Reason.TOO_LARGE),
    ("jpeg-padded-over-10MB", _padded_jpeg, Reason.TOO_LARGE),
    ("text-named-jpg", lambda: b"hello, this is photo.jpg\n", Reason.NOT_AN_IMAGE),
    ("pdf", lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", Reason.NOT_AN_IMAGE),
    ("pdf-wrapping-jpeg", lambda: b"%PDF-1.4\n" + _jpeg(), Reason.NOT_AN_IMAGE),
    ("html-before-jpeg", lambda: b"<html><script>alert(1)</script>" + _jpeg(), Reason.NOT_AN_IMAGE),
    ("zip-holding-jpeg", _zip, Reason.NOT_AN_IMAGE),
    ("elf-executable", lambda: b"\x7fELF\x02\x01\x01" + b"\0" * 200, Reason.NOT_AN_IMAGE),
    ("random-bytes", lambda: os.urandom(4096), Reason.NOT_AN_IMAGE),
    ("gif", lambda: _save(_gradient((50, 50)), "GIF"), Reason.UNSUPPORTED_TYPE),
    ("bmp", lambda: _save(_gradient((50, 50)), "BMP"), Reason.UNSUPPORTED_TYPE),
    ("tiff", lambda: _save(_gradient((50, 50)), "TIFF"), Reason.UNSUPPORTED_TYPE),
    ("ico", lambda: _save(_gradient((32, 32)), "ICO"), Reason.UNSUPPORTED_TYPE),
    (
        "svg",
        lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
        Reason.UNSUPPORTED_TYPE,
    ),
    ("heic", lambda: b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64, Reason.UNSUPPORTED_TYPE),
    ("avif", lambda: b"\0\0\0\x1cftypavif\0\0\0\0avifmif1" + b"\0" * 64, Reason.UNSUPPORTED_TYPE),
    ("png-bomb-30000x30000", lambda: _png_declaring(30000, 30000), Reason.TOO_MANY_PIXELS),
    ("png-declares-7000x7000", lambda: _png_declaring(7000, 7000), Reason.TOO_MANY_PIXELS),
    ("png-strip-100000x1", lambda: _png_declaring(100_000, 1), Reason.TOO_MANY_PIXELS),
    (
        "png-real-7000x6000",
        lambda: _save(Image.new("1", (7000, 6000)), "PNG"),
        Reason.TOO_MANY_PIXELS,
    ),
    ("jpeg-declares-9000x9000", lambda: _jpeg_declaring(9000, 9000), Reason.TOO_MANY_PIXELS),
    # Between Pillow's warning and error limits: the warning must become a refusal.
    ("jpeg-declares-10000x10000", lambda: _jpeg_declaring(10000, 10000), Reason.TOO_MANY_PIXELS),
    ("jpeg-bomb-60000x60000", lambda: _jpeg_declaring(60000, 60000), Reason.TOO_MANY_PIXELS),
    ("webp-bomb-16384x16384", lambda: _webp_declaring(16384, 16384), Reason.TOO_MANY_PIXELS),
    ("jpeg-truncated", lambda: _half(_jpeg((800, 600))), Reason.CORRUPT),
    ("jpeg-headers-only", lambda: _jpeg()[:200], Reason.CORRUPT),
    ("jpeg-soi-then-zeros", lambda: b"\xff\xd8\xff\xe0" + b"\0" * 100, Reason.CORRUPT),
    ("png-truncated", lambda: _half(_png()), Reason.CORRUPT),
    ("png-bad-idat-crc", _png_bad_idat_crc, Reason.CORRUPT),
    ("png-bad-ihdr-crc", _png_bad_ihdr_crc, Reason.CORRUPT),
    ("png-zero-width", lambda: _png_declaring(0, 10), Reason.CORRUPT),
    ("webp-truncated", lambda: _half(_webp()), Reason.CORRUPT),
]


@pytest.mark.parametrize(("build", "reason"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_hostile_upload_is_refused_with_its_reason(build: Callable[[], bytes], reason: Reason):
    with pytest.raises(PhotoError) as info:
        process_photo(build())
    err = info.value
    assert err.reason is reason, err.message
    assert isinstance(err, ValidationError)
    assert err.field == "photo"
    assert err.message and "photo:" in str(err)


def test_refusal_messages_say_why():
    with pytest.raises(PhotoError, match=r"too large: 12\.0 MB > 10 MB"):
        process_photo(b"\0" * (12 * 1024 * 1024))
    with pytest.raises(PhotoError, match="image too big: 7000x7000 pixels"):
        process_photo(_png_declaring(7000, 7000))
    with pytest.raises(PhotoError, match="not an image"):
        process_photo(b"plain text")
    with pytest.raises(PhotoError, match="GIF images are not accepted"):
        process_photo(_save(_gradient((10, 10)), "GIF"))


# -- what comes out -------------------------------------------------------------


def _decoded(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize(
    "build", [_leaky_jpeg, _leaky_png, _leaky_webp], ids=["jpeg", "png", "webp"]
)
def test_metadata_never_survives(build: Callable[[], bytes]):
    upload = build()
    assert any(c in upload for c in CANARIES), "the corpus itself must carry canaries"
    out = process_photo(upload)
    for blob in (out.data, out.thumbnail):
        for canary in CANARIES:
            assert canary not in blob
        assert b"Exif" not in blob and b"http://ns.adobe.com" not in blob
        img = _decoded(blob)
        assert len(img.getexif()) == 0
        for key in ("exif", "xmp", "icc_profile", "comment", "photoshop", "Comment"):
            assert key not in img.info
    assert out.mime == "image/jpeg"


def test_exif_orientation_is_applied():
    out = process_photo(_leaky_jpeg((400, 200), orientation=6))
    assert (out.width, out.height) == (200, 400)
    assert _decoded(out.data).size == (200, 400)
    assert len(_decoded(out.data).getexif()) == 0  # no orientation left to apply twice


def test_large_photo_is_resized_and_thumbnailed():
    out = process_photo(_jpeg((5000, 3000), quality=70))
    assert out.source_size == (5000, 3000)
    assert out.width == 2048 and abs(out.height - 1229) <= 1
    assert _decoded(out.data).size == (out.width, out.height)
    thumb = _decoded(out.thumbnail)
    assert max(thumb.size) == 320
    assert out.content_hash == hashlib.sha256(out.data).hexdigest()


ACCEPTED: list[tuple[str, Callable[[], bytes], str, tuple[int, int]]] = [
    ("png-named-anything", lambda: _png((300, 200)), "image/jpeg", (300, 200)),
    ("webp-lossy", lambda: _webp((300, 200)), "image/jpeg", (300, 200)),
    ("grayscale-jpeg", lambda: _save(_gradient((120, 90), "L"), "JPEG"), "image/jpeg", (120, 90)),
    ("cmyk-jpeg", lambda: _save(_gradient((120, 90), "CMYK"), "JPEG"), "image/jpeg", (120, 90)),
    ("png-16-bit", lambda: _save(_gradient((64, 48), "L").convert("I;16"), "PNG"),
     "image/jpeg", (64, 48)),
    ("opaque-rgba-png", lambda: _png((80, 60), "RGBA"), "image/jpeg", (80, 60)),
    ("palette-png-transparent", lambda: _save(Image.new("P", (40, 30)), "PNG", transparency=0),
     "image/webp", (40, 30)),
    ("rgba-webp-with-alpha", lambda: _save(Image.new("RGBA", (40, 30), (9, 9, 9, 100)), "WEBP"),
     "image/webp", (40, 30)),
    ("one-pixel", lambda: _jpeg((1, 1)), "image/jpeg", (1, 1)),
    ("panorama", lambda: _jpeg((10000, 1000)), "image/jpeg", (2048, 205)),
    ("jpeg-with-trailing-html", lambda: _jpeg() + b"<script>alert('CANARY')</script>",
     "image/jpeg", (300, 200)),
    ("animated-webp-first-frame",
     lambda: _save(_gradient((60, 40)), "WEBP", save_all=True,
                   append_images=[Image.new("RGB", (60, 40))] * 3),
     "image/jpeg", (60, 40)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "mime", "size"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_edge_cases_are_accepted_and_normalised(
    build: Callable[[], bytes], mime: str, size: tuple[int, int]
):
    out = process_photo(build())
    assert out.mime == mime
    assert (out.width, out.height) == size
    img = _decoded(out.data)
    assert img.format == ("JPEG" if mime == "image/jpeg" else "WEBP")
    assert img.size == size
    assert b"CANARY" not in out.data and b"<script" not in out.data
    assert out.storage_key.endswith("." + out.extension)


def test_processing_is_deterministic():
    upload = _leaky_jpeg()
    assert process_photo(upload).content_hash == process_photo(upload).content_hash


# -- settings and paths -----------------------------------------------------------


def test_photo_dir_setting(tmp_path: Path):
    assert load_settings({"SESIZARI_DATA_DIR": str(tmp_path)}).photo_dir == tmp_path / "photos"
    own = tmp_path / "elsewhere"
    assert load_settings({"SESIZARI_PHOTO_DIR": str(own)}).photo_dir == own


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "/etc/passwd", "ab/cd/x.jpg", "ab/cd/" + "0" * 64 + ".gif", ""],
)
def test_photo_path_refuses_foreign_keys(key: str, tmp_path: Path):
    with pytest.raises(ValueError, match="not a photo storage key"):
        photo_path(key, tmp_path)


# -- attaching, against the database ------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "photos"
    monkeypatch.setenv("SESIZARI_PHOTO_DIR", str(root))
    return root


def _incident(engine) -> str:
    return create_incident(
        engine, NewIncident("testville", "pothole", TEST_LAT, TEST_LON, "Groapă adâncă")
    ).registry_number


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_attach_stores_a_clean_file_that_agrees_with_its_row(engine, city, store):
    number = _incident(engine)
    upload = _leaky_jpeg(orientation=6)
    attached = attach_photo(engine, "testville", number, upload, "report", CLERK)
    assert attached.created
    path = photo_path(attached.storage_key)
    assert path.is_relative_to(store)
    stored = path.read_bytes()
    assert stored != upload and not any(c in stored for c in CANARIES)
    h = hashlib.sha256(stored).hexdigest()
    assert attached.storage_key == f"{h[:2]}/{h[2:4]}/{h}.jpg"
    assert photo_path(thumb_key(attached.storage_key)).name == f"{h}_thumb.jpg"
    assert _files(store) == sorted([attached.storage_key, thumb_key(attached.storage_key)])
    with engine.connect() as conn:
        (row,) = photos_for(conn, "testville", number)
        events = get_events(conn, "testville", number)
    assert row["content_hash"] == h and row["bytes"] == len(stored)
    assert (row["width"], row["height"]) == _decoded(stored).size == (200, 400)
    assert row["mime"] == "image/jpeg" and row["stage"] == "report"
    assert row["is_public"] is False and row["storage_key"] == attached.storage_key
    assert events[-1]["kind"] == "note"
    assert events[-1]["data"]["photo"]["photo_id"] == attached.photo_id


def test_same_photo_twice_is_a_no_op(engine, city, store):
    number = _incident(engine)
    upload = _jpeg()
    first = attach_photo(engine, "testville", number, upload, "report", CLERK)
    second = attach_photo(engine, "testville", number, upload, "report", CLERK)
    assert not second.created and second.photo_id == first.photo_id
    assert count(engine, "photos") == 1
    assert count(engine, "incident_events WHERE kind = 'note'") == 1
    # The same picture as a resolution photo is another row, sharing the file.
    third = attach_photo(engine, "testville", number, upload, "resolution", CLERK, public=True)
    assert third.created and third.storage_key == first.storage_key
    assert count(engine, "photos") == 2
    assert len(_files(store)) == 2
    with engine.connect() as conn:
        public = photos_for(conn, "testville", number, public_only=True)
        events = get_events(conn, "testville", number, public_only=True)
    assert [p["stage"] for p in public] == ["resolution"]
    assert events[-1]["kind"] == "public_update"


def test_refusals_write_nothing(engine, city, store):
    number = _incident(engine)
    with pytest.raises(PhotoError):
        attach_photo(engine, "testville", number, b"GIF89a...", "report", CLERK)
    with pytest.raises(ValidationError, match="stage"):
        attach_photo(engine, "testville", number, _jpeg(), "before", CLERK)
    with pytest.raises(NotFoundError):
        attach_photo(engine, "testville", "TST-2026-999999", _jpeg(), "report", CLERK)
    with pytest.raises(ValidationError, match="city"):
        attach_photo(engine, "nowhere", number, _jpeg(), "report", CLERK)
    assert count(engine, "photos") == 0
    assert _files(store) == []


def test_failed_insert_leaves_no_orphan_but_keeps_shared_files(engine, city, store):
    number = _incident(engine)
    ghost = Actor("ghost", 999_999, "staff")  # no such user: the row's foreign key fails
    with pytest.raises(sa.exc.IntegrityError):
        attach_photo(engine, "testville", number, _jpeg(), "report", ghost)
    assert count(engine, "photos") == 0
    assert _files(store) == []
    # A file another row already uses survives a failed attach of the same photo.
    kept = attach_photo(engine, "testville", number, _jpeg(), "report", CLERK)
    other = _incident(engine)
    with pytest.raises(sa.exc.IntegrityError):
        attach_photo(engine, "testville", other, _jpeg(), "report", ghost)
    assert photo_path(kept.storage_key).is_file()
    assert photo_path(thumb_key(kept.storage_key)).is_file()


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_remove_orphans_after_grace_only(engine, city, store):
    number = _incident(engine)
    kept = attach_photo(engine, "testville", number, _jpeg((100, 100)), "report", CLERK)
    old_orphan = process_photo(_jpeg((120, 100)))
    new_orphan = process_photo(_jpeg((140, 100)))
    photos._store(old_orphan, store)
    photos._store(new_orphan, store)
    for key in (kept.storage_key, old_orphan.storage_key):
        _age(photo_path(key), 7200)
        _age(photo_path(thumb_key(key)), 7200)
    stale_tmp = photo_path(old_orphan.storage_key).parent / ".tmp-interrupted"
    stale_tmp.write_bytes(b"half a photo")
    _age(stale_tmp, 7200)
    foreign = store / "README.txt"
    foreign.write_text("not a photo")
    _age(foreign, 7200)

    removed = remove_orphans(engine, 3600)

    assert removed == [old_orphan.storage_key]
    assert not photo_path(old_orphan.storage_key).exists()
    assert not photo_path(thumb_key(old_orphan.storage_key)).exists()
    assert not stale_tmp.exists()
    assert photo_path(new_orphan.storage_key).exists()  # younger than the grace period
    assert photo_path(kept.storage_key).exists()  # has a row
    assert foreign.exists()
    assert remove_orphans(engine, 3600) == []


def test_photos_of_a_deleted_incident_are_collected(engine, city, store):
    number = _incident(engine)
    attached = attach_photo(engine, "testville", number, _png(), "report", CLERK)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM incidents WHERE registry_number = :n"), {"n": number})
    assert count(engine, "photos") == 0
    assert remove_orphans(engine, 0) == [attached.storage_key]
    assert _files(store) == []


def test_photos_for_unknown_incident(engine, city):
    with engine.connect() as conn, pytest.raises(NotFoundError):
        photos_for(conn, "testville", "TST-2026-000404")


def test_unusable_icc_profile_is_ignored():
    upload = _save(_gradient((64, 48)), "JPEG", icc_profile=b"CANARY-ICC-6666" * 40)
    out = process_photo(upload)
    assert b"CANARY-ICC" not in out.data
    assert "icc_profile" not in _decoded(out.data).info


def test_concurrent_attach_and_clean_up_never_lose_a_file(engine, city, store):
    """Clean-up running flat out (no grace) while the same photo is attached everywhere."""
    numbers = [_incident(engine) for _ in range(6)]
    upload = _jpeg((90, 70))
    stop = threading.Event()
    errors: list[BaseException] = []

    def sweep() -> None:
        while not stop.is_set():
            try:
                remove_orphans(engine, 0)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
                return

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            done = list(
                pool.map(
                    lambda n: attach_photo(engine, "testville", n, upload, "report", CLERK),
                    numbers * 2,
                )
            )
    finally:
        stop.set()
        sweeper.join()
    assert not errors
    assert sum(a.created for a in done) == len(numbers)
    assert count(engine, "photos") == len(numbers)
    key = done[0].storage_key
    assert photo_path(key).is_file() and photo_path(thumb_key(key)).is_file()
    assert remove_orphans(engine, 0) == []


def test_clean_command(engine, city, store, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from sesizari import db
    from sesizari.cli import app

    orphan = process_photo(_jpeg((50, 50)))
    photos._store(orphan, store)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    db._engine_for.cache_clear()
    try:
        young = CliRunner().invoke(app, ["photos", "clean"])
        now = CliRunner().invoke(app, ["photos", "clean", "--grace-minutes", "0"])
    finally:
        db.get_engine().dispose()
        db._engine_for.cache_clear()
    assert young.exit_code == 0 and "removed: 0" in young.output
    assert now.exit_code == 0, now.output
    assert f"removed {orphan.storage_key}" in now.output
    assert _files(store) == []
