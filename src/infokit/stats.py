"""Significance of a dependence statistic by permutation: :func:`permutation_test`.

Any statistic of paired samples, ``statistic(x, y) -> float``, is compared with its values on
copies of the data where the pairing has been broken by shuffling the samples (rows) of ``y``.
Typical statistics are the estimators of :mod:`infokit.discrete` (e.g. plug-in mutual
information, whose null mean is its bias); the module itself depends on none of them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import check_choice, check_positive_int, check_same_length

__all__ = ["PermutationResult", "permutation_test"]

ALTERNATIVES = ("greater", "less", "two-sided")

# Null values this close to the observed value (relative) count as ties: a permutation that
# gives the same statistic in exact arithmetic may differ from it in the last bits, and
# rounding must not make the p-value smaller.
_TIE_RTOL = 1e-12


@dataclass(frozen=True)
class PermutationResult:
    """Outcome of :func:`permutation_test`.

    Attributes
    ----------
    value : float
        The statistic on the data as given.
    p_value : float
        ``(1 + #{null values at least as extreme}) / (n_permutations + 1)``, in ``(0, 1]``.
    null_mean, null_std : float
        Mean and standard deviation (``ddof=0``) of the statistic over the permutations. For a
        plug-in information estimate, ``null_mean`` estimates its bias under independence.
    n_permutations : int
        Number of permutations drawn.
    alternative : str
        ``"greater"``, ``"less"`` or ``"two-sided"``.
    null : numpy.ndarray
        The ``n_permutations`` null values, in the order drawn (not shown in the repr and not
        compared by ``==``).
    """

    value: float
    p_value: float
    null_mean: float
    null_std: float
    n_permutations: int
    alternative: str
    null: np.ndarray = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"PermutationResult(value={self.value:.6g}, p_value={self.p_value:.6g}, "
            f"null_mean={self.null_mean:.6g}, null_std={self.null_std:.6g}, "
            f"n_permutations={self.n_permutations}, alternative={self.alternative!r})"
        )


def permutation_test(
    statistic: Callable[[Any, Any], Any],
    x: Any,
    y: Any,
    *,
    n_permutations: int = 1000,
    seed: int | np.random.Generator | None = None,
    alternative: str = "greater",
) -> PermutationResult:
    """Permutation test of the dependence between paired samples ``x`` and ``y``.

    Parameters
    ----------
    statistic : callable
        ``statistic(x, y)`` returning a real number, e.g.
        ``infokit.discrete.mutual_information``. It is called once on ``(x, y)`` and then once
        per permutation on ``(x, y[perm])``, always with numpy arrays.
    x, y : array_like, shape (n, ...)
        Paired samples: row ``i`` of ``x`` goes with row ``i`` of ``y``; ``n >= 2``. Any dtype
        the statistic accepts.
    n_permutations : int, default 1000
        Number of random permutations, >= 1.
    seed : int, numpy.random.Generator or None
        Source of the permutations, through :func:`numpy.random.default_rng`. The same int
        seed gives the same result; a Generator is advanced.
    alternative : {"greater", "less", "two-sided"}
        ``"greater"``: large values mean dependence (the usual case for information measures).

    Returns
    -------
    PermutationResult
        ``value``, ``p_value``, ``null_mean``, ``null_std``, ``n_permutations``, ``alternative``
        and the ``null`` values.

    Notes
    -----
    With ``T_0`` the observed value and ``T_1 .. T_m`` the statistic on ``m`` random shuffles of
    the rows of ``y`` (drawn with replacement from the ``n!`` permutations),

        ``p_greater = (1 + #{i : T_i >= T_0}) / (m + 1)``,
        ``p_less = (1 + #{i : T_i <= T_0}) / (m + 1)``,
        ``p_two-sided = min(1, 2 min(p_greater, p_less))``.

    The ``+1`` counts the observed data as one of the permutations, which keeps the test exact
    (``P(p <= a) <= a`` under independence) and the p-value above zero: the smallest possible
    value is ``1 / (m + 1)`` (Phipson & Smyth 2010, "Permutation p-values should never be
    zero"). Null values within a relative ``1e-12`` of ``T_0`` count as ties, so floating-point
    rounding cannot shrink the p-value. Shuffling ``y`` keeps both marginal distributions and
    breaks only the pairing, so ``null_mean`` is the statistic's expectation under independence
    with these marginals; for plug-in mutual information that is about
    ``(K_x - 1)(K_y - 1) / (2n)`` nats.

    Cost: ``n_permutations + 1`` calls of ``statistic`` plus one O(n) row gather of ``y`` per
    permutation; pure Python/numpy, sequential (the statistic may use threads itself).
    """
    if not callable(statistic):
        raise TypeError(
            f"statistic must be a callable statistic(x, y) -> float, got {type(statistic).__name__}"
        )
    xs = _as_samples(x, "x")
    ys = _as_samples(y, "y")
    n = check_same_length({"x": xs, "y": ys})
    if n < 2:
        raise ValueError(f"x and y need at least 2 samples to permute, got {n}")
    n_permutations = check_positive_int(n_permutations, "n_permutations")
    check_choice(alternative, "alternative", ALTERNATIVES)
    rng = np.random.default_rng(_check_seed(seed))

    value = _evaluate(statistic, xs, ys, "on the data")
    null = np.empty(n_permutations, dtype=np.float64)
    for i in range(n_permutations):
        null[i] = _evaluate(statistic, xs, ys[rng.permutation(n)], "on a permutation")

    tie = _TIE_RTOL * abs(value)
    p_greater = (1 + int(np.count_nonzero(null >= value - tie))) / (n_permutations + 1)
    p_less = (1 + int(np.count_nonzero(null <= value + tie))) / (n_permutations + 1)
    if alternative == "greater":
        p_value = p_greater
    elif alternative == "less":
        p_value = p_less
    else:
        p_value = min(1.0, 2.0 * min(p_greater, p_less))

    return PermutationResult(
        value=value,
        p_value=p_value,
        null_mean=float(null.mean()),
        null_std=float(null.std()),
        n_permutations=n_permutations,
        alternative=alternative,
        null=null,
    )


def _as_samples(a: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be an array of samples: {exc}") from None
    if arr.ndim == 0:
        raise ValueError(f"{name} must have one sample per row, got a scalar (0-D array)")
    return arr


def _check_seed(seed: Any) -> int | np.random.Generator | None:
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be None, an int or a numpy.random.Generator, got {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    return int(seed)


def _evaluate(statistic: Callable[[Any, Any], Any], x: Any, y: Any, where: str) -> float:
    result = statistic(x, y)
    arr = np.asarray(result)
    if arr.ndim != 0 or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"statistic must return one real number, but {where} it returned "
            f"{type(result).__name__} (dtype {arr.dtype}, shape {arr.shape})"
        )
    value = float(arr)
    if not math.isfinite(value):
        raise ValueError(f"statistic must return a finite number, but {where} it returned {value}")
    return value
