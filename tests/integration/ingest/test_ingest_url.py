"""URL sources: the worker downloads through the SSRF guard from a local HTTP server.

The server listens on 127.0.0.1, which the worker's settings allow explicitly (as
deployments would allow an internal object store); everything else non-public stays blocked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from shared.messages import IngestCompleted, StageFailed, StageProgress
from shared.storage import meeting_key

from tests.integration.ingest.conftest import Ingest
from tests.integration.ingest.httpsource import TOKEN, SourceServer
from tests.support.media import duration_of, encode, speak

pytestmark = pytest.mark.integration
MakeIngest = Callable[..., Awaitable[Ingest]]


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak(
        "Action item: Dana sends the revised contract by Friday.",
        tmp_path_factory.mktemp("speech") / "speech.wav",
    )


@pytest.fixture
def served(http_source: SourceServer, speech: Path, tmp_path: Path) -> SourceServer:
    http_source.files["talk.mp3"] = (
        encode(speech, tmp_path / "t.mp3", "mp3").read_bytes(),
        "audio/mpeg",
    )
    http_source.files["talk.mp4"] = (
        encode(speech, tmp_path / "t.mp4", "mp4").read_bytes(),
        "video/mp4",
    )
    http_source.files["page.html"] = (
        b"<!doctype html><html><body>Sign in</body></html>",
        "text/html",
    )
    http_source.files["page.bin"] = (
        b"<!DOCTYPE html><html><p>hi</p></html>",
        "application/octet-stream",
    )
    return http_source


def _downloaded(events: list) -> list[float]:
    return [
        e.detail["bytes_downloaded"]
        for e in events
        if isinstance(e, StageProgress) and "bytes_downloaded" in e.detail
    ]


async def _completed(runner: Ingest, url: str, **fields) -> tuple[IngestCompleted, list]:
    final, events = await runner.run(source_url=url, **fields)
    assert isinstance(final, IngestCompleted), final
    return final, events


@pytest.mark.parametrize("name", ["talk.mp3", "talk.mp4"])
async def test_url_is_downloaded_kept_and_normalized(
    ingest: MakeIngest, served: SourceServer, speech: Path, name: str
) -> None:
    runner = await ingest()
    final, events = await _completed(runner, served.url(f"/files/{name}"))

    original = runner.store.path_of(meeting_key(final.job_id, "original"))
    assert original.read_bytes() == served.files[name][0]
    assert final.original_size == len(served.files[name][0])
    assert final.duration_s == pytest.approx(duration_of(speech), abs=0.1)
    assert _downloaded(events)[-1] == len(served.files[name][0])


async def test_slow_server_still_succeeds_and_reports_bytes(
    ingest: MakeIngest, served: SourceServer, speech: Path
) -> None:
    runner = await ingest()
    final, events = await _completed(runner, served.url("/slow/talk.mp3"))
    assert final.duration_s == pytest.approx(duration_of(speech), abs=0.1)
    counts = _downloaded(events)
    assert counts == sorted(counts)
    assert counts[-1] == len(served.files["talk.mp3"][0])


async def test_failing_then_succeeding_server_is_retried(
    ingest: MakeIngest, served: SourceServer
) -> None:
    runner = await ingest(fetch_attempts=3)
    await _completed(runner, served.url("/flaky/2/talk.mp3"))
    assert served.hits["/flaky/2/talk.mp3"] == 3


async def test_connection_reset_mid_body_is_retried(
    ingest: MakeIngest, served: SourceServer
) -> None:
    runner = await ingest()
    final, _ = await _completed(runner, served.url("/reset/1/talk.mp3"))
    assert served.hits["/reset/1/talk.mp3"] == 2
    assert final.original_size == len(served.files["talk.mp3"][0])


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/status/503", "503"),
        ("/stall/x.mp3", "did not answer in time"),
    ],
)
async def test_persistent_transient_faults_end_retryable(
    ingest: MakeIngest, served: SourceServer, path: str, words: str
) -> None:
    runner = await ingest(fetch_attempts=2)
    final, _ = await runner.run(source_url=served.url(path))
    assert isinstance(final, StageFailed), final
    assert final.retryable is True
    assert "after 2 attempts" in final.reason
    assert words in final.reason
    assert served.hits[path] == 2


async def test_private_url_needs_its_headers(ingest: MakeIngest, served: SourceServer) -> None:
    runner = await ingest()
    url = served.url("/private/talk.mp3")
    denied, _ = await runner.run(source_url=url)
    await _completed(runner, url, source_headers={"Authorization": TOKEN})

    assert isinstance(denied, StageFailed)
    assert not denied.retryable
    assert "403" in denied.reason
    assert "expired or need credentials" in denied.reason


def _redirect(server: SourceServer, to: str) -> str:
    return server.url(f"/redirect?to={to}")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/status/404", "404"),
        ("/files/page.html", "web page"),
        ("/files/page.bin", "web page"),
        ("/huge", "too large"),
        ("redirect:http://169.254.169.254/latest/meta-data/", "metadata"),
        ("redirect:http://127.0.0.2:9/x.mp3", "loopback"),
        ("redirect:http://[::ffff:127.0.0.1]/x.mp3", "ipv4-mapped"),
        ("redirect:file:///etc/passwd", "only http and https"),
        ("http://10.0.0.7/talk.mp3", "private"),
        ("http://2130706433/talk.mp3", "unusual"),
        ("ftp://127.0.0.1/talk.mp3", "only http and https"),
    ],
)
async def test_refused_urls_fail_permanently(
    ingest: MakeIngest, served: SourceServer, url: str, words: str
) -> None:
    runner = await ingest()
    if url.startswith("redirect:"):
        url = _redirect(served, url.removeprefix("redirect:"))
    elif url.startswith("/"):
        url = served.url(url)
    final, _ = await runner.run(source_url=url)
    assert isinstance(final, StageFailed), final
    assert final.retryable is False
    assert words in final.reason.lower(), final.reason
    assert not await runner.store.exists(meeting_key(final.job_id, "original"))


async def test_endless_body_is_cut_at_the_size_limit(
    ingest: MakeIngest, served: SourceServer
) -> None:
    runner = await ingest(max_download_bytes=1 << 20)
    final, _ = await runner.run(source_url=served.url("/endless"))
    assert isinstance(final, StageFailed), final
    assert not final.retryable
    assert "too large" in final.reason
    assert "1.0 MiB" in final.reason
    assert not await runner.store.exists(meeting_key(final.job_id, "original"))


async def test_redirect_within_allowed_hosts_is_followed(
    ingest: MakeIngest, served: SourceServer
) -> None:
    runner = await ingest()
    await _completed(runner, _redirect(served, served.url("/files/talk.mp3")))
