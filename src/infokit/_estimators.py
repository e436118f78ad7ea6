"""Entropy estimators as functions of a histogram: one small function per estimator.

Reductions use np.sum (pairwise, fixed order), never np.dot or @: those go to BLAS, whose
summation order changes with the BLAS thread count, and results must not.

Every estimator here sees only the counts of the observed symbols (and, for those that need it, the
alphabet size K), never the samples, so each costs O(K) after one counting pass. All return nats.
``entropy_from_counts`` checks the arguments and dispatches by name; the public functions in
:mod:`infokit.discrete` build every entropy term of a measure through it, so MI and CMI combine
entropies from the same estimator.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from scipy import optimize
from scipy.special import digamma, gammaln, polygamma

from ._validation import check_choice

ESTIMATORS = ("plugin", "miller_madow", "grassberger", "chao_shen", "shrinkage", "nsb", "bayes")

# Estimators that use the alphabet size K (the others are defined on the observed symbols only).
USES_ALPHABET_SIZE = ("shrinkage", "nsb", "bayes")

# Named Dirichlet pseudo-counts for estimator="bayes" (n samples, K symbols).
NAMED_ALPHAS = ("jeffreys", "laplace", "perks", "minimax")


def check_estimator(estimator: Any) -> str:
    """The estimator name, or an error that lists the valid names."""
    if not isinstance(estimator, str):
        raise TypeError(
            f"estimator must be a string, one of {ESTIMATORS}, got {type(estimator).__name__}"
        )
    check_choice(estimator, "estimator", ESTIMATORS)
    return estimator


def check_alpha(alpha: Any, estimator: str) -> float | str | None:
    """``alpha``: required by estimator="bayes" (a real > 0 or a named prior), used by no other."""
    if estimator != "bayes":
        if alpha is not None:
            raise ValueError(
                f"alpha is used only by estimator='bayes', got alpha={alpha!r} "
                f"with estimator={estimator!r}"
            )
        return None
    if alpha is None:
        raise ValueError(
            "alpha is required for estimator='bayes': a Dirichlet pseudo-count > 0 "
            f"or one of {NAMED_ALPHAS}"
        )
    if isinstance(alpha, str):
        if alpha not in NAMED_ALPHAS:
            raise ValueError(f"alpha must be a real > 0 or one of {NAMED_ALPHAS}, got {alpha!r}")
        return alpha
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(
            f"alpha must be a real number > 0 or one of {NAMED_ALPHAS}, got {type(alpha).__name__}"
        )
    a = float(alpha)
    if not (math.isfinite(a) and a > 0.0):
        raise ValueError(f"alpha must be a finite real number > 0, got {alpha!r}")
    return a


def check_n_symbols(n_symbols: Any, estimator: str) -> int | None:
    """``n_symbols`` (the alphabet size K) is offered to the estimators that use it."""
    if n_symbols is None:
        return None
    if estimator not in USES_ALPHABET_SIZE:
        raise ValueError(
            f"n_symbols is used only by the estimators {USES_ALPHABET_SIZE}, "
            f"got n_symbols={n_symbols!r} with estimator={estimator!r}"
        )
    if isinstance(n_symbols, bool) or not isinstance(n_symbols, numbers.Integral):
        raise TypeError(f"n_symbols must be an int, got {type(n_symbols).__name__}")
    if n_symbols < 1:
        raise ValueError(f"n_symbols must be >= 1, got {n_symbols}")
    return int(n_symbols)


def entropy_from_counts(
    counts: np.ndarray,
    estimator: str,
    *,
    n_symbols: int | None = None,
    alpha: float | str | None = None,
) -> float:
    """Entropy in nats estimated from the counts of the symbols (zero counts are ignored).

    ``n_symbols`` is the alphabet size K for the estimators that use it (default: the number of
    observed symbols); ``alpha`` the Dirichlet pseudo-count of estimator="bayes". Both are assumed
    checked by :func:`check_alpha` and :func:`check_n_symbols`.
    """
    c = np.asarray(counts)
    c = c[c > 0].astype(np.int64, copy=False)
    if c.size == 0:
        raise ValueError("counts must contain at least one positive count")
    k_observed = int(c.size)
    k = k_observed if n_symbols is None else n_symbols
    if k < k_observed:
        raise ValueError(
            f"n_symbols must be >= the number of distinct observed symbols ({k_observed}), got {k}"
        )
    if estimator == "plugin":
        return plugin(c)
    if estimator == "miller_madow":
        return miller_madow(c)
    if estimator == "grassberger":
        return grassberger(c)
    if estimator == "chao_shen":
        return chao_shen(c)
    if estimator == "shrinkage":
        return shrinkage(c, k)
    if estimator == "nsb":
        return nsb(c, k)
    if estimator == "bayes":
        if alpha is None:
            raise ValueError("alpha is required for estimator='bayes'")
        return bayes(c, k, _alpha_value(alpha, int(c.sum()), k))
    raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")


# ---------------------------------------------------------------------------------------------
# The estimators. c: int64 counts of the observed symbols (all > 0); k: alphabet size >= c.size.


def _xlogx_sum(p: np.ndarray) -> float:
    """Sum of p log p over the positive entries (0 log 0 = 0)."""
    q = p[p > 0]
    return float(np.sum(q * np.log(q)))


def _count_profile(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct count values v and how many symbols have each (the count of counts).

    Large tables of small counts (a 1000 x 1000 joint of 10^7 samples has ~50 distinct counts
    among 10^6 cells) then cost one bincount instead of 10^6 logarithms.
    """
    top = int(c.max())
    if top <= 4 * c.size:
        multiplicity = np.bincount(c, minlength=top + 1)
        values = np.flatnonzero(multiplicity)
        return values, multiplicity[values]
    return np.unique(c, return_counts=True)


def plugin(c: np.ndarray) -> float:
    """Maximum likelihood: H = log n - (1/n) sum c_i log c_i (summed per distinct count)."""
    values, multiplicity = _count_profile(c)
    v = values.astype(np.float64)
    n = float(np.sum(multiplicity * v))
    return max(math.log(n) - float(np.sum(multiplicity * v * np.log(v))) / n, 0.0)


def miller_madow(c: np.ndarray) -> float:
    """Plug-in plus the first-order bias (K - 1)/(2n), K = the observed symbols (Miller 1955)."""
    return plugin(c) + (c.size - 1) / (2.0 * float(c.sum()))


def _grassberger_g(v: np.ndarray) -> np.ndarray:
    """G(v) = psi(v) + (1/2)(-1)^v [psi((v + 1)/2) - psi(v/2)].

    Grassberger (2003), "Entropy estimates from insufficient samplings", arXiv:physics/0307138.
    """
    sign = np.where(v % 2 == 0, 1.0, -1.0)
    vf = v.astype(np.float64)
    return digamma(vf) + 0.5 * sign * (digamma((vf + 1.0) / 2.0) - digamma(vf / 2.0))


def grassberger(c: np.ndarray) -> float:
    """H = log n - (1/n) sum c_i G(c_i); G is evaluated once per distinct count value."""
    n = float(c.sum())
    values, multiplicity = _count_profile(c)
    weighted = multiplicity.astype(np.float64) * values.astype(np.float64)
    return math.log(n) - float(np.sum(weighted * _grassberger_g(values))) / n


def chao_shen(c: np.ndarray) -> float:
    """Coverage-adjusted Horvitz-Thompson estimator (Chao & Shen 2003).

    C = 1 - f1/n (f1 singletons, f1 = n - 1 when every sample is a singleton), p_i = C c_i / n,
    H = -sum p_i log p_i / (1 - (1 - p_i)^n).
    """
    if c.size == 1:  # one symbol seen n times: p = 1, H = 0 (and 1 - p = 0 would reach log 0)
        return 0.0
    n = int(c.sum())
    f1 = int(np.count_nonzero(c == 1))
    if f1 == n:
        f1 = n - 1
    coverage = 1.0 - f1 / n
    p = coverage * c.astype(np.float64) / n
    inclusion = -np.expm1(n * np.log1p(-p))  # 1 - (1 - p)^n, accurate for small p
    return float(-np.sum(p * np.log(p) / inclusion))


def shrinkage_lambda(c: np.ndarray, k: int) -> float:
    """Hausser-Strimmer intensity: (1 - sum p^2) / ((n - 1) sum (1/K - p)^2), clipped to [0, 1].

    The sum runs over all K symbols (an unobserved one contributes (1/K)^2). When the denominator
    is 0 (n = 1, or the frequencies already uniform) lambda = 1, which changes nothing in the
    second case.
    """
    n = float(c.sum())
    p = c.astype(np.float64) / n
    t = 1.0 / k
    spread = float(np.sum((t - p) ** 2)) + (k - c.size) * t * t
    numerator = 1.0 - float(np.sum(p * p))
    if n <= 1.0 or spread <= 0.0:
        return 1.0
    return min(1.0, max(0.0, numerator / ((n - 1.0) * spread)))


def shrinkage(c: np.ndarray, k: int) -> float:
    """James-Stein shrinkage of the frequencies toward uniform 1/K (Hausser & Strimmer 2009).

    p_i = lambda/K + (1 - lambda) c_i/n; K defaults to the observed symbols, as in pyitlib and
    infomeasure (and the R package entropy when given only the observed counts).
    """
    lam = shrinkage_lambda(c, k)
    n = float(c.sum())
    p = lam / k + (1.0 - lam) * c.astype(np.float64) / n
    p0 = lam / k  # each unobserved symbol
    return -_xlogx_sum(p) - (k - c.size) * _xlogx_sum(np.array([p0]))


def _alpha_value(alpha: float | str, n: int, k: int) -> float:
    if isinstance(alpha, str):
        return {"jeffreys": 0.5, "laplace": 1.0, "perks": 1.0 / k, "minimax": math.sqrt(n) / k}[
            alpha
        ]
    return alpha


def bayes(c: np.ndarray, k: int, alpha: float) -> float:
    """Plug-in of the Dirichlet posterior mean p_i = (c_i + alpha)/(n + K alpha), over K symbols."""
    n = float(c.sum())
    total = n + k * alpha
    p = (c.astype(np.float64) + alpha) / total
    p0 = alpha / total  # each unobserved symbol
    return -_xlogx_sum(p) - (k - c.size) * p0 * math.log(p0)


# ---------------------------------------------------------------------------------------------
# NSB (Nemenman, Shafee & Bialek 2002): H = E[H | counts] under a mixture of symmetric Dirichlet
# priors Dir(beta) whose weights make the prior on the entropy flat, d xi/d beta with
# xi(beta) = psi(K beta + 1) - psi(beta + 1). The integral runs over u = log beta (so that tiny and
# huge concentrations are both resolved), in log space, from the posterior peak outwards.

_NSB_CUTOFF = 40.0  # integrate where the log posterior is within this many nats of its peak
_NSB_STEP = 0.25  # coarse grid step in u = log beta used to find the peak and the edges
_NSB_PANELS = 16  # composite Gauss-Legendre panels between the edges
_NSB_NODES, _NSB_WEIGHTS = np.polynomial.legendre.leggauss(16)


def _stirling_tail(x: np.ndarray) -> np.ndarray:
    """log Gamma(x) - [(x - 1/2) log x - x + log(2 pi)/2], asymptotic series (x >= 10)."""
    r = 1.0 / x
    r2 = r * r
    return r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 / 1680.0)))


def _log_rising(a: np.ndarray, c: np.ndarray | float) -> np.ndarray:
    """log Gamma(a + c) - log Gamma(a), accurate also when a is huge (where the gammaln
    difference would lose everything to cancellation). a > 0, c >= 0; broadcasts."""
    a, c = np.broadcast_arrays(a, c)
    out = np.empty(a.shape)
    small = a < 10.0
    a_s, c_s = a[small], c[small]
    out[small] = gammaln(a_s + c_s) - gammaln(a_s)
    a_l, c_l = a[~small], c[~small]
    out[~small] = (
        (a_l - 0.5) * np.log1p(c_l / a_l)
        + c_l * np.log(a_l + c_l)
        - c_l
        + _stirling_tail(a_l + c_l)
        - _stirling_tail(a_l)
    )
    return out


def _nsb_log_prior(beta: np.ndarray, k: int) -> np.ndarray:
    """log d xi/d beta = log[K psi1(K beta + 1) - psi1(beta + 1)].

    For beta >= 100 the difference cancels badly; there the asymptotic series of psi1 gives
    (1/(2 beta^2)) [(1 - 1/K) - (1 - 1/K^2)/(3 beta) + (1 - 1/K^4)/(15 beta^3)
    - (1 - 1/K^6)/(21 beta^5)], whose first omitted term is below 1e-15 relative there.
    """
    out = np.empty(beta.shape)
    small = beta < 100.0
    b = beta[small]
    out[small] = np.log(k * polygamma(1, k * b + 1.0) - polygamma(1, b + 1.0))
    b = beta[~small]
    r = 1.0 / b
    kk = 1.0 / k
    series = (
        (1.0 - kk)
        - r * (1.0 - kk**2) / 3.0
        + r**3 * (1.0 - kk**4) / 15.0
        - r**5 * (1.0 - kk**6) / 21.0
    )
    out[~small] = np.log(series) - math.log(2.0) - 2.0 * np.log(b)
    return out


class _NsbPosterior:
    """The NSB posterior over u = log beta for one histogram, grouped by distinct count value."""

    def __init__(self, c: np.ndarray, k: int) -> None:
        values, multiplicity = np.unique(c, return_counts=True)
        self.values = values.astype(np.float64)
        self.multiplicity = multiplicity.astype(np.float64)
        self.n = float(c.sum())
        self.k = k
        self.unobserved = float(k - c.size)

    def log_density(self, u: np.ndarray) -> np.ndarray:
        """log p(u | counts) up to a constant: evidence + log prior + log Jacobian (u)."""
        beta = np.exp(u)
        per_value = _log_rising(beta[:, None], self.values[None, :]) * self.multiplicity
        evidence = per_value.sum(axis=1) - _log_rising(self.k * beta, self.n)
        return evidence + _nsb_log_prior(beta, self.k) + u

    def mean_entropy(self, u: np.ndarray) -> np.ndarray:
        """E[H | counts, beta] = psi(A + 1) - sum_i (a_i/A) psi(a_i + 1), a_i = c_i + beta."""
        beta = np.exp(u)
        total = self.n + self.k * beta
        a = self.values[None, :] + beta[:, None]
        observed = (a * digamma(a + 1.0) * self.multiplicity).sum(axis=1)
        unobserved = self.unobserved * beta * digamma(beta + 1.0)
        return digamma(total + 1.0) - (observed + unobserved) / total


def _nsb_support(post: _NsbPosterior) -> tuple[float, float, float]:
    """(lower edge, upper edge, peak log density) of the region within _NSB_CUTOFF of the peak."""
    # The posterior rises like K_observed * u for small beta and falls like -u for large beta
    # (the evidence saturates once K beta >> n), so a wide bracket exists; widen it until both
    # ends lie below the cutoff.
    lo = -math.log(post.k) - 20.0
    hi = math.log(post.n) + 20.0
    for _ in range(60):
        u = np.arange(lo, hi + _NSB_STEP, _NSB_STEP)
        f = post.log_density(u)
        i = int(np.argmax(f))
        above = f >= f[i] - _NSB_CUTOFF
        if above[0]:
            lo -= 20.0
            continue
        if above[-1]:
            hi += 20.0
            continue
        break
    else:  # pragma: no cover - the tails always fall below the cutoff
        raise RuntimeError("NSB: could not bracket the posterior")
    # Refine the peak between the grid neighbours of the best grid point.
    a, b = u[max(i - 1, 0)], u[min(i + 1, u.size - 1)]
    res = optimize.minimize_scalar(
        lambda t: -float(post.log_density(np.array([t]))[0]),
        bounds=(a, b),
        method="bounded",
        options={"xatol": 1e-9},
    )
    peak = max(float(f[i]), -float(res.fun))
    level = peak - _NSB_CUTOFF
    above = f >= level

    def g(t: float) -> float:
        return float(post.log_density(np.array([t]))[0]) - level

    first = int(np.argmax(above))
    last = int(above.size - 1 - np.argmax(above[::-1]))
    lower = optimize.brentq(g, u[first - 1], u[first], xtol=1e-6)
    upper = optimize.brentq(g, u[last], u[last + 1], xtol=1e-6)
    return float(lower), float(upper), peak


def nsb(c: np.ndarray, k: int) -> float:
    """NSB entropy: the posterior mean of H under the NSB prior, integrated over log beta.

    Finds the posterior peak on a coarse grid in u = log beta (refined by Brent), brackets the
    region where the log posterior is within 40 nats of the peak, and integrates there with
    composite Gauss-Legendre (16 panels x 16 nodes). Cost O(D) per evaluation, D the number of
    distinct count values, about 500 evaluations.
    """
    if k == 1:
        return 0.0
    post = _NsbPosterior(c, k)
    lower, upper, peak = _nsb_support(post)
    edges = np.linspace(lower, upper, _NSB_PANELS + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[:-1] + edges[1:])
    u = (mid[:, None] + half[:, None] * _NSB_NODES[None, :]).ravel()
    w = (half[:, None] * _NSB_WEIGHTS[None, :]).ravel()
    weight = w * np.exp(post.log_density(u) - peak)
    return float(np.sum(weight * post.mean_entropy(u)) / np.sum(weight))
