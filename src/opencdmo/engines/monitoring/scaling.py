"""Column centring and scaling with the SIMCA convention (mean, sample standard deviation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import MonitoringInputError

__all__ = ["Autoscaler", "as_matrix", "variable_names"]


def variable_names(names: Sequence[str] | None, n_columns: int, prefix: str = "x") -> list[str]:
    """Return ``names`` checked against ``n_columns``, or ``x1, x2, ...`` when none are given."""
    if names is None:
        return [f"{prefix}{k + 1}" for k in range(n_columns)]
    out = [str(name) for name in names]
    if len(out) != n_columns:
        raise MonitoringInputError(f"{len(out)} variable names given for {n_columns} columns.")
    return out


def as_matrix(data: object, what: str = "X") -> np.ndarray:
    """Return ``data`` as a 2-D float array (a 1-D input becomes one column).

    Raises
    ------
    MonitoringInputError
        If the data are not numeric, not 1-D or 2-D, empty, or hold an infinite value.
    """
    try:
        array = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise MonitoringInputError(f"{what} must be numeric: {exc}") from exc
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        raise MonitoringInputError(
            f"{what} must be 2-D (rows x variables); got {array.ndim} dimensions."
        )
    if array.size == 0:
        raise MonitoringInputError(f"{what} is empty: shape {array.shape}.")
    if np.isinf(array).any():
        row, col = np.argwhere(np.isinf(array))[0]
        raise MonitoringInputError(f"{what} holds an infinite value at row {row}, column {col}.")
    return array


@dataclass(frozen=True)
class Autoscaler:
    """Centre each column on its mean and divide it by its sample standard deviation.

    Missing values (NaN) are skipped when the statistics are computed and stay NaN when
    transformed. ``scale_`` is 1 where ``scale=False`` was asked for.

    Attributes
    ----------
    center_ : numpy.ndarray
        Column means.
    scale_ : numpy.ndarray
        Column sample standard deviations (``ddof=1``), or ones.
    """

    center_: np.ndarray
    scale_: np.ndarray

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        *,
        scale: bool = True,
        names: Sequence[str] | None = None,
        allow_constant: bool = False,
        min_scale: np.ndarray | None = None,
    ) -> Autoscaler:
        """Compute the centring and scaling of ``X``.

        Parameters
        ----------
        X : numpy.ndarray of shape (n_rows, n_columns)
            Training data; NaN marks a missing value.
        scale : bool
            Divide by the sample standard deviation (``True``) or only centre.
        names : sequence of str, optional
            Column names used in error messages.
        allow_constant : bool
            When true, a constant column is centred and left unscaled (it then
            transforms to zero and carries no weight), as in a batch-wise unfolded
            matrix where a set-point is the same in every batch at some time. When
            false, a constant column is an error.
        min_scale : numpy.ndarray, optional
            Smallest scale of each column; a constant column is scaled by it where it is
            positive.

        Raises
        ------
        MonitoringInputError
            If a column has fewer than two observed values, or is constant and
            ``allow_constant`` is false.
        """
        labels = variable_names(names, X.shape[1])
        observed = np.sum(~np.isnan(X), axis=0)
        too_few = np.flatnonzero(observed < 2)
        if too_few.size:
            shown = ", ".join(labels[k] for k in too_few[:5])
            raise MonitoringInputError(
                f"{too_few.size} column(s) have fewer than two observed values (all missing or one "
                f"value): {shown}."
            )
        if np.isnan(X).any():
            center = np.nanmean(X, axis=0)
            spread = np.nanstd(X, axis=0, ddof=1)
            constant = np.nanmax(X, axis=0) == np.nanmin(X, axis=0)
        else:
            center = X.mean(axis=0)
            spread = X.std(axis=0, ddof=1)
            constant = X.max(axis=0) == X.min(axis=0)
        if constant.any():
            if not allow_constant:
                shown = ", ".join(labels[k] for k in np.flatnonzero(constant)[:5])
                raise MonitoringInputError(
                    f"{int(constant.sum())} column(s) are constant and cannot be scaled: {shown}. "
                    "Remove them before fitting."
                )
            center = np.where(constant, np.nanmax(X, axis=0), center)
        flat = constant | ~(spread > 0.0)
        scale_ = np.where(flat, 1.0, spread) if scale else np.ones(X.shape[1])
        if scale and min_scale is not None:
            floor = np.broadcast_to(np.asarray(min_scale, dtype=float), scale_.shape)
            scale_ = np.where(flat, np.where(floor > 0, floor, 1.0), np.maximum(scale_, floor))
        return cls(center_=center, scale_=scale_)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Return ``(X - center_) / scale_`` as a new array."""
        if X.shape[-1] != self.center_.shape[0]:
            raise MonitoringInputError(
                f"X has {X.shape[-1]} columns; the model was fitted on {self.center_.shape[0]}."
            )
        out = X - self.center_
        out /= self.scale_
        return out

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """Return ``X * scale_ + center_``."""
        return X * self.scale_ + self.center_
