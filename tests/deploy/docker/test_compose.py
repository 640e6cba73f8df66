"""deploy/docker/compose.yaml: valid Compose, consistent with its load balancer, its image and the CLI."""

import copy
import functools
import itertools
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from promptsales.domain_core.infrastructure.settings import CONTEXTS
from promptsales.servers.cli import app as cli

REPO = Path(__file__).resolve().parents[3]
DOCKER_DIR = REPO / "deploy" / "docker"
COMPOSE = DOCKER_DIR / "compose.yaml"
HAPROXY = DOCKER_DIR / "haproxy.cfg"
SCHEMA = DOCKER_DIR / "schema" / "compose-spec.json"
ENV_EXAMPLE = DOCKER_DIR / "env.example"
APP_PORT = 8000
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} (the Compose interpolation forms used).
VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


@functools.cache
def _loaded() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # safe_load resolves the << merge keys
    assert isinstance(loaded, dict)
    return loaded


def compose() -> dict[str, Any]:
    """The parsed file (a copy each time: tests may alter it)."""
    return copy.deepcopy(_loaded())


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def example_env() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines())
    return {key.strip(): value.strip() for key, value in (p for p in pairs if len(p) == 2) if not key.startswith("#")}


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` with every ${...} replaced as Compose would, given ``env``; a missing required one raises."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(found: re.Match[str]) -> str:
        name, operator, argument = found.group(1), found.group(2) or "", found.group(3) or ""
        current = env.get(name)
        if operator.endswith("?") and not current:
            raise KeyError(f"{name}: {argument}")
        if operator.endswith("-") and not current:
            return argument
        return current or ""

    return VARIABLE.sub(substitute, value)


def app_image() -> str:
    return str(compose()["x-app-image"]["image"])


def app_services() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in services().items() if spec.get("image") == app_image()}


def one_shots() -> set[str]:
    """Services others wait on to finish (service_completed_successfully)."""
    return {
        target
        for spec in services().values()
        for target, rule in (spec.get("depends_on") or {}).items()
        if rule["condition"] == "service_completed_successfully"
    }


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_the_file_is_valid_against_the_compose_specification_before_and_after_substitution() -> None:
    check = validator()
    raw = compose()
    resolved = interpolate(raw, example_env())
    for label, document in (("as written", raw), ("with env.example substituted", resolved)):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(document)]
        assert errors == [], f"{label}:\n" + "\n".join(errors)


def test_the_validation_would_catch_a_misspelt_key() -> None:
    broken = compose()
    broken["services"]["gateway"]["depends_onn"] = broken["services"]["gateway"].pop("depends_on")
    assert list(validator().iter_errors(broken)), "the schema must reject unknown service keys"


def test_every_dependency_exists_and_one_shots_run_once() -> None:
    known = set(services())
    for name, spec in services().items():
        for target in spec.get("depends_on") or {}:
            assert target in known, f"{name} depends on {target}, which is no service"
    for name in one_shots():
        assert services()[name].get("restart") == "no", f"{name} is waited on to finish: it must not restart"
    assert "migrate" in one_shots() and services()["migrate"]["command"] == ["db", "upgrade"]


def test_every_server_waits_for_the_migration() -> None:
    for name, spec in app_services().items():
        if name in one_shots():
            continue
        rule = (spec.get("depends_on") or {}).get("migrate")
        assert rule == {"condition": "service_completed_successfully"}, f"{name} must start after db upgrade"


def test_the_gateway_is_replicated_and_each_context_has_its_own_server() -> None:
    served: dict[str, str] = {}
    for name, spec in app_services().items():
        command = spec["command"]
        if command[:1] != ["serve"]:
            continue
        assert command[1:3] == ["--transport", "http"], f"{name}: HTTP servers only"
        contexts = command[command.index("--context") + 1] if "--context" in command else "all"
        served[contexts] = name
    assert served.pop("all") == "gateway"
    assert set(served) == set(CONTEXTS), f"one server per context: {served}"
    replicas = interpolate(services()["gateway"]["deploy"]["replicas"], example_env())
    assert int(replicas) >= 2, "the gateway runs as several replicas behind the load balancer"


def test_every_app_command_is_one_the_cli_accepts() -> None:
    runner = CliRunner()
    for name, spec in app_services().items():
        result = runner.invoke(cli, [*spec["command"], "--help"])
        assert result.exit_code == 0, f"{name}: {spec['command']} → {result.output}"


def test_app_containers_run_read_only_hardened_and_health_checked() -> None:
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^HEALTHCHECK .*/healthz", dockerfile, re.MULTILINE | re.DOTALL), "the image checks /healthz"
    for name, spec in app_services().items():
        assert spec.get("read_only") is True, f"{name}: read-only root filesystem"
        assert any(str(mount).startswith("/tmp:") for mount in spec.get("tmpfs", [])), f"{name}: /tmp as tmpfs"
        assert spec.get("cap_drop") == ["ALL"], f"{name}: no Linux capabilities"
        assert "no-new-privileges:true" in spec.get("security_opt", []), name
        assert "user" not in spec, f"{name}: runs as the image's numeric user"
        healthcheck = spec.get("healthcheck", {})
        if name in one_shots():
            continue
        # A server either inherits the image's HEALTHCHECK or defines its own test; none may switch it off.
        assert not healthcheck.get("disable") and ("test" in healthcheck or not healthcheck), name


def test_the_infrastructure_services_are_health_checked_before_use() -> None:
    for name in ("postgres", "redis"):
        assert "test" in services()[name].get("healthcheck", {}), f"{name} needs a healthcheck"
    assert services()["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEYS?$|AUTH$")


def test_no_secret_is_written_in_the_file() -> None:
    # Secrets are required substitutions from the git-ignored .env; URLs carry a password only through one.
    for name, spec in services().items():
        environment = spec.get("environment") or {}
        for key, value in environment.items():
            text = str(value)
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", text), f"{name}.{key} must be ${{VAR:?…}} from .env"
            credentials = re.match(r"^\w[\w+.-]*://([^@/]*)@", text)
            if credentials:
                assert ":${" in credentials.group(1), f"{name}.{key}: the URL's password must be substituted"
        command = [str(part) for part in spec.get("command") or []]
        for flag, value in itertools.pairwise(command):
            if "pass" in flag.lower():
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", value), f"{name}: {flag} must take a substitution"
    required = {found.group(1) for found in VARIABLE.finditer(json.dumps(compose())) if found.group(2) == ":?"}
    assert required <= set(example_env()), f"env.example lacks {sorted(required - set(example_env()))}"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(DOCKER_DIR / ".env")], cwd=REPO, capture_output=True, check=False
    )
    assert ignored.returncode == 0, "deploy/docker/.env must be git-ignored"


def haproxy_backends() -> dict[str, list[tuple[str, int]]]:
    """backend name → [(host, port)] of its server-template/server lines."""
    backends: dict[str, list[tuple[str, int]]] = {}
    current: str | None = None
    for raw in HAPROXY.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] in ("global", "defaults", "frontend", "backend", "resolvers", "listen"):
            current = words[1] if words[0] == "backend" else None
            if current:
                backends[current] = []
        elif current and words[0] in ("server-template", "server"):
            address = words[3] if words[0] == "server-template" else words[2]
            host, port = address.rsplit(":", 1)
            backends[current].append((host, int(port)))
    return backends


def haproxy_binds() -> set[int]:
    return {int(port) for port in re.findall(r"^\s*bind\s+\S*:(\d+)", HAPROXY.read_text(), re.MULTILINE)}


def test_the_load_balancer_routes_to_the_servers_by_their_service_names() -> None:
    backends = haproxy_backends()
    servers = {name for name in app_services() if name not in one_shots()}
    targets = {host for hosts in backends.values() for host, _ in hosts}
    assert targets <= set(services()), f"upstreams that are no service: {sorted(targets - set(services()))}"
    assert servers <= targets, f"servers the load balancer never reaches: {sorted(servers - targets)}"
    assert all(port == APP_PORT for hosts in backends.values() for _, port in hosts)
    published = {int(str(port).rsplit(":", 2)[-1]) for port in services()["haproxy"]["ports"]}
    assert published == haproxy_binds(), "every HAProxy bind is published and nothing else"
    assert set(services()["haproxy"]["depends_on"]) == servers


def test_haproxy_accepts_its_configuration(require_tool: Callable[[str], str]) -> None:
    haproxy = require_tool("haproxy")
    check = subprocess.run([haproxy, "-c", "-f", str(HAPROXY)], capture_output=True, text=True, timeout=30, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "[WARNING]" not in check.stdout + check.stderr, check.stdout + check.stderr


@pytest.mark.parametrize("missing", ["POSTGRES_PASSWORD", "PROMPTSALES_ENCRYPTION_KEYS"])
def test_the_stack_refuses_to_start_without_its_secrets(missing: str) -> None:
    env = {key: value for key, value in example_env().items() if key != missing}
    with pytest.raises(KeyError, match=missing):
        interpolate(compose(), env)
