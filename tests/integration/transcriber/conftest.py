"""Transcriber test helpers: provisioned models, real speech as 16 kHz FLAC, a small WER."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shared.storage import LocalBlobStore
from transcriber import provision
from transcriber.settings import Settings

from tests.support.media import dialogue

#: A short meeting: two voices, known text.
TURNS = [
    ("en+m3", "Good morning everyone, let us review the budget for the next quarter."),
    ("en-us+f3", "I think we should hire two more engineers before the summer."),
    ("en+m3", "That sounds reasonable. Who will write the job description?"),
    ("en-us+f3", "I will send a draft to the team by Friday."),
]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance over the reference length (case and
    punctuation ignored)."""

    def norm(s: str) -> list[str]:
        return re.sub(r"[^a-z0-9' ]+", " ", s.lower()).split()

    ref, hyp = norm(reference), norm(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(1, len(ref))


def to_flac16k(src: Path, dest: Path) -> Path:
    """What ingest stores: 16 kHz mono FLAC."""
    subprocess.run(["sox", str(src), "-r", "16000", "-c", "1", str(dest)], check=True, timeout=60)
    return dest


def make_meeting(
    turns: list[tuple[str, str]], dest: Path
) -> tuple[Path, list[tuple[float, float, str]]]:
    """Speak ``turns`` into a 16 kHz mono FLAC; returns the file and each turn's span."""
    wav = dest.with_suffix(".wav")
    spans = dialogue(turns, wav)
    return to_flac16k(wav, dest), spans


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """Provision tiny.en (idempotent; a no-op when CI's provisioning already ran)."""
    provision.provision("tiny.en")
    return provision.default_models_dir()


@pytest.fixture(scope="session")
def base_model(models_dir: Path) -> Path:
    return provision.provision("base")


@pytest.fixture
def settings(models_dir: Path, blob_root: Path) -> Settings:
    return Settings(
        whisper_model="tiny.en",
        models_dir=models_dir,
        blob_root=blob_root,
        diarize="off",
        beam_size=1,
    )


class FakeRuntime:
    """What ``JobContext`` needs of a worker, collecting the events instead of publishing."""

    def __init__(self, blob_root: Path) -> None:
        self.store = LocalBlobStore(blob_root)
        self.worker_id = "test-worker"
        self.events: list[Any] = []

    async def publish_event(self, event: Any) -> None:
        self.events.append(event)


@pytest.fixture
def runtime(blob_root: Path) -> Iterator[FakeRuntime]:
    return FakeRuntime(blob_root)
