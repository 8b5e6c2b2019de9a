"""Monitoring a running batch sample by sample against a batch-wise model.

While a batch runs only its first ``k+1`` aligned samples are known. Its scores are
estimated from them by one of (Nomikos and MacGregor 1995; Arteaga and Ferrer 2002):

* ``"projection"``: projection to the model plane, ``t = (P*ᵀP*)⁻¹ P*ᵀ x*``;
* ``"tsr"``: trimmed score regression, ``t = Tᵀ T* (T*ᵀ T*)⁻¹ R*ᵀ x*`` with ``T*`` the
  reference batches' trimmed scores;
* ``"zero"``: future deviations from the average trajectory taken as zero, ``t = R*ᵀ x*``;
* ``"current"``: future deviations taken equal to the current one.

Every estimator is a fixed ``A × A`` matrix per sample applied to the running sum
``Σ R_nᵀ x_n``, precomputed when the monitor is built, so an update costs ``O(J·A)``.
Time-varying limits come from running the same estimator over the reference batches:
the SPE limits at each sample are Box (``g·χ²_h``) limits of the reference values in a
window of ±``window`` samples; the T² limit is the F-distribution limit of the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .alignment import AlignedBatches
from .batch import MPCA, MPLS
from .continuous import first_run
from .dtw import OnlineDTW
from .errors import MonitoringInputError
from .limits import box_spe_limit, check_confidence, empirical_limit

__all__ = ["FillMethod", "OnlineMonitor", "OnlineTrace", "RunningBatch", "WarpedRunningBatch"]

FillMethod = Literal["projection", "tsr", "zero", "current"]


@dataclass(frozen=True)
class OnlineTrace:
    """Statistics of a batch at each of its known aligned samples.

    Attributes
    ----------
    scores : numpy.ndarray (K, A)
    t2, spe, spe_cumulative : numpy.ndarray (K,)
        Hotelling's T², instantaneous SPE (current sample) and cumulative SPE.
    t2_limit : float
    spe_limit, spe_cumulative_limit : numpy.ndarray (K,)
        Time-varying limits.
    prediction, prediction_low, prediction_high : numpy.ndarray (K, M) or None
        Evolving end-of-batch prediction and its interval (MPLS monitors only).
    """

    scores: np.ndarray
    t2: np.ndarray
    spe: np.ndarray
    spe_cumulative: np.ndarray
    t2_limit: float
    spe_limit: np.ndarray
    spe_cumulative_limit: np.ndarray
    prediction: np.ndarray | None = None
    prediction_low: np.ndarray | None = None
    prediction_high: np.ndarray | None = None

    @property
    def alarms(self) -> np.ndarray:
        """True at samples where T² or instantaneous SPE is above its limit."""
        return (self.t2 > self.t2_limit) | (self.spe > self.spe_limit)

    def first_alarm(self, run_length: int = 1) -> int | None:
        """First sample starting ``run_length`` consecutive alarms, or ``None``."""
        end = first_run(self.alarms, run_length)
        return None if end is None else end - run_length + 1

    def detection_delay(self, fault_start: int, run_length: int = 1) -> int | None:
        """Samples from ``fault_start`` until ``run_length`` consecutive alarms begin."""
        end = first_run(self.alarms[fault_start:], run_length)
        return None if end is None else end - run_length + 1


class OnlineMonitor:
    """Online monitoring of running batches with a fitted :class:`MPCA` or :class:`MPLS`.

    Parameters
    ----------
    model : MPCA or MPLS
        Fitted on complete aligned reference batches.
    reference : AlignedBatches or numpy.ndarray (I, N, J)
        The aligned reference batches the model was fitted on (for the time-varying limits
        and for trimmed score regression).
    method : {"projection", "tsr", "zero", "current"}
        Score estimator for the unknown future.
    confidence : float
        Confidence of the limits.
    window : int
        Half-width, in samples, of the window pooled for each SPE limit.

    Attributes
    ----------
    t2_limit_ : float
        F-distribution T² limit of the model at ``confidence``.
    spe_limit_, spe_cumulative_limit_ : numpy.ndarray (N,)
        Time-varying limits of the instantaneous and cumulative SPE.
    reference_t2_, reference_spe_, reference_spe_cumulative_ : numpy.ndarray (I, N)
        The reference batches' own online statistics.
    t2_empirical_limit_ : numpy.ndarray (N,)
        The ``confidence`` quantile of the reference T² at each sample, for comparison with
        the F limit early in a batch, when few samples are known.

    Notes
    -----
    The cumulative SPE of a running batch is the running sum of its instantaneous SPE
    values, each computed with the scores known at its own sample.
    """

    def __init__(
        self,
        model: MPCA | MPLS,
        reference: AlignedBatches | np.ndarray,
        method: FillMethod = "tsr",
        confidence: float = 0.99,
        window: int = 2,
    ) -> None:
        if method not in ("projection", "tsr", "zero", "current"):
            raise MonitoringInputError(
                f"method must be 'projection', 'tsr', 'zero' or 'current'; got {method!r}."
            )
        self.model = model
        self.method = method
        self.confidence = check_confidence(confidence)
        inner = model.model_
        N, J = model.n_samples_, len(model.variables_)
        A = model.n_components_
        self._N, self._J, self._A = N, J, A
        self._center = inner.scaler_.center_.reshape(N, J)
        self._scale = inner.scaler_.scale_.reshape(N, J)
        self._P = inner.loadings_.reshape(N, J, A)
        self._R = inner.direct_weights_.reshape(N, J, A)
        self._score_sd = inner.score_sd_
        X = model.unfold(reference).reshape(-1, N, J)
        if np.isnan(X).any():
            raise MonitoringInputError("the reference batches must be complete for online limits.")
        Xs = (X - self._center) / self._scale
        partial = np.einsum("inj,nja->ina", Xs, self._R)
        trimmed = np.cumsum(partial, axis=1)
        self._M = self._estimators(trimmed, trimmed[:, -1, :])
        self._future = np.cumsum(self._R[::-1], axis=0)[::-1] - self._R
        scores, spe = self._traces(Xs, trimmed)
        self.reference_spe_ = spe
        self.reference_spe_cumulative_ = np.cumsum(spe, axis=1)
        self.t2_limit_ = model.t2_limit(confidence)
        self.spe_limit_ = self._window_limits(spe, window)
        self.spe_cumulative_limit_ = self._window_limits(self.reference_spe_cumulative_, window)
        self.reference_t2_ = np.sum((scores / self._score_sd) ** 2, axis=2)
        self.t2_empirical_limit_ = np.array(
            [empirical_limit(self.reference_t2_[:, n], confidence) for n in range(N)]
        )
        self._prediction = None
        if isinstance(model, MPLS):
            self._prediction = self._prediction_errors(scores, model)

    def _estimators(self, trimmed: np.ndarray, scores: np.ndarray) -> np.ndarray:
        N, A = self._N, self._A
        if self.method in ("zero", "current"):
            return np.broadcast_to(np.eye(A), (N, A, A)).copy()
        if self.method == "projection":
            ptp = np.cumsum(np.einsum("nja,njb->nab", self._P, self._P), axis=0)
            return np.linalg.pinv(ptp)
        gram = np.einsum("ina,inb->nab", trimmed, trimmed)
        cross = np.einsum("ia,inb->nab", scores, trimmed)
        return cross @ np.linalg.pinv(gram)

    def _traces(self, Xs: np.ndarray, trimmed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.method == "projection":
            running = np.cumsum(np.einsum("inj,nja->ina", Xs, self._P), axis=1)
        else:
            running = trimmed
        scores = np.einsum("nab,inb->ina", self._M, running)
        if self.method == "current":
            scores = scores + np.einsum("inj,nja->ina", Xs, self._future)
        residual = Xs - np.einsum("ina,nja->inj", scores, self._P)
        return scores, np.sum(residual * residual, axis=2)

    def _window_limits(self, values: np.ndarray, window: int) -> np.ndarray:
        N = values.shape[1]
        return np.array(
            [
                box_spe_limit(
                    values[:, max(0, n - window) : n + window + 1].ravel(), self.confidence
                )
                for n in range(N)
            ]
        )

    @staticmethod
    def _prediction_errors(scores: np.ndarray, model: MPLS) -> np.ndarray:
        inner = model.model_
        predicted = np.einsum("ina,ma->inm", scores, inner.y_loadings_)
        actual = inner.y_train_scaled_[:, None, :]
        return np.sqrt(np.nanmean((predicted - actual) ** 2, axis=0))

    def trace(self, values: np.ndarray) -> OnlineTrace:
        """Statistics at each known sample of one batch given as ``(K, J)`` aligned values."""
        state = self.start()
        for sample in np.asarray(values, dtype=float):
            state.update(sample)
        return state.trace()

    def start(self) -> RunningBatch:
        """A new running batch at sample 0."""
        return RunningBatch(self)


class RunningBatch:
    """One running batch: feed aligned samples with :meth:`update`."""

    def __init__(self, monitor: OnlineMonitor) -> None:
        self._m = monitor
        self._running = np.zeros(monitor._A)
        self._k = 0
        self._spe_total = 0.0
        self._rows: list[tuple[np.ndarray, float, float, float]] = []

    @property
    def n_samples(self) -> int:
        """Samples received so far."""
        return self._k

    def update(self, sample: np.ndarray) -> tuple[float, float]:
        """Add the next aligned sample (J values, original units); return ``(T², SPE)``.

        A missing value (NaN) is taken as no deviation from the average trajectory and
        left out of SPE.
        """
        m = self._m
        n = self._k
        if n >= m._N:
            raise MonitoringInputError(
                f"the batch already has all {m._N} aligned samples of the model."
            )
        x = np.asarray(sample, dtype=float)
        if x.shape != (m._J,):
            raise MonitoringInputError(
                f"sample {n}: expected {m._J} values ({', '.join(m.model.variables_)}); "
                f"got shape {x.shape}."
            )
        xs = np.nan_to_num((x - m._center[n]) / m._scale[n])
        weights = m._P[n] if m.method == "projection" else m._R[n]
        self._running = self._running + xs @ weights
        t = m._M[n] @ self._running
        if m.method == "current":
            t = t + xs @ m._future[n]
        residual = xs - m._P[n] @ t
        residual[np.isnan(x)] = 0.0
        spe = float(residual @ residual)
        t2 = float(np.sum((t / m._score_sd) ** 2))
        self._spe_total += spe
        self._rows.append((t, t2, spe, self._spe_total))
        self._k += 1
        return t2, spe

    def trace(self) -> OnlineTrace:
        """Everything computed so far, with the limits at the same samples."""
        m = self._m
        K = self._k
        if K == 0:
            raise MonitoringInputError("no sample has been added yet.")
        scores = np.array([r[0] for r in self._rows])
        prediction = low = high = None
        if m._prediction is not None:
            model = m.model
            assert isinstance(model, MPLS)
            inner = model.model_
            scaled = scores @ inner.y_loadings_.T
            prediction = inner.y_scaler_.inverse_transform(scaled)
            from scipy.stats import t as student

            dof = max(1, len(model.batch_ids_) - m._A - 1)
            leverage = 1.0 / len(model.batch_ids_) + np.sum(
                scores**2 / np.sum(inner.scores_**2, axis=0), axis=1
            )
            half = (
                student.ppf(0.5 + m.confidence / 2, dof)
                * m._prediction[:K]
                * inner.y_scaler_.scale_
                * np.sqrt(1.0 + leverage)[:, None]
            )
            low, high = prediction - half, prediction + half
        return OnlineTrace(
            scores=scores,
            t2=np.array([r[1] for r in self._rows]),
            spe=np.array([r[2] for r in self._rows]),
            spe_cumulative=np.array([r[3] for r in self._rows]),
            t2_limit=m.t2_limit_,
            spe_limit=m.spe_limit_[:K],
            spe_cumulative_limit=m.spe_cumulative_limit_[:K],
            prediction=prediction,
            prediction_low=low,
            prediction_high=high,
        )


class WarpedRunningBatch:
    """A running batch aligned on the fly by :class:`.OnlineDTW` and monitored as it goes.

    Raw samples go to the aligner; every reference point the batch has moved past is final
    and is passed to the monitor, so statistics lag the raw data by at most one reference
    point. Call :meth:`finish` when the batch ends to pass the last point.

    Parameters
    ----------
    monitor : OnlineMonitor
        Built on batches aligned to the aligner's reference (``DTWAlignment.aligned``).
    aligner : OnlineDTW
        A fresh aligner on the same reference.
    """

    def __init__(self, monitor: OnlineMonitor, aligner: OnlineDTW) -> None:
        self._running = monitor.start()
        self._aligner = aligner
        self._fed = 0

    def update(self, sample: np.ndarray) -> int:
        """Add one raw sample; return the number of aligned samples monitored so far."""
        position = self._aligner.update(sample)
        if position > self._fed:
            aligned = self._aligner.aligned
            while self._fed < position:
                self._running.update(aligned[self._fed])
                self._fed += 1
        return self._fed

    def finish(self) -> OnlineTrace:
        """Pass the last reference point reached and return the trace."""
        aligned = self._aligner.aligned
        while self._fed < aligned.shape[0]:
            self._running.update(aligned[self._fed])
            self._fed += 1
        return self._running.trace()

    def trace(self) -> OnlineTrace:
        """Statistics of the aligned samples monitored so far."""
        return self._running.trace()
