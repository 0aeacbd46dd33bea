"""The embedded cluster: start, stop, restart keep data; a second start is harmless."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from sesizari import db
from sesizari.cluster import Cluster
from sesizari.errors import ClusterError
from sesizari.settings import load_settings
from tests.conftest import _free_port


@pytest.fixture
def own_cluster():
    root = Path(tempfile.mkdtemp(prefix="sz-emb-", dir="/tmp"))
    os.chmod(root, 0o755)
    cluster = Cluster(root=root / "pg", port=_free_port(), fast=True)
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


def test_start_stop_restart_keeps_data(own_cluster):
    c = own_cluster
    assert "not initialised" in c.status()
    c.start()
    c.start()  # harmless
    c.ensure_database()
    c.ensure_database()  # idempotent
    db.migrate(c.url())
    eng = db.make_engine(c.url())
    with eng.begin() as conn:
        conn.execute(sa.text("CREATE TABLE kept (v int)"))
        conn.execute(sa.text("INSERT INTO kept VALUES (42)"))
    eng.dispose()
    c.stop()
    assert not c.is_running() and "stopped" in c.status()
    c.stop()  # harmless too
    c.start()
    eng = db.make_engine(c.url())
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT v FROM kept")).scalar_one() == 42
        assert conn.execute(sa.text("SELECT postgis_lib_version()")).scalar_one().startswith("3")
    eng.dispose()
    assert db.migrate(c.url()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only meaningful when the tests run as root")
def test_server_runs_as_unprivileged_user_when_root(own_cluster):
    own_cluster.start()
    owner = pwd.getpwuid(own_cluster.data.stat().st_uid).pw_name
    assert owner == "postgres"
    pid = int((own_cluster.data / "postmaster.pid").read_text().splitlines()[0])
    assert pwd.getpwuid(os.stat(f"/proc/{pid}").st_uid).pw_name == "postgres"


def test_too_long_path_is_refused_with_advice(tmp_path):
    with pytest.raises(ClusterError, match="SESIZARI_DATA_DIR"):
        Cluster(root=tmp_path / ("x" * 120))


def test_database_url_setting_bypasses_the_cluster(tmp_path):
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql+psycopg://u:secret@db.example/x",
            "SESIZARI_DATA_DIR": str(tmp_path),
        }
    )
    assert db.database_url(settings) == "postgresql+psycopg://u:secret@db.example/x"
    assert not (tmp_path / "pg").exists()  # nothing started or created
    assert "secret" not in repr(settings)


def test_embedded_default_lives_in_the_data_dir(tmp_path):
    settings = load_settings({"SESIZARI_DATA_DIR": str(tmp_path)})
    assert db.embedded_cluster(settings).root == tmp_path.resolve() / "pg"


def test_a_cluster_running_on_another_port_is_named_with_the_setting_to_use(own_cluster):
    """Started with one SESIZARI_PG_PORT and used with another: `db status`
    said "running" on the wrong port and every command failed on a missing
    socket file, with the server's log."""
    own_cluster.start()
    other = Cluster(root=own_cluster.root, port=own_cluster.port + 1, fast=True)
    assert other.status().endswith(
        f"port {own_cluster.port}; SESIZARI_PG_PORT is {own_cluster.port + 1}:"
        f" set it to {own_cluster.port})")
    with pytest.raises(ClusterError, match=(
            f"runs on port {own_cluster.port}, but SESIZARI_PG_PORT is {own_cluster.port + 1}:"
            f" set SESIZARI_PG_PORT={own_cluster.port}")):
        other.start()
    assert f"port {own_cluster.port})" in own_cluster.status()
