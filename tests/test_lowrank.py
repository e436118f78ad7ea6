"""infokit.lowrank against exact SVD (Eckart–Young), scikit-learn's randomized_svd, brute-force
weighted objectives, explicit concatenations, batch PCA, brute-force knapsacks, scipy's
interpolative decomposition and linear_sum_assignment; dtypes, layouts, threads, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

import infokit
from infokit import lowrank


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Two BLAS threads on this shared 2-core machine cost 10x; the thread test sets its own."""
    with infokit.threads(1):
        yield


def decaying(rng, m, n, dtype=np.float64, power=1.0):
    """A matrix with singular values 1/i^power and random singular vectors; returns (A, σ)."""
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, k)))
    v, _ = np.linalg.qr(rng.standard_normal((n, k)))
    sigma = 1.0 / np.arange(1, k + 1) ** power
    return ((u * sigma) @ v.T).astype(dtype), sigma


def rel_err(a, b):
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.linalg.norm(a64 - b64) / np.linalg.norm(a64)


# ---------------------------------------------------------------------------------------------
# svd and the report
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_svd_is_eckart_young_optimal(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((60, 40)).astype(dtype)
    sigma = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    for r in (1, 7, 40):
        res = lowrank.svd(a, r, method="exact")
        assert res.U.dtype == dtype and res.s.dtype == dtype and res.Vt.dtype == dtype
        optimal = np.sqrt((sigma[r:] ** 2).sum()) / np.linalg.norm(sigma)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        assert rel_err(a, res.reconstruct()) == pytest.approx(optimal, abs=tol)
        assert res.report.relative_error == pytest.approx(optimal, abs=tol)
        assert res.report.optimal_error == pytest.approx(optimal, abs=tol)
        assert res.report.error_ratio == pytest.approx(1.0, abs=1e-6 if r < 40 else 1e-9)
        np.testing.assert_allclose(res.s, sigma[:r], rtol=10 * tol)
        np.testing.assert_allclose(
            res.report.energy, np.cumsum(sigma[:r] ** 2) / (sigma**2).sum(), rtol=10 * tol
        )


def test_report_accounting():
    a = np.random.default_rng(2).standard_normal((30, 20))
    rep = lowrank.svd(a, 4).report
    assert rep.parameters == 4 * (30 + 20) + 4
    assert rep.original_parameters == 600
    assert rep.metadata_bytes == 8 + 8 * 3
    assert rep.bytes == rep.parameters * 8 + rep.metadata_bytes
    assert rep.compression_ratio == pytest.approx(600 * 8 / rep.bytes)
    assert rep.break_even_rank == pytest.approx(600 / 50)
    assert rep.flops == 2 * 4 * 50 + 4 and rep.original_flops == 2 * 600 and rep.speeds_up
    sigma = np.linalg.svd(a, compute_uv=False)
    assert rep.next_singular_ratio == pytest.approx(sigma[4] / sigma[0])
    assert "svd/exact" in repr(rep) and "relative error" in str(rep) and "energy kept" in str(rep)
    assert rep.as_dict()["compression_ratio"] == rep.compression_ratio
    assert lowrank.svd(a, 19).report.speeds_up is False  # beyond the break-even rank


def test_lowrank_object_apply_factors_unpack():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((25, 15))
    res = lowrank.svd(a, 5)
    u, s, vt = res
    dense = res.reconstruct()
    np.testing.assert_allclose(dense, (u * s) @ vt)
    x = rng.standard_normal(15)
    np.testing.assert_allclose(res.apply(x), dense @ x, atol=1e-12)
    xs = rng.standard_normal((15, 3))
    np.testing.assert_allclose(res.apply(xs), dense @ xs, atol=1e-12)
    left, right = res.factors()
    np.testing.assert_allclose(left @ right, dense, atol=1e-12)
    assert "LowRank(25×15, rank 5" in repr(res)
    np.testing.assert_allclose(u.T @ u, np.eye(5), atol=1e-12)
    with pytest.raises(ValueError, match=r"x must have shape \(15,\)"):
        res.apply(np.ones(4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(400, 300), (300, 400)])
def test_randomized_matches_exact_and_sklearn(dtype, shape):
    from sklearn.utils.extmath import randomized_svd

    rng = np.random.default_rng(4)
    a, sigma = decaying(rng, *shape, dtype=dtype)
    r = 20
    optimal = np.sqrt((sigma[r:] ** 2).sum() / (sigma**2).sum())
    res = lowrank.svd(a, r, method="randomized", power_iterations=4, seed=0)
    assert res.U.dtype == dtype
    err = rel_err(a, res.reconstruct())
    assert err / optimal < 1.01
    assert res.report.relative_error == pytest.approx(err, rel=1e-3)
    assert res.report.optimal_error is None  # the sketch does not know the full spectrum
    np.testing.assert_allclose(res.s, sigma[:r], rtol=2e-3)
    u_sk, s_sk, vt_sk = randomized_svd(a, r, n_iter=7, random_state=0)
    err_sk = rel_err(a, (u_sk * s_sk) @ vt_sk)
    assert err <= err_sk * 1.005
    # Even two normalised power rounds stay accurate in float32 (the scikit-learn pitfall).
    two = lowrank.svd(a, r, method="randomized", power_iterations=2, seed=0)
    assert rel_err(a, two.reconstruct()) / optimal < 1.02


def test_randomized_seed_determinism_and_signs():
    rng = np.random.default_rng(5)
    a, _ = decaying(rng, 300, 280, power=2.0)
    one = lowrank.svd(a, 10, method="randomized", seed=7)
    two = lowrank.svd(a, 10, method="randomized", seed=np.random.default_rng(7))
    np.testing.assert_array_equal(one.U, two.U)
    np.testing.assert_array_equal(one.Vt, two.Vt)
    exact = lowrank.svd(a, 10, method="exact")
    # Sign normalisation makes the randomized and exact factors agree, not just the products.
    np.testing.assert_allclose(one.U, exact.U, atol=1e-6)
    np.testing.assert_allclose(one.Vt, exact.Vt, atol=1e-6)
    with infokit.threads(1):
        t1 = lowrank.svd(a, 10, method="randomized", seed=7)
    with infokit.threads(2):
        t2 = lowrank.svd(a, 10, method="randomized", seed=7)
    np.testing.assert_allclose(t1.reconstruct(), t2.reconstruct(), atol=1e-12)


def test_layouts_read_only_and_integer_input():
    rng = np.random.default_rng(6)
    base = rng.standard_normal((40, 60))
    expected = lowrank.svd(base[:, ::2], 3).reconstruct()
    np.testing.assert_allclose(
        lowrank.svd(np.ascontiguousarray(base[:, ::2]), 3).reconstruct(), expected
    )
    fortran = np.asfortranarray(base[:, ::2])
    np.testing.assert_allclose(lowrank.svd(fortran, 3).reconstruct(), expected, atol=1e-12)
    ro = base.copy()
    ro.setflags(write=False)
    lowrank.svd(ro, 3)
    ints = rng.integers(-5, 5, (10, 8))
    assert lowrank.svd(ints, 2).U.dtype == np.float64


def test_auto_routes_by_shape():
    rng = np.random.default_rng(7)
    assert lowrank.svd(rng.standard_normal((50, 40)), 5).report.method == "svd/exact"
    a, _ = decaying(rng, 600, 300)
    assert lowrank.svd(a, 10, seed=0).report.method == "svd/randomized"
    assert lowrank.svd(a, 100).report.method == "svd/exact"


def _weighted_objective(a, approx, rw, cw):
    return float(np.sum(rw[:, None] * cw[None, :] * (a - approx) ** 2))


def test_weighted_svd_beats_brute_force_search():
    rng = np.random.default_rng(8)
    a = rng.standard_normal((5, 4))
    rw, cw = rng.random(5) * 3 + 0.1, rng.random(4) * 3 + 0.1
    res = lowrank.svd(a, 1, weights=(rw, cw))
    ours = _weighted_objective(a, res.reconstruct(), rw, cw)

    def objective(theta):
        return _weighted_objective(a, np.outer(theta[:5], theta[5:]), rw, cw)

    best = min(
        scipy.optimize.minimize(objective, rng.standard_normal(9), method="BFGS").fun
        for _ in range(20)
    )
    assert ours <= best + 1e-9
    assert ours == pytest.approx(best, rel=1e-5)
    plain = lowrank.svd(a, 1).reconstruct()
    assert ours <= _weighted_objective(a, plain, rw, cw) + 1e-12
    total = _weighted_objective(a, np.zeros_like(a), rw, cw)
    assert res.report.weighted
    assert res.report.relative_error == pytest.approx(np.sqrt(ours / total))
    assert res.report.error_ratio == pytest.approx(1.0)


def test_activation_weighted_svd_minimises_output_error():
    rng = np.random.default_rng(9)
    w = rng.standard_normal((12, 10))
    x = rng.standard_normal((200, 10)) * np.linspace(0.1, 3, 10)  # activations, rows = samples
    res = lowrank.svd(w, 3, weights=(None, x.T @ x))
    out_err = np.linalg.norm((w - res.reconstruct()) @ x.T)
    # The optimum of ‖(W − Ŵ)Xᵀ‖ over rank 3: project WXᵀ onto its top-3 left singular vectors.
    u, _, _ = np.linalg.svd(w @ x.T, full_matrices=False)
    best = np.linalg.norm(w @ x.T - u[:, :3] @ u[:, :3].T @ w @ x.T)
    assert out_err == pytest.approx(best, rel=1e-9)
    plain = np.linalg.norm((w - lowrank.svd(w, 3).reconstruct()) @ x.T)
    assert out_err < plain
    # A row Gram works the same way on the left.
    g = rng.standard_normal((30, 12))
    left = lowrank.svd(w, 3, weights=(g.T @ g, None))
    u2, _, _ = np.linalg.svd((g @ w).T, full_matrices=False)
    best_left = np.linalg.norm(g @ w - (g @ w) @ u2[:, :3] @ u2[:, :3].T)
    assert np.linalg.norm(g @ (w - left.reconstruct())) == pytest.approx(best_left, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(1, 12),
    n=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    frac=st.floats(0.01, 1.0),
)
def test_property_error_is_tail_energy(m, n, seed, frac):
    a = np.random.default_rng(seed).standard_normal((m, n))
    r = max(1, round(frac * min(m, n)))
    res = lowrank.svd(a, r)
    sigma = np.linalg.svd(a, compute_uv=False)
    assert np.linalg.norm(a - res.reconstruct()) == pytest.approx(
        np.sqrt((sigma[r:] ** 2).sum()), abs=1e-9
    )
    assert 0.0 <= res.report.relative_error <= 1.0


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"A": np.ones((3, 4)), "rank": 5}, ValueError, r"rank must be <= min\(m, n\) = 3, got 5"),
        ({"A": np.ones((3, 4)), "rank": 0}, ValueError, "rank must be >= 1"),
        ({"A": np.ones((3, 4)), "rank": 1.5}, TypeError, "rank must be an int"),
        ({"A": np.ones(4), "rank": 1}, ValueError, "A must be 2-D"),
        ({"A": np.ones((0, 4)), "rank": 1}, ValueError, "A is empty"),
        ({"A": np.array([[1.0, np.nan]]), "rank": 1}, ValueError, "NaN or inf"),
        ({"A": np.ones((2, 2), complex), "rank": 1}, TypeError, "A must be real"),
        ({"A": np.array([["a"]]), "rank": 1}, TypeError, "A must hold real numbers"),
        ({"A": np.ones((3, 4)), "rank": 1, "method": "qr"}, ValueError, "method must be one of"),
        ({"A": np.ones((3, 4)), "rank": 1, "seed": "x"}, TypeError, "seed must be None"),
        ({"A": np.ones((3, 4)), "rank": 1, "oversample": -1}, ValueError, "oversample must be"),
        ({"A": np.ones((3, 4)), "rank": 1, "weights": np.ones(3)}, TypeError, "weights must be"),
        (
            {"A": np.ones((3, 4)), "rank": 1, "weights": (np.ones(4), None)},
            ValueError,
            "row_weights must have length 3",
        ),
        (
            {"A": np.ones((3, 4)), "rank": 1, "weights": (None, -np.ones(4))},
            ValueError,
            "col_weights must be finite and > 0",
        ),
        (
            {"A": np.ones((3, 4)), "rank": 1, "weights": (None, np.zeros((4, 4)))},
            ValueError,
            "col_weights must be symmetric positive definite",
        ),
        (
            {"A": np.ones((3, 4)), "rank": 1, "weights": (None, np.eye(3))},
            ValueError,
            r"col_weights as a matrix must be 4×4",
        ),
    ],
)
def test_svd_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        lowrank.svd(**kwargs)
