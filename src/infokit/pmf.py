"""Functions of given distributions: entropies, divergences and mutual information of tables.

Every function here takes probabilities (or non-negative counts) laid out along ``axis`` (the last
by default) and works on all the distributions of a batch at once: a 1-D input gives a Python
float, an N-D input an array of the other N-1 axes.

Conventions shared by the whole module:

- **Normalisation.** Each distribution is divided by its own sum, so unnormalised non-negative
  counts are accepted (as :func:`scipy.stats.entropy` does). Integer and bool arrays count as
  counts; float32 and float64 are read as they are (no copy, sums accumulate in float64); other
  real dtypes become float64. Results are float64.
- **Zeros.** ``0 log 0 = 0``: outcomes of probability 0 contribute nothing. Where ``p > 0`` but
  ``q = 0``, the cross-entropy and the KL divergence are ``inf``.
- **Rejected.** NaN or inf entries, negative entries, and distributions summing to 0 raise
  ``ValueError`` naming the argument; complex, object, string and other non-real dtypes raise
  ``TypeError``; an ``axis`` out of range raises ``ValueError``.
- **Two tables** (``p`` and ``q``) broadcast against each other by numpy's rules on every axis
  but ``axis``, along which their lengths must be equal (no stretching of a length-1 axis into a
  uniform distribution): ``kl_divergence(batch_of_rows, one_reference_row)`` compares every row
  with the reference. ``axis`` counts in the broadcast shape (a negative ``axis`` means the same
  axis in both). If their float dtypes differ, both are read as float64.
- **Units.** ``base=None`` gives nats, ``base=2`` bits (any ``base > 0, != 1``).
- **Backends.** ``backend="auto"`` runs the C++ kernels (through the Cython module
  ``infokit._cypmf``) when built, else their numpy twins; ``"cpp"`` or ``"numpy"`` forces one.
- **Threads.** Distributions are shared out among ``infokit.get_num_threads()`` threads once a
  table holds enough entries; each distribution is summed by one thread in a fixed order, so the
  results are identical for any thread count.

References: C. E. Shannon (1948), "A mathematical theory of communication", Bell Syst. Tech. J.
27; T. M. Cover and J. A. Thomas (2006), *Elements of Information Theory*, 2nd ed., Wiley.
"""

from __future__ import annotations

import math
import numbers
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _backend
from ._reference import pmf as _ref
from ._threads import get_num_threads
from ._validation import check_base, to_base

__all__ = [
    "cross_entropy",
    "entropy",
    "js_divergence",
    "kl_divergence",
    "mutual_information",
    "renyi_entropy",
    "tsallis_entropy",
]

Result = float | npt.NDArray[np.float64]


# --- argument handling -------------------------------------------------------------------------


def _kernels(backend: str) -> ModuleType:
    if _backend.resolve(backend) == "cpp":
        module = _backend.compiled("_cypmf")
        assert module is not None  # resolve() said the build is there
        return module
    return _ref


def _as_real_array(x: Any, name: str) -> np.ndarray:
    """``x`` as an ndarray of float32 or float64 (other reals converted to float64)."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of probabilities or counts: {exc}") from None
    if a.dtype.kind in "biu" or (a.dtype.kind == "f" and a.dtype not in (np.float32, np.float64)):
        a = a.astype(np.float64)
    elif a.dtype.kind != "f":
        raise TypeError(
            f"{name} must hold real numbers (probabilities or counts), got dtype {a.dtype}"
        )
    if a.ndim == 0:
        raise ValueError(f"{name} must have at least one axis holding a distribution, got a scalar")
    return a


def _check_axis(axis: Any, ndim: int, name: str) -> int:
    """``axis`` as a non-negative index into ``ndim`` dimensions."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    index = int(axis)
    if not -ndim <= index < ndim:
        raise ValueError(f"axis {index} is out of range for {name} with {ndim} dimension(s)")
    return index % ndim


def _check_values(table: np.ndarray, name: str, along: str) -> None:
    """Reject NaN/inf, negative entries and zero totals in a 2-D table of distributions (rows).

    One pass for the totals (a NaN or inf anywhere makes its row's total non-finite) and one for
    the minimum; the entries are scanned again only to explain a non-finite total.
    """
    if table.size == 0:
        return
    totals = table.sum(axis=1, dtype=np.float64)
    finite = np.isfinite(totals)
    if not finite.all() and not np.isfinite(table).all():
        raise ValueError(f"{name} contains NaN or inf; probabilities and counts must be finite")
    low = table.min()
    if low < 0:
        raise ValueError(f"{name} has negative entries (min {low}); probabilities must be >= 0")
    if not finite.all():
        raise ValueError(
            f"{name} has distributions whose total overflows float64 {along}; rescale the counts"
        )
    zero = int(np.count_nonzero(totals == 0))
    if zero:
        raise ValueError(
            f"{name} has {zero} distribution(s) summing to 0 {along}; each needs a positive total"
        )


def _rows(a: np.ndarray, axis: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(a with ``axis`` moved last, the same as a C-contiguous 2-D table); copies only if needed."""
    m = a.shape[axis]
    if m == 0:
        raise ValueError(
            f"{name} has no outcomes along axis {axis} (shape {a.shape}); a distribution needs one"
        )
    moved = np.moveaxis(a, axis, -1)
    table = np.ascontiguousarray(moved).reshape(-1, m)
    _check_values(table, name, f"along axis {axis}")
    return moved, table


def _one(p: Any, axis: Any, name: str = "p") -> tuple[np.ndarray, tuple[int, ...]]:
    """A validated 2-D table of the distributions of ``p`` and the shape of the batch."""
    a = _as_real_array(p, name)
    moved, table = _rows(a, _check_axis(axis, a.ndim, name), name)
    return table, moved.shape[:-1]


def _pair(p: Any, q: Any, axis: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Validated same-shape 2-D tables of p and q (broadcast off ``axis``), and the batch shape."""
    a, b = _as_real_array(p, "p"), _as_real_array(q, "q")
    ndim = max(a.ndim, b.ndim)
    ax = _check_axis(axis, ndim, "p and q")
    # Align as numpy broadcasting does: missing leading axes have length 1.
    a = a.reshape((1,) * (ndim - a.ndim) + a.shape)
    b = b.reshape((1,) * (ndim - b.ndim) + b.shape)
    if a.shape[ax] != b.shape[ax]:
        raise ValueError(
            f"p and q must have the same number of outcomes along axis {axis}, got "
            f"{a.shape[ax]} and {b.shape[ax]} (shapes {np.shape(p)} and {np.shape(q)})"
        )
    try:
        batch = np.broadcast_shapes(
            a.shape[:ax] + a.shape[ax + 1 :], b.shape[:ax] + b.shape[ax + 1 :]
        )
    except ValueError:
        raise ValueError(
            f"p and q must broadcast together off axis {axis}, got shapes "
            f"{np.shape(p)} and {np.shape(q)}"
        ) from None
    (pm, pt), (qm, qt) = _rows(a, ax, "p"), _rows(b, ax, "q")
    if pt.dtype != qt.dtype:  # one kernel instantiation reads both: use the wider type
        pt, qt = pt.astype(np.float64), qt.astype(np.float64)
        pm, qm = pt.reshape(pm.shape), qt.reshape(qm.shape)
    return _spread(pm, pt, batch), _spread(qm, qt, batch), batch


def _spread(moved: np.ndarray, table: np.ndarray, batch: tuple[int, ...]) -> np.ndarray:
    """The 2-D table of ``moved`` broadcast to ``batch`` (the table itself when no broadcast)."""
    if moved.shape[:-1] == batch:
        return table
    full = np.broadcast_to(moved, (*batch, moved.shape[-1]))
    return np.ascontiguousarray(full).reshape(-1, moved.shape[-1])


def _check_order(value: Any, name: str) -> float:
    """An order (alpha, q): a real number >= 0, inf allowed."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number >= 0, got {type(value).__name__}")
    v = float(value)
    if math.isnan(v) or v < 0:
        raise ValueError(f"{name} must be >= 0 (inf allowed), got {value!r}")
    return v


def _finish(values: np.ndarray, batch: tuple[int, ...], base: float | None) -> Result:
    """Values in units of ``base``: a float for one distribution, else an array of ``batch``."""
    out = np.asarray(to_base(values, base), dtype=np.float64)
    if batch == ():
        return float(out[0])
    return out.reshape(batch)


# --- the measures ------------------------------------------------------------------------------


def entropy(
    p: npt.ArrayLike, base: float | None = None, axis: int = -1, *, backend: str = "auto"
) -> Result:
    r"""Shannon entropy of each distribution along ``axis``.

    .. math:: H(p) = -\sum_i p_i \log p_i, \qquad 0 \log 0 = 0.

    Parameters
    ----------
    p : array_like
        Probabilities or non-negative counts; each distribution lies along ``axis`` and is
        normalised to sum to 1.
    base : float, optional
        Logarithm base: None for nats (default), 2 for bits.
    axis : int
        The axis holding the outcomes (default: the last).
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.

    Returns
    -------
    float or ndarray
        ``0 <= H <= log m`` for m outcomes; a float for 1-D ``p``.

    Notes
    -----
    Cost: O(size of p), one logarithm per positive entry. Equals ``scipy.stats.entropy(p,
    base=base, axis=axis)``. Reference: Shannon (1948); Cover and Thomas (2006), ch. 2.
    """
    b = check_base(base)
    table, batch = _one(p, axis)
    return _finish(_kernels(backend).entropy(table, n_threads=get_num_threads()), batch, b)


def cross_entropy(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    base: float | None = None,
    axis: int = -1,
    *,
    backend: str = "auto",
) -> Result:
    r"""Cross-entropy of ``q`` relative to ``p`` for each pair of distributions along ``axis``.

    .. math:: H(p, q) = -\sum_i p_i \log q_i = H(p) + D_{KL}(p \,\|\, q).

    Terms with ``p_i = 0`` contribute 0; any ``p_i > 0`` with ``q_i = 0`` makes it ``inf``.

    Parameters
    ----------
    p, q : array_like
        Probabilities or non-negative counts, each distribution normalised along ``axis``. They
        broadcast against each other on the other axes; along ``axis`` their lengths must match.
    base : float, optional
        Logarithm base: None for nats (default), 2 for bits.
    axis : int
        The axis holding the outcomes (default: the last).
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.

    Returns
    -------
    float or ndarray
        ``H(p, q) >= H(p)``; a float when both inputs are 1-D.

    Notes
    -----
    Cost: O(size of the broadcast tables), one logarithm per positive ``p`` entry. The expected
    code length (in ``base`` units) when coding samples of ``p`` with a code built for ``q``.
    Reference: Cover and Thomas (2006), sec. 5.4.
    """
    b = check_base(base)
    tp, tq, batch = _pair(p, q, axis)
    return _finish(_kernels(backend).cross_entropy(tp, tq, n_threads=get_num_threads()), batch, b)


def kl_divergence(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    base: float | None = None,
    axis: int = -1,
    *,
    backend: str = "auto",
) -> Result:
    r"""Kullback–Leibler divergence of ``q`` from ``p`` for each pair along ``axis``.

    .. math:: D_{KL}(p \,\|\, q) = \sum_i p_i \log \frac{p_i}{q_i}.

    Terms with ``p_i = 0`` contribute 0; any ``p_i > 0`` with ``q_i = 0`` makes it ``inf``.
    The result is clamped at 0 so that rounding never makes it negative (Gibbs' inequality).

    Parameters
    ----------
    p, q : array_like
        Probabilities or non-negative counts, each distribution normalised along ``axis``. They
        broadcast against each other on the other axes; along ``axis`` their lengths must match.
    base : float, optional
        Logarithm base: None for nats (default), 2 for bits.
    axis : int
        The axis holding the outcomes (default: the last).
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.

    Returns
    -------
    float or ndarray
        ``D >= 0``, 0 exactly when the normalised ``p`` and ``q`` are equal; not symmetric.

    Notes
    -----
    Cost: O(size of the broadcast tables), two logarithms per positive ``p`` entry. Equals
    ``scipy.stats.entropy(p, q, base=base, axis=axis)``. Reference: S. Kullback and R. A. Leibler
    (1951), "On information and sufficiency", Ann. Math. Statist. 22(1).
    """
    b = check_base(base)
    tp, tq, batch = _pair(p, q, axis)
    return _finish(_kernels(backend).kl_divergence(tp, tq, n_threads=get_num_threads()), batch, b)


def js_divergence(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    base: float | None = None,
    axis: int = -1,
    *,
    backend: str = "auto",
) -> Result:
    r"""Jensen–Shannon divergence of each pair of distributions along ``axis``.

    .. math::
        JS(p, q) = \tfrac12 D_{KL}(p \,\|\, m) + \tfrac12 D_{KL}(q \,\|\, m),
        \qquad m = \tfrac12 (p + q).

    This is the divergence, not the Jensen–Shannon *distance* ``sqrt(JS)`` that
    :func:`scipy.spatial.distance.jensenshannon` returns: ``js_divergence(p, q) ==
    jensenshannon(p, q) ** 2``. It is symmetric, always finite, and lies in ``[0, log 2]``
    (``[0, 1]`` in bits); the result is clamped there against rounding.

    Parameters
    ----------
    p, q : array_like
        Probabilities or non-negative counts, each distribution normalised along ``axis``. They
        broadcast against each other on the other axes; along ``axis`` their lengths must match.
    base : float, optional
        Logarithm base: None for nats (default), 2 for bits.
    axis : int
        The axis holding the outcomes (default: the last).
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.

    Returns
    -------
    float or ndarray
        ``0 <= JS <= log 2``; a float when both inputs are 1-D.

    Notes
    -----
    Cost: O(size of the broadcast tables), two logarithms per entry. Reference: J. Lin (1991),
    "Divergence measures based on the Shannon entropy", IEEE Trans. Inf. Theory 37(1).
    """
    b = check_base(base)
    tp, tq, batch = _pair(p, q, axis)
    return _finish(_kernels(backend).js_divergence(tp, tq, n_threads=get_num_threads()), batch, b)


def renyi_entropy(
    p: npt.ArrayLike,
    alpha: float,
    base: float | None = None,
    axis: int = -1,
    *,
    backend: str = "auto",
) -> Result:
    r"""Rényi entropy of order ``alpha`` of each distribution along ``axis``.

    .. math:: H_\alpha(p) = \frac{1}{1 - \alpha} \log \sum_i p_i^\alpha.

    With its limits: ``alpha = 0`` gives the log of the support size (Hartley entropy),
    ``alpha = 1`` the Shannon entropy, ``alpha = 2`` the collision entropy ``-log sum p^2``, and
    ``alpha = inf`` the min-entropy ``-log max p``. ``H_alpha`` does not increase with ``alpha``.

    Parameters
    ----------
    p : array_like
        Probabilities or non-negative counts; each distribution lies along ``axis`` and is
        normalised to sum to 1.
    alpha : float
        The order, ``>= 0``; ``float("inf")`` allowed.
    base : float, optional
        Logarithm base: None for nats (default), 2 for bits.
    axis : int
        The axis holding the outcomes (default: the last).
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.

    Returns
    -------
    float or ndarray
        ``0 <= H_alpha <= log m``; equal to ``log m`` for every ``alpha`` on a uniform ``p``.

    Notes
    -----
    Cost: O(size of p), one or two transcendental calls per positive entry. Near ``alpha = 1``
    the sum is formed as ``log1p(sum p (p^(alpha-1) - 1))`` with ``expm1``, so the value tends
    smoothly to the Shannon entropy; elsewhere as a log-sum-exp around the largest entry, so no
    order overflows. Reference: A. Rényi (1961), "On measures of entropy and information", Proc.
    4th Berkeley Symp. Math. Statist. Prob., vol. 1.
    """
    order = _check_order(alpha, "alpha")
    b = check_base(base)
    table, batch = _one(p, axis)
    values = _kernels(backend).renyi_entropy(table, order, n_threads=get_num_threads())
    return _finish(values, batch, b)


def tsallis_entropy(p: npt.ArrayLike, q: float, axis: int = -1, *, backend: str = "auto") -> Result:
    r"""Tsallis entropy of order ``q`` of each distribution along ``axis``.

    .. math:: S_q(p) = \frac{1 - \sum_i p_i^q}{q - 1}.

    With its limits: ``q = 1`` gives the Shannon entropy in nats, ``q = 0`` the support size
    minus 1, ``q = 2`` the Gini–Simpson index ``1 - sum p^2``, and ``q = inf`` gives 0.

    There is no ``base`` argument: ``S_q`` is not a logarithm, so it has no unit to change.
    Dividing by ``log b`` would rescale the whole family, not convert it to another base (only the
    ``q = 1`` member is in nats). Use ``tsallis_entropy(p, 1.0) / log(b)`` for that one case, or
    :func:`renyi_entropy`, which is the logarithmic counterpart
    (``H_q = log(1 + (1 - q) S_q) / (1 - q)``).

    Parameters
    ----------
    p : array_like
        Probabilities or non-negative counts; each distribution lies along ``axis`` and is
        normalised to sum to 1.
    q : float
        The order (entropic index), ``>= 0``; ``float("inf")`` allowed.
    axis : int
        The axis holding the outcomes (default: the last).
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.

    Returns
    -------
    float or ndarray
        ``0 <= S_q <= (1 - m^(1-q)) / (q - 1)`` (the uniform value) for m outcomes.

    Notes
    -----
    Cost: O(size of p), two transcendental calls per positive entry. The sum ``sum p^q - 1`` is
    accumulated as ``sum p (p^(q-1) - 1)`` with ``expm1``, so ``S_q`` tends smoothly to the
    Shannon entropy as ``q -> 1``. Reference: C. Tsallis (1988), "Possible generalization of
    Boltzmann-Gibbs statistics", J. Stat. Phys. 52.
    """
    order = _check_order(q, "q")
    table, batch = _one(p, axis)
    values = _kernels(backend).tsallis_entropy(table, order, n_threads=get_num_threads())
    return _finish(values, batch, None)


def mutual_information(
    joint: npt.ArrayLike, base: float | None = None, *, backend: str = "auto"
) -> Result:
    r"""Mutual information of the two variables of a joint probability table.

    .. math::
        I(X; Y) = \sum_{x, y} p(x, y) \log \frac{p(x, y)}{p(x)\, p(y)}
                = H(X) + H(Y) - H(X, Y).

    Parameters
    ----------
    joint : array_like
        A table ``(nx, ny)`` of joint probabilities or non-negative counts (a contingency table),
        normalised over both axes; or a stack ``(..., nx, ny)`` of such tables, each handled on
        its own. ``X`` indexes rows, ``Y`` columns; cells with ``p(x, y) = 0`` contribute 0.
    base : float, optional
        Logarithm base: None for nats (default), 2 for bits.
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.

    Returns
    -------
    float or ndarray
        ``0 <= I <= min(H(X), H(Y))`` (clamped at 0 against rounding); a float for one 2-D table,
        an array of the leading shape for a stack.

    Notes
    -----
    Cost: O(nx ny) per table, two passes and one logarithm per positive cell. Equals
    ``sklearn.metrics.mutual_info_score(None, None, contingency=joint)`` on counts. Reference:
    Cover and Thomas (2006), sec. 2.4.
    """
    b = check_base(base)
    a = _as_real_array(joint, "joint")
    if a.ndim < 2:
        raise ValueError(
            "joint must be a 2-D table (nx, ny) of joint probabilities or counts, or a stack "
            f"(..., nx, ny) of them; got shape {a.shape}"
        )
    nx, ny = a.shape[-2:]
    if nx == 0 or ny == 0:
        raise ValueError(f"joint has shape {a.shape}: each table needs at least one row and column")
    table = np.ascontiguousarray(a).reshape(-1, nx * ny)
    _check_values(table, "joint", "over its last two axes")
    values = _kernels(backend).mutual_information(
        table.reshape(-1, nx, ny), n_threads=get_num_threads()
    )
    return _finish(values, a.shape[:-2], b)
