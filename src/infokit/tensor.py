"""Tensor decompositions: Tucker (HOSVD and HOOI) and CP (alternating least squares).

Tucker works from each mode's Gram matrix ``X_(n) X_(n)ᵀ`` (I_n × I_n) and its symmetric
eigendecomposition instead of an SVD of the I_n × Π_{k≠n} I_k unfolding: the leading subspace
is the same, the cost is one GEMM, and the unfolding is never copied. n-mode products are GEMMs
(or one batched GEMM) on reshaped views of C-contiguous arrays, without ``moveaxis`` copies.
float32 stays float32; norms and errors are accumulated in double.

Results unpack like tensorly's (``core, factors = tucker(...)``; ``weights, factors = cp(...)``)
and convert with ``to_tensorly()``. Paper: P05 (Tucker of tensor data).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from ._compression_report import CompressionReport, metadata_bytes
from ._validation import check_choice, check_positive_int
from .lowrank import _as_matrix, _rng, _sq_norm

__all__ = ["CP", "Tucker", "cp", "tucker"]

TUCKER_METHODS = ("hosvd", "hooi")
CP_INITS = ("svd", "random")


# ---------------------------------------------------------------------------------------------
# n-mode products and Grams on views
# ---------------------------------------------------------------------------------------------


def _split(shape: tuple[int, ...], mode: int) -> tuple[int, int, int]:
    return math.prod(shape[:mode]), shape[mode], math.prod(shape[mode + 1 :])


def mode_product(x: np.ndarray, m: np.ndarray, mode: int) -> np.ndarray:
    """``x ×_mode m``: replace axis ``mode`` (size I) by ``m @ x`` along it, m of shape (J, I).

    One GEMM for the first or last mode, one batched GEMM otherwise; ``x`` must be C-contiguous.
    """
    left, size, right = _split(x.shape, mode)
    if m.shape[1] != size:
        raise ValueError(f"m must have {size} columns for mode {mode}, got shape {m.shape}")
    new = m.shape[0]
    if right == 1:
        y = x.reshape(left, size) @ m.T
    elif left == 1:
        y = m @ x.reshape(size, right)
    else:
        y = np.matmul(m, x.reshape(left, size, right))
    return np.ascontiguousarray(y).reshape((*x.shape[:mode], new, *x.shape[mode + 1 :]))


def _gram(x: np.ndarray, mode: int) -> np.ndarray:
    """``X_(n) X_(n)ᵀ`` in float64 (the products run in x's dtype), without unfolding copies."""
    left, size, right = _split(x.shape, mode)
    if right == 1:
        flat = x.reshape(left, size)
        return np.asarray(flat.T @ flat, dtype=np.float64)
    if left == 1:
        flat = x.reshape(size, right)
        return np.asarray(flat @ flat.T, dtype=np.float64)
    x3 = x.reshape(left, size, right)
    g = np.zeros((size, size))
    for block in x3:  # Σ_l X_l X_lᵀ: `left` GEMMs on contiguous slices
        g += block @ block.T
    return g


def _leading(gram: np.ndarray, rank: int, dtype: np.dtype[Any]) -> np.ndarray:
    """Top-``rank`` eigenvectors of a symmetric matrix, largest first, signs normalised."""
    size = gram.shape[0]
    _, vecs = scipy.linalg.eigh(
        gram, subset_by_index=(size - rank, size - 1), check_finite=False, overwrite_a=True
    )
    u = np.ascontiguousarray(vecs[:, ::-1])
    _normalise_signs(u)
    return u.astype(dtype)


def _normalise_signs(u: np.ndarray) -> np.ndarray:
    """Make each column's largest-magnitude entry positive (in place); returns the signs."""
    signs = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])])
    signs[signs == 0] = 1
    u *= signs
    return signs


def _as_tensor(x: Any) -> np.ndarray:
    arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if arr.ndim < 2:
        raise ValueError(f"X must have at least 2 dimensions, got shape {arr.shape}")
    return np.ascontiguousarray(_as_matrix(arr, "X", ndim=arr.ndim))


def _check_ranks(ranks: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(ranks, numbers.Integral) and not isinstance(ranks, bool):
        ranks = (int(ranks),) * len(shape)
    if not isinstance(ranks, Sequence) or len(ranks) != len(shape):
        raise ValueError(
            f"ranks must be an int or one rank per mode ({len(shape)} for shape {shape}), "
            f"got {ranks!r}"
        )
    out = []
    for n, (r, size) in enumerate(zip(ranks, shape, strict=True)):
        rn = check_positive_int(r, f"ranks[{n}]")
        if rn > size:
            raise ValueError(f"ranks[{n}] must be <= the mode size {size}, got {rn}")
        out.append(rn)
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Tucker
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)  # arrays inside: compare by identity
class Tucker:
    """``X ≈ core ×_1 U_1 ×_2 U_2 … ×_N U_N`` with orthonormal factors. Unpacks as
    ``core, factors``."""

    core: np.ndarray
    factors: tuple[np.ndarray, ...]
    report: CompressionReport
    n_iter: int

    @property
    def ranks(self) -> tuple[int, ...]:
        return tuple(int(r) for r in self.core.shape)

    def __iter__(self) -> Any:
        return iter((self.core, list(self.factors)))

    def to_dense(self) -> np.ndarray:
        """The full reconstructed tensor."""
        y = self.core
        for n, u in enumerate(self.factors):
            y = mode_product(y, u, n)
        return y

    reconstruct = to_dense

    def project(self, x: Any) -> np.ndarray:
        """Core coordinates of a tensor of the same shape: ``x ×_n U_nᵀ`` for every mode."""
        y = _as_tensor(x)
        if y.shape != self.report.shape:
            raise ValueError(f"x must have shape {self.report.shape}, got {y.shape}")
        for n, u in enumerate(self.factors):
            y = mode_product(y, np.ascontiguousarray(u.T), n)
        return y

    def to_tensorly(self) -> Any:
        """tensorly's ``TuckerTensor((core, factors))`` (needs tensorly)."""
        from tensorly.tucker_tensor import TuckerTensor

        return TuckerTensor((self.core, list(self.factors)))

    def __repr__(self) -> str:
        return f"Tucker(ranks {self.ranks}, {self.n_iter} HOOI sweeps; {self.report!r})"


def _core(x: np.ndarray, factors: Sequence[np.ndarray], skip: int = -1) -> np.ndarray:
    """``x ×_n U_nᵀ`` over every mode except ``skip``; each product shrinks the next one's input."""
    y = x
    for n, u in enumerate(factors):
        if n != skip:
            y = mode_product(y, np.ascontiguousarray(u.T), n)
    return y


def tucker(
    X: Any,
    ranks: Any,
    *,
    method: str = "hosvd",
    n_iter: int = 50,
    tol: float = 1e-10,
) -> Tucker:
    """Tucker decomposition ``X ≈ G ×_1 U_1 … ×_N U_N`` with orthonormal ``U_n`` (I_n × r_n).

    Parameters
    ----------
    X : array_like, N-D (N >= 2)
        Real, finite; float32 stays float32.
    ranks : int or sequence of int
        ``r_n <= I_n`` per mode (an int applies to every mode).
    method : {"hosvd", "hooi"}
        "hosvd" (De Lathauwer et al. 2000): ``U_n`` = top-r_n eigenvectors of the mode-n Gram
        ``X_(n) X_(n)ᵀ``, ``G = X ×_n U_nᵀ``: ``O(Σ_n I_n · Π I)`` FLOPs for the Grams,
        quasi-optimal (error ≤ √N × optimum). "hooi": HOSVD, then sweeps of ``U_n`` ← top
        eigenvectors of the Gram of ``X ×_{k≠n} U_kᵀ`` until the kept energy ``‖G‖²/‖X‖²``
        gains less than ``tol`` (at most ``n_iter`` sweeps): never worse than HOSVD.

    The error comes without a reconstruction: with orthonormal factors ``‖X − X̂‖² = ‖X‖² −
    ‖G‖²``. The report counts ``Π r_n + Σ I_n r_n`` parameters; no optimum is claimed (the best
    Tucker approximation is not known in closed form).

    References
    ----------
    De Lathauwer, De Moor & Vandewalle, SIAM J. Matrix Anal. Appl. 21 (2000); Kolda & Bader,
    SIAM Review 51 (2009).
    """
    x = _as_tensor(X)
    r = _check_ranks(ranks, x.shape)
    check_choice(method, "method", TUCKER_METHODS)
    max_iter = check_positive_int(n_iter, "n_iter", minimum=0)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    total_sq = _sq_norm(x)
    factors = [_leading(_gram(x, n), r[n], x.dtype) for n in range(x.ndim)]
    core = _core(x, factors)
    kept = _sq_norm(core)
    sweeps = 0
    if method == "hooi":
        for _ in range(max_iter):
            sweeps += 1
            for n in range(x.ndim):
                partial = _core(x, factors, skip=n)
                factors[n] = _leading(_gram(partial, n), r[n], x.dtype)
            core = _core(x, factors)
            new = _sq_norm(core)
            converged = total_sq == 0 or (new - kept) <= tol * total_sq
            kept = max(kept, new)
            if converged:
                break
    rel = math.sqrt(max(total_sq - _sq_norm(core), 0.0) / total_sq) if total_sq > 0 else 0.0
    report = CompressionReport(
        method=f"tucker/{method}",
        shape=x.shape,
        dtype=str(x.dtype),
        ranks=r,
        original_parameters=x.size,
        parameters=math.prod(r) + sum(i * k for i, k in zip(x.shape, r, strict=True)),
        metadata_bytes=metadata_bytes(x.shape, r),
        itemsize=x.dtype.itemsize,
        relative_error=rel,
    )
    return Tucker(core, tuple(factors), report, sweeps)


# ---------------------------------------------------------------------------------------------
# CP by alternating least squares
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)  # arrays inside: compare by identity
class CP:
    """``X ≈ Σ_r weights[r] · a_r^(1) ∘ … ∘ a_r^(N)`` with unit-norm factor columns, components
    by decreasing weight. Unpacks as ``weights, factors``."""

    weights: np.ndarray
    factors: tuple[np.ndarray, ...]
    report: CompressionReport
    n_iter: int

    @property
    def rank(self) -> int:
        return int(self.weights.shape[0])

    def __iter__(self) -> Any:
        return iter((self.weights, list(self.factors)))

    def to_dense(self) -> np.ndarray:
        shape = tuple(int(f.shape[0]) for f in self.factors)
        # Khatri–Rao of the trailing factors, then one GEMM with the first.
        kr = self.factors[-1]
        for f in reversed(self.factors[1:-1]):
            kr = (f[:, None, :] * kr[None, :, :]).reshape(-1, self.rank)
        return np.asarray((self.factors[0] * self.weights) @ kr.T).reshape(shape)

    reconstruct = to_dense

    def to_tensorly(self) -> Any:
        """tensorly's ``CPTensor((weights, factors))`` (needs tensorly)."""
        from tensorly.cp_tensor import CPTensor

        return CPTensor((self.weights, list(self.factors)))

    def __repr__(self) -> str:
        return f"CP(rank {self.rank}, {self.n_iter} ALS sweeps; {self.report!r})"


def _mttkrp(x: np.ndarray, factors: Sequence[np.ndarray], mode: int) -> np.ndarray:
    """``X_(n) (⊙_{k≠n} A_k)`` by one einsum contraction (BLAS underneath), no Khatri–Rao."""
    nd = x.ndim
    operands: list[Any] = [x, list(range(nd))]
    for k, f in enumerate(factors):
        if k != mode:
            operands += [f, [k, nd]]
    return np.asarray(np.einsum(*operands, [mode, nd], optimize="greedy"))


def cp(
    X: Any,
    rank: int,
    *,
    n_iter: int = 500,
    tol: float = 1e-10,
    init: str = "svd",
    seed: Any = None,
) -> CP:
    """CP (CANDECOMP/PARAFAC) decomposition by alternating least squares.

    Each sweep solves, for every mode n, ``A_n = X_(n)(⊙_{k≠n} A_k) · (⊛_{k≠n} A_kᵀA_k)⁺``
    (the MTTKRP then an R × R solve): ``O(N · R · Π I)`` FLOPs per sweep. Stops when the relative
    error changes by less than ``tol`` or after ``n_iter`` sweeps. The error is computed from
    Grams and the MTTKRP, without a reconstruction.

    Parameters
    ----------
    X : array_like, N-D (N >= 2)
    rank : int
        Number of rank-one components R (may exceed the mode sizes).
    init : {"svd", "random"}
        "svd": the leading eigenvectors of each mode's Gram (random columns beyond I_n);
        "random": Gaussian factors from ``seed``.

    References
    ----------
    Carroll & Chang (1970); Harshman (1970); Kolda & Bader, SIAM Review 51 (2009).
    """
    x = _as_tensor(X)
    rk = check_positive_int(rank, "rank")
    max_iter = check_positive_int(n_iter, "n_iter", minimum=1)
    check_choice(init, "init", CP_INITS)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    rng = _rng(seed)
    total_sq = _sq_norm(x)
    factors: list[np.ndarray] = []
    for n, size in enumerate(x.shape):
        f = rng.standard_normal((size, rk))
        if init == "svd":
            k = min(rk, size)
            f[:, :k] = _leading(_gram(x, n), k, np.dtype(np.float64))
        factors.append(f.astype(x.dtype))
    weights = np.ones(rk, dtype=np.float64)
    last = math.inf
    rel = 1.0
    sweeps = 0
    for _ in range(max_iter):
        sweeps += 1
        for n in range(x.ndim):
            m = _mttkrp(x, factors, n).astype(np.float64)
            v = np.ones((rk, rk))
            for k, f in enumerate(factors):
                if k != n:
                    f64 = f.astype(np.float64)
                    v *= f64.T @ f64
            a = scipy.linalg.lstsq(v, m.T, check_finite=False)[0].T  # A_n = M V⁺
            if n == x.ndim - 1:
                # ⟨X, X̂⟩ = Σ M ∘ A_n and ‖X̂‖² = Σ (A_nᵀA_n) ∘ V, before normalising.
                inner = float(np.sum(m * a))
                model = float(np.sum((a.T @ a) * v))
                rel = (
                    math.sqrt(max(total_sq - 2 * inner + model, 0.0) / total_sq)
                    if total_sq
                    else 0.0
                )
            norms = np.linalg.norm(a, axis=0)
            weights = norms
            a = a / np.where(norms > 0, norms, 1.0)
            factors[n] = a.astype(x.dtype)
        if abs(last - rel) < tol:
            break
        last = rel
    # Canonical form: weights descending, each factor's largest entry positive except the last,
    # which absorbs the signs.
    order = np.argsort(-weights, kind="stable")
    weights = weights[order]
    factors = [np.ascontiguousarray(f[:, order]) for f in factors]
    for f in factors[:-1]:
        factors[-1] *= _normalise_signs(f)
    report = CompressionReport(
        method="cp/als",
        shape=x.shape,
        dtype=str(x.dtype),
        ranks=(rk,),
        original_parameters=x.size,
        parameters=rk * sum(x.shape) + rk,
        metadata_bytes=metadata_bytes(x.shape, (rk,)),
        itemsize=x.dtype.itemsize,
        relative_error=rel,
    )
    return CP(weights.astype(x.dtype), tuple(factors), report, sweeps)
