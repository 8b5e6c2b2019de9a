"""NIPALS kernels for PCA and PLS that skip missing values (NaN).

The iteration follows the one of process-improve 2.2.0 step by step (seed on the column with
the largest sum of squares, the same relative stopping rule on the score vector, the same
floors), so that fits with missing data agree with it to rounding. Signs are fixed so that the
largest-magnitude element of each loading vector is positive (Wold, Esbensen and Geladi 1987).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EPS_SQRT", "NipalsPCAResult", "NipalsPLSResult", "nipals_pca", "nipals_pls", "regress"]

EPS_SQRT = float(np.sqrt(np.finfo(float).eps))
_TINY = float(np.finfo(float).tiny)


@dataclass(frozen=True)
class NipalsPCAResult:
    """Scores ``(n, A)``, loadings ``(K, A)``, residual matrix (NaN kept) and iterations per component."""

    scores: np.ndarray
    loadings: np.ndarray
    residuals: np.ndarray
    iterations: np.ndarray


@dataclass(frozen=True)
class NipalsPLSResult:
    """PLS NIPALS result: X scores T, Y scores U, weights W, X loadings P, Y loadings C."""

    scores: np.ndarray
    y_scores: np.ndarray
    weights: np.ndarray
    loadings: np.ndarray
    y_loadings: np.ndarray
    x_residuals: np.ndarray
    iterations: np.ndarray


def regress(
    filled: np.ndarray, present: np.ndarray | None, vector: np.ndarray, per: str
) -> np.ndarray:
    """Least-squares slope of ``vector`` on each column (``per="column"``) or row of a matrix.

    ``filled`` is the matrix with missing cells set to zero and ``present`` the float mask
    of observed cells (``None`` when complete). A slope whose denominator is below
    ``EPS_SQRT·‖vector‖²`` is zero.
    """
    floor = EPS_SQRT * float(vector @ vector)
    if per == "column":
        numerator = vector @ filled
        denominator = (
            np.full(filled.shape[1], float(vector @ vector))
            if present is None
            else (vector * vector) @ present
        )
    else:
        numerator = filled @ vector
        denominator = (
            np.full(filled.shape[0], float(vector @ vector))
            if present is None
            else present @ (vector * vector)
        )
    safe = denominator > floor
    return np.where(safe, numerator / np.where(safe, denominator, 1.0), 0.0)


def _converged(previous: np.ndarray, current: np.ndarray, tol: float) -> bool:
    difference = previous - current
    change = np.sqrt(float(difference @ difference))
    return bool(change / max(_TINY, np.sqrt(float(current @ current))) < tol)


def _nipals_pls_complete(
    X: np.ndarray, Y: np.ndarray, n_components: int, tol: float, max_iter: int
) -> NipalsPLSResult:
    """NIPALS PLS on complete blocks, iterating on the cross-product matrices.

    The iteration is the same as on the data (``w ∝ Xᵀu``, ``t = Xw``, ``c = Yᵀt/tᵀt``,
    ``u = Yc/cᵀc``) with the same stopping rule on ``u``, but ``u`` is carried as the
    coefficients ``ĉ = c/cᵀc`` of ``u = Yĉ``, so an iteration costs ``O(K² + KM + M²)``
    instead of ``O(n(K + M))``.
    """
    n, K = X.shape
    M = Y.shape[1]
    Xd, Yd = X.copy(), Y.copy()
    T = np.zeros((n, n_components))
    U = np.zeros((n, n_components))
    W = np.zeros((K, n_components))
    P = np.zeros((K, n_components))
    C = np.zeros((M, n_components))
    iterations = np.zeros(n_components, dtype=int)
    for a in range(n_components):
        xtx = Xd.T @ Xd
        xty = Xd.T @ Yd
        yty = Yd.T @ Yd
        start = int(np.argmax(np.einsum("ij,ij->j", Yd, Yd)))
        u0 = Yd[:, start] + 1.0
        w = (u0 @ Xd) / max(_TINY, float(u0 @ u0))
        coef = np.zeros(M)
        itern = 0
        while True:
            w = w / max(_TINY, np.sqrt(float(w @ w)))
            tt = max(_TINY, float(w @ (xtx @ w)))
            c = (w @ xty) / tt
            cc = float(c @ c)
            new_coef = c / cc if cc > 0 else np.zeros(M)
            uu = max(0.0, float(new_coef @ (yty @ new_coef)))
            itern += 1
            if itern == 1:
                difference = u0 - Yd @ new_coef
                change = np.sqrt(float(difference @ difference))
            else:
                step = coef - new_coef
                change = np.sqrt(max(0.0, float(step @ (yty @ step))))
            coef = new_coef
            if change < tol * max(_TINY, np.sqrt(uu)) or itern >= max_iter:
                break
            w = xty @ coef
        iterations[a] = itern
        t = (Xd @ w) / float(w @ w)
        tt = float(t @ t)
        c = (t @ Yd) / tt
        u = Yd @ coef
        p = (t @ Xd) / tt
        Xd -= np.outer(t, p)
        Yd -= np.outer(t, c)
        _flip(t, u, w, p, c, reference=p)
        T[:, a], U[:, a], W[:, a], P[:, a], C[:, a] = t, u, w, p, c
    return NipalsPLSResult(T, U, W, P, C, Xd, iterations)


def _flip(*vectors: np.ndarray, reference: np.ndarray) -> None:
    if reference[int(np.argmax(np.abs(reference)))] < 0:
        for vector in vectors:
            vector *= -1.0


def nipals_pca(
    X: np.ndarray, n_components: int, tol: float = EPS_SQRT, max_iter: int = 500
) -> NipalsPCAResult:
    """Fit ``n_components`` principal components of a centred (and scaled) ``X`` by NIPALS.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, K)
        Preprocessed data; NaN marks a missing value.
    n_components : int
        Number of components.
    tol : float
        Relative tolerance on the change of the score vector between iterations.
    max_iter : int
        Iteration cap per component.
    """
    n, K = X.shape
    Xd = X.copy()
    missing = np.isnan(Xd)
    present = None if not missing.any() else (~missing).astype(float)
    scores = np.zeros((n, n_components))
    loadings = np.zeros((K, n_components))
    iterations = np.zeros(n_components, dtype=int)
    for a in range(n_components):
        filled = np.where(missing, 0.0, Xd)
        start = int(np.argmax(np.sum(filled * filled, axis=0)))
        t_guess = filled[:, start].copy()
        t = t_guess + 1.0
        p = np.zeros(K)
        itern = 0
        while itern == 0 or not (_converged(t_guess, t, tol) or itern >= max_iter):
            t_guess = t.copy()
            p = regress(filled, present, t, "column")
            p = p / max(_TINY, float(np.sqrt(p @ p)))
            t = regress(filled, present, p, "row")
            itern += 1
        iterations[a] = itern
        Xd = Xd - np.outer(t, p)
        _flip(p, t, reference=p)
        scores[:, a] = t
        loadings[:, a] = p
    return NipalsPCAResult(scores, loadings, Xd, iterations)


def nipals_pls(
    X: np.ndarray, Y: np.ndarray, n_components: int, tol: float = EPS_SQRT, max_iter: int = 500
) -> NipalsPLSResult:
    """Fit ``n_components`` PLS components of preprocessed ``X`` (n, K) and ``Y`` (n, M) by NIPALS.

    Missing values (NaN) are allowed in both blocks. Parameters as in :func:`nipals_pca`.
    """
    n, K = X.shape
    M = Y.shape[1]
    Xd, Yd = X.copy(), Y.copy()
    x_missing, y_missing = np.isnan(Xd), np.isnan(Yd)
    x_present = None if not x_missing.any() else (~x_missing).astype(float)
    y_present = None if not y_missing.any() else (~y_missing).astype(float)
    T = np.zeros((n, n_components))
    U = np.zeros((n, n_components))
    W = np.zeros((K, n_components))
    P = np.zeros((K, n_components))
    C = np.zeros((M, n_components))
    iterations = np.zeros(n_components, dtype=int)
    if x_present is None and y_present is None:
        return _nipals_pls_complete(X, Y, n_components, tol, max_iter)
    for a in range(n_components):
        x_filled = Xd if x_present is None else np.where(x_missing, 0.0, Xd)
        y_filled = Yd if y_present is None else np.where(y_missing, 0.0, Yd)
        start = int(np.argmax(np.sum(y_filled * y_filled, axis=0)))
        u_guess = y_filled[:, start].copy()
        u = u_guess + 1.0
        itern = 0
        w = t = c = np.zeros(0)
        while itern == 0 or not (_converged(u_guess, u, tol) or itern >= max_iter):
            u_guess = u
            w = regress(x_filled, x_present, u, "column")
            w = w / max(_TINY, float(np.sqrt(w @ w)))
            t = regress(x_filled, x_present, w, "row")
            c = regress(y_filled, y_present, t, "column")
            u = regress(y_filled, y_present, c, "row")
            itern += 1
        iterations[a] = itern
        p = regress(x_filled, x_present, t, "column")
        Xd = Xd - np.outer(t, p)
        Yd = Yd - np.outer(t, c)
        _flip(t, u, w, p, c, reference=p)
        T[:, a], U[:, a], W[:, a], P[:, a], C[:, a] = t, u, w, p, c
    return NipalsPLSResult(T, U, W, P, C, Xd, iterations)
