"""Acoustic features in plain numpy, matching what each speaker model was trained on.

- ``kaldi_fbank``: Kaldi/torchaudio ``fbank`` (25 ms Povey window, 10 ms shift, pre-emphasis
  0.97, DC removal, 512-point power spectrum, 80 mel bins from 20 Hz, log), the input of
  3D-Speaker's CAM++; the caller subtracts the mean over time (CMN) as 3D-Speaker does.
- ``mel_power``: librosa's ``melspectrogram`` (centred 400-point Hann STFT, Slaney mel, power 2,
  40 bins, no log), the input of Resemblyzer's GE2E encoder.

Both are reimplemented here so the service needs neither torch nor librosa at run time.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000
Array = npt.NDArray[np.float32]


def _kaldi_mel(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = 1127.0 * np.log1p(mel / 700.0)
    return out


@lru_cache(maxsize=4)
def _kaldi_mel_banks(num_bins: int, n_fft: int, low: float, high: float) -> npt.NDArray[np.float64]:
    """Kaldi's triangular mel filters over the first ``n_fft // 2`` FFT bins (no Nyquist bin)."""
    half = n_fft // 2
    freqs = np.arange(half) * SAMPLE_RATE / n_fft
    mel = _kaldi_mel(freqs)
    lo, hi = _kaldi_mel(np.array(low)), _kaldi_mel(np.array(high))
    delta = (hi - lo) / (num_bins + 1)
    left = lo + np.arange(num_bins)[:, None] * delta
    centre, right = left + delta, left + 2 * delta
    up = (mel[None, :] - left) / (centre - left)
    down = (right - mel[None, :]) / (right - centre)
    banks = np.where(mel[None, :] <= centre, up, down)
    inside = (mel[None, :] > left) & (mel[None, :] < right)
    return np.where(inside, banks, 0.0)


def _frames(wave: npt.NDArray[np.float64], length: int, shift: int) -> npt.NDArray[np.float64]:
    count = 1 + (len(wave) - length) // shift
    index = np.arange(length)[None, :] + shift * np.arange(count)[:, None]
    out: npt.NDArray[np.float64] = wave[index]
    return out


def kaldi_fbank(wave: npt.ArrayLike, num_bins: int = 80) -> Array:
    """Log mel filterbank energies (frames x ``num_bins``) of 16 kHz mono audio in [-1, 1]."""
    x = np.asarray(wave, dtype=np.float64)
    length, shift, n_fft = 400, 160, 512
    if len(x) < length:
        return np.zeros((0, num_bins), dtype=np.float32)
    frames = _frames(x, length, shift)
    frames = frames - frames.mean(axis=1, keepdims=True)
    previous = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = frames - 0.97 * previous
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / (length - 1))) ** 0.85
    spectrum = np.abs(np.fft.rfft(frames * window, n=n_fft)) ** 2
    banks = _kaldi_mel_banks(num_bins, n_fft, 20.0, SAMPLE_RATE / 2)
    energies = spectrum[:, : n_fft // 2] @ banks.T
    eps = float(np.finfo(np.float32).eps)
    return np.log(np.maximum(energies, eps)).astype(np.float32)


def _slaney_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _slaney_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


@lru_cache(maxsize=4)
def _slaney_banks(n_mels: int, n_fft: int) -> npt.NDArray[np.float64]:
    """librosa.filters.mel(sr=16000, n_fft, n_mels) with htk=False and norm='slaney'."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + n_fft // 2)
    mel_f = _slaney_hz(
        np.linspace(_slaney_mel(np.array(0.0)), _slaney_mel(np.array(SAMPLE_RATE / 2)), n_mels + 2)
    )
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]


def mel_power(wave: npt.ArrayLike, n_mels: int = 40) -> Array:
    """Mel power spectrogram (frames x ``n_mels``) as Resemblyzer computes it with librosa."""
    x = np.asarray(wave, dtype=np.float64)
    n_fft, hop = 400, 160
    x = np.pad(x, n_fft // 2, mode="constant")
    if len(x) < n_fft:
        return np.zeros((0, n_mels), dtype=np.float32)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    spectrum = np.abs(np.fft.rfft(_frames(x, n_fft, hop) * window, n=n_fft)) ** 2
    return (spectrum @ _slaney_banks(n_mels, n_fft).T).astype(np.float32)
