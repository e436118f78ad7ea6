"""Discretisers: real samples in, integer codes out, ready for :mod:`infokit.discrete`.

- :func:`uniform`: equal-width bins (the :func:`numpy.histogram` convention), per column.
- :func:`equal_mass`: equal-frequency (quantile) bins, per column; ties never split.
- :func:`adaptive`: the per-layer adaptive binning of Chelombiev, Houghton & O'Donnell (2019,
  "Adaptive estimators show information compression in deep neural networks", seed paper P30):
  one set of edges for a whole layer, at equally spaced ranks among its distinct values, with the
  saturating value of the activation function in a bin of its own.

Every function accepts a 1-D array ``(n,)`` or a 2-D array ``(n_samples, n_columns)`` of finite
real numbers and returns int64 codes of the same shape. A row of codes is one joint symbol for
:mod:`infokit.discrete`. float32 input is compared in float32 (edges are rounded to float32 the
way numpy rounds them); every other real dtype, integers included, is converted to float64.

All three are pure numpy: the work is one sort or one pass of :func:`numpy.searchsorted`, which
numpy already does at memory speed, so there is no compiled kernel and no ``backend=`` argument.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_positive_int

__all__ = ["AdaptiveBinning", "adaptive", "equal_mass", "uniform"]


# --------------------------------------------------------------------------------------------
# validation


def _as_real_samples(x: Any, name: str) -> np.ndarray:
    """Finite real samples, 1-D or 2-D, non-empty; float32 kept, other reals as float64."""
    if isinstance(x, np.ndarray):
        a = x
    else:
        try:
            a = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    kind = a.dtype.kind
    if kind == "b":
        raise TypeError(
            f"{name} must hold real numbers (int or float), got dtype bool; "
            "bool values are labels already: pass them to infokit.discrete directly"
        )
    if kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (int or float), got dtype {a.dtype}")
    if a.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (n,) or 2-D (n_samples, n_columns), "
            f"got a {a.ndim}-D array of shape {a.shape}"
        )
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}): need at least one value")
    if a.dtype != np.float32:
        a = a.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.all():
        bad = a.size - int(np.count_nonzero(finite))
        raise ValueError(f"{name} must be finite, but it holds {bad} NaN or inf value(s)")
    return a


def _check_range(value_range: Any) -> tuple[float, float]:
    try:
        lo, hi = value_range
    except (TypeError, ValueError):
        raise TypeError(
            f"range must be None or a pair (low, high) of real numbers, got {value_range!r}"
        ) from None
    for v in (lo, hi):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(
                f"range must be None or a pair (low, high) of real numbers, got {value_range!r}"
            )
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise ValueError(f"range must be finite with low < high, got {value_range!r}")
    return lo, hi


def _check_saturation(saturation: Any) -> float | None:
    if saturation is None:
        return None
    if isinstance(saturation, (bool, np.bool_)) or not isinstance(saturation, numbers.Real):
        raise TypeError(
            f"saturation must be None or a real number (e.g. 0.0 for ReLU, -1.0 for tanh), "
            f"got {type(saturation).__name__}"
        )
    s = float(saturation)
    if not math.isfinite(s):
        raise ValueError(f"saturation must be finite, got {saturation!r}")
    return s


def _per_column(a: np.ndarray, column_codes: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``column_codes`` to each column of a 2-D array (a 1-D array is one column)."""
    if a.ndim == 1:
        return column_codes(a)
    codes = np.empty(a.shape, dtype=np.int64)
    for j in range(a.shape[1]):
        codes[:, j] = column_codes(a[:, j])
    return codes


# --------------------------------------------------------------------------------------------
# uniform


def uniform(x: Any, n_bins: int, *, range: tuple[float, float] | None = None) -> np.ndarray:
    """Equal-width bins: codes ``0 .. n_bins - 1`` for each value, column by column.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        Finite real samples. A 2-D array is binned per column, each column over its own
        ``[min, max]`` (or over ``range`` for every column).
    n_bins : int
        Number of bins, >= 1.
    range : (float, float), optional
        ``(low, high)`` with ``low < high``: the binned interval for every column. Values outside
        it raise ``ValueError`` rather than being clipped or dropped silently; call
        ``numpy.clip(x, low, high)`` first to put them in the outer bins.

    Returns
    -------
    numpy.ndarray of int64, same shape as ``x``
        The bin of each value.

    Notes
    -----
    The edges are those of :func:`numpy.histogram_bin_edges`, ``e_k = low + k (high - low) /
    n_bins`` (computed by ``numpy.linspace`` in double, then rounded to the input's dtype), and
    the code is ``k`` for ``e_k <= x < e_{k+1}``; the maximum, ``x = e_{n_bins}``, falls in the
    last bin, as in :func:`numpy.histogram`. So the codes equal
    ``numpy.digitize(x, edges) - 1`` with the maximum moved into the last bin.
    Without ``range``, a constant column is one bin (all codes 0); numpy.histogram would widen
    the range to ``[c - 0.5, c + 0.5]`` instead.

    Cost: O(n d log n_bins) time (:func:`numpy.searchsorted` per column), O(n d) memory; pure
    numpy, no compiled kernel.
    """
    a = _as_real_samples(x, "x")
    n_bins = check_positive_int(n_bins, "n_bins")
    fixed = None if range is None else _check_range(range)
    return _per_column(a, lambda col: _uniform_column(col, n_bins, fixed))


def _uniform_column(col: np.ndarray, n_bins: int, fixed: tuple[float, float] | None) -> np.ndarray:
    if fixed is None:
        lo, hi = float(col.min()), float(col.max())
        if lo == hi:
            return np.zeros(col.shape, dtype=np.int64)
        if not math.isfinite(hi - lo):
            raise ValueError(
                f"x spans [{lo!r}, {hi!r}], whose width overflows float64; rescale x first"
            )
    else:
        lo, hi = fixed
    # numpy.histogram_bin_edges computes the same linspace in double and rounds to the data's
    # dtype; comparing in that dtype keeps the codes identical to numpy's.
    edges = np.linspace(lo, hi, n_bins + 1).astype(col.dtype)
    if fixed is not None:
        cmin, cmax = col.min(), col.max()
        if cmin < edges[0] or cmax > edges[-1]:
            raise ValueError(
                f"x has values outside range={fixed!r} (it spans [{float(cmin)!r}, "
                f"{float(cmax)!r}]); clip x first (numpy.clip) or widen range"
            )
    # side="right": a value equal to an edge opens the bin above it; the maximum (= last edge)
    # lands on n_bins and is folded into the last bin.
    k = np.searchsorted(edges, col, side="right") - 1
    return np.clip(k, 0, n_bins - 1).astype(np.int64, copy=False)


# --------------------------------------------------------------------------------------------
# equal mass


def equal_mass(x: Any, n_bins: int) -> np.ndarray:
    """Equal-frequency (quantile) bins: each bin holds about ``n / n_bins`` samples, per column.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        Finite real samples. A 2-D array is binned per column.
    n_bins : int
        Number of bins asked for, >= 1.

    Returns
    -------
    numpy.ndarray of int64, same shape as ``x``
        Dense codes ``0 .. B - 1`` per column, with ``B <= n_bins`` (see ties below). Larger
        values never get smaller codes.

    Notes
    -----
    With ``r(x)`` the number of samples of the column strictly smaller than ``x``, the code is

        ``k(x) = min(n_bins - 1, floor(n_bins * r(x) / n))``

    renumbered densely (empty bins dropped). Equivalently the interior edges are the
    inverted-CDF quantiles ``e_j = numpy.quantile(x, j / n_bins, method="inverted_cdf")``,
    ``j = 1 .. n_bins - 1`` (always sample values), and the bins are closed on the right:
    ``e_j < x <= e_{j+1}``.

    - Distinct values: bin sizes differ by at most one sample.
    - Ties: the code depends on the value only, so a repeated value is never split across bins.
      A value repeated more than ``n / n_bins`` times swallows the edges that fall on it, and
      the column then has fewer than ``n_bins`` bins (a constant column has one). The codes are
      renumbered so that they stay dense.
    - Only the order of the values matters: a strictly increasing transform of ``x`` leaves the
      codes unchanged.

    Cost: O(n d log n) time (one sort per column), O(n d) memory; pure numpy, no compiled kernel.
    """
    a = _as_real_samples(x, "x")
    n_bins = check_positive_int(n_bins, "n_bins")
    return _per_column(a, lambda col: _equal_mass_column(col, n_bins))


def _equal_mass_column(col: np.ndarray, n_bins: int) -> np.ndarray:
    ordered = np.sort(col)
    n = ordered.size
    # More bins than samples cannot separate more: n bins already give every distinct value its
    # own bin. Capping also keeps the edge array (and j * n below) small.
    bins = min(n_bins, n)
    j = np.arange(1, bins, dtype=np.int64)
    # inverted-CDF quantile j/bins: the sample at sorted position ceil(j n / bins) - 1, in
    # exact integer arithmetic.
    edges = np.unique(ordered[-((-j * n) // bins) - 1])
    # side="left" counts the distinct edges strictly below x: bins are (e_j, e_{j+1}], so every
    # tied copy of a value gets the same code. The codes are dense because every edge is a
    # sample: edge e_{i+1} itself takes code i.
    return np.searchsorted(edges, col, side="left").astype(np.int64, copy=False)


# --------------------------------------------------------------------------------------------
# adaptive (P30)


@dataclass(frozen=True, eq=False)
class AdaptiveBinning:
    """Codes and edges of :func:`adaptive`.

    Attributes
    ----------
    codes : numpy.ndarray of int64
        Same shape as the activations. ``0`` is the saturating value's bin; the other bins are
        ``1 .. n_bins``. Pass ``codes`` to :mod:`infokit.discrete` (a row is one joint symbol).
    edges : numpy.ndarray
        ``n_bins + 1`` edges, in the activations' dtype: bin ``c >= 1`` holds the values ``v``
        (other than the saturating value) with ``edges[c - 1] <= v < edges[c]``, and the last
        bin also holds ``edges[-1]``, the maximum. Empty when every value saturates.
    saturation : float or None
        The saturating value that was given its own bin.
    """

    codes: np.ndarray
    edges: np.ndarray
    saturation: float | None

    @property
    def n_bins(self) -> int:
        """Number of bins besides the saturation bin (at most the ``n_bins`` asked for)."""
        return max(int(self.edges.size) - 1, 0)

    def __repr__(self) -> str:
        edges = np.array2string(self.edges, precision=4, threshold=8, separator=", ")
        return (
            f"AdaptiveBinning(codes=<{self.codes.dtype} array of shape {self.codes.shape}>, "
            f"n_bins={self.n_bins}, saturation={self.saturation!r}, edges={edges})"
        )


def adaptive(activations: Any, n_bins: int, saturation: float | None = None) -> AdaptiveBinning:
    """Adaptive binning of one layer's activations (P30): equal numbers of distinct values per bin.

    Parameters
    ----------
    activations : array_like, shape (n_samples, n_neurons) or (n_samples,)
        Finite real activations of one layer (one epoch). ALL values of the array are pooled:
        one set of edges serves every neuron.
    n_bins : int
        Number of bins for the non-saturated values, >= 1.
    saturation : float, optional
        The value where the activation function saturates, e.g. ``0.0`` for ReLU or ``-1.0`` for
        tanh. Values equal to it (compared in the activations' dtype) get code 0 and are left out
        when the edges are placed; it need not be the minimum.

    Returns
    -------
    AdaptiveBinning
        ``codes`` (int64, same shape as ``activations``), ``edges`` and ``saturation``. Code 0 is
        reserved for the saturating value (unused when ``saturation`` is None); the other bins
        are ``1 .. B`` with ``B = min(n_bins, U)``.

    Notes
    -----
    Let ``u_0 < u_1 < ... < u_{U-1}`` be the distinct non-saturating values of the layer and
    ``B = min(n_bins, U)``. The lower edge of bin ``c = 1 .. B`` is ``u_{floor((c - 1) U / B)}``,
    the top edge is ``u_{U-1}``; so bin ``c`` holds the distinct values of rank
    ``floor((c - 1) U / B) <= rank < floor(c U / B)``, and the numbers of distinct values in the
    bins differ by at most one (a maximum-entropy binning of the distinct values, not of the
    samples). Only the order of the values matters: a strictly increasing transform of the
    activations (and of ``saturation``) leaves the codes unchanged.

    Differences from the authors' code (``set_up_bins`` with ``maxentropy=True`` in
    ivansche/adaptive_estimators): the ranks are computed in exact integer arithmetic rather than
    as ``int(k * (U / B))`` in floating point, and the maximum is kept in the last bin instead of
    a bin of its own (their outer edge at the maximum, passed to ``numpy.digitize``, isolates it).
    The information measures of P30 are then plug-in ``I(X;T)``, ``I(T;Y)`` in bits, e.g.
    ``infokit.discrete.mutual_information(result.codes, y, base=2)``.

    Cost: O(N log N) time for ``N = n_samples * n_neurons`` (one ``numpy.unique`` of the layer,
    then ``numpy.searchsorted``), O(N) memory; pure numpy, no compiled kernel.
    """
    a = _as_real_samples(activations, "activations")
    n_bins = check_positive_int(n_bins, "n_bins")
    sat = _check_saturation(saturation)

    distinct = np.unique(a)  # sorted; -0.0 and 0.0 are one value
    saturated: np.ndarray | None = None
    if sat is not None:
        sat_value = a.dtype.type(sat)
        saturated = a == sat_value
        distinct = distinct[distinct != sat_value]

    u = distinct.size
    if u == 0:  # every value saturates
        return AdaptiveBinning(np.zeros(a.shape, dtype=np.int64), distinct, sat)
    bins = min(n_bins, u)
    # floor(k U / B) is strictly increasing in k because U / B >= 1, so the edges are distinct.
    lower_edges = distinct[(np.arange(bins, dtype=np.int64) * u) // bins]
    # side="right": a value equal to a lower edge belongs to the bin it opens; values at or
    # above the last lower edge (the maximum included) get code B.
    codes = np.searchsorted(lower_edges, a, side="right").astype(np.int64, copy=False)
    if saturated is not None:
        codes[saturated] = 0
    edges = np.append(lower_edges, distinct[-1])
    return AdaptiveBinning(codes, edges, sat)
