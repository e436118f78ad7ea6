"""Information measures of representation matrices: matrix entropies, kernel divergences, CKA.

Samples are rows: ``X`` is ``(n, d)`` (a 1-D array is ``(n, 1)``). float32 and float64 inputs are
read as they are (all sums accumulate in float64); other reals become float64. Results are Python
floats (or a small frozen dataclass where there is more than one number).

Two families live here:

- **Spectral quantities** (von Neumann and Rényi matrix entropies, matrix mutual information,
  effective rank, the nuclear-norm metric, diffusion spectral entropy and mutual information) need
  eigenvalues. They are computed exactly with LAPACK (``numpy.linalg.eigvalsh`` / ``svd``). For the
  linear kernel the route is chosen by ``min(n, d)``: the ``d x d`` covariance ``ZᵀZ`` or the
  ``n x n`` Gram matrix ``ZZᵀ``, which share their non-zero spectrum, so both give the same value.
  Gaussian-kernel spectra need the ``n x n`` matrix: O(n²) memory and O(n³) time. Rényi order 2
  never needs eigenvalues (``S₂ = -log ‖A‖_F²``) and runs in O(n) memory. For large n,
  :func:`renyi_entropy_estimate` and :func:`diffusion_spectral_entropy_estimate` use stochastic
  Lanczos quadrature on tiled kernel products (O(n d) memory) and report a standard error; the
  exact functions never switch to them silently.
- **Kernel sums** (MMD, HSIC, kernel CKA, the Cauchy–Schwarz divergence and mutual information)
  are sums of Gaussian kernel entries. The C++ kernels fuse distance, exponential and summation
  tile by tile: O(n d) extra memory, never an ``n x n`` matrix, so n = 10⁵ runs. The numpy twins
  (``backend="numpy"``) materialise the matrices and are meant for small n.

**Gaussian kernel and bandwidth.** ``k(x, y) = exp(-‖x − y‖² / (2σ²))``. When ``sigma`` is None
the median heuristic is used (:func:`median_bandwidth`): σ = the median Euclidean distance
between distinct samples, computed on at most 1000 rows chosen with a fixed seed. It scales with
the data (multiplying X by c multiplies σ by c), unlike a fixed σ, which degenerates the kernel
to the identity (σ too small) or to a constant (σ too large). Pass ``sigma`` to override.

**Units.** ``base=None`` gives nats, ``base=2`` bits.

**Threads.** The kernel sums split their rows among ``infokit.get_num_threads()`` threads in a
fixed task list, so results are identical for any thread count. Each tile is a small matrix
product (the ``2 x·y`` of ``‖x‖² + ‖y‖² − 2 x·y``) followed by a vectorised exp, compiled for
AVX-512, AVX2 + FMA and portable code and chosen at run time: the last bits of a result may
differ between CPUs, never between thread counts on one CPU.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _backend
from ._reference import matrix as _ref
from ._threads import get_num_threads
from ._validation import check_base, check_choice, check_positive_int, check_same_length, to_base

__all__ = [
    "NuclearNormMetric",
    "SpectralEstimate",
    "cauchy_schwarz_divergence",
    "cauchy_schwarz_mutual_information",
    "cka",
    "diffusion_spectral_entropy",
    "diffusion_spectral_entropy_estimate",
    "diffusion_spectral_mutual_information",
    "effective_rank",
    "hsic",
    "matrix_mutual_information",
    "median_bandwidth",
    "mmd",
    "nuclear_norm_metric",
    "renyi_entropy",
    "renyi_entropy_estimate",
    "von_neumann_entropy",
]

F64 = npt.NDArray[np.float64]

# Rows used by the median heuristic: enough for a stable median, cheap (≈5·10⁵ distances).
_MEDIAN_ROWS = 1000
_MEDIAN_SEED = 0


# --- argument handling -------------------------------------------------------------------------


def _kernels(backend: str) -> ModuleType:
    if _backend.resolve(backend) == "cpp":
        module = _backend.compiled("_core")
        assert module is not None  # resolve() said the build is there
        return module
    return _ref


def _as_samples(x: Any, name: str, min_rows: int = 2) -> np.ndarray:
    """``x`` as a C-contiguous 2-D float32/float64 array of finite values with >= min_rows rows."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real array of samples (rows): {exc}") from None
    if a.dtype.kind in "biu" or (a.dtype.kind == "f" and a.dtype not in (np.float32, np.float64)):
        a = a.astype(np.float64)
    elif a.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D (n,) or 2-D (n, d) with samples as rows, got shape {a.shape}"
        )
    if a.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} samples (rows), got {a.shape[0]}")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has shape {a.shape}: samples need at least one feature")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; features must be finite")
    return np.ascontiguousarray(a)


def _same_dtype(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as float64 unless both are float32 (the kernels take one dtype)."""
    if a.dtype == b.dtype:
        return a, b
    return a.astype(np.float64), b.astype(np.float64)


def _check_sigma(sigma: Any, name: str) -> float | None:
    if sigma is None:
        return None
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real):
        raise TypeError(f"{name} must be None (median heuristic) or a real number, got {sigma!r}")
    s = float(sigma)
    if not math.isfinite(s) or s <= 0.0:
        raise ValueError(f"{name} must be a positive finite number, got {sigma!r}")
    return s


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a real number, got {alpha!r}")
    a = float(alpha)
    if math.isnan(a) or a <= 0.0:
        raise ValueError(f"alpha must be > 0 (alpha = 1 is the von Neumann limit), got {alpha!r}")
    return a


def _check_kernel(kernel: Any, allowed: tuple[str | None, ...]) -> str:
    check_choice(kernel, "kernel", allowed)
    return "linear" if kernel is None else str(kernel)


def _gamma(sigma: float) -> float:
    """1 / (2σ²), the kernels' parameter; a σ so small that it overflows is an error."""
    gamma = 1.0 / (2.0 * sigma * sigma) if sigma * sigma > 0.0 else math.inf
    if not math.isfinite(gamma):
        raise ValueError(f"sigma = {sigma!r} is too small: 1 / (2 sigma^2) overflows")
    return gamma


def median_bandwidth(X: Any) -> float:
    """The median heuristic bandwidth σ of the Gaussian kernel ``exp(-‖x − y‖² / (2σ²))``.

    σ = median of ``‖x_i − x_j‖`` over pairs ``i < j``. Above 1000 rows, the median is taken over
    1000 rows drawn without replacement by a fixed-seed generator (the result is deterministic).
    If the median is 0 or below 1e-8 of the largest distance (mostly duplicated rows), the mean
    distance is used; if every row is the same, σ = 1.

    Parameters
    ----------
    X : array_like, shape (n, d) or (n,)
        Samples as rows, n >= 2, finite.

    Returns
    -------
    float
        σ in the units of X. Cost O(min(n, 1000)² d).

    References
    ----------
    A. Gretton et al. (2012), "A kernel two-sample test", JMLR 13 (the median heuristic).
    """
    return _median_bandwidth(_as_samples(X, "X"))


def _median_bandwidth(x: np.ndarray) -> float:
    n = x.shape[0]
    if n > _MEDIAN_ROWS:
        rows = np.random.default_rng(_MEDIAN_SEED).choice(n, _MEDIAN_ROWS, replace=False)
        x = x[np.sort(rows)]
    z = np.asarray(x, dtype=np.float64)
    sq = np.einsum("ij,ij->i", z, z)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (z @ z.T)
    upper = np.triu_indices(z.shape[0], k=1)
    dist = np.sqrt(np.maximum(d2[upper], 0.0))
    sigma = float(np.median(dist))
    if dist.size and sigma <= 1e-8 * float(dist.max()):  # mostly duplicated rows: degenerate
        sigma = float(dist.mean())
    return sigma if sigma > 0.0 else 1.0


def _bandwidth(x: np.ndarray, sigma: float | None) -> float:
    return _median_bandwidth(x) if sigma is None else sigma


# --- spectra -----------------------------------------------------------------------------------


def _centred(x: np.ndarray, center: bool) -> F64:
    z = np.asarray(x, dtype=np.float64)
    out: F64 = z - z.mean(axis=0) if center else z
    return out


def _linear_gram(z: F64) -> F64:
    """ZᵀZ (d <= n) or ZZᵀ (n < d): the smaller of the two, same non-zero spectrum."""
    n, d = z.shape
    out: F64 = z.T @ z if d <= n else z @ z.T
    return out


def _normalised(m: F64, name: str) -> F64:
    trace = float(np.trace(m))
    if not trace > 0.0:
        raise ValueError(f"{name} has zero variance (all rows equal): its matrix has trace 0")
    out: F64 = m / trace
    return out


def _density_matrix(x: np.ndarray, kernel: str, sigma: float | None, center: bool, mod: Any) -> F64:
    """The trace-1 matrix whose spectrum the entropies use."""
    if kernel == "linear":
        return _normalised(_linear_gram(_centred(x, center)), "X")
    gram: F64 = mod.gaussian_gram(x, _gamma(_bandwidth(x, sigma)), n_threads=get_num_threads())
    return gram / x.shape[0]  # unit diagonal, so trace n


def _eigenvalues(a: F64) -> F64:
    """Eigenvalues of a symmetric PSD matrix; those within rounding of 0 are set to 0.

    LAPACK leaves eigenvalues of size ~ n·eps·λ_max where the exact ones are 0; for orders
    alpha < 1 they would add λ^alpha >> λ, so they are treated as the zeros they stand for
    (the tolerance numpy.linalg.matrix_rank uses).
    """
    lam: F64 = np.asarray(np.linalg.eigvalsh(a), dtype=np.float64)
    top = float(lam.max()) if lam.size else 0.0
    lam[lam <= top * lam.size * np.finfo(np.float64).eps] = 0.0
    return lam


def _spectral_entropy(lam: F64, alpha: float) -> float:
    """-Σ λ log λ (alpha = 1) or log(Σ λ^α)/(1 − α) of a spectrum summing to 1, in nats."""
    lam = lam[lam > 0.0]
    lam = lam / lam.sum()
    if alpha == 1.0:
        return float(-(lam * np.log(lam)).sum())
    if math.isinf(alpha):
        return float(-np.log(lam.max()))
    return float(np.log(np.sum(lam**alpha)) / (1.0 - alpha))


def _purity(x: np.ndarray, kernel: str, sigma: float | None, center: bool, mod: Any) -> float:
    """‖A‖_F² of the trace-1 matrix A, without an eigendecomposition."""
    if kernel == "linear":
        m = _linear_gram(_centred(x, center))
        trace = float(np.trace(m))
        if not trace > 0.0:
            raise ValueError("X has zero variance (all rows equal): its matrix has trace 0")
        return float(np.sum(m * m)) / (trace * trace)
    n = x.shape[0]
    # Σ K_ij² with K = exp(-γ d²) is the Gaussian sum at 2γ.
    gamma2 = 2.0 * _gamma(_bandwidth(x, sigma))
    return float(mod.gaussian_self_sum(x, gamma2, n_threads=get_num_threads())) / (n * n)


def von_neumann_entropy(
    X: Any,
    *,
    kernel: str | None = None,
    sigma: float | None = None,
    center: bool = True,
    base: float | None = None,
    backend: str = "auto",
) -> float:
    """Von Neumann entropy ``S(A) = −tr(A log A) = −Σ λ_i log λ_i`` of a trace-1 matrix of X.

    ``kernel=None`` or ``"linear"``: A = C / tr C with C = ZᵀZ the covariance of the (column-
    centred, unless ``center=False``) features Z; the n x n Gram ZZᵀ has the same non-zero
    spectrum, and the smaller one is decomposed (route by min(n, d)). ``kernel="rbf"``:
    A = K / n with K the Gaussian Gram matrix (unit diagonal), as in Sanchez Giraldo et al.

    Parameters
    ----------
    X : array_like, shape (n, d) or (n,)
        Samples as rows, n >= 2, finite.
    kernel : None, "linear" or "rbf"
    sigma : float, optional
        Gaussian bandwidth (``kernel="rbf"`` only); default: :func:`median_bandwidth`.
    center : bool
        Centre the columns before the linear kernel (the covariance). Ignored for "rbf".
    base : float, optional
        None for nats, 2 for bits.
    backend : "auto", "cpp" or "numpy"
        Where the Gaussian Gram matrix is formed.

    Returns
    -------
    float
        Between 0 (rank one) and log(rank A). Cost: linear O(n d min(n, d) + min(n, d)³); rbf
        O(n² d + n³) time and O(n²) memory.

    References
    ----------
    L. G. Sanchez Giraldo, M. Rao, J. C. Principe (2015), "Measures of entropy from data using
    infinitely divisible kernels", IEEE Trans. Inf. Theory 61. P17 (Information shapes Koopman
    representation) uses the linear-kernel covariance form.
    """
    return renyi_entropy(
        X, 1.0, kernel=kernel, sigma=sigma, center=center, base=base, backend=backend
    )


def renyi_entropy(
    X: Any,
    alpha: float,
    *,
    kernel: str | None = None,
    sigma: float | None = None,
    center: bool = True,
    base: float | None = None,
    backend: str = "auto",
) -> float:
    """Matrix Rényi entropy ``S_α(A) = log(Σ λ_i^α) / (1 − α)`` of a trace-1 matrix of X.

    A is built as in :func:`von_neumann_entropy` (linear: trace-normalised covariance or Gram
    matrix, route by min(n, d); rbf: Gaussian Gram / n). ``alpha = 1`` is the von Neumann limit,
    ``alpha = inf`` the min-entropy ``−log λ_max``. ``alpha = 2`` needs no eigenvalues:
    ``S₂ = −log ‖A‖_F²``, O(n d min(n, d)) for the linear kernel and, for "rbf", a tiled
    Gaussian sum in O(n d) memory (so it runs at n = 10⁵).

    Parameters
    ----------
    X : array_like, shape (n, d) or (n,)
        Samples as rows, n >= 2, finite.
    alpha : float
        Order, > 0 (``math.inf`` allowed).
    kernel, sigma, center, base, backend
        As in :func:`von_neumann_entropy`.

    Returns
    -------
    float
        Non-increasing in alpha; between 0 and log(rank A).

    References
    ----------
    L. G. Sanchez Giraldo, M. Rao, J. C. Principe (2015), IEEE Trans. Inf. Theory 61.
    """
    a = _check_alpha(alpha)
    kern = _check_kernel(kernel, (None, "linear", "rbf"))
    s = _check_sigma(sigma, "sigma")
    b = check_base(base)
    x = _as_samples(X, "X")
    mod = _kernels(backend)
    if a == 2.0:
        value = -math.log(_purity(x, kern, s, center, mod))
    else:
        value = _spectral_entropy(_eigenvalues(_density_matrix(x, kern, s, center, mod)), a)
    return float(to_base(value, b))


def _unit_diagonal_gram(x: np.ndarray, kernel: str, sigma: float | None, mod: Any) -> F64:
    """A with A_ij = K_ij / (n √(K_ii K_jj)): trace 1, the normalisation of Sanchez Giraldo."""
    n = x.shape[0]
    if kernel == "rbf":
        gram: F64 = mod.gaussian_gram(x, _gamma(_bandwidth(x, sigma)), n_threads=get_num_threads())
        return gram / n
    z = np.asarray(x, dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", z, z))
    if not (norms > 0).all():
        raise ValueError("X has an all-zero row: the linear kernel cannot be normalised")
    u = z / norms[:, None]
    out: F64 = (u @ u.T) / n
    return out


def matrix_mutual_information(
    X: Any,
    Y: Any,
    *,
    alpha: float = 1.0,
    kernel: str = "rbf",
    sigma_x: float | None = None,
    sigma_y: float | None = None,
    base: float | None = None,
    backend: str = "auto",
) -> float:
    """Matrix-based mutual information ``I_α = S_α(A) + S_α(B) − S_α(A∘B / tr(A∘B))``.

    A and B are the normalised Gram matrices of the paired samples X and Y
    (``A_ij = K_ij / (n √(K_ii K_jj))``, trace 1); their Hadamard product, renormalised, is the
    joint matrix. Non-negative (S_α(A∘B) >= max(S_α(A), S_α(B))). ``alpha = 2`` needs no
    eigenvalues and, for "rbf", runs on tiled sums in O(n d) memory.

    Parameters
    ----------
    X, Y : array_like, shapes (n, dx), (n, dy)
        Paired samples, n >= 2, finite.
    alpha : float
        Order > 0; 1 (default) is von Neumann.
    kernel : "rbf" (default) or "linear"
        "linear" normalises to cosine similarities (unit diagonal).
    sigma_x, sigma_y : float, optional
        Gaussian bandwidths; default: :func:`median_bandwidth` of each.
    base : float, optional
        None for nats, 2 for bits.

    Returns
    -------
    float
        Cost O(n² (dx + dy) + n³), O(n²) memory; O(n² (dx + dy)) time, O(n) memory for alpha = 2
        with "rbf".

    References
    ----------
    L. G. Sanchez Giraldo, M. Rao, J. C. Principe (2015), IEEE Trans. Inf. Theory 61, Sec. IV.
    """
    a = _check_alpha(alpha)
    kern = _check_kernel(kernel, ("rbf", "linear"))
    sx, sy = _check_sigma(sigma_x, "sigma_x"), _check_sigma(sigma_y, "sigma_y")
    b = check_base(base)
    x, y = _as_samples(X, "X"), _as_samples(Y, "Y")
    n = check_same_length({"X": x, "Y": y})
    mod = _kernels(backend)
    if a == 2.0 and kern == "rbf":
        gx, gy = _gamma(_bandwidth(x, sx)), _gamma(_bandwidth(y, sy))
        threads = get_num_threads()
        _, kk, ll, _, _ = mod.gaussian_paired_sums(x, y, gx, gy, n_threads=threads)
        # Σ (K∘L)²: the Gaussian products at doubled gammas.
        joint, _, _, _, _ = mod.gaussian_paired_sums(x, y, 2 * gx, 2 * gy, n_threads=threads)
        # ‖A‖² = ΣK²/n²; the joint n A∘B has ‖·‖² = Σ(K∘L)²/n².
        value = -math.log(kk / n**2) - math.log(ll / n**2) + math.log(joint / n**2)
        return float(to_base(value, b))
    ma = _unit_diagonal_gram(x, kern, sx, mod)
    mb = _unit_diagonal_gram(y, kern, sy, mod)
    joint_m = ma * mb
    joint_m /= np.trace(joint_m)
    value = (
        _spectral_entropy(_eigenvalues(ma), a)
        + _spectral_entropy(_eigenvalues(mb), a)
        - _spectral_entropy(_eigenvalues(joint_m), a)
    )
    return float(to_base(value, b))


def effective_rank(X: Any) -> float:
    """Effective rank ``exp(−Σ p_i log p_i)`` with ``p_i = σ_i / Σ_j σ_j`` (singular values σ).

    The convention of Roy and Vetterli: singular values (not their squares), the matrix as given
    (no centring). A rank-r matrix with r equal singular values has effective rank r; in general
    1 <= erank <= rank.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Any finite real matrix with at least one non-zero entry (n >= 1 here).

    Returns
    -------
    float
        Cost: one SVD, O(n d min(n, d)).

    References
    ----------
    O. Roy, M. Vetterli (2007), "The effective rank: a measure of effective dimensionality",
    EUSIPCO.
    """
    x = _as_samples(X, "X", min_rows=1)
    s = np.linalg.svd(np.asarray(x, dtype=np.float64), compute_uv=False)
    if not s.sum() > 0.0:
        raise ValueError("X is all zeros: its effective rank is undefined")
    return float(np.exp(_spectral_entropy(s / s.sum(), 1.0)))


@dataclass(frozen=True)
class NuclearNormMetric:
    """The matrix nuclear-norm metric of P21 and its L_{1,2} proxy (both divided by n).

    ``nuclear_norm`` = ‖Z‖_* / n (exact, by SVD); ``l12_proxy`` = Σ_j ‖z_j‖₂ / n over all
    columns z_j, an UPPER bound on ``nuclear_norm`` (triangle inequality: Z = Σ_j z_j e_jᵀ and
    ‖z_j e_jᵀ‖_* = ‖z_j‖₂); ``l12_top`` = the same sum over only the min(n, d) largest column
    norms, as P21 writes it, which can fall below the nuclear norm when d > n.
    """

    nuclear_norm: float
    l12_proxy: float
    l12_top: float
    n_samples: int


def nuclear_norm_metric(P: Any, *, normalize: bool = True) -> NuclearNormMetric:
    """Matrix nuclear-norm metric ``‖Z‖_* / n`` of P21, exact and by its L_{1,2} proxy.

    With ``normalize=True`` (P21's convention), Z is P with its columns centred and then its rows
    scaled to unit L2 norm (so ‖Z‖_F² = n, ‖Z‖_*/n <= √(min(n, d)/n)); with False, Z = P.

    Parameters
    ----------
    P : array_like, shape (n, d)
        Rows are samples (e.g. a model's output distributions over d classes), n >= 2, finite.
    normalize : bool

    Returns
    -------
    NuclearNormMetric
        Exact value (one SVD, O(n d min(n, d))) beside the proxy (O(n d), no SVD). The proxy is
        an upper bound, not an estimate from below: measured ratios proxy/exact of 1.8 to 2.9 on
        random features.

    References
    ----------
    Y. Li et al. (2024), "Large Language Model Evaluation via Matrix Nuclear-Norm" (P21).
    """
    x = _as_samples(P, "P")
    z = np.asarray(x, dtype=np.float64)
    n, d = z.shape
    if normalize:
        z = z - z.mean(axis=0)
        norms = np.sqrt(np.einsum("ij,ij->i", z, z))
        norms[norms == 0.0] = 1.0  # a row equal to the mean stays zero
        z = z / norms[:, None]
    nuclear = float(np.linalg.svd(z, compute_uv=False).sum())
    col = np.sqrt(np.einsum("ij,ij->j", z, z))
    top = np.sort(col)[::-1][: min(n, d)]
    return NuclearNormMetric(
        nuclear_norm=nuclear / n,
        l12_proxy=float(col.sum()) / n,
        l12_top=float(top.sum()) / n,
        n_samples=n,
    )


# --- diffusion spectral entropy (P07) -----------------------------------------------------------


def _check_t(t: Any) -> int:
    return check_positive_int(t, "t")


def _paper_defaults(
    convention: str, sigma: float | None, base: float | None
) -> tuple[float | None, float | None]:
    if convention not in ("infokit", "paper"):
        raise ValueError(f"convention must be 'infokit' or 'paper', got {convention!r}")
    if convention == "paper":
        return (10.0 if sigma is None else sigma), (2.0 if base is None else base)
    return sigma, base


def _diffusion_spectrum(x: np.ndarray, sigma: float, mod: Any) -> F64:
    """Eigenvalues of K = D^{-1/2} G D^{-1/2} (the spectrum of the diffusion operator D⁻¹G)."""
    if x.shape[0] == 1:
        return np.ones(1)
    gram: F64 = mod.gaussian_gram(x, _gamma(sigma), n_threads=get_num_threads())
    scale = 1.0 / np.sqrt(gram.sum(axis=1))
    gram *= scale[:, None]
    gram *= scale[None, :]
    lam: F64 = np.asarray(np.linalg.eigvalsh(gram), dtype=np.float64)
    return lam


def _dse_nats(lam: F64, t: int) -> float:
    power = np.abs(lam) ** t
    p = power / power.sum()
    p = p[p > 0.0]
    return float(-(p * np.log(p)).sum())


def diffusion_spectral_entropy(
    X: Any,
    *,
    t: int = 1,
    sigma: float | None = None,
    base: float | None = None,
    convention: str = "infokit",
    backend: str = "auto",
) -> float:
    """Diffusion spectral entropy ``DSE = −Σ p_i log p_i``, ``p_i = |λ_i|^t / Σ_j |λ_j|^t``.

    λ are the eigenvalues of the diffusion operator P = D⁻¹G of the Gaussian affinity
    ``G_ij = exp(−‖x_i − x_j‖² / (2σ²))`` with D the diagonal of row sums, obtained from the
    symmetric conjugate D^{-1/2} G D^{-1/2} (same spectrum); t is the number of diffusion steps.
    σ → 0 gives G = I and DSE = log n; σ → ∞ gives one non-zero eigenvalue and DSE → 0.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Samples as rows, n >= 2, finite.
    t : int
        Diffusion time, >= 1.
    sigma : float, optional
        Kernel bandwidth. Default: :func:`median_bandwidth` (``convention="infokit"``) or 10
        (``convention="paper"``).
    base : float, optional
        Default nats (``"infokit"``) or bits (``"paper"``).
    convention : "infokit" or "paper"
        "paper" takes the paper's defaults, σ = 10 and log base 2 (explicit arguments win).
        A fixed σ is scale-dependent: on data whose distances are far from σ the kernel
        degenerates.
    backend : "auto", "cpp" or "numpy"
        Where the Gaussian affinity is formed.

    Returns
    -------
    float
        Cost O(n² d) for G and O(n³) for its eigenvalues, O(n²) memory (exact; no Lanczos yet).

    References
    ----------
    D. Liao, C. Liu, et al. (2023), "Assessing neural network representations during training
    using noise-resilient diffusion spectral entropy" (P07).
    """
    t = _check_t(t)
    s, b = _paper_defaults(convention, _check_sigma(sigma, "sigma"), base)
    b = check_base(b)
    x = _as_samples(X, "X")
    mod = _kernels(backend)
    value = _dse_nats(_diffusion_spectrum(x, _bandwidth(x, s), mod), t)
    return float(to_base(value, b))


def _class_codes(y: Any, n: int, n_bins: int) -> np.ndarray:
    """Integer codes of the conditioning variable: labels as given, real values min–max binned."""
    a = np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"y must be 1-D with one label or value per sample, got shape {a.shape}")
    if a.shape[0] != n:
        raise ValueError(f"samples must pair up one to one, but X has {n} and y has {a.shape[0]}")
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise ValueError("y contains NaN or inf")
        lo, hi = float(a.min()), float(a.max())
        if hi == lo:
            return np.zeros(n, dtype=np.int64)
        # Equal-width bins over [min, max]; the maximum falls in the last bin.
        codes = np.floor((a - lo) / (hi - lo) * n_bins).astype(np.int64)
        return np.minimum(codes, n_bins - 1)
    if a.dtype.kind not in "biuUS":
        raise TypeError(f"y must hold labels (int, bool, str) or real values, got dtype {a.dtype}")
    codes_u: np.ndarray = np.unique(a, return_inverse=True)[1].reshape(-1)
    return codes_u


def diffusion_spectral_mutual_information(
    X: Any,
    y: Any,
    *,
    t: int = 1,
    sigma: float | None = None,
    n_repeats: int = 5,
    n_bins: int = 10,
    seed: int | np.random.Generator | None = None,
    base: float | None = None,
    convention: str = "infokit",
    backend: str = "auto",
) -> float:
    """Diffusion spectral mutual information ``DSMI(X; y) = Σ_c p(c) [DSE(X*_c) − DSE(X | y = c)]``.

    For each class c of y, DSE(X | y = c) is the diffusion spectral entropy of the rows of class
    c, and DSE(X*_c) the mean, over ``n_repeats`` draws, of the DSE of as many rows drawn at
    random (without replacement) from all of X: the comparison removes the dependence of DSE on
    the sample size. One bandwidth, σ of the whole X, is used for every subset. Real-valued y is
    min–max binned into ``n_bins`` equal-width bins. (P07 also clusters a vector-valued y by
    spectral clustering; here y is 1-D: cluster it first and pass the labels.) About 0 for
    labels independent of X, approaching log(#classes) for well-separated classes.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Class labels (int, bool, str) or real values (binned).
    t, sigma, base, convention, backend
        As in :func:`diffusion_spectral_entropy`.
    n_repeats : int
        Random reference subsets per class.
    n_bins : int
        Bins for real-valued y.
    seed : int or numpy.random.Generator, optional
        For the reference subsets.

    Returns
    -------
    float
        Cost Σ_c (1 + n_repeats) O(n_c³).

    References
    ----------
    D. Liao, C. Liu, et al. (2023), P07.
    """
    t = _check_t(t)
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    n_bins = check_positive_int(n_bins, "n_bins")
    s, b = _paper_defaults(convention, _check_sigma(sigma, "sigma"), base)
    b = check_base(b)
    x = _as_samples(X, "X")
    n = x.shape[0]
    codes = _class_codes(y, n, n_bins)
    mod = _kernels(backend)
    rng = np.random.default_rng(seed)
    s_all = _bandwidth(x, s)
    total = 0.0
    for c in np.unique(codes):
        members = np.flatnonzero(codes == c)
        m = members.size
        conditional = _dse_nats(_diffusion_spectrum(x[members], s_all, mod), t)
        reference = np.mean(
            [
                _dse_nats(
                    _diffusion_spectrum(x[np.sort(rng.choice(n, m, replace=False))], s_all, mod), t
                )
                for _ in range(n_repeats)
            ]
        )
        total += (m / n) * (float(reference) - conditional)
    return float(to_base(total, b))


# --- stochastic Lanczos quadrature (large n) --------------------------------------------------


@dataclass(frozen=True)
class SpectralEstimate:
    """A spectral quantity estimated by stochastic Lanczos quadrature.

    ``value`` is the estimate and ``error`` its standard error over the random probes (the
    Monte Carlo part, which dominates once ``n_steps`` Lanczos steps resolve the spectrum):
    about 95 % of runs land within 2 ``error`` of the exact value. Same units as ``value``.
    """

    value: float
    error: float
    n_probes: int
    n_steps: int


def _lanczos_nodes(matvec: Any, start: F64, n_steps: int) -> list[tuple[F64, F64]]:
    """Gauss quadrature of ``vᵀ f(A) v`` for each column v of ``start``: nodes and weights.

    The weights carry ‖v‖², so ``weights @ f(nodes)`` estimates ``vᵀ f(A) v``. The columns'
    Lanczos recursions run side by side (one block matvec per step), without
    reorthogonalisation: Gauss quadrature from finite-precision Lanczos stays accurate for
    smooth f (Meurant and Strakoš 2006), and memory stays O(n c). A column whose Krylov space
    closes early (tiny β) stops there.
    """
    from scipy.linalg import eigh_tridiagonal

    n, c = start.shape
    steps = min(n_steps, n)
    norms2 = np.einsum("ij,ij->j", start, start)
    q = start / np.sqrt(np.where(norms2 > 0.0, norms2, 1.0))
    q_prev = np.zeros_like(q)
    beta_prev = np.zeros(c)
    alphas = np.zeros((steps, c))
    betas = np.zeros((steps, c))
    length = np.full(c, steps)
    for k in range(steps):
        w = matvec(q) - beta_prev * q_prev
        alpha = np.einsum("ij,ij->j", q, w)
        w -= alpha * q
        alphas[k] = alpha
        beta = np.sqrt(np.einsum("ij,ij->j", w, w))
        betas[k] = beta
        closed = (beta <= 1e-12 * np.maximum(np.abs(alpha), 1e-300)) & (length == steps)
        length[closed] = k + 1
        safe = np.where(beta > 0.0, beta, 1.0)
        q_prev, q, beta_prev = q, w / safe, beta
    out = []
    for i in range(c):
        m = int(length[i])
        if m == 1:
            nodes, vectors = alphas[:1, i], np.ones((1, 1))
        else:
            nodes, vectors = eigh_tridiagonal(alphas[:m, i], betas[: m - 1, i])
        weights = norms2[i] * np.asarray(vectors[0] ** 2)
        out.append((np.asarray(nodes, dtype=np.float64), weights))
    return out


def _trace_samples(
    matvec: Any,
    n: int,
    funcs: list[Any],
    n_probes: int,
    n_steps: int,
    n_deflate: int,
    rng: np.random.Generator,
) -> F64:
    """(n_probes, len(funcs)) unbiased samples of tr f(A), one per probe.

    Deflated Hutchinson (as in Hutch++): with Q an orthonormal basis of the dominant subspace
    (randomized subspace iteration, one power step), tr f(A) = Σ_i q_iᵀ f(A) q_i +
    tr(P⊥ f(A) P⊥) exactly for the projector P⊥ = I − QQᵀ, whatever the quality of Q. The first
    sum is estimated by quadrature from each q_i (no sampling); only the second is sampled, by
    Rademacher probes P⊥z, so dominant eigenvalues no longer inflate the variance.
    """
    k = min(n_deflate, n)
    fixed = np.zeros(len(funcs))
    probes = rng.choice([-1.0, 1.0], size=(n, n_probes))
    if k > 0:
        basis = matvec(matvec(rng.standard_normal((n, k))))
        q, _ = np.linalg.qr(basis)
        probes = probes - q @ (q.T @ probes)
        start = np.hstack([q, probes])
    else:
        start = probes
    quad = _lanczos_nodes(matvec, np.ascontiguousarray(start), n_steps)
    for nodes, weights in quad[:k]:
        fixed += [float(weights @ f(nodes)) for f in funcs]
    out = np.empty((n_probes, len(funcs)))
    for i, (nodes, weights) in enumerate(quad[k:]):
        out[i] = [float(weights @ f(nodes)) for f in funcs]
    result: F64 = out + fixed
    return result


def _xlogx(lam: F64) -> F64:
    lam = np.clip(lam, 0.0, None)
    out: F64 = np.where(lam > 0.0, lam * np.log(np.where(lam > 0.0, lam, 1.0)), 0.0)
    return out


def _ratio_error(samples: F64, value_of: Any) -> float:
    """Delta-method standard error of value_of(mean of the columns) over the probes (rows)."""
    p = samples.shape[0]
    if p < 2:
        return math.inf
    mean = samples.mean(axis=0)
    eps = 1e-7 * np.maximum(np.abs(mean), 1e-300)
    grad = np.array(
        [
            (
                value_of(mean + eps[j] * np.eye(len(mean))[j])
                - value_of(mean - eps[j] * np.eye(len(mean))[j])
            )
            / (2 * eps[j])
            for j in range(len(mean))
        ]
    )
    cov = np.atleast_2d(np.cov(samples, rowvar=False))
    return float(math.sqrt(max(float(grad @ cov @ grad), 0.0) / p))


def _slq_settings(n_probes: Any, n_steps: Any, n_deflate: Any) -> tuple[int, int, int]:
    return (
        check_positive_int(n_probes, "n_probes", 2),
        check_positive_int(n_steps, "n_steps", 2),
        check_positive_int(n_deflate, "n_deflate", 0),
    )


def renyi_entropy_estimate(
    X: Any,
    alpha: float = 1.0,
    *,
    sigma: float | None = None,
    n_probes: int = 16,
    n_steps: int = 30,
    n_deflate: int = 20,
    seed: int | np.random.Generator | None = None,
    base: float | None = None,
    backend: str = "auto",
) -> SpectralEstimate:
    """Gaussian-kernel matrix Rényi entropy (alpha = 1: von Neumann) by stochastic Lanczos.

    Estimates ``tr f(A)`` for A = K / n, f(λ) = −λ log λ or λ^α, as the mean over ``n_probes``
    Rademacher probes z of ``zᵀ f(A) z``, each by an ``n_steps``-point Gauss quadrature from
    Lanczos. The products K v are tiled kernel sums (C++; O(n (d + p)) memory, never the n x n
    matrix), so large n runs where ``eigvalsh`` cannot. ``error`` is the probes' standard error
    (delta method through the logarithm for alpha != 1). The ``n_deflate``-dimensional dominant
    subspace is handled by quadrature without sampling (deflated Hutchinson, as in Hutch++),
    so the few large eigenvalues of a kernel matrix do not inflate the variance. For alpha = 2
    use :func:`renyi_entropy`, which is exact in O(n d) memory.

    Parameters
    ----------
    X : array_like, shape (n, d)
    alpha : float
        Order > 0; 1 is von Neumann.
    sigma : float, optional
        Bandwidth; default :func:`median_bandwidth`.
    n_probes, n_steps : int
        Probes (>= 2) and Lanczos steps per probe.
    n_deflate : int
        Dimension of the dominant subspace taken out of the sampling (0: plain Hutchinson).
    seed : int or numpy.random.Generator, optional
    base : float, optional
    backend : "auto", "cpp" or "numpy"

    Returns
    -------
    SpectralEstimate
        Cost O(n_steps n² (d + n_probes + n_deflate)) time.

    References
    ----------
    S. Ubaru, J. Chen, Y. Saad (2017), "Fast estimation of tr(f(A)) via stochastic Lanczos
    quadrature", SIAM J. Matrix Anal. Appl. 38.
    """
    a = _check_alpha(alpha)
    probes, steps, k = _slq_settings(n_probes, n_steps, n_deflate)
    s = _check_sigma(sigma, "sigma")
    b = check_base(base)
    x = _as_samples(X, "X")
    n = x.shape[0]
    mod = _kernels(backend)
    g = _gamma(_bandwidth(x, s))
    threads = get_num_threads()

    def matvec(v: F64) -> F64:
        out: F64 = mod.gaussian_matvec(x, np.ascontiguousarray(v), g, n_threads=threads) / n
        return out

    rng = np.random.default_rng(seed)
    if a == 1.0:
        traces = _trace_samples(matvec, n, [lambda lam: -_xlogx(lam)], probes, steps, k, rng)[:, 0]
        value = float(traces.mean())
        error = float(traces.std(ddof=1) / math.sqrt(probes))
    else:
        power = [lambda lam: np.clip(lam, 0.0, None) ** a]
        traces = _trace_samples(matvec, n, power, probes, steps, k, rng)

        def entropy(m: F64) -> float:
            return math.log(float(m[0])) / (1.0 - a)

        value = entropy(traces.mean(axis=0))
        error = _ratio_error(traces, entropy)
    return SpectralEstimate(
        value=float(to_base(value, b)),
        error=float(to_base(error, b)),
        n_probes=probes,
        n_steps=steps,
    )


def diffusion_spectral_entropy_estimate(
    X: Any,
    *,
    t: int = 1,
    sigma: float | None = None,
    n_probes: int = 16,
    n_steps: int = 30,
    n_deflate: int = 20,
    seed: int | np.random.Generator | None = None,
    base: float | None = None,
    convention: str = "infokit",
    backend: str = "auto",
) -> SpectralEstimate:
    """Diffusion spectral entropy (see :func:`diffusion_spectral_entropy`) by stochastic Lanczos
    quadrature, for n too large for ``eigvalsh``.

    With Z = tr |K|^t and W = tr |K|^t log |K|^t for the symmetric diffusion operator
    K = D^{-1/2} G D^{-1/2}, DSE = log Z − W / Z; both traces come from the same Lanczos runs
    (products with G are tiled kernel sums, O(n (d + p)) memory), and ``error`` is the probes'
    standard error by the delta method. The known top eigenpair of K (eigenvalue 1, vector
    ∝ √D) is deflated exactly, and the next ``n_deflate`` dominant directions by quadrature
    without sampling, before probing.

    Parameters
    ----------
    X, t, sigma, base, convention, backend
        As in :func:`diffusion_spectral_entropy`.
    n_probes, n_steps : int
        Probes (>= 2) and Lanczos steps per probe.
    n_deflate : int
        Dimension of the dominant subspace taken out of the sampling (0: plain Hutchinson).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    SpectralEstimate
        Cost O(n_steps n² (d + n_probes + n_deflate)) time.

    References
    ----------
    D. Liao, C. Liu, et al. (2023), P07; S. Ubaru, J. Chen, Y. Saad (2017), SIAM J. Matrix Anal.
    Appl. 38.
    """
    t = _check_t(t)
    probes, steps, k = _slq_settings(n_probes, n_steps, n_deflate)
    s, b = _paper_defaults(convention, _check_sigma(sigma, "sigma"), base)
    b = check_base(b)
    x = _as_samples(X, "X")
    n = x.shape[0]
    mod = _kernels(backend)
    g = _gamma(_bandwidth(x, s))
    threads = get_num_threads()
    degree = mod.gaussian_matvec(x, np.ones((n, 1)), g, n_threads=threads)[:, 0]
    scale = 1.0 / np.sqrt(degree)
    # K has the exact top eigenpair (1, √D / ‖√D‖): it is deflated, so the probes only see the
    # rest of the spectrum (its dominance would otherwise swamp the probe variance).
    top = np.sqrt(degree) / math.sqrt(float(degree.sum()))

    def matvec(v: F64) -> F64:
        v = v - np.outer(top, top @ v)
        inner = np.ascontiguousarray(v * scale[:, None])
        out: F64 = mod.gaussian_matvec(x, inner, g, n_threads=threads) * scale[:, None]
        return out - np.outer(top, top @ out)

    funcs = [lambda lam: np.abs(lam) ** t, lambda lam: _xlogx(np.abs(lam) ** t)]
    traces = _trace_samples(matvec, n, funcs, probes, steps, k, np.random.default_rng(seed))
    traces[:, 0] += 1.0  # the deflated eigenvalue 1: |1|^t = 1, and 1 log 1 = 0

    def dse(m: F64) -> float:
        return math.log(float(m[0])) - float(m[1]) / float(m[0])

    value = dse(traces.mean(axis=0))
    error = _ratio_error(traces, dse)
    return SpectralEstimate(
        value=float(to_base(value, b)),
        error=float(to_base(error, b)),
        n_probes=probes,
        n_steps=steps,
    )


# --- kernel sums -------------------------------------------------------------------------------


def _two_samples(X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _as_samples(X, "X"), _as_samples(Y, "Y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of features, got {x.shape[1]} and {y.shape[1]}"
        )
    return _same_dtype(x, y)


def _two_sample_sums(
    x: np.ndarray, y: np.ndarray, sigma: float | None, mod: Any
) -> tuple[float, float, float]:
    """(Σ K_xx, Σ K_yy, Σ K_xy), σ defaulting to the median heuristic on the pooled sample."""
    if sigma is None:
        sigma = _median_bandwidth(np.concatenate([x, y]))
    sxx, syy, sxy = mod.gaussian_two_sample_sums(x, y, _gamma(sigma), n_threads=get_num_threads())
    return float(sxx), float(syy), float(sxy)


def mmd(
    X: Any,
    Y: Any,
    *,
    sigma: float | None = None,
    unbiased: bool = False,
    backend: str = "auto",
) -> float:
    """Squared maximum mean discrepancy ``MMD² = E k(x, x') + E k(y, y') − 2 E k(x, y)``.

    Gaussian kernel. The default is the biased V-statistic
    ``Σ K_xx / n² + Σ K_yy / m² − 2 Σ K_xy / (n m)`` (>= 0); ``unbiased=True`` drops the diagonals:
    ``(Σ K_xx − n) / (n (n − 1)) + (Σ K_yy − m) / (m (m − 1)) − 2 Σ K_xy / (n m)`` (can be < 0).

    Parameters
    ----------
    X, Y : array_like, shapes (n, d), (m, d)
        Two samples (n, m >= 2), finite.
    sigma : float, optional
        Bandwidth; default: :func:`median_bandwidth` of the pooled sample.
    unbiased : bool
    backend : "auto", "cpp" or "numpy"

    Returns
    -------
    float
        MMD² (not its square root). Cost O((n + m)² d), O((n + m) d) memory (C++).

    References
    ----------
    A. Gretton et al. (2012), "A kernel two-sample test", JMLR 13, eqs. (3)–(5).
    """
    s = _check_sigma(sigma, "sigma")
    x, y = _two_samples(X, Y)
    mod = _kernels(backend)
    sxx, syy, sxy = _two_sample_sums(x, y, s, mod)
    n, m = x.shape[0], y.shape[0]
    if unbiased:
        return (sxx - n) / (n * (n - 1)) + (syy - m) / (m * (m - 1)) - 2.0 * sxy / (n * m)
    return sxx / n**2 + syy / m**2 - 2.0 * sxy / (n * m)


def cauchy_schwarz_divergence(
    X: Any,
    Y: Any,
    *,
    sigma: float | None = None,
    base: float | None = None,
    backend: str = "auto",
) -> float:
    """Cauchy–Schwarz divergence ``D_CS = −2 log V_xy + log V_xx + log V_yy`` of two samples.

    V are the Parzen (Gaussian) estimates of the information potentials: the mean kernel entries
    ``V_xx = Σ K_xx / n²``, ``V_yy = Σ K_yy / m²``, ``V_xy = Σ K_xy / (n m)``. Non-negative by the
    Cauchy–Schwarz inequality, 0 for identical samples. Kernel values below about 1e-308
    underflow to 0; if every cross value does, D_CS is inf.

    Parameters
    ----------
    X, Y : array_like, shapes (n, d), (m, d)
    sigma : float, optional
        Bandwidth; default: :func:`median_bandwidth` of the pooled sample.
    base : float, optional
        None for nats, 2 for bits.
    backend : "auto", "cpp" or "numpy"

    Returns
    -------
    float
        Cost O((n + m)² d) time, O((n + m) d) memory (C++).

    References
    ----------
    S. Yu, X. Yu, S. Løkse, R. Jenssen, J. C. Principe (2024), "Cauchy–Schwarz divergence
    information bottleneck for regression" (P51); R. Jenssen et al. (2006), J. Franklin Inst. 343.
    """
    s = _check_sigma(sigma, "sigma")
    b = check_base(base)
    x, y = _two_samples(X, Y)
    mod = _kernels(backend)
    sxx, syy, sxy = _two_sample_sums(x, y, s, mod)
    n, m = x.shape[0], y.shape[0]
    if sxy == 0.0:
        return math.inf
    value = math.log(sxx / n**2) + math.log(syy / m**2) - 2.0 * math.log(sxy / (n * m))
    return float(to_base(max(value, 0.0), b))


def _paired(X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray, int]:
    x, y = _as_samples(X, "X"), _as_samples(Y, "Y")
    n = check_same_length({"X": x, "Y": y})
    x, y = _same_dtype(x, y)
    return x, y, n


def _paired_sums(
    x: np.ndarray, y: np.ndarray, sx: float | None, sy: float | None, mod: Any
) -> tuple[float, float, float, F64, F64]:
    gx, gy = _gamma(_bandwidth(x, sx)), _gamma(_bandwidth(y, sy))
    kl, kk, ll, k_rows, l_rows = mod.gaussian_paired_sums(x, y, gx, gy, n_threads=get_num_threads())
    return float(kl), float(kk), float(ll), k_rows, l_rows


def _centred_trace(kl: float, k_rows: F64, l_rows: F64, n: int) -> float:
    """tr(K H L H) with H = I − 11ᵀ/n, from Σ K∘L and the row sums (K, L symmetric)."""
    return kl - 2.0 * float(k_rows @ l_rows) / n + float(k_rows.sum()) * float(l_rows.sum()) / n**2


def _unbiased_hsic(kl: float, k_rows: F64, l_rows: F64, k_diag: F64, l_diag: F64, n: int) -> float:
    """Song et al. (2012) eq. (5) from sums, with K̃, L̃ the Grams with zeroed diagonals."""
    if n < 4:
        raise ValueError(f"the unbiased HSIC needs at least 4 samples, got {n}")
    kt, lt = k_rows - k_diag, l_rows - l_diag
    trace = kl - float(k_diag @ l_diag)
    return (
        trace
        + float(kt.sum()) * float(lt.sum()) / ((n - 1) * (n - 2))
        - 2.0 * float(kt @ lt) / (n - 2)
    ) / (n * (n - 3))


def _linear_hsic_terms(x: np.ndarray, y: np.ndarray) -> tuple[float, F64, F64, F64, F64]:
    """Σ K∘L, row sums and diagonals of the linear Grams of the column-centred data."""
    zx = _centred(x, True)
    zy = _centred(y, True)
    cross = zy.T @ zx
    kl = float(np.sum(cross * cross))
    k_rows = zx @ zx.sum(axis=0)
    l_rows = zy @ zy.sum(axis=0)
    return (
        kl,
        k_rows,
        l_rows,
        np.einsum("ij,ij->i", zx, zx),
        np.einsum("ij,ij->i", zy, zy),
    )


def hsic(
    X: Any,
    Y: Any,
    *,
    kernel: str = "rbf",
    sigma_x: float | None = None,
    sigma_y: float | None = None,
    unbiased: bool = False,
    backend: str = "auto",
) -> float:
    """Hilbert–Schmidt independence criterion of paired samples.

    Default: the biased estimator ``HSIC_b = tr(K H L H) / n²`` (H = I − 11ᵀ/n; note that Gretton
    et al. 2005 divide by (n − 1)²), computed from ``Σ K∘L`` and the row sums of K and L without
    forming H. ``unbiased=True``: the estimator of Song et al. (2012, eq. 5), n >= 4.

    Parameters
    ----------
    X, Y : array_like, shapes (n, dx), (n, dy)
        Paired samples, n >= 2, finite.
    kernel : "rbf" (default) or "linear"
        "linear" works on the column-centred features in O(n dx dy) (no n x n matrix).
    sigma_x, sigma_y : float, optional
        Gaussian bandwidths; default: :func:`median_bandwidth` of each.
    unbiased : bool
    backend : "auto", "cpp" or "numpy"

    Returns
    -------
    float
        Cost (rbf) O(n² (dx + dy)), O(n (dx + dy)) memory (C++).

    References
    ----------
    A. Gretton, O. Bousquet, A. Smola, B. Schölkopf (2005), "Measuring statistical dependence with
    Hilbert–Schmidt norms", ALT; L. Song et al. (2012), "Feature selection via dependence
    maximization", JMLR 13.
    """
    kern = _check_kernel(kernel, ("rbf", "linear"))
    sx, sy = _check_sigma(sigma_x, "sigma_x"), _check_sigma(sigma_y, "sigma_y")
    x, y, n = _paired(X, Y)
    if kern == "linear":
        kl, k_rows, l_rows, k_diag, l_diag = _linear_hsic_terms(x, y)
    else:
        kl, _, _, k_rows, l_rows = _paired_sums(x, y, sx, sy, _kernels(backend))
        k_diag = l_diag = np.ones(n)
    if unbiased:
        return _unbiased_hsic(kl, k_rows, l_rows, k_diag, l_diag, n)
    return _centred_trace(kl, k_rows, l_rows, n) / n**2


def _frobenius_products(k: F64, lm: F64) -> tuple[float, float, float]:
    return float(np.sum(k * lm)), float(np.sum(k * k)), float(np.sum(lm * lm))


def cka(
    X: Any,
    Y: Any,
    *,
    kernel: str = "linear",
    sigma_x: float | None = None,
    sigma_y: float | None = None,
    backend: str = "auto",
) -> float:
    """Centred kernel alignment ``CKA = HSIC(K, L) / √(HSIC(K, K) HSIC(L, L))``.

    "linear": ``‖ỸᵀX̃‖_F² / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F)`` on column-centred data, by GEMM in feature
    space, or in sample space when n < max(dx, dy). Invariant to orthogonal transforms and
    isotropic scaling of either input; 1 for identical inputs. "rbf": Gaussian kernels, from one
    tiled pass over the pairs (O(n) memory).

    Parameters
    ----------
    X, Y : array_like, shapes (n, dx), (n, dy)
        Paired samples (e.g. two layers' activations on the same inputs), n >= 2, finite.
    kernel : "linear" (default) or "rbf"
    sigma_x, sigma_y : float, optional
        Gaussian bandwidths; default: :func:`median_bandwidth` of each.
    backend : "auto", "cpp" or "numpy"

    Returns
    -------
    float
        In [0, 1]. Cost: linear O(n (dx + dy)²); rbf O(n² (dx + dy)).

    References
    ----------
    S. Kornblith, M. Norouzi, H. Lee, G. Hinton (2019), "Similarity of neural network
    representations revisited", ICML.
    """
    kern = _check_kernel(kernel, ("linear", "rbf"))
    sx, sy = _check_sigma(sigma_x, "sigma_x"), _check_sigma(sigma_y, "sigma_y")
    x, y, n = _paired(X, Y)
    if kern == "linear":
        zx, zy = _centred(x, True), _centred(y, True)
        if n < max(zx.shape[1], zy.shape[1]):
            k, lm = zx @ zx.T, zy @ zy.T
            cross, self_x, self_y = (
                float(np.sum(k * lm)),
                float(np.sum(k * k)),
                float(np.sum(lm * lm)),
            )
        else:
            c = zy.T @ zx
            cx, cy = zx.T @ zx, zy.T @ zy
            cross, self_x, self_y = (
                float(np.sum(c * c)),
                float(np.sum(cx * cx)),
                float(np.sum(cy * cy)),
            )
        denominator = math.sqrt(self_x) * math.sqrt(self_y)
    else:
        kl, kk, ll, k_rows, l_rows = _paired_sums(x, y, sx, sy, _kernels(backend))
        cross = _centred_trace(kl, k_rows, l_rows, n)
        denominator = math.sqrt(max(_centred_trace(kk, k_rows, k_rows, n), 0.0)) * math.sqrt(
            max(_centred_trace(ll, l_rows, l_rows, n), 0.0)
        )
    if not denominator > 0.0:
        raise ValueError("X or Y has zero variance (constant rows): CKA is undefined")
    return cross / denominator


def cauchy_schwarz_mutual_information(
    X: Any,
    Y: Any,
    *,
    sigma_x: float | None = None,
    sigma_y: float | None = None,
    normalized: bool = False,
    base: float | None = None,
    backend: str = "auto",
) -> float:
    """Cauchy–Schwarz quadratic mutual information ``I_CS = log V_J + log V_M − 2 log V_C``.

    The CS divergence between p(x, y) and p(x) p(y) with product Gaussian kernels:
    ``V_J = Σ_ij K_ij L_ij / n²``, ``V_M = (Σ K)(Σ L) / n⁴``, ``V_C = Σ_i k_i l_i / n³`` with k, l
    the row sums; all from one tiled pass (O(n) memory). >= 0. ``normalized=True`` divides by
    √(I_CS(X; X) I_CS(Y; Y)).

    Parameters
    ----------
    X, Y : array_like, shapes (n, dx), (n, dy)
        Paired samples, n >= 2, finite.
    sigma_x, sigma_y : float, optional
        Gaussian bandwidths; default: :func:`median_bandwidth` of each (P51's code uses a fixed
        or squared-distance-based σ instead; a small fixed σ degenerates the kernel to the
        identity and inflates I_CS).
    normalized : bool
    base : float, optional
        None for nats, 2 for bits (ignored when ``normalized``, a ratio).
    backend : "auto", "cpp" or "numpy"

    Returns
    -------
    float
        Cost O(n² (dx + dy)).

    References
    ----------
    S. Yu et al. (2024), P51; J. C. Principe (2010), *Information Theoretic Learning*, Springer,
    ch. 2.
    """
    sx, sy = _check_sigma(sigma_x, "sigma_x"), _check_sigma(sigma_y, "sigma_y")
    b = check_base(base)
    x, y, n = _paired(X, Y)
    kl, kk, ll, k_rows, l_rows = _paired_sums(x, y, sx, sy, _kernels(backend))

    def qmi(joint: float, a: F64, c: F64) -> float:
        return (
            math.log(joint / n**2)
            + math.log(float(a.sum()) * float(c.sum()) / n**4)
            - 2.0 * math.log(float(a @ c) / n**3)
        )

    value = max(qmi(kl, k_rows, l_rows), 0.0)
    if normalized:
        scale = math.sqrt(qmi(kk, k_rows, k_rows) * qmi(ll, l_rows, l_rows))
        if not scale > 0.0:
            raise ValueError("X or Y is (nearly) constant: the normalised CS-QMI is undefined")
        return value / scale
    return float(to_base(value, b))
