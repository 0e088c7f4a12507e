"""Word and segment attribution from speaker turns (synthetic turns, no audio, no models)."""

from __future__ import annotations

from shared.transcript import Segment, Transcript, Word
from transcriber.diarize.turns import Turn, label_transcript, speaker_at, windows_to_turns


def _words(*spec: tuple[str, float, float]) -> list[Word]:
    return [Word(text=f" {t}", start=s, end=e) for t, s, e in spec]


def _transcript(*segments: Segment) -> Transcript:
    return Transcript(segments=list(segments), duration=20.0, engine="openai")


def test_word_takes_the_speaker_it_overlaps_most() -> None:
    turns = [Turn(0.0, 2.0, 7), Turn(2.0, 5.0, 3)]
    assert speaker_at(1.5, 2.4, turns) == 7  # 0.5 s with 7, 0.4 s with 3
    assert speaker_at(1.8, 2.6, turns) == 3


def test_word_between_turns_takes_the_nearest() -> None:
    turns = [Turn(0.0, 1.0, 0), Turn(4.0, 5.0, 1)]
    assert speaker_at(1.2, 1.5, turns) == 0
    assert speaker_at(3.2, 3.6, turns) == 1
    assert speaker_at(1.0, 2.0, []) is None


def test_segment_is_split_where_the_speaker_changes_mid_segment() -> None:
    seg = Segment(
        start=0.0,
        end=4.0,
        text=" Hello there. Hi, how are you?",
        words=_words(("Hello", 0.1, 0.5), ("there.", 0.5, 1.0), ("Hi,", 2.1, 2.4),
                     ("how", 2.5, 2.8), ("are", 2.8, 3.0), ("you?", 3.0, 3.6)),
    )  # fmt: skip
    out = label_transcript(_transcript(seg), [Turn(0.0, 1.6, 5), Turn(1.9, 4.0, 2)])
    assert [(s.speaker, s.text, s.start, s.end) for s in out.segments] == [
        ("S1", "Hello there.", 0.0, 1.0),
        ("S2", "Hi, how are you?", 2.1, 4.0),
    ]
    assert [w.speaker for w in out.segments[1].words] == ["S2"] * 4
    assert out.speaker_labels() == ["S1", "S2"]


def test_labels_follow_first_appearance_not_cluster_numbers() -> None:
    segs = [
        Segment(start=0, end=1, text="a", words=_words(("a", 0.1, 0.9))),
        Segment(start=2, end=3, text="b", words=_words(("b", 2.1, 2.9))),
        Segment(start=4, end=5, text="c", words=_words(("c", 4.1, 4.9))),
    ]
    turns = [Turn(0, 1, 9), Turn(2, 3, 4), Turn(4, 5, 9)]
    out = label_transcript(_transcript(*segs), turns)
    assert [s.speaker for s in out.segments] == ["S1", "S2", "S1"]


def test_segment_without_words_takes_the_overlapping_speaker() -> None:
    seg = Segment(start=3.0, end=6.0, text="no word times")
    out = label_transcript(_transcript(seg), [Turn(0, 3.5, 0), Turn(3.5, 9, 1)])
    assert out.segments[0].speaker == "S1"
    assert out.segments[0].text == "no word times"


def test_no_speech_found_attributes_everything_to_one_speaker() -> None:
    seg = Segment(start=0.0, end=2.0, text="hm", words=_words(("hm", 0.2, 0.6)))
    out = label_transcript(_transcript(seg), [])
    assert out.segments[0].speaker == "S1"
    assert out.segments[0].words[0].speaker == "S1"


def test_words_without_leading_spaces_are_joined_with_spaces() -> None:
    words = [
        Word(text=t, start=s, end=s + 0.3) for t, s in [("yes", 0.0), ("no", 1.0), ("ok", 1.4)]
    ]
    seg = Segment(start=0, end=2, text="yes no ok", words=words)
    out = label_transcript(_transcript(seg), [Turn(0, 0.5, 0), Turn(0.9, 2, 1)])
    assert [s.text for s in out.segments] == ["yes", "no ok"]


def test_overlapping_windows_split_at_the_middle_of_their_overlap() -> None:
    windows = [(0.0, 1.5, 0), (0.75, 2.25, 0), (1.5, 3.0, 0), (5.0, 6.0, 1)]
    turns = windows_to_turns(windows, [0, 0, 1, 0])
    assert turns == [Turn(0.0, 1.875, 0), Turn(1.875, 3.0, 1), Turn(5.0, 6.0, 0)]
