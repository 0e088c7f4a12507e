"""Speechmatics json-v2 mapped to our transcript: speakers, punctuation, turns."""

from __future__ import annotations

from typing import Any

from speechmatics.batch import Transcript as SmTranscript
from transcriber.engines.sm_mapping import to_transcript


def _w(start: float, end: float, content: str, speaker: str, kind: str = "word") -> dict[str, Any]:
    r: dict[str, Any] = {
        "type": kind,
        "start_time": start,
        "end_time": end,
        "alternatives": [
            {"content": content, "confidence": 0.9, "language": "en", "speaker": speaker}
        ],
    }
    if kind == "punctuation":
        r["attaches_to"] = "previous"
        r["is_eos"] = content in ".?!"
    return r


def json_v2() -> dict[str, Any]:
    return {
        "format": "2.9",
        "job": {"id": "j1", "created_at": "2026-01-01T00:00:00Z", "data_name": "a.flac"},
        "metadata": {
            "created_at": "2026-01-01T00:00:00Z",
            "type": "transcription",
            "transcription_config": {"language": "en", "diarization": "speaker"},
        },
        "results": [
            _w(0.1, 0.4, "Hello", "S1"),
            _w(0.4, 0.4, ",", "S1", "punctuation"),
            _w(0.5, 0.9, "team", "S1"),
            _w(0.9, 0.9, ".", "S1", "punctuation"),
            _w(1.0, 1.3, "Next", "S1"),
            _w(1.3, 1.6, "item", "S1"),
            _w(2.0, 2.4, "Agreed", "S2"),
            _w(2.4, 2.4, ".", "S2", "punctuation"),
            _w(3.0, 3.3, "mumble", "UU"),
        ],
    }


def test_words_speakers_and_punctuation_are_mapped() -> None:
    t = to_transcript(SmTranscript.from_dict(json_v2()), 4.0, "enhanced")
    assert [s.text for s in t.segments] == ["Hello, team.", "Next item", "Agreed.", "mumble"]
    assert [s.speaker for s in t.segments] == ["S1", "S1", "S2", None]
    assert t.speaker_labels() == ["S1", "S2"]
    assert t.segments[0].words[0].text == "Hello,"
    assert t.segments[0].words[0].speaker == "S1"
    assert t.language == "en"
    assert t.duration == 4.0
    assert t.segments[2].start == 2.0
    assert t.segments[2].end == 2.4
