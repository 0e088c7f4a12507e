"""Kubernetes manifests: rendered with kustomize, validated against the API schemas offline.

Built-in kinds are validated by ``kubernetes-validate`` (it ships the Kubernetes JSON
schemas); KEDA's ScaledObject and TriggerAuthentication against JSON schemas written from
KEDA's documented fields (tests/unit/deploy/schemas/).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from shared.amqp import Names
from shared.messages import Stage

from tests.unit.deploy.promql_exprs import DEPLOY

K8S = DEPLOY / "k8s"
SCHEMAS = Path(__file__).parent / "schemas"
K8S_VERSION = "1.30.0"
WORKERS = {"ingest": Stage.INGEST, "transcriber": Stage.TRANSCRIBE, "summarizer": Stage.SUMMARIZE}
KEDA_SCHEMAS = {
    "ScaledObject": "keda-scaledobject.schema.json",
    "TriggerAuthentication": "keda-triggerauthentication.schema.json",
}


def _render() -> list[dict[str, Any]]:
    """``kubectl kustomize`` when kubectl is here, else the listed resources as they are."""
    if shutil.which("kubectl"):
        run = subprocess.run(
            ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stderr
        text = run.stdout
    else:
        kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
        text = "\n---\n".join((K8S / r).read_text() for r in kust["resources"])
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return _render()


def _of(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _validate(doc: dict[str, Any]) -> None:
    if doc["kind"] in KEDA_SCHEMAS:
        schema = json.loads((SCHEMAS / KEDA_SCHEMAS[doc["kind"]]).read_text())
        jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_every_manifest_is_schema_valid(docs: list[dict[str, Any]]) -> None:
    assert len(docs) >= 15
    for doc in docs:
        _validate(doc)


def test_validation_catches_mistakes(docs: list[dict[str, Any]]) -> None:
    """The schemas really bite: a misspelt field or a number where KEDA wants a string."""
    deployment = json.loads(json.dumps(_of(docs, "Deployment")["gateway"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment)
    scaled = json.loads(json.dumps(_of(docs, "ScaledObject")["transcriber"]))
    scaled["spec"]["triggers"][0]["metadata"]["value"] = 1
    with pytest.raises(jsonschema.ValidationError):
        _validate(scaled)
    scaled["spec"]["triggers"][0]["metadata"] = {"queueName": "q", "mode": "QueueLenght"}
    with pytest.raises(jsonschema.ValidationError):
        _validate(scaled)


def test_everything_lands_in_the_minuta_namespace(docs: list[dict[str, Any]]) -> None:
    if not shutil.which("kubectl"):
        pytest.skip("kubectl (kustomize) not installed: namespace is applied by kustomize")
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "minuta", doc["metadata"]["name"]


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_gateway_probes_readyz_and_healthz(docs: list[dict[str, Any]]) -> None:
    c = _container(_of(docs, "Deployment")["gateway"])
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("svc", WORKERS)
def test_workers_probe_healthz_and_outlast_their_grace(
    docs: list[dict[str, Any]], svc: str
) -> None:
    deployment = _of(docs, "Deployment")[svc]
    c = _container(deployment)
    env = _env(c)
    port = int(env[f"{svc.upper()}_METRICS_PORT"])
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/healthz"
        named = c[probe]["httpGet"]["port"]
        assert {p["name"]: p["containerPort"] for p in c["ports"]}[named] == port
    grace = float(env[f"{svc.upper()}_SHUTDOWN_GRACE"])
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace + 10


@pytest.mark.parametrize(("svc", "stage"), WORKERS.items())
def test_workers_scale_on_their_queue(docs: list[dict[str, Any]], svc: str, stage: Stage) -> None:
    scaled = _of(docs, "ScaledObject")[svc]
    assert scaled["spec"]["scaleTargetRef"]["name"] == svc
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == Names("minuta").stage_queue(stage)
    auth = trigger["authenticationRef"]["name"]
    ref = _of(docs, "TriggerAuthentication")[auth]["spec"]["secretTargetRef"][0]
    secret = _of(docs, "Secret")[ref["name"]]
    host = secret["stringData"][ref["key"]]
    # protocol http counts unacked messages too (see autoscaling.yaml).
    assert trigger["metadata"]["protocol"] == "http"
    assert host.startswith("http://")


def test_prometheus_finds_every_service_through_headless_services(
    docs: list[dict[str, Any]],
) -> None:
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus-k8s.yml").read_text())
    services = _of(docs, "Service")
    for job in prom["scrape_configs"]:
        (sd,) = job["dns_sd_configs"]
        (name,) = sd["names"]
        svc_name, namespace = name.split(".")[:2]
        assert namespace == "minuta"
        svc = services[svc_name]
        assert svc["spec"]["clusterIP"] == "None"
        assert svc["spec"]["selector"] == {"app.kubernetes.io/name": job["job_name"]}
        assert sd["port"] in {p["port"] for p in svc["spec"]["ports"]}
