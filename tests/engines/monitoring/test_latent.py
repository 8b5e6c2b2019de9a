"""PCA and PLS agree with process-improve 2.2.0 where the methods coincide."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from process_improve.multivariate import methods as reference

from opencdmo.engines.monitoring import PCA, PLS, MonitoringInputError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TOL = 1e-8


def _reference_pca(X: np.ndarray, A: int) -> reference.PCA:
    scaled = reference.MCUVScaler().fit_transform(pd.DataFrame(X))
    return reference.PCA(A).fit(scaled)


def test_pca_matches_reference_on_tennessee_eastman(te_train: np.ndarray) -> None:
    """Scores, loadings, T², SPE, R² and both limits equal process-improve's to 1e-8."""
    ours = PCA(11).fit(te_train)
    ref = _reference_pca(te_train, 11)
    np.testing.assert_allclose(ours.scores_, ref.scores_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.loadings_, ref.loadings_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.t2_, ref.hotellings_t2_.to_numpy()[:, -1], rtol=TOL)
    np.testing.assert_allclose(ours.spe_, ref.spe_.to_numpy()[:, -1] ** 2, rtol=TOL)
    np.testing.assert_allclose(ours.r2_cumulative_, ref.r2_cumulative_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.r2_per_variable_, ref.r2_per_variable_.to_numpy(), atol=TOL)
    assert ours.t2_limit(0.99) == pytest.approx(ref.hotellings_t2_limit(0.99), rel=TOL)
    assert ours.spe_limit(0.99, "box") == pytest.approx(ref.spe_limit(0.99) ** 2, rel=TOL)
    np.testing.assert_allclose(ours.score_limits(0.95), np.asarray(ref.score_limit(0.95)), rtol=TOL)


def test_pca_with_missing_values_matches_reference_nipals(te_train: np.ndarray) -> None:
    """With 5 % of cells missing, the NIPALS fit equals process-improve's to 1e-8."""
    X = te_train[:120, :16].copy()
    X[np.random.default_rng(0).random(X.shape) < 0.05] = np.nan
    ours = PCA(4).fit(X)
    ref = _reference_pca(X, 4)
    np.testing.assert_allclose(ours.scores_, ref.scores_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.spe_, ref.spe_.to_numpy()[:, -1] ** 2, rtol=TOL)
    np.testing.assert_allclose(ours.t2_, ref.hotellings_t2_.to_numpy()[:, -1], rtol=TOL)


def test_pca_new_rows_with_missing_values_reproduce_training_scores(te_train: np.ndarray) -> None:
    """Projecting training rows that have gaps returns their NIPALS scores."""
    X = te_train[:200, :20].copy()
    X[np.random.default_rng(1).random(X.shape) < 0.05] = np.nan
    model = PCA(3).fit(X)
    np.testing.assert_allclose(model.transform(X), model.scores_, atol=1e-6)


def test_pls_matches_reference_on_tennessee_eastman(te_train: np.ndarray) -> None:
    """PLS of 33 X on 19 Y with 11 components equals process-improve's NIPALS to 1e-8."""
    X = te_train[:, np.r_[0:22, 41:52]]
    Y = te_train[:, 22:41]
    ours = PLS(11).fit(X, Y)
    ref = reference.PLS(11).fit(pd.DataFrame(X), pd.DataFrame(Y))
    np.testing.assert_allclose(ours.scores_, ref.scores_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.x_weights_, ref.x_weights_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.y_loadings_, ref.y_loadings_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.predict(X), ref.predictions_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.spe_, ref.spe_.to_numpy()[:, -1] ** 2, rtol=TOL)
    np.testing.assert_allclose(ours.t2_, ref.hotellings_t2_.to_numpy()[:, -1], rtol=TOL)
    np.testing.assert_allclose(ours.r2_cumulative_, ref.r2_cumulative_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.r2_per_variable_, ref.r2_per_variable_.to_numpy(), atol=TOL)
    np.testing.assert_allclose(ours.r2y_per_variable_, ref.r2y_per_variable_.to_numpy(), atol=TOL)


def test_contributions_sum_to_the_statistics(te_train: np.ndarray) -> None:
    """T², SPE and score contributions add up to T², SPE and the score of each row."""
    model = PCA(4).fit(te_train)
    rows = te_train[:10]
    np.testing.assert_allclose(model.t2_contributions(rows).sum(axis=1), model.t2(rows))
    np.testing.assert_allclose(model.spe_contributions(rows).sum(axis=1), model.spe(rows))
    np.testing.assert_allclose(
        model.score_contributions(rows, 2).sum(axis=1), model.transform(rows)[:, 1]
    )


def test_jackson_mudholkar_limit_uses_residual_eigenvalues(te_train: np.ndarray) -> None:
    """The JM limit equals the formula on the eigenvalues of the residual covariance."""
    from scipy.stats import norm

    model = PCA(11).fit(te_train)
    Xs = model.preprocess(te_train)
    lam = np.linalg.eigvalsh(np.cov(Xs, rowvar=False))[::-1][11:]
    t1, t2, t3 = lam.sum(), (lam**2).sum(), (lam**3).sum()
    h0 = 1 - 2 * t1 * t3 / (3 * t2**2)
    c = norm.ppf(0.99)
    expected = t1 * (c * np.sqrt(2 * t2 * h0**2) / t1 + 1 + t2 * h0 * (h0 - 1) / t1**2) ** (1 / h0)
    assert model.spe_limit(0.99, "jackson-mudholkar") == pytest.approx(expected, rel=1e-9)
    assert model.spe_limit(0.99, "empirical") == pytest.approx(np.quantile(model.spe_, 0.99))


def test_constant_column_is_named() -> None:
    """A constant column is refused with its name."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    X[:, 1] = 4.0
    with pytest.raises(MonitoringInputError, match=r"constant.*pressure"):
        PCA(1).fit(X, ["temperature", "pressure", "flow"])


def test_all_missing_column_is_named() -> None:
    """A column with no observed value is refused with its name."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    X[:, 2] = np.nan
    with pytest.raises(MonitoringInputError, match="flow"):
        PCA(1).fit(X, ["temperature", "pressure", "flow"])


def test_too_few_rows_for_components() -> None:
    """Asking for more components than the rows support is refused."""
    X = np.random.default_rng(0).normal(size=(4, 6))
    with pytest.raises(MonitoringInputError, match="too few observations"):
        PCA(3).fit(X)


def test_wrong_width_is_refused(te_train: np.ndarray) -> None:
    """Scoring rows with another number of variables is refused."""
    model = PCA(2).fit(te_train)
    with pytest.raises(MonitoringInputError, match=r"51 variables; the model was fitted on 52"):
        model.t2(te_train[:, :51])


def test_pls_with_missing_values_matches_reference_nipals(te_train: np.ndarray) -> None:
    """With 4 % of X missing, PLS agrees with process-improve to the NIPALS tolerance.

    Both stop when the relative change of u falls below 1.5e-8; rounding differences of
    1e-16 can move that decision by one iteration, so agreement is to 1e-7, not 1e-8.
    """
    X = te_train[:200, np.r_[0:22, 41:52]].copy()
    Y = te_train[:200, 22:26]
    X[np.random.default_rng(2).random(X.shape) < 0.04] = np.nan
    ours = PLS(3).fit(X, Y)
    ref = reference.PLS(3).fit(pd.DataFrame(X), pd.DataFrame(Y))
    np.testing.assert_allclose(ours.scores_, ref.scores_.to_numpy(), atol=1e-7)
    np.testing.assert_allclose(ours.t2_, ref.hotellings_t2_.to_numpy()[:, -1], rtol=1e-7)
    np.testing.assert_allclose(ours.spe_, ref.spe_.to_numpy()[:, -1] ** 2, rtol=1e-7)


def test_pls_vip_and_coefficients_match_reference(te_train: np.ndarray) -> None:
    """VIP and the original-unit coefficients equal process-improve's; mean VIP² is 1."""
    X, Y = te_train[:, np.r_[0:22, 41:52]], te_train[:, 22:41]
    ours = PLS(4).fit(X, Y)
    ref = reference.PLS(4).fit(pd.DataFrame(X), pd.DataFrame(Y))
    np.testing.assert_allclose(ours.vip_, np.asarray(ref.vip()), atol=1e-10)
    np.testing.assert_allclose(ours.coef_, ref.beta_coefficients_.to_numpy(), atol=1e-10)
    assert np.mean(ours.vip_**2) == pytest.approx(1.0)


def test_t2_limits_for_new_and_training_observations(te_train: np.ndarray) -> None:
    """New: A(n²−1)/(n(n−A))·F; training: A(n−1)/(n−A)·F, with F(A, n−A) at 99 %."""
    from scipy.stats import f

    model = PCA(3).fit(te_train)
    quantile = f.ppf(0.99, 3, 497)
    assert model.t2_limit(0.99) == pytest.approx(3 * 499 * 501 / (500 * 497) * quantile)
    assert model.t2_limit(0.99, "training") == pytest.approx(3 * 499 / 497 * quantile)
    with pytest.raises(MonitoringInputError, match="strictly between 0 and 1"):
        model.t2_limit(1.5)


def test_rows_with_gaps_get_finite_statistics_and_empty_rows_are_refused(
    te_train: np.ndarray,
) -> None:
    """A new row with missing cells is scored on the rest; a row with nothing is an error."""
    model = PCA(4).fit(te_train)
    rows = te_train[:3].copy()
    rows[0, [3, 10, 40]] = np.nan
    for statistic in (model.t2(rows), model.spe(rows), model.t2_contributions(rows)):
        assert np.isfinite(statistic).all()
    rows[1] = np.nan
    with pytest.raises(MonitoringInputError, match="row 1 has no observed value"):
        model.t2(rows)


def test_nipals_on_complete_data_converges_to_the_eigen_solution(te_train: np.ndarray) -> None:
    """NIPALS and the eigendecomposition give the same model on complete data."""
    direct = PCA(3).fit(te_train)
    iterative = PCA(3, algorithm="nipals").fit(te_train)
    np.testing.assert_allclose(iterative.loadings_, direct.loadings_, atol=1e-6)
    np.testing.assert_allclose(iterative.t2_, direct.t2_, rtol=1e-5)
    assert iterative.n_iterations_.max() > 1
    with pytest.raises(MonitoringInputError, match="algorithm must be"):
        PCA(3, algorithm="svd").fit(te_train)
