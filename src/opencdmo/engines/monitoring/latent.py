"""PCA and PLS latent-variable models with SIMCA conventions, limits and contributions.

Conventions
-----------
* Preprocessing: each column is centred on its mean and, with ``scale=True`` (the default),
  divided by its sample standard deviation (``ddof=1``).
* Complete data are fitted by an eigendecomposition of the smaller cross-product matrix
  (identical to SVD and to converged NIPALS); data with missing values (NaN) by NIPALS.
* Signs: the largest-magnitude element of each loading vector is positive.
* ``t2`` is Hotelling's T² with the training score standard deviations (``ddof=1``);
  ``spe`` is the sum of squared X residuals. Limits: see :mod:`.limits`.
* New rows with missing values get their scores by single-component projection, the
  operation NIPALS performs on training rows, so training rows reproduce their fitted scores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .blas import single_blas_thread
from .errors import MonitoringInputError
from .limits import (
    SpeLimitMethod,
    T2LimitKind,
    box_spe_limit,
    check_confidence,
    empirical_limit,
    jackson_mudholkar_spe_limit,
    t2_limit,
)
from .nipals import EPS_SQRT, nipals_pca, nipals_pls
from .scaling import Autoscaler, as_matrix, variable_names

__all__ = ["PCA", "PLS", "Diagnostics", "project_scores"]

_CHUNK_ROWS = 256
_DIRECT_SPE_CELLS = 4_000_000
_SMALL = 300


def project_scores(
    Xs: np.ndarray,
    weights: np.ndarray,
    loadings: np.ndarray,
    *,
    sequential: bool = False,
    direct: np.ndarray | None = None,
) -> np.ndarray:
    """Scores of preprocessed rows, with missing values skipped.

    Complete rows use ``Xs @ R`` with ``R = W (PᵀW)⁻¹``; a row with missing values (and
    every row when ``sequential``, as for a model fitted on incomplete data, whose loadings
    are not exactly orthogonal) is projected one component at a time on its observed cells,
    deflating with the loadings, as NIPALS does.

    Raises
    ------
    MonitoringInputError
        If a row has no observed value.
    """
    missing = np.isnan(Xs)
    A = weights.shape[1]
    if direct is None:
        direct = weights @ np.linalg.inv(loadings.T @ weights)
    if not missing.any() and not sequential:
        return Xs @ direct
    empty = np.flatnonzero(missing.all(axis=1))
    if empty.size:
        raise MonitoringInputError(f"row {int(empty[0])} has no observed value: cannot score it.")
    scores = np.empty((Xs.shape[0], A))
    complete = ~missing.any(axis=1) & (not sequential)
    scores[complete] = Xs[complete] @ direct
    rows = np.flatnonzero(~complete)
    x = np.where(missing[rows], 0.0, Xs[rows])
    present = (~missing[rows]).astype(float)
    for a in range(A):
        w = weights[:, a]
        denominator = present @ (w * w)
        t = np.where(denominator > 0, (x @ w) / np.where(denominator > 0, denominator, 1.0), 0.0)
        scores[rows, a] = t
        x = x - np.outer(t, loadings[:, a]) * present
    return scores


@dataclass(frozen=True)
class Diagnostics:
    """New rows as the model sees them.

    Attributes
    ----------
    preprocessed : numpy.ndarray (n, K)
        Centred and scaled rows (NaN where missing).
    scores : numpy.ndarray (n, A)
    residuals : numpy.ndarray (n, K)
        Preprocessed rows minus their reconstruction (NaN where missing).
    """

    preprocessed: np.ndarray
    scores: np.ndarray
    residuals: np.ndarray


class _LatentModel:
    """What PCA and PLS share: preprocessing, T², SPE, limits and contributions."""

    n_components: int
    scale: bool
    scaler_: Autoscaler
    variable_names_: list[str]
    scores_: np.ndarray
    loadings_: np.ndarray
    score_sd_: np.ndarray
    t2_: np.ndarray
    spe_: np.ndarray
    n_observations_: int
    _direct: np.ndarray | None = None
    _theta: tuple[float, float, float] | None = None
    _theta_source: Callable[[], tuple[float, float, float]] | None = None
    _weights: np.ndarray
    sequential_: bool = False
    metadata_: dict[str, Any]

    def _check_fitted(self) -> None:
        if not hasattr(self, "scores_"):
            raise MonitoringInputError(
                f"this {type(self).__name__} is not fitted yet: call fit first."
            )

    def _check_n_components(self, n: int, K: int) -> int:
        A = int(self.n_components)
        if A < 1:
            raise MonitoringInputError(f"n_components must be at least 1; got {A}.")
        if A > K:
            raise MonitoringInputError(f"n_components={A} exceeds the number of variables ({K}).")
        if n - A < 2:
            raise MonitoringInputError(
                f"too few observations ({n}) for {A} components: at least {A + 2} are needed."
            )
        return A

    @property
    def residual_theta_(self) -> tuple[float, float, float]:
        """Sums of the 1st, 2nd and 3rd powers of the residual covariance eigenvalues.

        Computed on first use for large models (the Jackson–Mudholkar limit needs them).
        """
        self._check_fitted()
        if self._theta is None:
            if self._theta_source is None:
                raise MonitoringInputError("this model holds no residual eigenvalues.")
            self._theta = self._theta_source()
            self._theta_source = None
        return self._theta

    @residual_theta_.setter
    def residual_theta_(self, value: tuple[float, float, float]) -> None:
        self._theta = value
        self._theta_source = None

    def _set_theta_later(self, source: Callable[[], tuple[float, float, float]]) -> None:
        self._theta = None
        self._theta_source = source

    @property
    def direct_weights_(self) -> np.ndarray:
        """``R = W (PᵀW)⁻¹``: scores of complete preprocessed rows are ``Xs @ R``."""
        self._check_fitted()
        if self._direct is None:
            self._direct = self._weights @ np.linalg.inv(self.loadings_.T @ self._weights)
        return self._direct

    def _scores_of(self, Xs: np.ndarray) -> np.ndarray:
        return project_scores(
            Xs,
            self._weights,
            self.loadings_,
            sequential=self.sequential_,
            direct=self.direct_weights_,
        )

    def preprocess(self, X: object) -> np.ndarray:
        """Centre and scale ``X`` (rows × variables) as the training data were."""
        self._check_fitted()
        array = as_matrix(X)
        if array.shape[1] != len(self.variable_names_):
            raise MonitoringInputError(
                f"X has {array.shape[1]} variables; the model was fitted on "
                f"{len(self.variable_names_)} ({', '.join(self.variable_names_[:5])}, ...)."
            )
        return self.scaler_.transform(array)

    def diagnose(self, X: object) -> Diagnostics:
        """Preprocessed rows, their scores and residuals, in one projection."""
        Xs = self.preprocess(X)
        scores = self._scores_of(Xs)
        residuals = Xs - scores @ self.loadings_.T
        return Diagnostics(Xs, scores, residuals)

    def transform(self, X: object) -> np.ndarray:
        """Scores ``(n, A)`` of new rows."""
        return self._scores_of(self.preprocess(X))

    def t2(self, X: object) -> np.ndarray:
        """Hotelling's T² of each row of ``X``."""
        scores = self.transform(X)
        return np.sum((scores / self.score_sd_) ** 2, axis=1)

    def spe(self, X: object) -> np.ndarray:
        """Squared prediction error (sum of squared residuals over observed cells) per row."""
        residuals = self.diagnose(X).residuals
        return np.nansum(residuals * residuals, axis=1)

    def t2_limit(self, confidence: float = 0.95, kind: T2LimitKind = "new") -> float:
        """Hotelling's T² limit; see :func:`.limits.t2_limit`."""
        self._check_fitted()
        return t2_limit(self.scores_.shape[1], self.n_observations_, confidence, kind)

    def score_limits(self, confidence: float = 0.95) -> np.ndarray:
        """Two-sided limit of each score: ``t_{(1+c)/2, n−1} · s_a`` (the ± bound of a score plot)."""
        from scipy.stats import t as student

        self._check_fitted()
        level = check_confidence(confidence)
        return float(student.ppf(0.5 + level / 2, self.n_observations_ - 1)) * self.score_sd_

    def spe_limit(self, confidence: float = 0.95, method: SpeLimitMethod = "box") -> float:
        """SPE limit by ``"box"`` (default), ``"jackson-mudholkar"`` or ``"empirical"``."""
        self._check_fitted()
        check_confidence(confidence)
        if method == "box":
            return box_spe_limit(self.spe_, confidence)
        if method == "jackson-mudholkar":
            return jackson_mudholkar_spe_limit(self.residual_theta_, confidence)
        if method == "empirical":
            return empirical_limit(self.spe_, confidence)
        raise MonitoringInputError(
            f"unknown SPE limit method {method!r}: use 'jackson-mudholkar', 'box' or 'empirical'."
        )

    def score_contributions(self, X: object, component: int) -> np.ndarray:
        """Contribution ``x_k · r_ka`` of each variable to score ``component`` (1-based).

        Rows sum to the score for complete rows. Missing cells contribute zero.
        """
        A = self.scores_.shape[1]
        if not 1 <= int(component) <= A:
            raise MonitoringInputError(f"component must be within 1..{A}; got {component}.")
        Xs = np.nan_to_num(self.preprocess(X))
        return Xs * self.direct_weights_[:, int(component) - 1]

    def t2_contributions(self, X: object) -> np.ndarray:
        """Contribution of each variable to T²: ``x_k · Σ_a t_a r_ka / s_a²``.

        Rows sum to T² (complete rows); signs show the direction. Missing cells give zero.
        """
        Xs = self.preprocess(X)
        scores = self._scores_of(Xs)
        factors = (scores / self.score_sd_**2) @ self.direct_weights_.T
        return np.nan_to_num(Xs) * factors

    def spe_contributions(self, X: object, *, signed: bool = False) -> np.ndarray:
        """Contribution of each variable to SPE: the squared residual (rows sum to SPE).

        With ``signed=True`` the residual itself is returned (its square is the
        contribution). Missing cells give zero.
        """
        residuals = np.nan_to_num(self.diagnose(X).residuals)
        return residuals if signed else residuals * residuals

    def _theta_from(self, residuals: np.ndarray, n: int) -> None:
        if min(residuals.shape) <= _SMALL:
            self.residual_theta_ = _theta_from_residuals(residuals, n)
        else:
            self._set_theta_later(lambda: _theta_from_residuals(residuals, n))

    def _training_statistics(self, Xs: np.ndarray, residuals: np.ndarray | None) -> None:
        scores = self.scores_
        n = scores.shape[0]
        self.n_observations_ = n
        self.metadata_ = {}
        self._direct = None
        self.score_sd_ = np.sqrt(np.sum(scores * scores, axis=0) / (n - 1))
        if np.any(self.score_sd_ <= EPS_SQRT * float(self.score_sd_.max())) or not np.all(
            self.score_sd_ > 0
        ):
            raise MonitoringInputError("a component has no variance left: fit fewer components.")
        self.t2_ = np.sum((scores / self.score_sd_) ** 2, axis=1)
        if residuals is None and Xs.size > _DIRECT_SPE_CELLS:
            explained = np.einsum("ij,ij->i", scores, scores)
            self.spe_ = np.maximum(np.einsum("ij,ij->i", Xs, Xs) - explained, 0.0)
        elif residuals is None:
            spe = np.empty(n)
            for start in range(0, n, _CHUNK_ROWS):
                block = (
                    Xs[start : start + _CHUNK_ROWS]
                    - scores[start : start + _CHUNK_ROWS] @ self.loadings_.T
                )
                spe[start : start + _CHUNK_ROWS] = np.sum(block * block, axis=1)
            self.spe_ = spe
        else:
            self.spe_ = np.nansum(residuals * residuals, axis=1)


class PCA(_LatentModel):
    """Principal component analysis with missing values, limits and contributions.

    Parameters
    ----------
    n_components : int
        Number of principal components ``A``.
    scale : bool
        Autoscale (mean, sample SD) when true; only centre when false.
    algorithm : {"auto", "nipals", "eig"}
        ``"auto"``: eigendecomposition for complete data, NIPALS when values are missing.
    tol, max_iter : float, int
        NIPALS stopping rule.
    allow_constant : bool
        Accept constant columns (centred, unscaled, zero weight) instead of raising.
    min_scale : numpy.ndarray, optional
        Smallest scale of each column (see :meth:`.Autoscaler.fit`).

    Attributes
    ----------
    scores_ : numpy.ndarray (n, A)
    loadings_ : numpy.ndarray (K, A)
        Orthonormal loadings.
    explained_variance_ : numpy.ndarray (A,)
        Variance of each score (``tᵀt / (n−1)``).
    r2_, r2_cumulative_ : numpy.ndarray (A,)
        Fraction of the sum of squares of the preprocessed X explained per component and
        cumulatively.
    r2_per_variable_ : numpy.ndarray (K, A)
        Cumulative R² of each variable.
    t2_, spe_ : numpy.ndarray (n,)
        Training T² and SPE.
    score_sd_ : numpy.ndarray (A,)
        Score standard deviations used in T².
    """

    def __init__(
        self,
        n_components: int,
        *,
        scale: bool = True,
        algorithm: str = "auto",
        tol: float = EPS_SQRT,
        max_iter: int = 500,
        allow_constant: bool = False,
        min_scale: np.ndarray | None = None,
    ) -> None:
        self.n_components = n_components
        self.scale = scale
        self.algorithm = algorithm
        self.tol = tol
        self.max_iter = max_iter
        self.allow_constant = allow_constant
        self.min_scale = min_scale

    def fit(self, X: object, variable_names_: Sequence[str] | None = None) -> PCA:
        """Fit the model to ``X`` (rows × variables, NaN for missing values).

        Parameters
        ----------
        X : array-like of shape (n, K)
            Training data.
        variable_names_ : sequence of str, optional
            Names of the K variables (used in messages and saved models).
        """
        array = as_matrix(X)
        n, K = array.shape
        self.variable_names_ = variable_names(variable_names_, K)
        A = self._check_n_components(n, K)
        self.scaler_ = Autoscaler.fit(
            array,
            scale=self.scale,
            names=self.variable_names_,
            allow_constant=self.allow_constant,
            min_scale=self.min_scale,
        )
        Xs = self.scaler_.transform(array)
        with single_blas_thread():
            self._fit_preprocessed(Xs, A)
        return self

    def _fit_preprocessed(self, Xs: np.ndarray, A: int) -> None:
        missing = bool(np.isnan(Xs).any())
        algorithm = self.algorithm
        if algorithm not in {"auto", "nipals", "eig"}:
            raise MonitoringInputError(
                f"algorithm must be 'auto', 'nipals' or 'eig'; got {algorithm!r}."
            )
        if algorithm == "eig" and missing:
            raise MonitoringInputError(
                "algorithm='eig' needs complete data; use 'nipals' or 'auto'."
            )
        n, K = Xs.shape
        residuals: np.ndarray | None = None
        if algorithm == "nipals" or missing:
            result = nipals_pca(Xs, A, self.tol, self.max_iter)
            self.sequential_ = missing
            scores, loadings, residuals = result.scores, result.loadings, result.residuals
            self.n_iterations_ = result.iterations
            total_ss_col = np.nansum(Xs * Xs, axis=0)
            explained_ss = np.sum(scores * scores, axis=0)
            self._theta_from(residuals, n)
            cumulative = np.zeros((K, A))
            deflated = Xs.copy()
            for a in range(A):
                deflated = deflated - np.outer(scores[:, a], loadings[:, a])
                cumulative[:, a] = np.nansum(deflated * deflated, axis=0)
            residual_ss_col = cumulative
        else:
            scores, loadings, theta = _eig_pca(Xs, A)
            self.n_iterations_ = np.zeros(A, dtype=int)
            explained_ss = np.sum(scores * scores, axis=0)
            total_ss_col = np.einsum("ij,ij->j", Xs, Xs)
            residual_ss_col = total_ss_col[:, None] - np.cumsum(
                loadings**2 * explained_ss[None, :], axis=1
            )
            if isinstance(theta, tuple):
                self.residual_theta_ = theta
            else:
                self._set_theta_later(theta)
        self.scores_ = scores
        self.loadings_ = loadings
        self._weights = loadings
        total = float(total_ss_col.sum())
        self.r2_cumulative_ = 1.0 - residual_ss_col.sum(axis=0) / total
        self.r2_ = np.diff(np.concatenate([[0.0], self.r2_cumulative_]))
        with np.errstate(invalid="ignore", divide="ignore"):
            per_variable = 1.0 - residual_ss_col / total_ss_col[:, None]
        self.r2_per_variable_ = np.where(total_ss_col[:, None] > 0, per_variable, 0.0)
        self.explained_variance_ = explained_ss / (n - 1)
        self._training_statistics(Xs, residuals)


def _theta_from_residuals(residuals: np.ndarray, n: int) -> tuple[float, float, float]:
    """Sums of the 1st, 2nd and 3rd powers of the residual covariance eigenvalues."""
    E = np.nan_to_num(residuals)
    small = E.T @ E if E.shape[1] <= E.shape[0] else E @ E.T
    lam = np.clip(np.linalg.eigvalsh(small / (n - 1)), 0.0, None)
    return float(lam.sum()), float((lam**2).sum()), float((lam**3).sum())


def _top_eigenpairs(gram: np.ndarray, A: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``A`` largest eigenvalues (descending) and eigenvectors of a symmetric matrix.

    Lanczos (ARPACK, started from a fixed vector, run to machine precision) when few are
    wanted from a large matrix; otherwise LAPACK.
    """
    size = gram.shape[0]
    if size // 10 >= A:
        from scipy.sparse.linalg import eigsh

        values, vectors = eigsh(gram, k=A, which="LA", v0=np.ones(size), tol=0.0)
    else:
        from scipy.linalg import eigh

        values, vectors = eigh(gram, subset_by_index=[size - A, size - 1], driver="evx")
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order]


def _eig_pca(
    Xs: np.ndarray, A: int
) -> tuple[
    np.ndarray, np.ndarray, tuple[float, float, float] | Callable[[], tuple[float, float, float]]
]:
    """Scores, orthonormal loadings and residual eigenvalue power sums of complete ``Xs``.

    The power sums come as a tuple, or (for large cross-product matrices, where they cost a
    matrix product) as a function computing them when first needed.
    """
    n, K = Xs.shape
    rows_side = n < K
    gram = Xs @ Xs.T if rows_side else Xs.T @ Xs
    size = gram.shape[0]
    theta: tuple[float, float, float] | Callable[[], tuple[float, float, float]]
    if size <= _SMALL:
        values, vectors = np.linalg.eigh(gram)
        order = np.argsort(values)[::-1]
        values, vectors = values[order], vectors[:, order]
        rest = np.clip(values[A:], 0.0, None) / (n - 1)
        theta = (float(rest.sum()), float((rest**2).sum()), float((rest**3).sum()))
        values, vectors = values[:A], vectors[:, :A]
    else:
        values, vectors = _top_eigenpairs(gram, A)
        explained = np.clip(values, 0.0, None) / (n - 1)

        def theta() -> tuple[float, float, float]:
            scale = 1.0 / (n - 1)
            total1 = float(np.trace(gram)) * scale
            total2 = float(np.sum(gram * gram)) * scale**2
            total3 = float(np.sum((gram @ gram) * gram)) * scale**3
            return (
                max(total1 - float(explained.sum()), 0.0),
                max(total2 - float((explained**2).sum()), 0.0),
                max(total3 - float((explained**3).sum()), 0.0),
            )

    values = np.clip(values, 0.0, None)
    if np.any(values <= EPS_SQRT * max(float(values[0]), 1e-300)):
        raise MonitoringInputError(
            f"the data have fewer than {A} components with variance: fit fewer components."
        )
    if rows_side:
        root = np.sqrt(values)
        scores = vectors * root
        loadings = (Xs.T @ vectors) / root
    else:
        loadings = vectors
        scores = Xs @ loadings
    for a in range(A):
        if loadings[int(np.argmax(np.abs(loadings[:, a]))), a] < 0:
            loadings[:, a] *= -1.0
            scores[:, a] *= -1.0
    return scores, loadings, theta


class PLS(_LatentModel):
    """Projection to latent structures (PLS regression) by NIPALS, with missing values.

    Parameters
    ----------
    n_components : int
        Number of components ``A``.
    scale : bool
        Autoscale X and Y (mean, sample SD); only centre when false.
    tol, max_iter : float, int
        NIPALS stopping rule.
    allow_constant : bool
        Accept constant X columns instead of raising.
    min_scale : numpy.ndarray, optional
        Smallest scale of each X column (see :meth:`.Autoscaler.fit`).

    Attributes
    ----------
    scores_, y_scores_ : numpy.ndarray (n, A)
        X scores T and Y scores U.
    x_weights_, loadings_ : numpy.ndarray (K, A)
        Weights W and X loadings P (``x_loadings_`` is the same array).
    y_loadings_ : numpy.ndarray (M, A)
        Y loadings C.
    coef_ : numpy.ndarray (K, M)
        Regression coefficients on the original units (``predict`` adds the intercept).
    r2_, r2_cumulative_ : numpy.ndarray (A,)
        Fraction of the preprocessed Y sum of squares explained per component / cumulatively.
    r2x_cumulative_ : numpy.ndarray (A,)
        Same for X.
    r2_per_variable_, r2y_per_variable_ : numpy.ndarray (K, A), (M, A)
        Cumulative R² of each X variable and of each response.
    vip_ : numpy.ndarray (K,)
        Variable importance in projection.
    """

    def __init__(
        self,
        n_components: int,
        *,
        scale: bool = True,
        tol: float = EPS_SQRT,
        max_iter: int = 500,
        allow_constant: bool = False,
        min_scale: np.ndarray | None = None,
    ) -> None:
        self.n_components = n_components
        self.scale = scale
        self.tol = tol
        self.max_iter = max_iter
        self.allow_constant = allow_constant
        self.min_scale = min_scale

    @property
    def x_weights_(self) -> np.ndarray:
        """X weights W ``(K, A)``."""
        self._check_fitted()
        return self._weights

    @property
    def x_loadings_(self) -> np.ndarray:
        """X loadings P ``(K, A)``."""
        self._check_fitted()
        return self.loadings_

    def fit(
        self,
        X: object,
        Y: object,
        variable_names_: Sequence[str] | None = None,
        response_names: Sequence[str] | None = None,
    ) -> PLS:
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n, K)
            Predictors; NaN for missing values.
        Y : array-like of shape (n,) or (n, M)
            Responses; NaN for missing values.
        variable_names_, response_names : sequence of str, optional
            Names of the X and Y columns.
        """
        Xa = as_matrix(X, "X")
        Ya = as_matrix(Y, "Y")
        if Xa.shape[0] != Ya.shape[0]:
            raise MonitoringInputError(f"X has {Xa.shape[0]} rows but Y has {Ya.shape[0]}.")
        n, K = Xa.shape
        self.variable_names_ = variable_names(variable_names_, K)
        self.response_names_ = variable_names(response_names, Ya.shape[1], prefix="y")
        A = self._check_n_components(n, K)
        self.scaler_ = Autoscaler.fit(
            Xa,
            scale=self.scale,
            names=self.variable_names_,
            allow_constant=self.allow_constant,
            min_scale=self.min_scale,
        )
        self.y_scaler_ = Autoscaler.fit(Ya, scale=self.scale, names=self.response_names_)
        Xs = self.scaler_.transform(Xa)
        Ys = self.y_scaler_.transform(Ya)
        self.y_train_scaled_ = Ys
        with single_blas_thread():
            self._fit_blocks(Xs, Ys, A)
        return self

    def _fit_blocks(self, Xs: np.ndarray, Ys: np.ndarray, A: int) -> None:
        n = Xs.shape[0]
        result = nipals_pls(Xs, Ys, A, self.tol, self.max_iter)
        self.sequential_ = bool(np.isnan(Xs).any())
        self.n_iterations_ = result.iterations
        self.scores_ = result.scores
        self.y_scores_ = result.y_scores
        self._weights = result.weights
        self.loadings_ = result.loadings
        self.y_loadings_ = result.y_loadings
        ss_y = np.nansum(Ys * Ys, axis=0)
        ss_x = np.nansum(Xs * Xs, axis=0)
        r2y_var = np.empty((Ys.shape[1], A))
        r2x_var = np.empty((Xs.shape[1], A))
        for a in range(A):
            fitted = self.scores_[:, : a + 1] @ self.y_loadings_[:, : a + 1].T
            r2y_var[:, a] = np.nansum((Ys - fitted) ** 2, axis=0)
            x_fit = self.scores_[:, : a + 1] @ self.loadings_[:, : a + 1].T
            r2x_var[:, a] = np.nansum((Xs - x_fit) ** 2, axis=0)
        self.r2_cumulative_ = 1.0 - r2y_var.sum(axis=0) / ss_y.sum()
        self.r2_ = np.diff(np.concatenate([[0.0], self.r2_cumulative_]))
        self.r2x_cumulative_ = 1.0 - r2x_var.sum(axis=0) / ss_x.sum()
        self.r2_per_variable_ = np.where(
            ss_x[:, None] > 0, 1.0 - r2x_var / np.where(ss_x > 0, ss_x, 1.0)[:, None], 0.0
        )
        self.r2y_per_variable_ = 1.0 - r2y_var / np.where(ss_y > 0, ss_y, 1.0)[:, None]
        residual = Xs - self.scores_ @ self.loadings_.T
        self._theta_from(residual, n)
        self._training_statistics(Xs, residual if np.isnan(Xs).any() else None)

    @property
    def coef_(self) -> np.ndarray:
        """Coefficients ``(K, M)`` mapping original-unit X deviations to original-unit Y."""
        beta = self.direct_weights_ @ self.y_loadings_.T
        return beta * self.y_scaler_.scale_[None, :] / self.scaler_.scale_[:, None]

    @property
    def vip_(self) -> np.ndarray:
        """Variable importance in projection (Wold), one value per X variable."""
        self._check_fitted()
        ssy = np.sum(self.scores_**2, axis=0) * np.sum(self.y_loadings_**2, axis=0)
        w = self._weights / np.linalg.norm(self._weights, axis=0)
        K = w.shape[0]
        return np.sqrt(K * (w**2 @ ssy) / ssy.sum())

    def predict(self, X: object) -> np.ndarray:
        """Predicted Y ``(n, M)`` on the original units."""
        scores = self.transform(X)
        return self.y_scaler_.inverse_transform(scores @ self.y_loadings_.T)
