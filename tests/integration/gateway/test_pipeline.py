"""A meeting through the whole pipeline, with test code playing the three workers."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets
from shared.messages import (
    IngestCompleted,
    IngestJob,
    MinutesCompleted,
    SegmentTranscribed,
    StageProgress,
    StageStarted,
    SummarizeJob,
    TranscribeJob,
    TranscriptCompleted,
)
from shared.minutes import ActionItem, Minutes
from shared.storage import LocalBlobStore, meeting_key
from shared.transcript import Segment, Transcript

from tests.integration.gateway.harness import FakeWorkers, Gateway, eventually

pytestmark = pytest.mark.integration

TRANSCRIPT = Transcript(
    language="en",
    duration=12.0,
    engine="test",
    segments=[
        Segment(start=0.0, end=4.0, text="Let's ship the release on Friday.", speaker="S1"),
        Segment(start=4.5, end=9.0, text="I will write the release notes.", speaker="S2"),
    ],
)
MINUTES = Minutes(
    title="Release sync",
    summary="The team agreed to ship on Friday.",
    action_items=[ActionItem(task="Write the release notes", owner="S2", citations=[4.5])],
    engine="test",
)


async def status_of(client: Any, mid: str, wanted: str) -> dict[str, Any] | None:
    body: dict[str, Any] = (await client.get(f"/v1/meetings/{mid}")).json()
    return body if body["status"] == wanted else None


async def run_pipeline(
    workers: FakeWorkers, store: LocalBlobStore, *, expect_upload: bool = True
) -> str:
    """Play ingest, transcribe and summarize for the next meeting in the queues."""
    job = await workers.take("ingest")
    assert isinstance(job, IngestJob)
    assert (job.source_key is not None) == expect_upload
    mid = str(job.job_id)
    await workers.send(job, StageStarted, engine="ffmpeg")
    await workers.send(job, StageProgress, percent=50, message="decoding")
    audio_key = meeting_key(mid, "audio.flac")
    await store.put_bytes(audio_key, b"fLaC" + bytes(4000))
    await workers.send(
        job, IngestCompleted, audio_key=audio_key, audio_sha256="0" * 64, duration_s=12.0
    )

    tjob = await workers.take("transcribe")
    assert isinstance(tjob, TranscribeJob)
    assert tjob.audio_key == audio_key
    assert tjob.duration_s == 12.0
    await workers.send(tjob, StageStarted, engine="whisper")
    await workers.send(tjob, SegmentTranscribed, segment=TRANSCRIPT.segments[0])
    tkey = meeting_key(mid, "transcript.json")
    await store.put_bytes(tkey, TRANSCRIPT.model_dump_json().encode())
    await workers.send(
        tjob,
        TranscriptCompleted,
        transcript_key=tkey,
        language="en",
        duration_s=12.0,
        engine="whisper",
        speakers=["S1", "S2"],
        realtime_factor=0.2,
    )

    sjob = await workers.take("summarize")
    assert isinstance(sjob, SummarizeJob)
    assert sjob.transcript_key == tkey
    await workers.send(sjob, StageStarted, engine="extractive")
    mkey = meeting_key(mid, "minutes.json")
    await store.put_bytes(mkey, MINUTES.model_dump_json().encode())
    await workers.send(sjob, MinutesCompleted, minutes_key=mkey, engine="extractive")
    return mid


async def test_upload_runs_through_every_stage_and_exports(
    gateway: Gateway, workers: FakeWorkers, keys: Any
) -> None:
    key = await keys("acme")
    store = LocalBlobStore(gateway.deps.settings.blob_root)
    async with gateway.client(key) as client:
        resp = await client.post(
            "/v1/meetings",
            files={"file": ("standup.wav", b"RIFF" + bytes(2048), "audio/wav")},
            data={"title": "Standup", "template": "default"},
        )
        assert resp.status_code == 202, resp.text
        submitted = resp.json()
        assert submitted["status"] == "queued"
        assert submitted["queue_position"] in (1, None)
        assert submitted["eta_seconds"] is not None
        original = await store.get_bytes(meeting_key(submitted["id"], "original"))
        assert original == b"RIFF" + bytes(2048)

        mid = await run_pipeline(workers, store)
        assert mid == submitted["id"]
        done = await eventually(lambda: status_of(client, mid, "completed"), what="completed")
        assert done["progress"] == 100
        assert done["duration_seconds"] == 12.0
        assert [s["stage"] for s in done["stages"]] == ["ingest", "transcribe", "summarize"]
        assert all(s["run_seconds"] is not None for s in done["stages"])

        txt = await client.get(f"/v1/meetings/{mid}/transcript", params={"format": "txt"})
        assert "Let's ship the release on Friday." in txt.text
        await client.patch(f"/v1/meetings/{mid}/speakers", json={"S1": "Alice"})
        srt = await client.get(f"/v1/meetings/{mid}/transcript", params={"format": "srt"})
        assert "Alice: Let's ship" in srt.text
        md = await client.get(f"/v1/meetings/{mid}/minutes", params={"format": "md"})
        assert md.status_code == 200
        assert "Write the release notes" in md.text
        audio = await client.get(f"/v1/meetings/{mid}/audio", headers={"Range": "bytes=0-3"})
        assert audio.status_code == 206
        assert audio.content == b"fLaC"
        assert audio.headers["content-range"] == "bytes 0-3/4004"

        log = (await client.get(f"/v1/meetings/{mid}/events")).json()["items"]
        ticket = (await client.post("/v1/ws-ticket")).json()["ticket"]

    types = [e["type"] for e in log]
    assert types[0] == "meeting.created"
    assert types[-2:] == ["meeting.completed", "speakers.renamed"]
    assert "transcript.segment" in types
    assert "stage.progress" in types
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))

    ws_url = gateway.url.replace("http", "ws") + f"/v1/meetings/{mid}/events?ticket={ticket}"
    async with websockets.connect(ws_url) as ws:
        received = [json.loads(await ws.recv()) for _ in log]
    assert [e["seq"] for e in received] == [e["seq"] for e in log]
    assert received[-2]["type"] == "meeting.completed"
    assert received[-2]["status"] == "completed"


async def test_url_submission_reaches_ingest_with_the_url(
    gateway: Gateway, workers: FakeWorkers, keys: Any
) -> None:
    key = await keys("acme")
    async with gateway.client(key) as client:
        resp = await client.post(
            "/v1/meetings",
            json={"source_url": "http://127.0.0.1:9/a.mp3", "title": "By URL", "language": "en"},
        )
        assert resp.status_code == 202, resp.text
    job = await workers.take("ingest")
    assert isinstance(job, IngestJob)
    assert job.source_url == "http://127.0.0.1:9/a.mp3"
    assert job.source_key is None
