"""Aligning variable-length batches onto a common axis.

* :func:`align_linear`: linear time normalisation (each batch stretched to the same
  number of samples);
* :func:`align_indicator`: resampling on a monotonic indicator (maturity) variable;
* :func:`align_phases`: linear normalisation within each phase, phases concatenated;
* :func:`align_dtw` and :class:`OnlineDTW` (module :mod:`.dtw`): dynamic time warping.

Every function returns :class:`AlignedBatches`, an ``(I, N, J)`` array with names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from opencdmo.engines.progress import CancelToken, Progress, ProgressCallback, report

from .dataset import Batch, BatchDataset
from .errors import MonitoringInputError

__all__ = [
    "AlignedBatches",
    "PhaseSpan",
    "align_indicator",
    "align_linear",
    "align_phases",
    "interpolate_columns",
]


@dataclass(frozen=True)
class PhaseSpan:
    """Samples ``start`` (inclusive) to ``stop`` (exclusive) of the aligned axis hold ``phase``."""

    phase: str
    start: int
    stop: int


@dataclass(frozen=True)
class AlignedBatches:
    """Batches on a common axis: ``values[i, n, j]`` is variable j of batch i at aligned sample n.

    Attributes
    ----------
    batch_ids : tuple of str
    variables : tuple of str
    values : numpy.ndarray (I, N, J)
    axis : numpy.ndarray (N,)
        The common axis: fraction of the batch (linear), indicator value, or reference
        sample number (DTW).
    units : dict of str to str
    phases : tuple of PhaseSpan
        Phase spans on the aligned axis (phase-wise alignment only).
    method : str
        How the batches were aligned.
    """

    batch_ids: tuple[str, ...]
    variables: tuple[str, ...]
    values: np.ndarray
    axis: np.ndarray
    units: Mapping[str, str] = field(default_factory=dict)
    phases: tuple[PhaseSpan, ...] = ()
    method: str = "given"

    def __post_init__(self) -> None:
        if self.values.ndim != 3:
            raise MonitoringInputError(
                f"aligned values must be 3-D (batches, samples, variables); got shape "
                f"{self.values.shape}."
            )
        n_batches, N, J = self.values.shape
        if len(self.batch_ids) != n_batches or len(self.variables) != J or self.axis.shape[0] != N:
            raise MonitoringInputError(
                f"aligned values have shape {self.values.shape} but {len(self.batch_ids)} batch "
                f"ids, {self.axis.shape[0]} axis points and {len(self.variables)} variables."
            )

    @classmethod
    def from_array(
        cls,
        values: np.ndarray,
        batch_ids: Sequence[str] | None = None,
        variables: Sequence[str] | None = None,
    ) -> AlignedBatches:
        """Wrap an ``(I, N, J)`` array of already aligned batches."""
        array = np.asarray(values, dtype=float)
        if array.ndim != 3:
            raise MonitoringInputError(
                f"batch data must be 3-D (batches, samples, variables); got shape {array.shape}."
            )
        n_batches, N, J = array.shape
        ids = (
            tuple(str(b) for b in batch_ids)
            if batch_ids is not None
            else tuple(f"batch{i + 1}" for i in range(n_batches))
        )
        names = tuple(variables) if variables is not None else tuple(f"x{j + 1}" for j in range(J))
        return cls(ids, names, array, np.arange(N, dtype=float))

    @property
    def n_batches(self) -> int:
        """Number of batches I."""
        return int(self.values.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of aligned samples N."""
        return int(self.values.shape[1])

    def select(self, batch_ids: Sequence[str]) -> AlignedBatches:
        """The aligned batches ``batch_ids``, in that order."""
        index = []
        for b in batch_ids:
            if b not in self.batch_ids:
                raise MonitoringInputError(f"no batch {b!r} among the aligned batches.")
            index.append(self.batch_ids.index(b))
        return AlignedBatches(
            tuple(batch_ids),
            self.variables,
            self.values[index],
            self.axis,
            self.units,
            self.phases,
            self.method,
        )

    def phase_slice(self, phase: str) -> slice:
        """Aligned samples of ``phase``."""
        for span in self.phases:
            if span.phase == phase:
                return slice(span.start, span.stop)
        raise MonitoringInputError(
            f"no phase {phase!r}; the phases are {', '.join(s.phase for s in self.phases)}."
        )


def interpolate_columns(x: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Linear interpolation of each column of ``values`` (sampled at increasing ``x``) on ``grid``.

    Missing values are skipped per column; a column with a single observation is constant.
    """
    out = np.empty((grid.shape[0], values.shape[1]))
    complete = not np.isnan(values).any()
    for j in range(values.shape[1]):
        column = values[:, j]
        if complete:
            out[:, j] = np.interp(grid, x, column)
        else:
            seen = ~np.isnan(column)
            out[:, j] = np.interp(grid, x[seen], column[seen])
    return out


def _default_length(dataset: BatchDataset, n_samples: int | None) -> int:
    N = int(np.median(dataset.lengths)) if n_samples is None else int(n_samples)
    if N < 2:
        raise MonitoringInputError(f"n_samples must be at least 2; got {N}.")
    return N


def _stretch(batch: Batch, grid: np.ndarray) -> np.ndarray:
    span = batch.time[-1] - batch.time[0]
    if span <= 0:
        fraction = np.linspace(0.0, 1.0, batch.n_samples)
    else:
        fraction = (batch.time - batch.time[0]) / span
    return interpolate_columns(fraction, batch.values, grid)


def align_linear(
    dataset: BatchDataset,
    n_samples: int | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> AlignedBatches:
    """Stretch or compress every batch linearly in time onto ``n_samples`` points.

    Parameters
    ----------
    dataset : BatchDataset
    n_samples : int, optional
        Aligned length; default the median batch length.
    progress, cancel : optional
        Progress callback (one event per batch) and cancel token (checked before each
        batch; raises :class:`~opencdmo.engines.progress.CancelledError`).
    """
    N = _default_length(dataset, n_samples)
    grid = np.linspace(0.0, 1.0, N)
    stretched = []
    total = len(dataset.batches)
    for done, batch in enumerate(dataset.batches, start=1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        stretched.append(_stretch(batch, grid))
        report(progress, Progress(f"aligned {done} of {total} batches", done / total))
    values = np.stack(stretched)
    return AlignedBatches(
        tuple(dataset.batch_ids),
        dataset.variables,
        values,
        grid,
        dict(dataset.units),
        method="linear",
    )


def align_indicator(
    dataset: BatchDataset,
    indicator: str,
    n_samples: int | None = None,
    *,
    start: float | None = None,
    stop: float | None = None,
) -> AlignedBatches:
    """Resample every batch on equally spaced values of a monotonic indicator variable.

    The indicator (for example conversion, cumulative feed or spray used) replaces time: the
    other variables are interpolated at the same indicator values in every batch. The
    indicator itself is dropped from the variables.

    Parameters
    ----------
    dataset : BatchDataset
    indicator : str
        Variable that never decreases within a batch.
    n_samples : int, optional
        Aligned length; default the median batch length.
    start, stop : float, optional
        Indicator range; default the range every batch covers (largest start, smallest end).

    Raises
    ------
    MonitoringInputError
        If the indicator decreases within a batch (naming the batch and sample) or has
        missing values, or if the batches share no indicator range.
    """
    k = dataset.variable_index(indicator)
    N = _default_length(dataset, n_samples)
    firsts, lasts = [], []
    for batch in dataset.batches:
        values = batch.values[:, k]
        if np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values))[0])
            raise MonitoringInputError(
                f"batch {batch.batch_id!r}: indicator {indicator!r} is missing at sample {row}."
            )
        drops = np.flatnonzero(np.diff(values) < 0)
        if drops.size:
            row = int(drops[0]) + 1
            raise MonitoringInputError(
                f"batch {batch.batch_id!r}: indicator {indicator!r} decreases at sample {row} "
                f"({values[row - 1]:g} -> {values[row]:g}); it must not decrease."
            )
        firsts.append(values[0])
        lasts.append(values[-1])
    low = max(firsts) if start is None else float(start)
    high = min(lasts) if stop is None else float(stop)
    if not high > low:
        raise MonitoringInputError(
            f"indicator {indicator!r}: the batches share no range ({low:g} to {high:g})."
        )
    grid = np.linspace(low, high, N)
    keep = [j for j in range(len(dataset.variables)) if j != k]
    aligned = []
    for batch in dataset.batches:
        x = batch.values[:, k]
        x_unique, first = np.unique(x, return_index=True)
        aligned.append(interpolate_columns(x_unique, batch.values[first][:, keep], grid))
    variables = tuple(dataset.variables[j] for j in keep)
    return AlignedBatches(
        tuple(dataset.batch_ids),
        variables,
        np.stack(aligned),
        grid,
        {v: dataset.units.get(v, "") for v in variables},
        method=f"indicator:{indicator}",
    )


def _phase_runs(batch: Batch) -> list[tuple[str, int, int]]:
    if batch.phases is None:
        raise MonitoringInputError(f"batch {batch.batch_id!r} has no phase column.")
    labels = [str(p) for p in batch.phases]
    runs: list[tuple[str, int, int]] = []
    for n, label in enumerate(labels):
        if runs and runs[-1][0] == label:
            runs[-1] = (label, runs[-1][1], n + 1)
        else:
            runs.append((label, n, n + 1))
    return runs


def align_phases(
    dataset: BatchDataset,
    samples_per_phase: Mapping[str, int] | None = None,
    phase_order: Sequence[str] | None = None,
) -> AlignedBatches:
    """Align each phase linearly on its own and concatenate the phases.

    Parameters
    ----------
    dataset : BatchDataset
        Batches with a phase label on every sample.
    samples_per_phase : mapping of phase to int, optional
        Aligned length of each phase; default the median length of that phase.
    phase_order : sequence of str, optional
        Expected phase order; default the order in the first batch.

    Raises
    ------
    MonitoringInputError
        If a batch lacks a phase, repeats one, or runs them in another order.
    """
    runs = {b.batch_id: _phase_runs(b) for b in dataset.batches}
    order = (
        list(phase_order) if phase_order is not None else [r[0] for r in runs[dataset.batch_ids[0]]]
    )
    for batch_id, batch_runs in runs.items():
        names = [r[0] for r in batch_runs]
        if names != order:
            missing = [p for p in order if p not in names]
            detail = f"lacks phase {missing[0]!r}" if missing else f"runs phases {names}"
            raise MonitoringInputError(
                f"batch {batch_id!r} {detail}; expected the phases {order} in that order."
            )
    lengths = {
        phase: int(np.median([runs[b][p][2] - runs[b][p][1] for b in runs]))
        for p, phase in enumerate(order)
    }
    if samples_per_phase is not None:
        unknown = set(samples_per_phase) - set(order)
        if unknown:
            raise MonitoringInputError(f"no phase {sorted(unknown)[0]!r} in the batches.")
        lengths.update({k: int(v) for k, v in samples_per_phase.items()})
    spans: list[PhaseSpan] = []
    position = 0
    for phase in order:
        size = max(2, lengths[phase])
        spans.append(PhaseSpan(phase, position, position + size))
        position += size
    aligned = []
    for batch in dataset.batches:
        pieces = []
        for (phase, first, last), span in zip(runs[batch.batch_id], spans, strict=True):
            stop = min(last + 1, batch.n_samples) if last - first < 2 else last
            piece = Batch(batch.batch_id, batch.time[first:stop], batch.values[first:stop])
            grid = np.linspace(0.0, 1.0, span.stop - span.start)
            if np.isnan(piece.values).all(axis=0).any():
                j = int(np.flatnonzero(np.isnan(piece.values).all(axis=0))[0])
                raise MonitoringInputError(
                    f"batch {batch.batch_id!r}, phase {phase!r}: variable "
                    f"{dataset.variables[j]!r} has no observed value."
                )
            pieces.append(_stretch(piece, grid))
        aligned.append(np.concatenate(pieces))
    axis = np.concatenate(
        [p + np.linspace(0.0, 1.0, s.stop - s.start, endpoint=False) for p, s in enumerate(spans)]
    )
    return AlignedBatches(
        tuple(dataset.batch_ids),
        dataset.variables,
        np.stack(aligned),
        axis,
        dict(dataset.units),
        tuple(spans),
        method="phase",
    )
