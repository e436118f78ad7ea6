"""infokit.continuous against analytic truths (Gaussian MI, entropies, KL), peers on PyPI
(infomeasure's KSG and Kozachenko–Leonenko, scikit-learn's mutual_info_regression/classif),
brute-force re-derivations written here, and the numpy twin of the kNN engine."""

from __future__ import annotations

import math

import ennemi
import infomeasure
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import digamma
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

import infokit
from infokit import continuous, discrete, stats

RHO = 0.6
MI_PAIR = -0.5 * math.log(1 - RHO**2)  # nats per correlated pair


def gaussian_pairs(n: int, d: int = 1, seed: int = 0, rho: float = RHO):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))
    return (x[:, 0], y[:, 0]) if d == 1 else (x, y)


def gaussian_entropy(cov: np.ndarray) -> float:
    d = cov.shape[0]
    return 0.5 * math.log((2 * math.pi * math.e) ** d * np.linalg.det(cov))


def brute_ksg1(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """KSG algorithm 1 straight from the paper with O(n^2) distance matrices."""
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    n = len(x)
    dx = np.abs(x[:, None, :] - x[None, :, :]).max(axis=2)
    dy = np.abs(y[:, None, :] - y[None, :, :]).max(axis=2)
    dz = np.maximum(dx, dy)
    np.fill_diagonal(dz, np.inf)
    eps = np.sort(dz, axis=1)[:, k - 1]
    np.fill_diagonal(dx, np.inf)
    np.fill_diagonal(dy, np.inf)
    nx = (dx < eps[:, None]).sum(axis=1)
    ny = (dy < eps[:, None]).sum(axis=1)
    return float(digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1)))


def brute_ksg2(x: np.ndarray, y: np.ndarray, k: int) -> float:
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    n = len(x)
    dx = np.abs(x[:, None, :] - x[None, :, :]).max(axis=2)
    dy = np.abs(y[:, None, :] - y[None, :, :]).max(axis=2)
    dz = np.maximum(dx, dy)
    np.fill_diagonal(dz, np.inf)
    nbrs = np.argsort(dz, axis=1, kind="stable")[:, :k]
    rows = np.arange(n)[:, None]
    ex, ey = dx[rows, nbrs].max(axis=1), dy[rows, nbrs].max(axis=1)
    np.fill_diagonal(dx, np.inf)
    np.fill_diagonal(dy, np.inf)
    nx = (dx <= ex[:, None]).sum(axis=1)
    ny = (dy <= ey[:, None]).sum(axis=1)
    return float(digamma(k) - 1 / k + digamma(n) - np.mean(digamma(nx) + digamma(ny)))


# ---------------------------------------------------------------------------------------------
# Against the truth (bias and spread over seeds)


def test_ksg_on_correlated_gaussians_over_seeds():
    # n = 2000, k = 3: strict KSG1 is within a few percent; the seed-to-seed std is ~0.015.
    for d in (1, 2):
        values = [continuous.mutual_information(*gaussian_pairs(2000, d, s)) for s in range(5)]
        v2 = [
            continuous.mutual_information(*gaussian_pairs(2000, d, s), estimator="ksg2")
            for s in range(5)
        ]
        assert abs(np.mean(values) - d * MI_PAIR) < 0.03 * d
        assert abs(np.mean(v2) - d * MI_PAIR) < 0.03 * d
        assert np.std(values) < 0.03


def test_gaussian_and_copula_mi_truth():
    x, y = gaussian_pairs(20_000, 2, 1)
    truth = 2 * MI_PAIR
    assert continuous.mutual_information(x, y, estimator="gaussian") == pytest.approx(
        truth, abs=0.01
    )
    # The copula is invariant to monotone transforms of each column.
    got = continuous.mutual_information(np.exp(x), y**3, estimator="copula")
    assert got == pytest.approx(truth, abs=0.01)


def test_copula_matches_the_ince_formulas():
    # Gaussian-copula CMI as Ince et al. (2017) write it (frites' gccmi): copula-normalise with
    # scipy's norm.ppf of rank / (n + 1), entropies from Cholesky factors with the bias
    # correction; frites itself needs heavy dependencies (mne), so it is not a test peer. (A
    # local run against frites 0.4.6's gcmi/gccmi agreed to 1e-15.)
    import scipy.stats

    rng = np.random.default_rng(30)
    n = 1500
    z = rng.normal(size=(n, 1))
    x = np.exp(z + rng.normal(size=(n, 2)))
    y = (x[:, :1] + z) ** 3 + rng.normal(size=(n, 1))

    def copnorm(a):
        return scipy.stats.norm.ppf(scipy.stats.rankdata(a, axis=0) / (n + 1))

    def entropy_bc(*blocks):
        a = np.hstack(blocks)
        d = a.shape[1]
        c = np.cov(a, rowvar=False).reshape(d, d)
        h = np.sum(np.log(np.diag(np.linalg.cholesky(c))))
        psi = digamma((n - np.arange(1, d + 1)) / 2) / 2
        return h - d * (math.log(2) - math.log(n - 1)) / 2 - psi.sum()

    cx, cy, cz = copnorm(x), copnorm(y), copnorm(z)
    want = entropy_bc(cx, cz) + entropy_bc(cy, cz) - entropy_bc(cx, cy, cz) - entropy_bc(cz)
    got = continuous.mutual_information(x, y, given=z, estimator="copula")
    assert got == pytest.approx(want, rel=1e-10)
    want_mi = entropy_bc(cx) + entropy_bc(cy) - entropy_bc(cx, cy)
    assert continuous.mutual_information(x, y, estimator="copula") == pytest.approx(
        want_mi, rel=1e-10
    )


@pytest.mark.parametrize("metric", ["chebyshev", "euclidean"])
def test_entropy_truths(metric):
    rng = np.random.default_rng(2)
    cov = np.array([[1.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.5]])
    x = rng.multivariate_normal(np.zeros(3), cov, size=10_000)
    assert continuous.entropy(x, metric=metric) == pytest.approx(gaussian_entropy(cov), abs=0.05)
    u = rng.uniform(0, 2, size=(10_000, 2))  # H = log 4
    assert continuous.entropy(u, metric=metric) == pytest.approx(math.log(4), abs=0.05)
    e = rng.exponential(2.0, 10_000)  # H = 1 + log 2
    assert continuous.entropy(e, metric=metric) == pytest.approx(1 + math.log(2), abs=0.05)
    assert continuous.entropy(e, metric=metric, base=2) == pytest.approx(
        continuous.entropy(e, metric=metric) / math.log(2), rel=1e-12
    )


def test_kl_divergence_truth():
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, size=(5000, 2))
    y = rng.normal(0.5, 1.5, size=(6000, 2))
    # D(N(0, I) || N(m, s^2 I)) in 2-D
    s2, m = 1.5**2, 0.5
    truth = 0.5 * (2 / s2 + 2 * m**2 / s2 - 2 + 2 * math.log(s2))
    assert continuous.kl_divergence(x, y) == pytest.approx(truth, abs=0.05)
    assert continuous.kl_divergence(x, y, k=4, metric="chebyshev") == pytest.approx(truth, abs=0.05)


def test_renyi_and_tsallis_truth():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(10_000, 2))
    for alpha in (0.5, 2.0):
        truth = math.log(2 * math.pi) + math.log(alpha) / (alpha - 1)  # d = 2, Sigma = I
        assert continuous.renyi_entropy(x, alpha) == pytest.approx(truth, abs=0.05)
        integral = math.exp((1 - alpha) * truth)
        assert continuous.tsallis_entropy(x, alpha) == pytest.approx(
            (1 - integral) / (alpha - 1),
            rel=0.03,  # S = (1 - e^{(1-a)H})/(a-1) amplifies errors
        )
    assert continuous.renyi_entropy(x, 1.0) == continuous.entropy(x, metric="euclidean")
    assert continuous.tsallis_entropy(x, 1.0) == continuous.entropy(x, metric="euclidean")


def test_transfer_entropy_of_a_linear_coupling():
    rng = np.random.default_rng(5)
    n, a = 4000, 0.8
    s = rng.normal(size=n)
    t = np.empty(n)
    t[0] = 0.0
    t[1:] = a * s[:-1] + rng.normal(size=n - 1)
    truth = 0.5 * math.log(1 + a**2)
    assert continuous.transfer_entropy(s, t) == pytest.approx(truth, abs=0.04)
    assert continuous.transfer_entropy(s, t, estimator="gaussian") == pytest.approx(truth, abs=0.02)
    assert abs(continuous.transfer_entropy(t, s)) < 0.03  # no coupling back


# ---------------------------------------------------------------------------------------------
# Against peers and brute force


def test_ksg1_matches_infomeasure_and_brute_force():
    x, y = gaussian_pairs(600, 2, 6)
    got = continuous.mutual_information(x, y, k=4)
    assert got == pytest.approx(brute_ksg1(x, y, 4), rel=1e-12)
    # infomeasure's KSG type I is strict (nextafter), as the paper.
    peer = infomeasure.mutual_information(x, y, approach="ksg", k=4, noise_level=0)
    assert got == pytest.approx(peer, rel=1e-10)
    x1, y1 = gaussian_pairs(600, 1, 7)
    assert continuous.mutual_information(x1, y1) == pytest.approx(brute_ksg1(x1, y1, 3), rel=1e-12)


def test_ksg1_cmi_and_entropy_match_ennemi():
    # ennemi shrinks radii by an absolute 1e-12 (unit-scale data assumed) and rescales unless
    # preprocess=False: on unit-scale data it agrees to ~1e-6.
    rng = np.random.default_rng(25)
    x, y, z = rng.normal(size=(3, 3000))
    y = 0.6 * x + 0.8 * y

    def scalar(v):
        return float(np.asarray(v).ravel()[0])

    peer = scalar(ennemi.estimate_mi(y, x, k=3, preprocess=False))
    assert continuous.mutual_information(x, y) == pytest.approx(peer, abs=1e-5)
    peer = scalar(ennemi.estimate_mi(y + z, x + z, k=3, cond=z, preprocess=False))
    assert continuous.mutual_information(x + z, y + z, given=z) == pytest.approx(peer, abs=1e-5)
    assert continuous.entropy(x) == pytest.approx(scalar(ennemi.estimate_entropy(x, k=3)), abs=1e-5)


def test_ksg2_matches_brute_force():
    x, y = gaussian_pairs(500, 2, 8)
    got = continuous.mutual_information(x, y, estimator="ksg2")
    assert got == pytest.approx(brute_ksg2(x, y, 3), rel=1e-12)


def test_ksg1_matches_sklearn_regression():
    x, y = gaussian_pairs(3000, 1, 9)
    # scikit-learn rescales x and adds 1e-10 noise: the same counts up to rare near-ties.
    peer = mutual_info_regression(x[:, None], y, n_neighbors=3, random_state=0)[0]
    assert continuous.mutual_information(x, y) == pytest.approx(peer, abs=1e-3)


@pytest.mark.parametrize("metric, p", [("chebyshev", np.inf), ("euclidean", 2)])
def test_entropy_matches_infomeasure(metric, p):
    x = np.random.default_rng(10).normal(size=(2000, 3))
    peer = infomeasure.entropy(x, approach="metric", k=3, minkowski_p=p, noise_level=0)
    assert continuous.entropy(x, metric=metric) == pytest.approx(peer, rel=1e-10)


def test_conditional_mi_matches_brute_force_and_chain_rule():
    rng = np.random.default_rng(11)
    n, k = 500, 3
    z = rng.normal(size=n)
    x = z + rng.normal(size=n)
    y = x + z + rng.normal(size=n)
    got = continuous.mutual_information(x, y, given=z, k=k)
    pts = np.stack([x, y, z], axis=1)
    dxyz = np.abs(pts[:, None] - pts[None]).max(axis=2)
    np.fill_diagonal(dxyz, np.inf)
    eps = np.sort(dxyz, axis=1)[:, k - 1][:, None]

    def strict_count(cols):
        d = np.abs(pts[:, None, cols] - pts[None, :, cols]).max(axis=2)
        np.fill_diagonal(d, np.inf)
        return (d < eps).sum(axis=1)

    want = digamma(k) - np.mean(
        digamma(strict_count([0, 2]) + 1)
        + digamma(strict_count([1, 2]) + 1)
        - digamma(strict_count([2]) + 1)
    )
    assert got == pytest.approx(want, rel=1e-12)


def test_mixed_mi_matches_sklearn_classif():
    rng = np.random.default_rng(12)
    labels = rng.integers(0, 4, 3000)
    c = labels + rng.normal(size=3000)
    labels[0] = 9  # a singleton class, dropped as scikit-learn does
    peer = mutual_info_classif(c[:, None], labels, n_neighbors=3, random_state=0)[0]
    got = continuous.mutual_information(labels, c, discrete_x=True)
    assert got == pytest.approx(peer, abs=1e-3)
    assert continuous.mutual_information(c, labels, discrete_y=True) == got
    both = continuous.mutual_information(labels, labels % 2, discrete_x=True, discrete_y=True)
    assert both == discrete.mutual_information(labels, labels % 2)


def test_feature_mutual_information_matches_per_column_and_sklearn():
    rng = np.random.default_rng(13)
    X = rng.normal(size=(2000, 4))
    y = X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=2000)
    got = continuous.feature_mutual_information(X, y)
    want = [continuous.mutual_information(X[:, j], y) for j in range(4)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # scikit-learn scales every column and y to unit variance (KSG's max-norm is not scale
    # invariant) and clips at 0: do the same here.
    peer = mutual_info_regression(X, y, n_neighbors=3, random_state=0)
    scaled = continuous.feature_mutual_information(X / X.std(axis=0), y / y.std())
    np.testing.assert_allclose(np.maximum(scaled, 0), peer, atol=1e-3)
    labels = (y > 0).astype(int)
    got_c = continuous.feature_mutual_information(X, labels, discrete_y=True)
    want_c = [continuous.mutual_information(X[:, j], labels, discrete_y=True) for j in range(4)]
    np.testing.assert_allclose(got_c, want_c, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Backends, threads, dtypes, layouts, local values


def test_every_estimator_agrees_on_both_backends(backend):
    x, y = gaussian_pairs(800, 2, 14)
    z = np.random.default_rng(15).normal(size=800)
    labels = (x[:, 0] > 0).astype(int)
    results = [
        continuous.entropy(x),
        continuous.entropy(x, metric="euclidean"),
        continuous.mutual_information(x, y),
        continuous.mutual_information(x, y, estimator="ksg2"),
        continuous.mutual_information(x, y, given=z),
        continuous.mutual_information(labels, y, discrete_x=True),
        continuous.kl_divergence(x, y),
        continuous.renyi_entropy(x, 2.0),
    ]
    with infokit.threads(1):
        expected = [
            continuous.entropy(x, backend="numpy"),
            continuous.entropy(x, metric="euclidean", backend="numpy"),
            continuous.mutual_information(x, y, backend="numpy"),
            continuous.mutual_information(x, y, estimator="ksg2", backend="numpy"),
            continuous.mutual_information(x, y, given=z, backend="numpy"),
            continuous.mutual_information(labels, y, discrete_x=True, backend="numpy"),
            continuous.kl_divergence(x, y, backend="numpy"),
            continuous.renyi_entropy(x, 2.0, backend="numpy"),
        ]
    np.testing.assert_allclose(results, expected, rtol=1e-12)


def test_threads_give_identical_results():
    x, y = gaussian_pairs(12_000, 1, 16)
    with infokit.threads(1):
        one = continuous.mutual_information(x, y, local=True)
    with infokit.threads(2):
        two = continuous.mutual_information(x, y, local=True)
    np.testing.assert_array_equal(one, two)


def test_local_values_average_to_the_estimate():
    x, y = gaussian_pairs(700, 1, 17)
    z = np.random.default_rng(18).normal(size=700)
    for kwargs in ({}, {"estimator": "ksg2"}, {"given": z}, {"estimator": "gaussian"}):
        loc = continuous.mutual_information(x, y, local=True, **kwargs)
        assert loc.shape == (700,)
        assert loc.mean() == pytest.approx(continuous.mutual_information(x, y, **kwargs), rel=1e-9)
    loc = continuous.entropy(x, local=True, base=2)
    assert loc.mean() == pytest.approx(continuous.entropy(x, base=2), rel=1e-12)
    loc = continuous.kl_divergence(x, y, local=True)
    assert loc.mean() == pytest.approx(continuous.kl_divergence(x, y), rel=1e-12)


def test_float32_readonly_and_noncontiguous_inputs():
    x, y = gaussian_pairs(900, 2, 19)
    ref = continuous.mutual_information(x[:, 0], y[:, 1])
    xr = x.copy()
    xr.flags.writeable = False
    assert continuous.mutual_information(xr[:, 0], y[:, 1]) == ref  # read-only, strided
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    loc = continuous.mutual_information(x32, y32, local=True)
    assert loc.dtype == np.float32
    want = continuous.mutual_information(x32.astype(np.float64), y32.astype(np.float64))
    assert float(loc.astype(np.float64).mean()) == pytest.approx(want, rel=1e-6)
    assert isinstance(continuous.mutual_information(x32, y32), float)


# ---------------------------------------------------------------------------------------------
# Properties


def test_ksg_symmetric_and_nearly_invariant_to_monotone_maps():
    x, y = gaussian_pairs(2000, 1, 20)
    a = continuous.mutual_information(x, y)
    assert continuous.mutual_information(y, x) == pytest.approx(a, rel=1e-12)
    # Max-norm neighbourhoods change under non-linear maps, so only approximately invariant.
    assert continuous.mutual_information(np.exp(x), y**3) == pytest.approx(a, abs=0.05)
    # Strictly order-preserving affine maps of both columns by the same factor: identical.
    assert continuous.mutual_information(4 * x + 1, 4 * y - 2) == pytest.approx(a, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), rho=st.floats(-0.99, 0.99), d=st.integers(1, 3))
def test_gaussian_estimator_is_non_negative(seed, rho, d):
    x, y = gaussian_pairs(50, d, seed, rho)
    if d == 1:
        x, y = x[:, None], y[:, None]
    assert continuous.mutual_information(x, y, estimator="gaussian") >= 0.0


def test_constant_column_has_zero_ksg_mi():
    y = np.random.default_rng(21).normal(size=1000)
    assert continuous.mutual_information(np.zeros(1000), y) == pytest.approx(0.0, abs=1e-12)


def test_permutation_test_reuses_structures_and_matches_generic_test():
    x, y = gaussian_pairs(300, 1, 22)
    fast = continuous.mutual_information_test(x, y, n_permutations=30, seed=1)
    slow = stats.permutation_test(continuous.mutual_information, x, y, n_permutations=30, seed=1)
    assert fast.value == pytest.approx(slow.value, rel=1e-12)
    np.testing.assert_allclose(fast.null, slow.null, rtol=1e-12)
    assert fast.p_value == slow.p_value < 0.05


# ---------------------------------------------------------------------------------------------
# Ties, duplicates, identical inputs, bad input


def test_duplicates_raise_unless_jitter():
    x = np.repeat(np.arange(100.0), 5)
    with pytest.raises(ValueError, match=r"distance 0 .* pass jitter="):
        continuous.entropy(x)
    with pytest.raises(ValueError, match="distance 0"):
        continuous.mutual_information(x, x % 7)
    h1 = continuous.entropy(x, jitter=1e-6, seed=3)
    assert np.isfinite(h1) and h1 == continuous.entropy(x, jitter=1e-6, seed=3)
    # Tied data do not inflate MI: noise scaled to the column's spread, independent columns.
    rng = np.random.default_rng(23)
    a, b = rng.integers(0, 3, 5000).astype(float), rng.integers(0, 3, 5000).astype(float)
    assert abs(continuous.mutual_information(a, b, jitter=1e-6)) < 0.02


def test_identical_inputs_warn():
    x = np.random.default_rng(24).normal(size=300)
    with pytest.warns(RuntimeWarning, match="I\\(X;X\\) is infinite"):
        continuous.mutual_information(x, x)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: continuous.entropy([1.0, np.nan, 2.0, 3.0]), ValueError, "x contains NaN or inf"),
        (lambda: continuous.entropy(np.arange(4.0), k=4), ValueError, "k must be smaller than"),
        (lambda: continuous.entropy(np.arange(4.0), k=0), ValueError, "k must be >= 1"),
        (lambda: continuous.entropy(np.arange(4.0), k=1.5), TypeError, "k must be an int"),
        (
            lambda: continuous.mutual_information(np.arange(5.0), np.arange(6.0)),
            ValueError,
            "x has 5, y has 6",
        ),
        (lambda: continuous.entropy(np.zeros((5, 0))), ValueError, "at least one column"),
        (lambda: continuous.entropy(np.zeros(5, np.float16)), TypeError, "float16"),
        (lambda: continuous.entropy(np.zeros(5, complex)), TypeError, "x must be real"),
        (lambda: continuous.entropy(np.zeros((2, 2, 2))), ValueError, r"1-D .* or 2-D"),
        (lambda: continuous.entropy(np.zeros(5)), ValueError, "distance 0"),
        (lambda: continuous.entropy(np.arange(5.0), metric="l1"), ValueError, "metric must be"),
        (
            lambda: continuous.mutual_information(
                np.arange(5.0), np.arange(5.0)[::-1], estimator="x"
            ),
            ValueError,
            "estimator must be one of",
        ),
        (
            lambda: continuous.mutual_information(
                np.zeros(9), np.arange(9.0), estimator="gaussian"
            ),
            ValueError,
            "singular",
        ),
        (lambda: continuous.entropy(np.arange(9.0), jitter=-1), ValueError, "jitter must be"),
        (
            lambda: continuous.kl_divergence(np.arange(9.0), np.zeros(4)),
            ValueError,
            "distance 0 in y",
        ),
        (lambda: continuous.renyi_entropy(np.arange(9.0), 5.0), ValueError, "alpha must be in"),
        (
            lambda: continuous.kl_divergence(np.zeros((5, 2)), np.zeros((5, 3))),
            ValueError,
            "same number of columns",
        ),
        (
            lambda: continuous.transfer_entropy(np.arange(3.0), np.arange(3.0), history=2),
            ValueError,
            "too short",
        ),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
