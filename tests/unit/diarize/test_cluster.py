"""Speaker counting and bounds on synthetic embeddings with known groups."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from transcriber.diarize.cluster import cluster


def _voices(
    sizes: list[int], spread: float = 0.35, dim: int = 64, seed: int = 1
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Rows drawn around one random direction per speaker, speakers interleaved in turns."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), dim))
    rows, truth = [], []
    remaining = list(sizes)
    while any(remaining):
        for k, left in enumerate(remaining):
            take = min(left, 5)
            for _ in range(take):
                rows.append(centres[k] + spread * np.sqrt(dim) * rng.standard_normal(dim) / 3)
                truth.append(k)
            remaining[k] -= take
    return np.array(rows), np.array(truth)


def _agree(labels: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> bool:
    pairs = set(zip(labels.tolist(), truth.tolist(), strict=True))
    return len(pairs) == len(set(labels.tolist())) == len(set(truth.tolist()))


@pytest.mark.parametrize("sizes", [[20, 20], [15, 25, 20], [12, 12, 12, 12]])
def test_finds_the_number_of_speakers(sizes: list[int]) -> None:
    x, truth = _voices(sizes)
    labels = cluster(x)
    assert len(set(labels.tolist())) == len(sizes)
    assert _agree(labels, truth)


def test_one_voice_is_one_speaker() -> None:
    x, _ = _voices([40])
    assert set(cluster(x).tolist()) == {0}


def test_bounds_are_respected() -> None:
    x, _ = _voices([15, 15, 15])
    assert len(set(cluster(x, max_speakers=2).tolist())) == 2
    x2, _ = _voices([20, 20])
    assert len(set(cluster(x2, min_speakers=3, max_speakers=3).tolist())) == 3
    assert len(set(cluster(x2, min_speakers=1, max_speakers=1).tolist())) == 1


def test_labels_are_numbered_in_order_of_first_appearance_and_deterministic() -> None:
    x, _ = _voices([10, 10, 10], seed=4)
    labels = cluster(x)
    seen: list[int] = []
    for v in labels.tolist():
        if v not in seen:
            seen.append(v)
    assert seen == sorted(seen)
    assert np.array_equal(labels, cluster(x))


def test_few_windows_still_separate_distinct_voices() -> None:
    x, truth = _voices([4, 4], spread=0.2)
    labels = cluster(x)
    assert _agree(labels, truth)


def test_empty_input_gives_no_labels() -> None:
    assert cluster(np.zeros((0, 8))).tolist() == []
