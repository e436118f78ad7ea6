"""Binary cross-entropy from logits and the Tri-BCE loss of P39 (re-exported by
:mod:`infokit.losses`).

Tri-BCE trains two sub-networks that each emit a logit (FCN's Exponential and Linear Cross
Networks) and whose fused prediction is the sigmoid of the mean logit. Besides the BCE of the
fused prediction, each sub-network gets its own BCE, weighted by how much worse it does than the
fusion — so the weaker branch is pushed harder and a branch that already beats the fusion is left
alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from . import losses as _losses


@dataclass(frozen=True)
class TriBCEResult:
    """What :func:`tri_bce_loss` returns.

    Attributes
    ----------
    loss : float
        L + w_d·L_d + w_s·L_s.
    bce, bce_d, bce_s : float
        The mean BCE of the fused prediction and of the two branches (L, L_d, L_s).
    weight_d, weight_s : float
        The adaptive weights max(0, L_d − L) and max(0, L_s − L).
    grad_d, grad_s : ndarray or None
        ∂loss/∂logits of each branch when ``grad=True``.
    """

    loss: float
    bce: float
    bce_d: float
    bce_s: float
    weight_d: float
    weight_s: float
    grad_d: np.ndarray | None = field(default=None, repr=False)
    grad_s: np.ndarray | None = field(default=None, repr=False)


def _bce_terms(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean BCE of sigmoid(z) against y, and its gradient (σ(z) − y)/n with respect to z.

    −y·log σ(z) − (1 − y)·log(1 − σ(z)) = softplus(z) − y·z, with softplus(z) = log(1 + e^z)
    through logaddexp so that nothing overflows.
    """
    n = z.size
    per = np.logaddexp(0.0, z) - y * z
    return float(per.sum()) / n, (expit(z) - y) / n


def _labels(targets: Any, shape: tuple[int, ...]) -> np.ndarray:
    y = np.asarray(targets)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"targets must be a real or boolean array, got dtype {y.dtype}")
    y = y.astype(np.float64)
    if y.shape != shape:
        raise ValueError(f"targets must have the logits' shape {shape}, got {y.shape}")
    if not (np.isfinite(y).all() and (y >= 0).all() and (y <= 1).all()):
        raise ValueError("targets must be labels (or probabilities) in [0, 1]")
    return y


def tri_bce_loss(
    logits_d: npt.ArrayLike,
    logits_s: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    detach_weights: bool = False,
    grad: bool = False,
) -> TriBCEResult:
    """Tri-BCE (P39): the fused BCE plus each branch's BCE, weighted by its excess loss.

    With z = (z_d + z_s)/2 the fused logit, L = BCE(σ(z), y), L_d = BCE(σ(z_d), y),
    L_s = BCE(σ(z_s), y) (means over the batch) and the adaptive weights
    w_d = max(0, L_d − L), w_s = max(0, L_s − L):

        Tri-BCE = L + w_d·L_d + w_s·L_s.

    The weights depend on the logits, and by default the gradient flows through them, as in the
    authors' implementation: ∂/∂z_d = (1 − a_d·L_d − a_s·L_s)·∂L/∂z_d + (w_d + a_d·L_d)·∂L_d/∂z_d
    with a_• = [L_• > L] (and likewise for z_s). ``detach_weights=True`` treats w_d and w_s as
    constants instead (∂L/∂z_d + w_d·∂L_d/∂z_d).

    Parameters
    ----------
    logits_d, logits_s : array_like, shape (...)
        The two branches' logits (FCN: the Exponential and the Linear Cross Network), one per
        sample, of the same shape.
    targets : array_like, shape (...)
        Click labels in {0, 1} (probabilities in [0, 1] are accepted, as by BCE).
    detach_weights : bool
        Hold the adaptive weights constant in the gradient.
    grad : bool
        Also return the gradients with respect to both branches' logits.

    Returns
    -------
    TriBCEResult

    Notes
    -----
    O(n) time and memory; everything in float64, the gradients in the logits' dtype (float32
    stays float32). The fused prediction is σ(mean logit), which is what FCN predicts with.

    References
    ----------
    P39: H. Li et al. (2024), "FCN: Fusing Exponential and Linear Cross Network for
    Click-Through Rate Prediction" (the Tri-BCE loss).
    """
    zd_in = _losses._as_float_array(logits_d, "logits_d", ndim_min=0)
    zs_in = _losses._as_float_array(logits_s, "logits_s", ndim_min=0)
    if zd_in.shape != zs_in.shape:
        raise ValueError(
            f"logits_d and logits_s must have the same shape, got {zd_in.shape} and {zs_in.shape}"
        )
    if zd_in.size == 0:
        raise ValueError("need at least one sample, got empty logits")
    zd, zs = zd_in.astype(np.float64), zs_in.astype(np.float64)
    if not (np.isfinite(zd).all() and np.isfinite(zs).all()):
        raise ValueError("logits_d and logits_s must be finite")
    y = _labels(targets, zd.shape)
    fused, g_fused = _bce_terms(0.5 * (zd + zs), y)
    bce_d, g_d = _bce_terms(zd, y)
    bce_s, g_s = _bce_terms(zs, y)
    w_d, w_s = max(0.0, bce_d - fused), max(0.0, bce_s - fused)
    loss = fused + w_d * bce_d + w_s * bce_s
    grad_d = grad_s = None
    if grad:
        # the fused logit is the mean, so ∂L/∂z_d = ∂L/∂z_s = ½·(σ(z) − y)/n
        a_d = 0.0 if detach_weights or w_d == 0.0 else 1.0
        a_s = 0.0 if detach_weights or w_s == 0.0 else 1.0
        fused_scale = 0.5 * (1.0 - a_d * bce_d - a_s * bce_s)
        grad_d = (fused_scale * g_fused + (w_d + a_d * bce_d) * g_d).astype(zd_in.dtype)
        grad_s = (fused_scale * g_fused + (w_s + a_s * bce_s) * g_s).astype(zs_in.dtype)
    return TriBCEResult(
        loss=loss,
        bce=fused,
        bce_d=bce_d,
        bce_s=bce_s,
        weight_d=w_d,
        weight_s=w_s,
        grad_d=grad_d,
        grad_s=grad_s,
    )
