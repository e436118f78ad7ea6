"""infokit.representation: Barlow Twins against Pearson correlations, finite differences and (when
torch is installed) autograd through BatchNorm1d; neural collapse against dense formulas with a
pseudo-inverse, a simplex ETF, the nearest-mean classifier; dtypes; bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infokit import representation as rep


def pair(rng, n=64, d=6, noise=0.5):
    z1 = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    return z1, z1 + noise * rng.normal(size=(n, d))


# --- Barlow Twins ------------------------------------------------------------------------------


def test_cross_correlation_is_pearson_without_eps():
    rng = np.random.default_rng(1)
    z1, z2 = pair(rng)
    r = rep.barlow_twins(z1, z2, lam=0.3, eps=0.0)
    d = z1.shape[1]
    pearson = np.corrcoef(z1.T, z2.T)[:d, d:]
    np.testing.assert_allclose(r.cross_correlation, pearson, rtol=1e-12, atol=1e-14)
    on = sum((1 - pearson[i, i]) ** 2 for i in range(d))
    off = sum(pearson[i, j] ** 2 for i in range(d) for j in range(d) if i != j)
    assert r.on_diagonal == pytest.approx(on, rel=1e-12)
    assert r.off_diagonal == pytest.approx(off, rel=1e-12)
    assert r.loss == pytest.approx(on + 0.3 * off, rel=1e-12)


@pytest.mark.parametrize(("lam", "eps"), [(0.0051, 1e-5), (0.5, 0.0), (2.0, 0.1)])
def test_gradients_match_finite_differences(lam, eps):
    rng = np.random.default_rng(2)
    z1, z2 = pair(rng, n=12, d=4)
    r = rep.barlow_twins(z1, z2, lam=lam, eps=eps)

    def loss(a, b):
        return rep.barlow_twins(a, b, lam=lam, eps=eps, gradients=False).loss

    h = 1e-6
    for which, grad in ((0, r.grad_z1), (1, r.grad_z2)):
        fd = np.zeros_like(z1)
        for i in range(z1.shape[0]):
            for j in range(z1.shape[1]):
                e = np.zeros_like(z1)
                e[i, j] = h
                args_p = (z1 + e, z2) if which == 0 else (z1, z2 + e)
                args_m = (z1 - e, z2) if which == 0 else (z1, z2 - e)
                fd[i, j] = (loss(*args_p) - loss(*args_m)) / (2 * h)
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_matches_torch_batchnorm_and_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z1, z2 = pair(rng, n=32, d=5)
    lam = 0.0051
    t1 = torch.tensor(z1, requires_grad=True)
    t2 = torch.tensor(z2, requires_grad=True)
    bn = torch.nn.BatchNorm1d(5, affine=False, dtype=torch.float64)  # the reference's normaliser
    c = bn(t1).T @ bn(t2) / 32
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    loss = on + lam * off
    loss.backward()
    r = rep.barlow_twins(z1, z2, lam=lam)
    assert r.loss == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(r.cross_correlation, c.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(r.grad_z1, t1.grad.numpy(), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(r.grad_z2, t2.grad.numpy(), rtol=1e-9, atol=1e-14)


def test_identical_decorrelated_inputs_give_zero_and_noise_gives_d():
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.normal(size=(200, 8)))  # orthonormal, then centred below
    z = q - q.mean(axis=0)
    z -= z.mean(axis=0)
    white = np.linalg.qr(z)[0]
    r = rep.barlow_twins(white, white, eps=0.0)
    assert r.loss == pytest.approx(0.0, abs=1e-20 + 1e-12)
    np.testing.assert_allclose(r.grad_z1, 0.0, atol=1e-10)
    noise = rep.barlow_twins(rng.normal(size=(20000, 8)), rng.normal(size=(20000, 8)), lam=0.0)
    assert noise.loss == pytest.approx(8.0, rel=0.01)


def test_float32_stays_float32():
    rng = np.random.default_rng(5)
    z1, z2 = pair(rng)
    r32 = rep.barlow_twins(z1.astype(np.float32), z2.astype(np.float32))
    r64 = rep.barlow_twins(z1, z2)
    assert r32.cross_correlation.dtype == np.float32 and r32.grad_z1.dtype == np.float32
    assert r32.loss == pytest.approx(r64.loss, rel=1e-5)
    assert rep.barlow_twins(z1, z2, gradients=False).grad_z2 is None


def test_barlow_twins_bad_input():
    z = np.ones((4, 3))
    z[:, 1] = np.arange(4)
    with pytest.raises(
        ValueError, match=r"z1 and z2 must have the same shape, got \(4, 3\) and \(4, 2\)"
    ):
        rep.barlow_twins(z, z[:, :2])
    with pytest.raises(ValueError, match="z1 needs at least 2 samples"):
        rep.barlow_twins(z[:1], z[:1])
    with pytest.raises(ValueError, match="z2 contains NaN or inf"):
        rep.barlow_twins(z, np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match=r"z1 has a constant column \(0\); pass eps > 0"):
        rep.barlow_twins(z, z + np.arange(4)[:, None], eps=0.0)
    with pytest.raises(ValueError, match="lam must be a finite number >= 0, got -1"):
        rep.barlow_twins(z, z, lam=-1)
    with pytest.raises(TypeError, match="z1 must hold real numbers"):
        rep.barlow_twins(z.astype(complex), z)
    with pytest.raises(ValueError, match=r"z1 must be 2-D \(n samples, d features\)"):
        rep.barlow_twins(z[0], z[0])


# --- neural collapse ---------------------------------------------------------------------------


def dense_nc(h, y, w=None, b=None):
    """The metrics from their definitions with d x d matrices and numpy's pinv."""
    k = int(y.max()) + 1
    mu_g = h.mean(axis=0)
    means = np.stack([h[y == c].mean(axis=0) for c in range(k)])
    m = means - mu_g
    sw = sum(np.outer(h[i] - means[y[i]], h[i] - means[y[i]]) for i in range(len(h))) / len(h)
    sb = sum(np.outer(m[c], m[c]) for c in range(k)) / k
    nc1 = np.trace(sw @ np.linalg.pinv(sb)) / k

    def etf(v):
        g = v @ v.T
        target = (np.eye(k) - np.ones((k, k)) / k) / np.sqrt(k - 1)
        return np.linalg.norm(g / np.linalg.norm(g) - target)

    out = {"nc1": nc1, "nc2": etf(m)}
    if w is not None:
        out["nc2_classifier"] = etf(w)
        out["nc3"] = np.linalg.norm(w / np.linalg.norm(w) - m / np.linalg.norm(m))
        logits = h @ w.T + (0 if b is None else b)
        dist = ((h[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
        out["nc4"] = np.mean(logits.argmax(axis=1) != dist.argmin(axis=1))
    return out


def simplex_etf(k, d, scale=3.0):
    basis = np.linalg.qr(np.random.default_rng(0).normal(size=(d, k)))[0]  # d x k orthonormal
    return scale * (np.eye(k) - 1.0 / k) @ basis.T  # k x d, centred, equal norms and angles


def test_collapsed_features_on_a_simplex_etf_give_zero():
    k, d = 5, 8
    m = simplex_etf(k, d)
    y = np.repeat(np.arange(k), 7)
    r = rep.neural_collapse(m[y], y, classifier=m, bias=np.zeros(k))
    assert r.nc1 == pytest.approx(0.0, abs=1e-20)
    assert r.nc2 == pytest.approx(0.0, abs=1e-14)
    assert r.nc2_classifier == pytest.approx(0.0, abs=1e-14)
    assert r.nc3 == pytest.approx(0.0, abs=1e-14)
    assert r.nc4 == 0.0 and r.n_classes == k


def test_nc1_falls_to_zero_as_features_collapse():
    rng = np.random.default_rng(6)
    k, d = 4, 10
    m = simplex_etf(k, d)
    y = rng.integers(0, k, 400)
    noise = rng.normal(size=(400, d))
    values = [rep.neural_collapse(m[y] + s * noise, y).nc1 for s in (1.0, 0.1, 0.01)]
    assert values[0] > values[1] > values[2]
    assert values[1] / values[2] == pytest.approx(100, rel=0.1)  # NC1 scales as noise^2


@pytest.mark.parametrize("d", [3, 12])
def test_random_features_match_the_dense_definitions(d):
    rng = np.random.default_rng(7)
    k = 5
    h = rng.normal(size=(120, d)) + rng.normal(size=(1, d))
    y = np.concatenate([np.arange(k), rng.integers(0, k, 115)])
    w = rng.normal(size=(k, d))
    b = rng.normal(size=k)
    got = rep.neural_collapse(h, y, classifier=w, bias=b)
    want = dense_nc(h, y, w, b)
    assert got.nc1 == pytest.approx(want["nc1"], rel=1e-9)
    for key in ("nc2", "nc2_classifier", "nc3", "nc4"):
        assert getattr(got, key) == pytest.approx(want[key], rel=1e-12), key
    assert got.nc4 > 0.2  # a random classifier disagrees with the nearest mean


def test_nc4_is_zero_for_the_nearest_mean_classifier():
    # argmax_k (h . mu_k - |mu_k|^2 / 2) = argmin_k |h - mu_k|: a classifier that IS the nearest
    # class centre rule, on any features.
    rng = np.random.default_rng(8)
    h = rng.normal(size=(300, 6))
    y = rng.integers(0, 4, 300)
    means = np.stack([h[y == c].mean(axis=0) for c in range(4)])
    r = rep.neural_collapse(h, y, classifier=means, bias=-0.5 * (means**2).sum(axis=1))
    assert r.nc4 == 0.0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e3), shift=st.floats(-10, 10))
def test_nc1_nc2_invariant_to_scale_and_shift(seed, scale, shift):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(40, 5))
    y = np.arange(40) % 3
    a = rep.neural_collapse(h, y)
    b = rep.neural_collapse(scale * h + shift, y)
    assert b.nc1 == pytest.approx(a.nc1, rel=1e-7)
    assert b.nc2 == pytest.approx(a.nc2, rel=1e-7, abs=1e-12)
    assert a.nc2_classifier is None and a.nc3 is None and a.nc4 is None


def test_neural_collapse_bad_input():
    h = np.random.default_rng(9).normal(size=(6, 3))
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match=r"classes \[1\] have none"):
        rep.neural_collapse(h, np.array([0, 2, 2, 0, 2, 0]))
    with pytest.raises(ValueError, match="at least 2 classes, got 1"):
        rep.neural_collapse(h, np.zeros(6, dtype=int))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got values in \[-1, 2\]"):
        rep.neural_collapse(h, np.array([0, 1, 2, 0, 1, -1]))
    with pytest.raises(TypeError, match="labels must hold integer class indices"):
        rep.neural_collapse(h, y.astype(float))
    with pytest.raises(ValueError, match=r"one entry per row of features \(6\)"):
        rep.neural_collapse(h, y[:5])
    with pytest.raises(ValueError, match=r"classifier must be 2-D \(K, 3\)"):
        rep.neural_collapse(h, y, classifier=np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        rep.neural_collapse(h, y, classifier=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        rep.neural_collapse(h, y, classifier=np.ones((3, 3)), bias=np.ones(2))
    with pytest.raises(ValueError, match="bias is given without a classifier"):
        rep.neural_collapse(h, y, bias=np.ones(3))
    with pytest.raises(ValueError, match="features contains NaN or inf"):
        rep.neural_collapse(np.full((6, 3), np.inf), y)
