"""Tri-BCE (P39), smooth adversarial comp-sum (P01) and ALDR-KL (P22) against direct formulas,
torch float64 autograd, scipy and finite differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.optimize
import scipy.special

import infokit
from infokit import losses


def _finite_difference(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    g = np.zeros_like(x)
    h = 1e-6
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        g[idx] = (f(up) - f(down)) / (2 * h)
    return g


# --- Tri-BCE -------------------------------------------------------------------------------------


def _tri_bce_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 12).astype(float)
    good = (2 * y - 1) * 1.5 + 0.5 * rng.normal(size=12)  # a branch that mostly gets it right
    bad = 0.8 * rng.normal(size=12)  # one close to guessing: worse than the fusion
    return good, bad, y


def _tri_bce_torch(zd: np.ndarray, zs: np.ndarray, y: np.ndarray, detach: bool) -> Any:
    """The FCN recipe in torch: BCE of σ(mean logit) and of each branch, ReLU'd excess weights."""
    torch = pytest.importorskip("torch")
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    td = torch.tensor(zd, requires_grad=True)
    ts = torch.tensor(zs, requires_grad=True)
    yt = torch.tensor(y)
    fused = bce((td + ts) / 2, yt)
    loss_d, loss_s = bce(td, yt), bce(ts, yt)
    w_d, w_s = torch.relu(loss_d - fused), torch.relu(loss_s - fused)
    if detach:
        w_d, w_s = w_d.detach(), w_s.detach()
    total = fused + w_d * loss_d + w_s * loss_s
    total.backward()
    return total.item(), w_d.item(), w_s.item(), td.grad.numpy(), ts.grad.numpy()


@pytest.mark.parametrize("detach", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tri_bce_matches_torch(detach: bool, seed: int) -> None:
    good, bad, y = _tri_bce_data(seed)
    for zd, zs in ((good, bad), (bad, good), (good, good * 0.9)):
        total, w_d, w_s, gd, gs = _tri_bce_torch(zd, zs, y, detach)
        got = losses.tri_bce_loss(zd, zs, y, detach_weights=detach, grad=True)
        assert got.loss == pytest.approx(total, rel=1e-13)
        assert got.weight_d == pytest.approx(w_d, rel=1e-13, abs=1e-16)
        assert got.weight_s == pytest.approx(w_s, rel=1e-13, abs=1e-16)
        assert got.grad_d is not None and got.grad_s is not None
        np.testing.assert_allclose(got.grad_d, gd, rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(got.grad_s, gs, rtol=1e-12, atol=1e-16)


def test_tri_bce_formula_and_finite_differences() -> None:
    good, bad, y = _tri_bce_data(3)

    def bce(z: np.ndarray) -> float:
        p = scipy.special.expit(z)
        return float(np.mean(-(y * np.log(p) + (1 - y) * np.log1p(-p))))

    got = losses.tri_bce_loss(bad, good, y, grad=True)
    fused, ld, ls = bce((bad + good) / 2), bce(bad), bce(good)
    assert got.bce == pytest.approx(fused, rel=1e-13)
    assert (got.bce_d, got.bce_s) == pytest.approx((ld, ls), rel=1e-13)
    expected = fused + max(0.0, ld - fused) * ld + max(0.0, ls - fused) * ls
    assert got.loss == pytest.approx(expected, rel=1e-13)
    assert got.weight_d > 0.0  # the weak branch is weighted
    both = np.stack([bad, good])
    fd = _finite_difference(lambda x: losses.tri_bce_loss(x[0], x[1], y).loss, both)
    assert got.grad_d is not None and got.grad_s is not None
    np.testing.assert_allclose(np.stack([got.grad_d, got.grad_s]), fd, rtol=1e-6, atol=1e-9)


def test_tri_bce_dtypes_and_bad_input() -> None:
    good, bad, y = _tri_bce_data(4)
    r32 = losses.tri_bce_loss(good.astype(np.float32), bad.astype(np.float32), y, grad=True)
    assert r32.grad_d is not None and r32.grad_d.dtype == np.float32
    r64 = losses.tri_bce_loss(good.astype(np.float32).astype(np.float64), bad.astype(np.float32), y)
    assert r32.loss == pytest.approx(r64.loss, rel=1e-12)
    big = losses.tri_bce_loss(np.full(3, 800.0), np.full(3, -800.0), np.array([1.0, 0.0, 1.0]))
    assert np.isfinite(big.loss)  # no overflow in the softplus
    with pytest.raises(ValueError, match="logits_d and logits_s must have the same shape"):
        losses.tri_bce_loss(good, bad[:-1], y)
    with pytest.raises(
        ValueError, match=r"targets must be labels \(or probabilities\) in \[0, 1\]"
    ):
        losses.tri_bce_loss(good, bad, y + 1)
    with pytest.raises(ValueError, match=r"targets must have the logits' shape \(12,\)"):
        losses.tri_bce_loss(good, bad, y[:3])
    with pytest.raises(ValueError, match="must be finite"):
        losses.tri_bce_loss(np.full(12, np.nan), bad, y)


# --- smooth adversarial comp-sum -----------------------------------------------------------------


def _adv_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = 1.5 * rng.normal(size=(7, 5))
    za = z + 0.3 * rng.normal(size=(7, 5))
    t = rng.integers(0, 5, 7)
    t[2] = -100
    return z, za, t


@pytest.mark.parametrize("tau", [0.0, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_smooth_adversarial_comp_sum_matches_torch(
    backend: str, tau: float, reduction: str
) -> None:
    torch = pytest.importorskip("torch")
    z, za, t = _adv_data()
    nu = 0.7
    zt = torch.tensor(z, requires_grad=True)
    zat = torch.tensor(za, requires_grad=True)
    valid = torch.tensor(t != -100)
    y = torch.tensor(np.where(t != -100, t, 0))[:, None]
    p_y = torch.softmax(zt, -1).gather(1, y)[:, 0]
    comp = -torch.log(p_y) if tau == 1.0 else (1 - p_y ** (tau - 1)) / (tau - 1)
    margins = zt.gather(1, y) - zt  # Δ(z)_k = z_y − z_k
    margins_adv = zat.gather(1, y) - zat
    per = (comp + nu * torch.linalg.vector_norm(margins_adv - margins, dim=1)) * valid
    total = {"none": per, "sum": per.sum(), "mean": per.sum() / valid.sum()}[reduction]
    total.sum().backward()
    got = losses.smooth_adversarial_comp_sum_loss(
        z, za, t, tau, nu=nu, reduction=reduction, grad=True
    )
    np.testing.assert_allclose(got.loss, total.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(got.grad_logits, zt.grad.numpy(), rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(
        got.grad_adversarial_logits, zat.grad.numpy(), rtol=1e-11, atol=1e-15
    )


def test_smooth_adversarial_comp_sum_properties() -> None:
    z, za, t = _adv_data(1)
    t[2] = 3
    base = losses.comp_sum_loss(z, t, 0.5, reduction="none").loss
    # no perturbation, or one that moves all logits alike: just the comp-sum loss
    same = losses.smooth_adversarial_comp_sum_loss(z, z + 2.0, t, 0.5, nu=3.0, reduction="none")
    np.testing.assert_allclose(same.loss, base, rtol=1e-13)
    # the smooth term is ν·‖δ_y − δ‖ with δ = z' − z
    delta = za - z
    d = delta[np.arange(7), t][:, None] - delta
    got = losses.smooth_adversarial_comp_sum_loss(z, za, t, 0.5, nu=2.0, reduction="none")
    np.testing.assert_allclose(got.loss, base + 2.0 * np.linalg.norm(d, axis=1), rtol=1e-13)
    fd_both = _finite_difference(
        lambda x: float(losses.smooth_adversarial_comp_sum_loss(x[0], x[1], t, 0.5, nu=2.0).loss),
        np.stack([z, za]),
    )
    res = losses.smooth_adversarial_comp_sum_loss(z, za, t, 0.5, nu=2.0, grad=True)
    assert res.grad_logits is not None and res.grad_adversarial_logits is not None
    np.testing.assert_allclose(res.grad_logits, fd_both[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(res.grad_adversarial_logits, fd_both[1], rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="nu must be >= 0"):
        losses.smooth_adversarial_comp_sum_loss(z, za, t, 1.0, nu=-1.0)
    with pytest.raises(ValueError, match=r"adversarial_logits must have the logits' shape"):
        losses.smooth_adversarial_comp_sum_loss(z, za[:, :-1], t, 1.0)


def test_smooth_adversarial_comp_sum_input_kinds(backend: str) -> None:
    z, za, t = _adv_data(2)
    ref = losses.smooth_adversarial_comp_sum_loss(z, za, t, 1.5, nu=0.8, grad=True)
    assert ref.grad_logits is not None and ref.grad_adversarial_logits is not None
    # float32 in: float32 gradients (and per-token losses), close to the float64 values
    z32, za32 = z.astype(np.float32), za.astype(np.float32)
    r32 = losses.smooth_adversarial_comp_sum_loss(z32, za32, t, 1.5, nu=0.8, grad=True)
    assert r32.grad_logits is not None and r32.grad_adversarial_logits is not None
    assert r32.grad_logits.dtype == r32.grad_adversarial_logits.dtype == np.float32
    per32 = losses.smooth_adversarial_comp_sum_loss(z32, za32, t, 1.5, nu=0.8, reduction="none")
    assert isinstance(per32.loss, np.ndarray) and per32.loss.dtype == np.float32
    np.testing.assert_allclose(r32.loss, ref.loss, rtol=1e-5)
    np.testing.assert_allclose(r32.grad_logits, ref.grad_logits, rtol=1e-4, atol=1e-6)
    # read-only and non-contiguous inputs give the same numbers
    wide = np.zeros((7, 10))
    wide[:, ::2] = za
    ro = z.copy()
    ro.setflags(write=False)
    same = losses.smooth_adversarial_comp_sum_loss(ro, wide[:, ::2], t, 1.5, nu=0.8, grad=True)
    assert same.loss == ref.loss
    np.testing.assert_array_equal(same.grad_adversarial_logits, ref.grad_adversarial_logits)
    with infokit.threads(1):
        one = losses.smooth_adversarial_comp_sum_loss(z, za, t, 1.5, nu=0.8, grad=True)
    with infokit.threads(2):
        two = losses.smooth_adversarial_comp_sum_loss(z, za, t, 1.5, nu=0.8, grad=True)
    assert one.loss == two.loss
    np.testing.assert_array_equal(one.grad_logits, two.grad_logits)
    # no movement at all (z' = z; a shift z + c would leave rounding noise in the margins, which
    # the unsquared norm's gradient normalises): the subgradient 0, leaving comp-sum's gradient
    still = losses.smooth_adversarial_comp_sum_loss(z, z.copy(), t, 1.5, nu=0.8, grad=True)
    base = losses.comp_sum_loss(z, t, 1.5, grad=True)
    assert still.grad_adversarial_logits is not None
    np.testing.assert_array_equal(still.grad_adversarial_logits, np.zeros_like(z))
    np.testing.assert_allclose(still.grad_logits, base.grad_logits, rtol=1e-14)
    # every target ignored: "mean" is undefined (as in cross_entropy), "sum" is 0
    none_valid = np.full(7, -100)
    with pytest.raises(ValueError, match="all targets equal ignore_index=-100"):
        losses.smooth_adversarial_comp_sum_loss(z, za, none_valid, 1.0)
    total = losses.smooth_adversarial_comp_sum_loss(z, za, none_valid, 1.0, reduction="sum")
    assert total.loss == 0.0


# --- ALDR-KL -------------------------------------------------------------------------------------


def _margins(z: np.ndarray, t: np.ndarray, c: float) -> np.ndarray:
    k = z.shape[1]
    return c * (np.arange(k)[None, :] != t[:, None]) + z - z[np.arange(len(t)), t][:, None]


def _ldr(m: np.ndarray, lam: np.ndarray) -> np.ndarray:
    k = m.shape[1]
    return lam * (scipy.special.logsumexp(m / lam[:, None], axis=1) - np.log(k))


def test_aldr_kl_one_update_matches_the_closed_form(backend: str) -> None:
    rng = np.random.default_rng(4)
    z, t = 2.0 * rng.normal(size=(8, 6)), rng.integers(0, 6, 8)
    lam_prev = rng.uniform(0.5, 1.5, 8)
    lam0, alpha, c = 1.2, 3.0, 0.3
    m = _margins(z, t, c)
    p = scipy.special.softmax(m / lam_prev[:, None], axis=1)
    kl = (p * np.log(p * 6)).sum(1)
    lam_new = np.clip(lam0 * (1 - kl / (alpha * np.log(6))), 1e-3, lam0)
    penalty = alpha * np.log(6) / (2 * lam0) * (lam_new - lam0) ** 2
    got = losses.aldr_kl_loss(
        z, t, lam_prev, lam0=lam0, alpha=alpha, margin=c, reduction="none", grad=True
    )
    np.testing.assert_allclose(got.lam, lam_new, rtol=1e-12)
    np.testing.assert_allclose(got.loss, _ldr(m, lam_new) - penalty, rtol=1e-11)
    # the gradient at λ held fixed: that of LDR-KL at the new λ
    fixed = losses.ldr_kl_loss(z, t, lam_new, margin=c, reduction="none", grad=True)
    np.testing.assert_allclose(got.grad_logits, fixed.grad_logits, rtol=1e-13)  # type: ignore[arg-type]
    stay = losses.aldr_kl_loss(z, t, lam_prev, n_updates=0, reduction="none")
    np.testing.assert_array_equal(stay.lam, lam_prev)


def test_aldr_kl_converged_lambda_maximises_and_envelope_gradient() -> None:
    rng = np.random.default_rng(5)
    z, t = 1.5 * rng.normal(size=(5, 4)), rng.integers(0, 4, 5)
    lam0, alpha = 1.0, 2.0
    m = _margins(z, t, 0.0)
    got = losses.aldr_kl_loss(z, t, lam0=lam0, alpha=alpha, n_updates=100, reduction="none")
    for i in range(5):  # the max over λ of LDR-KL(λ) − penalty(λ), by a scalar optimiser

        def neg(lam: float, i: int = i) -> float:
            pen = alpha * np.log(4) / (2 * lam0) * (lam - lam0) ** 2
            return -float(_ldr(m[i : i + 1], np.array([lam]))[0] - pen)

        best = scipy.optimize.minimize_scalar(neg, bounds=(1e-3, lam0), method="bounded",
                                              options={"xatol": 1e-12})  # fmt: skip
        assert got.lam[i] == pytest.approx(best.x, abs=1e-6)
        assert got.loss[i] == pytest.approx(-best.fun, rel=1e-10)  # type: ignore[index]

    def value(x: np.ndarray) -> float:
        return float(losses.aldr_kl_loss(x, t, lam0=lam0, alpha=alpha, n_updates=100).loss)

    res = losses.aldr_kl_loss(z, t, lam0=lam0, alpha=alpha, n_updates=100, grad=True)
    np.testing.assert_allclose(res.grad_logits, _finite_difference(value, z), rtol=1e-5, atol=1e-8)  # type: ignore[arg-type]


def test_aldr_kl_bad_input() -> None:
    rng = np.random.default_rng(6)
    z, t = rng.normal(size=(4, 3)), rng.integers(0, 3, 4)
    with pytest.raises(ValueError, match="lam0 must be > 0"):
        losses.aldr_kl_loss(z, t, lam0=0.0)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        losses.aldr_kl_loss(z, t, alpha=-1.0)
    with pytest.raises(ValueError, match=r"lam_min must be in \(0, lam0=1.0\]"):
        losses.aldr_kl_loss(z, t, lam_min=2.0)
    with pytest.raises(ValueError, match="n_updates must be an int >= 0"):
        losses.aldr_kl_loss(z, t, n_updates=-1)
    with pytest.raises(ValueError, match="lam must be finite and > 0"):
        losses.aldr_kl_loss(z, t, np.zeros(4))
    with pytest.raises(ValueError, match="ALDR-KL needs at least 2 classes"):
        losses.aldr_kl_loss(z[:, :1], np.zeros(4, dtype=int))
