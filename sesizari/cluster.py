"""The embedded PostgreSQL + PostGIS cluster.

With no ``DATABASE_URL`` the project runs its own cluster in a data folder
(``var/pg`` by default): initialised on first use, listening on a unix socket
inside that folder, never touching a system cluster.  PostgreSQL refuses to
run as root, so when we are root the server runs as an unprivileged system
user (``postgres`` by default) that owns the data folder.

The same class starts the throw-away clusters of the test suite.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sesizari.errors import ClusterError

APP_ROLE = "sesizari"
APP_DB = "sesizari"
#: Login of the analytics and the API's GETs: reads what sql/migrations/post-apply.sql grants.
READ_ROLE = "sesizari_reader"
#: Unix socket paths are limited to 107 bytes; leave room for ".s.PGSQL.NNNNN".
_MAX_SOCKET_DIR = 90


def find_bindir() -> Path:
    """Return the bin folder of the newest PostgreSQL that has PostGIS installed."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    for bindir in candidates:
        version = Path(bindir).parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            return Path(bindir)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and (Path(out.stdout.strip()) / "initdb").exists():
            return Path(out.stdout.strip())
    raise ClusterError(
        "PostgreSQL with PostGIS is not installed. On Debian/Ubuntu run `make setup` "
        "(apt-get install postgresql postgresql-15-postgis-3); elsewhere install "
        "PostgreSQL and PostGIS, or set DATABASE_URL to an existing PostGIS database."
    )


@dataclass
class Cluster:
    """A PostgreSQL cluster living in ``root`` (``root/data``, ``root/run``, ``root/server.log``).

    Parameters
    ----------
    root:
        Folder owned by the cluster; created when missing.
    port:
        Port number; with ``listen=""`` it only names the socket file.
    listen:
        TCP address to listen on as well as the socket ("" = socket only).
    server_user:
        System user that runs the server when this process is root.
    fast:
        Trade durability for speed (``fsync=off``): for test clusters only.
    """

    root: Path
    port: int = 5439
    listen: str = ""
    server_user: str = "postgres"
    fast: bool = False

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.socket_dir = self.root / "run"
        if len(str(self.socket_dir)) > _MAX_SOCKET_DIR:
            raise ClusterError(
                f"The data folder path {self.root} is too long for a unix socket; "
                "set SESIZARI_DATA_DIR to a shorter path."
            )
        self._bindir: Path | None = None

    # -- running commands as the right user --------------------------------
    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_bindir()
        return self._bindir

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", self.server_user, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
        if check and proc.returncode != 0:
            tail = ""
            if self.log.exists():
                tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
            raise ClusterError(
                f"`{' '.join(args[:2])}` failed ({proc.returncode}): {proc.stderr.strip()}\n{tail}"
            )
        return proc

    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if not self._as_root:
            return
        try:
            user = pwd.getpwnam(self.server_user)
        except KeyError:
            raise ClusterError(
                f"System user {self.server_user!r} does not exist; install PostgreSQL "
                "(`make setup`) or set SESIZARI_PG_USER to an unprivileged user."
            ) from None
        for path in (self.root, self.socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
        if self.data.exists():
            os.chown(self.data, user.pw_uid, user.pw_gid)
        probe = subprocess.run(
            ["runuser", "-u", self.server_user, "--", "test", "-w", str(self.root)], check=False
        )
        if probe.returncode != 0:
            raise ClusterError(
                f"User {self.server_user!r} cannot reach {self.root} (a parent folder is "
                "private). Set SESIZARI_DATA_DIR to a folder outside it, e.g. /var/tmp/sesizari."
            )

    # -- life cycle ---------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster files (no-op when they exist)."""
        self._prepare_root()
        if self.initialised:
            return
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        )
        conf = [
            "# Written by sesizari.cluster",
            f"port = {self.port}",
            f"listen_addresses = '{self.listen}'",
            f"unix_socket_directories = '{self.socket_dir}'",
            "unix_socket_permissions = 0700",
            "timezone = 'UTC'",
            "max_connections = 200",
            "shared_buffers = 256MB",
            "work_mem = 32MB",
            "maintenance_work_mem = 256MB",
        ]
        if self.fast:
            conf += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(self.data / "postgresql.auto.conf", "a") as fh:
            fh.write("\n".join(conf) + "\n")

    def is_running(self) -> bool:
        if not self.initialised:
            return False
        return self._run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0

    def running_port(self) -> int | None:
        """The port the running server took (line 4 of ``postmaster.pid``),
        None when it does not run or the file cannot be read."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (OSError, IndexError, ValueError):
            return None

    def _same_port(self) -> None:
        """A server started with another ``SESIZARI_PG_PORT`` listens on
        another socket: every connection would fail with "no such file"."""
        running = self.running_port()
        if running is not None and running != self.port:
            raise ClusterError(
                f"the embedded cluster in {self.data} runs on port {running}, but"
                f" SESIZARI_PG_PORT is {self.port}: set SESIZARI_PG_PORT={running} (or stop"
                f" it with that port and start it again with {self.port})"
            )

    def start(self) -> None:
        """Initialise if needed and start; harmless when already running."""
        self.init()
        if self.is_running():
            self._same_port()
            return
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60")
        self._wait_ready()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (no-op when it is not running)."""
        if self.is_running():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    def status(self) -> str:
        if not self.initialised:
            return f"not initialised ({self.data})"
        if not self.is_running():
            return f"stopped ({self.data}, socket {self.socket_dir}, port {self.port})"
        running = self.running_port() or self.port
        other = (f"; SESIZARI_PG_PORT is {self.port}: set it to {running}"
                 if running != self.port else "")
        return f"running ({self.data}, socket {self.socket_dir}, port {running}{other})"

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self._run(
                "pg_isready", "-h", str(self.socket_dir), "-p", str(self.port), check=False
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise ClusterError(f"The server did not accept connections within {timeout:.0f} s")

    # -- databases ----------------------------------------------------------
    def url(self, database: str = APP_DB, user: str = APP_ROLE) -> str:
        """SQLAlchemy URL of ``database`` on this cluster, through its socket."""
        return f"postgresql+psycopg://{user}@/{database}?host={self.socket_dir}&port={self.port}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` as the superuser (bootstrap work only) and return its output."""
        proc = self._run(
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        )
        return proc.stdout.strip()

    def ensure_database(self, database: str = APP_DB, owner: str = APP_ROLE) -> None:
        """Create the application role and database with PostGIS enabled (idempotent).

        PostGIS can only be created by a superuser, so it is enabled here and
        the migrations merely check it (``CREATE EXTENSION IF NOT EXISTS``).
        """
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", database + owner):
            raise ClusterError(f"invalid database or role name: {database!r}, {owner!r}")
        # Names are checked above; psql has no bind parameters for identifiers.
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{owner}'"):  # noqa: S608
            self.psql(f'CREATE ROLE "{owner}" LOGIN CREATEDB')
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{READ_ROLE}'"):  # noqa: S608
            # No privileges of its own: the migrations grant it SELECT on what it may read.
            self.psql(f'CREATE ROLE "{READ_ROLE}" LOGIN NOINHERIT')
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'"):  # noqa: S608
            self.psql(f'CREATE DATABASE "{database}" OWNER "{owner}"')
        self.psql("CREATE EXTENSION IF NOT EXISTS postgis", database=database)
