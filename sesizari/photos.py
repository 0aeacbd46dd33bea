"""Incident photos: verify, clean, store and attach uploaded images.

An upload is untrusted bytes from the internet.  It is never stored or served
as received: :func:`process_photo` decodes it with Pillow (the file name and
the declared MIME type are ignored), refuses anything that is not a clean
JPEG, PNG or WebP of sane size, and re-encodes the pixels into a brand-new
image.  Re-encoding is what removes the reporter's GPS position, camera serial
numbers, XMP/IPTC blocks, comments and anything appended to the file
(polyglots), so no metadata "stripping" list has to be kept complete.

Output format: photos without transparency become JPEG (quality 85);
photos whose alpha channel is really used become WebP (quality 85, exact
alpha), which every current browser shows and which is far smaller than PNG.
The longest side is at most :data:`MAX_SIDE` pixels and a thumbnail of at most
:data:`THUMB_SIDE` pixels is made in the same format.

Storage is content-addressed: the file name is the SHA-256 of the stored
(re-encoded) bytes, ``ab/cd/<sha256>.jpg`` plus ``ab/cd/<sha256>_thumb.jpg``,
under the ``SESIZARI_PHOTO_DIR`` setting.  Files are written atomically
(temporary file + ``os.replace``) so a reader never sees half a photo.

Files and rows cannot share a transaction, so :func:`attach_photo` and
:func:`remove_orphans` take a PostgreSQL advisory lock on the content hash:
the file is written under that lock and the lock is held until the row
commits.  A clean-up that gets the lock therefore sees either the committed
row (keep the file) or no writer at all (the file is an orphan).  A failed
attach removes the file it wrote; :func:`remove_orphans` is the backstop for
crashes and for files left behind when incidents are deleted.

This module has no user-interface dependency: the dashboard, the ETL and the
HTTP API all call it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy.engine import Connection, Engine

from sesizari.errors import NotFoundError, ValidationError
from sesizari.incidents import Actor, _city, _event, _lock
from sesizari.registry import normalize as normalize_number
from sesizari.settings import load_settings
from sesizari.vocab import EventKind, ro_count

log = logging.getLogger(__name__)

#: Largest upload accepted, before any decoding (bytes).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Largest declared image accepted (pixels); 40 MP covers every phone camera.
MAX_PIXELS = 40_000_000
#: Largest declared PNG or WebP accepted (pixels).  JPEG is decoded at a
#: reduced DCT scale (about 120 MiB at 40 MP); PNG and WebP are decoded
#: whole, WebP through libwebp's own buffers (about 4 bytes x 4 copies a
#: pixel): a 1 KiB WebP of 40 MP took 800 MiB.  24 MP is a 6000 x 4000
#: camera frame; phones send JPEG.
MAX_PIXELS_FULL_DECODE = 24_000_000
#: Photos decoded at once in one process; more wait their turn.  With
#: :data:`MAX_PIXELS_FULL_DECODE` this bounds the memory uploads can take
#: (``tests/test_photo_memory.py``), and two cores decode no faster with more.
DECODE_SLOTS = 2
#: Largest declared side accepted; refuses 1 x 40,000,000 strips too.
MAX_DECLARED_SIDE = 16_383
#: Longest side of the stored photo.
MAX_SIDE = 2048
#: Longest side of the thumbnail.
THUMB_SIDE = 320
#: Age after which :func:`remove_orphans` treats a temporary file as an interrupted write.
TMP_MIN_AGE_SECONDS = 600
#: Encoder quality of stored photos and thumbnails.
QUALITY = 85

#: Pillow format name -> accepted.  Only these decoders ever see an upload.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")

STAGES = ("report", "resolution")

_KEY_RE = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})(_thumb)?\.(jpg|webp)$")
_MIME_EXT = {"image/jpeg": "jpg", "image/webp": "webp"}

#: Magic numbers of image types people commonly try to upload but that are not
#: accepted, so the message can say "GIF is not accepted" rather than "not an
#: image".  These files are recognised by signature only, never decoded.
_OTHER_IMAGE_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"\x00\x00\x01\x00", 0, "ICO"),
    (b"8BPS", 0, "PSD"),
    (b"ftypheic", 4, "HEIC"),
    (b"ftypheix", 4, "HEIC"),
    (b"ftypmif1", 4, "HEIF"),
    (b"ftypavif", 4, "AVIF"),
    (b"\xff\x0a", 0, "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", 0, "JPEG XL"),
)


class Reason(StrEnum):
    """Why an upload was refused; stable codes for forms, logs and tests."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_TYPE = "unsupported_type"
    TOO_MANY_PIXELS = "too_many_pixels"
    CORRUPT = "corrupt"


class PhotoError(ValidationError):
    """An upload refused by :func:`process_photo`; ``reason`` is a :class:`Reason` code."""

    def __init__(self, reason: Reason, message: str, ro: str | None = None) -> None:
        super().__init__("photo", message, ro)
        self.reason = Reason(reason)


@dataclass(frozen=True)
class ProcessedPhoto:
    """A cleaned, re-encoded photo ready to store; holds no byte of the upload."""

    data: bytes = field(repr=False)
    thumbnail: bytes = field(repr=False)
    mime: str
    width: int
    height: int
    content_hash: str
    #: What the upload decoded as (``JPEG``, ``PNG``, ``WEBP``), for logs.
    source_format: str
    source_size: tuple[int, int]

    @property
    def extension(self) -> str:
        return _MIME_EXT[self.mime]

    @property
    def storage_key(self) -> str:
        """Where the photo lives under the photo folder: ``ab/cd/<sha256>.<ext>``."""
        h = self.content_hash
        return f"{h[:2]}/{h[2:4]}/{h}.{self.extension}"


@dataclass(frozen=True)
class AttachedPhoto:
    """Result of :func:`attach_photo`; ``created`` is False when it was already attached."""

    photo_id: int
    storage_key: str
    content_hash: str
    mime: str
    bytes: int
    width: int
    height: int
    created: bool


# -- processing ---------------------------------------------------------------


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _sniff_other(data: bytes) -> str | None:
    for magic, offset, name in _OTHER_IMAGE_SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return name
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        return "SVG"
    return None


def _sniff_allowed(data: bytes) -> str | None:
    """The accepted type ``data`` claims to be by its signature, if any."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return None


def _refuse_size(width: int, height: int, fmt: str | None = None) -> None:
    if width <= 0 or height <= 0:
        raise PhotoError(
            Reason.CORRUPT,
            f"not a valid image: it declares {width}x{height} pixels",
            ro=f"nu este o imagine validă: declară {width}x{height} pixeli",
        )
    if width * height > MAX_PIXELS or max(width, height) > MAX_DECLARED_SIDE:
        raise PhotoError(
            Reason.TOO_MANY_PIXELS,
            f"image too big: {width}x{height} pixels (at most {MAX_PIXELS // 1_000_000} "
            f"megapixels and {MAX_DECLARED_SIDE} pixels a side); send a smaller photo",
            ro=f"imagine prea mare: {width}x{height} pixeli (cel mult"
            f" {MAX_PIXELS // 1_000_000} de megapixeli și {MAX_DECLARED_SIDE} de pixeli"
            " pe latură); trimiteți o fotografie mai mică",
        )
    if fmt in ("PNG", "WEBP") and width * height > MAX_PIXELS_FULL_DECODE:
        raise PhotoError(
            Reason.TOO_MANY_PIXELS,
            f"image too big: {width}x{height} pixels (a {fmt} photo may have at most "
            f"{MAX_PIXELS_FULL_DECODE // 1_000_000} megapixels); send it as a JPEG or smaller",
            ro=f"imagine prea mare: {width}x{height} pixeli (o fotografie {fmt} poate avea cel"
            f" mult {MAX_PIXELS_FULL_DECODE // 1_000_000} de megapixeli); trimiteți-o ca JPEG"
            " sau mai mică",
        )


def _bomb(exc: Exception) -> PhotoError:
    """Pillow's own bomb refusal, reworded (it fires before the size is known to us)."""
    m = re.search(r"\((\d+) pixels\)", str(exc))
    declared = f"{int(m.group(1)):,} pixels" if m else "too many pixels"
    declared_ro = ro_count(int(m.group(1)), "pixeli") if m else "prea mulți pixeli"
    return PhotoError(
        Reason.TOO_MANY_PIXELS,
        f"image too big: it declares {declared} (at most {MAX_PIXELS // 1_000_000} "
        "megapixels); send a smaller photo",
        ro=f"imagine prea mare: declară {declared_ro} (cel mult {MAX_PIXELS // 1_000_000}"
        " de megapixeli); trimiteți o fotografie mai mică",
    )


def _open(data: bytes) -> Image.Image:
    """Open ``data`` with the allowed decoders only; headers are read, pixels are not."""
    try:
        img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise _bomb(exc) from None
    except UnidentifiedImageError:
        claimed = _sniff_allowed(data)
        if claimed:
            raise PhotoError(
                Reason.CORRUPT,
                f"the file starts like a {claimed} image but is damaged and cannot be read",
                ro=f"fișierul începe ca o imagine {claimed}, dar este deteriorat și nu poate"
                " fi citit",
            ) from None
        other = _sniff_other(data)
        if other:
            raise PhotoError(
                Reason.UNSUPPORTED_TYPE,
                f"{other} images are not accepted; send a JPEG, PNG or WebP photo",
                ro=f"imaginile {other} nu sunt acceptate; trimiteți o fotografie JPEG, PNG"
                " sau WebP",
            ) from None
        raise PhotoError(
            Reason.NOT_AN_IMAGE,
            "not an image: send a JPEG, PNG or WebP photo",
            ro="nu este o imagine: trimiteți o fotografie JPEG, PNG sau WebP",
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise PhotoError(
            Reason.CORRUPT,
            f"the image is damaged and cannot be read ({exc})",
            ro=f"imaginea este deteriorată și nu poate fi citită ({exc})",
        ) from None
    if img.format not in ALLOWED_FORMATS:  # pragma: no cover - ``formats`` already ensures it
        raise PhotoError(
            Reason.UNSUPPORTED_TYPE,
            f"{img.format} images are not accepted",
            ro=f"imaginile {img.format} nu sunt acceptate",
        )
    return img


def _decode(data: bytes) -> tuple[Image.Image, str]:
    """Fully decode the first frame, refusing bombs, truncation and corruption.

    Pillow's global limits (``Image.MAX_IMAGE_PIXELS``,
    ``ImageFile.LOAD_TRUNCATED_IMAGES``) are left as they are: the stricter
    limits of this module are checked here, on the declared size, before any
    pixel is decoded.  The warnings filter is process-wide while it is set;
    at worst it turns a concurrent bomb warning elsewhere into an error.
    """
    with warnings.catch_warnings():
        # Pillow warns (rather than fails) between its own limit and twice it.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = _open(data)
            _refuse_size(*probe.size, probe.format)
            # verify() checks what load() does not, e.g. every PNG chunk CRC.
            probe.verify()
            img = _open(data)
            _refuse_size(*img.size, img.format)
            fmt = img.format or "?"
            if fmt == "JPEG":
                # Let libjpeg decode at a reduced DCT scale when the photo is
                # far larger than what is kept: a near-identical result, less memory.
                img.draft("RGB", (MAX_SIDE, MAX_SIDE))
            img.load()
        except PhotoError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _bomb(exc) from None
        except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as exc:
            raise PhotoError(
                Reason.CORRUPT,
                f"the image is damaged or incomplete and cannot be read ({exc})",
                ro=f"imaginea este deteriorată sau incompletă și nu poate fi citită ({exc})",
            ) from None
    return img, fmt


def _oriented(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a photo with unreadable EXIF is kept as decoded.

    In place: a copy of a full-size decoded photo is its size again in memory.
    """
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception as exc:  # EXIF is attacker-controlled; orientation is best effort
        log.info("ignoring unreadable EXIF orientation: %s", exc)
    return img


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert pixels described by an embedded ICC profile to sRGB, since the profile is dropped.

    Without this, wide-gamut (Display P3) phone photos would look washed out.
    A profile that cannot be used is ignored: colours then stay as decoded.
    """
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(img, src, _SRGB, outputMode=out_mode)
    except Exception as exc:  # a hostile or broken profile must not stop the upload
        log.info("ignoring unusable ICC profile: %s", exc)
        return img
    return converted if converted is not None else img


def _normalised(img: Image.Image) -> Image.Image:
    """RGB, or RGBA when the photo really has transparency."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        img = img.convert("I").point(lambda v: v / 256).convert("L")
    elif img.mode == "F":
        img = img.convert("L")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        if img.mode != "RGBA":  # convert() copies even to the same mode
            img = img.convert("RGBA")
        lo, _hi = img.getchannel("A").getextrema()
        if lo == 255:  # fully opaque: the alpha channel carries nothing
            img = img.convert("RGB")
    elif img.mode != "RGB":
        img = img.convert("RGB")
    return img


def _encode(img: Image.Image, mime: str) -> bytes:
    out = io.BytesIO()
    if mime == "image/jpeg":
        img.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    else:
        img.save(out, "WEBP", quality=QUALITY, method=4, exact=True)
    return out.getvalue()


_DECODING = threading.BoundedSemaphore(DECODE_SLOTS)


def gps_point(data: bytes) -> tuple[float, float] | None:
    """The place a photo's EXIF says it was taken, as (lat, lon), or None.

    For the dispatcher's desk only (:mod:`sesizari.inbox`): a citizen's
    e-mail rarely says where, but the phone that took the picture often
    did.  Call it on a picture :func:`process_photo` accepted; the stored
    copy never keeps the tag.  Anything odd (no GPS, a broken tag, a place
    off the globe) is None, never an error.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            gps = img.getexif().get_ifd(0x8825)
        values = []
        for ref_tag, tag, negative in ((1, 2, "S"), (3, 4, "W")):
            degrees, minutes, seconds = (float(v) for v in gps[tag])
            value = degrees + minutes / 60 + seconds / 3600
            ref = gps.get(ref_tag, "")
            ref = ref.decode("ascii", "replace") if isinstance(ref, bytes) else str(ref)
            values.append(-value if ref.strip().upper() == negative else value)
    except Exception:  # a photo without GPS, or one whose tag is not numbers
        return None
    lat, lon = values
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat, lon) == (0.0, 0.0):
        return None  # NaN fails the range too; (0, 0) is a camera without a fix
    return lat, lon


def process_photo(data: bytes) -> ProcessedPhoto:
    """Verify an upload and return a cleaned, resized, re-encoded copy with its thumbnail.

    Raises :class:`PhotoError` (a :class:`ValidationError` on field ``photo``)
    with a :class:`Reason` code and a message for the person who sent it.
    """
    if not data:
        raise PhotoError(Reason.EMPTY, "the file is empty", ro="fișierul este gol")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError(
            Reason.TOO_LARGE,
            f"too large: {_megabytes(len(data))} > {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
            "send a smaller photo",
            ro=f"prea mare: {_megabytes(len(data)).replace('.', ',')} >"
            f" {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; trimiteți o fotografie mai mică",
        )
    with _DECODING:  # the full-size pixels of at most DECODE_SLOTS photos at a time
        decoded, fmt = _decode(bytes(data))
        source_size = decoded.size
        icc = decoded.info.get("icc_profile")
        img = _oriented(decoded)
        img = _to_srgb(img, icc if isinstance(icc, bytes) else None)
        img = _normalised(img)
        # Shrink before copying, so the copy costs at most MAX_SIDE² pixels of memory.
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        # A brand-new image holding only the pixels: no info, EXIF, XMP, ICC, comments.
        clean = Image.frombytes(img.mode, img.size, img.tobytes())
        del decoded, img
    mime = "image/webp" if clean.mode == "RGBA" else "image/jpeg"
    stored = _encode(clean, mime)
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        data=stored,
        thumbnail=_encode(thumb, mime),
        mime=mime,
        width=clean.width,
        height=clean.height,
        content_hash=hashlib.sha256(stored).hexdigest(),
        source_format=fmt,
        source_size=source_size,
    )


# -- storage ------------------------------------------------------------------


def photo_dir() -> Path:
    """The configured photo folder (``SESIZARI_PHOTO_DIR``)."""
    return load_settings().photo_dir


def thumb_key(storage_key: str) -> str:
    """Storage key of the thumbnail that goes with ``storage_key``."""
    stem, dot, ext = storage_key.rpartition(".")
    return f"{stem}_thumb{dot}{ext}"


def photo_path(storage_key: str, root: Path | None = None) -> Path:
    """Absolute path of a stored photo or thumbnail.

    Only keys of the store's own shape are accepted, so a key read from
    anywhere can never point outside the photo folder.
    """
    if not _KEY_RE.match(storage_key or ""):
        raise ValueError(f"not a photo storage key: {storage_key!r}")
    return (root or photo_dir()) / storage_key


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _store(photo: ProcessedPhoto, root: Path) -> None:
    # Thumbnail first: once the main file exists, its thumbnail does too.
    _write_atomic(photo_path(thumb_key(photo.storage_key), root), photo.thumbnail)
    _write_atomic(photo_path(photo.storage_key, root), photo.data)


def _lock_key(content_hash: str) -> int:
    """Advisory-lock id of a photo: the first 64 bits of its hash."""
    return int.from_bytes(bytes.fromhex(content_hash[:16]), "big", signed=True)


def _take_lock(conn: Connection, content_hash: str) -> None:
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(content_hash)})


def _is_referenced(conn: Connection, storage_key: str) -> bool:
    return bool(
        conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM photos WHERE storage_key = :k)"),
            {"k": storage_key},
        ).scalar_one()
    )


def _discard_if_unreferenced(engine: Engine, storage_key: str, root: Path) -> bool:
    """Delete a photo and its thumbnail unless a row uses it; True when deleted."""
    m = _KEY_RE.match(storage_key)
    if m is None:
        return False
    with engine.begin() as conn:
        _take_lock(conn, m.group(3))
        if _is_referenced(conn, storage_key):
            return False
        photo_path(thumb_key(storage_key), root).unlink(missing_ok=True)
        photo_path(storage_key, root).unlink(missing_ok=True)
    return True


# -- attaching ----------------------------------------------------------------


def attach_photo(
    engine: Engine,
    city_slug: str,
    registry_number: str,
    data: bytes | ProcessedPhoto,
    stage: str,
    actor: Actor,
    public: bool = False,
    *,
    root: Path | None = None,
) -> AttachedPhoto:
    """Clean, store and attach a photo to an incident, with its event, in one transaction.

    ``stage`` is ``report`` (what the citizen saw) or ``resolution`` (the fix).
    Attaching the same photo again to the same incident and stage changes
    nothing and returns the existing row with ``created=False``.

    The event is a ``note`` for a private photo and a ``public_update`` for a
    public one, so it appears on the citizen's timeline exactly when the photo
    does; its ``data.photo`` names the photo row.
    """
    if stage not in STAGES:
        raise ValidationError(
            "stage",
            f"unknown stage {stage!r}; use one of {list(STAGES)}",
            ro=f"etapă necunoscută {stage!r}; folosiți una dintre {list(STAGES)}",
        )
    # outside the transaction: CPU work holds no lock.  Callers that must refuse a
    # whole batch before writing anything pass photos they already processed.
    photo = data if isinstance(data, ProcessedPhoto) else process_photo(data)
    root = root or photo_dir()
    key = photo.storage_key
    wrote = False
    try:
        with engine.begin() as conn:
            ref = _lock(conn, city_slug, registry_number)
            _take_lock(conn, photo.content_hash)
            wrote = True  # set first: a half-done _store is cleaned up too
            _store(photo, root)
            photo_id = conn.execute(
                sa.text(
                    "INSERT INTO photos (city_id, incident_id, stage, content_hash, mime, bytes,"
                    " width, height, storage_key, is_public, uploaded_by)"
                    " VALUES (:c, :i, :s, :h, :m, :b, :w, :ht, :k, :p, :u)"
                    " ON CONFLICT (city_id, incident_id, stage, content_hash) DO NOTHING"
                    " RETURNING photo_id"
                ),
                {
                    "c": ref.city.city_id,
                    "i": ref.incident_id,
                    "s": stage,
                    "h": photo.content_hash,
                    "m": photo.mime,
                    "b": len(photo.data),
                    "w": photo.width,
                    "ht": photo.height,
                    "k": key,
                    "p": public,
                    "u": actor.user_id,
                },
            ).scalar_one_or_none()
            if photo_id is None:
                row = conn.execute(
                    sa.text(
                        "SELECT photo_id, storage_key, content_hash, mime, bytes, width, height"
                        " FROM photos WHERE city_id = :c AND incident_id = :i AND stage = :s"
                        " AND content_hash = :h"
                    ),
                    {
                        "c": ref.city.city_id,
                        "i": ref.incident_id,
                        "s": stage,
                        "h": photo.content_hash,
                    },
                ).one()
                return AttachedPhoto(**row._mapping, created=False)
            _event(
                conn,
                ref.city.city_id,
                ref.incident_id,
                EventKind.PUBLIC_UPDATE if public else EventKind.NOTE,
                actor,
                public=public,
                body=None,  # the page shows the photo itself: no text to translate
                data={
                    "photo": {
                        "photo_id": photo_id,
                        "stage": stage,
                        "content_hash": photo.content_hash,
                    }
                },
            )
    except BaseException:
        if wrote:
            try:
                _discard_if_unreferenced(engine, key, root)
            except Exception:  # the database is gone too: remove_orphans will do it
                log.warning("could not remove unattached photo %s", key, exc_info=True)
        raise
    return AttachedPhoto(
        photo_id=photo_id,
        storage_key=key,
        content_hash=photo.content_hash,
        mime=photo.mime,
        bytes=len(photo.data),
        width=photo.width,
        height=photo.height,
        created=True,
    )


def photos_for(
    conn: Connection, city_slug: str, registry_number: str, public_only: bool = False
) -> list[dict[str, Any]]:
    """The incident's photos, oldest first (``public_only`` for public pages)."""
    city = _city(conn, city_slug)
    number = normalize_number(registry_number)
    incident_id = conn.execute(
        sa.text("SELECT incident_id FROM incidents WHERE city_id = :c AND registry_number = :n"),
        {"c": city.city_id, "n": number},
    ).scalar_one_or_none()
    if incident_id is None:
        raise NotFoundError(
            f"No incident {registry_number!r} in {city.name_ro}",
            ro=f"Nu există sesizarea {registry_number!r} în {city.name_ro}",
        )
    rows = conn.execute(
        sa.text(
            "SELECT photo_id, stage, content_hash, mime, bytes, width, height, storage_key,"
            " is_public, uploaded_by, uploaded_at FROM photos"
            " WHERE city_id = :c AND incident_id = :i AND (NOT :pub OR is_public)"
            " ORDER BY uploaded_at, photo_id"
        ),
        {"c": city.city_id, "i": incident_id, "pub": public_only},
    )
    out = []
    for r in rows:
        item = dict(r._mapping)
        item["thumb_key"] = thumb_key(item["storage_key"])
        out.append(item)
    return out


# -- clean-up -----------------------------------------------------------------


def _stored_files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for first in root.iterdir():
        if not (first.is_dir() and re.fullmatch(r"[0-9a-f]{2}", first.name)):
            continue
        for second in first.iterdir():
            if second.is_dir() and re.fullmatch(r"[0-9a-f]{2}", second.name):
                yield from (p for p in second.iterdir() if p.is_file())


def remove_orphans(
    engine: Engine,
    grace: timedelta | float = timedelta(hours=1),
    *,
    root: Path | None = None,
) -> list[str]:
    """Delete stored photos no row refers to, if older than ``grace``; return their keys.

    The grace period spares uploads in flight and interrupted temporary files
    younger than it; the advisory lock (see the module docstring) makes the
    decision safe against a concurrent :func:`attach_photo` of the same photo.
    """
    root = root or photo_dir()
    grace_s = grace.total_seconds() if isinstance(grace, timedelta) else float(grace)
    now = time.time()
    cutoff = now - grace_s
    # A temporary file lives for the milliseconds of one write; only one far
    # older than that is an interrupted write, whatever ``grace`` says.
    tmp_cutoff = now - max(grace_s, TMP_MIN_AGE_SECONDS)
    candidates: set[str] = set()
    recent: set[str] = set()
    for path in _stored_files(root):
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            continue
        old = mtime < cutoff
        if path.name.startswith(".tmp-"):
            if mtime < tmp_cutoff:
                path.unlink(missing_ok=True)  # an interrupted write
            continue
        m = _KEY_RE.match(path.relative_to(root).as_posix())
        if m is None:
            continue  # not ours: leave foreign files alone
        # A photo and its thumbnail are judged together, by the younger of the two.
        key = f"{m.group(1)}/{m.group(2)}/{m.group(3)}.{m.group(5)}"
        (candidates if old else recent).add(key)
    candidates -= recent
    if not candidates:
        return []
    with engine.connect() as conn:
        used = set(
            conn.execute(
                sa.text("SELECT DISTINCT storage_key FROM photos WHERE storage_key = ANY(:k)"),
                {"k": sorted(candidates)},
            ).scalars()
        )
    removed = []
    for key in sorted(candidates - used):
        if _discard_if_unreferenced(engine, key, root):
            removed.append(key)
    return removed
