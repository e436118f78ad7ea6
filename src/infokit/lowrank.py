"""Low-rank compression: truncated SVD (exact, randomized, weighted), joint SVD across blocks,
streaming PCA with nested bases, CUR with anchor retrieval, rank allocation under a budget,
and frequency-weighted expert merging.

Every decomposition returns a frozen result object that reconstructs, applies itself to new
data, and carries a :class:`~infokit._compression_report.CompressionReport` (parameters kept,
compression ratio, bytes with metadata, relative error and its ratio to the Eckart–Young
optimum, energy per rank, FLOPs). Dense linear algebra runs in the LAPACK/BLAS that numpy and
scipy ship; float32 input stays float32 (norms and errors are accumulated in double).

Papers: P04 (CUR anchors), P14 and P46 (nested PCA bases), P24 (expert merging), P26 (rank
allocation), P28, P41 and P53 (joint SVD), P48 (Fisher-weighted SVD).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize

from . import _backend
from ._compression_report import CompressionReport, metadata_bytes
from ._reference import lowrank as _reference
from ._threads import get_num_threads
from ._validation import as_real_array, check_choice, check_positive_int

__all__ = [
    "CUR",
    "PCA",
    "Allocation",
    "JointSVD",
    "LowRank",
    "MergedExperts",
    "allocate_ranks",
    "cur",
    "joint_svd",
    "merge_experts",
    "svd",
]

SVD_METHODS = ("auto", "exact", "randomized")
# "auto" takes the exact route below this many columns (or rows) of the short side, or when the
# rank is a large share of it: there LAPACK's divide and conquer is as fast as a sketch.
_EXACT_BELOW = 256
_EXACT_RANK_SHARE = 0.25


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def _as_matrix(a: Any, name: str = "A", ndim: int = 2) -> np.ndarray:
    """A finite real float32/float64 array of ``ndim`` dimensions, no empty axis."""
    arr = as_real_array(a, name, to_float=True)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got a {arr.ndim}-D array of shape {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf; the decomposition needs finite values")
    return arr


def _check_rank(rank: Any, limit: int, name: str = "rank", what: str = "min(m, n)") -> int:
    r = check_positive_int(rank, name)
    if r > limit:
        raise ValueError(f"{name} must be <= {what} = {limit}, got {r}")
    return r


def _rng(seed: Any) -> np.random.Generator:
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be None, an int or a numpy Generator, got {type(seed).__name__}"
        )
    return np.random.default_rng(int(seed))


def _sq_norm(a: np.ndarray) -> float:
    """``‖a‖_F²`` accumulated in double without a float64 copy of the whole array."""
    flat = a.reshape(-1) if a.flags.c_contiguous else a.reshape(-1, order="F")
    return float(np.dot(flat, flat)) if a.dtype == np.float64 else _sq_norm_chunked(flat)


def _sq_norm_chunked(flat: np.ndarray, chunk: int = 1 << 16) -> float:
    total = 0.0
    for start in range(0, flat.size, chunk):
        part = flat[start : start + chunk].astype(np.float64)
        total += float(np.dot(part, part))
    return total


def _flip_signs(u: np.ndarray, vt: np.ndarray) -> None:
    """Make the largest-magnitude entry of each column of ``u`` positive (in place, both factors),
    so the same matrix gives the same factors whatever the LAPACK or the random sketch."""
    if u.shape[1] == 0:
        return
    rows = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[rows, np.arange(u.shape[1])])
    signs[signs == 0] = 1
    u *= signs
    vt *= signs[:, None]


# ---------------------------------------------------------------------------------------------
# LowRank: the result of svd()
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)  # arrays inside: compare by identity
class LowRank:
    """A rank-r factorisation ``Â = U diag(s) Vt`` with its report.

    With weights, ``U`` and ``Vt`` already include the unscaling (they are not orthonormal then);
    ``Â`` is the weighted optimum. Unpacks as ``U, s, Vt = result``.
    """

    U: np.ndarray
    s: np.ndarray
    Vt: np.ndarray
    report: CompressionReport

    @property
    def rank(self) -> int:
        return int(self.s.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.U.shape[0]), int(self.Vt.shape[1]))

    def __iter__(self) -> Any:
        return iter((self.U, self.s, self.Vt))

    def reconstruct(self) -> np.ndarray:
        """The dense ``m × n`` approximation ``U diag(s) Vt``."""
        return (self.U * self.s) @ self.Vt

    def factors(self) -> tuple[np.ndarray, np.ndarray]:
        """Two factors ``(U diag(s), Vt)`` for a pair of linear layers: ``Â = left @ right``."""
        return self.U * self.s, self.Vt.copy()

    def apply(self, x: Any) -> np.ndarray:
        """``Â @ x`` for x of shape (n,) or (n, k), in ``2r(m + n)`` FLOPs per column."""
        xa = np.asarray(x)
        if xa.ndim not in (1, 2) or xa.shape[0] != self.Vt.shape[1]:
            raise ValueError(
                f"x must have shape ({self.Vt.shape[1]},) or ({self.Vt.shape[1]}, k), "
                f"got {xa.shape}"
            )
        inner = self.Vt @ xa
        inner = inner * (self.s if xa.ndim == 1 else self.s[:, None])
        return np.asarray(self.U @ inner)

    def __repr__(self) -> str:
        m, n = self.shape
        return f"LowRank({m}×{n}, rank {self.rank}, {self.U.dtype}; {self.report!r})"


def _matrix_report(
    method: str,
    shape: tuple[int, int],
    dtype: np.dtype[Any],
    s: np.ndarray,
    total_sq: float,
    tail_sq: float | None,
    *,
    all_s: np.ndarray | None = None,
    weighted: bool = False,
) -> CompressionReport:
    """The report of a rank-r matrix factorisation with singular values ``s``.

    ``tail_sq`` is the residual energy when known without cancellation (the exact SVD's tail);
    otherwise the residual is ``‖A‖² − Σ s²``, exact for any orthogonal projection of A.
    """
    m, n = shape
    r = int(s.shape[0])
    s64 = s.astype(np.float64)
    kept = float(np.dot(s64, s64))
    resid_sq = tail_sq if tail_sq is not None else max(total_sq - kept, 0.0)
    if total_sq > 0:
        rel = math.sqrt(max(resid_sq, 0.0) / total_sq)
        energy = np.cumsum(s64**2) / total_sq
    else:
        rel, energy = 0.0, np.ones(r)
    optimal = None
    ratio = None
    if all_s is not None:
        a64 = all_s.astype(np.float64)
        opt_sq = float(np.dot(a64[r:], a64[r:]))
        optimal = math.sqrt(opt_sq / total_sq) if total_sq > 0 else 0.0
        top = float(a64[0]) if a64.size else 0.0
        ratio = (float(a64[r]) / top if top > 0 else 0.0) if a64.size > r else 0.0
    return CompressionReport(
        method=method,
        shape=(m, n),
        dtype=str(dtype),
        ranks=(r,),
        original_parameters=m * n,
        parameters=r * (m + n) + r,
        metadata_bytes=metadata_bytes((m, n), (r,)),
        itemsize=dtype.itemsize,
        relative_error=rel,
        optimal_error=optimal,
        weighted=weighted,
        next_singular_ratio=ratio,
        energy=energy,
        flops=2 * r * (m + n) + r,
        original_flops=2 * m * n,
    )


# ---------------------------------------------------------------------------------------------
# svd
# ---------------------------------------------------------------------------------------------


def _exact_svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Economy SVD by LAPACK gesdd (float32 stays float32: sgesdd), falling back to gesvd."""
    try:
        return scipy.linalg.svd(a, full_matrices=False, check_finite=False)
    except np.linalg.LinAlgError:  # gesdd can fail to converge where gesvd does not
        return scipy.linalg.svd(a, full_matrices=False, check_finite=False, lapack_driver="gesvd")


def _orth(y: np.ndarray) -> np.ndarray:
    q, _ = scipy.linalg.qr(y, mode="economic", overwrite_a=True, check_finite=False)
    return q


def _randomized_svd(
    a: np.ndarray, rank: int, oversample: int, power_iterations: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Halko–Martinsson–Tropp with a QR after EVERY product, so the sketch keeps the trailing
    directions above float32 precision however many iterations run."""
    transpose = a.shape[0] < a.shape[1]  # sketch the long side's range: smaller Q
    work = a.T if transpose else a
    n = work.shape[1]
    width = min(rank + oversample, n)
    omega = rng.standard_normal((n, width)).astype(work.dtype, copy=False)
    q = _orth(work @ omega)
    for _ in range(power_iterations):
        q = _orth(work.T @ q)
        q = _orth(work @ q)
    b = q.T @ work
    ub, s, vt = _exact_svd(b)
    u = q @ ub[:, :rank]
    s, vt = s[:rank], vt[:rank]
    if transpose:
        u, vt = vt.T, u.T
    return np.ascontiguousarray(u), s, np.ascontiguousarray(vt)


def _weight_factor(w: Any, size: int, name: str, dtype: np.dtype[Any]) -> np.ndarray | None:
    """Square-root factor of a squared-error weight: 1-D ``w`` → ``sqrt(w)``; a 2-D SPD ``G`` →
    its lower Cholesky factor ``L`` (``G = L Lᵀ``)."""
    if w is None:
        return None
    arr = as_real_array(w, name).astype(np.float64)
    if arr.ndim == 1:
        if arr.shape[0] != size:
            raise ValueError(f"{name} must have length {size}, got shape {arr.shape}")
        if not np.isfinite(arr).all() or (arr <= 0).any():
            raise ValueError(f"{name} must be finite and > 0 (weights on the squared error)")
        return np.sqrt(arr).astype(dtype)
    if arr.ndim == 2:
        if arr.shape != (size, size):
            raise ValueError(
                f"{name} as a matrix must be {size}×{size} (a Gram such as XᵀX), got {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or inf")
        try:
            chol = scipy.linalg.cholesky((arr + arr.T) / 2, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"{name} must be symmetric positive definite; add a small ridge (G + εI)"
            ) from None
        return chol.astype(dtype)
    raise ValueError(f"{name} must be 1-D (diagonal) or 2-D (a Gram matrix), got {arr.ndim}-D")


def svd(
    A: Any,
    rank: int,
    *,
    method: str = "auto",
    weights: tuple[Any, Any] | None = None,
    oversample: int = 10,
    power_iterations: int = 4,
    seed: Any = None,
) -> LowRank:
    """Truncated SVD ``A ≈ U diag(s) Vt`` of rank ``rank``, optionally weighted, with its report.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Real, finite. float32 stays float32; other reals compute in float64.
    rank : int
        ``1 <= rank <= min(m, n)``.
    method : {"auto", "exact", "randomized"}
        "exact": LAPACK divide and conquer (gesdd), ``O(mn·min(m, n))``. "randomized":
        Halko–Martinsson–Tropp, ``Y = AΩ`` with ``rank + oversample`` Gaussian columns, then
        ``power_iterations`` rounds ``Q ← orth(A orth(AᵀQ))`` with a QR after every product
        (normalised power iterations: correct in float32, where unnormalised iterations drown
        the trailing directions in rounding), ``B = QᵀA``, SVD of B; ``≈ (4q + 4)·mn·(r + p)``
        FLOPs. The factor by which its error bound exceeds ``σ_{r+1}`` shrinks to its
        ``(2q+1)``-th root (HMT 2011, Cor. 10.10). "auto": exact when
        ``min(m, n) < 256`` or ``rank > min(m, n) / 4``, randomized otherwise.
    weights : (row_weights, col_weights), optional
        Weights on the squared error; either may be None. 1-D ``row_weights`` (m,) and
        ``col_weights`` (n,) > 0 minimise ``Σ_ij r_i c_j (A − Â)_ij²``: Fisher-weighted SVD
        (FWSVD, P48) takes ``r_i = Σ_j E[(∂L/∂A_ij)²]``. A 2-D ``col_weights`` G (n × n, SPD,
        e.g. the activation Gram ``XᵀX``) minimises ``‖(A − Â) G^{1/2}‖_F²`` =
        ``‖(A − Â)Xᵀ‖_F²``: activation-aware SVD; a 2-D ``row_weights`` (m × m) weighs the
        output side, ``‖G^{1/2}(A − Â)‖_F²``. Closed form: with square-root factors D₁, D₂,
        ``Â = D₁⁻¹ [D₁ A D₂]_r D₂⁻¹``, so the weighted error is the Eckart–Young optimum of
        ``D₁AD₂`` (elementwise weights that do not factor have no closed form).
    oversample, power_iterations : int
        Extra sketch columns p and power rounds q of the randomized method.
    seed : int, numpy Generator or None
        The sketch's randomness. Same seed and thread count ⇒ same bits. Signs are normalised
        (the largest entry of each column of U is positive) on every route.

    Returns
    -------
    LowRank
        ``U`` (m, r), ``s`` (r,), ``Vt`` (r, n) and ``report``: relative Frobenius error (weighted
        if weights), its ratio to the Eckart–Young optimum (exact route; the randomized route
        does not know the full spectrum), energy per rank, bytes and FLOPs.

    References
    ----------
    Eckart & Young (1936); Halko, Martinsson & Tropp, SIAM Review 53 (2011);
    Hsu et al., "Language model compression with weighted low-rank factorization" (P48).
    """
    a = _as_matrix(A, "A")
    m, n = a.shape
    r = _check_rank(rank, min(m, n))
    check_choice(method, "method", SVD_METHODS)
    p = check_positive_int(oversample, "oversample", minimum=0)
    q = check_positive_int(power_iterations, "power_iterations", minimum=0)
    rng = _rng(seed)
    if method == "auto":
        short = min(m, n)
        method = "exact" if short < _EXACT_BELOW or r > _EXACT_RANK_SHARE * short else "randomized"

    d1 = d2 = None
    if weights is not None:
        if not isinstance(weights, tuple) or len(weights) != 2:
            raise TypeError("weights must be a pair (row_weights, col_weights); either may be None")
        d1 = _weight_factor(weights[0], m, "row_weights", a.dtype)
        d2 = _weight_factor(weights[1], n, "col_weights", a.dtype)
    work = a
    if d1 is not None:
        work = (d1[:, None] * work) if d1.ndim == 1 else d1.T @ work
    if d2 is not None:
        work = (work * d2) if d2.ndim == 1 else work @ d2
    total_sq = _sq_norm(work)

    if method == "exact":
        u, s_all, vt = _exact_svd(work)
        u, s, vt = np.ascontiguousarray(u[:, :r]), s_all[:r].copy(), np.ascontiguousarray(vt[:r])
        tail = s_all[r:].astype(np.float64)
        report = _matrix_report(
            "svd/exact",
            (m, n),
            a.dtype,
            s,
            total_sq,
            float(np.dot(tail, tail)),
            all_s=s_all,
            weighted=weights is not None,
        )
    else:
        u, s, vt = _randomized_svd(work, r, p, q, rng)
        report = _matrix_report(
            "svd/randomized", (m, n), a.dtype, s, total_sq, None, weighted=weights is not None
        )
    _flip_signs(u, vt)
    # Undo the weighting on the factors: Â = D₁⁻¹ U S Vt D₂⁻¹.
    if d1 is not None:
        u = u / d1[:, None] if d1.ndim == 1 else scipy.linalg.solve_triangular(d1.T, u, lower=False)
    if d2 is not None:
        vt = (
            vt / d2
            if d2.ndim == 1
            else scipy.linalg.solve_triangular(d2, vt.T, trans="T", lower=True).T
        )
    dt = a.dtype
    return LowRank(
        np.ascontiguousarray(u, dtype=dt),
        np.ascontiguousarray(s, dtype=dt),
        np.ascontiguousarray(vt, dtype=dt),
        report,
    )


# ---------------------------------------------------------------------------------------------
# joint_svd: a shared basis for many blocks, without the concatenation
# ---------------------------------------------------------------------------------------------


def _top_eigh(gram: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """All eigenvalues of a symmetric matrix, decreasing and clipped at 0, and the top-``rank``
    eigenvectors."""
    vals, vecs = scipy.linalg.eigh(gram, check_finite=False, overwrite_a=True)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    vecs = np.ascontiguousarray(vecs[:, :rank])
    return np.clip(vals, 0.0, None), vecs


@dataclass(frozen=True, repr=False, eq=False)  # arrays inside: compare by identity
class JointSVD:
    """``W_g ≈ basis @ coefficients[g]`` for every block g, with one shared orthonormal basis.

    For ``axis=1`` (blocks side by side, ``[W_1 … W_G]``, equal row counts) the basis is the
    shared left factor (m × r) and ``coefficients[g]`` is ``r × n_g``. For ``axis=0`` (blocks
    stacked, equal column counts) the basis is the shared right factor: ``W_g ≈
    coefficients[g] @ basis.T`` with coefficients ``m_g × r``.
    """

    basis: np.ndarray
    singular_values: np.ndarray
    coefficients: tuple[np.ndarray, ...]
    errors: np.ndarray  # relative Frobenius error of each block
    axis: int
    report: CompressionReport

    @property
    def rank(self) -> int:
        return int(self.basis.shape[1])

    def reconstruct(self, block: int) -> np.ndarray:
        """The dense approximation of block ``block``."""
        c = self.coefficients[block]
        return self.basis @ c if self.axis == 1 else c @ self.basis.T

    def __repr__(self) -> str:
        return (
            f"JointSVD({len(self.coefficients)} blocks, axis={self.axis}, rank {self.rank}; "
            f"{self.report!r})"
        )


def joint_svd(blocks: Any, rank: int, *, axis: int = 1) -> JointSVD:
    """Joint SVD of many matrices: the best shared rank-r basis for their concatenation.

    ``[W_1 … W_G] ≈ U_r S_r [V_1ᵀ … V_Gᵀ]`` (``axis=1``), the Eckart–Young optimum of the
    concatenation along ``axis``. The shared basis comes from the eigendecomposition of the Gram
    ``Σ_g W_g W_gᵀ`` (``axis=1``; ``Σ_g W_gᵀ W_g`` for ``axis=0``), accumulated block by block in
    double, so the concatenation is never materialised: memory ``O(k²)`` for the shared size k,
    ``O(k² Σ n_g)`` FLOPs. The per-block coefficients are ``U_rᵀ W_g`` and the per-block errors
    ``‖W_g − U_r U_rᵀ W_g‖_F / ‖W_g‖_F`` (computed from the residual, no cancellation).

    The Gram squares the condition number: the leading subspace is accurate, singular values
    below ``sqrt(eps)·σ_1`` are not (they do not matter for a truncation).

    References
    ----------
    Sub-MoE (P28: a shared U across experts), xKV (P41: a shared basis across layers' KV
    caches), reversible merging of low-rank weights (P53).

    Parameters
    ----------
    blocks : sequence of 2-D arrays
        Experts, layers, heads (P28 Sub-MoE, P41 xKV, P53). float32 blocks give float32 results.
    rank : int
        ``1 <= rank <= k`` (the shared dimension) and ``<=`` the total along ``axis``.
    axis : {0, 1}
        1: blocks side by side, sharing rows (a shared left basis). 0: stacked, sharing columns.
    """
    if axis not in (0, 1) or isinstance(axis, bool):
        raise ValueError(f"axis must be 0 or 1, got {axis!r}")
    if isinstance(blocks, np.ndarray) and blocks.ndim == 3:
        blocks = list(blocks)
    if not isinstance(blocks, (list, tuple)) or len(blocks) == 0:
        raise ValueError("blocks must be a non-empty sequence of 2-D arrays")
    mats = [_as_matrix(b, f"blocks[{i}]") for i, b in enumerate(blocks)]
    shared = 1 - axis  # the axis all blocks must agree on
    k = mats[0].shape[shared]
    for i, b in enumerate(mats):
        if b.shape[shared] != k:
            raise ValueError(
                f"blocks must share their size along axis {shared}: blocks[0] has {k}, "
                f"blocks[{i}] has shape {b.shape}"
            )
    dtype = (
        np.dtype(np.float32) if all(b.dtype == np.float32 for b in mats) else np.dtype(np.float64)
    )
    total = sum(b.shape[axis] for b in mats)
    r = _check_rank(rank, min(k, total), what="min(shared size, total size)")

    gram = np.zeros((k, k))
    for b in mats:
        b64 = b.astype(np.float64, copy=False)
        gram += b64 @ b64.T if axis == 1 else b64.T @ b64
    total_sq = float(np.trace(gram))
    eigvals, basis64 = _top_eigh(gram, r)
    basis: np.ndarray = basis64.astype(dtype)
    _flip_signs(basis, np.zeros((r, 0), dtype))

    coefficients = []
    errors = np.empty(len(mats))
    resid_sq = 0.0
    for i, b in enumerate(mats):
        bd: np.ndarray = b.astype(dtype, copy=False)
        c: np.ndarray = basis.T @ bd if axis == 1 else bd @ basis
        resid = bd - (basis @ c if axis == 1 else c @ basis.T)
        e = _sq_norm(resid)
        resid_sq += e
        own = _sq_norm(bd)
        errors[i] = math.sqrt(e / own) if own > 0 else 0.0
        coefficients.append(np.ascontiguousarray(c))
    sv = np.sqrt(eigvals)
    report = CompressionReport(
        method="joint_svd",
        shape=(k, total) if axis == 1 else (total, k),
        dtype=str(dtype),
        ranks=(r,),
        original_parameters=k * total,
        parameters=r * (k + total),
        metadata_bytes=metadata_bytes((k, total), (r,), extra_ints=len(mats)),
        itemsize=dtype.itemsize,
        relative_error=math.sqrt(resid_sq / total_sq) if total_sq > 0 else 0.0,
        optimal_error=math.sqrt(float(eigvals[r:].sum()) / total_sq) if total_sq > 0 else 0.0,
        next_singular_ratio=float(sv[r] / sv[0]) if sv.size > r and sv[0] > 0 else 0.0,
        energy=np.cumsum(eigvals[:r]) / total_sq if total_sq > 0 else np.ones(r),
        flops=2 * r * (k + total),
        original_flops=2 * k * total,
    )
    return JointSVD(basis, sv[:r].astype(dtype), tuple(coefficients), errors, axis, report)


# ---------------------------------------------------------------------------------------------
# PCA: streamed covariance, nested bases
# ---------------------------------------------------------------------------------------------


class PCA:
    """Principal components from a covariance accumulated over streamed chunks.

    ``partial_fit(X_b)`` merges each chunk's mean and centred scatter into the running ones
    (Chan, Golub & LeVeque's pairwise update, in double: no cancellation from large means);
    the basis is the eigendecomposition of the covariance, so every prefix of ``components_``
    is the PCA basis of that rank (nested, "Matryoshka" bases: P14, P46). Memory ``O(d²)``,
    ``O(n d²)`` FLOPs for n rows, ``O(d³)`` for the eigendecomposition (done once, lazily).
    The covariance is ``scatter / (n − 1)`` (``/ n`` uncentred), as scikit-learn's PCA.

    References: Chan, Golub & LeVeque, "Algorithms for computing the sample variance" (1983);
    P14 (low-rank compression of output features), P46 (MatryoshkaKV's nested projections).

    Parameters
    ----------
    n_components : int, optional
        How many components ``components_`` keeps (default: all d).
    center : bool
        Subtract the mean (PCA) or not (an uncentred second-moment basis, as P14 uses for
        output features ``Y = XW``).
    """

    def __init__(self, n_components: int | None = None, *, center: bool = True) -> None:
        if n_components is not None:
            check_positive_int(n_components, "n_components")
        self.n_components = n_components
        self.center = bool(center)
        self.n_samples_ = 0
        self._mean: np.ndarray | None = None
        self._scatter: np.ndarray | None = None
        self._dtype: np.dtype[Any] = np.dtype(np.float64)
        self._eig: tuple[np.ndarray, np.ndarray] | None = None

    def partial_fit(self, X: Any) -> PCA:
        """Add the rows of ``X`` (n_b × d) to the running mean and scatter."""
        x = _as_matrix(X, "X")
        if self._scatter is not None and x.shape[1] != self._scatter.shape[0]:
            raise ValueError(
                f"X must have {self._scatter.shape[0]} columns like the earlier chunks, "
                f"got shape {x.shape}"
            )
        x64 = x.astype(np.float64)
        nb = x64.shape[0]
        if self.center:
            mb = x64.mean(axis=0)
            x64 -= mb
        else:
            mb = np.zeros(x64.shape[1])
        sb = x64.T @ x64
        if self._scatter is None or self._mean is None:
            self._mean, self._scatter, self._dtype = mb, sb, x.dtype
        else:
            na = self.n_samples_
            delta = mb - self._mean
            self._scatter = self._scatter + sb + (na * nb / (na + nb)) * np.outer(delta, delta)
            self._mean = self._mean + delta * (nb / (na + nb))
            if x.dtype != np.float32:
                self._dtype = np.dtype(np.float64)
        self.n_samples_ += nb
        self._eig = None
        return self

    def fit(self, X: Any) -> PCA:
        """Forget earlier chunks and fit on ``X``."""
        self.n_samples_, self._mean, self._scatter, self._eig = 0, None, None, None
        return self.partial_fit(X)

    def _decomposition(self) -> tuple[np.ndarray, np.ndarray]:
        if self._scatter is None:
            raise ValueError("PCA is not fitted: call fit or partial_fit first")
        if self._eig is None:
            dof = max(self.n_samples_ - 1, 1) if self.center else max(self.n_samples_, 1)
            vals, vecs = _top_eigh(self._scatter / dof, self._scatter.shape[0])
            vt = np.ascontiguousarray(vecs.T)
            # Sign normalisation: the largest entry of each component is positive.
            signs = np.sign(vt[np.arange(vt.shape[0]), np.argmax(np.abs(vt), axis=1)])
            vt *= np.where(signs == 0, 1, signs)[:, None]
            self._eig = (vals, vt)
        return self._eig

    def _k(self, rank: int | None) -> int:
        d = self._decomposition()[1].shape[0]
        k = self.n_components or d
        if rank is None:
            return min(k, d)
        return _check_rank(rank, d, what="the number of features")

    @property
    def components_(self) -> np.ndarray:
        """``(n_components, d)``: rows are the principal directions, by decreasing variance."""
        vt = self._decomposition()[1]
        return vt[: self._k(None)].astype(self._dtype)

    @property
    def explained_variance_(self) -> np.ndarray:
        return self._decomposition()[0][: self._k(None)].astype(self._dtype)

    @property
    def explained_variance_ratio_(self) -> np.ndarray:
        vals = self._decomposition()[0]
        total = vals.sum()
        return (vals[: self._k(None)] / total if total > 0 else vals[: self._k(None)]).astype(
            self._dtype
        )

    @property
    def mean_(self) -> np.ndarray:
        self._decomposition()
        assert self._mean is not None
        return self._mean.astype(self._dtype)

    def basis(self, rank: int) -> np.ndarray:
        """The first ``rank`` components (a prefix of the nested basis), shape (rank, d)."""
        k = self._k(rank)
        return self._decomposition()[1][:k].astype(self._dtype)

    def transform(self, X: Any, rank: int | None = None) -> np.ndarray:
        """Coordinates of ``X`` in the first ``rank`` components: ``(X − mean) P_rᵀ``."""
        x = self._check_features(X)
        p = self.basis(self._k(rank))
        return np.asarray((x - self.mean_) @ p.T if self.center else x @ p.T)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        z = _as_matrix(Z, "Z")
        p = self.basis(z.shape[1])
        return np.asarray(z @ p + self.mean_ if self.center else z @ p)

    def reconstruct(self, X: Any, rank: int | None = None) -> np.ndarray:
        """Project ``X`` onto the first ``rank`` components and back."""
        return self.inverse_transform(self.transform(X, rank))

    def compress_weight(self, W: Any, rank: int) -> LowRank:
        """P14's output-feature factorisation: with this PCA fitted on outputs ``Y = XW``
        (``center=False``), replace ``W`` (d_in × d) by ``(W P_r) P_rᵀ``, a rank-r LowRank
        whose outputs are the projections of the original outputs onto the top-r basis."""
        w = _as_matrix(W, "W")
        d = self._decomposition()[1].shape[0]
        if w.shape[1] != d:
            raise ValueError(f"W must have {d} columns (the output features), got {w.shape}")
        r = _check_rank(rank, min(w.shape), what="min(W.shape)")
        p = self.basis(r).astype(w.dtype)  # r × d
        u, s, vt_small = _exact_svd(w @ p.T)  # W P_r = U S V'ᵀ, so Ŵ = U S (V'ᵀ P_rᵀ)
        vt = vt_small @ p
        _flip_signs(u, vt)
        # Ŵ = W P_rᵀP_r projects the rows of W, so ‖W − Ŵ‖² = ‖W‖² − Σ s².
        report = _matrix_report("pca/output", (w.shape[0], d), w.dtype, s, _sq_norm(w), None)
        return LowRank(np.ascontiguousarray(u), s, np.ascontiguousarray(vt), report)

    def _check_features(self, X: Any) -> np.ndarray:
        x = _as_matrix(X, "X")
        d = self._decomposition()[1].shape[0]
        if x.shape[1] != d:
            raise ValueError(f"X must have {d} columns like the fitted data, got shape {x.shape}")
        return x

    def __repr__(self) -> str:
        d = None if self._scatter is None else self._scatter.shape[0]
        return (
            f"PCA(n_components={self.n_components}, center={self.center}, "
            f"n_samples={self.n_samples_}, features={d})"
        )


# ---------------------------------------------------------------------------------------------
# CUR with anchor retrieval (P04)
# ---------------------------------------------------------------------------------------------

CUR_SELECT = ("uniform", "leverage", "pivoted_qr")
CUR_MIDDLE = ("intersection", "optimal")


@dataclass(frozen=True, repr=False, eq=False)  # arrays inside: compare by identity
class CUR:
    """``A ≈ C U R`` with ``C = A[:, cols]``, ``R = A[rows, :]`` and a small core ``U``.

    As an anchor index (P04, ANNCUR): ``rows`` are anchor queries and ``cols`` anchor items of a
    query × item score matrix. A new query scored against the anchor items only gives
    approximate scores for all items, ``a_q[cols] · U · R`` (:meth:`approximate_scores`), and
    :meth:`top_k` re-scores the best candidates exactly.
    """

    rows: np.ndarray
    cols: np.ndarray
    C: np.ndarray
    U: np.ndarray
    R: np.ndarray
    report: CompressionReport

    def __iter__(self) -> Any:
        return iter((self.C, self.U, self.R))

    def reconstruct(self) -> np.ndarray:
        return np.asarray(self.C @ (self.U @ self.R))

    def apply(self, x: Any) -> np.ndarray:
        """``Â @ x`` for x of shape (n,) or (n, k)."""
        xa = np.asarray(x)
        if xa.ndim not in (1, 2) or xa.shape[0] != self.R.shape[1]:
            raise ValueError(f"x must have {self.R.shape[1]} rows, got shape {xa.shape}")
        return np.asarray(self.C @ (self.U @ (self.R @ xa)))

    def approximate_scores(self, anchor_scores: Any) -> np.ndarray:
        """Approximate scores of new queries for ALL items from their scores on the anchor items.

        ``anchor_scores``: shape (len(cols),) for one query or (q, len(cols)). Cost
        ``O(|cols|·|rows| + |rows|·n)`` per query, no call to the expensive scorer.
        """
        s = np.asarray(anchor_scores)
        if s.ndim not in (1, 2) or s.shape[-1] != self.cols.shape[0]:
            raise ValueError(
                f"anchor_scores must have last axis {self.cols.shape[0]} (one score per anchor "
                f"item), got shape {s.shape}"
            )
        if not np.isfinite(s).all():
            raise ValueError("anchor_scores contains NaN or inf")
        return np.asarray((s @ self.U) @ self.R)

    def top_k(
        self,
        anchor_scores: Any,
        k: int,
        *,
        rescore: Callable[[np.ndarray], Any] | None = None,
        candidates: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The approximate top-k items of one query, optionally re-scored exactly.

        Takes the ``candidates`` (default k) best items by approximate score; with ``rescore``
        (a function from item indices to exact scores) ranks them by exact score. Returns
        ``(indices, scores)``, best first.
        """
        approx = self.approximate_scores(anchor_scores)
        if approx.ndim != 1:
            raise ValueError("top_k takes the anchor scores of ONE query (a 1-D array)")
        n = approx.shape[0]
        k = _check_rank(k, n, "k", "the number of items")
        c = k if candidates is None else _check_rank(candidates, n, "candidates", "n")
        if c < k:
            raise ValueError(f"candidates must be >= k = {k}, got {c}")
        pool = np.argpartition(-approx, c - 1)[:c] if c < n else np.arange(n)
        if rescore is None:
            scores = approx[pool]
        else:
            scores = np.asarray(rescore(pool), dtype=np.float64).reshape(-1)
            if scores.shape != pool.shape:
                raise ValueError(f"rescore must return {pool.size} scores, got {scores.size}")
        order = np.lexsort((pool, -scores))[:k]  # by score, ties by index: deterministic
        return pool[order], scores[order]

    def __repr__(self) -> str:
        return f"CUR({self.rows.size} rows, {self.cols.size} cols; {self.report!r})"


def _select(
    a: np.ndarray, count: int, select: str, rng: np.random.Generator, rank: int
) -> np.ndarray:
    """``count`` column indices of ``a``."""
    n = a.shape[1]
    if select == "uniform":
        return np.sort(rng.choice(n, size=count, replace=False))
    if select == "pivoted_qr":
        _, piv = scipy.linalg.qr(a, mode="r", pivoting=True, check_finite=False)
        return np.sort(piv[:count])
    # Leverage scores of the top-`rank` right singular vectors, sampled without replacement.
    vt = svd(a, rank, method="exact").Vt.astype(np.float64)
    lev = (vt**2).sum(axis=0)
    p = lev + 1e-12 * lev.max()  # every column stays selectable
    return np.sort(rng.choice(n, size=count, replace=False, p=p / p.sum()))


def cur(
    A: Any,
    n_rows: int,
    n_cols: int,
    *,
    select: str = "leverage",
    middle: str = "intersection",
    rank: int | None = None,
    seed: Any = None,
) -> CUR:
    """CUR decomposition ``A ≈ A[:, J] · U · A[I, :]`` by row and column selection.

    Parameters
    ----------
    A : array_like (m, n)
    n_rows, n_cols : int
        How many rows I and columns J to keep.
    select : {"uniform", "leverage", "pivoted_qr"}
        "uniform": I, J uniformly without replacement. "leverage": sampled without replacement
        in proportion to the leverage scores of the top-``rank`` singular vectors
        (Mahoney & Drineas 2009; ``rank`` defaults to ``min(n_rows, n_cols)``).
        "pivoted_qr": the first pivots of a column-pivoted QR of A (rows: of Aᵀ), the columns
        of the interpolative decomposition; deterministic, ``O(mn·min(m, n))``.
    middle : {"intersection", "optimal"}
        "intersection": ``U = pinv(A[I, J])`` (P04: needs only the selected rows and columns).
        "optimal": ``U = pinv(C) A pinv(R)``, the least-squares core given C and R.
    seed : int, numpy Generator or None

    The report's error is measured on the reconstruction; no optimum is claimed.

    References
    ----------
    Mahoney & Drineas, PNAS 106 (2009); Yadav et al., "Efficient nearest neighbor search for
    cross-encoder models using matrix factorization" (P04).
    """
    a = _as_matrix(A, "A")
    m, n = a.shape
    nr = _check_rank(n_rows, m, "n_rows", "m")
    nc = _check_rank(n_cols, n, "n_cols", "n")
    check_choice(select, "select", CUR_SELECT)
    check_choice(middle, "middle", CUR_MIDDLE)
    k = min(nr, nc) if rank is None else _check_rank(rank, min(m, n))
    rng = _rng(seed)
    cols = _select(a, nc, select, rng, k)
    rows = _select(a.T, nr, select, rng, k)
    c = np.ascontiguousarray(a[:, cols])
    r = np.ascontiguousarray(a[rows, :])
    if middle == "intersection":
        u = scipy.linalg.pinv(a[np.ix_(rows, cols)].astype(np.float64))
    else:
        u = scipy.linalg.pinv(c.astype(np.float64)) @ a @ scipy.linalg.pinv(r.astype(np.float64))
    u = u.astype(a.dtype)
    resid = a - c @ (u @ r)
    total_sq = _sq_norm(a)
    report = CompressionReport(
        method=f"cur/{select}",
        shape=(m, n),
        dtype=str(a.dtype),
        ranks=(nr, nc),
        original_parameters=m * n,
        parameters=m * nc + nc * nr + nr * n,
        metadata_bytes=metadata_bytes((m, n), (nr, nc), extra_ints=nr + nc),
        itemsize=a.dtype.itemsize,
        relative_error=math.sqrt(_sq_norm(resid) / total_sq) if total_sq > 0 else 0.0,
        flops=2 * (nr * n + nc * nr + m * nc),
        original_flops=2 * m * n,
    )
    return CUR(rows, cols, c, u, r, report)


# ---------------------------------------------------------------------------------------------
# allocate_ranks: a multiple-choice knapsack over layers (P26)
# ---------------------------------------------------------------------------------------------

ALLOCATE_METHODS = ("dp", "greedy")
ALLOCATE_KINDS = ("error", "spectrum")
_MAX_DP_CELLS = 25_000_000  # int32 choices: 100 MB


@dataclass(frozen=True, repr=False, eq=False)  # arrays inside: compare by identity
class Allocation:
    """One level per layer minimising the total error within the budget.

    ``levels[l]`` indexes layer l's options (for ``kind="spectrum"``: the rank kept);
    ``errors`` and ``sizes`` are the chosen options' error and size per layer.
    """

    levels: np.ndarray
    errors: np.ndarray
    sizes: np.ndarray
    budget: float
    method: str

    @property
    def total_error(self) -> float:
        return float(self.errors.sum())

    @property
    def total_size(self) -> float:
        return float(self.sizes.sum())

    def table(self) -> np.ndarray:
        """Per-layer rows as a structured array: layer, level, size, error."""
        out = np.empty(
            self.levels.shape[0],
            dtype=[("layer", np.int64), ("level", np.int64), ("size", float), ("error", float)],
        )
        out["layer"] = np.arange(self.levels.shape[0])
        out["level"], out["size"], out["error"] = self.levels, self.sizes, self.errors
        return out

    def __repr__(self) -> str:
        return (
            f"Allocation({self.method}: {self.levels.shape[0]} layers, size "
            f"{self.total_size:.6g} of {self.budget:.6g}, total error {self.total_error:.6g})"
        )

    def __str__(self) -> str:
        lines = [repr(self), f"{'layer':>6} {'level':>6} {'size':>12} {'error':>12}"]
        for row in self.table():
            lines.append(
                f"{row['layer']:>6} {row['level']:>6} {row['size']:>12.6g} {row['error']:>12.6g}"
            )
        return "\n".join(lines)


def _curves(curves: Any, sizes: Any, kind: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer (errors per level, sizes per level), validated."""
    check_choice(kind, "kind", ALLOCATE_KINDS)
    if isinstance(curves, np.ndarray) and curves.ndim == 2:
        curves = list(curves)  # one row per layer
    if isinstance(sizes, np.ndarray) and sizes.ndim == 2:
        sizes = list(sizes)
    if not isinstance(curves, (list, tuple)) or len(curves) == 0:
        raise ValueError("curves must be a non-empty sequence with one 1-D array per layer")
    if len(sizes) != len(curves):
        raise ValueError(
            f"sizes must have one entry per layer: {len(curves)} layers, got {len(sizes)} sizes"
        )
    out = []
    for i, (c, s) in enumerate(zip(curves, sizes, strict=True)):
        cv = np.asarray(c, dtype=np.float64)
        if cv.ndim != 1 or cv.size == 0:
            raise ValueError(f"curves[{i}] must be a non-empty 1-D array, got shape {cv.shape}")
        if not np.isfinite(cv).all():
            raise ValueError(f"curves[{i}] contains NaN or inf")
        if kind == "spectrum":
            unit = np.asarray(s, dtype=np.float64)
            if unit.ndim != 0 or not np.isfinite(unit) or unit <= 0:
                raise ValueError(f"sizes[{i}] must be a positive number (size per rank), got {s}")
            sq = np.sort(cv**2)[::-1]
            tail = np.concatenate([np.cumsum(sq[::-1])[::-1], [0.0]])  # Σ_{i>r} σ², r = 0..k
            out.append((tail, np.arange(cv.size + 1) * float(unit)))
        else:
            sv = np.asarray(s, dtype=np.float64)
            if sv.shape != cv.shape:
                raise ValueError(
                    f"sizes[{i}] must match curves[{i}] (one size per level): "
                    f"{cv.shape} vs {sv.shape}"
                )
            if not np.isfinite(sv).all() or (sv < 0).any():
                raise ValueError(f"sizes[{i}] must be finite and >= 0")
            out.append((cv, sv))
    return out


def _dp(
    layers: list[tuple[np.ndarray, np.ndarray]], budget: float, step: float, backend: str
) -> np.ndarray:
    """Exact multiple-choice knapsack over a budget discretised in units of ``step``; sizes are
    rounded UP to whole units, so the answer always fits the true budget."""
    cap = math.floor(budget / step + 1e-9)
    if len(layers) * (cap + 1) > _MAX_DP_CELLS:
        raise ValueError(
            f"the DP table would have {len(layers) * (cap + 1)} cells; pass a larger step "
            f"(now {step}) or method='greedy'"
        )
    errors = np.ascontiguousarray(np.concatenate([e for e, _ in layers]), dtype=np.float64)
    units = np.concatenate([np.ceil(s / step - 1e-9) for _, s in layers]).astype(np.int64)
    offsets = np.zeros(len(layers) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([e.shape[0] for e, _ in layers])
    core = _backend.compiled("_core") if _backend.resolve(backend) == "cpp" else None
    kernel = _reference.knapsack_dp if core is None else core.knapsack_dp
    levels, total = kernel(errors, units, offsets, int(cap), get_num_threads())
    if not math.isfinite(total):
        raise ValueError("no allocation fits the budget: the smallest options already exceed it")
    return np.asarray(levels, dtype=np.int64)


def _greedy(layers: list[tuple[np.ndarray, np.ndarray]], budget: float) -> np.ndarray:
    """Largest error drop per unit of size first, along each layer's lower convex hull."""
    levels = np.empty(len(layers), dtype=np.int64)
    moves: list[tuple[float, int, int, float]] = []  # (-gain per size, layer, level, Δsize)
    used = 0.0
    for li, (err, size) in enumerate(layers):
        order = np.lexsort((err, size))
        start = int(order[0])
        levels[li] = start
        used += size[start]
        hull = [start]
        for j in order[1:]:
            j = int(j)
            if err[j] >= err[hull[-1]] or size[j] == size[hull[-1]]:
                continue  # dominated: bigger and no better
            while len(hull) >= 2:
                a, b = hull[-2], hull[-1]
                # b lies above the segment a→j: drop it (not on the lower convex hull).
                lhs = (err[a] - err[b]) * (size[j] - size[a])
                rhs = (err[a] - err[j]) * (size[b] - size[a])
                if lhs <= rhs:
                    hull.pop()
                else:
                    break
            hull.append(j)
        for a, b in itertools.pairwise(hull):
            ds = size[b] - size[a]
            moves.append((-(err[a] - err[b]) / ds, li, b, ds))
    if used > budget * (1 + 1e-12):
        raise ValueError("no allocation fits the budget: the smallest options already exceed it")
    blocked = np.zeros(len(layers), dtype=bool)
    for _, li, level, ds in sorted(moves):
        if blocked[li]:
            continue
        if used + ds <= budget * (1 + 1e-12):
            levels[li] = level
            used += ds
        else:
            blocked[li] = True  # later moves of this layer build on this one
    return levels


def allocate_ranks(
    curves: Any,
    sizes: Any,
    budget: float,
    *,
    kind: str = "error",
    method: str = "dp",
    step: float | None = None,
    backend: str = "auto",
) -> Allocation:
    """One compression level per layer minimising ``Σ_l e_l(c_l)`` s.t. ``Σ_l s_l(c_l) ≤ B``.

    The multiple-choice knapsack of L-GreCo (P26) for ranks, top-k densities or bit widths
    across the layers of a model.

    Parameters
    ----------
    curves : sequence of 1-D arrays
        ``kind="error"``: layer l's error at each of its levels. ``kind="spectrum"``: layer l's
        singular values; level r (0..len) then keeps rank r with the Eckart–Young error
        ``Σ_{i>r} σ_i²`` (squared Frobenius error, so errors add across layers).
    sizes : sequence
        ``kind="error"``: 1-D arrays, each level's size (bytes, parameters, bits).
        ``kind="spectrum"``: one number per layer, the size per unit of rank (``m + n`` or
        ``m + n + 1``).
    budget : float
        The total size allowed.
    method : {"dp", "greedy"}
        "dp": exact dynamic programme over the budget in units of ``step``
        (``O(L·|C|·B/step)`` time, ``O(L·B/step)`` memory); exact when all sizes are multiples of
        ``step`` (the default: their greatest common divisor when they are integers), otherwise
        sizes are rounded up so the answer always fits. "greedy": take the largest error drop
        per unit of size along each layer's lower convex hull, ``O(L|C| log(L|C|))``; optimal
        for the continuous relaxation, within one move of the optimum otherwise.
    backend : {"auto", "cpp", "numpy"}
        The DP's implementation: the C++ kernel (capacities split across
        ``infokit.get_num_threads()`` threads, same answer on any count) or its numpy twin.

    Returns
    -------
    Allocation
        ``levels``, per-layer ``errors`` and ``sizes``, totals, and ``table()``.
    """
    check_choice(method, "method", ALLOCATE_METHODS)
    backend = _backend.resolve(backend)
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real):
        raise TypeError(f"budget must be a number, got {type(budget).__name__}")
    if not math.isfinite(budget) or budget < 0:
        raise ValueError(f"budget must be finite and >= 0, got {budget}")
    layers = _curves(curves, sizes, kind)
    if method == "dp":
        if step is None:
            all_sizes = np.concatenate([s for _, s in layers])
            if not np.all(all_sizes == np.round(all_sizes)):
                raise ValueError("sizes are not integers: pass step= to discretise the budget")
            ints = all_sizes.astype(np.int64)
            step = float(max(int(np.gcd.reduce(ints[ints > 0])) if (ints > 0).any() else 1, 1))
        elif isinstance(step, bool) or not isinstance(step, numbers.Real) or not step > 0:
            raise ValueError(f"step must be a positive number, got {step!r}")
        levels = _dp(layers, float(budget), float(step), backend)
    else:
        levels = _greedy(layers, float(budget))
    errors = np.array([e[lv] for (e, _), lv in zip(layers, levels, strict=True)])
    chosen = np.array([s[lv] for (_, s), lv in zip(layers, levels, strict=True)])
    return Allocation(levels, errors, chosen, float(budget), method)


# ---------------------------------------------------------------------------------------------
# merge_experts: frequency-weighted merging after permutation alignment (P24)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)  # arrays inside: compare by identity
class MergedExperts:
    """One merged expert per group, with the permutation that aligned each original expert.

    ``merged[g]`` is a tuple of matrices (the structure of one expert); ``permutations[e]``
    reorders expert e's neurons onto its group's dominant expert: aligned = take(W_e,
    permutations[e], neuron_axis).
    """

    merged: tuple[tuple[np.ndarray, ...], ...]
    permutations: np.ndarray
    groups: np.ndarray
    dominant: np.ndarray
    report: CompressionReport

    def __repr__(self) -> str:
        return (
            f"MergedExperts({self.groups.shape[0]} experts -> {len(self.merged)} groups; "
            f"{self.report!r})"
        )


def _expert(e: Any, i: int) -> list[np.ndarray]:
    parts = [e] if isinstance(e, np.ndarray) and e.ndim == 2 else list(e)
    return [_as_matrix(p, f"experts[{i}][{j}]") for j, p in enumerate(parts)]


def merge_experts(
    experts: Any,
    frequencies: Any,
    *,
    neuron_axis: int | Sequence[int] = 0,
    groups: Any = None,
    align: bool = True,
) -> MergedExperts:
    """Merge experts into one per group: align neurons to the dominant expert, then average
    weighted by routing frequency (M-SMoE, P24).

    Parameters
    ----------
    experts : sequence
        Each expert is a 2-D array or a sequence of 2-D arrays (e.g. ``(W_in, W_out)``), all
        experts with the same shapes.
    frequencies : array_like (E,)
        Routing frequencies (>= 0); the merge weights ``f_e / Σ_{e∈g} f_e``.
    neuron_axis : int or sequence of int
        The axis of each matrix that indexes the hidden neurons (permutable without changing
        the expert's function, e.g. 0 for ``W_in`` (h × d), 1 for ``W_out`` (d × h)).
    groups : array_like (E,) of int, optional
        Group labels (default: one group). Each group's dominant expert is its most frequent.
    align : bool
        Match neurons by the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) on
        the inner products of the neurons' concatenated weights, ``O(h³)`` per expert.

    The report counts one merged expert per group against all originals and the relative
    error ``sqrt(Σ_e ‖aligned_e − merged_g(e)‖² / Σ_e ‖W_e‖²)``.

    References
    ----------
    Li et al., "Merge, then compress: demystify efficient SMoE with hints from its routing
    policy" (P24); Kuhn, "The Hungarian method for the assignment problem" (1955).
    """
    if not isinstance(experts, (list, tuple)) or len(experts) == 0:
        raise ValueError("experts must be a non-empty sequence")
    mats = [_expert(e, i) for i, e in enumerate(experts)]
    n_exp = len(mats)
    shapes = [m.shape for m in mats[0]]
    for i, ms in enumerate(mats):
        if [m.shape for m in ms] != shapes:
            raise ValueError(
                f"experts must all have the same matrix shapes: experts[0] has {shapes}, "
                f"experts[{i}] has {[m.shape for m in ms]}"
            )
    axes = [neuron_axis] * len(shapes) if isinstance(neuron_axis, int) else list(neuron_axis)
    if len(axes) != len(shapes) or any(ax not in (0, 1) for ax in axes):
        raise ValueError(f"neuron_axis must be 0 or 1 for each of the {len(shapes)} matrices")
    hidden = {shp[ax] for shp, ax in zip(shapes, axes, strict=True)}
    if len(hidden) != 1:
        raise ValueError(f"the neuron axes disagree on the number of neurons: {sorted(hidden)}")
    h = hidden.pop()
    freq = np.asarray(frequencies, dtype=np.float64)
    if freq.shape != (n_exp,):
        raise ValueError(f"frequencies must have shape ({n_exp},), got {freq.shape}")
    if not np.isfinite(freq).all() or (freq < 0).any():
        raise ValueError("frequencies must be finite and >= 0")
    labels = np.zeros(n_exp, dtype=np.int64) if groups is None else np.asarray(groups)
    if labels.shape != (n_exp,) or labels.dtype.kind not in "iu":
        raise ValueError(f"groups must be {n_exp} integer labels, got {labels!r}")
    dtype = mats[0][0].dtype

    def features(ms: list[np.ndarray]) -> np.ndarray:
        # One row per neuron: its weights in every matrix, concatenated.
        return np.concatenate(
            [(m if ax == 0 else m.T) for m, ax in zip(ms, axes, strict=True)], axis=1
        )

    perms = np.tile(np.arange(h), (n_exp, 1))
    merged = []
    dominant = []
    resid_sq = 0.0
    total_sq = sum(_sq_norm(m) for ms in mats for m in ms)
    for g in np.unique(labels):
        members = np.flatnonzero(labels == g)
        w = freq[members]
        if w.sum() <= 0:
            raise ValueError(f"group {g} has zero total frequency")
        ref = int(members[np.argmax(w)])
        dominant.append(ref)
        ref_feat = features(mats[ref]).astype(np.float64)
        aligned: list[list[np.ndarray]] = []
        for e in members:
            if align and e != ref:
                sim = ref_feat @ features(mats[e]).astype(np.float64).T
                _, col = scipy.optimize.linear_sum_assignment(sim, maximize=True)
                perms[e] = col
            aligned.append(
                [np.take(m, perms[e], axis=ax) for m, ax in zip(mats[e], axes, strict=True)]
            )
        weights = w / w.sum()
        group_merged = tuple(
            sum(
                wt * a[j].astype(np.float64) for wt, a in zip(weights, aligned, strict=True)
            ).astype(dtype)
            for j in range(len(shapes))
        )
        for a in aligned:
            resid_sq += sum(_sq_norm(x - y) for x, y in zip(a, group_merged, strict=True))
        merged.append(group_merged)
    per_expert = sum(s[0] * s[1] for s in shapes)
    report = CompressionReport(
        method="merge_experts",
        shape=(n_exp, per_expert),
        dtype=str(dtype),
        ranks=(len(merged),),
        original_parameters=n_exp * per_expert,
        parameters=len(merged) * per_expert,
        metadata_bytes=metadata_bytes((n_exp, per_expert), (len(merged),), extra_ints=n_exp),
        itemsize=dtype.itemsize,
        relative_error=math.sqrt(resid_sq / total_sq) if total_sq > 0 else 0.0,
    )
    return MergedExperts(tuple(merged), perms, labels, np.array(dominant), report)
