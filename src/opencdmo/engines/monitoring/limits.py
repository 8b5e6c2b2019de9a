"""Control limits for Hotelling's T² and the squared prediction error (SPE).

Conventions (SIMCA and Nomikos–MacGregor):

* T² of an observation is ``sum_a (t_a / s_a)²`` with ``s_a`` the sample standard deviation
  (``ddof=1``) of the training scores of component ``a``.
* The T² limit for a **new** observation is ``A (n−1)(n+1) / (n (n−A)) · F(A, n−A)``; for a
  **training** observation it is ``A (n−1) / (n−A) · F(A, n−A)``.
* SPE is the sum of squared residuals of an observation (not its square root).
* SPE limits: ``"jackson-mudholkar"`` from the eigenvalues of the residual covariance,
  ``"box"`` (weighted chi-square ``g·χ²(h)`` matched to the mean and variance of the training
  SPE; Box 1954, Nomikos and MacGregor 1995) and ``"empirical"`` (the training SPE quantile,
  linear interpolation).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .errors import MonitoringInputError

__all__ = [
    "SpeLimitMethod",
    "T2LimitKind",
    "box_spe_limit",
    "check_confidence",
    "empirical_limit",
    "jackson_mudholkar_spe_limit",
    "t2_limit",
]

SpeLimitMethod = Literal["jackson-mudholkar", "box", "empirical"]
T2LimitKind = Literal["new", "training"]


def check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float after checking it lies strictly between 0 and 1."""
    value = float(confidence)
    if not 0.0 < value < 1.0:
        raise MonitoringInputError(
            f"confidence must lie strictly between 0 and 1; got {confidence}."
        )
    return value


def t2_limit(
    n_components: int, n_observations: int, confidence: float = 0.95, kind: T2LimitKind = "new"
) -> float:
    """Hotelling's T² limit from the F distribution.

    Parameters
    ----------
    n_components : int
        Number of components ``A``.
    n_observations : int
        Number of training observations ``n`` (batches for a batch-wise model).
    confidence : float
        Confidence level, e.g. 0.95 or 0.99.
    kind : {"new", "training"}
        ``"new"``: ``A(n−1)(n+1)/(n(n−A))·F``, for observations not used in the fit (the
        default, used for monitoring). ``"training"``: ``A(n−1)/(n−A)·F``.

    Returns
    -------
    float
        The limit.
    """
    from scipy.stats import f

    level = check_confidence(confidence)
    A, n = int(n_components), int(n_observations)
    if A < 1 or n - A < 1:
        raise MonitoringInputError(
            f"a T² limit needs at least one more observation than components; got {n} observations "
            f"for {A} components."
        )
    quantile = float(f.ppf(level, A, n - A))
    if kind == "new":
        return A * (n - 1) * (n + 1) / (n * (n - A)) * quantile
    if kind == "training":
        return A * (n - 1) / (n - A) * quantile
    raise MonitoringInputError(f"kind must be 'new' or 'training'; got {kind!r}.")


def box_spe_limit(spe_values: np.ndarray, confidence: float = 0.95) -> float:
    """SPE limit ``g·χ²_h`` with ``g = var/(2·mean)``, ``h = 2·mean²/var`` of the training SPE.

    Parameters
    ----------
    spe_values : numpy.ndarray
        Training SPE values (sums of squares), at least two.
    confidence : float
        Confidence level.
    """
    from scipy.stats import chi2

    level = check_confidence(confidence)
    values = np.asarray(spe_values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        raise MonitoringInputError("an SPE limit needs at least two training SPE values.")
    mean = float(values.mean())
    variance = float(values.var(ddof=1))
    if mean <= 0.0:
        return 0.0
    if np.sqrt(variance) <= np.sqrt(np.finfo(float).eps) * mean:
        return mean
    g = variance / (2.0 * mean)
    h = 2.0 * mean**2 / variance
    return float(g * chi2.ppf(level, h))


def jackson_mudholkar_spe_limit(
    residual_eigenvalues: np.ndarray | tuple[float, float, float], confidence: float = 0.95
) -> float:
    """Jackson–Mudholkar (1979) SPE limit.

    Parameters
    ----------
    residual_eigenvalues : numpy.ndarray or (theta1, theta2, theta3)
        Either the eigenvalues of the residual covariance matrix (those of components
        ``A+1 ... K``), or their sums of first, second and third powers.
    confidence : float
        Confidence level.
    """
    from scipy.stats import norm

    level = check_confidence(confidence)
    if isinstance(residual_eigenvalues, tuple):
        theta1, theta2, theta3 = (float(v) for v in residual_eigenvalues)
    else:
        lam = np.clip(np.asarray(residual_eigenvalues, dtype=float), 0.0, None)
        theta1, theta2, theta3 = float(lam.sum()), float((lam**2).sum()), float((lam**3).sum())
    if theta1 <= 0.0 or theta2 <= 0.0:
        return 0.0
    h0 = 1.0 - 2.0 * theta1 * theta3 / (3.0 * theta2**2)
    if h0 <= 0.0:
        raise MonitoringInputError(
            "the Jackson–Mudholkar SPE limit is undefined here (h0 <= 0); use method='box'."
        )
    c_alpha = float(norm.ppf(level))
    term = (
        c_alpha * np.sqrt(2.0 * theta2 * h0**2) / theta1
        + 1.0
        + theta2 * h0 * (h0 - 1.0) / theta1**2
    )
    return float(theta1 * term ** (1.0 / h0))


def empirical_limit(values: np.ndarray, confidence: float = 0.95) -> float:
    """The ``confidence`` quantile of training statistic values (linear interpolation)."""
    level = check_confidence(confidence)
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        raise MonitoringInputError("an empirical limit needs at least one training value.")
    return float(np.quantile(finite, level))
