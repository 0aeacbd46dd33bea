"""R7: the memory an upload can take is bounded, whatever its pixels compress to.

A photo's file size says little about its decoded size: a 1 KiB lossless
WebP or a 2 KiB PNG of one colour decodes to tens of megapixels.  Each file
here is the worst of its kind *inside* the limits (so it is accepted and
decoded), or just past them (so it must be refused before decoding).  Each
is processed in a fresh interpreter whose peak resident memory is read from
the kernel; then six of the worst arrive at once.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from sesizari import photos
from tests.conftest import REPO

MIB = 1024 * 1024
#: Peak memory one upload may add to a process.
PER_PHOTO_BUDGET = 448 * MIB
#: What an upload holds once decoded and shrunk: its 2048-pixel copy, being encoded.
AFTER_DECODING = 64 * MIB

#: Processes the files named on the command line in threads, all at once, and
#: prints the outcomes with the peak resident memory before and after.
_PROBE = """
import json, resource, sys, threading
from sesizari import photos
files = [open(p, "rb").read() for p in sys.argv[1:]]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out = [None] * len(files)
def run(i):
    try:
        done = photos.process_photo(files[i])
        out[i] = ["ok", done.mime, done.width, done.height]
    except photos.PhotoError as err:
        out[i] = ["refused", str(err.reason)]
threads = [threading.Thread(target=run, args=(i,)) for i in range(len(files))]
for t in threads:
    t.start()
for t in threads:
    t.join()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"outcomes": out, "added": peak - base}))
"""


def _probe(*files: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *map(str, files)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


W, H = 6000, 4000  # 24 MP: the PNG and WebP limit (checked below)
JPEG_SIDE = 6324  # 39.99 MP: the JPEG limit


def _half_alpha() -> Image.Image:
    return Image.new("RGBA", (W, H), (10, 20, 30, 128))


#: name -> (builder, format, save options, accepted?)
CORPUS = {
    "png-rgba": (_half_alpha, "PNG", {}, True),
    "png-la": (lambda: Image.new("LA", (W, H), (0, 128)), "PNG", {}, True),
    "png-16bit-grey": (lambda: Image.new("I;16", (W, H)), "PNG", {}, True),
    "png-palette-transparent": (lambda: Image.new("P", (W, H)), "PNG", {"transparency": 0}, True),
    "webp-lossless-rgba": (
        lambda: Image.new("RGBA", (16_383, 1_464), (0, 0, 0, 128)), "WEBP", {"lossless": True},
        True,
    ),
    "webp-lossless-rgb": (lambda: Image.new("RGB", (W, H)), "WEBP", {"lossless": True}, True),
    "jpeg-40mp": (lambda: Image.new("RGB", (JPEG_SIDE, JPEG_SIDE)), "JPEG", {}, True),
    "jpeg-40mp-cmyk": (lambda: Image.new("CMYK", (JPEG_SIDE, JPEG_SIDE)), "JPEG", {}, True),
    # Past the limits: refused from the header, before a pixel is decoded.
    "png-40mp": (lambda: Image.new("RGBA", (JPEG_SIDE, JPEG_SIDE)), "PNG", {}, False),
    "webp-40mp": (
        lambda: Image.new("RGBA", (16_383, 2_441)), "WEBP", {"lossless": True}, False
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    files = {}
    for name, (build, fmt, options, _) in CORPUS.items():
        path = folder / f"{name}.{fmt.lower()}"
        build().save(path, fmt, **options)
        files[name] = path
    return files


@pytest.mark.parametrize("name", list(CORPUS))
def test_one_upload_stays_within_its_memory_budget(corpus, name):
    path = corpus[name]
    accepted = CORPUS[name][3]
    assert path.stat().st_size < 2 * MIB  # the bomb: a small file
    result = _probe(path)
    outcome = result["outcomes"][0]
    if accepted:
        assert outcome[0] == "ok", outcome
        assert max(outcome[2:]) == photos.MAX_SIDE
        assert result["added"] < PER_PHOTO_BUDGET, f"{result['added'] / MIB:.0f} MiB"
    else:
        assert outcome == ["refused", "too_many_pixels"]
        assert result["added"] < 32 * MIB, f"{result['added'] / MIB:.0f} MiB"


def test_simultaneous_uploads_wait_their_turn(corpus):
    """Six of the heaviest at once take what DECODE_SLOTS of them take, not six times that."""
    heaviest = [corpus["webp-lossless-rgba"], corpus["png-la"]] * 3
    result = _probe(*heaviest)
    assert all(o[0] == "ok" for o in result["outcomes"]), result["outcomes"]
    # Past the decoding, each upload still holds its 2048-pixel copy while it is encoded.
    bound = photos.DECODE_SLOTS * PER_PHOTO_BUDGET + len(heaviest) * AFTER_DECODING
    assert result["added"] < bound, f"{result['added'] / MIB:.0f} MiB for 6 uploads"


def test_the_limits_say_what_to_do():
    assert W * H == photos.MAX_PIXELS_FULL_DECODE
    big = Image.new("RGB", (W + 8, H))
    buf = io.BytesIO()
    big.save(buf, "PNG")
    with pytest.raises(photos.PhotoError) as err:
        photos.process_photo(buf.getvalue())
    assert err.value.reason == photos.Reason.TOO_MANY_PIXELS
    assert "24 megapixels" in str(err.value) and "JPEG" in str(err.value)
