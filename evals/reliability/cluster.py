"""The rig's own services on loopback: a throwaway Postgres cluster, Redis, HAProxy and the gateway replicas.

Postgres is a fresh ``initdb`` cluster in a temporary folder on a port of its own, run as the ``postgres`` OS
user (its server refuses to run as root); Redis keeps nothing on disk; HAProxy (Debian's package) balances
round-robin over the replicas and takes a replica out while its ``/readyz`` fails. Every service started here
is stopped on the way out, also after errors.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from proctree import tree_cpu_seconds
from services import ServerProcess, StartupError, free_port, log_tail

PG_START_TIMEOUT_S = 60.0
READY_POLL_S = 0.1
PG_USER = "postgres"


def pg_binary(name: str) -> str:
    """``initdb``/``pg_ctl``/``pg_isready`` from PATH, else from Debian's versioned folders."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise StartupError(f"{name} not found on PATH or in /usr/lib/postgresql/*/bin (install postgresql)")
    return found


def as_postgres(argv: Sequence[str]) -> list[str]:
    """Run ``argv`` as the postgres OS user when we are root (Postgres refuses to run as root)."""
    if os.geteuid() != 0:
        return list(argv)
    return ["runuser", "-u", PG_USER, "--", *argv]


class PostgresCluster:
    """A throwaway cluster: ``initdb`` into ``root``, served on ``port`` with trust auth on loopback."""

    def __init__(self, root: Path, port: int, logs: Path) -> None:
        self.root, self.port, self.logs = root, port, logs
        self.data = root / "pgdata"
        self.socket_dir = root / "pgsock"
        self.log = logs / "postgres.log"

    def conninfo(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, PG_USER)
            shutil.chown(self.data, PG_USER)
            shutil.chown(self.socket_dir, PG_USER)
            self.log.touch()
            shutil.chown(self.log, PG_USER)
        argv = [pg_binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
        self._run(argv, "initdb")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c max_connections=100 "
            "-c shared_buffers=64MB"
        )
        self._run(
            [pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"], "start"
        )

    def restart_immediate(self) -> None:
        """Crash-stop (no checkpoint, every backend killed) and start again, as a failed-over primary looks."""
        self._run([pg_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "restart"], "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                as_postgres([pg_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=PG_START_TIMEOUT_S,
                check=False,
            )

    def _run(self, argv: Sequence[str], what: str) -> None:
        # pg_ctl's daemonised postmaster inherits our stdout if we capture it: send it to the log file instead.
        with (self.logs / "pg_ctl.log").open("ab") as sink:
            done = subprocess.run(
                as_postgres(argv), stdout=sink, stderr=subprocess.STDOUT, timeout=PG_START_TIMEOUT_S, check=False
            )
        if done.returncode != 0:
            raise StartupError(f"postgres {what} failed ({done.returncode})\n{log_tail(self.logs / 'pg_ctl.log')}")


def wait_tcp(port: int, timeout_s: float, probe: bytes = b"", expect: bytes = b"") -> None:
    """Wait until 127.0.0.1:``port`` accepts (and answers ``probe`` with ``expect``, when given)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
                if not probe:
                    return
                sock.sendall(probe)
                if sock.recv(64).startswith(expect):
                    return
        except OSError:
            pass
        time.sleep(READY_POLL_S)
    raise StartupError(f"nothing answered on 127.0.0.1:{port} within {timeout_s:.0f} s")


def start_redis(root: Path, port: int, logs: Path) -> ServerProcess:
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(root)]
    server = ServerProcess("redis", argv, os.environ, logs / "redis.log")
    wait_tcp(port, 30.0, b"PING\r\n", b"+PONG")
    return server


def haproxy_config(listen_port: int, replica_ports: Sequence[int], check_path: str = "/readyz") -> str:
    """Round-robin over the replicas; a replica whose readiness check fails twice (1 s apart) is taken out,
    and a request whose connection was refused is redispatched to another replica. When every replica fails the
    check at once (the database is down) the unchecked backups, the same replicas, take the traffic: each server
    waits for the database itself for a few seconds instead of the balancer refusing every call."""
    servers = "\n".join(
        f"    server r{i} 127.0.0.1:{port} check\n    server r{i}-any 127.0.0.1:{port} backup"
        for i, port in enumerate(replica_ports)
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout check 3s
    retries 3
    option redispatch

frontend gateway
    bind 127.0.0.1:{listen_port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk
    # HTTP/1.1 with a loopback Host: the server's Host/Origin protection answers 421 to a request without one.
    http-check send meth GET uri {check_path} ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server inter 1s fall 2 rise 1
    option allbackups
{servers}
"""


def start_haproxy(root: Path, listen_port: int, replica_ports: Sequence[int], logs: Path) -> ServerProcess:
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        raise StartupError("haproxy not found: apt-get install -y haproxy (see evals/reliability/README.md)")
    config = root / "haproxy.cfg"
    config.write_text(haproxy_config(listen_port, replica_ports))
    server = ServerProcess("haproxy", [binary, "-db", "-f", str(config)], os.environ, logs / "haproxy.log")
    wait_tcp(listen_port, 30.0)
    return server


class Replica:
    """One ``promptsales serve --transport http`` process; can be SIGKILLed and started again on its port."""

    def __init__(self, index: int, argv: Sequence[str], env: Mapping[str, str], logs: Path, port: int) -> None:
        self.index, self.argv, self.env, self.logs, self.port = index, list(argv), dict(env), logs, port
        self.process: ServerProcess | None = None
        self.dead_cpu_s = 0.0  # CPU the processes this replica ran before its current one used

    def cpu_seconds(self) -> float:
        """CPU used by every process this replica has run so far."""
        live = tree_cpu_seconds(self.process.pid) if self.process is not None else 0.0
        return self.dead_cpu_s + live

    def start(self) -> None:
        self.process = ServerProcess(
            f"replica-{self.index}", self.argv, self.env, self.logs / f"replica-{self.index}.log"
        )

    def wait_ready(self, timeout_s: float) -> None:
        assert self.process is not None
        self.process.wait_ready(self.port, "/readyz", timeout_s)

    def kill(self) -> None:
        """SIGKILL, no grace: in-flight requests and transactions die with it."""
        if self.process is not None:
            self.dead_cpu_s += tree_cpu_seconds(self.process.pid)
            self.process.popen.kill()
            self.process.popen.wait()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def replica_argv(cli: str, port: int) -> list[str]:
    return [cli, "serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]


__all__ = [
    "PostgresCluster",
    "Replica",
    "free_port",
    "haproxy_config",
    "replica_argv",
    "start_haproxy",
    "start_redis",
    "wait_tcp",
]
