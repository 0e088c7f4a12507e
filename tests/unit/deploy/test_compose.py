"""docker-compose.yml: valid for Compose itself, and wired the way the services need.

``docker compose config`` (or the standalone ``docker-compose config``) validates the file
against the Compose schema without an engine; the structural checks read the file directly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.unit.deploy.promql_exprs import DEPLOY, REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
WORKERS = {"ingest": "INGEST", "transcriber": "TRANSCRIBER", "summarizer": "SUMMARIZER"}
APP = {"gateway": "GATEWAY", **WORKERS}


def _compose_cmd() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return doc


def _seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)([smh])", value)
    assert m, value
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


def test_compose_config_validates() -> None:
    cmd = _compose_cmd()
    if cmd is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' is installed")
    run = subprocess.run(
        [*cmd, "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stderr
    rendered = yaml.safe_load(run.stdout)
    core = {"rabbitmq", "postgres", "migrate", "prometheus", "grafana", *APP}
    # Compose v2 leaves out services of inactive profiles; the standalone v1 lists them.
    assert core <= set(rendered["services"]) <= core | {"minio"}


def test_compose_config_rejects_a_broken_file(tmp_path: Any) -> None:
    """The validation above can fail: an unknown key is refused."""
    cmd = _compose_cmd()
    if cmd is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' is installed")
    bad = tmp_path / "docker-compose.yml"
    bad.write_text("services:\n  a:\n    image: x\n    healthcheck: {tset: [CMD, 'true']}\n")
    run = subprocess.run(
        [*cmd, "-f", str(bad), "config"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode != 0


def test_services_are_built_from_their_dockerfiles_and_healthchecked() -> None:
    services = _compose()["services"]
    for name in APP:
        svc = services[name]
        assert svc["build"]["context"] == "."
        assert svc["build"]["dockerfile"] == f"services/{name}/Dockerfile"
        assert (REPO / svc["build"]["dockerfile"]).is_file()
        assert "healthcheck" in svc, name
        assert svc["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
    for infra in ("rabbitmq", "postgres", "prometheus", "grafana"):
        assert "healthcheck" in services[infra], infra
    gw = services["gateway"]
    assert gw["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert gw["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["command"] == ["python", "-m", "gateway", "migrate"]
    assert "/readyz" in " ".join(gw["healthcheck"]["test"])


def test_blob_volume_is_shared_by_every_service() -> None:
    doc = _compose()
    assert "blobs" in doc["volumes"]
    for name, prefix in APP.items():
        svc = doc["services"][name]
        root = svc["environment"][f"{prefix}_BLOB_ROOT"]
        assert f"blobs:{root}" in svc["volumes"], name


def test_workers_export_metrics_where_prometheus_scrapes() -> None:
    doc = _compose()
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    ports = {
        j["job_name"]: j["dns_sd_configs"][0]["port"]
        for j in prom["scrape_configs"]
        if "dns_sd_configs" in j
    }
    assert ports["gateway"] == int(doc["services"]["gateway"]["environment"]["GATEWAY_PORT"])
    for name, prefix in WORKERS.items():
        env = doc["services"][name]["environment"]
        assert int(env[f"{prefix}_METRICS_PORT"]) == ports[name]
        assert env[f"{prefix}_METRICS_HOST"] == "0.0.0.0"  # reachable from Prometheus
        assert f":{ports[name]}/healthz" in " ".join(doc["services"][name]["healthcheck"]["test"])


def test_stop_grace_outlasts_the_workers_shutdown_grace() -> None:
    services = _compose()["services"]
    for name, prefix in WORKERS.items():
        grace = float(services[name]["environment"][f"{prefix}_SHUTDOWN_GRACE"])
        assert _seconds(services[name]["stop_grace_period"]) > grace + 10, name


def test_rabbitmq_gets_the_raised_consumer_timeout() -> None:
    rabbit = _compose()["services"]["rabbitmq"]
    mount = next(v for v in rabbit["volumes"] if "rabbitmq.conf" in v)
    host_path = mount.split(":")[0]
    conf = (REPO / host_path).read_text()
    m = re.search(r"^consumer_timeout\s*=\s*(\d+)", conf, flags=re.M)
    assert m, "deploy/rabbitmq/rabbitmq.conf sets no consumer_timeout"
    # Above the longest stage deadline (2 h), in milliseconds.
    assert int(m.group(1)) > 2 * 3600 * 1000
    assert mount.split(":")[1].startswith("/etc/rabbitmq/conf.d/")


def test_transcriber_image_bakes_in_its_model() -> None:
    build = _compose()["services"]["transcriber"]["build"]
    assert "WHISPER_MODELS" in build["args"]


def test_s3_backend_is_one_switch_away() -> None:
    doc = _compose()
    assert doc["services"]["minio"]["profiles"] == ["s3"]
    for name, prefix in APP.items():
        env = doc["services"][name]["environment"]
        assert env[f"{prefix}_BLOB_BACKEND"] == "${MINUTA_BLOB_BACKEND:-local}"
        assert env[f"{prefix}_S3_ENDPOINT_URL"].endswith("http://minio:9000}")
        # Every service must see the same bucket with the same credentials.
        assert env[f"{prefix}_S3_BUCKET"] == "${MINUTA_S3_BUCKET:-minuta}"
        assert env[f"{prefix}_S3_ACCESS_KEY_ID"] == "${MINIO_ROOT_USER:-minuta}"
