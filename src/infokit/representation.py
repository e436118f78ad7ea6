"""Measures of learned representations: the Barlow Twins objective (P32) and the neural-collapse
metrics NC1-NC4 (P15).

Both are GEMM-bound, so they run on the BLAS that numpy ships (no compiled kernel of their own).
Features are rows: ``(n, d)`` arrays, finite, at least 2 rows. float32 inputs give float32
arrays back; the arithmetic runs in float64.

References: J. Zbontar, L. Jing, I. Misra, Y. LeCun, S. Deny (2021), "Barlow Twins:
self-supervised learning via redundancy reduction", ICML (P32); V. Papyan, X. Y. Han, D. L.
Donoho (2020), "Prevalence of neural collapse during the terminal phase of deep learning
training", PNAS; H. Dang et al. (2023), "Neural collapse in deep linear networks: from balanced to
imbalanced data", ICML (P15).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["BarlowTwins", "NeuralCollapse", "barlow_twins", "neural_collapse"]


def _as_features(x: Any, name: str) -> np.ndarray:
    """A finite (n, d) real array with n >= 2, d >= 1."""
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n samples, d features), got shape {a.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples (rows), got {a.shape[0]}")
    if a.shape[1] < 1:
        raise ValueError(f"{name} needs at least 1 feature (column), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; features must be finite")
    return a


def _out_dtype(*arrays: np.ndarray) -> type[np.floating[Any]]:
    return np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64


def _check_nonnegative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


# --- Barlow Twins ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarlowTwins:
    """Result of :func:`barlow_twins`.

    Attributes
    ----------
    loss : float
        ``on_diagonal + lam * off_diagonal``.
    on_diagonal : float
        Invariance term, sum_i (1 - C_ii)^2.
    off_diagonal : float
        Redundancy term, sum_{i != j} C_ij^2 (not yet multiplied by lam).
    cross_correlation : ndarray, shape (d, d)
        C = A^T B / n of the batch-standardised embeddings.
    grad_z1, grad_z2 : ndarray, shape (n, d), or None
        d loss / d z1 and d loss / d z2 (through the standardisation); None if not asked for.
    """

    loss: float
    on_diagonal: float
    off_diagonal: float
    cross_correlation: np.ndarray
    grad_z1: np.ndarray | None
    grad_z2: np.ndarray | None


def _standardise(z: np.ndarray, eps: float, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(z - mean) / sqrt(var + eps) per column (biased variance, as BatchNorm), and the scale."""
    centred = z - z.mean(axis=0)
    scale = np.sqrt((centred**2).mean(axis=0) + eps)
    if np.any(scale == 0):
        j = int(np.flatnonzero(scale == 0)[0])
        raise ValueError(f"{name} has a constant column ({j}); pass eps > 0 to standardise it")
    return centred / scale, scale


def _standardise_backward(grad: np.ndarray, a: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Gradient through a = (z - mean) / sqrt(var + eps), given d loss / d a."""
    return np.asarray((grad - grad.mean(axis=0) - a * (grad * a).mean(axis=0)) / scale)


def barlow_twins(
    z1: npt.ArrayLike,
    z2: npt.ArrayLike,
    *,
    lam: float = 0.0051,
    eps: float = 1e-5,
    gradients: bool = True,
) -> BarlowTwins:
    r"""Barlow Twins redundancy-reduction objective of two embeddings of the same batch.

    Each embedding dimension is standardised over the batch, :math:`a = (z_1 - \bar z_1) /
    \sqrt{\mathrm{var}(z_1) + \epsilon}` (biased variance, as the reference's affine-free
    BatchNorm), likewise b from z2, then

    .. math:: C = \frac{1}{n} a^\top b, \qquad
              L = \sum_i (1 - C_{ii})^2 + \lambda \sum_{i \ne j} C_{ij}^2 .

    Gradients: with :math:`G = \partial L / \partial C` (:math:`G_{ii} = -2(1 - C_{ii})`,
    :math:`G_{ij} = 2 \lambda C_{ij}`), :math:`\partial L / \partial a = b G^\top / n` and
    :math:`\partial L / \partial b = a G / n`, then through the standardisation
    :math:`\partial L / \partial z = (g - \bar g - a\, \overline{g \odot a}) / \sqrt{\mathrm{var}
    + \epsilon}` (column means).

    Parameters
    ----------
    z1, z2 : array_like, shape (n, d)
        Embeddings of two distorted views, row i of each from the same sample.
    lam : float
        Weight of the redundancy term (0.0051 in the paper's ImageNet setting).
    eps : float
        Added to each variance (1e-5, BatchNorm's default in the reference code); 0 gives
        exact standardisation and rejects constant columns.
    gradients : bool
        Also return d loss / d z1 and d loss / d z2.

    Returns
    -------
    BarlowTwins
        ``loss`` ~ 0 for identical, decorrelated embeddings; ~ d for independent ones.

    Notes
    -----
    Cost: O(n d^2), two GEMMs for C and two more for the gradients. Reference: Zbontar et al.
    (2021), eq. 1-2 (P32).
    """
    a1, a2 = _as_features(z1, "z1"), _as_features(z2, "z2")
    if a1.shape != a2.shape:
        raise ValueError(f"z1 and z2 must have the same shape, got {a1.shape} and {a2.shape}")
    lam_v = _check_nonnegative(lam, "lam")
    eps_v = _check_nonnegative(eps, "eps")
    if not isinstance(gradients, (bool, np.bool_)):
        raise TypeError(f"gradients must be a bool, got {type(gradients).__name__}")
    out = _out_dtype(a1, a2)
    n = a1.shape[0]
    a, s1 = _standardise(a1.astype(np.float64), eps_v, "z1")
    b, s2 = _standardise(a2.astype(np.float64), eps_v, "z2")
    c = a.T @ b / n
    diag = np.diagonal(c)
    on = float(np.sum((1.0 - diag) ** 2))
    off = float(np.sum(c**2) - np.sum(diag**2))
    g1 = g2 = None
    if gradients:
        g = 2.0 * lam_v * c
        np.fill_diagonal(g, -2.0 * (1.0 - diag))
        g1 = _standardise_backward(b @ g.T / n, a, s1).astype(out)
        g2 = _standardise_backward(a @ g / n, b, s2).astype(out)
    return BarlowTwins(
        loss=on + lam_v * off,
        on_diagonal=on,
        off_diagonal=off,
        cross_correlation=c.astype(out),
        grad_z1=g1,
        grad_z2=g2,
    )


# --- neural collapse ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NeuralCollapse:
    """Result of :func:`neural_collapse`; every metric tends to 0 under neural collapse.

    Attributes
    ----------
    nc1 : float
        Within-class variability relative to between-class: tr(S_W S_B^+) / K.
    nc2 : float
        Distance of the centred class means' Gram matrix from a simplex ETF (Frobenius, both
        normalised to unit norm).
    nc2_classifier : float or None
        The same for the classifier's rows W W^T (None without a classifier).
    nc3 : float or None
        Self-duality, ||W / ||W||_F - M / ||M||_F||_F between classifier rows and centred
        class means (None without a classifier).
    nc4 : float or None
        Fraction of samples where the classifier's decision differs from the nearest class
        mean (None without a classifier).
    n_classes : int
        K.
    """

    nc1: float
    nc2: float
    nc2_classifier: float | None
    nc3: float | None
    nc4: float | None
    n_classes: int


def _etf_distance(vectors: np.ndarray) -> float:
    """|| G / ||G||_F - (I - 11^T / K) / sqrt(K - 1) ||_F for the Gram matrix G of K rows."""
    k = vectors.shape[0]
    gram = vectors @ vectors.T
    norm = np.linalg.norm(gram)
    if norm == 0:
        return float(np.sqrt(2.0))  # all vectors zero: as far from the ETF as a unit matrix can be
    etf = (np.eye(k) - np.full((k, k), 1.0 / k)) / np.sqrt(k - 1)
    return float(np.linalg.norm(gram / norm - etf))


def neural_collapse(
    features: npt.ArrayLike,
    labels: npt.ArrayLike,
    classifier: npt.ArrayLike | None = None,
    *,
    bias: npt.ArrayLike | None = None,
) -> NeuralCollapse:
    r"""Neural-collapse metrics NC1-NC4 of last-layer features (and classifier).

    With class means :math:`\mu_k`, the global mean :math:`\mu_G` of all features, M the K x d
    matrix of rows :math:`\mu_k - \mu_G`, :math:`\Sigma_W = \frac{1}{n}\sum_i (h_i -
    \mu_{y_i})(h_i - \mu_{y_i})^\top` and :math:`\Sigma_B = M^\top M / K`:

    - NC1 :math:`= \mathrm{tr}(\Sigma_W \Sigma_B^+) / K` (variability collapse);
    - NC2 :math:`= \| M M^\top / \|M M^\top\|_F - (I - \mathbf{1}\mathbf{1}^\top/K) / \sqrt{K-1}
      \|_F` (means form a simplex equiangular tight frame), also for the classifier W;
    - NC3 :math:`= \| W / \|W\|_F - M / \|M\|_F \|_F` (self-duality);
    - NC4 = fraction of samples where :math:`\arg\max_k (W h + b)_k` differs from the nearest
      class mean :math:`\arg\min_k \|h - \mu_k\|` (convergence to nearest class centre).

    Parameters
    ----------
    features : array_like, shape (n, d)
        Last-layer features H, one row per sample.
    labels : array_like of int, shape (n,)
        Classes in ``[0, K)``; every class needs at least one sample, K >= 2.
    classifier : array_like, shape (K, d), optional
        Last-layer weights W, row k for class k. Needed for NC2 of W, NC3 and NC4.
    bias : array_like, shape (K,), optional
        Last-layer bias b (used by NC4 only).

    Returns
    -------
    NeuralCollapse

    Notes
    -----
    Cost: O(n d K) and O(d K^2) for one thin SVD of M: the pseudo-inverse is taken on the
    (at most K dimensional) between-class span, so no d x d matrix is formed. Eigenvalues of
    S_B below ``d * eps`` times the largest count as zero, as ``numpy.linalg.pinv(S_B)`` does.
    References: Papyan, Han and Donoho (2020); Dang et al. (2023) (P15) and its validation code.
    """
    h = _as_features(features, "features").astype(np.float64)
    n, d = h.shape
    y = np.asarray(labels)
    if y.dtype.kind not in "biu":
        raise TypeError(f"labels must hold integer class indices, got dtype {y.dtype}")
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(
            f"labels must be 1-D with one entry per row of features ({n}), got shape {y.shape}"
        )
    w = None
    if classifier is not None:
        w = np.asarray(classifier)
        if w.dtype.kind not in "biuf":
            raise TypeError(f"classifier must hold real numbers, got dtype {w.dtype}")
        if w.ndim != 2 or w.shape[1] != d:
            raise ValueError(
                f"classifier must be 2-D (K, {d}) to match the features, got shape {w.shape}"
            )
        w = w.astype(np.float64)
        if not np.isfinite(w).all():
            raise ValueError("classifier contains NaN or inf")
    k = int(y.max()) + 1 if w is None else w.shape[0]
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"labels must lie in [0, {k}), got values in [{y.min()}, {y.max()}]")
    sizes = np.bincount(y.astype(np.int64), minlength=k)
    if k < 2:
        raise ValueError(f"neural collapse needs at least 2 classes, got {k}")
    if np.any(sizes == 0):
        missing = np.flatnonzero(sizes == 0).tolist()
        raise ValueError(f"every class in [0, {k}) needs a sample; classes {missing} have none")
    b = None
    if bias is not None:
        if w is None:
            raise ValueError("bias is given without a classifier")
        b = np.asarray(bias, dtype=np.float64)
        if b.shape != (k,):
            raise ValueError(f"bias must have shape ({k},), got {b.shape}")

    # Class means of the globally centred features: rounding then scales with the spread of the
    # data, not with its offset (a balanced M has rank K - 1 exactly; noise must not add one).
    global_mean = h.mean(axis=0)
    centred = np.zeros((k, d))
    np.add.at(centred, y, h - global_mean)
    centred /= sizes[:, None]
    means = centred + global_mean
    residual = h - means[y]

    # tr(S_W S_B^+) / K with S_B^+ = K V S^-2 V^T over the non-zero singular values s of M.
    # The eigenvalues of S_B are s^2 / K: those below d * eps * the largest count as zero, the
    # cut-off numpy.linalg.pinv(S_B) applies.
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    keep = sv**2 > d * np.finfo(np.float64).eps * (sv[0] ** 2 if sv.size else 0.0)
    projected = residual @ vt[keep].T  # n x r
    nc1 = float(np.sum((projected**2).sum(axis=0) / sv[keep] ** 2) / n)

    nc2 = _etf_distance(centred)
    nc2_w = nc3 = nc4 = None
    if w is not None:
        nc2_w = _etf_distance(w)
        wn, mn = np.linalg.norm(w), np.linalg.norm(centred)
        nc3 = float(np.linalg.norm(w / wn - centred / mn)) if wn > 0 and mn > 0 else float("nan")
        scores = h @ w.T + (0.0 if b is None else b)
        nearest = np.argmin((means**2).sum(axis=1) - 2.0 * h @ means.T, axis=1)
        nc4 = float(np.mean(np.argmax(scores, axis=1) != nearest))
    return NeuralCollapse(nc1=nc1, nc2=nc2, nc2_classifier=nc2_w, nc3=nc3, nc4=nc4, n_classes=k)
