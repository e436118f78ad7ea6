"""infokit.scaling: power-law fits recover planted parameters, agree with scipy's curve_fit
(estimates and covariance), have the nominal coverage over seeds, and reject bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import curve_fit

from infokit.scaling import fit_power_law

TRUE_L_INF, TRUE_X0, TRUE_ALPHA = 2.0, 3e4, 0.25


def planted(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.logspace(5, 9, n)
    loss = TRUE_L_INF + (TRUE_X0 / x) ** TRUE_ALPHA
    return x, loss + noise * rng.standard_normal(n)


@settings(max_examples=25, deadline=None)
@given(
    l_inf=st.floats(0.0, 5.0),
    log10_x0=st.floats(2.0, 6.0),
    alpha=st.floats(0.05, 1.0),
)
def test_recovers_noiseless_parameters(l_inf: float, log10_x0: float, alpha: float) -> None:
    x = np.logspace(log10_x0 + 0.5, log10_x0 + 5, 15)
    loss = l_inf + (10**log10_x0 / x) ** alpha
    fit = fit_power_law(x, loss)
    np.testing.assert_allclose(fit.predict(x), loss, rtol=1e-8, atol=1e-10)
    assert abs(fit.alpha - alpha) < 1e-4 * max(1.0, alpha)
    assert abs(fit.l_inf - l_inf) < 1e-4
    assert abs(math.log(fit.x0) - log10_x0 * math.log(10)) < 1e-3


def test_pure_power_law() -> None:
    x = np.array([1e3, 1e4, 1e5, 1e6, 1e7])
    loss = (5e2 / x) ** 0.7
    fit = fit_power_law(x, loss, with_constant=False)
    assert fit.l_inf == 0.0 and fit.constant_p_value is None and fit.covariance.shape == (2, 2)
    assert math.isclose(fit.alpha, 0.7, rel_tol=1e-9) and math.isclose(fit.x0, 5e2, rel_tol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_curve_fit(seed: int) -> None:
    x, loss = planted(20, 0.01, seed)

    def model(log_x: np.ndarray, l_inf: float, log_x0: float, alpha: float) -> np.ndarray:
        return l_inf + np.exp(alpha * (log_x0 - log_x))

    popt, pcov = curve_fit(model, np.log(x), loss, p0=[1.0, 10.0, 0.5])
    fit = fit_power_law(x, loss)
    np.testing.assert_allclose([fit.l_inf, math.log(fit.x0), fit.alpha], popt, rtol=1e-6)
    np.testing.assert_allclose(fit.covariance, pcov, rtol=1e-3)


def test_weighted_fit_agrees_with_curve_fit_sigma() -> None:
    x, loss = planted(15, 0.02, 7)
    sigma = np.linspace(0.01, 0.05, 15)

    def model(log_x: np.ndarray, l_inf: float, log_x0: float, alpha: float) -> np.ndarray:
        return l_inf + np.exp(alpha * (log_x0 - log_x))

    popt, pcov = curve_fit(model, np.log(x), loss, p0=[1.0, 10.0, 0.5], sigma=sigma)
    fit = fit_power_law(x, loss, weights=1 / sigma**2)
    np.testing.assert_allclose([fit.l_inf, math.log(fit.x0), fit.alpha], popt, rtol=1e-6)
    np.testing.assert_allclose(fit.covariance, pcov, rtol=1e-3)


def test_interval_coverage_over_seeds() -> None:
    hits = np.zeros(3)
    runs = 100
    for seed in range(runs):
        fit = fit_power_law(*planted(20, 0.01, seed), confidence=0.95)
        hits += [
            fit.l_inf_ci[0] <= TRUE_L_INF <= fit.l_inf_ci[1],
            fit.x0_ci[0] <= TRUE_X0 <= fit.x0_ci[1],
            fit.alpha_ci[0] <= TRUE_ALPHA <= fit.alpha_ci[1],
        ]
    coverage = hits / runs
    assert np.all((coverage >= 0.87) & (coverage <= 1.0)), coverage


def test_reducible_loss_reading_and_constant_test() -> None:
    x, loss = planted(20, 0.005, 11)
    fit = fit_power_law(x, loss)
    np.testing.assert_allclose(fit.predict(x) - fit.l_inf, fit.reducible(x))
    target = 0.1
    size = fit.x_for_reducible(target)
    assert math.isclose(float(fit.reducible(size)), target, rel_tol=1e-12)
    assert fit.constant_p_value is not None and fit.constant_p_value < 1e-6  # L_inf = 2 is real
    # Data without a constant: the test does not reject L_inf = 0 every time.
    rng = np.random.default_rng(3)
    xs = np.logspace(3, 7, 20)
    pure = (1e2 / xs) ** 0.5 * (1 + 0.01 * rng.standard_normal(20))
    assert fit_power_law(xs, pure).constant_p_value > 0.01  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(x=[1.0, 0.0, 3.0, 4.0], loss=[1.0, 1, 1, 1]), ValueError, r"x must be > 0 .* min 0"),
        (dict(x=[1.0, -2.0, 3.0, 4.0], loss=[1.0, 1, 1, 1]), ValueError, "x must be > 0"),
        (dict(x=[1.0, 2.0, 3.0], loss=[3.0, 2, 1]), ValueError, "at least 4 points"),
        (dict(x=[1.0, 2.0, 3.0, 4.0], loss=[3.0, np.nan, 1, 1]), ValueError, "loss contains NaN"),
        (dict(x=[1.0, 2.0, 3.0, 4.0], loss=[3.0, 2, 1]), ValueError, "same length"),
        (dict(x=[1.0, 1.0, 1.0, 1.0], loss=[3.0, 2, 1, 1]), ValueError, "3 distinct values"),
        (
            dict(x=[1.0, 2.0, 3.0, 4.0], loss=[3.0, 2, 1, -1], with_constant=False),
            ValueError,
            "loss must be > 0",
        ),
        (dict(x=[1.0, 2, 3, 4], loss=[4.0, 3, 2, 1], confidence=1.0), ValueError, "confidence"),
        (dict(x=[1.0, 2, 3, 4], loss=[4.0, 3, 2, 1], weights=[1, 1, -1, 1]), ValueError, "weights"),
        (dict(x=["a", "b", "c", "d"], loss=[4.0, 3, 2, 1]), TypeError, "x must hold real numbers"),
    ],
)
def test_bad_input(kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        fit_power_law(**kwargs)  # type: ignore[arg-type]


def test_x_for_reducible_rejects_non_positive() -> None:
    fit = fit_power_law(*planted(10, 0.0, 0))
    with pytest.raises(ValueError, match="target must be a positive"):
        fit.x_for_reducible(0.0)
