"""infokit.tensor against an independent unfold-and-SVD HOSVD, tensorly's tucker and parafac,
planted low-rank tensors, the explicit reconstruction error; dtypes, threads, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import infokit
from infokit import tensor


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Two BLAS threads on this shared 2-core machine cost 10x; the thread test sets its own."""
    with infokit.threads(1):
        yield


def unfold(x, mode):
    return np.moveaxis(x, mode, 0).reshape(x.shape[mode], -1)


def planted_tucker(rng, shape, ranks, noise=0.0, dtype=np.float64):
    core = rng.standard_normal(ranks)
    x = core
    for n, (size, r) in enumerate(zip(shape, ranks, strict=True)):
        u, _ = np.linalg.qr(rng.standard_normal((size, r)))
        x = np.moveaxis(np.tensordot(u, x, axes=(1, n)), 0, n)
    x = x + noise * rng.standard_normal(shape)
    return x.astype(dtype)


def rel_err(a, b):
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.linalg.norm(a64 - b64) / np.linalg.norm(a64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(9, 7, 6), (5, 6, 4, 3), (8, 10)])
def test_hosvd_matches_unfolding_svd(dtype, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    ranks = tuple(max(1, s // 2) for s in shape)
    res = tensor.tucker(x, ranks)
    assert res.core.dtype == dtype and all(f.dtype == dtype for f in res.factors)
    x64 = x.astype(np.float64)
    # Independent HOSVD: the left singular vectors of each unfolding, core by tensordot.
    ref_factors = [np.linalg.svd(unfold(x64, n))[0][:, :r] for n, r in enumerate(ranks)]
    core = x64
    for n, u in enumerate(ref_factors):
        core = np.moveaxis(np.tensordot(u.T, core, axes=(1, n)), 0, n)
    approx = core
    for n, u in enumerate(ref_factors):
        approx = np.moveaxis(np.tensordot(u, approx, axes=(1, n)), 0, n)
    tol = 2e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(res.to_dense(), approx, atol=tol * np.abs(x64).max())
    for f, u in zip(res.factors, ref_factors, strict=True):
        f64 = f.astype(np.float64)
        np.testing.assert_allclose(f64 @ f64.T, u @ u.T, atol=20 * tol)
        np.testing.assert_allclose(f64.T @ f64, np.eye(f.shape[1]), atol=10 * tol)
    assert res.report.relative_error == pytest.approx(rel_err(x64, approx), rel=1e-3)


@pytest.mark.parametrize("method", ["hosvd", "hooi"])
def test_tucker_recovers_planted_and_matches_tensorly(method):
    tl = pytest.importorskip("tensorly")
    from tensorly.decomposition import tucker as tl_tucker

    rng = np.random.default_rng(1)
    clean = planted_tucker(rng, (12, 10, 9), (3, 4, 2))
    x = clean + 0.01 * rng.standard_normal(clean.shape)
    res = tensor.tucker(x, (3, 4, 2), method=method)
    ours = rel_err(x, res.to_dense())
    assert ours == pytest.approx(res.report.relative_error, rel=1e-6)
    core, factors = tl_tucker(x, rank=[3, 4, 2], init="svd", n_iter_max=100, tol=1e-12)
    theirs = rel_err(x, tl.tucker_to_tensor((core, factors)))  # tensorly runs HOOI
    assert theirs <= ours * (1 + 1e-9)
    assert ours == pytest.approx(theirs, rel=1e-5 if method == "hooi" else 1e-3)
    # The planted tensor is a feasible approximation: no worse than the noise (HOOI).
    assert ours <= rel_err(x, clean) * (1 + 1e-3)
    np.testing.assert_allclose(tl.tucker_to_tensor(res.to_tensorly()), res.to_dense(), atol=1e-12)
    core2, factors2 = res
    assert core2 is res.core and len(factors2) == 3


def test_hooi_is_no_worse_than_hosvd():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((10, 9, 8))
    hosvd = tensor.tucker(x, (3, 3, 3))
    hooi = tensor.tucker(x, (3, 3, 3), method="hooi", n_iter=30)
    assert hooi.report.relative_error <= hosvd.report.relative_error + 1e-12
    assert hooi.n_iter >= 1 and hosvd.n_iter == 0


def test_tucker_report_and_projection():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 12, 10))
    res = tensor.tucker(x, (4, 3, 2))
    rep = res.report
    assert rep.parameters == 4 * 3 * 2 + 16 * 4 + 12 * 3 + 10 * 2
    assert rep.original_parameters == x.size
    assert rep.metadata_bytes == 8 + 8 * 6
    assert rep.break_even_rank is None and rep.optimal_error is None
    np.testing.assert_allclose(res.project(x), res.core, atol=1e-12)
    assert "Tucker(ranks (4, 3, 2)" in repr(res) and "tucker/hosvd" in str(rep)


def test_mode_product_matches_tensordot():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 5, 6))
    for mode in range(4):
        m = rng.standard_normal((2, x.shape[mode]))
        expected = np.moveaxis(np.tensordot(m, x, axes=(1, mode)), 0, mode)
        np.testing.assert_allclose(tensor.mode_product(x, m, mode), expected, atol=1e-12)
    with pytest.raises(ValueError, match="m must have 4 columns for mode 1"):
        tensor.mode_product(x, np.ones((2, 3)), 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cp_recovers_planted_low_rank_tensor(dtype):
    rng = np.random.default_rng(5)
    factors = [rng.standard_normal((s, 3)) for s in (8, 7, 6)]
    x = np.einsum("ir,jr,kr->ijk", *factors).astype(dtype)
    res = tensor.cp(x, 3, seed=0)
    assert res.weights.dtype == dtype and all(f.dtype == dtype for f in res.factors)
    tol = 1e-4 if dtype == np.float32 else 1e-7
    assert rel_err(x, res.to_dense()) < tol
    assert res.report.relative_error < 10 * np.sqrt(tol)
    # Each planted component is found up to scale (CP is essentially unique here).
    for f_planted, f_found in zip(factors, res.factors, strict=True):
        cos = np.abs((f_planted / np.linalg.norm(f_planted, axis=0)).T @ f_found.astype(np.float64))
        assert np.all(cos.max(axis=1) > 1 - 10 * tol)
    assert np.all(np.diff(res.weights) <= 0)
    w, fs = res
    assert len(fs) == 3 and w is res.weights


def test_cp_against_tensorly_parafac():
    tl = pytest.importorskip("tensorly")
    from tensorly.decomposition import parafac

    rng = np.random.default_rng(6)
    x = np.einsum("ir,jr,kr->ijk", *[rng.standard_normal((s, 2)) for s in (6, 5, 4)])
    x = x + 0.01 * rng.standard_normal(x.shape)
    ours = tensor.cp(x, 2, seed=0)
    theirs = parafac(x, 2, init="svd", n_iter_max=500, tol=1e-12)
    err_theirs = rel_err(x, tl.cp_to_tensor(theirs))
    err_ours = rel_err(x, ours.to_dense())
    assert err_ours == pytest.approx(err_theirs, rel=1e-3)
    assert ours.report.relative_error == pytest.approx(err_ours, rel=1e-3)
    np.testing.assert_allclose(tl.cp_to_tensor(ours.to_tensorly()), ours.to_dense(), atol=1e-12)
    assert "cp/als" in repr(ours)
    assert ours.report.parameters == 2 * (6 + 5 + 4) + 2


def test_cp_seed_determinism_and_threads():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 5, 4))
    a = tensor.cp(x, 3, init="random", seed=1, n_iter=20)
    b = tensor.cp(x, 3, init="random", seed=1, n_iter=20)
    np.testing.assert_array_equal(a.weights, b.weights)
    with infokit.threads(2):
        c = tensor.tucker(x, 2)
    np.testing.assert_allclose(c.to_dense(), tensor.tucker(x, 2).to_dense(), atol=1e-12)


def test_layouts_and_read_only():
    rng = np.random.default_rng(8)
    base = rng.standard_normal((6, 10, 5))
    view = base[:, ::2, :]
    expected = tensor.tucker(np.ascontiguousarray(view), 2).to_dense()
    np.testing.assert_allclose(tensor.tucker(view, 2).to_dense(), expected, atol=1e-12)
    ro = np.asfortranarray(base)
    ro.setflags(write=False)
    np.testing.assert_allclose(
        tensor.tucker(ro, 2).to_dense(), tensor.tucker(base, 2).to_dense(), atol=1e-12
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dims=st.lists(st.integers(1, 5), min_size=2, max_size=4))
def test_property_tucker_error_identity(seed, dims):
    x = np.random.default_rng(seed).standard_normal(dims)
    ranks = [max(1, d - 1) for d in dims]
    res = tensor.tucker(x, ranks)
    assert res.report.relative_error == pytest.approx(rel_err(x, res.to_dense()), abs=1e-6)
    full = tensor.tucker(x, dims)
    np.testing.assert_allclose(full.to_dense(), x, atol=1e-9)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (
            lambda: tensor.tucker(np.ones((3, 4, 5)), (2, 5, 2)),
            ValueError,
            r"ranks\[1\] must be <= the mode size 4",
        ),
        (lambda: tensor.tucker(np.ones((3, 4, 5)), (2, 2)), ValueError, "one rank per mode"),
        (
            lambda: tensor.tucker(np.ones((3, 4, 5)), (2, 0, 2)),
            ValueError,
            r"ranks\[1\] must be >= 1",
        ),
        (lambda: tensor.tucker(np.ones(4), 1), ValueError, "at least 2 dimensions"),
        (lambda: tensor.tucker(np.full((2, 2), np.nan), 1), ValueError, "NaN or inf"),
        (
            lambda: tensor.tucker(np.ones((2, 2)), 1, method="svd"),
            ValueError,
            "method must be one of",
        ),
        (lambda: tensor.tucker(np.ones((2, 0, 2)), 1), ValueError, "X is empty"),
        (
            lambda: tensor.tucker(np.ones((2, 2), complex), 1),
            TypeError,
            "X must hold real numbers, got dtype complex128",
        ),
        (
            lambda: tensor.tucker(np.ones((2, 2)), 1, tol=-1.0),
            ValueError,
            "tol must be a number >= 0",
        ),
        (lambda: tensor.cp(np.ones((2, 2)), 0), ValueError, "rank must be >= 1"),
        (lambda: tensor.cp(np.ones((2, 2)), 1, init="nvecs"), ValueError, "init must be one of"),
        (lambda: tensor.cp(np.ones((2, 2)), 1, seed=1.5), TypeError, "seed must be None"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
