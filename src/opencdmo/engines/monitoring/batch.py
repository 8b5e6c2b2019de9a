"""Batch-wise unfolded multiway models: MPCA and MPLS (Nomikos and MacGregor).

Aligned batches ``(I, N, J)`` are unfolded to one row per batch, columns ordered by time
then variable (column ``n·J + j`` is variable j at aligned sample n). Every column is centred
(removing the average trajectory) and, with ``scale=True``, divided by its sample standard
deviation. A column that is constant over the training batches (a set-point held at the same
value at some time) is centred and left unscaled, so it carries no weight; a variable that is
constant everywhere is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from opencdmo.engines.progress import CancelToken, Progress, ProgressCallback, report

from .alignment import AlignedBatches
from .errors import MonitoringInputError
from .latent import PCA, PLS
from .limits import (
    SpeLimitMethod,
    T2LimitKind,
    box_spe_limit,
    check_confidence,
    empirical_limit,
)
from .scaling import as_matrix

__all__ = ["MPCA", "MPLS", "BatchScores", "as_aligned"]


def as_aligned(data: AlignedBatches | np.ndarray) -> AlignedBatches:
    """Accept aligned batches or a plain ``(I, N, J)`` array."""
    if isinstance(data, AlignedBatches):
        return data
    return AlignedBatches.from_array(np.asarray(data, dtype=float))


@dataclass(frozen=True)
class BatchScores:
    """Batch-level monitoring result for a set of completed batches.

    Attributes
    ----------
    batch_ids : tuple of str
    variables : tuple of str
    scores : numpy.ndarray (I, A)
    t2, spe : numpy.ndarray (I,)
        Hotelling's T² and SPE of each batch.
    t2_limit, spe_limit : float
        Limits at ``confidence``.
    confidence : float
    t2_contributions, spe_contributions : numpy.ndarray (I, J)
        Contribution of each variable, summed over the batch duration (rows sum to T² and
        SPE respectively).
    """

    batch_ids: tuple[str, ...]
    variables: tuple[str, ...]
    scores: np.ndarray
    t2: np.ndarray
    spe: np.ndarray
    t2_limit: float
    spe_limit: float
    confidence: float
    t2_contributions: np.ndarray
    spe_contributions: np.ndarray

    @property
    def t2_alarm(self) -> np.ndarray:
        """True where T² exceeds its limit."""
        return self.t2 > self.t2_limit

    @property
    def spe_alarm(self) -> np.ndarray:
        """True where SPE exceeds its limit."""
        return self.spe > self.spe_limit

    @property
    def flagged(self) -> list[str]:
        """Batches above either limit."""
        return [b for b, a in zip(self.batch_ids, self.t2_alarm | self.spe_alarm, strict=True) if a]

    def top_variables(self, batch_id: str, statistic: str = "spe", n: int = 3) -> list[str]:
        """The ``n`` variables contributing most to ``statistic`` ("spe" or "t2") of a batch."""
        i = self.batch_ids.index(batch_id)
        values = (
            self.spe_contributions[i] if statistic == "spe" else np.abs(self.t2_contributions[i])
        )
        return [self.variables[j] for j in np.argsort(values)[::-1][:n]]


class _BatchModel:
    """What MPCA and MPLS share."""

    model_: PCA | PLS
    batch_ids_: tuple[str, ...]
    variables_: tuple[str, ...]
    units_: dict[str, str]
    n_samples_: int
    axis_: np.ndarray
    metadata_: dict[str, Any]
    spe_cv_: np.ndarray | None = None
    t2_cv_: np.ndarray | None = None
    spe_contributions_cv_: np.ndarray | None = None
    spe_samples_cv_: np.ndarray | None = None
    scale_floor: float | None = None

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise MonitoringInputError(
                f"this {type(self).__name__} is not fitted yet: call fit first."
            )

    def _unfold_training(self, data: AlignedBatches | np.ndarray, n_components: int) -> np.ndarray:
        aligned = as_aligned(data)
        n_batches, N, J = aligned.values.shape
        if n_batches < n_components + 2:
            raise MonitoringInputError(
                f"too few batches ({n_batches}) for {n_components} components: at least "
                f"{n_components + 2} are needed."
            )
        values = aligned.values
        flat = values.reshape(-1, J)
        if np.isnan(flat).any():
            empty = np.isnan(flat).all(axis=0)
            filled = np.where(np.isnan(flat), np.nanmean(flat, axis=0), flat)
            highest, lowest = filled.max(axis=0), filled.min(axis=0)
        else:
            empty = np.zeros(J, dtype=bool)
            highest, lowest = flat.max(axis=0), flat.min(axis=0)
        for j, name in enumerate(aligned.variables):
            if empty[j]:
                raise MonitoringInputError(f"variable {name!r} has no observed value in any batch.")
            if highest[j] == lowest[j]:
                raise MonitoringInputError(
                    f"variable {name!r} is constant in every batch and carries no information; "
                    "remove it."
                )
        self.metadata_ = {}
        self.batch_ids_ = tuple(aligned.batch_ids)
        self.variables_ = tuple(aligned.variables)
        self.units_ = dict(aligned.units)
        self.n_samples_ = N
        self.axis_ = np.asarray(aligned.axis, dtype=float)
        self._column_names = [f"{name}@{n}" for n in range(N) for name in aligned.variables]
        return values.reshape(n_batches, N * J)

    def unfold(self, data: AlignedBatches | np.ndarray) -> np.ndarray:
        """Unfold new aligned batches ``(I, N, J)`` to ``(I, N·J)`` after checking their shape."""
        self._check_fitted()
        if isinstance(data, AlignedBatches):
            values = data.values
            if tuple(data.variables) != self.variables_:
                missing = [v for v in self.variables_ if v not in data.variables]
                if missing:
                    raise MonitoringInputError(
                        f"the batches lack variable {missing[0]!r} of the model "
                        f"({', '.join(self.variables_)})."
                    )
                values = values[:, :, [data.variables.index(v) for v in self.variables_]]
        else:
            values = np.asarray(data, dtype=float)
        if values.ndim == 2:
            values = values[np.newaxis]
        J = len(self.variables_)
        if values.ndim != 3 or values.shape[1:] != (self.n_samples_, J):
            raise MonitoringInputError(
                f"batches must have shape (batches, {self.n_samples_} samples, {J} variables) like "
                f"the training batches; got {values.shape}. Align them to the model's axis first."
            )
        return values.reshape(values.shape[0], -1)

    @property
    def scores_(self) -> np.ndarray:
        """Training batch scores ``(I, A)``."""
        self._check_fitted()
        return self.model_.scores_

    @property
    def t2_(self) -> np.ndarray:
        """Training T² per batch."""
        self._check_fitted()
        return self.model_.t2_

    @property
    def spe_(self) -> np.ndarray:
        """Training SPE per batch."""
        self._check_fitted()
        return self.model_.spe_

    @property
    def loadings_(self) -> np.ndarray:
        """Loadings reshaped to ``(N, J, A)``: the loading of variable j at sample n."""
        self._check_fitted()
        return self.model_.loadings_.reshape(self.n_samples_, len(self.variables_), -1)

    @property
    def n_components_(self) -> int:
        """Number of components."""
        self._check_fitted()
        return int(self.model_.scores_.shape[1])

    def transform(self, data: AlignedBatches | np.ndarray) -> np.ndarray:
        """Scores ``(I, A)`` of completed aligned batches."""
        return self.model_.transform(self.unfold(data))

    def t2(self, data: AlignedBatches | np.ndarray) -> np.ndarray:
        """Hotelling's T² of completed aligned batches."""
        return self.model_.t2(self.unfold(data))

    def spe(self, data: AlignedBatches | np.ndarray) -> np.ndarray:
        """SPE of completed aligned batches."""
        return self.model_.spe(self.unfold(data))

    def t2_limit(
        self,
        confidence: float = 0.95,
        kind: T2LimitKind = "new",
        *,
        cross_validated: bool = False,
    ) -> float:
        """T² limit at ``confidence`` (see :func:`.limits.t2_limit`).

        With ``cross_validated=True`` the limit is Box's ``g·χ²_h`` matched to the held-out
        T² of the training batches (fit with ``spe_folds``): each batch's T² under a model
        fitted without it, which is how a new batch is seen.
        """
        self._check_fitted()
        if not cross_validated:
            return self.model_.t2_limit(confidence, kind)
        held_out = getattr(self, "t2_cv_", None)
        if held_out is None:
            raise MonitoringInputError(
                "no cross-validated T²: fit with spe_folds (for example 5) first."
            )
        return box_spe_limit(held_out, confidence)

    def spe_limit(
        self,
        confidence: float = 0.95,
        method: SpeLimitMethod = "box",
        *,
        cross_validated: bool = False,
    ) -> float:
        """SPE limit at ``confidence`` by ``"box"``, ``"jackson-mudholkar"`` or ``"empirical"``.

        With ``cross_validated=True`` the ``"box"`` or ``"empirical"`` limit is taken from
        the held-out SPE of the training batches (fit with ``spe_folds``), which new
        batches resemble more than the fitted batches' own residuals when there are few
        batches for many unfolded columns.
        """
        self._check_fitted()
        if not cross_validated:
            return self.model_.spe_limit(confidence, method)
        held_out = getattr(self, "spe_cv_", None)
        if held_out is None:
            raise MonitoringInputError(
                "no cross-validated SPE: fit with spe_folds (for example 5) first."
            )
        if method == "box":
            return box_spe_limit(held_out, confidence)
        if method == "empirical":
            return empirical_limit(held_out, confidence)
        raise MonitoringInputError(
            f"a cross-validated SPE limit is 'box' or 'empirical', not {method!r}."
        )

    def _column_floor(self, values: np.ndarray) -> np.ndarray | None:
        """Smallest scale of each unfolded column: ``scale_floor`` × the variable's pooled SD."""
        floor = self.scale_floor
        if floor is None:
            return None
        if not floor > 0:
            raise MonitoringInputError(f"scale_floor must be positive; got {floor}.")
        _, N, J = values.shape
        pooled = np.nanstd(values.reshape(-1, J), axis=0, ddof=1)
        return np.tile(floor * pooled, N)

    def _cross_validate(
        self,
        values: np.ndarray,
        folds: int | None,
        fit_without: Callable[[np.ndarray], _BatchModel],
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        """Store each batch's SPE, T² and SPE contributions under a model fitted without its fold.

        ``spe_cv_`` and ``t2_cv_`` are ``(I,)``, ``spe_contributions_cv_`` is ``(I, J)``
        (summed over the batch duration) and ``spe_samples_cv_`` is ``(I, N)`` (summed over
        the variables at each aligned sample).
        """
        self.spe_cv_ = self.t2_cv_ = self.spe_contributions_cv_ = self.spe_samples_cv_ = None
        if folds is None:
            return
        n_batches = values.shape[0]
        if not 2 <= folds <= n_batches:
            raise MonitoringInputError(f"spe_folds must be between 2 and {n_batches}; got {folds}.")
        fold_of = np.arange(n_batches) % folds
        spe = np.empty(n_batches)
        t2 = np.empty(n_batches)
        contributions = np.empty((n_batches, values.shape[2]))
        samples = np.empty((n_batches, values.shape[1]))
        for k in range(folds):
            if cancel is not None:
                cancel.raise_if_cancelled()
            inner = fit_without(fold_of != k)
            held = values[fold_of == k]
            spe[fold_of == k] = inner.spe(held)
            t2[fold_of == k] = inner.t2(held)
            cells = inner.contributions(held, "spe")
            contributions[fold_of == k] = cells.sum(axis=1)
            samples[fold_of == k] = cells.sum(axis=2)
            report(
                progress,
                Progress(f"cross-validated fold {k + 1} of {folds}", (k + 1) / (folds + 1)),
            )
        self.spe_cv_, self.t2_cv_ = spe, t2
        self.spe_contributions_cv_, self.spe_samples_cv_ = contributions, samples

    def contributions(
        self, data: AlignedBatches | np.ndarray, statistic: str = "spe"
    ) -> np.ndarray:
        """Contributions ``(I, N, J)`` of each variable at each aligned sample.

        ``statistic``: ``"spe"`` (squared residuals; they sum to SPE) or ``"t2"`` (signed;
        they sum to T²).
        """
        X = self.unfold(data)
        if statistic == "spe":
            values = self.model_.spe_contributions(X)
        elif statistic == "t2":
            values = self.model_.t2_contributions(X)
        else:
            raise MonitoringInputError(f"statistic must be 'spe' or 't2'; got {statistic!r}.")
        return values.reshape(X.shape[0], self.n_samples_, len(self.variables_))

    def variable_contributions(
        self, data: AlignedBatches | np.ndarray, statistic: str = "spe"
    ) -> np.ndarray:
        """Contributions ``(I, J)`` of each variable summed over the batch duration."""
        return self.contributions(data, statistic).sum(axis=1)

    def score_batches(
        self,
        data: AlignedBatches | np.ndarray,
        confidence: float = 0.95,
        spe_method: SpeLimitMethod = "box",
        batch_ids: Sequence[str] | None = None,
        *,
        cross_validated: bool = False,
    ) -> BatchScores:
        """T², SPE, limits and per-variable contributions of completed aligned batches.

        Parameters
        ----------
        data : AlignedBatches or numpy.ndarray (I, N, J)
            Batches aligned to the model's axis.
        confidence : float
            Confidence level of the limits.
        spe_method : {"box", "jackson-mudholkar", "empirical"}
            SPE limit method.
        batch_ids : sequence of str, optional
            Names for the batches when ``data`` is a plain array.
        cross_validated : bool
            Use the cross-validated SPE limit and, where the model has held-out T², the
            cross-validated T² limit (model fitted with ``spe_folds``).
        """
        check_confidence(confidence)
        X = self.unfold(data)
        if isinstance(data, AlignedBatches):
            ids = tuple(data.batch_ids)
        elif batch_ids is not None:
            ids = tuple(str(b) for b in batch_ids)
        else:
            ids = tuple(f"batch{i + 1}" for i in range(X.shape[0]))
        if len(ids) != X.shape[0]:
            raise MonitoringInputError(f"{len(ids)} batch ids for {X.shape[0]} batches.")
        model = self.model_
        seen = model.diagnose(X)
        Xs, scores = seen.preprocessed, seen.scores
        residuals = np.nan_to_num(seen.residuals)
        spe_cells = residuals * residuals
        factors = (scores / model.score_sd_**2) @ model.direct_weights_.T
        t2_cells = np.nan_to_num(Xs) * factors
        shape = (X.shape[0], self.n_samples_, len(self.variables_))
        return BatchScores(
            batch_ids=ids,
            variables=self.variables_,
            scores=scores,
            t2=np.sum((scores / model.score_sd_) ** 2, axis=1),
            spe=spe_cells.sum(axis=1),
            t2_limit=self.t2_limit(
                confidence, cross_validated=cross_validated and self.t2_cv_ is not None
            ),
            spe_limit=self.spe_limit(confidence, spe_method, cross_validated=cross_validated),
            confidence=confidence,
            t2_contributions=t2_cells.reshape(shape).sum(axis=1),
            spe_contributions=spe_cells.reshape(shape).sum(axis=1),
        )


class MPCA(_BatchModel):
    """Multiway (batch-wise unfolded) PCA for monitoring completed batches.

    Parameters
    ----------
    n_components : int
        Number of components.
    scale : bool
        Scale each unfolded column to unit sample variance (default) or only centre.
    algorithm : {"auto", "nipals", "eig"}
        See :class:`.latent.PCA`; missing values are handled by NIPALS.
    scale_floor : float, optional
        Scale every unfolded column by at least ``scale_floor`` × the variable's standard
        deviation over all samples (constant columns by exactly that). At a time where the
        reference batches happen to agree closely, plain autoscaling divides by a tiny
        standard deviation and turns a small deviation of a new batch into a huge one;
        0.05 to 0.1 avoids that in online monitoring. ``None`` (default) is plain
        autoscaling, as SIMCA and process-improve.

    Examples
    --------
    >>> aligned = align_linear(read_batch_file("batches.csv"), n_samples=100)
    >>> model = MPCA(n_components=3).fit(aligned)
    >>> result = model.score_batches(new_aligned, confidence=0.99)
    >>> result.flagged, result.top_variables(result.flagged[0])
    """

    def __init__(
        self,
        n_components: int,
        *,
        scale: bool = True,
        algorithm: str = "auto",
        scale_floor: float | None = None,
    ) -> None:
        self.n_components = n_components
        self.scale = scale
        self.algorithm = algorithm
        self.scale_floor = scale_floor

    def fit(
        self,
        data: AlignedBatches | np.ndarray,
        *,
        spe_folds: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> MPCA:
        """Fit the model to aligned reference batches ``(I, N, J)``.

        Parameters
        ----------
        data : AlignedBatches or numpy.ndarray (I, N, J)
            Reference batches.
        spe_folds : int, optional
            Also compute each batch's SPE, T² and SPE contributions from a model fitted
            without its fold (batch i in fold ``i mod spe_folds``), stored as ``spe_cv_``,
            ``t2_cv_`` and ``spe_contributions_cv_`` for cross-validated limits;
            ``spe_folds`` equal to the number of batches leaves one batch out at a time.
        progress, cancel : optional
            Progress callback (one event per fold and one at the end) and cancel token,
            checked before the fit and before each fold; a cancelled fit raises
            :class:`~opencdmo.engines.progress.CancelledError`.
        """
        if cancel is not None:
            cancel.raise_if_cancelled()
        X = self._unfold_training(data, int(self.n_components))
        values = X.reshape(as_aligned(data).values.shape)
        self.model_ = PCA(
            self.n_components,
            scale=self.scale,
            algorithm=self.algorithm,
            allow_constant=True,
            min_scale=self._column_floor(values),
        ).fit(X, self._column_names)
        self._cross_validate(
            values,
            spe_folds,
            lambda keep: MPCA(
                self.n_components,
                scale=self.scale,
                algorithm=self.algorithm,
                scale_floor=self.scale_floor,
            ).fit(values[keep]),
            progress,
            cancel,
        )
        report(progress, Progress("MPCA fitted", 1.0))
        return self


class MPLS(_BatchModel):
    """Multiway (batch-wise unfolded) PLS: trajectories → end-of-batch quality.

    Parameters
    ----------
    n_components : int
        Number of components.
    scale : bool
        Autoscale the unfolded columns and the responses.
    scale_floor : float, optional
        As for :class:`MPCA`.
    """

    model_: PLS

    def __init__(
        self, n_components: int, *, scale: bool = True, scale_floor: float | None = None
    ) -> None:
        self.n_components = n_components
        self.scale = scale
        self.scale_floor = scale_floor

    def fit(
        self,
        data: AlignedBatches | np.ndarray,
        Y: object,
        response_names: Sequence[str] | None = None,
        *,
        spe_folds: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> MPLS:
        """Fit to aligned batches ``(I, N, J)`` and their responses ``Y`` ``(I,)`` or ``(I, M)``.

        ``spe_folds``, ``progress`` and ``cancel`` as in :meth:`MPCA.fit`.
        """
        if cancel is not None:
            cancel.raise_if_cancelled()
        X = self._unfold_training(data, int(self.n_components))
        values = X.reshape(as_aligned(data).values.shape)
        self.model_ = PLS(
            self.n_components,
            scale=self.scale,
            allow_constant=True,
            min_scale=self._column_floor(values),
        ).fit(X, Y, self._column_names, response_names)
        responses = as_matrix(Y, "Y")
        self._cross_validate(
            values,
            spe_folds,
            lambda keep: MPLS(
                self.n_components, scale=self.scale, scale_floor=self.scale_floor
            ).fit(values[keep], responses[keep]),
            progress,
            cancel,
        )
        report(progress, Progress("MPLS fitted", 1.0))
        return self

    def predict(self, data: AlignedBatches | np.ndarray) -> np.ndarray:
        """Predicted responses ``(I, M)`` of completed aligned batches."""
        return self.model_.predict(self.unfold(data))
