"""The four services keep every blob in an S3 bucket (moto) instead of a shared directory.

What a multi-machine deployment relies on: with ``*_BLOB_BACKEND=s3`` the upload, transcript
and minutes of a meeting land in the bucket, nothing lands in the local blob root, and the
gateway serves the artifacts back from the bucket.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from aiobotocore.session import get_session

from tests.integration.deploy.harness import (
    PREFIXES,
    Services,
    free_port,
    gateway_cli,
    moto_s3,
    service_env,
)
from tests.support.media import speak

pytestmark = pytest.mark.integration


@pytest.fixture
async def s3_services(
    namespace: str,
    fresh_db: Callable[[], Awaitable[str]],
    blob_root: Path,
    tmp_path: Path,
) -> AsyncIterator[tuple[Services, str, str]]:
    logs = tmp_path / "logs"
    logs.mkdir()
    bucket = f"minuta-{uuid.uuid4().hex[:8]}"
    with moto_s3(logs / "moto.log") as endpoint:
        ports = {name: free_port() for name in PREFIXES}
        env = service_env(await fresh_db(), namespace, blob_root, ports)
        for prefix in PREFIXES.values():
            env[prefix + "BLOB_BACKEND"] = "s3"
            env[prefix + "S3_ENDPOINT_URL"] = endpoint
            env[prefix + "S3_BUCKET"] = bucket
            env[prefix + "S3_ACCESS_KEY_ID"] = "testing"
            env[prefix + "S3_SECRET_ACCESS_KEY"] = "testing"
            env[prefix + "S3_CREATE_BUCKET"] = "true"
        await asyncio.to_thread(gateway_cli, env, "migrate")
        key = await asyncio.to_thread(gateway_cli, env, "keys", "create", "--tenant", "s3")
        services = Services(f"http://127.0.0.1:{ports['gateway']}", key, logs)
        try:
            services.start(env)
            await asyncio.to_thread(services.wait_consuming)
            yield services, endpoint, bucket
        finally:
            await asyncio.to_thread(services.stop_all)


async def _keys(endpoint: str, bucket: str, prefix: str) -> set[str]:
    session = get_session()
    async with session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        listed = await client.list_objects_v2(Bucket=bucket, Prefix=prefix)
        return {o["Key"] for o in listed.get("Contents", [])}


async def test_meeting_artifacts_live_in_the_bucket(
    s3_services: tuple[Services, str, str], blob_root: Path, tmp_path: Path
) -> None:
    services, endpoint, bucket = s3_services
    audio = speak("The budget review moves to Thursday.", tmp_path / "meeting.wav")
    meeting = await asyncio.to_thread(services.push_meeting, audio)

    keys = await _keys(endpoint, bucket, f"meetings/{meeting}/")
    for name in ("original", "transcript.json", "minutes.json"):
        assert f"meetings/{meeting}/{name}" in keys, (keys, services.tail())
    assert [p for p in blob_root.rglob("*") if p.is_file()] == []

    headers = {"Authorization": f"Bearer {services.key}"}
    async with httpx.AsyncClient(base_url=services.gateway, headers=headers) as client:
        minutes = await client.get(f"/v1/meetings/{meeting}/minutes", timeout=10)
        transcript = await client.get(f"/v1/meetings/{meeting}/transcript", timeout=10)
    assert minutes.status_code == 200, minutes.text
    assert transcript.status_code == 200, transcript.text
