"""Loss families of infokit.losses against direct formulas and finite differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.special
import scipy.stats

from infokit import losses


def _data(seed: int = 0, n: int = 6, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return 1.5 * rng.normal(size=(n, k)), rng.integers(0, k, n)


def _p_y(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    return scipy.special.softmax(z, axis=-1)[np.arange(len(t)), t]


def _finite_difference(f: Callable[[np.ndarray], float], z: np.ndarray) -> np.ndarray:
    g = np.zeros_like(z)
    h = 1e-6
    for idx in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[idx] += h
        down[idx] -= h
        g[idx] = (f(up) - f(down)) / (2 * h)
    return g


def _check_gradient(family: Callable[..., losses.LossResult], z: np.ndarray, **kw: Any) -> None:
    got = family(z, grad=True, **kw)
    assert got.grad_logits is not None
    fd = _finite_difference(lambda x: float(family(x, **kw).loss), z)
    np.testing.assert_allclose(got.grad_logits, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("tau", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
def test_comp_sum_formula_and_gradient(backend: str, tau: float) -> None:
    z, t = _data()
    p = _p_y(z, t)
    expected = -np.log(p) if tau == 1.0 else (1 - p ** (tau - 1)) / (tau - 1)
    got = losses.comp_sum_loss(z, t, tau, reduction="none")
    np.testing.assert_allclose(got.loss, expected, rtol=1e-12)
    _check_gradient(lambda x, **kw: losses.comp_sum_loss(x, t, tau, **kw), z)


def test_comp_sum_special_cases(backend: str) -> None:
    z, t = _data(1)
    p = _p_y(z, t)
    zero = losses.comp_sum_loss(z, t, 0.0, reduction="none").loss
    others = np.exp(z - z[np.arange(len(t)), t][:, None]).sum(1) - 1.0  # Σ_{y'≠y} e^{z_y'−z_y}
    np.testing.assert_allclose(zero, others, rtol=1e-12)
    np.testing.assert_allclose(losses.comp_sum_loss(z, t, 2.0, reduction="none").loss, 1 - p)
    gce = losses.generalized_cross_entropy(z, t, q=0.7)
    assert gce.loss == pytest.approx(np.mean((1 - p**0.7) / 0.7), rel=1e-12)
    assert losses.comp_sum_loss(z, t, 1.0).loss == pytest.approx(losses.cross_entropy(z, t).loss)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_formula_and_gradient(backend: str, gamma: float) -> None:
    z, t = _data(2)
    alpha = np.linspace(0.5, 1.5, z.shape[1])
    p = _p_y(z, t)
    expected = -alpha[t] * (1 - p) ** gamma * np.log(p)
    got = losses.focal_loss(z, t, gamma, alpha=alpha, reduction="sum")
    assert got.loss == pytest.approx(expected.sum(), rel=1e-12)
    _check_gradient(lambda x, **kw: losses.focal_loss(x, t, gamma, alpha=alpha, **kw), z)


def test_bias_loss_formula_and_gradient(backend: str) -> None:
    z, t = _data(3)
    var = np.array([0.1, 0.4, 0.2, 0.9, 0.5, 0.3])
    v_hat = (var - 0.1) / 0.8
    psi = np.exp(0.3 * v_hat) - 1 + 0.3
    expected = psi * -np.log(_p_y(z, t))
    got = losses.bias_loss(z, t, var)
    assert got.loss == pytest.approx(expected.mean(), rel=1e-12)
    _check_gradient(lambda x, **kw: losses.bias_loss(x, t, var, **kw), z)


def test_ldr_kl_formula_and_gradient(backend: str) -> None:
    z, t = _data(4)
    lam, c = 0.7, 0.4
    k = z.shape[1]
    margin = c * (np.arange(k)[None, :] != t[:, None])
    inner = (margin + z - z[np.arange(len(t)), t][:, None]) / lam
    expected = lam * (scipy.special.logsumexp(inner, axis=1) - np.log(k))
    got = losses.ldr_kl_loss(z, t, lam, margin=c, reduction="none")
    np.testing.assert_allclose(got.loss, expected, rtol=1e-12)
    _check_gradient(lambda x, **kw: losses.ldr_kl_loss(x, t, lam, margin=c, **kw), z)


def test_hl_gauss_and_two_hot_targets(backend: str) -> None:
    edges = np.linspace(-3.0, 3.0, 25)
    y = np.array([-1.234, 0.0, 0.77, 1.8])  # well inside: truncation shifts the mean
    q = losses.hl_gauss_targets(y, edges, sigma=0.3)
    np.testing.assert_allclose(q.sum(-1), 1.0, rtol=1e-13)
    # the bin masses of a truncated normal, from scipy
    lo, hi = (edges[0] - y) / 0.3, (edges[-1] - y) / 0.3
    dist = scipy.stats.truncnorm(lo[:, None], hi[:, None], loc=y[:, None], scale=0.3)
    np.testing.assert_allclose(q, np.diff(dist.cdf(edges[None, :]), axis=1), atol=1e-12)
    np.testing.assert_allclose(losses.histogram_mean(q, edges), y, atol=1e-3)
    atoms = np.linspace(-3.0, 3.0, 13)
    two = losses.two_hot_targets(y, atoms)
    np.testing.assert_allclose(two.sum(-1), 1.0)
    np.testing.assert_allclose(losses.histogram_mean(two, atoms), y, rtol=1e-13)
    assert (np.count_nonzero(two, axis=-1) <= 2).all()
    soft = losses.soft_cross_entropy(np.zeros((4, 24)), q, grad=True)
    assert soft.loss == pytest.approx(np.log(24), rel=1e-14)  # uniform prediction
    _check_gradient(lambda x, **kw: losses.soft_cross_entropy(x, q, **kw), _data(5, 4, 24)[0])


def test_family_bad_input() -> None:
    z, t = _data()
    with pytest.raises(ValueError, match="tau must be >= 0"):
        losses.comp_sum_loss(z, t, -1.0)
    with pytest.raises(ValueError, match=r"q must be in \(0, 1\]"):
        losses.generalized_cross_entropy(z, t, q=0.0)
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        losses.focal_loss(z, t, -2.0)
    with pytest.raises(ValueError, match=r"feature_variance must have shape \(6,\)"):
        losses.bias_loss(z, t, np.ones(3))
    with pytest.raises(ValueError, match="lam must be finite and > 0"):
        losses.ldr_kl_loss(z, t, 0.0)
    with pytest.raises(ValueError, match="support must be finite and strictly increasing"):
        losses.two_hot_targets([0.5], [0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="support must have K \\+ 1 = 4 edges or K = 3 atoms"):
        losses.histogram_mean(np.ones((2, 3)) / 3, np.arange(6.0))


@pytest.mark.parametrize("causal", [True, False])
def test_attention_entropy_matches_materialised(
    backend: str, monkeypatch: pytest.MonkeyPatch, causal: bool
) -> None:
    from infokit import _losses_engine

    monkeypatch.setattr(_losses_engine, "VOCAB_TILE", 4)  # many key tiles, some on the diagonal
    monkeypatch.setattr(_losses_engine, "TILE_ENTRIES", 12)
    rng = np.random.default_rng(7)
    q = rng.normal(size=(2, 3, 9, 4))
    k = rng.normal(size=(2, 3, 11, 4))
    scores = q @ np.swapaxes(k, -1, -2) / 2.0  # 1/sqrt(d)
    if causal:
        allowed = np.arange(11)[None, :] <= np.arange(9)[:, None] + 2
        scores = np.where(allowed, scores, -np.inf)
    a = scipy.special.softmax(scores, axis=-1)
    expected = scipy.stats.entropy(a, axis=-1)
    got = losses.attention_entropy(q, k, causal=causal)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(losses.attention_entropy(probs=a), expected, rtol=1e-12)
    np.testing.assert_allclose(losses.attention_entropy(probs=a, base=2), expected / np.log(2))


def test_attention_entropy_causal_bounds(backend: str) -> None:
    rng = np.random.default_rng(8)
    q, k = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    h = losses.attention_entropy(q, k)
    assert h[0] == 0.0  # the first query sees one key
    assert (h <= np.log(np.arange(1, 7)) + 1e-12).all()
    flat = losses.attention_entropy(np.zeros((5, 3)), np.zeros((5, 3)))
    np.testing.assert_allclose(flat, np.log(np.arange(1, 6)), rtol=1e-14)
    with pytest.raises(ValueError, match="must share leading axes and d"):
        losses.attention_entropy(q, k[:, :2])
    with pytest.raises(ValueError, match="pass either q and k, or probs"):
        losses.attention_entropy(q, k, probs=np.ones((2, 2)) / 2)
