"""SRT and WebVTT exports parse back to the transcript's cues, speakers and times."""

from __future__ import annotations

import re

from shared.transcript import Segment, Transcript, to_srt, to_txt, to_vtt

T = Transcript(
    segments=[
        Segment(start=0.0, end=2.5, text="Good morning, everyone.", speaker="S1"),
        Segment(start=2.5, end=2.5, text="  ", speaker="S1"),
        Segment(start=3.25, end=3661.042, text="Budget <draft> & plan", speaker="S2"),
        Segment(start=3700.0, end=3701.0, text="No speaker known."),
    ],
    speakers={"S1": "Alice"},
)

SRT_TIME = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
VTT_TIME = r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)"


def _secs(m: tuple[str, ...]) -> float:
    h, mi, s, ms = (int(x) for x in m)
    return h * 3600 + mi * 60 + s + ms / 1000


def parse_srt(text: str) -> list[tuple[int, float, float, str]]:
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        m = re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", lines[1])
        assert m, lines[1]
        g = m.groups()
        cues.append((int(lines[0]), _secs(g[:4]), _secs(g[4:]), "\n".join(lines[2:])))
    return cues


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    assert text.startswith("WEBVTT\n")
    cues = []
    for block in text.split("\n\n")[1:]:
        if not block.strip():
            continue
        lines = block.strip().split("\n")
        m = re.fullmatch(f"{VTT_TIME} --> {VTT_TIME}", lines[0])
        assert m, lines[0]
        g = m.groups()
        cues.append((_secs(g[:4]), _secs(g[4:]), "\n".join(lines[1:])))
    return cues


def test_srt_cues_are_numbered_timed_and_named() -> None:
    cues = parse_srt(to_srt(T))
    assert [c[0] for c in cues] == [1, 2, 3]
    assert cues[0] == (1, 0.0, 2.5, "Alice: Good morning, everyone.")
    assert cues[1][1:] == (3.25, 3661.042, "S2: Budget <draft> & plan")
    assert cues[2][1:] == (3700.0, 3701.0, "No speaker known.")


def test_vtt_has_voice_tags_and_escapes_markup() -> None:
    cues = parse_vtt(to_vtt(T))
    assert len(cues) == 3
    assert cues[0] == (0.0, 2.5, "<v Alice>Good morning, everyone.")
    assert cues[1] == (3.25, 3661.042, "<v S2>Budget &lt;draft&gt; &amp; plan")
    assert cues[2][2] == "No speaker known."


def test_txt_groups_turns_with_their_start_times() -> None:
    text = to_txt(T)
    assert text.splitlines()[0] == "[0:00] Alice: Good morning, everyone."
    assert "[0:03] S2: Budget <draft> & plan" in text
    assert "[1:01:40] No speaker known." in text


def test_empty_transcript_exports_are_valid() -> None:
    empty = Transcript()
    assert to_srt(empty) == ""
    assert parse_vtt(to_vtt(empty)) == []
    assert to_txt(empty) == ""
