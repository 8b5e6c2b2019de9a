"""Observation-wise (batch evolution) models and phase-wise models.

A batch evolution model unfolds aligned reference batches observation-wise: every
(batch, sample) is one row, every variable one column, autoscaled per variable. A PCA of
these rows gives scores that follow the batch's evolution; at each aligned sample the
reference batches define

* score limits: average trajectory ± ``t_{I−1}`` × standard deviation;
* a T² of the deviation from the average score trajectory, scaled by the covariance of
  the reference batches' scores at that sample, with the F limit for ``I`` reference
  batches;
* an SPE limit (Box ``g·χ²_h`` over a window of ±``window`` samples).

Phase-wise models fit one batch-wise :class:`.MPCA` per phase of a phase-aligned set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .alignment import AlignedBatches
from .batch import MPCA, as_aligned
from .errors import MonitoringInputError
from .latent import PCA
from .limits import box_spe_limit, check_confidence, t2_limit

__all__ = ["BatchEvolutionModel", "EvolutionTrace", "fit_phase_models", "phase_part"]


@dataclass(frozen=True)
class EvolutionTrace:
    """A batch's observation-wise statistics against the time-varying limits.

    Attributes
    ----------
    scores, score_low, score_high : numpy.ndarray (K, A)
    t2, spe : numpy.ndarray (K,)
    t2_limit : float
    spe_limit : numpy.ndarray (K,)
    """

    scores: np.ndarray
    score_low: np.ndarray
    score_high: np.ndarray
    t2: np.ndarray
    t2_limit: float
    spe: np.ndarray
    spe_limit: np.ndarray

    @property
    def alarms(self) -> np.ndarray:
        """True at samples where T², SPE or a score leaves its limits."""
        outside = np.any((self.scores < self.score_low) | (self.scores > self.score_high), axis=1)
        return (self.t2 > self.t2_limit) | (self.spe > self.spe_limit) | outside


class BatchEvolutionModel:
    """Observation-wise PCA of aligned batches with time-varying limits.

    Parameters
    ----------
    n_components : int
    confidence : float
        Confidence of all limits.
    window : int
        Half-width of the window pooled for each SPE limit.
    """

    def __init__(self, n_components: int, confidence: float = 0.99, window: int = 2) -> None:
        self.n_components = n_components
        self.confidence = check_confidence(confidence)
        self.window = window

    def fit(self, data: AlignedBatches | np.ndarray) -> BatchEvolutionModel:
        """Fit on complete aligned reference batches ``(I, N, J)``."""
        from scipy.stats import t as student

        aligned = as_aligned(data)
        I, N, J = aligned.values.shape  # noqa: E741
        A = int(self.n_components)
        if I < A + 2:
            raise MonitoringInputError(
                f"too few batches ({I}) for {A} components: at least {A + 2} are needed."
            )
        self.variables_ = tuple(aligned.variables)
        self.n_samples_ = N
        self.pca_ = PCA(A).fit(aligned.values.reshape(I * N, J), list(aligned.variables))
        scores = self.pca_.scores_.reshape(I, N, A)
        self.mean_scores_ = scores.mean(axis=0)
        self.sd_scores_ = scores.std(axis=0, ddof=1)
        floor = 1e-12 * max(1.0, float(self.sd_scores_.max()))
        self.sd_scores_ = np.maximum(self.sd_scores_, floor)
        half = float(student.ppf(0.5 + self.confidence / 2, I - 1))
        self.score_low_ = self.mean_scores_ - half * self.sd_scores_
        self.score_high_ = self.mean_scores_ + half * self.sd_scores_
        centred = scores - self.mean_scores_
        covariance = np.einsum("ina,inb->nab", centred, centred) / (I - 1)
        self.score_precision_ = np.linalg.pinv(covariance, hermitian=True)
        self.t2_limit_ = t2_limit(A, I, self.confidence)
        spe = self.pca_.spe_.reshape(I, N)
        self.spe_limit_ = np.array(
            [
                box_spe_limit(
                    spe[:, max(0, n - self.window) : n + self.window + 1].ravel(), self.confidence
                )
                for n in range(N)
            ]
        )
        return self

    def trace(self, values: np.ndarray) -> EvolutionTrace:
        """Statistics of a (possibly unfinished) batch given as ``(K, J)`` aligned samples."""
        if not hasattr(self, "pca_"):
            raise MonitoringInputError(
                "this BatchEvolutionModel is not fitted yet: call fit first."
            )
        x = np.asarray(values, dtype=float)
        if x.ndim != 2 or x.shape[1] != len(self.variables_) or x.shape[0] > self.n_samples_:
            raise MonitoringInputError(
                f"a batch must have shape (at most {self.n_samples_} samples, "
                f"{len(self.variables_)} variables); got {x.shape}."
            )
        K = x.shape[0]
        scores = self.pca_.transform(x)
        deviation = scores - self.mean_scores_[:K]
        return EvolutionTrace(
            scores=scores,
            score_low=self.score_low_[:K],
            score_high=self.score_high_[:K],
            t2=np.einsum("na,nab,nb->n", deviation, self.score_precision_[:K], deviation),
            t2_limit=self.t2_limit_,
            spe=self.pca_.spe(x),
            spe_limit=self.spe_limit_[:K],
        )


def phase_part(
    aligned: AlignedBatches, phase: str, variables: Sequence[str] | None = None
) -> AlignedBatches:
    """The samples of one phase: of ``variables``, or of those not constant in the phase.

    Pass ``variables=model.variables_`` to score new batches with a phase model.
    """
    window = aligned.phase_slice(phase)
    values = aligned.values[:, window]
    if variables is None:
        varying = [
            j
            for j in range(values.shape[2])
            if np.nanmax(values[:, :, j]) > np.nanmin(values[:, :, j])
        ]
    else:
        unknown = [v for v in variables if v not in aligned.variables]
        if unknown:
            raise MonitoringInputError(f"no variable {unknown[0]!r} in the aligned batches.")
        varying = [aligned.variables.index(v) for v in variables]
    if not varying:
        raise MonitoringInputError(f"phase {phase!r}: no variable varies.")
    variables = tuple(aligned.variables[j] for j in varying)
    return AlignedBatches(
        aligned.batch_ids,
        variables,
        values[:, :, varying],
        aligned.axis[window],
        {v: aligned.units.get(v, "") for v in variables},
        method=aligned.method,
    )


def fit_phase_models(aligned: AlignedBatches, n_components: int) -> dict[str, MPCA]:
    """One batch-wise MPCA per phase of phase-aligned batches (see :func:`.align_phases`).

    Variables constant within a phase (a spray rate of zero while heating) are left out of
    that phase's model; score new batches with :func:`phase_part` of their aligned data.
    """
    if not aligned.phases:
        raise MonitoringInputError("the batches carry no phases: align them with align_phases.")
    return {
        span.phase: MPCA(n_components).fit(phase_part(aligned, span.phase))
        for span in aligned.phases
    }
