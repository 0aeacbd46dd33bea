"""What `sesizari backup` costs against PostgreSQL's and tar's own tools.

Loads the demo (N incidents) and P photos into a throw-away cluster (fsync
off, like the tests), then times, in the same process:

- the baseline backup: ``pg_dump -Fc`` (the same options) and ``tar -cf``
  of the photo folder, one after the other;
- ``backup create`` (snapshot, row counts, dump, photos with SHA-256,
  manifest, fsync), and ``backup verify``;
- the baseline restore: ``pg_restore --single-transaction`` into a new
  database and ``tar -xf`` of the photos;
- ``backup restore`` into a new database (verify, photos, dump, row check,
  migrations, retention).

and prints seconds and the ratios to the baselines.

    .venv/bin/python -m bench.backup_bench --incidents 200000 --photos 1000
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sqlalchemy as sa
import typer
from PIL import Image

from bench.etl_bench import start_cluster
from sesizari import backup, db
from sesizari.demo.load import load_demo
from sesizari.incidents import Actor
from sesizari.photos import attach_photo
from sesizari.settings import load_settings


def _noise_jpeg(rng: np.random.Generator) -> bytes:
    """A photo-sized JPEG that does not compress away (like a real picture)."""
    pixels = rng.integers(0, 255, size=(600, 800, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85)
    return out.getvalue()


def _timed(label: str, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f} s", flush=True)
    return seconds


def main(
    incidents: int = typer.Option(200_000, min=1000, help="Demo incidents."),
    photos: int = typer.Option(1000, min=0, help="Photos attached (800x600 JPEG each)."),
) -> None:
    """Time backup create/verify/restore against pg_dump/pg_restore and tar."""
    root = Path(tempfile.mkdtemp(prefix="sz-backup-"))
    root.chmod(0o755)  # the server's own user reaches its folder through it
    cluster, url = start_cluster(root / "pg", "bench")
    store = root / "photos"
    os.environ["SESIZARI_PHOTO_DIR"] = str(store)
    engine = db.make_engine(url)
    try:
        start = time.perf_counter()
        load_demo(engine, total=incidents, seed=3)
        with engine.connect() as conn:
            numbers = conn.execute(sa.text(
                "SELECT registry_number FROM incidents i JOIN cities c USING (city_id)"
                " WHERE c.slug = 'lugoj' ORDER BY 1 LIMIT :n"), {"n": photos}).scalars().all()
        rng = np.random.default_rng(1)
        staff = Actor("bench", None, "staff")
        for number in numbers:
            attach_photo(engine, "lugoj", number, _noise_jpeg(rng), "report", staff)
        size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) if photos else 0
        print(f"{incidents:,} incidents, {len(numbers):,} photos ({size / 1e6:.0f} MB of files),"
              f" loaded in {time.perf_counter() - start:.0f} s")
        connect = ["-h", str(cluster.socket_dir), "-p", str(cluster.port), "-U", "sesizari"]
        bindir = cluster.bindir
        work = root / "work"
        work.mkdir()

        def baseline_dump() -> None:
            subprocess.run([str(bindir / "pg_dump"), *connect, "-Fc", "--no-comments",
                            "--exclude-table-data=public.spatial_ref_sys",
                            "-f", str(work / "plain.pgc"), "bench"], check=True)
            if photos:
                subprocess.run(["tar", "-cf", str(work / "plain-photos.tar"), "-C", str(store),
                                "."], check=True)

        print("backup")
        base = _timed("pg_dump + tar (baseline)", baseline_dump)
        made = work / "b.tar"
        ours = _timed("backup create", lambda: backup.create(url, made, photo_root=store))
        checked = _timed("backup verify", lambda: backup.verify(made))
        print(f"  create / baseline: x{ours / base:.2f}; verify / baseline: x{checked / base:.2f};"
              f" file {made.stat().st_size / 1e6:.0f} MB")

        def baseline_restore() -> None:
            cluster.ensure_database("plain")
            subprocess.run([str(bindir / "pg_restore"), *connect, "--exit-on-error",
                            "--single-transaction", "--no-owner", "--no-privileges",
                            "-d", "plain", str(work / "plain.pgc")], check=True)
            if photos:
                (work / "plain-photos").mkdir()
                subprocess.run(["tar", "-xf", str(work / "plain-photos.tar"), "-C",
                                str(work / "plain-photos")], check=True)

        cluster.ensure_database("restored")
        settings = load_settings({"DATABASE_URL": cluster.url("restored"),
                                  "SESIZARI_PHOTO_DIR": str(work / "restored-photos")})
        print("restore")
        base = _timed("pg_restore + tar (baseline)", baseline_restore)
        ours = _timed("backup restore", lambda: backup.restore(made, settings=settings))
        print(f"  restore / baseline: x{ours / base:.2f}")
    finally:
        engine.dispose()
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    typer.run(main)
