"""infokit.matrix against closed forms, scikit-learn's kernels, scipy, dense numpy formulas written
here from the definitions, and its numpy twins; invariances and limits; properties with
hypothesis; dtypes, layouts, threads; bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import pdist
from scipy.stats import ortho_group
from sklearn.metrics.pairwise import rbf_kernel

import infokit
from infokit import _backend
from infokit import matrix as mx
from infokit._reference import matrix as ref


def core():
    mod = _backend.compiled("_core")
    if mod is None:
        pytest.skip("no compiled backend")
    return mod


def gamma(sigma):
    return 1.0 / (2.0 * sigma * sigma)


def centring(n):
    return np.eye(n) - np.ones((n, n)) / n


def entropy_of(eigenvalues):
    lam = np.clip(eigenvalues, 0.0, None)
    lam = lam[lam > 1e-300] / lam.sum()
    return float(-(lam * np.log(lam)).sum())


RNG = np.random.default_rng(20261127)
X = RNG.normal(size=(90, 6))
Y = np.tanh(X[:, :3]) + 0.3 * RNG.normal(size=(90, 3))
W = RNG.normal(size=(70, 6)) + 0.4


# --- the tiled kernels against scikit-learn's rbf_kernel ----------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n", "m", "d"), [(2, 3, 1), (300, 257, 5), (129, 40, 100), (17, 600, 2)])
def test_kernel_sums_match_sklearn(dtype, n, m, d):
    rng = np.random.default_rng(n + m + d)
    x = rng.normal(size=(n, d)).astype(dtype)
    y = (rng.normal(size=(m, d)) + 0.3).astype(dtype)
    g = 0.5 / d
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    for mod in (core(), ref):
        assert mod.gaussian_cross_sum(x, y, g, 2) == pytest.approx(
            rbf_kernel(x64, y64, gamma=g).sum(), rel=1e-12
        )
        assert mod.gaussian_self_sum(x, g, 2) == pytest.approx(
            rbf_kernel(x64, gamma=g).sum(), rel=1e-12
        )
        gram = mod.gaussian_gram(y, g, 2)
        np.testing.assert_allclose(gram, rbf_kernel(y64, gamma=g), rtol=1e-12, atol=1e-15)
        assert (gram == gram.T).all()
        assert (np.diag(gram) == 1.0).all()


# (1700, 100, 2): 22 column blocks, so more block pairs than the kernel's 8 accumulation lanes
@pytest.mark.parametrize(
    ("n", "dx", "dy"), [(2, 1, 1), (300, 5, 100), (513, 64, 3), (1700, 100, 2)]
)
def test_paired_sums_match_sklearn(n, dx, dy):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=(n, dx)), rng.normal(size=(n, dy))
    k, lm = rbf_kernel(x, gamma=0.3 / dx), rbf_kernel(y, gamma=0.2 / dy)
    for mod in (core(), ref) if n < 1000 else (core(),):  # the twin is slow at n = 1700
        kl, kk, ll, k_rows, l_rows = mod.gaussian_paired_sums(x, y, 0.3 / dx, 0.2 / dy, 2)
        assert kl == pytest.approx((k * lm).sum(), rel=1e-12)
        assert kk == pytest.approx((k * k).sum(), rel=1e-12)
        assert ll == pytest.approx((lm * lm).sum(), rel=1e-12)
        np.testing.assert_allclose(k_rows, k.sum(axis=1), rtol=1e-12)
        np.testing.assert_allclose(l_rows, lm.sum(axis=1), rtol=1e-12)


def test_kernels_identical_under_one_and_two_threads():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(700, 7)), rng.normal(size=(650, 3))
    mod = core()
    for call in (
        lambda t: mod.gaussian_cross_sum(x, x[:650], 0.1, t),
        lambda t: mod.gaussian_self_sum(x, 0.1, t),
        lambda t: mod.gaussian_paired_sums(x[:650], y, 0.1, 0.2, t)[:3],
    ):
        assert call(1) == call(2)
    wide = np.random.default_rng(6).normal(size=(2100, 100))
    one, two = (
        mod.gaussian_paired_sums(wide, np.ascontiguousarray(wide[:, :2]), 0.01, 0.3, t)
        for t in (1, 2)
    )
    assert one[:3] == two[:3]
    np.testing.assert_array_equal(one[3], two[3])
    np.testing.assert_array_equal(one[4], two[4])
    np.testing.assert_array_equal(mod.gaussian_gram(y, 0.2, 1), mod.gaussian_gram(y, 0.2, 2))


def test_public_results_identical_under_threads():
    with infokit.threads(1):
        one = (mx.mmd(X, W), mx.hsic(X, Y), mx.cka(X, Y, kernel="rbf"))
    with infokit.threads(2):
        two = (mx.mmd(X, W), mx.hsic(X, Y), mx.cka(X, Y, kernel="rbf"))
    assert one == two


# (600, 300, 64): 3 and 2 column blocks, so self tasks of x and y and cross tasks all present
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n", "m", "d"), [(2, 3, 1), (300, 257, 5), (600, 300, 64)])
def test_two_sample_sums_are_the_three_sums(dtype, n, m, d):
    rng = np.random.default_rng(n * m + d)
    x = rng.normal(size=(n, d)).astype(dtype)
    y = (rng.normal(size=(m, d)) + 0.2).astype(dtype)
    g = 0.5 / d
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    expected = (rbf_kernel(x64, gamma=g).sum(), rbf_kernel(y64, gamma=g).sum())
    expected += (rbf_kernel(x64, y64, gamma=g).sum(),)
    for mod in (core(), ref):
        fused = mod.gaussian_two_sample_sums(x, y, g, 2)
        assert fused == pytest.approx(expected, rel=1e-12)
        # the fused pass runs the separate kernels' tasks: the same sums bit for bit
        separate = (
            mod.gaussian_self_sum(x, g, 1),
            mod.gaussian_self_sum(y, g, 1),
            mod.gaussian_cross_sum(x, y, g, 1),
        )
        assert fused == separate
        assert mod.gaussian_two_sample_sums(x, y, g, 1) == fused


def test_kernels_reject_bad_shapes():
    mod = core()
    with pytest.raises(ValueError, match="same number of columns"):
        mod.gaussian_cross_sum(np.zeros((3, 2)), np.zeros((3, 3)), 1.0)
    for m in (core(), ref):
        with pytest.raises(ValueError, match="same number of columns"):
            m.gaussian_two_sample_sums(np.zeros((3, 2)), np.zeros((3, 3)), 1.0)
    with pytest.raises(ValueError, match="same number of rows"):
        mod.gaussian_paired_sums(np.zeros((3, 2)), np.zeros((4, 2)), 1.0, 1.0)
    with pytest.raises(ValueError, match="gamma must be finite"):
        mod.gaussian_self_sum(np.zeros((3, 2)), -1.0)
    with pytest.raises(TypeError):
        mod.gaussian_self_sum(np.zeros((3, 2), dtype=np.int64), 1.0)


# --- matrix entropies ---------------------------------------------------------------------------


def orthonormal_centred(n, d, seed=0):
    """n x d with orthonormal, centred columns: its covariance is the identity (isotropic)."""
    z = np.random.default_rng(seed).normal(size=(n, d))
    q, _ = np.linalg.qr(z - z.mean(axis=0))
    return q


@pytest.mark.parametrize(("n", "d"), [(50, 8), (40, 39)])
@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 3.0, math.inf])
def test_isotropic_covariance_entropy_is_log_d(n, d, alpha):
    x = 3.0 * orthonormal_centred(n, d)
    assert mx.renyi_entropy(x, alpha) == pytest.approx(math.log(d), rel=1e-12)
    assert mx.renyi_entropy(x, alpha, base=2) == pytest.approx(math.log2(d), rel=1e-12)


def test_rank_one_entropy_is_zero():
    x = np.outer(np.arange(10.0), [1.0, -2.0, 0.5])
    assert mx.von_neumann_entropy(x) == pytest.approx(0.0, abs=1e-12)
    assert mx.renyi_entropy(x, 2) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 4.0])
def test_rbf_entropy_closed_forms(backend, alpha):
    far = 1000.0 * np.eye(16)  # K = I to machine precision: every order gives log 16
    assert mx.renyi_entropy(far, alpha, kernel="rbf", sigma=1.0) == pytest.approx(
        math.log(16), rel=1e-12
    )
    same = np.ones((16, 3))  # K = 11ᵀ: one eigenvalue, entropy 0
    assert mx.renyi_entropy(same, alpha, kernel="rbf", sigma=1.0) == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize(("n", "d"), [(60, 25), (25, 60)])
def test_covariance_and_gram_routes_agree(n, d):
    x = np.random.default_rng(n).normal(size=(n, d)) @ np.diag(np.linspace(0.2, 3.0, d))
    z = x - x.mean(axis=0)
    cov = z.T @ z
    gram = z @ z.T
    by_cov = entropy_of(np.linalg.eigvalsh(cov / np.trace(cov)))
    by_gram = entropy_of(np.linalg.eigvalsh(gram / np.trace(gram)))
    assert abs(by_cov - by_gram) < 1e-10
    assert abs(mx.von_neumann_entropy(x) - by_cov) < 1e-10
    purity = np.sum(gram * gram) / np.trace(gram) ** 2
    assert mx.renyi_entropy(x, 2) == pytest.approx(-math.log(purity), rel=1e-12)


def test_rbf_entropy_matches_dense_formula(backend):
    sigma = 1.7
    a = rbf_kernel(X, gamma=gamma(sigma)) / X.shape[0]
    lam = np.clip(np.linalg.eigvalsh(a), 0, None)
    assert mx.von_neumann_entropy(X, kernel="rbf", sigma=sigma) == pytest.approx(
        entropy_of(lam), rel=1e-10
    )
    for alpha in (0.5, 2.0, 3.0):
        expected = math.log(np.sum(lam[lam > 0] ** alpha)) / (1 - alpha)
        assert mx.renyi_entropy(X, alpha, kernel="rbf", sigma=sigma) == pytest.approx(
            expected, rel=1e-10
        )


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_renyi_limits_and_monotonicity(kernel):
    at = [mx.renyi_entropy(X, a, kernel=kernel) for a in (0.5, 1 - 1e-7, 1.0, 1 + 1e-7, 2.0)]
    assert at[1] == pytest.approx(at[2], rel=1e-5)
    assert at[3] == pytest.approx(at[2], rel=1e-5)
    # the order-2 shortcut (no eigenvalues) meets the eigenvalue route
    assert mx.renyi_entropy(X, 2.0 + 1e-9, kernel=kernel) == pytest.approx(at[4], rel=1e-7)
    assert at[0] >= at[2] >= at[4] >= mx.renyi_entropy(X, math.inf, kernel=kernel)
    assert mx.von_neumann_entropy(X, kernel=kernel) == at[2]


def test_uncentred_linear_entropy():
    x = X + 5.0
    gram = x.T @ x
    assert mx.von_neumann_entropy(x, center=False) == pytest.approx(
        entropy_of(np.linalg.eigvalsh(gram / np.trace(gram))), rel=1e-10
    )


# --- matrix mutual information ------------------------------------------------------------------


def dense_matrix_mi(x, y, alpha, sx, sy):
    n = x.shape[0]
    a = rbf_kernel(x, gamma=gamma(sx)) / n
    b = rbf_kernel(y, gamma=gamma(sy)) / n
    c = a * b / np.trace(a * b)

    def s(m):
        lam = np.clip(np.linalg.eigvalsh(m), 0, None)
        lam = lam[lam > 0]
        if alpha == 1:
            return -(lam * np.log(lam)).sum()
        return math.log(np.sum(lam**alpha)) / (1 - alpha)

    return s(a) + s(b) - s(c)


@pytest.mark.parametrize("alpha", [1.0, 2.0, 1.5])
def test_matrix_mi_matches_dense_formula(backend, alpha):
    sx, sy = mx.median_bandwidth(X), mx.median_bandwidth(Y)
    got = mx.matrix_mutual_information(X, Y, alpha=alpha)
    assert got == pytest.approx(dense_matrix_mi(X, Y, alpha, sx, sy), rel=1e-9)
    assert got > 0.0
    assert mx.matrix_mutual_information(X, Y, alpha=alpha, base=2) == pytest.approx(
        got / math.log(2), rel=1e-12
    )


def test_matrix_mi_linear_and_bounds():
    u = X / np.linalg.norm(X, axis=1, keepdims=True)
    v = Y / np.linalg.norm(Y, axis=1, keepdims=True)
    a, b = u @ u.T / 90, v @ v.T / 90
    c = a * b / np.trace(a * b)
    hs = [entropy_of(np.linalg.eigvalsh(m)) for m in (a, b, c)]
    got = mx.matrix_mutual_information(X, Y, kernel="linear")
    assert got == pytest.approx(hs[0] + hs[1] - hs[2], rel=1e-9)
    assert 0.0 <= got <= min(hs[0], hs[1]) + 1e-12


# --- effective rank and the nuclear-norm metric -------------------------------------------------


@pytest.mark.parametrize(("d", "r"), [(6, 1), (10, 3), (12, 12)])
def test_effective_rank_of_projector(d, r):
    q = ortho_group.rvs(d, random_state=d)[:, :r]
    assert mx.effective_rank(q @ q.T) == pytest.approx(r, rel=1e-10)


def test_effective_rank_formula_and_bounds():
    s = np.linalg.svd(X, compute_uv=False)
    p = s / s.sum()
    assert mx.effective_rank(X) == pytest.approx(math.exp(-(p * np.log(p)).sum()), rel=1e-12)
    assert 1.0 <= mx.effective_rank(X) <= 6.0


@pytest.mark.parametrize("shape", [(40, 7), (7, 40)])
def test_nuclear_norm_metric(shape):
    p = np.random.default_rng(1).dirichlet(np.ones(shape[1]), size=shape[0])
    raw = mx.nuclear_norm_metric(p, normalize=False)
    assert raw.nuclear_norm == pytest.approx(np.linalg.norm(p, "nuc") / shape[0], rel=1e-12)
    assert raw.l12_proxy == pytest.approx(np.linalg.norm(p, axis=0).sum() / shape[0], rel=1e-12)
    z = p - p.mean(axis=0)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    m = mx.nuclear_norm_metric(p)
    assert m.nuclear_norm == pytest.approx(np.linalg.norm(z, "nuc") / shape[0], rel=1e-12)
    assert m.l12_proxy >= m.nuclear_norm
    assert m.l12_top <= m.l12_proxy
    assert m.n_samples == shape[0]


# --- diffusion spectral entropy and mutual information ------------------------------------------


def dense_dse(x, sigma, t):
    g = rbf_kernel(x, gamma=gamma(sigma))
    p = g / g.sum(axis=1, keepdims=True)  # the (non-symmetric) diffusion operator itself
    lam = np.abs(np.linalg.eigvals(p).real) ** t
    q = lam / lam.sum()
    q = q[q > 0]
    return float(-(q * np.log(q)).sum())


@pytest.mark.parametrize("t", [1, 3])
def test_dse_matches_dense_operator(backend, t):
    assert mx.diffusion_spectral_entropy(X, t=t, sigma=2.0) == pytest.approx(
        dense_dse(X, 2.0, t), rel=1e-8
    )
    sigma = mx.median_bandwidth(X)
    assert mx.diffusion_spectral_entropy(X, t=t) == pytest.approx(dense_dse(X, sigma, t), rel=1e-8)


def test_dse_limits_and_paper_convention():
    assert mx.diffusion_spectral_entropy(X, sigma=1e-3) == pytest.approx(math.log(90), rel=1e-12)
    assert mx.diffusion_spectral_entropy(X, sigma=1e4, t=2) < 1e-6
    assert mx.diffusion_spectral_entropy(X, convention="paper") == pytest.approx(
        mx.diffusion_spectral_entropy(X, sigma=10.0, base=2), rel=1e-15
    )


def test_dsmi_separated_clusters_and_independent_labels():
    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1], 40)
    x = rng.normal(size=(80, 3)) + 100.0 * labels[:, None]
    got = mx.diffusion_spectral_mutual_information(x, labels, sigma=10.0, t=50, seed=0)
    assert got == pytest.approx(math.log(2), abs=1e-3)
    shuffled = rng.permutation(labels)
    noise = mx.diffusion_spectral_mutual_information(x, shuffled, sigma=10.0, t=50, seed=0)
    assert abs(noise) < 0.05
    # real-valued y is binned; labels given as strings are classes
    as_text = np.where(labels == 1, "b", "a")
    assert mx.diffusion_spectral_mutual_information(
        x, as_text, sigma=10.0, t=50, seed=0
    ) == pytest.approx(got, rel=1e-12)
    binned = mx.diffusion_spectral_mutual_information(
        x, labels + 0.01 * rng.random(80), n_bins=2, sigma=10.0, t=50, seed=0
    )
    assert binned == pytest.approx(got, rel=1e-12)


# --- stochastic Lanczos quadrature ---------------------------------------------------------------


def test_matvec_matches_sklearn():
    rng = np.random.default_rng(8)
    x, v = rng.normal(size=(530, 3)), rng.normal(size=(530, 5))
    expected = rbf_kernel(x, gamma=0.4) @ v
    for mod in (core(), ref):
        np.testing.assert_allclose(
            mod.gaussian_matvec(x, v, 0.4, 2), expected, rtol=1e-11, atol=1e-11
        )
    one, two = (core().gaussian_matvec(x, v, 0.4, t) for t in (1, 2))
    np.testing.assert_array_equal(one, two)


SLQ_X = np.random.default_rng(9).normal(size=(250, 4))


@pytest.mark.parametrize("alpha", [1.0, 0.7, 1.5])
def test_slq_entropy_within_reported_error(alpha):
    exact = mx.renyi_entropy(SLQ_X, alpha, kernel="rbf")
    est = mx.renyi_entropy_estimate(SLQ_X, alpha, n_probes=24, n_steps=30, seed=1)
    assert est.error > 0
    assert abs(est.value - exact) <= 4 * est.error + 1e-3 * exact
    assert est.error < 0.02 * exact  # informative, not just wide
    # the deflation is what makes it so: plain Hutchinson has a far larger error
    plain = mx.renyi_entropy_estimate(SLQ_X, alpha, n_probes=24, n_deflate=0, seed=1)
    assert plain.error > 5 * est.error
    assert abs(plain.value - exact) <= 4 * plain.error + 1e-3 * exact
    assert (est.n_probes, est.n_steps) == (24, 30)


@pytest.mark.parametrize("t", [1, 3])
def test_slq_dse_within_reported_error(t):
    exact = mx.diffusion_spectral_entropy(SLQ_X, t=t)
    est = mx.diffusion_spectral_entropy_estimate(SLQ_X, t=t, n_probes=24, n_steps=30, seed=2)
    assert abs(est.value - exact) <= 4 * est.error + 1e-3 * exact
    assert est.error < 0.02 * exact


def test_slq_backends_and_seed():
    core()  # skips without the compiled backend
    a = mx.renyi_entropy_estimate(SLQ_X[:120], seed=3, backend="cpp")
    b = mx.renyi_entropy_estimate(SLQ_X[:120], seed=3, backend="numpy")
    # Lanczos without reorthogonalisation amplifies last-bit differences of the products
    assert a.value == pytest.approx(b.value, rel=1e-4)
    assert a == mx.renyi_entropy_estimate(SLQ_X[:120], seed=3, backend="cpp")
    with pytest.raises(ValueError, match="n_probes must be >= 2, got 1"):
        mx.renyi_entropy_estimate(SLQ_X, n_probes=1)
    with pytest.raises(ValueError, match="n_deflate must be >= 0, got -1"):
        mx.diffusion_spectral_entropy_estimate(SLQ_X, n_deflate=-1)
    # deflating everything leaves nothing to sample: quadrature alone, error 0
    small = SLQ_X[:15]
    full = mx.renyi_entropy_estimate(small, n_deflate=15, n_steps=15, seed=0)
    assert full.error == 0.0
    assert full.value == pytest.approx(mx.von_neumann_entropy(small, kernel="rbf"), rel=1e-6)


# --- kernel sums: MMD, CS, HSIC, CKA, CS-QMI ------------------------------------------------------


def dense_hsic(k, lm, unbiased=False):
    n = k.shape[0]
    if not unbiased:
        h = centring(n)
        return np.trace(k @ h @ lm @ h) / n**2
    kt, lt = k - np.diag(np.diag(k)), lm - np.diag(np.diag(lm))
    one = np.ones(n)
    return (
        np.trace(kt @ lt)
        + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ kt @ lt @ one)
    ) / (n * (n - 3))


def test_mmd_and_cs_match_dense_formulas(backend):
    sigma = mx.median_bandwidth(np.vstack([X, W]))
    g = gamma(sigma)
    kxx, kyy, kxy = rbf_kernel(X, gamma=g), rbf_kernel(W, gamma=g), rbf_kernel(X, W, gamma=g)
    n, m = len(X), len(W)
    biased = kxx.mean() + kyy.mean() - 2 * kxy.mean()
    unbiased = (kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - m) / (m * (m - 1)) - 2 * kxy.mean()
    assert mx.mmd(X, W) == pytest.approx(biased, rel=1e-10)
    assert mx.mmd(X, W, unbiased=True) == pytest.approx(unbiased, rel=1e-10)
    cs = math.log(kxx.mean()) + math.log(kyy.mean()) - 2 * math.log(kxy.mean())
    assert mx.cauchy_schwarz_divergence(X, W) == pytest.approx(cs, rel=1e-10)
    assert mx.cauchy_schwarz_divergence(X, W, base=2) == pytest.approx(cs / math.log(2), rel=1e-10)


@pytest.mark.parametrize("a", [0.5, 2.0])
def test_point_mass_closed_forms(backend, a):
    x, y = np.zeros((5, 2)), np.full((7, 2), a / math.sqrt(2))  # ‖x − y‖ = a
    assert mx.mmd(x, y, sigma=1.0) == pytest.approx(2 - 2 * math.exp(-(a**2) / 2), rel=1e-12)
    assert mx.cauchy_schwarz_divergence(x, y, sigma=1.0) == pytest.approx(a**2, rel=1e-12)


def test_identical_samples(backend):
    assert mx.cauchy_schwarz_divergence(X, X) == 0.0
    assert mx.mmd(X, X) == pytest.approx(0.0, abs=1e-15)
    assert mx.cka(X, X, kernel="rbf") == pytest.approx(1.0, rel=1e-12)
    assert mx.cauchy_schwarz_mutual_information(X, X, normalized=True) == pytest.approx(
        1.0, rel=1e-12
    )


@pytest.mark.parametrize("unbiased", [False, True])
def test_hsic_matches_dense_formula(backend, unbiased):
    sx, sy = 1.3, 0.8
    k, lm = rbf_kernel(X, gamma=gamma(sx)), rbf_kernel(Y, gamma=gamma(sy))
    assert mx.hsic(X, Y, sigma_x=sx, sigma_y=sy, unbiased=unbiased) == pytest.approx(
        dense_hsic(k, lm, unbiased), rel=1e-9
    )
    zx, zy = X - X.mean(0), Y - Y.mean(0)
    assert mx.hsic(X, Y, kernel="linear", unbiased=unbiased) == pytest.approx(
        dense_hsic(zx @ zx.T, zy @ zy.T, unbiased), rel=1e-9
    )


def test_cka_matches_dense_formula_and_routes(backend):
    k, lm = rbf_kernel(X, gamma=gamma(1.5)), rbf_kernel(Y, gamma=gamma(0.9))
    expected = dense_hsic(k, lm) / math.sqrt(dense_hsic(k, k) * dense_hsic(lm, lm))
    assert mx.cka(X, Y, kernel="rbf", sigma_x=1.5, sigma_y=0.9) == pytest.approx(expected, rel=1e-9)
    zx, zy = X - X.mean(0), Y - Y.mean(0)
    k, lm = zx @ zx.T, zy @ zy.T
    expected = dense_hsic(k, lm) / math.sqrt(dense_hsic(k, k) * dense_hsic(lm, lm))
    assert mx.cka(X, Y) == pytest.approx(expected, rel=1e-10)
    # n < d takes the sample-space route; the feature-space value is the same
    wide_x, wide_y = RNG.normal(size=(12, 30)), RNG.normal(size=(12, 20))
    zx, zy = wide_x - wide_x.mean(0), wide_y - wide_y.mean(0)
    feature = np.sum((zy.T @ zx) ** 2) / (np.linalg.norm(zx.T @ zx) * np.linalg.norm(zy.T @ zy))
    assert mx.cka(wide_x, wide_y) == pytest.approx(feature, rel=1e-10)


def test_cka_invariances():
    q = ortho_group.rvs(6, random_state=2)
    base = mx.cka(X, Y)
    assert mx.cka(X @ q, Y) == pytest.approx(base, rel=1e-10)
    assert mx.cka(2.5 * X + 1.0, Y) == pytest.approx(base, rel=1e-10)
    assert mx.cka(X, X @ q) == pytest.approx(1.0, rel=1e-12)
    assert mx.cka(X, 3 * X) == pytest.approx(1.0, rel=1e-12)
    # rbf with the median heuristic: σ scales with the data, so CKA is scale- and rotation-free
    rbf = mx.cka(X, Y, kernel="rbf")
    assert mx.cka(4.0 * X @ q, Y, kernel="rbf") == pytest.approx(rbf, rel=1e-9)


def test_cs_qmi_matches_dense_formula(backend):
    sx, sy = 1.1, 0.7
    k, lm = rbf_kernel(X, gamma=gamma(sx)), rbf_kernel(Y, gamma=gamma(sy))
    n = len(X)

    def qmi(a, b):
        return (
            math.log((a * b).sum() / n**2)
            + math.log(a.sum() * b.sum() / n**4)
            - 2 * math.log(a.sum(1) @ b.sum(1) / n**3)
        )

    got = mx.cauchy_schwarz_mutual_information(X, Y, sigma_x=sx, sigma_y=sy)
    assert got == pytest.approx(qmi(k, lm), rel=1e-9)
    assert got > 0
    normalised = mx.cauchy_schwarz_mutual_information(X, Y, sigma_x=sx, sigma_y=sy, normalized=True)
    assert normalised == pytest.approx(qmi(k, lm) / math.sqrt(qmi(k, k) * qmi(lm, lm)), rel=1e-9)


def test_dependence_beats_independence():
    z = RNG.normal(size=(90, 3))
    assert mx.hsic(X, Y) > 5 * mx.hsic(X, z)
    assert mx.cauchy_schwarz_mutual_information(X, Y) > 5 * mx.cauchy_schwarz_mutual_information(
        X, z
    )


def test_median_bandwidth():
    assert mx.median_bandwidth(X) == pytest.approx(float(np.median(pdist(X))), rel=1e-12)
    assert mx.median_bandwidth(3.0 * X) == pytest.approx(3.0 * mx.median_bandwidth(X), rel=1e-12)
    big = np.random.default_rng(0).normal(size=(1500, 2))
    assert mx.median_bandwidth(big) == mx.median_bandwidth(big)
    assert mx.median_bandwidth(big) == pytest.approx(float(np.median(pdist(big))), rel=0.05)
    assert mx.median_bandwidth(np.ones((5, 2))) == 1.0
    # mostly duplicates: the median (1e-156) would make the kernel the identity; the mean is used
    dup = np.zeros((9, 2))
    dup[0, 0], dup[4], dup[8, 1] = 1e-156, 1.0, 1.0
    assert mx.median_bandwidth(dup) == pytest.approx(float(pdist(dup).mean()), rel=1e-12)


# --- dtypes and layouts -------------------------------------------------------------------------


def test_float32_readonly_and_strided_inputs(backend):
    x32, y32 = X.astype(np.float32), Y.astype(np.float32)
    assert mx.hsic(x32, y32) == pytest.approx(mx.hsic(x32.astype(np.float64), y32), rel=1e-6)
    assert mx.mmd(x32, W) == pytest.approx(mx.mmd(x32.astype(np.float64), W), rel=1e-6)
    ro = X.copy()
    ro.flags.writeable = False
    wide = np.zeros((90, 12))
    wide[:, ::2] = X
    strided = wide[:, ::2]  # a non-contiguous view of X's values
    for x in (ro, strided, np.asfortranarray(X)):
        assert mx.cauchy_schwarz_divergence(x, W) == pytest.approx(
            mx.cauchy_schwarz_divergence(X, W), rel=1e-12
        )
        assert mx.von_neumann_entropy(x) == pytest.approx(mx.von_neumann_entropy(X), rel=1e-12)
    assert mx.mmd(np.arange(10), np.arange(10) + 0.5) == pytest.approx(
        mx.mmd(np.arange(10.0)[:, None], np.arange(10.0)[:, None] + 0.5), rel=1e-15
    )


# --- properties ---------------------------------------------------------------------------------

hyp = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
samples = hnp.arrays(
    np.float64,
    st.tuples(st.integers(4, 30), st.integers(1, 4)),
    elements=st.floats(-10, 10, allow_subnormal=False),
).filter(lambda a: np.ptp(a, axis=0).min() > 1e-3)


@hyp
@given(x=samples, seed=st.integers(0, 2**32 - 1))
def test_property_nonnegative_and_bounded(x, seed):
    y = np.random.default_rng(seed).normal(size=x.shape)
    assert mx.mmd(x, y) >= -1e-12
    assert mx.cauchy_schwarz_divergence(x, y) >= 0.0
    assert -1e-9 <= mx.cka(x, y) <= 1 + 1e-9
    assert -1e-9 <= mx.cka(x, y, kernel="rbf") <= 1 + 1e-9
    assert mx.hsic(x, y) >= -1e-12
    m = mx.nuclear_norm_metric(x, normalize=False)
    assert m.l12_proxy >= m.nuclear_norm * (1 - 1e-12)
    h = mx.von_neumann_entropy(x)
    assert -1e-12 <= h <= math.log(min(x.shape)) + 1e-9


# --- bad input ----------------------------------------------------------------------------------


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"X must have at least 2 samples \(rows\), got 1"):
        mx.von_neumann_entropy(np.ones((1, 3)))
    with pytest.raises(ValueError, match="Y must have at least 2 samples"):
        mx.mmd(X, np.ones((1, 6)))
    with pytest.raises(ValueError, match="X has 90, Y has 70 samples"):
        mx.hsic(X, W)
    with pytest.raises(ValueError, match="X has 90 and y has 3"):
        mx.diffusion_spectral_mutual_information(X, [0, 1, 0])
    with pytest.raises(ValueError, match="same number of features, got 6 and 3"):
        mx.cauchy_schwarz_divergence(X, Y)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        mx.cka(bad, Y)
    with pytest.raises(ValueError, match="Y contains NaN or inf"):
        mx.mmd(X, np.full((4, 6), np.inf))
    for sigma in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="sigma must be a positive finite number"):
            mx.mmd(X, W, sigma=sigma)
    with pytest.raises(ValueError, match="sigma_y must be a positive finite number, got 0"):
        mx.hsic(X, Y, sigma_y=0)
    with pytest.raises(ValueError, match="too small: 1 / \\(2 sigma\\^2\\) overflows"):
        mx.mmd(X, W, sigma=1e-200)
    with pytest.raises(TypeError, match="sigma must be None"):
        mx.cauchy_schwarz_divergence(X, W, sigma="1")
    for alpha in (0, -0.5, math.nan):
        with pytest.raises(ValueError, match="alpha must be > 0"):
            mx.renyi_entropy(X, alpha)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        mx.matrix_mutual_information(X, Y, alpha=0)
    with pytest.raises(ValueError, match="kernel must be one of"):
        mx.cka(X, Y, kernel="poly")
    with pytest.raises(TypeError, match="X must hold real numbers, got dtype <U1"):
        mx.von_neumann_entropy(np.array([["a"], ["b"]]))
    with pytest.raises(ValueError, match="must be 1-D"):
        mx.mmd(np.ones((3, 2, 2)), W)
    with pytest.raises(ValueError, match="t must be >= 1, got 0"):
        mx.diffusion_spectral_entropy(X, t=0)
    with pytest.raises(ValueError, match="convention must be"):
        mx.diffusion_spectral_entropy(X, convention="torch")
    with pytest.raises(ValueError, match="zero variance"):
        mx.von_neumann_entropy(np.ones((5, 2)))
    with pytest.raises(ValueError, match="zero variance"):
        mx.cka(np.ones((5, 2)), X[:5])
    with pytest.raises(ValueError, match="unbiased HSIC needs at least 4 samples, got 3"):
        mx.hsic(X[:3], Y[:3], unbiased=True)
    with pytest.raises(ValueError, match="base must be"):
        mx.cauchy_schwarz_divergence(X, W, base=1)
    with pytest.raises(ValueError, match="all zeros"):
        mx.effective_rank(np.zeros((3, 3)))
