"""What a user sees when the speaker models are missing, damaged, or asked the impossible."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from shared.errors import PermanentError
from shared.transcript import Transcript
from transcriber.diarize import DiarizationUnavailable, assign_speakers
from transcriber.diarize.models import MANIFEST_VERSION, default_dir, problems, sha256_of


def _call(audio: Path, model_dir: Path, lo: int | None = None, hi: int | None = None) -> None:
    assign_speakers(audio, Transcript(), lo, hi, threading.Event(), model_dir=model_dir)


def test_unprovisioned_models_raise_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DiarizationUnavailable) as caught:
        _call(tmp_path / "a.wav", tmp_path / "nowhere")
    assert "python -m transcriber.diarize.provision" in caught.value.message
    assert str(tmp_path / "nowhere") in caught.value.message
    assert caught.value.code == "diarization_unavailable"
    assert isinstance(caught.value, PermanentError)


def _fake_install(directory: Path) -> None:
    directory.mkdir()
    for name in ("campplus.onnx", "ge2e.npz"):
        (directory / name).write_bytes(name.encode())
    hashes = {name: sha256_of(directory / name) for name in ("campplus.onnx", "ge2e.npz")}
    (directory / "manifest.json").write_text(
        json.dumps({"version": MANIFEST_VERSION, "files": hashes})
    )


def test_a_damaged_model_file_counts_as_not_provisioned(tmp_path: Path) -> None:
    models = tmp_path / "models"
    _fake_install(models)
    assert problems(models) == []
    (models / "campplus.onnx").write_bytes(b"truncated")
    assert problems(models) == [f"{models / 'campplus.onnx'} does not match its pinned sha256"]
    with pytest.raises(DiarizationUnavailable, match="does not match its pinned sha256"):
        _call(tmp_path / "a.wav", models)


@pytest.mark.parametrize(("lo", "hi"), [(0, None), (None, 0), (3, 2)])
def test_impossible_speaker_bounds_are_rejected(tmp_path: Path, lo: int, hi: int) -> None:
    with pytest.raises(PermanentError) as caught:
        _call(tmp_path / "a.wav", tmp_path, lo, hi)
    assert caught.value.code == "invalid_speaker_count"


def test_models_dir_follows_the_transcriber_models_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRANSCRIBER_MODELS_DIR", str(tmp_path))
    assert default_dir() == tmp_path / "diarize"
    monkeypatch.delenv("TRANSCRIBER_MODELS_DIR")
    assert default_dir() == Path.home() / ".cache" / "minuta" / "models" / "diarize"
