"""Grouping window embeddings into speakers, with the speaker count found or bounded.

Spectral clustering after 3D-Speaker's diarization recipe (adapted from SpeechBrain): cosine
affinity, each row pruned to its strongest neighbours, unnormalised Laplacian, the count chosen
by the largest eigengap within the caller's bounds, k-means on the eigenvectors; then clusters
whose centroids are nearly parallel are merged and tiny clusters are folded into their nearest
neighbour. Short inputs (too few windows for a stable graph) use average-linkage merging.
Everything is plain numpy and deterministic (fixed k-means seeds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ClusterOptions:
    """Tuning of ``cluster``; the defaults were chosen on the benchmark (docs/diarization.md)."""

    prune_keep: float = 0.2  # fraction of neighbours each row keeps in the affinity graph
    min_keep: int = 6
    merge_cosine: float = 0.8  # centroids closer than this are one speaker
    min_cluster: int = 3  # windows; smaller clusters are folded into the nearest one
    small_input: int = 12  # below this many windows, use agglomerative merging
    link_cosine: float = 0.6  # average-linkage threshold between windows (small inputs)
    centre: bool = False  # subtract the mean embedding first (helps similar voices)


def _unit(x: FloatArray) -> FloatArray:
    out: FloatArray = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return out


def _kmeans(x: FloatArray, k: int, seeds: int = 8, iters: int = 100) -> IntArray:
    """Lloyd's k-means with k-means++ starts; the best of ``seeds`` runs by inertia."""
    best: tuple[float, IntArray] | None = None
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        centres = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            d = np.min([np.sum((x - c) ** 2, axis=1) for c in centres], axis=0)
            total = d.sum()
            pick = rng.choice(len(x), p=d / total) if total > 0 else rng.integers(len(x))
            centres.append(x[pick])
        c = np.array(centres)
        labels = np.zeros(len(x), dtype=np.int64)
        for _ in range(iters):
            labels = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
            new = np.array(
                [x[labels == j].mean(0) if np.any(labels == j) else c[j] for j in range(k)]
            )
            if np.allclose(new, c):
                break
            c = new
        inertia = float(((x - c[labels]) ** 2).sum())
        if best is None or inertia < best[0]:
            best = (inertia, labels)
    assert best is not None
    return best[1]


def _spectral(sim: FloatArray, low: int, high: int, opts: ClusterOptions) -> IntArray:
    n = len(sim)
    keep = max(opts.min_keep, round(opts.prune_keep * n))
    affinity = sim.copy()
    weakest = np.argsort(affinity, axis=1)[:, : max(0, n - keep)]
    np.put_along_axis(affinity, weakest, 0.0, axis=1)
    affinity = 0.5 * (affinity + affinity.T)
    np.fill_diagonal(affinity, 0.0)
    laplacian = np.diag(np.abs(affinity).sum(1)) - affinity
    values, vectors = np.linalg.eigh(laplacian)
    if low == high:
        k = low
    else:
        # The eigengap is searched over every plausible count, then clipped to the bounds: a
        # gap searched only inside the bounds is meaningless when the true count lies outside.
        search = min(n - 1, max(high, 10))
        k = int(np.argmax(np.diff(values[: search + 1]))) + 1
        k = min(max(k, low), high)
    return _kmeans(vectors[:, :k], k) if k > 1 else np.zeros(n, dtype=np.int64)


def _centroid_sim(x: FloatArray, labels: IntArray) -> tuple[list[int], FloatArray]:
    ids = sorted(set(labels.tolist()))
    centres = _unit(np.array([x[labels == i].mean(0) for i in ids]))
    return ids, centres @ centres.T


def _average_sim(x: FloatArray, labels: IntArray) -> tuple[list[int], FloatArray]:
    ids = sorted(set(labels.tolist()))
    pair = x @ x.T
    sim = np.array([[pair[labels == a][:, labels == b].mean() for b in ids] for a in ids])
    return ids, sim


def _merge(
    x: FloatArray,
    labels: IntArray,
    low: int,
    high: int,
    threshold: float,
    average: bool = False,
) -> IntArray:
    """Merge the closest pair of clusters while they exceed ``threshold`` or there are too many
    (closeness: centroid cosine, or with ``average`` the mean cosine between their members)."""
    labels = labels.copy()
    while True:
        ids, sim = _average_sim(x, labels) if average else _centroid_sim(x, labels)
        if len(ids) <= max(low, 1):
            return labels
        np.fill_diagonal(sim, -np.inf)
        a, b = np.unravel_index(int(np.argmax(sim)), sim.shape)
        if sim[a, b] < threshold and len(ids) <= high:
            return labels
        labels[labels == ids[b]] = ids[a]


def _fold_small(x: FloatArray, labels: IntArray, low: int, size: int) -> IntArray:
    labels = labels.copy()
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        small = ids[counts < size]
        if len(small) == 0 or len(ids) <= low or len(small) == len(ids):
            return labels
        victim = small[np.argmin(counts[counts < size])]
        others = [i for i in ids if i != victim]
        centres = _unit(np.array([x[labels == i].mean(0) for i in others]))
        for row in np.flatnonzero(labels == victim):
            labels[row] = others[int(np.argmax(centres @ x[row]))]


def cluster(
    embeddings: npt.ArrayLike,
    min_speakers: int = 1,
    max_speakers: int = 8,
    opts: ClusterOptions | None = None,
) -> IntArray:
    """A speaker index per embedding row, with ``min_speakers <= count <= max_speakers``.

    Bounds are clipped to the number of rows. Labels are 0..k-1 in order of first appearance.
    """
    opts = opts or ClusterOptions()
    x = _unit(np.asarray(embeddings, dtype=np.float64))
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    high = max(1, min(max_speakers, n))
    low = max(1, min(min_speakers, high))
    if opts.centre and n > 2:
        x = _unit(x - x.mean(0))
    if n < opts.small_input or high == 1:
        labels = _merge(x, np.arange(n, dtype=np.int64), low, high, opts.link_cosine, True)
    else:
        labels = _spectral(np.clip(x @ x.T, 0.0, 1.0), low, min(high, n - 1), opts)
    labels = _merge(x, labels, low, high, opts.merge_cosine)
    labels = _fold_small(x, labels, low, opts.min_cluster)
    return _first_appearance(labels)


def _first_appearance(labels: IntArray) -> IntArray:
    order: dict[int, int] = {}
    for value in labels.tolist():
        order.setdefault(value, len(order))
    return np.array([order[v] for v in labels.tolist()], dtype=np.int64)
