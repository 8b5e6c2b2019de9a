"""Choosing the number of components by cross-validation (Q²).

Rows are held out in folds, either contiguous blocks (the default, which respects time
order) or groups (every row of a group held out together). Scaling is fitted once on all
rows, as SIMCA does.

* PCA: every held-out value is predicted from the other values of its row with the
  fold's loadings (element-wise "leave one variable out" projection), so PRESS does not
  shrink automatically with more components.
* PLS: held-out responses are predicted from their X row.

``Q²cum(a) = 1 − PRESS(a) / SS`` with ``SS`` the sum of squares of the held-out scaled
values. The chosen number is the smallest whose Q²cum is within ``tolerance`` of the best.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import MonitoringInputError
from .latent import PCA, PLS
from .prediction import grouped_folds
from .scaling import Autoscaler, as_matrix

__all__ = ["CrossValidation", "contiguous_folds", "select_n_components"]


@dataclass(frozen=True)
class CrossValidation:
    """Cross-validated fit quality per number of components.

    Attributes
    ----------
    q2_cumulative : numpy.ndarray (A_max,)
        Q² with 1, 2, ... components.
    q2 : numpy.ndarray (A_max,)
        Gain in Q² of each component.
    press : numpy.ndarray (A_max,)
        Prediction error sum of squares (scaled units).
    n_components : int
        Chosen number of components.
    q2_per_variable : numpy.ndarray (V, A_max)
        Q²cum of each variable (PCA: each X column; PLS: each response).
    """

    q2_cumulative: np.ndarray
    q2: np.ndarray
    press: np.ndarray
    n_components: int
    q2_per_variable: np.ndarray


def contiguous_folds(n: int, n_folds: int) -> list[np.ndarray]:
    """``n_folds`` blocks of consecutive rows."""
    if not 2 <= n_folds <= n:
        raise MonitoringInputError(f"n_folds must be between 2 and {n}; got {n_folds}.")
    return [block for block in np.array_split(np.arange(n), n_folds) if block.size]


def _pca_press(Xs: np.ndarray, train: np.ndarray, test: np.ndarray, max_a: int) -> np.ndarray:
    """PRESS ``(K, max_a)`` of each held-out value predicted from the rest of its row."""
    model = PCA(max_a, scale=False, allow_constant=True).fit(Xs[train])
    X = Xs[test] - model.scaler_.center_
    P = model.loadings_
    K = P.shape[0]
    press = np.zeros((K, max_a))
    for a in range(1, max_a + 1):
        Pa = P[:, :a]
        gram = Pa.T @ Pa
        projected = X @ Pa
        for k in range(K):
            pk = Pa[k]
            reduced = gram - np.outer(pk, pk)
            rhs = projected - np.outer(X[:, k], pk)
            t = np.linalg.lstsq(reduced, rhs.T, rcond=None)[0]
            press[k, a - 1] = float(np.sum((X[:, k] - pk @ t) ** 2))
    return press


def select_n_components(
    X: object,
    Y: object | None = None,
    max_components: int = 10,
    *,
    n_folds: int = 7,
    groups: Sequence[object] | None = None,
    tolerance: float = 0.0,
) -> CrossValidation:
    """Cross-validate PCA (``Y`` None) or PLS models with 1..``max_components`` components.

    Parameters
    ----------
    X : array-like (n, K)
        Complete data (missing values are not supported here).
    Y : array-like (n,) or (n, M), optional
        Responses for PLS.
    max_components : int
        Largest number of components tried.
    n_folds : int
        Number of contiguous folds (ignored when ``groups`` is given).
    groups : sequence, optional
        Group of each row for grouped folds (one fold per group).
    tolerance : float
        Choose the fewest components whose Q²cum is at most this much below the best.
    """
    Xa = as_matrix(X, "X")
    if np.isnan(Xa).any():
        raise MonitoringInputError("cross-validation needs complete X (no missing values).")
    n, K = Xa.shape
    max_a = min(int(max_components), K, n - 3)
    if max_a < 1:
        raise MonitoringInputError(f"too few rows ({n}) or variables ({K}) for cross-validation.")
    folds = contiguous_folds(n, n_folds) if groups is None else grouped_folds(groups, None)
    Xs = Autoscaler.fit(Xa, allow_constant=True).transform(Xa)
    if Y is None:
        press = np.zeros((K, max_a))
        total = np.zeros(K)
        for test in folds:
            train = np.setdiff1d(np.arange(n), test)
            press += _pca_press(Xs, train, test, max_a)
            total += np.sum((Xs[test] - Xs[train].mean(axis=0)) ** 2, axis=0)
    else:
        Ya = as_matrix(Y, "Y")
        if Ya.shape[0] != n:
            raise MonitoringInputError(f"X has {n} rows but Y has {Ya.shape[0]}.")
        Ys = Autoscaler.fit(Ya).transform(Ya)
        press = np.zeros((Ys.shape[1], max_a))
        total = np.zeros(Ys.shape[1])
        for test in folds:
            train = np.setdiff1d(np.arange(n), test)
            model = PLS(max_a, scale=False, allow_constant=True).fit(Xs[train], Ys[train])
            scores = (Xs[test] - model.scaler_.center_) @ model.direct_weights_
            for a in range(1, max_a + 1):
                predicted = scores[:, :a] @ model.y_loadings_[:, :a].T + model.y_scaler_.center_
                press[:, a - 1] += np.nansum((Ys[test] - predicted) ** 2, axis=0)
            total += np.nansum((Ys[test] - Ys[train].mean(axis=0)) ** 2, axis=0)
    q2_cumulative = 1.0 - press.sum(axis=0) / total.sum()
    q2 = np.diff(np.concatenate([[0.0], q2_cumulative]))
    best = float(q2_cumulative.max())
    chosen = int(np.flatnonzero(q2_cumulative >= best - tolerance)[0]) + 1
    per_variable = 1.0 - press / np.where(total > 0, total, 1.0)[:, None]
    return CrossValidation(q2_cumulative, q2, press.sum(axis=0), chosen, per_variable)
