"""A throwaway PostgreSQL server on loopback, for tests and benchmarks.

``initdb`` into a fresh directory, ``pg_ctl start`` on a free port listening
on 127.0.0.1 only (Unix socket in the same directory), trust authentication
for one user; :meth:`LocalPostgres.stop` shuts it down and deletes the
directory. The server binaries are found on ``PATH``, then in
``/usr/lib/postgresql/*/bin`` (Debian's layout, newest version first).

PostgreSQL refuses to run as root: when this process is root the server runs
as an unprivileged user (``nobody`` unless ``SKYFENCE_PG_USER`` names another)
through ``runuser``, in a directory under the system temp dir owned by it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

DB_USER = "skyfence"


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: [int(x) if x.isdigit() else 0 for x in p.split("/")[-2:-1]],
                      reverse=True)
    candidates += [Path(p) for p in versions]
    for d in candidates:
        if all((d / exe).exists() for exe in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    """A running server (module doc); ``url(db)`` for a database on it."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_pg_bin()
        if found is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found on "
                                    "PATH or in /usr/lib/postgresql/*/bin; on Debian: "
                                    "apt-get install postgresql")
        self.bin = found
        self.run_as: str | None = None
        if os.geteuid() == 0:
            self.run_as = os.environ.get("SKYFENCE_PG_USER", "nobody")
        self.root = Path(tempfile.mkdtemp(prefix="skyfence-pg-", dir=self._parent_dir()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        if self.run_as is not None:
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        self.running = False

    def _parent_dir(self) -> str | None:
        """Where the server's directory goes: the temp dir, unless the server's
        user could not reach into it (then ``/tmp``)."""
        tmp = tempfile.gettempdir()
        if self.run_as is None:
            return None
        path = Path(tmp).resolve()
        reachable = all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])
        return tmp if reachable else "/tmp"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.run_as is not None:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False,
                              cwd=self.root, timeout=120)

    def _check(self, done: subprocess.CompletedProcess[str], what: str) -> None:
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip()}\n{log}")

    def start(self) -> LocalPostgres:
        self._check(self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", DB_USER,
                              "-A", "trust", "-E", "UTF8", "--no-locale"), "initdb")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._check(self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                              str(self.log), "-o", opts, "-w", "-t", "60", "start"), "pg_ctl start")
        self.running = True
        return self

    def create_database(self, name: str) -> str:
        """Create database ``name``; its URL."""
        import pg8000.dbapi as pg  # type: ignore[import-untyped]

        conn = pg.connect(user=DB_USER, host="127.0.0.1", port=self.port, database="postgres")
        try:
            conn.autocommit = True
            conn.cursor().execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.running:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                      "stop")
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
