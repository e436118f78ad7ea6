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

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize

from ._compression_report import CompressionReport, metadata_bytes
from ._validation import check_positive_int

__all__ = ["LowRank", "svd"]

SVD_METHODS = ("auto", "exact", "randomized")
# "auto" takes the exact route below this many columns (or rows) of the short side, or when the
# rank is a large share of it: there LAPACK's divide and conquer is as fast as a sketch.
_EXACT_BELOW = 256
_EXACT_RANK_SHARE = 0.25


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def _float_dtype(a: np.ndarray, name: str) -> np.dtype[Any]:
    kind = a.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {a.dtype}")
    if kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    return np.dtype(np.float32) if a.dtype == np.float32 else np.dtype(np.float64)


def _as_matrix(a: Any, name: str = "A", ndim: int = 2) -> np.ndarray:
    """A finite real float32/float64 array of ``ndim`` dimensions, no empty axis."""
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real array: {exc}") from None
    dtype = _float_dtype(arr, name)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got a {arr.ndim}-D array of shape {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    arr = arr.astype(dtype, copy=False)
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


@dataclass(frozen=True, repr=False)
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
    arr = np.asarray(w)
    _float_dtype(arr, name)
    arr = arr.astype(np.float64)
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
        FLOPs. Its excess error decays like ``(σ_{r+1}/σ_{r+p})^{2q+1}``. "auto": exact when
        ``min(m, n) < 256`` or ``rank > min(m, n) / 4``, randomized otherwise.
    weights : (row_weights, col_weights), optional
        Weights on the squared error; either may be None. 1-D ``row_weights`` (m,) and
        ``col_weights`` (n,) > 0 minimise ``Σ_ij r_i c_j (A − Â)_ij²``: Fisher-weighted SVD
        (FWSVD, P48) takes ``r_i = Σ_j E[(∂L/∂A_ij)²]``. A 2-D ``col_weights`` G (n × n, SPD,
        e.g. the activation Gram ``XᵀX``) minimises ``‖(A − Â) G^{1/2}‖_F²`` =
        ``‖(A − Â)Xᵀ‖_F²``: activation-aware SVD. Closed form: with square-root factors D₁, D₂,
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
    if method not in SVD_METHODS:
        raise ValueError(f"method must be one of {SVD_METHODS}, got {method!r}")
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
