"""The CLI's pure parts: status labels, exit codes, config, the event fold."""

from __future__ import annotations

import pytest
from minuta_cli.config import Config
from minuta_cli.errors import CliError, Exit, exit_for_status
from minuta_cli.follow import FollowState, events_url
from minuta_cli.render import failure_reason, format_clock, format_eta, status_label
from minuta_cli.stack import stack_env


@pytest.mark.parametrize(
    ("meeting", "label"),
    [
        ({"status": "queued", "queue_position": 2, "eta_seconds": 600}, "Queued #2 · ~10 min"),
        ({"status": "queued", "queue_position": 1, "eta_seconds": 20}, "Queued #1 · <1 min"),
        ({"status": "queued"}, "Queued"),
        ({"status": "transcribing", "progress": 43.4}, "Transcribing 43%"),
        ({"status": "ingesting", "progress": 0}, "Ingesting"),
        ({"status": "completed", "progress": 100}, "Completed"),
        ({"status": "cancelled"}, "Cancelled"),
        (
            {"status": "failed", "error": {"stage": "ingest", "reason": "no audio"}},
            "Failed in ingest",
        ),
    ],
)
def test_status_label_reads_like_the_badges(meeting: dict[str, object], label: str) -> None:
    assert status_label(meeting) == label


def test_eta_and_clock_formats() -> None:
    assert format_eta(None) == ""
    assert format_eta(3900) == "~1 h 5 min"
    assert format_eta(7200) == "~2 h"
    assert format_clock(65.9) == "1:05"
    assert format_clock(3725) == "1:02:05"


def test_failure_reason_names_the_stage() -> None:
    meeting = {"status": "failed", "error": {"stage": "ingest", "reason": "no audio track"}}
    assert failure_reason(meeting) == "ingest: no audio track"
    assert failure_reason({"status": "failed"}) == "no reason given"


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, Exit.AUTH), (403, Exit.AUTH), (404, Exit.NOT_FOUND), (409, Exit.USAGE),
     (422, Exit.USAGE), (429, Exit.SERVER), (500, Exit.SERVER), (503, Exit.SERVER)],
)  # fmt: skip
def test_http_status_maps_to_documented_exit_code(status: int, code: Exit) -> None:
    assert exit_for_status(status) is code


def test_config_prefers_flags_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINUTA_URL", "https://minuta.example/")
    monkeypatch.setenv("MINUTA_API_KEY", "from-env")
    assert Config.load() == Config("https://minuta.example", "from-env")
    assert Config.load("http://h:1", "flag").api_key == "flag"
    assert Config.load().ws_url == "wss://minuta.example"
    monkeypatch.delenv("MINUTA_API_KEY")
    with pytest.raises(CliError) as info:
        Config.load().require_key()
    assert info.value.code is Exit.AUTH
    with pytest.raises(CliError):
        Config.load("ftp://nope")


def test_follow_state_skips_replays_and_tracks_stages() -> None:
    state = FollowState()
    assert state.apply(
        {"seq": 1, "type": "stage.started", "stage": "ingest", "status": "ingesting"}
    )
    data = {"percent": 40, "message": "decoding"}
    progress = {"seq": 2, "type": "stage.progress", "stage": "transcribe", "data": data}
    progress["status"] = "transcribing"
    assert state.apply(progress)
    assert not state.apply(progress)  # a replay after a reconnect is ignored
    assert state.percent["transcribe"] == 40
    assert state.message == "decoding"
    assert not state.finished
    state.apply(
        {"seq": 3, "type": "minutes.completed", "stage": "summarize", "status": "completed"}
    )
    assert state.finished
    assert state.percent == {"ingest": 100, "transcribe": 100, "summarize": 100}


def test_events_url_resumes_after_last_seq() -> None:
    url = events_url("ws://h:8000", "abc", "t/k+", 7)
    assert url == "ws://h:8000/v1/meetings/abc/events?ticket=t%2Fk%2B&after_seq=7"


def test_stack_env_gives_every_service_the_same_blob_root(tmp_path: object) -> None:
    env = stack_env({"PATH": "/bin"}, blob_root=None, namespace="dev", amqp_url=None)
    assert {
        env[p + "NAMESPACE"] for p in ("GATEWAY_", "INGEST_", "TRANSCRIBER_", "SUMMARIZER_")
    } == {"dev"}
    assert "GATEWAY_BLOB_ROOT" not in env
    assert env["PATH"] == "/bin"
