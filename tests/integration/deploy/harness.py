"""Run the four services as subprocesses for the deployment tests, and a local S3 server.

The services run as ``python -m <svc>`` on a fresh migrated database (``python -m gateway
migrate``), under a unique broker namespace, with ``noop`` engines so one meeting takes
seconds; each worker serves /metrics and /healthz on its own free port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.procs import ROOT, spawn, stop, wait_for_log

WORKERS = {"ingest": "INGEST_", "transcriber": "TRANSCRIBER_", "summarizer": "SUMMARIZER_"}
PREFIXES = {"gateway": "GATEWAY_", **WORKERS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    what: str, check: Callable[[], bool], timeout: float, tail: Callable[[], str]
) -> None:
    """Poll ``check`` until true; fail with ``what`` and the service logs after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"not done: {what} within {timeout}s\n{tail()}")


def service_env(dsn: str, namespace: str, blob_root: Path, ports: dict[str, int]) -> dict[str, str]:
    """Environment for the four services: noop engines, JSON logs, metrics on ``ports``."""
    env = {
        "GATEWAY_DATABASE_URL": dsn,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(ports["gateway"]),
        "GATEWAY_MIGRATE_ON_START": "false",
        "GATEWAY_DISPATCH_INTERVAL_S": "0.5",
        "INGEST_ENGINE": "noop",
        "TRANSCRIBER_ENGINE": "noop",
        "SUMMARIZER_ENGINE": "noop",
    }
    for svc, prefix in PREFIXES.items():
        env[prefix + "NAMESPACE"] = namespace
        env[prefix + "BLOB_ROOT"] = str(blob_root)
        env[prefix + "LOG_JSON"] = "true"
        env[prefix + "SHUTDOWN_GRACE"] = "5"
        if svc != "gateway":
            env[prefix + "METRICS_HOST"] = "127.0.0.1"
            env[prefix + "METRICS_PORT"] = str(ports[svc])
    return env


def gateway_cli(env: dict[str, str], *args: str) -> str:
    """Run ``python -m gateway <args>``; returns its last output line."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"gateway {args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip().splitlines()[-1]


@dataclass
class Services:
    """The running services and how to reach them."""

    gateway: str
    key: str
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}"
            for p in sorted(self.logs.glob("*.log"))
        )

    def start(self, env: dict[str, str]) -> None:
        for module in PREFIXES:
            self.procs[module] = spawn(module, env, log=self.logs / f"{module}.log")

    def wait_consuming(self) -> None:
        for module in WORKERS:
            wait_for_log(self.logs / f"{module}.log", "worker_consuming", timeout=120)
        wait_until(
            "the gateway is ready",
            lambda: httpx.get(f"{self.gateway}/readyz", timeout=5).status_code == 200,
            60,
            self.tail,
        )

    def stop_all(self) -> None:
        for proc in self.procs.values():
            stop(proc, 15)

    def push_meeting(self, audio: Path, timeout: float = 90) -> str:
        """Upload ``audio`` (noop engines) and wait until the meeting completed."""
        headers = {"Authorization": f"Bearer {self.key}"}
        with open(audio, "rb") as fh:
            r = httpx.post(
                f"{self.gateway}/v1/meetings",
                headers=headers,
                files={"file": (audio.name, fh, "audio/wav")},
                data={"title": "deployment test", "transcribe_engine": "noop"},
                timeout=30,
            )
        assert r.status_code == 202, r.text
        meeting: str = r.json()["id"]

        def completed() -> bool:
            got = httpx.get(f"{self.gateway}/v1/meetings/{meeting}", headers=headers, timeout=10)
            status = got.json()["status"]
            assert status not in ("failed", "cancelled"), got.text
            return bool(status == "completed")

        wait_until("the meeting completed", completed, timeout, self.tail)
        return meeting


@contextmanager
def moto_s3(log: Path) -> Iterator[str]:
    """A moto S3 server on a free loopback port; yields its endpoint URL."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError as e:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"moto did not start: {log.read_text()[-2000:]}") from e
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
