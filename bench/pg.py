"""A private PostgreSQL 15 cluster for the benchmark: temp directory, 127.0.0.1, a free port, fsync on.

Like .ci/run, but durable settings (fsync, synchronous_commit and full_page_writes stay at their
defaults), because commit cost is part of what the benchmark measures.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("SENIM_BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


class Cluster:
    """Start with :meth:`start`, remove with :meth:`stop` (also on errors: use it as a context manager)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.datadir = Path(tempfile.mkdtemp(prefix="senim-bench-pg."))

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise SystemExit(f"PostgreSQL 15 not found in {PG_BIN}: apt-get install postgresql-15 "
                             "(or set SENIM_BENCH_PG_BIN)")
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "postgres")
        subprocess.run(_as_postgres(str(PG_BIN / "initdb"), "-D", str(self.datadir), "-A", "trust", "-U", "postgres"),
                       check=True, stdout=subprocess.DEVNULL)
        options = f"-h 127.0.0.1 -p {self.port} -k {self.datadir} -c max_connections=200"
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-o", options, "-w",
                                    "-l", str(self.datadir / "server.log"), "start"),
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(self.datadir, ignore_errors=True)

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` in this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL statement with psql; return its unaligned output."""
        done = subprocess.run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-d", database, "-Atqc", sql], check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def postmaster_pid(self) -> int:
        """Process id of the server (its children are the backends and helpers)."""
        return int((self.datadir / "postmaster.pid").read_text().split()[0])

    def settings(self) -> dict[str, str]:
        """The durability settings in force (for the result file)."""
        names = ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "server_version")
        return {name: self.psql(f"SHOW {name}") for name in names}
