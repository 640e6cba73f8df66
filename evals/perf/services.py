"""Services the benchmark brings up and always tears down: a scratch Postgres database and servers.

Every server runs in its own session / process group (``start_new_session``) with its output in a
log file, so stopping it (SIGTERM, then SIGKILL after a grace period) reaches all of its children,
and a failed start can show the tail of what it printed.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

STOP_GRACE_S = 5.0
READY_POLL_S = 0.2


class StartupError(RuntimeError):
    """A service could not be brought up; the message says what it printed."""


@dataclass(frozen=True, slots=True)
class Postgres:
    """Where the Postgres server is (trust auth)."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"

    def conninfo(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def sqlalchemy_url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"


@contextmanager
def scratch_database(pg: Postgres) -> Iterator[str]:
    """Create ``promptsales_bench_<hex>``; drop it (forcing out connections) on the way out."""
    name = f"promptsales_bench_{secrets.token_hex(6)}"
    with psycopg.connect(pg.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(pg.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class BackendPids:
    """Finds the Postgres backend processes serving one database (to charge their CPU)."""

    def __init__(self, pg: Postgres, database: str) -> None:
        self._database = database
        self._conn = psycopg.connect(pg.conninfo("postgres"), autocommit=True)

    def __call__(self) -> list[int]:
        rows = self._conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self._database,))
        return [int(row[0]) for row in rows.fetchall()]

    def close(self) -> None:
        self._conn.close()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_command(argv: Sequence[str], env: Mapping[str, str], timeout_s: float, log: Path) -> None:
    """Run a one-shot command (e.g. migrations); raise StartupError with its output if it fails."""
    with log.open("ab") as sink:
        try:
            done = subprocess.run(argv, env=env, stdout=sink, stderr=subprocess.STDOUT, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise StartupError(f"{' '.join(argv)} timed out after {timeout_s:.0f} s\n{log_tail(log)}") from exc
        except OSError as exc:
            raise StartupError(f"cannot run {argv[0]}: {exc}") from exc
    if done.returncode != 0:
        raise StartupError(f"{' '.join(argv)} exited {done.returncode}\n{log_tail(log)}")


class ServerProcess:
    """A server subprocess in its own process group, logging to a file."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("ab") as sink:
            try:
                self.popen = subprocess.Popen(
                    argv, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
                )
            except OSError as exc:
                raise StartupError(f"cannot start {name} ({argv[0]}): {exc}") from exc

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_ready(self, port: int, path: str, timeout_s: float) -> None:
        """Poll ``GET path`` until 200; fail early if the process dies."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise StartupError(f"{self.name} exited {self.popen.returncode}\n{log_tail(self.log)}")
            if http_status("127.0.0.1", port, path) == 200:
                return
            time.sleep(READY_POLL_S)
        raise StartupError(f"{self.name}: GET {path} not 200 within {timeout_s:.0f} s\n{log_tail(self.log)}")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after a grace period."""
        if self.popen.poll() is None:
            _signal_group(self.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.popen.wait(STOP_GRACE_S)
        _signal_group(self.pid, signal.SIGKILL)  # stragglers in the group, if any
        if self.popen.poll() is None:
            self.popen.wait(STOP_GRACE_S)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def http_status(host: str, port: int, path: str) -> int | None:
    """Status of ``GET path`` (no proxies involved); None if the connection fails."""
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


@contextmanager
def running_server(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    log: Path,
    ready: tuple[int, str],
    timeout_s: float,
) -> Iterator[ServerProcess]:
    """Start a server, wait for its readiness probe, and always stop it."""
    server = ServerProcess(name, argv, env, log)
    try:
        server.wait_ready(*ready, timeout_s)
        yield server
    finally:
        server.stop()
