"""infokit.optimize: the cross-entropy method on functions with known optima (and against
scipy.optimize), rare-event probabilities against closed-form Gaussian tails, seeding, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize as sopt
from scipy.stats import norm

from infokit.optimize import cross_entropy_method, rare_event_probability

TARGET = np.array([1.0, -2.0, 3.0])
SCALES = np.array([1.0, 4.0, 0.5])


def quadratic(x: np.ndarray) -> np.ndarray:
    """Anisotropic bowl with its minimum 0.5 at TARGET; works on (d,) and on (N, d)."""
    return np.sum(SCALES * (x - TARGET) ** 2, axis=-1) + 0.5


def test_cem_finds_known_minimum() -> None:
    r = cross_entropy_method(quadratic, np.zeros(3), 5.0, vectorized=True, seed=0)
    assert r.converged and r.n_evaluations == r.n_iter * 100
    np.testing.assert_allclose(r.x, TARGET, atol=1e-4)
    np.testing.assert_allclose(r.mean, TARGET, atol=1e-4)
    assert abs(r.value - 0.5) < 1e-7
    assert r.history.shape == (r.n_iter,)


@settings(max_examples=15, deadline=None)
@given(
    centre=st.lists(st.floats(-10, 10), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_cem_finds_the_centre_of_any_bowl(centre: list[float], seed: int) -> None:
    c = np.asarray(centre)
    r = cross_entropy_method(
        lambda x: np.sum((x - c) ** 2, axis=1), np.zeros(c.size), 10.0, vectorized=True, seed=seed
    )
    np.testing.assert_allclose(r.x, c, atol=1e-3)
    assert r.value == pytest.approx(float(np.sum((r.x - c) ** 2)), abs=1e-12)


def test_cem_maximize_and_per_sample_calls_agree() -> None:
    def scalar(x: np.ndarray) -> float:
        return -float(quadratic(x))

    vec = cross_entropy_method(
        lambda x: -quadratic(x), np.zeros(3), 5.0, maximize=True, vectorized=True, seed=3
    )
    one = cross_entropy_method(scalar, np.zeros(3), 5.0, maximize=True, seed=3)
    np.testing.assert_array_equal(vec.x, one.x)  # same draws, same path
    assert vec.value == one.value
    np.testing.assert_allclose(one.x, TARGET, atol=1e-4)


def test_cem_agrees_with_scipy_on_a_smooth_function() -> None:
    def f(x: np.ndarray) -> np.ndarray:
        return np.sum((x - 0.3) ** 2, axis=-1) + 0.5 * np.sin(3 * x[..., 0]) + 0.1 * x[..., 1]

    ours = cross_entropy_method(f, [0.0, 0.0], 1.0, n_samples=200, vectorized=True, seed=1)
    theirs = sopt.minimize(f, ours.x, method="Nelder-Mead", options={"xatol": 1e-10})
    np.testing.assert_allclose(ours.x, theirs.x, atol=1e-4)
    assert ours.value <= theirs.fun + 1e-8


def test_cem_rosenbrock_with_documented_settings() -> None:
    def rosen(x: np.ndarray) -> np.ndarray:
        return sopt.rosen(x.T)

    r = cross_entropy_method(
        rosen, np.zeros(2), 2.0, n_samples=500, smoothing=0.3, vectorized=True, seed=0
    )
    np.testing.assert_allclose(r.x, [1.0, 1.0], atol=0.1)


def test_cem_bounds_and_seeding() -> None:
    # The unconstrained optimum (1, -2, 3) lies outside the box: the answer sits on its faces.
    r = cross_entropy_method(quadratic, np.zeros(3), 1.0, bounds=(-1, 2), vectorized=True, seed=5)
    np.testing.assert_allclose(r.x, [1.0, -1.0, 2.0], atol=1e-4)
    again = cross_entropy_method(
        quadratic, np.zeros(3), 1.0, bounds=(-1, 2), vectorized=True, seed=5
    )
    np.testing.assert_array_equal(r.x, again.x)


def test_rare_event_gaussian_tail_coverage() -> None:
    exact = norm.sf(4.0)  # P(N(0, 1) >= 4) = 3.167e-5
    z = []
    for seed in range(30):
        r = rare_event_probability(lambda x: x[:, 0], 4.0, 0.0, 1.0, vectorized=True, seed=seed)
        assert r.levels[-1] == 4.0 and np.all(np.diff(r.levels) > 0)
        assert r.relative_error < 0.1  # plain Monte Carlo would need ~3e6 samples for this
        z.append((r.probability - exact) / r.std_error)
    z_arr = np.asarray(z)
    assert np.mean(np.abs(z_arr) < 2.5) >= 0.85
    assert abs(np.mean(z_arr)) < 1.0


def test_rare_event_sum_of_gaussians() -> None:
    # P(X1 + ... + X5 >= 12), X ~ N(0, I): the sum is N(0, 5).
    exact = norm.sf(12 / np.sqrt(5))
    r = rare_event_probability(
        lambda x: x.sum(axis=1), 12.0, np.zeros(5), 1.0, vectorized=True, seed=2
    )
    assert abs(r.probability - exact) < 4 * r.std_error
    np.testing.assert_allclose(r.mean, np.full(5, 12 / 5), atol=0.3)  # the optimal tilt direction
    # Shifted, scaled nominal: X ~ N(1, 2^2) per coordinate in 1-D.
    r1 = rare_event_probability(lambda x: x[:, 0], 9.0, 1.0, 2.0, vectorized=True, seed=4)
    assert abs(r1.probability - norm.sf(4.0)) < 4 * r1.std_error


def test_rare_event_common_event_one_level_and_scalar_calls() -> None:
    r = rare_event_probability(lambda x: x[:, 0], -1.0, 0.0, 1.0, vectorized=True, seed=0)
    assert r.levels.tolist() == [-1.0]
    assert abs(r.probability - norm.sf(-1.0)) < 4 * r.std_error
    scalar = rare_event_probability(lambda x: float(x[0]), -1.0, 0.0, 1.0, seed=0)
    assert scalar.probability == r.probability


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cross_entropy_method(quadratic, [0.0], 0.0), ValueError, "init_std must be > 0"),
        (lambda: cross_entropy_method(quadratic, [0.0, 1.0], [1.0, 1, 1]), ValueError, "shape"),
        (lambda: cross_entropy_method(quadratic, [np.nan], 1.0), ValueError, "init_mean .*NaN"),
        (
            lambda: cross_entropy_method(quadratic, [0.0], 1.0, elite_fraction=0),
            ValueError,
            r"\(0, 1\]",
        ),
        (lambda: cross_entropy_method(quadratic, [0.0], 1.0, n_samples=1), ValueError, "n_samples"),
        (lambda: cross_entropy_method("f", [0.0], 1.0), TypeError, "objective must be callable"),
        (
            lambda: cross_entropy_method(quadratic, [0.0], 1.0, bounds=(1, 0)),
            ValueError,
            "lower < upper",
        ),
        (
            lambda: cross_entropy_method(lambda x: np.ones(3), [0.0], 1.0, vectorized=True),
            ValueError,
            r"must return shape \(100,\)",
        ),
        (
            lambda: cross_entropy_method(lambda x: np.nan, [0.0], 1.0, max_iter=2),
            ValueError,
            "NaN or inf at every sample",
        ),
        (
            lambda: rare_event_probability(sum, 1.0, 0.0, 1.0, rho=1.0),
            ValueError,
            r"rho must be in \(0, 1\)",
        ),
        (
            lambda: rare_event_probability(sum, np.inf, 0.0, 1.0),
            ValueError,
            "threshold must be finite",
        ),
        (lambda: rare_event_probability(sum, 1.0, 0.0, -1.0), ValueError, "std must be > 0"),
        (lambda: rare_event_probability(sum, 1.0, [0.0, 0.0], [1.0, 1, 1]), ValueError, "shape"),
        (
            lambda: rare_event_probability(lambda x: 0.0, 1.0, 0.0, 1.0, max_levels=3),
            RuntimeError,
            "not reached in max_levels=3",
        ),
    ],
)
def test_bad_input(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]
