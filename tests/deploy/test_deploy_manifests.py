"""The Dockerfile and Kubernetes manifests parse and fit a (hand-written, minimal) schema.

No container runtime or cluster runs here, so this is what keeps deploy/ honest: required fields and their
types, probes on the server's real health endpoints and ports, selectors that match, env vars that the
server actually reads, and a grace period longer than the drain time.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from platewise.serving.config import ServeConfig, env_name

yaml = pytest.importorskip("yaml")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

# type schema: dict = required keys (with "?" suffix = optional), [x] = list of x, a type = isinstance
PROBE = {"httpGet?": {"path": str, "port": (str, int)}, "grpc?": {"port": int}, "periodSeconds?": int}
CONTAINER = {
    "name": str,
    "image": str,
    "ports": [{"name": str, "containerPort": int, "protocol?": str}],
    "env": [{"name": str, "value?": str, "valueFrom?": dict}],
    "resources": {"requests": dict, "limits": dict},
    "readinessProbe": PROBE,
    "livenessProbe": PROBE,
    "startupProbe?": PROBE,
}
SCHEMAS: dict[str, Any] = {
    "Deployment": {
        "apiVersion": str,
        "kind": str,
        "metadata": {"name": str},
        "spec": {
            "replicas": int,
            "selector": {"matchLabels": dict},
            "template": {
                "metadata": {"labels": dict},
                "spec": {"containers": [CONTAINER], "terminationGracePeriodSeconds": int},
            },
        },
    },
    "Service": {
        "apiVersion": str,
        "kind": str,
        "metadata": {"name": str},
        "spec": {"selector": dict, "ports": [{"name": str, "port": int, "targetPort": (str, int)}]},
    },
    "HorizontalPodAutoscaler": {
        "apiVersion": str,
        "kind": str,
        "metadata": {"name": str},
        "spec": {
            "scaleTargetRef": {"apiVersion": str, "kind": str, "name": str},
            "minReplicas": int,
            "maxReplicas": int,
            "metrics": [dict],
        },
    },
}
API = {"Deployment": "apps/v1", "Service": "v1", "HorizontalPodAutoscaler": "autoscaling/v2"}


def check(doc: Any, schema: Any, path: str = "") -> list[str]:
    errors: list[str] = []
    if isinstance(schema, dict):
        if not isinstance(doc, dict):
            return [f"{path}: expected a mapping"]
        for key, sub in schema.items():
            name, optional = key.rstrip("?"), key.endswith("?")
            if name not in doc:
                if not optional:
                    errors.append(f"{path}.{name}: missing")
                continue
            errors += check(doc[name], sub, f"{path}.{name}")
    elif isinstance(schema, list):
        if not isinstance(doc, list) or not doc:
            return [f"{path}: expected a non-empty list"]
        for i, item in enumerate(doc):
            errors += check(item, schema[0], f"{path}[{i}]")
    elif not isinstance(doc, schema):
        errors.append(f"{path}: expected {schema}, got {type(doc).__name__}")
    return errors


def load_all() -> dict[str, list[dict[str, Any]]]:
    docs: dict[str, list[dict[str, Any]]] = {}
    for f in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for d in yaml.safe_load_all(f.read_text()):
            docs.setdefault(d["kind"], []).append(d)
    return docs


DOCS = load_all()
ALL = [(kind, d) for kind, ds in DOCS.items() for d in ds]


@pytest.mark.parametrize(("kind", "doc"), ALL, ids=[f"{k}-{d['metadata']['name']}" for k, d in ALL])
def test_manifest_fits_schema(kind, doc):
    assert kind in SCHEMAS, f"unexpected kind {kind}"
    assert doc["apiVersion"] == API[kind]
    assert check(doc, SCHEMAS[kind]) == []


def test_all_three_kinds_are_present():
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= set(DOCS)


def container() -> dict[str, Any]:
    return DOCS["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]


def env() -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container()["env"]}


def test_probes_hit_the_health_endpoints_on_declared_ports():
    c = container()
    names = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"  # loaded AND warmed, not just up
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["port"] in names
    assert c["livenessProbe"]["grpc"]["port"] == names["grpc"]
    assert str(names["grpc"]) == env()["PLATEWISE_GRPC_PORT"]
    assert str(names["http"]) == env()["PLATEWISE_HTTP_PORT"]


def test_env_vars_are_ones_the_server_reads():
    known = {env_name(f.name) for f in dataclasses.fields(ServeConfig)}
    assert set(env()) <= known


def test_workers_match_cpu_limit_and_grace_period_covers_drain():
    c = container()
    assert int(env()["PLATEWISE_WORKERS"]) == int(c["resources"]["limits"]["cpu"])
    grace = DOCS["Deployment"][0]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > float(env()["PLATEWISE_DRAIN_S"]) + 5


def test_selectors_and_targets_match():
    dep = DOCS["Deployment"][0]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    port_names = {p["name"] for p in container()["ports"]}
    for svc in DOCS["Service"]:
        assert svc["spec"]["selector"].items() <= labels.items()
        assert {p["targetPort"] for p in svc["spec"]["ports"]} <= port_names
    hpa = DOCS["HorizontalPodAutoscaler"][0]
    assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_dockerfile_runs_the_server_on_the_manifest_ports():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r'^ENTRYPOINT \["platewise", "serve"\]$', text, re.M)
    exposed = set(re.search(r"^EXPOSE (.+)$", text, re.M).group(1).split())  # type: ignore[union-attr]
    assert exposed == {str(p["containerPort"]) for p in container()["ports"]}
    assert "USER 10001" in text
    assert "STOPSIGNAL SIGTERM" in text
    for var in re.findall(r"(PLATEWISE_[A-Z_]+)=", text):
        assert var in {env_name(f.name) for f in dataclasses.fields(ServeConfig)}
