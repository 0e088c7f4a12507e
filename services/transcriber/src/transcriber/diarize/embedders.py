"""Speaker embedding models behind one small interface, running on onnxruntime and numpy only.

- ``CamPlusPlus``: 3D-Speaker CAM++ (zh/en common, 192-d), exported to ONNX at provisioning.
- ``Ge2e``: Resemblyzer's GE2E LSTM encoder (256-d), a numpy reimplementation of its 3-layer LSTM.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import onnxruntime as ort  # type: ignore[import-untyped]

from transcriber.diarize.features import Array, kaldi_fbank, mel_power
from transcriber.diarize.models import CAMPPLUS_FILE, GE2E_FILE


class Embedder(Protocol):
    """Maps equal-length 16 kHz clips (batch x samples) to L2-normalised embeddings."""

    name: str

    def embed(self, clips: Array) -> Array: ...


def _normalise(x: npt.NDArray[np.float32]) -> Array:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: Array = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


class CamPlusPlus:
    """CAM++ speaker embeddings from mean-normalised 80-bin Kaldi fbank."""

    name = "campplus"

    def __init__(self, model_dir: Path, threads: int = 2) -> None:
        self._session = _session(model_dir / CAMPPLUS_FILE, threads)

    def embed(self, clips: Array) -> Array:
        """Embeddings (batch x 192) of equal-length clips."""
        feats = np.stack([kaldi_fbank(c) for c in clips])
        feats -= feats.mean(axis=1, keepdims=True)
        out = self._session.run(None, {"feats": feats.astype(np.float32)})[0]
        return _normalise(np.asarray(out, dtype=np.float32))


@lru_cache(maxsize=4)
def _session(path: Path, threads: int) -> ort.InferenceSession:
    # One session per process: loading the graph costs ~0.3 s, running it is what we pay for.
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _sigmoid(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=np.float32)


class Ge2e:
    """Resemblyzer's GE2E encoder: 3 LSTM layers of 256 over 40-bin mel power, then ReLU(linear)."""

    name = "ge2e"

    def __init__(self, model_dir: Path) -> None:
        self._w = _weights(model_dir / GE2E_FILE)

    def forward(self, mels: Array) -> Array:
        """Embeddings of a batch of mel spectrograms (batch x frames x 40), as torch computes."""
        x = mels.astype(np.float32)
        hidden = np.zeros((x.shape[0], 256), dtype=np.float32)
        for layer in range(3):
            w_ih, w_hh = self._w[f"lstm_weight_ih_l{layer}"], self._w[f"lstm_weight_hh_l{layer}"]
            bias = self._w[f"lstm_bias_ih_l{layer}"] + self._w[f"lstm_bias_hh_l{layer}"]
            inputs = x @ w_ih.T + bias
            hidden = np.zeros((x.shape[0], 256), dtype=np.float32)
            cell = np.zeros_like(hidden)
            outputs = np.empty((x.shape[0], x.shape[1], 256), dtype=np.float32)
            for t in range(x.shape[1]):
                gates = inputs[:, t] + hidden @ w_hh.T
                i, f, g, o = np.split(gates, 4, axis=1)
                cell = _sigmoid(f) * cell + _sigmoid(i) * np.tanh(g)
                hidden = _sigmoid(o) * np.tanh(cell)
                outputs[:, t] = hidden
            x = outputs
        raw = np.maximum(hidden @ self._w["linear_weight"].T + self._w["linear_bias"], 0.0)
        return _normalise(raw)

    def embed(self, clips: Array) -> Array:
        """Embeddings (batch x 256) of equal-length clips, volume-normalised as Resemblyzer does."""
        mels = np.stack([mel_power(_to_dbfs(c, -30.0)) for c in clips])
        return self.forward(mels)


def _to_dbfs(clip: Array, target: float) -> Array:
    rms = float(np.sqrt(np.mean(np.square(clip, dtype=np.float64))))
    if rms <= 0:
        return clip
    gain = 10 ** ((target - 20 * np.log10(rms)) / 20)
    return (clip * gain).astype(np.float32) if gain > 1 else clip


@lru_cache(maxsize=2)
def _weights(path: Path) -> dict[str, npt.NDArray[np.float32]]:
    with np.load(path) as data:
        return {k: data[k].astype(np.float32) for k in data.files}


def make_embedder(name: str, model_dir: Path) -> Embedder:
    """The embedder called ``name`` ("campplus" or "ge2e") loaded from ``model_dir``."""
    if name == "campplus":
        return CamPlusPlus(model_dir)
    if name == "ge2e":
        return Ge2e(model_dir)
    raise ValueError(f"unknown speaker model {name!r}; choose campplus or ge2e")
