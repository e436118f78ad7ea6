"""infokit.lowrank against exact SVD (Eckart–Young), scikit-learn's randomized_svd, brute-force
weighted objectives, explicit concatenations, batch PCA, brute-force knapsacks, scipy's
interpolative decomposition and linear_sum_assignment; dtypes, layouts, threads, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

import infokit
from infokit import _backend, lowrank
from infokit._reference import lowrank as ref_lowrank


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
        (
            {"A": np.ones((2, 2), complex), "rank": 1},
            TypeError,
            "A must hold real numbers, got dtype complex128",
        ),
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


# ---------------------------------------------------------------------------------------------
# joint_svd
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1])
def test_joint_svd_matches_svd_of_the_concatenation(dtype, axis):
    rng = np.random.default_rng(10)
    shared = rng.standard_normal((30, 4))
    if axis == 1:
        blocks = [
            (shared @ rng.standard_normal((4, n)) + 0.1 * rng.standard_normal((30, n)))
            for n in (8, 12, 5)
        ]
    else:
        blocks = [
            (rng.standard_normal((n, 4)) @ shared.T + 0.1 * rng.standard_normal((n, 30)))
            for n in (8, 12, 5)
        ]
    blocks = [b.astype(dtype) for b in blocks]
    r = 4
    res = lowrank.joint_svd(blocks, r, axis=axis)
    concat = np.concatenate(blocks, axis=axis).astype(np.float64)
    u, s, vt = np.linalg.svd(concat, full_matrices=False)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(res.singular_values, s[:r], rtol=tol)
    # Same subspace as the concatenation's top singular vectors.
    exact_basis = u[:, :r] if axis == 1 else vt[:r].T
    proj = res.basis.astype(np.float64) @ res.basis.T.astype(np.float64)
    np.testing.assert_allclose(proj, exact_basis @ exact_basis.T, atol=10 * tol)
    assert res.basis.dtype == dtype and all(c.dtype == dtype for c in res.coefficients)
    approx = np.concatenate([res.reconstruct(g) for g in range(3)], axis=axis)
    optimal = np.sqrt((s[r:] ** 2).sum() / (s**2).sum())
    assert rel_err(concat, approx) == pytest.approx(optimal, rel=10 * tol, abs=tol)
    assert res.report.relative_error == pytest.approx(optimal, rel=10 * tol, abs=tol)
    assert res.report.error_ratio == pytest.approx(1.0, abs=1e-3)
    for g, b in enumerate(blocks):
        assert res.errors[g] == pytest.approx(rel_err(b, res.reconstruct(g)), rel=1e-5)
    total = concat.size
    assert res.report.parameters == r * (30 + total // 30)
    assert "JointSVD(3 blocks" in repr(res)


def test_joint_svd_accepts_a_3d_stack_and_rejects_bad_blocks():
    rng = np.random.default_rng(11)
    stack = rng.standard_normal((4, 6, 5))
    assert len(lowrank.joint_svd(stack, 3).coefficients) == 4
    with pytest.raises(ValueError, match="blocks must share their size along axis 0"):
        lowrank.joint_svd([np.ones((3, 2)), np.ones((4, 2))], 1)
    with pytest.raises(ValueError, match=r"blocks\[1\] is empty"):
        lowrank.joint_svd([np.ones((3, 2)), np.ones((3, 0))], 1)
    with pytest.raises(ValueError, match="blocks must be a non-empty sequence"):
        lowrank.joint_svd([], 1)
    with pytest.raises(ValueError, match="axis must be 0 or 1"):
        lowrank.joint_svd([np.ones((3, 2))], 1, axis=2)
    with pytest.raises(ValueError, match=r"rank must be <= min\(shared size, total size\) = 3"):
        lowrank.joint_svd([np.ones((3, 2)), np.ones((3, 2))], 4)
    with pytest.raises(ValueError, match="NaN or inf"):
        lowrank.joint_svd([np.full((3, 2), np.inf)], 1)


# ---------------------------------------------------------------------------------------------
# PCA
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_streaming_pca_equals_batch_and_sklearn(dtype):
    from sklearn.decomposition import PCA as SkPCA

    rng = np.random.default_rng(12)
    x = (rng.standard_normal((500, 8)) @ rng.standard_normal((8, 8)) + 100.0).astype(dtype)
    streamed = lowrank.PCA(5)
    for chunk in np.array_split(x, 7):
        streamed.partial_fit(chunk)
    batch = lowrank.PCA(5).fit(x)
    tol = 2e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(streamed.components_, batch.components_, atol=tol)
    np.testing.assert_allclose(streamed.explained_variance_, batch.explained_variance_, rtol=tol)
    sk = SkPCA(5, svd_solver="full").fit(x.astype(np.float64))
    np.testing.assert_allclose(streamed.explained_variance_, sk.explained_variance_, rtol=tol)
    np.testing.assert_allclose(streamed.mean_, sk.mean_, rtol=tol)
    # Components equal up to sign; ours have their largest entry positive.
    signs = np.sign((streamed.components_ * sk.components_).sum(axis=1))
    np.testing.assert_allclose(streamed.components_, sk.components_ * signs[:, None], atol=50 * tol)
    np.testing.assert_allclose(
        streamed.explained_variance_ratio_, sk.explained_variance_ratio_, rtol=tol
    )
    assert streamed.components_.dtype == dtype
    np.testing.assert_allclose(
        streamed.transform(x),
        (x - sk.mean_) @ streamed.components_.T.astype(np.float64),
        rtol=1e-3,
        atol=1e-3,
    )


def test_pca_bases_are_nested():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((300, 6)) * np.arange(1, 7)
    pca = lowrank.PCA().fit(x)
    full = pca.basis(6)
    for r in range(1, 7):
        np.testing.assert_array_equal(pca.basis(r), full[:r])
        # Each prefix is the best rank-r projection: error = sum of the discarded variances.
        err = ((x - pca.reconstruct(x, r)) ** 2).sum() / (len(x) - 1)
        assert err == pytest.approx(pca.explained_variance_[r:].sum(), rel=1e-9, abs=1e-12)


def test_pca_output_factorisation_p14():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((400, 10))
    w = rng.standard_normal((10, 6))
    y = x @ w
    pca = lowrank.PCA(center=False).fit(y)
    res = pca.compress_weight(w, 3)
    p = pca.basis(3)
    np.testing.assert_allclose(res.reconstruct(), w @ p.T @ p, atol=1e-12)
    assert res.report.relative_error == pytest.approx(rel_err(w, res.reconstruct()), rel=1e-9)
    # The compressed layer's outputs are the best rank-3 outputs (Eckart–Young on Y).
    s = np.linalg.svd(y, compute_uv=False)
    assert np.linalg.norm(y - x @ res.reconstruct()) == pytest.approx(
        np.sqrt((s[3:] ** 2).sum()), rel=1e-9
    )


def test_pca_bad_input():
    pca = lowrank.PCA(2)
    with pytest.raises(ValueError, match="PCA is not fitted"):
        _ = pca.components_
    pca.partial_fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match="X must have 4 columns like the earlier chunks"):
        pca.partial_fit(np.ones((3, 5)))
    with pytest.raises(ValueError, match="X must have 4 columns like the fitted data"):
        pca.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match="n_components must be >= 1"):
        lowrank.PCA(0)
    with pytest.raises(ValueError, match="NaN or inf"):
        lowrank.PCA().fit(np.array([[np.nan, 1.0]]))


# ---------------------------------------------------------------------------------------------
# CUR
# ---------------------------------------------------------------------------------------------


def test_cur_pivoted_qr_picks_the_interpolative_columns():
    import scipy.linalg.interpolative as sli

    rng = np.random.default_rng(15)
    a = rng.standard_normal((40, 6)) @ rng.standard_normal((6, 30)) + 1e-3 * rng.standard_normal(
        (40, 30)
    )
    res = lowrank.cur(a, 6, 6, select="pivoted_qr")
    idx, _ = sli.interp_decomp(a, 6, rand=False)
    assert set(res.cols) == set(idx[:6])
    idx_rows, _ = sli.interp_decomp(np.ascontiguousarray(a.T), 6, rand=False)
    assert set(res.rows) == set(idx_rows[:6])
    np.testing.assert_array_equal(res.C, a[:, res.cols])
    np.testing.assert_array_equal(res.R, a[res.rows, :])
    assert res.report.relative_error < 1e-2
    assert res.report.relative_error == pytest.approx(rel_err(a, res.reconstruct()), rel=1e-9)


@pytest.mark.parametrize("select", ["uniform", "leverage", "pivoted_qr"])
@pytest.mark.parametrize("middle", ["intersection", "optimal"])
def test_cur_exact_on_low_rank_matrices(select, middle):
    rng = np.random.default_rng(16)
    a = rng.standard_normal((50, 4)) @ rng.standard_normal((4, 35))
    res = lowrank.cur(a, 8, 8, select=select, middle=middle, seed=3)
    np.testing.assert_allclose(res.reconstruct(), a, atol=1e-8)
    c, u, r = res
    x = rng.standard_normal(35)
    np.testing.assert_allclose(res.apply(x), c @ u @ r @ x, atol=1e-9)
    again = lowrank.cur(a, 8, 8, select=select, middle=middle, seed=3)
    np.testing.assert_array_equal(again.cols, res.cols)


def test_cur_anchor_retrieval_p04():
    rng = np.random.default_rng(17)
    # A score matrix of rank 5: queries × items.
    q_emb, i_emb = rng.standard_normal((60, 5)), rng.standard_normal((200, 5))
    scores = q_emb @ i_emb.T
    index = lowrank.cur(scores, 20, 20, select="uniform", seed=0)
    new_query = rng.standard_normal(5)
    exact = i_emb @ new_query
    approx = index.approximate_scores(exact[index.cols])
    np.testing.assert_allclose(approx, exact, atol=1e-8)
    top, top_scores = index.top_k(exact[index.cols], 10)
    np.testing.assert_allclose(top_scores, approx[top])
    np.testing.assert_array_equal(top, np.argsort(-exact)[:10])
    calls = []

    def rescore(items):
        calls.append(items.size)
        return exact[items]

    top2, s2 = index.top_k(exact[index.cols], 5, rescore=rescore, candidates=25)
    assert calls == [25]
    np.testing.assert_array_equal(top2, np.argsort(-exact)[:5])
    np.testing.assert_allclose(s2, np.sort(exact)[::-1][:5])
    batch = index.approximate_scores(np.stack([exact[index.cols]] * 3))
    assert batch.shape == (3, 200)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_rows": 11, "n_cols": 2}, ValueError, "n_rows must be <= m = 10"),
        ({"n_rows": 2, "n_cols": 0}, ValueError, "n_cols must be >= 1"),
        ({"n_rows": 2, "n_cols": 2, "select": "random"}, ValueError, "select must be one of"),
        ({"n_rows": 2, "n_cols": 2, "middle": "x"}, ValueError, "middle must be one of"),
    ],
)
def test_cur_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        lowrank.cur(np.ones((10, 8)), **kwargs)


def test_cur_query_bad_input():
    index = lowrank.cur(np.random.default_rng(0).standard_normal((10, 8)), 3, 3, seed=0)
    with pytest.raises(ValueError, match="anchor_scores must have last axis 3"):
        index.approximate_scores(np.ones(4))
    with pytest.raises(ValueError, match="candidates must be >= k = 4"):
        index.top_k(np.ones(3), 4, candidates=2)
    with pytest.raises(ValueError, match="k must be <= the number of items = 8"):
        index.top_k(np.ones(3), 9)


# ---------------------------------------------------------------------------------------------
# allocate_ranks
# ---------------------------------------------------------------------------------------------


def brute_force(errors, sizes, budget):
    best = (np.inf, None)
    for combo in itertools.product(*[range(len(e)) for e in errors]):
        size = sum(s[c] for s, c in zip(sizes, combo, strict=True))
        if size <= budget:
            err = sum(e[c] for e, c in zip(errors, combo, strict=True))
            best = min(best, (err, combo))
    return best


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    layers=st.integers(1, 4),
    levels=st.integers(1, 4),
    frac=st.floats(0.0, 1.0),
)
def test_dp_matches_brute_force(seed, layers, levels, frac):
    rng = np.random.default_rng(seed)
    errors = [rng.random(levels) * 10 for _ in range(layers)]
    sizes = [rng.integers(0, 12, levels).astype(float) for _ in range(layers)]
    lo = sum(s.min() for s in sizes)
    hi = sum(s.max() for s in sizes)
    budget = float(np.floor(lo + frac * (hi - lo)))
    best_err, _ = brute_force(errors, sizes, budget)
    for backend in infokit.available_backends():
        res = lowrank.allocate_ranks(errors, sizes, budget, method="dp", backend=backend)
        assert res.total_error == pytest.approx(best_err, abs=1e-9)
        assert res.total_size <= budget
    greedy = lowrank.allocate_ranks(errors, sizes, budget, method="greedy")
    assert greedy.total_size <= budget
    assert greedy.total_error >= best_err - 1e-9


def test_knapsack_kernel_equals_numpy_twin_on_any_thread_count():
    core = _backend.compiled("_core")
    if core is None:
        pytest.skip("no compiled backend")
    rng = np.random.default_rng(21)
    counts = rng.integers(1, 20, 40)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    # Errors on a coarse grid, so equal totals (ties) occur and the tie rule is exercised.
    errors = rng.integers(0, 8, offsets[-1]).astype(np.float64)
    units = rng.integers(0, 60, offsets[-1]).astype(np.int64)
    cap = 900
    expected = ref_lowrank.knapsack_dp(errors, units, offsets, cap)
    for n_threads in (1, 2):
        levels, total = core.knapsack_dp(errors, units, offsets, cap, n_threads)
        np.testing.assert_array_equal(levels, expected[0])
        assert total == expected[1]
    assert (units[offsets[:-1] + expected[0]]).sum() <= cap
    infeasible = core.knapsack_dp(errors, units + 100, offsets, 10, 1)
    assert infeasible[1] == np.inf
    assert ref_lowrank.knapsack_dp(errors, units + 100, offsets, 10)[1] == np.inf
    with pytest.raises(ValueError, match="offsets must increase"):
        core.knapsack_dp(errors[:2], units[:2], np.array([0, 2, 2], dtype=np.int64), 5, 1)
    with pytest.raises(ValueError, match="offsets must end at the number of levels"):
        core.knapsack_dp(errors[:2], units[:2], np.array([0, 1], dtype=np.int64), 5, 1)
    with pytest.raises(TypeError):
        core.knapsack_dp(errors[:2].astype(np.float32), units[:2], offsets[:2], 5, 1)
    with infokit.threads(2):
        two = lowrank.allocate_ranks(
            [errors[a:b] for a, b in itertools.pairwise(offsets)],
            [units[a:b] for a, b in itertools.pairwise(offsets)],
            cap,
        )
    np.testing.assert_array_equal(two.levels, expected[0])


def test_spectrum_allocation_equals_global_top_singular_values():
    rng = np.random.default_rng(18)
    spectra = [np.sort(rng.random(n))[::-1] for n in (6, 9, 4)]
    # Equal size per rank: the optimum keeps the globally largest σ² (Eckart–Young per layer).
    budget = 7 * 3
    for method in ("dp", "greedy"):
        res = lowrank.allocate_ranks(spectra, [3, 3, 3], budget, kind="spectrum", method=method)
        all_sq = np.sort(np.concatenate(spectra) ** 2)[::-1]
        assert res.total_error == pytest.approx(all_sq[7:].sum())
        assert res.levels.sum() == 7
    table = res.table()
    assert table["level"].tolist() == res.levels.tolist()
    assert "layer" in str(res) and "Allocation(greedy" in repr(res)


def test_allocate_non_integer_sizes_with_step_fit_the_budget():
    errors = [np.array([4.0, 1.0, 0.0]), np.array([3.0, 0.5, 0.1])]
    sizes = [np.array([0.0, 1.5, 2.5]), np.array([0.0, 1.2, 3.3])]
    res = lowrank.allocate_ranks(errors, sizes, 3.0, step=0.1)
    best_err, _ = brute_force(errors, sizes, 3.0)
    assert res.total_error == pytest.approx(best_err)
    assert res.total_size <= 3.0


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([np.ones(2)], [np.ones(3)], 5), {}, ValueError, r"sizes\[0\] must match curves\[0\]"),
        (([np.ones(2)], [np.ones(2), np.ones(2)], 5), {}, ValueError, "one entry per layer"),
        (([np.ones(2)], [np.array([3.0, 4.0])], 2), {}, ValueError, "no allocation fits"),
        (([np.ones(2)], [np.array([0.5, 1.0])], 2), {}, ValueError, "pass step="),
        (([np.ones(2)], [np.ones(2)], -1), {}, ValueError, "budget must be finite and >= 0"),
        (([np.ones(2)], [np.ones(2)], "5"), {}, TypeError, "budget must be a number"),
        (([np.ones(2)], [np.ones(2)], 5), {"method": "lp"}, ValueError, "method must be one of"),
        (([np.ones(2)], [np.ones(2)], 5), {"kind": "x"}, ValueError, "kind must be one of"),
        (([np.ones(2)], [-1.0], 5), {"kind": "spectrum"}, ValueError, "size per rank"),
        (([np.array([np.nan])], [np.ones(1)], 5), {}, ValueError, "NaN or inf"),
        (([np.ones(2)], [np.ones(2)], 5), {"backend": "gpu"}, ValueError, "backend must be one"),
    ],
)
def test_allocate_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        lowrank.allocate_ranks(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# merge_experts
# ---------------------------------------------------------------------------------------------


def test_merge_experts_recovers_planted_permutations():
    rng = np.random.default_rng(19)
    h, d = 12, 7
    w_in, w_out = rng.standard_normal((h, d)), rng.standard_normal((d, h))
    experts, planted = [], []
    for _ in range(4):
        perm = rng.permutation(h)
        noise = 0.05
        experts.append(
            (
                w_in[perm] + noise * rng.standard_normal((h, d)),
                w_out[:, perm] + noise * rng.standard_normal((d, h)),
            )
        )
        planted.append(perm)
    freq = np.array([0.1, 0.5, 0.3, 0.1])
    res = lowrank.merge_experts(experts, freq, neuron_axis=(0, 1))
    ref = 1  # the most frequent expert
    assert res.dominant.tolist() == [ref]
    for e in range(4):
        # Neuron i of the reference is neuron planted[ref][i] of w; expert e holds it at
        # position inverse(planted[e])[planted[ref][i]].
        inv = np.argsort(planted[e])
        np.testing.assert_array_equal(res.permutations[e], inv[planted[ref]])
    # Independent check of one alignment with scipy's assignment on the same similarity.
    feats = [np.concatenate([a, b.T], axis=1) for a, b in experts]
    _, col = scipy.optimize.linear_sum_assignment(feats[ref] @ feats[0].T, maximize=True)
    np.testing.assert_array_equal(res.permutations[0], col)
    expected_in = sum(f * experts[e][0][res.permutations[e]] for e, f in enumerate(freq))
    np.testing.assert_allclose(res.merged[0][0], expected_in / freq.sum(), atol=1e-12)
    per_expert = 2 * h * d
    assert res.report.parameters == per_expert
    assert res.report.compression_ratio == pytest.approx(
        4 * per_expert * 8 / (per_expert * 8 + res.report.metadata_bytes)
    )
    assert res.report.relative_error < 0.1
    unaligned = lowrank.merge_experts(experts, freq, neuron_axis=(0, 1), align=False)
    assert unaligned.report.relative_error > 0.5


def test_merge_experts_groups_and_bad_input():
    rng = np.random.default_rng(20)
    experts = [rng.standard_normal((5, 3)) for _ in range(4)]
    res = lowrank.merge_experts(experts, [1, 2, 3, 4], groups=[0, 0, 1, 1])
    assert len(res.merged) == 2 and res.dominant.tolist() == [1, 3]
    with pytest.raises(ValueError, match=r"frequencies must have shape \(4,\)"):
        lowrank.merge_experts(experts, [1, 2])
    with pytest.raises(ValueError, match="experts must all have the same matrix shapes"):
        lowrank.merge_experts([np.ones((2, 2)), np.ones((3, 2))], [1, 1])
    with pytest.raises(ValueError, match="group 0 has zero total frequency"):
        lowrank.merge_experts(experts, [0, 0, 0, 0])
    with pytest.raises(ValueError, match="frequencies must be finite and >= 0"):
        lowrank.merge_experts(experts, [1, -1, 1, 1])
    with pytest.raises(ValueError, match="neuron axes disagree"):
        lowrank.merge_experts([(np.ones((2, 3)), np.ones((4, 2)))], [1], neuron_axis=0)


# ---------------------------------------------------------------------------------------------
# Layouts and threads across the module
# ---------------------------------------------------------------------------------------------


def _read_only_fortran(a):
    f = np.asfortranarray(a)
    f.setflags(write=False)
    return f


def test_layouts_for_joint_svd_cur_pca():
    rng = np.random.default_rng(22)
    blocks = [rng.standard_normal((12, 7)) for _ in range(3)]
    expected = lowrank.joint_svd(blocks, 3)
    odd = [_read_only_fortran(b) for b in blocks]
    got = lowrank.joint_svd(odd, 3)
    np.testing.assert_allclose(got.basis, expected.basis, atol=1e-10)
    strided = [np.repeat(b, 2, axis=1)[:, ::2] for b in blocks]
    np.testing.assert_allclose(lowrank.joint_svd(strided, 3).basis, expected.basis, atol=1e-10)
    a = rng.standard_normal((20, 15))
    np.testing.assert_allclose(
        lowrank.cur(_read_only_fortran(a), 5, 5, select="pivoted_qr").reconstruct(),
        lowrank.cur(a, 5, 5, select="pivoted_qr").reconstruct(),
        atol=1e-10,
    )
    x = rng.standard_normal((50, 6))
    np.testing.assert_allclose(
        lowrank.PCA().fit(_read_only_fortran(x)).components_,
        lowrank.PCA().fit(x).components_,
        atol=1e-12,
    )
    with infokit.threads(2):
        two = lowrank.joint_svd(blocks, 3)
    np.testing.assert_allclose(two.basis, expected.basis, atol=1e-12)


def test_allocate_accepts_a_2d_table_of_spectra():
    spectra = np.array([[3.0, 2.0, 1.0], [2.5, 0.5, 0.1]])
    res = lowrank.allocate_ranks(spectra, np.array([2, 2]), 6, kind="spectrum")
    # Three ranks of size 2 fit: keep σ = 3, 2.5, 2.
    assert res.levels.tolist() == [2, 1]
    assert res.total_error == pytest.approx(1.0 + 0.25 + 0.01)


def test_report_text_for_weighted_and_randomized():
    rng = np.random.default_rng(23)
    a, _ = decaying(rng, 300, 260)
    rand = lowrank.svd(a, 5, method="randomized", seed=0).report
    assert rand.error_ratio is None and rand.optimal_error is None
    assert "optimal error           n/a" in str(rand)
    weighted = lowrank.svd(a, 5, weights=(np.ones(300), None), method="exact").report
    assert "relative error (weighted)" in str(weighted)
    plain = lowrank.svd(a, 5, method="exact").report
    assert weighted.relative_error == pytest.approx(plain.relative_error, rel=1e-12)
