"""deploy/docker/Dockerfile: lint-clean, pinned, non-root, and a health check that tells up from down."""

import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from promptsales.servers.cli import app as cli

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in logical]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def test_hadolint_finds_nothing_even_at_info_level(require_tool: Callable[[str], str]) -> None:
    hadolint = require_tool("hadolint")
    run = subprocess.run(
        [hadolint, "--failure-threshold", "info", "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = json.loads(run.stdout or "[]")
    assert findings == [], "\n".join(f"line {f['line']}: {f['code']} {f['message']}" for f in findings)
    assert run.returncode == 0, run.stderr


def test_every_lint_exception_says_why() -> None:
    # An inline `# hadolint ignore=DLxxxx` is allowed only right under a comment explaining it, and no config
    # file may switch rules off wholesale.
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            above = lines[number - 1].strip() if number else ""
            assert above.startswith("#") and "hadolint" not in above and len(above) > 12, (
                f"Dockerfile line {number + 1}: {line.strip()!r} needs a comment above saying why"
            )
    for config in (".hadolint.yaml", ".hadolint.yml", "deploy/docker/.hadolint.yaml", "deploy/docker/.hadolint.yml"):
        assert not (REPO / config).exists(), f"{config}: keep exceptions inline, next to their reason"


def test_the_image_is_multi_stage_pinned_and_runs_as_a_numeric_non_root_user() -> None:
    steps = instructions()
    bases = [args.split()[0] for name, args in steps if name == "FROM" and not args.startswith("--")]
    assert len(bases) >= 2, "build tools stay in a build stage"
    for base in bases:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+-slim-[a-z]+", base), f"{base}: pin an exact slim tag"
    users = [args for name, args in final_stage() if name == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]), f"USER {users}: a numeric, non-root uid"
    run_steps = " ".join(args for name, args in steps if name == "RUN")
    assert "pip install" in run_steps
    assert all("--no-cache-dir" in part for part in run_steps.split("&&") if "pip install" in part)


def test_the_default_command_serves_http_through_the_cli() -> None:
    stage = dict(final_stage())
    entrypoint, command = json.loads(stage["ENTRYPOINT"]), json.loads(stage["CMD"])
    assert entrypoint == ["promptsales"]
    assert command[:3] == ["serve", "--transport", "http"]
    # The CLI accepts exactly these options (unknown ones fail before --help is honoured).
    assert CliRunner().invoke(cli, [*command, "--help"]).exit_code == 0


class _Probe(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def probe_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def healthcheck(port: int) -> int:
    """Exit status of the image's HEALTHCHECK command, run here against 127.0.0.1:``port``."""
    stage = final_stage()
    (args,) = [args for name, args in stage if name == "HEALTHCHECK"]
    command = json.loads(args[args.index("CMD") + 3 :].strip())
    assert command[0] == "python"
    env = {"PROMPTSALES_HTTP_PORT": str(port), "PATH": ""}
    return subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, timeout=30).returncode


def test_the_healthcheck_passes_on_a_200_from_healthz_and_fails_otherwise(probe_server: ThreadingHTTPServer) -> None:
    port = probe_server.server_address[1]
    _Probe.status = 200
    assert healthcheck(port) == 0
    _Probe.status = 503
    try:
        assert healthcheck(port) != 0
    finally:
        _Probe.status = 200
    probe_server.shutdown()
    probe_server.server_close()
    assert healthcheck(port) != 0  # nothing listening


def dockerignore_admits(path: str) -> bool:
    """Whether the build context keeps ``path`` (last matching .dockerignore pattern wins, as Docker does)."""
    admitted = True
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate, pattern = line.startswith("!"), line.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch(prefix, pattern) or fnmatch(prefix, pattern.removeprefix("**/")) for prefix in prefixes):
            admitted = negate
    return admitted


def test_the_build_context_holds_what_copy_needs_and_no_secrets() -> None:
    sources = [
        source
        for name, args in instructions()
        if name == "COPY" and "--from" not in args
        for source in args.split()[:-1]
        if not source.startswith("--")
    ]
    assert sources, "the Dockerfile copies the package sources"
    for source in sources:
        assert dockerignore_admits(source), f"COPY {source}: .dockerignore leaves it out of the build context"
    for kept_out in ("deploy/docker/.env", ".env", ".venv/bin/python", "tests/conftest.py", "promptsales.db"):
        assert not dockerignore_admits(kept_out), f"{kept_out} would be sent to the Docker daemon"
