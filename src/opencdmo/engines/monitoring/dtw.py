"""Dynamic time warping of batches (Kassidas, MacGregor and Taylor, AIChE J. 44, 1998).

Each batch is warped onto a reference trajectory with a weighted squared Euclidean
distance ``Σ_k W_k (x_ik − r_jk)²`` and symmetric steps (i−1, j), (i−1, j−1), (i, j−1).
Variables are first divided by their average range over the batches. The weights start at
one and are re-estimated at every iteration as the inverse of each variable's sum of squared
deviations from the average aligned trajectory (normalised to sum to the number of
variables), so consistent variables steer the alignment; from the second iteration on the
reference is the average aligned trajectory. Samples of a batch that map to one reference
point are averaged. The warping path of every batch is kept.

:class:`OnlineDTW` aligns a batch while it runs, one sample at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opencdmo.engines.progress import CancelToken, Progress, ProgressCallback, report

from .alignment import AlignedBatches, interpolate_columns
from .blas import single_blas_thread
from .dataset import BatchDataset
from .errors import MonitoringInputError

__all__ = [
    "DTWAlignment",
    "OnlineDTW",
    "align_dtw",
    "dtw_cost_matrices",
    "warp_to_reference",
    "warping_path",
]


@dataclass(frozen=True)
class DTWAlignment:
    """Result of :func:`align_dtw`.

    Attributes
    ----------
    aligned : AlignedBatches
        Batches on the reference axis (``axis`` = reference sample number).
    paths : dict of str to numpy.ndarray
        Warping path of each batch: rows ``(batch sample, reference sample)``.
    weights : numpy.ndarray (J,)
        Final variable weights.
    reference : numpy.ndarray (m, J)
        Final reference trajectory (original units).
    scale : numpy.ndarray (J,)
        Average range used to scale each variable.
    reference_batch : str
        Batch chosen as the first reference.
    warping : numpy.ndarray (I, m)
        Mean batch sample matched to each reference point (the time-warping profile).
    """

    aligned: AlignedBatches
    paths: dict[str, np.ndarray]
    weights: np.ndarray
    reference: np.ndarray
    scale: np.ndarray
    reference_batch: str
    warping: np.ndarray


def _filled(values: np.ndarray) -> np.ndarray:
    if not np.isnan(values).any():
        return values
    return interpolate_columns(
        np.arange(values.shape[0], dtype=float), values, np.arange(values.shape[0], dtype=float)
    )


def dtw_cost_matrices(
    batches: list[np.ndarray], reference: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Accumulated DTW cost ``D`` of every batch against ``reference``, computed together.

    Parameters
    ----------
    batches : list of numpy.ndarray (n_b, J)
        Scaled, complete batches.
    reference : numpy.ndarray (m, J)
    weights : numpy.ndarray (J,)

    Returns
    -------
    numpy.ndarray (B, n_max, m)
        ``D[b, i, j]``; rows beyond a batch's length are padding.
    """
    B = len(batches)
    n_max = max(b.shape[0] for b in batches)
    m, J = reference.shape
    stacked = np.zeros((B, n_max, J))
    for k, batch in enumerate(batches):
        stacked[k, : batch.shape[0]] = batch
    root_w = np.sqrt(weights)
    ref_w = reference * root_w
    ref_sq = np.sum(ref_w * ref_w, axis=1)
    D = np.empty((B, n_max, m))
    previous = np.full((B, m), np.inf)
    for i in range(n_max):
        row_w = stacked[:, i, :] * root_w
        local = np.sum(row_w * row_w, axis=1)[:, None] + ref_sq[None, :] - 2.0 * row_w @ ref_w.T
        np.maximum(local, 0.0, out=local)
        if i == 0:
            best = np.full((B, m), np.inf)
            best[:, 0] = 0.0
        else:
            best = previous.copy()
            np.minimum(best[:, 1:], previous[:, :-1], out=best[:, 1:])
        entry = local + best
        cumulative = np.cumsum(local, axis=1)
        shifted = entry - cumulative
        current = cumulative + np.minimum.accumulate(shifted, axis=1)
        D[:, i, :] = current
        previous = current
    return D


def warping_path(D: np.ndarray, n: int) -> np.ndarray:
    """Backtrack the optimal path through accumulated costs ``D`` (rows ``0..n-1``).

    Returns an array of ``(batch sample, reference sample)`` pairs from (0, 0) to
    (n−1, m−1).
    """
    cost = D[:n].tolist()
    i, j = n - 1, len(cost[0]) - 1
    path = [(i, j)]
    while i > 0 or j > 0:
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            diagonal, up, left = cost[i - 1][j - 1], cost[i - 1][j], cost[i][j - 1]
            if diagonal <= up and diagonal <= left:
                i, j = i - 1, j - 1
            elif up <= left:
                i -= 1
            else:
                j -= 1
        path.append((i, j))
    return np.array(path[::-1])


def _warp(batch: np.ndarray, path: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(path[:, 1], minlength=m).astype(float)
    sums = np.zeros((m, batch.shape[1]))
    np.add.at(sums, path[:, 1], batch[path[:, 0]])
    mean_sample = np.bincount(path[:, 1], weights=path[:, 0].astype(float), minlength=m) / counts
    return sums / counts[:, None], mean_sample


def align_dtw(
    dataset: BatchDataset,
    reference_batch: str | None = None,
    n_iterations: int = 3,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> DTWAlignment:
    """Align batches by weighted, iterated dynamic time warping (Kassidas et al. 1998).

    Parameters
    ----------
    dataset : BatchDataset
        Unaligned batches; missing values are interpolated within each batch first.
    reference_batch : str, optional
        First reference; default the batch of median length.
    n_iterations : int
        Weight and reference updates (3 is usually enough for the weights to settle).
    progress, cancel : optional
        Progress callback (one event per iteration) and cancel token (checked before each
        iteration; raises :class:`~opencdmo.engines.progress.CancelledError`).
    """
    if n_iterations < 1:
        raise MonitoringInputError(f"n_iterations must be at least 1; got {n_iterations}.")
    raw = [_filled(b.values) for b in dataset.batches]
    ranges = np.array([np.ptp(v, axis=0) for v in raw])
    scale = ranges.mean(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    scaled = [v / scale for v in raw]
    if reference_batch is None:
        order = np.argsort(dataset.lengths, kind="stable")
        reference_batch = dataset.batch_ids[int(order[len(order) // 2])]
    reference = (
        scaled[dataset.batch_ids.index(reference_batch)]
        if (reference_batch in dataset.batch_ids)
        else None
    )
    if reference is None:
        raise MonitoringInputError(f"reference batch {reference_batch!r} is not in the dataset.")
    J = reference.shape[1]
    m = reference.shape[0]
    weights = np.ones(J)
    aligned = np.empty((len(scaled), m, J))
    warping = np.empty((len(scaled), m))
    paths: dict[str, np.ndarray] = {}
    for iteration in range(n_iterations):
        if cancel is not None:
            cancel.raise_if_cancelled()
        with single_blas_thread():
            D = dtw_cost_matrices(scaled, reference, weights)
        for k, (batch_id, batch) in enumerate(zip(dataset.batch_ids, scaled, strict=True)):
            path = warping_path(D[k], batch.shape[0])
            paths[batch_id] = path
            aligned[k], warping[k] = _warp(batch, path, m)
        average = aligned.mean(axis=0)
        deviation = np.sum((aligned - average) ** 2, axis=(0, 1))
        weights = np.where(deviation > 0, 1.0 / np.where(deviation > 0, deviation, 1.0), 0.0)
        weights = weights * J / weights.sum()
        reference = average
        report(
            progress,
            Progress(
                f"warping iteration {iteration + 1} of {n_iterations}",
                (iteration + 1) / n_iterations,
            ),
        )
    result = AlignedBatches(
        tuple(dataset.batch_ids),
        dataset.variables,
        aligned * scale,
        np.arange(m, dtype=float),
        dict(dataset.units),
        method="dtw",
    )
    return DTWAlignment(result, paths, weights, reference * scale, scale, reference_batch, warping)


class OnlineDTW:
    """Align a running batch to a reference trajectory one sample at a time.

    The accumulated-cost row is updated with each new sample; the batch's current position
    on the reference is the cheapest reference point reachable from the previous position
    (at most ``max_step`` points ahead, never back). Reference points passed over take the
    current sample; several samples on one point are averaged.

    Parameters
    ----------
    reference : numpy.ndarray (m, J)
        Reference trajectory (original units), e.g. ``DTWAlignment.reference``.
    weights : numpy.ndarray (J,)
        Variable weights, e.g. ``DTWAlignment.weights``.
    scale : numpy.ndarray (J,)
        Variable scaling, e.g. ``DTWAlignment.scale``.
    max_step : int
        Largest advance on the reference per sample.
    """

    def __init__(
        self, reference: np.ndarray, weights: np.ndarray, scale: np.ndarray, max_step: int = 3
    ) -> None:
        self._reference = np.asarray(reference, dtype=float) / scale
        self._root_w = np.sqrt(np.asarray(weights, dtype=float))
        self._scale = np.asarray(scale, dtype=float)
        self._max_step = int(max_step)
        m, J = self._reference.shape
        self._row: np.ndarray | None = None
        self._sums = np.zeros((m, J))
        self._counts = np.zeros(m)
        self.position = -1

    def update(self, sample: np.ndarray) -> int:
        """Add one sample (J values, original units); return the reference position reached."""
        x = np.asarray(sample, dtype=float)
        if x.shape != (self._reference.shape[1],) or np.isnan(x).any():
            raise MonitoringInputError(
                f"a sample must hold {self._reference.shape[1]} observed values; got {sample!r}."
            )
        x = x / self._scale
        diff = (self._reference - x) * self._root_w
        local = np.sum(diff * diff, axis=1)
        if self._row is None:
            row = np.cumsum(local)
            start = 0
        else:
            best = self._row.copy()
            np.minimum(best[1:], self._row[:-1], out=best[1:])
            cumulative = np.cumsum(local)
            row = cumulative + np.minimum.accumulate(local + best - cumulative)
            start = self.position
        self._row = row
        stop = min(row.shape[0], start + self._max_step + 1)
        position = start + int(np.argmin(row[start:stop]))
        for j in range(min(position, self.position + 1), position + 1):
            self._sums[j] += x
            self._counts[j] += 1
        self.position = position
        return position

    @property
    def aligned(self) -> np.ndarray:
        """The batch so far on the reference axis, ``(position + 1, J)``, original units."""
        n = self.position + 1
        return self._sums[:n] / self._counts[:n, None] * self._scale


def warp_to_reference(
    dataset: BatchDataset, reference: np.ndarray, weights: np.ndarray, scale: np.ndarray
) -> AlignedBatches:
    """Warp new completed batches onto a fixed reference (from a previous :func:`align_dtw`).

    Parameters
    ----------
    dataset : BatchDataset
        Batches with the variables of the reference, in the same order.
    reference, weights, scale : numpy.ndarray
        ``DTWAlignment.reference``, ``.weights`` and ``.scale``.
    """
    ref = np.asarray(reference, dtype=float)
    if ref.ndim != 2 or ref.shape[1] != len(dataset.variables):
        raise MonitoringInputError(
            f"the reference has shape {ref.shape}; the batches have {len(dataset.variables)} "
            "variables."
        )
    scaled = [_filled(b.values) / scale for b in dataset.batches]
    with single_blas_thread():
        D = dtw_cost_matrices(scaled, ref / scale, np.asarray(weights, dtype=float))
    m = ref.shape[0]
    aligned = np.empty((len(scaled), m, ref.shape[1]))
    for k, batch in enumerate(scaled):
        aligned[k], _ = _warp(batch, warping_path(D[k], batch.shape[0]), m)
    return AlignedBatches(
        tuple(dataset.batch_ids),
        dataset.variables,
        aligned * scale,
        np.arange(m, dtype=float),
        dict(dataset.units),
        method="dtw",
    )
