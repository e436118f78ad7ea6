"""Loss families on the cross-entropy engine (re-exported by :mod:`infokit.losses`).

Most families are a per-token scale of the cross-entropy gradient: with p = softmax(z) and
g = p − e_y, their gradient is w_i·g for a w_i computed from p_y alone. The engine gives lse and
the NLL in one pass, w_i follows in O(N), and a second pass writes w_i·g (the kernel's
``grad_output``). Others are cross-entropy of transformed logits (LDR-KL) or against soft targets
(HL-Gauss, two-hot).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from . import _losses_engine as _engine
from . import losses as _losses
from ._validation import check_choice


@dataclass(frozen=True)
class LossResult:
    """A loss (float, or per token for ``reduction="none"``) and its gradient w.r.t. the logits."""

    loss: float | np.ndarray
    grad_logits: np.ndarray | None = field(default=None, repr=False)


def _ce_rows(
    logits: Any, targets: Any, ignore_index: int, backend: str
) -> tuple[np.ndarray, np.ndarray, _engine.Options, np.ndarray]:
    """(logits as given dtype, flat (n, K) view, per-token options, NLL per token in float64)."""
    z = _losses._as_float_array(logits, "logits")
    if z.ndim < 2:
        raise ValueError(f"logits must be at least 2-D (tokens, classes), got shape {z.shape}")
    opts = _losses._options(
        targets, z.shape[:-1], z.shape[-1], ignore_index, 0, "none", None, 0.0, 0.0, None
    )
    flat = z.reshape(-1, z.shape[-1])
    stats, _ = _engine.from_logits(flat, opts, False, backend)
    _engine.check_finite(stats.lse)
    return z, flat, opts, stats.loss


def _reduce_and_grad(
    per_token: np.ndarray,
    scale: np.ndarray,
    z: np.ndarray,
    flat: np.ndarray,
    opts: _engine.Options,
    reduction: str,
    grad: bool,
    backend: str,
) -> LossResult:
    """Reduce per-token losses over valid tokens; the gradient is scale_i·(p − e_y)."""
    check_choice(reduction, "reduction", _losses.REDUCTIONS)
    valid = opts.valid
    per_token = np.where(valid, per_token, 0.0)
    scale = np.where(valid, scale, 0.0)
    loss: float | np.ndarray
    if reduction == "mean":
        n_valid = int(valid.sum())
        loss, go = float(per_token.sum()) / n_valid, scale / n_valid
    elif reduction == "sum":
        loss, go = float(per_token.sum()), scale
    else:
        loss, go = per_token.reshape(z.shape[:-1]).astype(z.dtype), scale
    g = None
    if grad:
        _, g_flat = _engine.from_logits(flat, opts, True, backend, grad_output=go)
        assert g_flat is not None
        g = g_flat.reshape(z.shape)
    return LossResult(loss=loss, grad_logits=g)


def comp_sum_loss(
    logits: npt.ArrayLike,
    targets: npt.ArrayLike,
    tau: float,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    grad: bool = False,
    backend: str = "auto",
) -> LossResult:
    """Comp-sum loss of Mao, Mohri and Zhong (P01): (1 − p_y^{τ−1})/(τ − 1).

    τ = 1 is the cross-entropy (the limit), τ = 0 the sum-exponential loss
    Σ_{y'≠y} e^{z_y' − z_y} = 1/p_y − 1, τ ∈ (1, 2) generalized cross-entropy with q = τ − 1, τ = 2
    the mean absolute error 1 − p_y. Gradient: p_y^{τ−1}·(p − e_y).

    Parameters
    ----------
    logits : array_like, shape (..., K)
    targets : array_like of int, shape (...)
    tau : float >= 0
    ignore_index, reduction, grad, backend :
        As in :func:`infokit.losses.cross_entropy` ("mean" averages over valid tokens).

    Returns
    -------
    LossResult

    Notes
    -----
    Two passes over the logits with ``grad`` (one without), O(N) extra memory besides the
    gradient. Reference: A. Mao, M. Mohri, Y. Zhong (2023), "Cross-Entropy Loss Functions:
    Theoretical Analysis and Applications", ICML.
    """
    t = _losses._real(tau, "tau")
    if t < 0.0:
        raise ValueError(f"tau must be >= 0, got {tau!r}")
    z, flat, opts, nll = _ce_rows(logits, targets, ignore_index, backend)
    if t == 1.0:
        per_token, scale = nll, np.ones_like(nll)
    else:
        # p_y^{τ−1} = e^{−(τ−1)·NLL}; expm1 keeps (1 − p_y^{τ−1})/(τ − 1) accurate near τ = 1.
        per_token = -np.expm1(-(t - 1.0) * nll) / (t - 1.0)
        scale = np.exp(-(t - 1.0) * nll)
    return _reduce_and_grad(per_token, scale, z, flat, opts, reduction, grad, backend)


def generalized_cross_entropy(
    logits: npt.ArrayLike,
    targets: npt.ArrayLike,
    q: float = 0.7,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    grad: bool = False,
    backend: str = "auto",
) -> LossResult:
    """Generalized cross-entropy (Zhang & Sabuncu, 2018): (1 − p_y^q)/q, q ∈ (0, 1].

    The comp-sum loss with τ = 1 + q; q → 0 is the cross-entropy, q = 1 the MAE. Gradient
    p_y^q·(p − e_y). Parameters as in :func:`comp_sum_loss`.
    """
    qq = _losses._real(q, "q")
    if not 0.0 < qq <= 1.0:
        raise ValueError(f"q must be in (0, 1], got {q!r}")
    return comp_sum_loss(
        logits, targets, 1.0 + qq, ignore_index=ignore_index, reduction=reduction, grad=grad,
        backend=backend,
    )  # fmt: skip


def focal_loss(
    logits: npt.ArrayLike,
    targets: npt.ArrayLike,
    gamma: float = 2.0,
    *,
    alpha: npt.ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    grad: bool = False,
    backend: str = "auto",
) -> LossResult:
    """Softmax focal loss (Lin et al., 2017): −α_y·(1 − p_y)^γ·log p_y.

    Gradient w·(p − e_y) with w = α_y·[(1 − p_y)^γ − γ(1 − p_y)^{γ−1}·p_y·log p_y].

    Parameters
    ----------
    gamma : float >= 0
        γ = 0 is the (α-weighted) cross-entropy.
    alpha : array_like, shape (K,), optional
        Per-class weights α (1 when absent).
    Others as in :func:`comp_sum_loss`.
    """
    gam = _losses._real(gamma, "gamma")
    if gam < 0.0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    z, flat, opts, nll = _ce_rows(logits, targets, ignore_index, backend)
    a = np.ones(z.shape[-1])
    if alpha is not None:
        a = _losses._as_float_array(alpha, "alpha").astype(np.float64)
        if a.shape != (z.shape[-1],):
            raise ValueError(f"alpha must have shape ({z.shape[-1]},), got {a.shape}")
    a_y = np.where(opts.valid, a[np.maximum(opts.targets, 0)], 0.0)
    p = np.exp(-nll)
    one_minus = -np.expm1(-nll)  # 1 − p_y without cancellation
    per_token = a_y * one_minus**gam * nll
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(
            one_minus > 0.0, gam * one_minus ** (gam - 1.0) * p * (-nll), 0.0
        )  # γ(1−p)^{γ−1}·p·log p
    scale = a_y * (one_minus**gam - slope)
    return _reduce_and_grad(per_token, scale, z, flat, opts, reduction, grad, backend)


def bias_loss(
    logits: npt.ArrayLike,
    targets: npt.ArrayLike,
    feature_variance: npt.ArrayLike,
    *,
    alpha: float = 0.3,
    beta: float = 0.3,
    ignore_index: int = -100,
    reduction: str = "mean",
    grad: bool = False,
    backend: str = "auto",
) -> LossResult:
    """Bias Loss (P50): ψ_i·CE_i with ψ_i = exp(β·v̂_i) − 1 + α.

    v̂_i is the variance of token i's (detached) features, min–max normalised over the batch
    (0 when all variances are equal). Gradient ψ_i·(p − e_y): ψ is treated as a constant.

    Parameters
    ----------
    feature_variance : array_like, shape (...)
        The variance of each token's feature map, one per target.
    alpha, beta : float
        The paper's defaults are 0.3 and 0.3.
    Others as in :func:`comp_sum_loss`.

    References
    ----------
    L. Abrahamyan et al. (2021), "Bias Loss for Mobile Neural Networks", ICCV.
    """
    al, be = _losses._real(alpha, "alpha"), _losses._real(beta, "beta")
    z, flat, opts, nll = _ce_rows(logits, targets, ignore_index, backend)
    v = _losses._as_float_array(feature_variance, "feature_variance").astype(np.float64)
    if v.shape != z.shape[:-1]:
        raise ValueError(f"feature_variance must have shape {z.shape[:-1]}, got {v.shape}")
    v = v.reshape(-1)
    span = float(v.max() - v.min())
    v_hat = (v - v.min()) / span if span > 0.0 else np.zeros_like(v)
    psi = np.exp(be * v_hat) - 1.0 + al
    return _reduce_and_grad(psi * nll, psi, z, flat, opts, reduction, grad, backend)


def _ldr_margin_logits(
    z: np.ndarray, targets: npt.ArrayLike, lam_arr: np.ndarray, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """The LDR-KL families' checks of ``lam`` and ``targets`` (every target a class: no ignored
    tokens) and their logits with ``margin`` added to every class but the target."""
    k = z.shape[-1]
    if not (np.isfinite(lam_arr).all() and (lam_arr > 0).all()):
        raise ValueError("lam must be finite and > 0")
    t = _losses._check_targets(targets, z.shape[:-1], k, -100)
    if (t < 0).any():
        raise ValueError(f"targets must lie in [0, {k}), got {int(t[t < 0].flat[0])}")
    shifted = z + margin
    np.put_along_axis(shifted, t[..., None], np.take_along_axis(z, t[..., None], axis=-1), -1)
    return t, shifted


def ldr_kl_loss(
    logits: npt.ArrayLike,
    targets: npt.ArrayLike,
    lam: float | npt.ArrayLike = 1.0,
    *,
    margin: float = 0.0,
    reduction: str = "mean",
    grad: bool = False,
    backend: str = "auto",
) -> LossResult:
    """LDR-KL loss (P22): λ·log((1/K)·Σ_k exp((c·1[k≠y] + z_k − z_y)/λ)).

    Equals λ·CE((z + c·(1 − e_y))/λ) − λ·log K; gradient softmax((z + c(1 − e_y))/λ) − e_y.
    A per-token ``lam`` (shape (...)) gives ALDR-KL's step with λ_i held fixed.

    Parameters
    ----------
    lam : float > 0 or array_like of shape (...)
    margin : float
        The margin c.
    Others as in :func:`comp_sum_loss` (no ignore_index: every token counts).

    References
    ----------
    Z. Zhu, Y. Ying, T. Yang et al. (2023), "Label Distributionally Robust Losses for Multi-class
    Classification: Consistency, Robustness and Adaptivity", ICML.
    """
    z = _losses._as_float_array(logits, "logits").astype(np.float64, copy=False)
    if z.ndim < 2:
        raise ValueError(f"logits must be at least 2-D (tokens, classes), got shape {z.shape}")
    k = z.shape[-1]
    c = _losses._real(margin, "margin")
    lam_arr = np.broadcast_to(np.asarray(lam, dtype=np.float64), z.shape[:-1])
    t, shifted = _ldr_margin_logits(z, targets, lam_arr, c)
    scaled = shifted / lam_arr[..., None]
    res = _losses.cross_entropy(scaled, t, reduction="none", grad=grad, backend=backend)
    assert isinstance(res.loss, np.ndarray)
    per_token = lam_arr * res.loss - lam_arr * math.log(k)
    n = per_token.size
    check_choice(reduction, "reduction", _losses.REDUCTIONS)
    loss: float | np.ndarray
    if reduction == "none":
        loss, factor = per_token, 1.0
    elif reduction == "sum":
        loss, factor = float(per_token.sum()), 1.0
    else:
        loss, factor = float(per_token.sum()) / n, 1.0 / n
    g = None if res.grad_logits is None else res.grad_logits * factor
    return LossResult(loss=loss, grad_logits=g)


@dataclass(frozen=True)
class AdversarialLossResult:
    """A loss and its gradients with respect to the clean and the adversarial logits."""

    loss: float | np.ndarray
    grad_logits: np.ndarray | None = field(default=None, repr=False)
    grad_adversarial_logits: np.ndarray | None = field(default=None, repr=False)


def smooth_adversarial_comp_sum_loss(
    logits: npt.ArrayLike,
    adversarial_logits: npt.ArrayLike,
    targets: npt.ArrayLike,
    tau: float,
    *,
    nu: float = 1.0,
    ignore_index: int = -100,
    reduction: str = "mean",
    grad: bool = False,
    backend: str = "auto",
) -> AdversarialLossResult:
    """Smooth adversarial comp-sum loss (P01): comp-sum on x plus ν × the margins' movement.

    With z = h(x) the logits of a clean input, z' = h(x') those of its adversarial perturbation
    (the maximiser of the smooth term over ‖x' − x‖_p <= γ, which the caller finds, e.g. by PGD,
    since only the model can), and the margin vector Δ(z)_k = z_y − z_k:

        ℓ = ℓ^comp_τ(z, y) + ν·‖Δ(z') − Δ(z)‖₂,

    ℓ^comp_τ as in :func:`comp_sum_loss`. With δ = z' − z, Δ(z')_k − Δ(z)_k = δ_y − δ_k, so the
    smooth term is ν·‖δ_y·1 − δ‖₂: it penalises how much the perturbation moves every margin,
    and is invariant to shifting all logits of z' by a constant, like the comp-sum part.

    Gradients: ∂/∂z' of the smooth term is ν·(e_y·Σ_k d_k − d)/‖d‖ with d_k = δ_y − δ_k (0 where
    d = 0, a subgradient), and ∂/∂z is minus that plus the comp-sum gradient.

    Parameters
    ----------
    logits, adversarial_logits : array_like, shape (..., K)
    targets : array_like of int, shape (...)
    tau : float >= 0
        The comp-sum parameter (1: cross-entropy, 0: sum-exponential, 2: MAE, ...).
    nu : float >= 0
        The weight ν of the smooth term.
    ignore_index, reduction, grad, backend :
        As in :func:`comp_sum_loss` ("mean" averages over valid tokens).

    Returns
    -------
    AdversarialLossResult

    Raises
    ------
    ValueError
        For ``nu < 0``, mismatched shapes, non-finite adversarial logits, or every target
        ignored under ``reduction="mean"``.

    Notes
    -----
    Why margins and an unsquared 2-norm: a loss that is L-Lipschitz in the margin vector obeys
    sup_{x'} ℓ(Δ(h(x')), y) <= ℓ(Δ(h(x)), y) + L·sup_{x'} ‖Δ(h(x')) − Δ(h(x))‖₂, so the smooth
    term with ν >= L upper-bounds the adversarial loss's excess over the clean one; the sup is
    over the same perturbation set as the adversarial loss.

    O(N·K) on top of :func:`comp_sum_loss`. References: A. Mao, M. Mohri, Y. Zhong (2023),
    "Cross-Entropy Loss Functions: Theoretical Analysis and Applications", ICML (PMLR 202,
    arXiv:2304.07288) — the smooth adversarial comp-sum losses (comp-sum "plus a related smooth
    term") and the regularised algorithms that minimise them; P. Awasthi, A. Mao, M. Mohri,
    Y. Zhong (2023), "Theoretically Grounded Loss Functions and Algorithms for Adversarial
    Robustness", AISTATS (PMLR 206) — the same construction for general multi-class losses
    (PSAL). Only the abstracts could be consulted when this was checked: confirm the term's
    exact form (norm, margins) against the papers' definition before citing an equation.
    """
    n_u = _losses._real(nu, "nu")
    if n_u < 0.0:
        raise ValueError(f"nu must be >= 0, got {nu!r}")
    check_choice(reduction, "reduction", _losses.REDUCTIONS)
    z = _losses._as_float_array(logits, "logits")
    za = _losses._as_float_array(adversarial_logits, "adversarial_logits")
    if za.shape != z.shape:
        raise ValueError(
            f"adversarial_logits must have the logits' shape {z.shape}, got {za.shape}"
        )
    if not np.isfinite(za).all():
        raise ValueError("adversarial_logits must be finite")
    base = comp_sum_loss(
        z, targets, tau, ignore_index=ignore_index, reduction="none", grad=grad, backend=backend
    )
    assert isinstance(base.loss, np.ndarray)
    k = z.shape[-1]
    t = _losses._check_targets(targets, z.shape[:-1], k, int(ignore_index))
    valid = t != ignore_index
    n_valid = int(valid.sum())
    if reduction == "mean" and n_valid == 0:
        # comp_sum_loss ran with "none", so the engine's own check for this case did not fire.
        raise ValueError(
            f"all targets equal ignore_index={ignore_index}: the mean loss over no tokens is "
            "undefined"
        )
    y = np.where(valid, t, 0)[..., None]
    delta = za.astype(np.float64) - z.astype(np.float64)
    d = np.take_along_axis(delta, y, axis=-1) - delta  # d_k = δ_y − δ_k
    norm = np.sqrt((d * d).sum(-1))
    per_token = np.where(valid, base.loss.astype(np.float64) + n_u * norm, 0.0)
    scale = 1.0 / n_valid if reduction == "mean" else 1.0
    loss: float | np.ndarray = (
        per_token.astype(z.dtype) if reduction == "none" else float(per_token.sum()) * scale
    )
    g_clean = g_adv = None
    if grad:
        assert base.grad_logits is not None
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = np.where((norm > 0.0)[..., None], d / norm[..., None], 0.0)
        g_smooth = -unit  # ∂‖d‖/∂δ_k for k ≠ y is −d_k/‖d‖ ...
        np.put_along_axis(g_smooth, y, unit.sum(-1, keepdims=True), axis=-1)  # ... and Σ at y
        g_smooth *= (n_u * scale) * valid[..., None]
        g_adv = g_smooth.astype(za.dtype)
        g_clean = (base.grad_logits.astype(np.float64) * scale - g_smooth).astype(z.dtype)
    return AdversarialLossResult(loss=loss, grad_logits=g_clean, grad_adversarial_logits=g_adv)


@dataclass(frozen=True)
class AdaptiveLossResult:
    """A loss, its gradient w.r.t. the logits, and the per-token λ it used (to keep as state)."""

    loss: float | np.ndarray
    grad_logits: np.ndarray | None = field(default=None, repr=False)
    lam: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)


def aldr_kl_loss(
    logits: npt.ArrayLike,
    targets: npt.ArrayLike,
    lam: float | npt.ArrayLike | None = None,
    *,
    lam0: float = 1.0,
    alpha: float = 2.0,
    margin: float = 0.0,
    lam_min: float = 1e-3,
    n_updates: int = 1,
    reduction: str = "mean",
    grad: bool = False,
    backend: str = "auto",
) -> AdaptiveLossResult:
    """ALDR-KL loss (P22): LDR-KL with a per-sample λ_i from its closed-form update.

    ALDR-KL maximises over both the label distribution p and the temperature λ:

        ℓ_i = max_λ [ max_p Σ_k p_k·m_ik − λ·KL(p ‖ 1/K) ] − (α·log K / (2λ₀))·(λ − λ₀)²,

    m_ik = c·1[k ≠ y_i] + z_ik − z_iy. For fixed λ the inner maximum is the LDR-KL loss
    (:func:`ldr_kl_loss`) at p = softmax(m/λ); for fixed p the maximising λ is in closed form,

        λ_i ← clip(λ₀·(1 − KL(p_i ‖ 1/K)/(α·log K)), lam_min, λ₀),

    larger KL (a confident, possibly noisy prediction) giving a smaller λ. Each call starts from
    the given per-sample ``lam`` (the state the caller keeps between steps, λ₀ when None), makes
    ``n_updates`` such updates (each with p at the current λ), and returns the loss at the final
    λ_i with its gradient softmax(m/λ_i) − e_y taken at λ_i fixed. With enough updates λ_i is the
    stationary point, where by the envelope theorem that is the gradient of ℓ_i itself.

    Parameters
    ----------
    logits : array_like, shape (..., K)
    targets : array_like of int, shape (...)
        Every token counts (no ignore_index).
    lam : float or array_like of shape (...), optional
        The per-sample λ from the previous step (each > 0); default λ₀.
    lam0 : float > 0
        λ₀, the temperature the penalty pulls toward (the paper's default 1).
    alpha : float > 0
        α, the penalty strength (the paper's default 2).
    margin : float
        The margin c.
    lam_min : float in (0, lam0]
        The smallest λ allowed.
    n_updates : int >= 0
        Closed-form λ updates in this call (0 evaluates at the given λ).
    reduction, grad, backend :
        As in :func:`ldr_kl_loss`.

    Returns
    -------
    AdaptiveLossResult, with ``lam`` (float64, shape (...)) the λ_i used.

    Notes
    -----
    Each update costs one pass over the logits (the entropy of softmax(m/λ), KL = log K − H).

    References
    ----------
    Z. Zhu, Y. Ying, T. Yang et al. (2023), "Label Distributionally Robust Losses for Multi-class
    Classification: Consistency, Robustness and Adaptivity", ICML (ALDR-KL).
    """
    z = _losses._as_float_array(logits, "logits").astype(np.float64, copy=False)
    if z.ndim < 2:
        raise ValueError(f"logits must be at least 2-D (tokens, classes), got shape {z.shape}")
    k = z.shape[-1]
    if k < 2:
        raise ValueError(f"ALDR-KL needs at least 2 classes, got {k}")
    l0, al = _losses._real(lam0, "lam0"), _losses._real(alpha, "alpha")
    lo = _losses._real(lam_min, "lam_min")
    c = _losses._real(margin, "margin")
    if l0 <= 0.0:
        raise ValueError(f"lam0 must be > 0, got {lam0!r}")
    if al <= 0.0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    if not 0.0 < lo <= l0:
        raise ValueError(f"lam_min must be in (0, lam0={l0}], got {lam_min!r}")
    if isinstance(n_updates, bool) or not isinstance(n_updates, int) or n_updates < 0:
        raise ValueError(f"n_updates must be an int >= 0, got {n_updates!r}")
    lam_arr = np.array(
        np.broadcast_to(np.asarray(l0 if lam is None else lam, dtype=np.float64), z.shape[:-1])
    )
    t, shifted = _ldr_margin_logits(z, targets, lam_arr, c)
    log_k = math.log(k)
    for _ in range(n_updates):
        res = _losses.cross_entropy(
            shifted / lam_arr[..., None], t, reduction="none", return_entropy=True, backend=backend
        )
        assert res.entropy is not None
        kl = np.maximum(log_k - res.entropy.astype(np.float64), 0.0)
        lam_arr = np.clip(l0 * (1.0 - kl / (al * log_k)), lo, l0)
    ldr = ldr_kl_loss(z, t, lam_arr, margin=c, reduction=reduction, grad=grad, backend=backend)
    penalty = (al * log_k / (2.0 * l0)) * (lam_arr - l0) ** 2
    loss: float | np.ndarray
    if reduction == "none":
        assert isinstance(ldr.loss, np.ndarray)
        loss = ldr.loss - penalty
    elif reduction == "sum":
        loss = float(ldr.loss) - float(penalty.sum())
    else:
        loss = float(ldr.loss) - float(penalty.mean())
    return AdaptiveLossResult(loss=loss, grad_logits=ldr.grad_logits, lam=lam_arr)


def soft_cross_entropy(
    logits: npt.ArrayLike,
    target_probs: npt.ArrayLike,
    *,
    reduction: str = "mean",
    grad: bool = False,
    backend: str = "auto",
) -> LossResult:
    """Cross-entropy against soft targets q (rows summing to 1): lse − Σ_j q_j·z_j.

    Gradient p − q. Use with :func:`hl_gauss_targets` or :func:`two_hot_targets` (P03).
    """
    z = _losses._as_float_array(logits, "logits").astype(np.float64, copy=False)
    q = _losses._as_float_array(target_probs, "target_probs").astype(np.float64)
    if q.shape != z.shape:
        raise ValueError(f"target_probs must have the logits' shape {z.shape}, got {q.shape}")
    if not (np.isfinite(q).all() and (q >= 0).all()):
        raise ValueError("target_probs must be finite and >= 0")
    check_choice(reduction, "reduction", _losses.REDUCTIONS)
    flat = z.reshape(-1, z.shape[-1])
    opts = _losses._options(
        np.full(flat.shape[0], -100), (flat.shape[0],), z.shape[-1], -100, 0, "none",
        None, 0.0, 0.0, None,
    )  # fmt: skip
    stats, _ = _engine.from_logits(flat, opts, False, backend)
    _engine.check_finite(stats.lse)
    lse = stats.lse.reshape(z.shape[:-1])
    per_token = lse * q.sum(-1) - (q * z).sum(-1)
    n = per_token.size
    loss: float | np.ndarray
    if reduction == "none":
        loss, factor = per_token, 1.0
    elif reduction == "sum":
        loss, factor = float(per_token.sum()), 1.0
    else:
        loss, factor = float(per_token.sum()) / n, 1.0 / n
    g = None
    if grad:
        g = (np.exp(z - lse[..., None]) * q.sum(-1, keepdims=True) - q) * factor
    return LossResult(loss=loss, grad_logits=g)


def _support(support: Any, name: str = "support") -> np.ndarray:
    s = _losses._as_float_array(support, name).astype(np.float64)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"{name} must be 1-D with at least 2 points, got shape {s.shape}")
    if not (np.isfinite(s).all() and (np.diff(s) > 0).all()):
        raise ValueError(f"{name} must be finite and strictly increasing")
    return s


def hl_gauss_targets(
    values: npt.ArrayLike, support: npt.ArrayLike, sigma: float | None = None
) -> np.ndarray:
    """HL-Gauss targets (P03): the mass of N(y, σ²) in each bin, renormalised to the support.

    q_k = [Φ((b_{k+1} − y)/σ) − Φ((b_k − y)/σ)] / [Φ((b_K − y)/σ) − Φ((b_0 − y)/σ)].

    Parameters
    ----------
    values : array_like, shape (...)
        The regression targets y.
    support : array_like, shape (K + 1,)
        The bin edges b_0 < … < b_K.
    sigma : float, optional
        Default: 0.75 × the mean bin width (Farebrother et al.'s σ/width ratio).

    Returns
    -------
    ndarray, shape (..., K): rows that sum to 1.

    References
    ----------
    J. Farebrother et al. (2024), "Stop Regressing: Training Value Functions via Classification
    for Scalable Deep RL", ICML.
    """
    edges = _support(support)
    y = _losses._as_float_array(values, "values", ndim_min=0).astype(np.float64)
    if not np.isfinite(y).all():
        raise ValueError("values must be finite")
    sd = 0.75 * float(np.mean(np.diff(edges))) if sigma is None else _losses._real(sigma, "sigma")
    if sd <= 0.0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    cdf = ndtr((edges - y[..., None]) / sd)
    mass = np.diff(cdf, axis=-1)
    total = cdf[..., -1] - cdf[..., 0]
    return np.asarray(mass / total[..., None])


def two_hot_targets(values: npt.ArrayLike, support: npt.ArrayLike) -> np.ndarray:
    """Two-hot targets: y's mass split linearly between the two support points around it.

    Parameters
    ----------
    values : array_like, shape (...)
        Clipped to [support[0], support[-1]].
    support : array_like, shape (K,)
        The atoms s_0 < … < s_{K−1}.

    Returns
    -------
    ndarray, shape (..., K): rows that sum to 1, with Σ_k q_k·s_k = y exactly (up to rounding).
    """
    s = _support(support)
    y = _losses._as_float_array(values, "values", ndim_min=0).astype(np.float64)
    if not np.isfinite(y).all():
        raise ValueError("values must be finite")
    yc = np.clip(y, s[0], s[-1])
    k = np.clip(np.searchsorted(s, yc, side="right") - 1, 0, s.size - 2)
    right = (yc - s[k]) / (s[k + 1] - s[k])
    q = np.zeros((*y.shape, s.size))
    np.put_along_axis(q, k[..., None], (1.0 - right)[..., None], -1)
    np.put_along_axis(q, (k + 1)[..., None], right[..., None], -1)
    return q


def histogram_mean(probs: npt.ArrayLike, support: npt.ArrayLike) -> float | np.ndarray:
    """Σ_k p_k·c_k: the value a categorical prediction decodes to.

    ``support`` holds either K + 1 bin edges (centres c_k = (b_k + b_{k+1})/2, as for HL-Gauss)
    or K atoms (as for two-hot), for probabilities of shape (..., K).
    """
    p = _losses._as_float_array(probs, "probs").astype(np.float64)
    s = _support(support)
    k = p.shape[-1]
    if s.size == k + 1:
        centres = 0.5 * (s[1:] + s[:-1])
    elif s.size == k:
        centres = s
    else:
        raise ValueError(
            f"support must have K + 1 = {k + 1} edges or K = {k} atoms, got {s.size} points"
        )
    out = p @ centres
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def attention_entropy(
    q: npt.ArrayLike | None = None,
    k: npt.ArrayLike | None = None,
    *,
    causal: bool = True,
    scale: float | None = None,
    probs: npt.ArrayLike | None = None,
    base: float | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Entropy of each query's softmax attention row, without the T×S attention matrix (P08).

    H_t = −Σ_s a_ts·log a_ts with a_t = softmax(scale·q_t·k_sᵀ) over the keys s (s <= t when
    ``causal``; then row t has t + 1 keys and H_t <= log(t + 1)). Key tiles go through the
    engine's online (max, Σe, Σe·(v − max)) accumulators, so memory is O(T + tile).

    Parameters
    ----------
    q : array_like, shape (..., T, d)
        Queries (any leading axes: batch, heads).
    k : array_like, shape (..., S, d)
        Keys, with the same leading axes. Causal masking aligns the last query with the last key
        (query t sees keys s <= t + S − T).
    causal : bool
    scale : float, optional
        Default 1/√d.
    probs : array_like, shape (..., T, S), optional
        Instead of q and k: given attention probabilities (rows summing to 1; 0·log 0 = 0).
    base : None (nats) or the logarithm base
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    ndarray of shape (..., T), float64.

    Notes
    -----
    Cost: one GEMM's worth of work (2·T·S·d per head), halved by skipping masked tiles.
    Reference: P08 (entropy-guided attention); the materialised form is −Σ a·log a.
    """
    from ._validation import check_base, to_base

    b = check_base(base)
    if probs is not None:
        if q is not None or k is not None:
            raise ValueError("pass either q and k, or probs (not both)")
        p = _losses._as_float_array(probs, "probs").astype(np.float64)
        if not (np.isfinite(p).all() and (p >= 0).all()):
            raise ValueError("probs must be finite and >= 0")
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        return np.asarray(to_base(-terms.sum(-1), b))
    if q is None or k is None:
        raise ValueError("pass q and k (or probs)")
    qa = _losses._as_float_array(q, "q", ndim_min=2)
    ka = _losses._as_float_array(k, "k", ndim_min=2)
    if qa.dtype != ka.dtype:
        qa, ka = qa.astype(np.float64), ka.astype(np.float64)
    if qa.shape[:-2] != ka.shape[:-2] or qa.shape[-1] != ka.shape[-1]:
        raise ValueError(
            f"q (..., T, d) and k (..., S, d) must share leading axes and d, got {qa.shape} "
            f"and {ka.shape}"
        )
    t_len, s_len, d = qa.shape[-2], ka.shape[-2], qa.shape[-1]
    if causal and s_len < t_len:
        raise ValueError(
            f"causal attention needs at least as many keys as queries, got {s_len} < {t_len}"
        )
    sc = 1.0 / math.sqrt(d) if scale is None else _losses._real(scale, "scale")
    kern = _engine.kernels(backend)
    n_threads = _engine.get_num_threads()
    qf = qa.reshape(-1, t_len, d)
    kf = ka.reshape(-1, s_len, d)
    out = np.empty((qf.shape[0], t_len))
    no_targets = np.full(t_len, -1, dtype=np.int64)
    kb = min(s_len, _engine.VOCAB_TILE)
    qb = min(t_len, max(1, _engine.TILE_ENTRIES // kb))
    buffer = np.empty(qb * kb, dtype=qa.dtype)
    offset = s_len - t_len  # query t sees keys s <= t + offset
    for h in range(qf.shape[0]):
        state = _engine.new_state(t_len)
        for r0, r1 in _engine._blocks(t_len, qb):
            for c0, c1 in _engine._blocks(s_len, kb):
                if causal and c0 > r1 - 1 + offset:
                    break  # this and later key tiles are all masked for these queries
                z = _engine._tile(buffer, r1 - r0, c1 - c0)
                np.matmul(qf[h, r0:r1], kf[h, c0:c1].T, out=z)
                z *= sc
                if causal and c1 - 1 > r0 + offset:  # the tile crosses the diagonal
                    rows = np.arange(r0, r1)[:, None] + offset
                    z[np.arange(c0, c1)[None, :] > rows] = -np.inf
                kern.losses_row_stats(
                    z, c0, no_targets[r0:r1], None, None, 0.0, False, state[r0:r1], n_threads
                )
        with np.errstate(divide="ignore", invalid="ignore"):
            out[h] = np.log(state[:, 1]) - state[:, 2] / state[:, 1]
    return np.asarray(to_base(out.reshape(qa.shape[:-1]), b))
