"""A real Prometheus scrapes the four real services while one meeting goes through.

Then every PromQL expression Minuta ships (every dashboard panel query and every alert rule,
extracted automatically) is evaluated through Prometheus' HTTP API: it must parse, every
metric it names must be exported by a scraped service, dashboard panels must return data,
and on this healthy stack no alert condition may hold. Finally one worker is stopped and the
"service down" expression must notice. Needs Debian's ``prometheus`` package.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.integration.deploy.harness import (
    Services,
    free_port,
    gateway_cli,
    service_env,
    wait_until,
)
from tests.support.media import speak
from tests.support.procs import stop
from tests.unit.deploy.promql_exprs import (
    DEPLOY,
    SERVICE_JOBS,
    dashboard_exprs,
    family,
    rule_exprs,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="prometheus not installed (Debian package 'prometheus')",
    ),
]


@dataclass
class Observed:
    """The running services and the Prometheus scraping them."""

    services: Services
    prometheus: str
    ports: dict[str, int]

    def query(self, promql: str) -> dict[str, Any]:
        r = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": promql}, timeout=10)
        body: dict[str, Any] = r.json()
        return body

    def tail(self) -> str:
        return self.services.tail()


def prometheus_config(ports: dict[str, int], interval: str = "1s") -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with its DNS discovery pointed at these processes."""
    conf: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    conf["global"].update(scrape_interval=interval, evaluation_interval=interval)
    conf["rule_files"] = [str(DEPLOY / "prometheus" / "rules" / "*.yml")]
    jobs = []
    for job in conf["scrape_configs"]:
        if job["job_name"] not in SERVICE_JOBS:
            continue
        job.pop("dns_sd_configs")
        job["static_configs"] = [{"targets": [f"127.0.0.1:{ports[job['job_name']]}"]}]
        jobs.append(job)
    assert {j["job_name"] for j in jobs} == set(SERVICE_JOBS)
    conf["scrape_configs"] = jobs
    return conf


def _start_prometheus(obs: Observed, tmp: Path) -> subprocess.Popen[bytes]:
    conf = tmp / "prometheus.yml"
    conf.write_text(yaml.safe_dump(prometheus_config(obs.ports)))
    with open(obs.services.logs / "prometheus.log", "ab") as out:
        return subprocess.Popen(
            [
                "prometheus",
                f"--config.file={conf}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{obs.ports['prometheus']}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _start(obs: Observed, env: dict[str, str], tmp: Path) -> None:
    obs.services.start(env)
    # Prometheus starts while the services boot; its first scrapes simply fail.
    obs.services.procs["prometheus"] = _start_prometheus(obs, tmp)
    obs.services.wait_consuming()

    def all_up() -> bool:
        result = obs.query("up")["data"]["result"]
        return len(result) == 4 and all(r["value"][1] == "1" for r in result)

    wait_until("all four services scraped and up", all_up, 60, obs.tail)


@pytest.fixture
async def observed(
    namespace: str,
    fresh_db: Callable[[], Awaitable[str]],
    blob_root: Path,
    tmp_path: Path,
) -> AsyncIterator[Observed]:
    ports = {name: free_port() for name in (*SERVICE_JOBS, "prometheus")}
    env = service_env(await fresh_db(), namespace, blob_root, ports)
    await asyncio.to_thread(gateway_cli, env, "migrate")
    key = await asyncio.to_thread(gateway_cli, env, "keys", "create", "--tenant", "ops")
    logs = tmp_path / "logs"
    logs.mkdir()
    services = Services(f"http://127.0.0.1:{ports['gateway']}", key, logs)
    obs = Observed(services, f"http://127.0.0.1:{ports['prometheus']}", ports)
    try:
        await asyncio.to_thread(_start, obs, env, tmp_path)
        yield obs
    finally:
        await asyncio.to_thread(services.stop_all)


def _push_one_meeting(obs: Observed, tmp: Path) -> None:
    audio = speak("We decided to ship the dashboard on Friday.", tmp / "meeting.wav")
    obs.services.push_meeting(audio)

    def scraped() -> bool:
        q = 'sum(minuta_meetings_finished_total{outcome="completed"})'
        result = obs.query(q)["data"]["result"]
        return bool(result) and float(result[0]["value"][1]) >= 1

    # Prometheus has scraped the finished meeting (and a few samples after it for rate()).
    wait_until("Prometheus saw the finished meeting", scraped, 30, obs.tail)
    time.sleep(3)


def _exported_families(obs: Observed) -> set[str]:
    r = httpx.get(f"{obs.prometheus}/api/v1/metadata", timeout=10).json()
    return {family(name) for name in r["data"]} | {"up"}


async def test_dashboard_and_alerts_work_on_live_services(
    observed: Observed, tmp_path: Path
) -> None:
    obs = observed
    await asyncio.to_thread(_push_one_meeting, obs, tmp_path)
    exported = await asyncio.to_thread(_exported_families, obs)
    problems: list[str] = []
    for e in dashboard_exprs() + rule_exprs():
        body = await asyncio.to_thread(obs.query, e.promql)
        if body["status"] != "success":
            problems.append(f"{e.where}: does not evaluate: {body.get('error')}")
            continue
        missing = {m for m in e.metrics if family(m) not in exported}
        if missing:
            problems.append(f"{e.where}: names metrics no service exports: {sorted(missing)}")
        result = body["data"]["result"]
        if e.source == "dashboard" and not result:
            problems.append(f"{e.where}: returns no data: {e.promql}")
        if e.source == "rule" and result:
            problems.append(f"{e.where}: holds on a healthy stack: {json.dumps(result)[:300]}")
    assert not problems, "\n".join(problems) + "\n" + obs.tail()

    # Prometheus itself loaded every rule and evaluates it without error.
    rules = httpx.get(f"{obs.prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    loaded = {r["name"]: r for g in rules for r in g["rules"]}
    assert set(loaded) == {e.where.split(": ", 1)[1] for e in rule_exprs()}
    bad = {n: r.get("lastError") for n, r in loaded.items() if r["health"] == "err"}
    assert not bad, bad

    # Labels stay bounded (no meeting or tenant ids): a handful of series per target.
    samples = obs.query("max by (job) (scrape_samples_scraped)")["data"]["result"]
    per_job = {r["metric"]["job"]: float(r["value"][1]) for r in samples}
    assert set(per_job) == set(SERVICE_JOBS)
    assert max(per_job.values()) < 1500, per_job

    # And the alerts can fire: stop one worker, MinutaServiceDown's condition holds for it.
    await asyncio.to_thread(_service_down_is_noticed, obs)


def _service_down_is_noticed(obs: Observed) -> None:
    (down,) = (e for e in rule_exprs() if e.where.endswith(": MinutaServiceDown"))
    stop(obs.services.procs["summarizer"], 15)

    def holds_for_summarizer() -> bool:
        result = obs.query(down.promql)["data"]["result"]
        return [r["metric"]["job"] for r in result] == ["summarizer"]

    wait_until(
        "MinutaServiceDown's condition held for the stopped summarizer",
        holds_for_summarizer,
        30,
        obs.tail,
    )
