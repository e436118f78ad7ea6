"""Information measures estimated from continuous (real-valued) samples.

Nearest-neighbour estimators (one C++ engine, :mod:`infokit._knn`, serves all of them: a grid
for self queries in 2-3 dimensions, a KD-tree otherwise, sorted copies for 1-D marginals):

- :func:`entropy`: Kozachenko–Leonenko differential entropy.
- :func:`mutual_information`: Kraskov–Stögbauer–Grassberger (KSG) algorithms 1 and 2,
  Frenzel–Pompe conditional MI (``given=``), Ross's mixed discrete/continuous MI
  (``discrete_x=`` / ``discrete_y=``); also the Gaussian and Gaussian-copula estimators.
- :func:`kl_divergence`: the Wang–Kulkarni–Verdú estimator between two samples.
- :func:`renyi_entropy`, :func:`tsallis_entropy`: Leonenko–Pronzato–Savani kNN estimators.
- :func:`transfer_entropy`: conditional MI on delay embeddings.
- :func:`feature_mutual_information`: MI of every column of X with y in one call.
- :func:`mutual_information_test`: a permutation test that keeps the marginal search structures.

Samples are rows: ``(n,)`` or ``(n, d)`` real arrays (ints and bools are read as reals; float16
and complex are refused). Computation is in double; ``local=True`` values keep float32 when every
input is float32. Units: nats by default, ``base=2`` bits.

Ties and duplicates. kNN estimators need distinct points: a k-th neighbour distance of 0 makes
log 0 in the entropy and an empty strict count in KSG. infokit never hides this: when it
happens the call raises ``ValueError`` naming the fix, ``jitter=``, which adds seeded Gaussian
noise of ``jitter`` times each column's standard deviation (so the noise follows the data's scale,
unlike an absolute jitter that leaves large tied data tied; scikit-learn issue 30772). With the
same ``seed`` the result is the same bits. Strict counts make a constant column harmless in KSG
(its MI with anything is ≈ 0). MI of a continuous variable with itself is infinite: KSG returns a
large finite number that grows with n, so identical ``x`` and ``y`` raise a ``RuntimeWarning``.

Bias-corrected estimators can be negative on independent data; values are not clipped. Use
:func:`mutual_information_test` to judge whether a value differs from zero.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from . import _backend, _knn
from ._threads import get_num_threads
from ._validation import (
    as_labels,
    check_base,
    check_choice,
    check_positive_int,
    check_same_length,
    to_base,
)
from .stats import PermutationResult, permutation_test

__all__ = [
    "entropy",
    "feature_mutual_information",
    "kl_divergence",
    "mutual_information",
    "mutual_information_test",
    "renyi_entropy",
    "transfer_entropy",
    "tsallis_entropy",
]

METRICS = ("chebyshev", "euclidean")
ESTIMATORS = ("ksg1", "ksg2", "gaussian", "copula")

# ---------------------------------------------------------------------------------------------
# Validation


def _samples(x: Any, name: str) -> tuple[np.ndarray, bool]:
    """Real samples as float64 C-contiguous (n, d), and whether the input was float32."""
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be an array of real samples: {exc}") from None
    kind = a.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {a.dtype}")
    if kind == "f" and a.dtype.itemsize < 4:
        raise TypeError(
            f"{name} has dtype {a.dtype}: too coarse for distances; pass float32 or float64"
        )
    if kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    elif a.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D (n,) or 2-D (n, d) with one sample per row, "
            f"got a {a.ndim}-D array of shape {a.shape}"
        )
    if a.shape[0] == 0:
        raise ValueError(f"{name} is empty: need at least one sample")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has shape {a.shape}: rows need at least one column")
    out = np.ascontiguousarray(a, dtype=np.float64)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} contains NaN or inf; samples must be finite")
    return out, a.dtype == np.float32


def _check_k(k: Any, n: int, name: str = "k") -> int:
    k = check_positive_int(k, name)
    if k >= n:
        raise ValueError(f"{name} must be smaller than the number of samples ({n}), got {k}")
    return k


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def _check_jitter(jitter: Any) -> float | None:
    if jitter is None:
        return None
    if isinstance(jitter, bool) or not isinstance(jitter, numbers.Real):
        raise TypeError(f"jitter must be None or a real number > 0, got {type(jitter).__name__}")
    j = float(jitter)
    if not (math.isfinite(j) and j > 0):
        raise ValueError(f"jitter must be None or a finite number > 0, got {jitter!r}")
    return j


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be an int or a numpy.random.Generator, got {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    return np.random.default_rng(int(seed))


class _Noise:
    """Seeded jitter scaled to each column's spread (None: no jitter)."""

    def __init__(self, jitter: Any, seed: Any) -> None:
        self.amount = _check_jitter(jitter)
        self.rng = _rng(seed) if self.amount is not None else None

    def __call__(self, a: np.ndarray) -> np.ndarray:
        if self.amount is None or self.rng is None:
            return a
        scale = a.std(axis=0)
        # A constant column has no spread: use its magnitude (or 1) so it still gets untied.
        flat = scale == 0
        scale[flat] = np.maximum(np.abs(a[0, flat]), 1.0)
        return a + self.amount * scale * self.rng.standard_normal(a.shape)


def _result(values: np.ndarray, local: bool, base: float | None, float32: bool) -> Any:
    """The mean as a Python float, or the local values (float32 if all inputs were)."""
    if local:
        out = to_base(values, base)
        return out.astype(np.float32) if float32 else out
    return float(to_base(float(np.mean(values)), base))


def _warn_if_identical(x: np.ndarray, y: np.ndarray) -> None:
    if x.shape == y.shape and np.array_equal(x, y):
        warnings.warn(
            "x and y are the same continuous variable: I(X;X) is infinite, and a kNN "
            "estimate of it is a large finite number that grows with n",
            RuntimeWarning,
            stacklevel=3,
        )


def _no_zero_radius(radius: np.ndarray, what: str) -> None:
    zeros = int(np.count_nonzero(radius == 0))
    if zeros:
        raise ValueError(
            f"{zeros} samples have a k-th neighbour at distance 0 in {what} (duplicated "
            f"points), which kNN estimators cannot handle; pass jitter=1e-10 (seeded noise "
            f"scaled to each column's spread), lower k, or use a discrete estimator"
        )


def _psi(a: np.ndarray | float) -> Any:
    return special.digamma(a)


# ---------------------------------------------------------------------------------------------
# Entropy


def _log_unit_ball(d: int, metric: str) -> float:
    """log of the volume of the unit ball of the metric in d dimensions."""
    if metric == "chebyshev":
        return d * math.log(2.0)  # the cube [-1, 1]^d
    return 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)


def entropy(
    x: Any,
    *,
    k: int = 3,
    metric: str = "chebyshev",
    base: float | None = None,
    local: bool = False,
    jitter: float | None = None,
    seed: int | np.random.Generator = 0,
    backend: str = "auto",
) -> Any:
    """Kozachenko–Leonenko differential entropy from samples.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        Real samples, one per row.
    k : int, default 3
        Neighbour order, ``1 <= k < n``.
    metric : {"chebyshev", "euclidean"}
        The norm in which neighbour distances are measured; the unit-ball volume matches it.
    base : float or None
        None for nats, 2 for bits.
    local : bool
        Return the n pointwise values, whose mean is the estimate.
    jitter : float or None
        Seeded noise of ``jitter`` × each column's standard deviation, to break duplicates.
    seed : int or numpy.random.Generator, default 0
        Source of the jitter.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    float, or ndarray of shape (n,) with ``local=True``.

    Notes
    -----
    ``H = psi(n) - psi(k) + log c_d + (d/n) sum_i log eps_i`` with ``eps_i`` the DISTANCE from
    ``x_i`` to its k-th nearest neighbour and ``c_d`` the unit-ball volume: ``2^d`` for the
    max-norm, ``pi^(d/2) / Gamma(d/2 + 1)`` for the Euclidean norm (Kozachenko & Leonenko 1987,
    Probl. Inf. Transm. 23; Kraskov et al. 2004, Phys. Rev. E 69, 066138, eq. 20, whose eps is
    twice this distance). Duplicated points (eps = 0) raise ``ValueError`` unless ``jitter=``.
    Cost: one grid (d = 2, 3) or KD-tree build and n k-NN queries, O(n log n) for small d;
    threaded.
    """
    xs, f32 = _samples(x, "x")
    n, d = xs.shape
    k = _check_k(k, n)
    metric = check_choice(metric, "metric", METRICS)
    base = check_base(base)
    local = _check_flag(local, "local")
    noise = _Noise(jitter, seed)
    backend = _backend.resolve(backend)
    xs = noise(xs)
    eps = _knn.kth_distance(xs, k, metric, backend)
    _no_zero_radius(eps, "x")
    values = _psi(n) - _psi(k) + _log_unit_ball(d, metric) + d * np.log(eps)
    return _result(values, local, base, f32)


# ---------------------------------------------------------------------------------------------
# Mutual information


def _ksg(
    parts: list[np.ndarray],
    k: int,
    algorithm: str,
    backend: str,
    counters: list[_knn.Counter] | None = None,
) -> np.ndarray:
    """Local KSG values for I(X;Y) with parts = [x, y], or Frenzel–Pompe I(X;Y|Z) with
    parts = [x, y, z]; ``counters`` may hold prebuilt marginal counters (same order)."""
    joint = np.ascontiguousarray(np.hstack(parts))
    index: np.ndarray | None = None  # the neighbours themselves: algorithm 2 only
    if algorithm == "ksg1":
        dist = _knn.knn_distances(joint, k, "chebyshev", backend)
    else:
        dist, index = _knn.knn_self(joint, k, "chebyshev", backend)
    n = joint.shape[0]
    if len(parts) == 3:
        x, y, z = parts
        marginals = [np.hstack([x, z]), np.hstack([y, z]), z]
        signs = [1.0, 1.0, -1.0]
    else:
        marginals = list(parts)
        signs = [1.0, 1.0]
    if counters is None:
        counters = [_knn.counter(np.ascontiguousarray(m), backend) for m in marginals]
    nt = get_num_threads()
    _no_zero_radius(dist[:, -1], "the joint space")
    total = np.zeros(n)
    if algorithm == "ksg1":
        eps = np.ascontiguousarray(dist[:, -1])
        for sign, c in zip(signs, counters, strict=True):
            total += sign * _psi(c.count_self(eps, True, nt) + 1.0)
        const = _psi(k) + (_psi(n) if len(parts) == 2 else 0.0)
        return np.asarray(const - total)
    # Algorithm 2: each marginal's radius is the largest marginal distance among the k joint
    # neighbours; non-strict counts (>= k, since the k neighbours are inside).
    assert index is not None
    for m, c in zip(marginals, counters, strict=True):
        eps_m = np.ascontiguousarray(np.abs(m[index] - m[:, None, :]).max(axis=(1, 2)))
        total += _psi(c.count_self(eps_m, False, nt).astype(np.float64))
    return np.asarray(_psi(k) - 1.0 / k + _psi(n) - total)


def _gaussian_terms(a: list[np.ndarray], bias_correct: bool) -> Callable[[tuple[int, ...]], float]:
    """0.5 log det of the covariance of a set of parts (+ the Ince et al. bias correction)."""
    n = a[0].shape[0]
    centred = [p - p.mean(axis=0) for p in a]

    def half_logdet(subset: tuple[int, ...]) -> float:
        block = np.hstack([centred[i] for i in subset])
        dim = block.shape[1]
        cov = block.T @ block / (n - 1)
        sign, logdet = np.linalg.slogdet(cov)
        if sign <= 0:
            raise ValueError(
                "the covariance of the samples is singular (a constant column, or columns that "
                "are exact linear combinations of others): the Gaussian estimate is infinite"
            )
        h = 0.5 * logdet
        if bias_correct:
            # E[log det S] = log det Sigma + d log(2/(n-1)) + sum_{i=1..d} psi((n-i)/2)
            h -= 0.5 * dim * math.log(2.0 / (n - 1))
            h -= 0.5 * float(np.sum(_psi((n - np.arange(1, dim + 1)) / 2.0)))
        return float(h)

    return half_logdet


def _copula(a: np.ndarray) -> np.ndarray:
    """Rank/(n+1) then the standard normal quantile, column by column (ties get mean ranks)."""
    from scipy.stats import rankdata

    ranks = rankdata(a, axis=0)
    out: np.ndarray = special.ndtri(ranks / (a.shape[0] + 1.0))
    return out


def _gaussian_mi(parts: list[np.ndarray], copula: bool) -> float:
    if copula:
        parts = [_copula(p) for p in parts]
    h = _gaussian_terms(parts, bias_correct=copula)
    if len(parts) == 2:
        value = h((0,)) + h((1,)) - h((0, 1))
    else:
        value = h((0, 2)) + h((1, 2)) - h((0, 1, 2)) - h((2,))
    # Fischer's inequality makes the plug-in value >= 0; clip rounding only.
    return value if copula else max(value, 0.0)


def _gaussian_local(parts: list[np.ndarray]) -> np.ndarray:
    """Pointwise log p(x,y)/(p(x)p(y)) under the fitted Gaussian (ML covariances)."""

    def log_density(block: np.ndarray) -> np.ndarray:
        c = block - block.mean(axis=0)
        cov = c.T @ c / c.shape[0]
        sign, logdet = np.linalg.slogdet(cov)
        if sign <= 0:
            raise ValueError("the covariance of the samples is singular: the estimate is infinite")
        sol = np.linalg.solve(cov, c.T).T
        quad = np.einsum("ij,ij->i", c, sol)
        return np.asarray(-0.5 * (quad + logdet + c.shape[1] * math.log(2 * math.pi)))

    if len(parts) == 2:
        x, y = parts
        return log_density(np.hstack([x, y])) - log_density(x) - log_density(y)
    x, y, z = parts
    return (
        log_density(np.hstack([x, y, z]))
        + log_density(z)
        - log_density(np.hstack([x, z]))
        - log_density(np.hstack([y, z]))
    )


def _mixed_local(labels: np.ndarray, c: np.ndarray, k: int, backend: str) -> np.ndarray:
    """Ross (2014) local values for discrete labels and continuous c; NaN for singleton classes.

    Per point: k_i = min(k, N_class - 1), d_i the distance to the k_i-th neighbour within its
    class, m_i the points of the whole sample (singletons dropped) within strict radius d_i, self
    included; I = psi(n) - <psi(N_class)> + <psi(k_i)> - <psi(m_i)>. Max-norm distances (equal to
    scikit-learn's Euclidean ones when c has one column).
    """
    n = c.shape[0]
    if labels.ndim == 2:
        _, codes = np.unique(labels, axis=0, return_inverse=True)
    else:
        _, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(-1)
    class_size = np.bincount(codes)[codes]
    keep = class_size > 1
    radius = np.zeros(n)
    k_i = np.zeros(n)
    for label in np.unique(codes[keep]):
        members = np.flatnonzero(codes == label)
        kk = min(k, members.size - 1)
        pts = np.ascontiguousarray(c[members])
        radius[members] = _knn.kth_distance(pts, kk, "chebyshev", backend)
        k_i[members] = kk
    out = np.full(n, np.nan)
    kept = np.flatnonzero(keep)
    if kept.size == 0:
        return out
    r = np.ascontiguousarray(radius[kept])
    _no_zero_radius(r, "a class")
    m = _knn.count_self(np.ascontiguousarray(c[kept]), r, True, backend) + 1.0
    out[kept] = _psi(kept.size) - _psi(class_size[kept]) + _psi(k_i[kept]) - _psi(m)
    return out


def mutual_information(
    x: Any,
    y: Any,
    *,
    given: Any = None,
    k: int = 3,
    estimator: str = "ksg1",
    discrete_x: bool = False,
    discrete_y: bool = False,
    base: float | None = None,
    local: bool = False,
    jitter: float | None = None,
    seed: int | np.random.Generator = 0,
    backend: str = "auto",
) -> Any:
    """Mutual information I(X;Y), or conditional I(X;Y|Z) with ``given=z``, from samples.

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d)
        Paired samples (row i of x with row i of y); each may be multi-dimensional.
    given : array_like, shape (n,) or (n, d_z), optional
        Conditioning samples (continuous); Frenzel–Pompe for the kNN estimators.
    k : int, default 3
        Neighbour order, ``1 <= k < n``.
    estimator : {"ksg1", "ksg2", "gaussian", "copula"}
        See Notes.
    discrete_x, discrete_y : bool
        Treat x (or y) as discrete labels: Ross's mixed estimator (one side discrete, kNN
        estimators only, no ``given``); both discrete gives the plug-in discrete MI.
    base : float or None
        None for nats, 2 for bits.
    local : bool
        Return the n pointwise values whose mean is the estimate (not for ``"copula"``).
        Singleton classes of a discrete side have no local value (NaN; the mean skips them).
    jitter, seed
        Seeded noise of ``jitter`` × each continuous column's standard deviation.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    float, or ndarray of shape (n,) with ``local=True``.

    Notes
    -----
    With psi the digamma function and all distances in the max-norm:

    - ``"ksg1"`` (Kraskov, Stögbauer & Grassberger 2004, Phys. Rev. E 69, 066138, alg. 1):
      eps_i = distance to the k-th neighbour in the joint space;
      n_x(i) = #{j != i : |x_j - x_i| < eps_i} (STRICT), likewise n_y;
      ``I = psi(k) + psi(n) - <psi(n_x + 1) + psi(n_y + 1)>``.
    - ``"ksg2"`` (alg. 2): eps_x(i), eps_y(i) = largest marginal distances among the k joint
      neighbours; counts with ``<=``; ``I = psi(k) - 1/k + psi(n) - <psi(n_x) + psi(n_y)>``.
    - ``given=z`` (Frenzel & Pompe 2007, Phys. Rev. Lett. 99, 204101): the joint search in
      (x, y, z); ``I = psi(k) - <psi(n_xz + 1) + psi(n_yz + 1) - psi(n_z + 1)>`` (strict
      counts; ``estimator="ksg1"`` only).
    - ``"gaussian"``: ``I = 1/2 log(det S_x det S_y / det S_xy)`` from sample covariances (exact
      for Gaussian data, a lower bound in general, >= 0).
    - ``"copula"``: each column mapped to ``Phi^-1(rank/(n+1))``, then the Gaussian formula with
      each entropy term bias-corrected for the sample covariance,
      ``1/2 log det S - d/2 log(2/(n-1)) - 1/2 sum_{i<=d} psi((n-i)/2)`` (Ince et al. 2017, Hum.
      Brain Mapp. 38, 1541). Invariant to monotone transforms; unbiased for Gaussian copulas.
    - mixed (Ross 2014, PLoS ONE 9, e87357): see the discrete_x description; computed as
      scikit-learn's ``mutual_info_classif`` does, without its clipping at 0 and jitter.

    Cost (kNN): one joint grid or KD-tree, n k-NN queries, 2-3 batched radius counts (1-D
    marginals by search on a sorted copy), O(n log n) in low dimension; threaded.
    """
    estimator = check_choice(estimator, "estimator", ESTIMATORS)
    discrete_x = _check_flag(discrete_x, "discrete_x")
    discrete_y = _check_flag(discrete_y, "discrete_y")
    base = check_base(base)
    local = _check_flag(local, "local")
    noise = _Noise(jitter, seed)
    backend = _backend.resolve(backend)
    if discrete_x or discrete_y:
        return _mixed(
            x, y, given, k, estimator, discrete_x, discrete_y, base, local, noise, backend
        )
    xs, fx = _samples(x, "x")
    ys, fy = _samples(y, "y")
    arrays = {"x": xs, "y": ys}
    f32 = fx and fy
    if given is not None:
        zs, fz = _samples(given, "given")
        arrays["given"] = zs
        f32 = f32 and fz
    n = check_same_length(arrays)
    if given is not None and estimator == "ksg2":
        raise ValueError(
            "given= with a kNN estimator is Frenzel-Pompe, the algorithm-1 form: use "
            "estimator='ksg1' (or 'gaussian'/'copula')"
        )
    _warn_if_identical(xs, ys)
    parts = [noise(a) for a in arrays.values()]
    if estimator in ("gaussian", "copula"):
        if n < 3:
            raise ValueError(f"the {estimator} estimator needs at least 3 samples, got {n}")
        if local:
            if estimator == "copula":
                raise ValueError(
                    "local=True is not defined for estimator='copula' (its bias correction has "
                    "no pointwise form); use estimator='gaussian' or a kNN estimator"
                )
            return _result(_gaussian_local(parts), True, base, f32)
        return float(to_base(_gaussian_mi(parts, estimator == "copula"), base))
    k = _check_k(k, n)
    return _result(_ksg(parts, k, estimator, backend), local, base, f32)


def _mixed(
    x: Any,
    y: Any,
    given: Any,
    k: int,
    estimator: str,
    discrete_x: bool,
    discrete_y: bool,
    base: float | None,
    local: bool,
    noise: _Noise,
    backend: str,
) -> Any:
    if given is not None:
        raise ValueError("given= is not supported with discrete_x or discrete_y")
    if estimator not in ("ksg1", "ksg2"):
        raise ValueError(
            f"discrete_x/discrete_y use Ross's kNN estimator; estimator={estimator!r} does not "
            f"apply (leave the default 'ksg1')"
        )
    if discrete_x and discrete_y:
        from . import discrete

        lx, ly = as_labels(x, "x"), as_labels(y, "y")
        check_same_length({"x": lx, "y": ly})
        return discrete.mutual_information(lx, ly, base=base, local=local)
    labels_in, cont_in = (x, y) if discrete_x else (y, x)
    lname, cname = ("x", "y") if discrete_x else ("y", "x")
    labels = as_labels(labels_in, lname)
    c, f32 = _samples(cont_in, cname)
    n = check_same_length({lname: labels, cname: c})
    k = _check_k(k, n)
    values = _mixed_local(labels, noise(c), k, backend)
    if local:
        return _result(values, True, base, f32)
    kept = values[~np.isnan(values)]
    if kept.size == 0:
        raise ValueError(f"every class of {lname} has a single sample: the MI is not defined")
    return float(to_base(float(np.mean(kept)), base))


# ---------------------------------------------------------------------------------------------
# Divergence, Rényi and Tsallis entropies


def kl_divergence(
    x: Any,
    y: Any,
    *,
    k: int = 1,
    metric: str = "euclidean",
    base: float | None = None,
    local: bool = False,
    jitter: float | None = None,
    seed: int | np.random.Generator = 0,
    backend: str = "auto",
) -> Any:
    """Kullback–Leibler divergence D(p || q) from samples x ~ p (n rows) and y ~ q (m rows).

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d), and (m,) or (m, d)
        Samples of p and of q (same number of columns; not paired).
    k : int, default 1
        Neighbour order, ``1 <= k < n`` and ``k <= m``.
    metric : {"euclidean", "chebyshev"}
    base : float or None
        None for nats, 2 for bits.
    local : bool
        Return the n pointwise terms, whose mean is the estimate.
    jitter : float or None
        Seeded noise of ``jitter`` × each column's standard deviation, to break duplicates.
    seed : int or numpy.random.Generator, default 0
        Source of the jitter.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    float, or ndarray of shape (n,) with ``local=True``.

    Notes
    -----
    Wang, Kulkarni & Verdú (2009, IEEE Trans. Inf. Theory 55, 2392):
    ``D = (d/n) sum_i log(nu_i / rho_i) + log(m / (n - 1))``, with rho_i the distance from x_i
    to its k-th nearest neighbour among the other x's and nu_i to its k-th nearest among the y's.
    The metric's volume constant cancels, so any norm gives the same estimator. Needs
    ``k < n`` and ``k <= m``; duplicated x's (rho_i = 0) raise ``ValueError`` unless ``jitter=``.
    Cost: two KD-trees, 2n k-NN queries.
    """
    xs, fx = _samples(x, "x")
    ys, fy = _samples(y, "y")
    n, d = xs.shape
    m = ys.shape[0]
    if ys.shape[1] != d:
        raise ValueError(f"x and y must have the same number of columns, got {d} and {ys.shape[1]}")
    k = _check_k(k, n)
    if k > m:
        raise ValueError(f"k must be <= the number of samples of y ({m}), got {k}")
    metric = check_choice(metric, "metric", METRICS)
    base = check_base(base)
    local = _check_flag(local, "local")
    noise = _Noise(jitter, seed)
    backend = _backend.resolve(backend)
    xs, ys = noise(xs), noise(ys)
    rho = _knn.kth_distance(xs, k, metric, backend)
    _no_zero_radius(rho, "x")
    nu = _knn.tree(ys, backend).knn(xs, k, metric, get_num_threads())[0][:, -1]
    _no_zero_radius(nu, "y (x samples that coincide with k or more y samples)")
    values = d * np.log(nu / rho) + math.log(m / (n - 1))
    return _result(values, local, base, fx and fy)


def _leonenko_mean(
    x: Any, alpha: Any, k: Any, metric: Any, jitter: Any, seed: Any, backend: Any, name: str
) -> tuple[float, float]:
    """(alpha, log I_alpha) of Leonenko et al. (2008); I_alpha estimates int p^alpha."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(alpha).__name__}")
    a = float(alpha)
    xs, _ = _samples(x, "x")
    n, d = xs.shape
    k = _check_k(k, n)
    if not (math.isfinite(a) and a > 0 and a < k + 1):
        raise ValueError(f"{name} must be in (0, k + 1) = (0, {k + 1}), got {alpha!r}")
    metric = check_choice(metric, "metric", METRICS)
    noise = _Noise(jitter, seed)
    backend = _backend.resolve(backend)
    xs = noise(xs)  # drawn even for alpha = 1, so a Generator seed advances as before
    if a == 1.0:  # the caller takes the Shannon estimate, which does its own search
        return a, math.nan
    rho = _knn.kth_distance(xs, k, metric, backend)
    _no_zero_radius(rho, "x")
    log_ck = (math.lgamma(k) - math.lgamma(k + 1 - a)) / (1 - a)
    logs = (1 - a) * (math.log(n - 1) + log_ck + _log_unit_ball(d, metric) + d * np.log(rho))
    return a, float(special.logsumexp(logs) - math.log(n))


def renyi_entropy(
    x: Any,
    alpha: float,
    *,
    k: int = 3,
    metric: str = "euclidean",
    base: float | None = None,
    jitter: float | None = None,
    seed: int | np.random.Generator = 0,
    backend: str = "auto",
) -> float:
    """Rényi differential entropy of order ``alpha`` from samples (Leonenko kNN estimator).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    alpha : float
        Order, ``0 < alpha < k + 1``.
    k : int, default 3
    metric : {"euclidean", "chebyshev"}
    base : float or None
        None for nats, 2 for bits.
    jitter : float or None
        Seeded noise of ``jitter`` × each column's standard deviation, to break duplicates.
    seed : int or numpy.random.Generator, default 0
        Source of the jitter.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    float

    Notes
    -----
    ``I = (1/n) sum_i [(n - 1) C_k V_d rho_i^d]^(1 - alpha)``, ``C_k = [Gamma(k) /
    Gamma(k + 1 - alpha)]^(1/(1 - alpha))``, ``H_alpha = log I / (1 - alpha)``, with rho_i the
    k-th neighbour distance and V_d the unit-ball volume of the metric (Leonenko, Pronzato &
    Savani 2008, Ann. Stat. 36, 2153). Needs ``0 < alpha < k + 1``; ``alpha = 1`` gives the
    Kozachenko–Leonenko Shannon entropy. Cost: one grid or KD-tree, n k-NN queries.
    """
    base = check_base(base)
    a, log_i = _leonenko_mean(x, alpha, k, metric, jitter, seed, backend, "alpha")
    if a == 1.0:
        value: float = entropy(x, k=k, metric=metric, jitter=jitter, seed=seed, backend=backend)
        return float(to_base(value, base))
    return float(to_base(log_i / (1 - a), base))


def tsallis_entropy(
    x: Any,
    q: float,
    *,
    k: int = 3,
    metric: str = "euclidean",
    jitter: float | None = None,
    seed: int | np.random.Generator = 0,
    backend: str = "auto",
) -> float:
    """Tsallis differential entropy of order ``q`` from samples (Leonenko kNN estimator).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    q : float
        Order, ``0 < q < k + 1``.
    k : int, default 3
    metric : {"euclidean", "chebyshev"}
    jitter : float or None
        Seeded noise of ``jitter`` × each column's standard deviation, to break duplicates.
    seed : int or numpy.random.Generator, default 0
        Source of the jitter.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    float (Tsallis entropies have no unit base).

    Notes
    -----
    ``S_q = (1 - I_q) / (q - 1)`` with I_q the kNN estimate of ``int p^q`` of
    :func:`renyi_entropy` (Leonenko, Pronzato & Savani 2008). ``q = 1`` gives the Shannon
    entropy in nats. Needs ``0 < q < k + 1``. Cost: one grid or KD-tree, n k-NN queries.
    """
    a, log_i = _leonenko_mean(x, q, k, metric, jitter, seed, backend, "q")
    if a == 1.0:
        value: float = entropy(x, k=k, metric=metric, jitter=jitter, seed=seed, backend=backend)
        return value
    return float((1.0 - math.exp(log_i)) / (a - 1.0))


# ---------------------------------------------------------------------------------------------
# Transfer entropy, per-feature MI, permutation test


def _embed(series: np.ndarray, lags: list[int], start: int) -> np.ndarray:
    """Columns series[t - lag] for t in [start, n), one block per lag."""
    n = series.shape[0]
    return np.ascontiguousarray(np.hstack([series[start - lag : n - lag] for lag in lags]))


def transfer_entropy(
    source: Any,
    target: Any,
    *,
    k: int = 3,
    lag: int = 1,
    history: int = 1,
    estimator: str = "ksg1",
    base: float | None = None,
    local: bool = False,
    jitter: float | None = None,
    seed: int | np.random.Generator = 0,
    backend: str = "auto",
) -> Any:
    """Transfer entropy from ``source`` to ``target`` (time series, rows are time steps).

    Parameters
    ----------
    source, target : array_like, shape (n,) or (n, d)
        Time series of equal length.
    k : int, default 3
    lag : int, default 1
        Delay of the source's most recent value.
    history : int, default 1
        Number of past values of each series in the embedding.
    estimator : {"ksg1", "gaussian", "copula"}
        As in :func:`mutual_information` with ``given=``.
    base : float or None
        None for nats, 2 for bits.
    local : bool
    jitter : float or None
        Seeded noise of ``jitter`` × each column's standard deviation, to break duplicates.
    seed : int or numpy.random.Generator, default 0
        Source of the jitter.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    float, or ndarray with ``local=True``.

    Notes
    -----
    ``TE = I(T_t ; S_{t-lag}, ..., S_{t-lag-history+1} | T_{t-1}, ..., T_{t-history})``
    (Schreiber 2000, Phys. Rev. Lett. 85, 461), estimated by :func:`mutual_information` with
    ``given=`` (Frenzel–Pompe for the kNN estimators) on the delay embeddings, over the
    ``n - max(history, lag + history - 1)`` time steps where every lag exists (``local=True``
    returns one value per such step, the first at ``t = max(history, lag + history - 1)``).
    Cost: as one conditional MI on that many rows.
    """
    s, _ = _samples(source, "source")
    t, _ = _samples(target, "target")
    n = check_same_length({"source": s, "target": t})
    lag = check_positive_int(lag, "lag")
    history = check_positive_int(history, "history")
    start = max(history, lag + history - 1)
    if n - start < 2:
        raise ValueError(
            f"the series are too short: {n} steps leave {n - start} after lag={lag} and "
            f"history={history}"
        )
    future = np.ascontiguousarray(t[start:])
    source_past = _embed(s, [lag + h for h in range(history)], start)
    target_past = _embed(t, [1 + h for h in range(history)], start)
    src = np.asarray(source)
    tgt = np.asarray(target)
    if src.dtype == np.float32 and tgt.dtype == np.float32:
        future, source_past, target_past = (
            a.astype(np.float32) for a in (future, source_past, target_past)
        )
    return mutual_information(
        future,
        source_past,
        given=target_past,
        k=k,
        estimator=estimator,
        base=base,
        local=local,
        jitter=jitter,
        seed=seed,
        backend=backend,
    )


def feature_mutual_information(
    X: Any,
    y: Any,
    *,
    k: int = 3,
    discrete_y: bool = False,
    base: float | None = None,
    jitter: float | None = None,
    seed: int | np.random.Generator = 0,
    backend: str = "auto",
) -> np.ndarray:
    """Mutual information of each column of ``X`` with ``y``, in one call.

    What ``sklearn.feature_selection.mutual_info_regression`` (continuous y, KSG algorithm 1)
    and ``mutual_info_classif`` (``discrete_y=True``, Ross's mixed estimator) compute, without
    their clipping at 0 or their absolute jitter, and with the work on y done once: y's sorted
    marginal (continuous y) or its class partition (discrete y) is shared by all columns.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Continuous features.
    y : array_like, shape (n,) or (n, d_y)
        Continuous target, or labels with ``discrete_y=True``.
    k : int, default 3
    discrete_y : bool
    base : float or None
        None for nats, 2 for bits.
    jitter : float or None
        Seeded noise of ``jitter`` × each column's standard deviation, to break duplicates.
    seed : int or numpy.random.Generator, default 0
        Source of the jitter.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    ndarray of shape (d,): I(X[:, j]; y) for each column j.

    Notes
    -----
    Cost: per column one 2-D joint grid, n k-NN queries and a sorted-array count pass.
    """
    Xs, _ = _samples(X, "X")
    discrete_y = _check_flag(discrete_y, "discrete_y")
    base = check_base(base)
    noise = _Noise(jitter, seed)
    backend = _backend.resolve(backend)
    n, d = Xs.shape
    k = _check_k(k, n)
    Xs = noise(Xs)
    out = np.empty(d)
    if discrete_y:
        labels = as_labels(y, "y")
        check_same_length({"X": Xs, "y": labels})
        for j in range(d):
            local_values = _mixed_local(labels, np.ascontiguousarray(Xs[:, j : j + 1]), k, backend)
            kept = local_values[~np.isnan(local_values)]
            out[j] = float(np.mean(kept)) if kept.size else math.nan
        return np.asarray(to_base(out, base))
    ys, _ = _samples(y, "y")
    check_same_length({"X": Xs, "y": ys})
    ys = noise(ys)
    y_counter = _knn.counter(ys, backend)
    for j in range(d):
        xj = np.ascontiguousarray(Xs[:, j : j + 1])
        counters = [_knn.counter(xj, backend), y_counter]
        out[j] = float(np.mean(_ksg([xj, ys], k, "ksg1", backend, counters)))
    return np.asarray(to_base(out, base))


def mutual_information_test(
    x: Any,
    y: Any,
    *,
    k: int = 3,
    estimator: str = "ksg1",
    n_permutations: int = 1000,
    seed: int | np.random.Generator | None = None,
    alternative: str = "greater",
    base: float | None = None,
    backend: str = "auto",
) -> PermutationResult:
    """Permutation test of I(X;Y) > 0 for continuous samples, through
    :func:`infokit.stats.permutation_test`.

    The marginal search structures (x's and y's sorted copies or KD-trees) are built once: a
    permutation of y's rows only relabels which radius each y point is queried with. The joint
    neighbour search is redone per permutation (the joint points change). Same p-value rule as
    :func:`infokit.stats.permutation_test`.

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d)
        Paired continuous samples.
    k : int, default 3
    estimator : {"ksg1", "ksg2"}
    n_permutations : int, default 1000
    seed : int, numpy.random.Generator or None
        Source of the permutations.
    alternative : {"greater", "less", "two-sided"}
    base : float or None
        None for nats, 2 for bits.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    infokit.stats.PermutationResult

    Notes
    -----
    Cost: ``n_permutations + 1`` joint grid or KD-tree builds and k-NN passes, plus the
    marginal counts.
    """
    estimator = check_choice(estimator, "estimator", ("ksg1", "ksg2"))
    base = check_base(base)
    backend = _backend.resolve(backend)
    xs, _ = _samples(x, "x")
    ys, _ = _samples(y, "y")
    n = check_same_length({"x": xs, "y": ys})
    k = _check_k(k, n)
    _warn_if_identical(xs, ys)
    x_counter = _knn.counter(xs, backend)
    y_counter = _knn.counter(ys, backend)

    class _Permuted:
        """y's counter seen through a permutation: row i of the permuted y is ys[perm[i]]."""

        def __init__(self, perm: np.ndarray) -> None:
            self.perm = perm

        def count_self(self, radius: np.ndarray, strict: bool, n_threads: int = 1) -> np.ndarray:
            r = np.empty_like(radius)
            r[self.perm] = radius
            return y_counter.count_self(r, strict, n_threads)[self.perm]

    def statistic(_: np.ndarray, perm: np.ndarray) -> float:
        perm = perm.astype(np.int64, copy=False)
        yp = ys[perm]
        values = _ksg([xs, yp], k, estimator, backend, [x_counter, _Permuted(perm)])
        return float(to_base(float(np.mean(values)), base))

    # The "y" handed to the generic test is the row index, so each permutation arrives here as
    # the permutation itself.
    return permutation_test(
        statistic,
        xs,
        np.arange(n),
        n_permutations=n_permutations,
        seed=seed,
        alternative=alternative,
    )
