"""Partial information decomposition (PID) of two sources about a target.

Williams and Beer split the information two sources carry about a target,

.. math::
    I(T; S_1, S_2) = R + U_1 + U_2 + S,
    \\qquad I(T; S_1) = R + U_1, \\qquad I(T; S_2) = R + U_2,

into redundancy ``R``, unique information ``U_1``, ``U_2`` and synergy ``S``. Any one of the
four fixes the others; the measures differ in how they define it:

- ``"broja"`` (Bertschinger, Rauh, Olbrich, Jost, Ay 2014): ``U_1 = min_q I_q(T; S_1 | S_2)`` over
  the tables ``q`` with the same ``(s_1, t)`` and ``(s_2, t)`` marginals as ``p``; solved here by a
  log-barrier Newton method written for this problem (``infokit/structure/broja.hpp``),
  deterministic, with a bound on the error reported as ``tolerance``.
- ``"imin"`` (Williams and Beer 2010): ``R = sum_t p(t) min_i I(T = t; S_i)`` with the specific
  information ``I(T = t; S_i) = sum_s p(s | t) log(p(t | s) / p(t))``.
- ``"mmi"`` (minimum mutual information, Barrett 2015): ``R = min_i I(T; S_i)``.
- ``"ccs"`` (Ince 2017, common change in surprisal): ``R`` is the expectation, under the maximum
  entropy table with the ``(s_1, s_2)``, ``(s_1, t)`` and ``(s_2, t)`` marginals of ``p``, of the
  pointwise co-information where it agrees in sign with the pointwise ``i(s_1; t)``,
  ``i(s_2; t)`` and ``i(s_1 s_2; t)``. The maximum entropy table comes from iterative
  proportional fitting; ``tolerance`` then reports its largest marginal mismatch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _backend, _counts, pmf
from ._reference import structure as _ref
from ._threads import get_num_threads
from ._validation import as_labels, check_base, check_choice, check_same_length, to_base

__all__ = ["MEASURES", "PIDResult", "decompose", "from_samples"]

MEASURES = ("broja", "imin", "mmi", "ccs")

Value = float | npt.NDArray[np.float64]


@dataclass(frozen=True)
class PIDResult:
    """The four atoms of a two-source PID, in the units of ``base`` (floats for one table, arrays
    of the batch shape for a stack).

    ``redundancy + unique_1 + unique_2 + synergy == mutual_information`` to rounding.
    ``tolerance`` bounds the error of every atom for ``"broja"`` (barrier gap; ``inf`` if the
    solver stopped off the central path and so certifies nothing), is 0 for the
    closed forms ``"imin"`` and ``"mmi"``, and is the largest marginal mismatch of the maximum
    entropy table for ``"ccs"``.
    """

    redundancy: Value
    unique_1: Value
    unique_2: Value
    synergy: Value
    mutual_information: Value
    tolerance: Value
    measure: str
    base: float | None


def _kernels(backend: str) -> ModuleType:
    if _backend.resolve(backend) == "cpp":
        core = _backend.compiled("_core")
        assert core is not None  # resolve() said the build is there
        return core
    return _ref


def _check_joint(joint: Any) -> np.ndarray:
    """A stack (..., n1, n2, nt) of probability tables as float64, each summing to 1."""
    try:
        a = np.asarray(joint)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"joint must be an array of probabilities: {exc}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"joint must hold real probabilities, got dtype {a.dtype}")
    if a.ndim < 3:
        raise ValueError(
            "joint must be a table (n1, n2, nt) over source 1, source 2 and the target, or a "
            f"stack (..., n1, n2, nt) of them; got shape {a.shape}"
        )
    if 0 in a.shape[-3:]:
        raise ValueError(f"joint has shape {a.shape}: every axis of a table needs an entry")
    # float32 tables carry ~1e-7 of rounding in their sums.
    slack = 1e-6 if a.dtype == np.float32 else 1e-9
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError("joint contains NaN or inf; expected probabilities")
    if (a < 0).any():
        raise ValueError(f"joint has negative entries (min {a.min():.3g}); expected probabilities")
    sums = a.reshape(*a.shape[:-3], -1).sum(axis=-1)
    bad = np.abs(sums - 1.0) > slack
    if np.any(bad):
        worst = float(np.ravel(sums)[np.argmax(np.ravel(np.abs(sums - 1.0)))])
        raise ValueError(
            "joint is not a distribution: each (n1, n2, nt) table must sum to 1, "
            f"found a sum of {worst!r}"
        )
    return np.ascontiguousarray(a)


def _mi(table: np.ndarray, backend: str) -> np.ndarray:
    """I(X; Y) in nats of each (..., nx, ny) table, as an array."""
    return np.asarray(pmf.mutual_information(table, backend=backend), dtype=np.float64)


def _specific_information(pst: np.ndarray) -> np.ndarray:
    """I(T = t; S) = sum_s p(s | t) log(p(s, t) / (p(s) p(t))) for tables (B, ns, nt)."""
    ps = pst.sum(axis=2, keepdims=True)
    pt = pst.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pst > 0, pst / (ps * pt), 1.0)
        terms = np.where(pst > 0, pst * np.log(ratio), 0.0)
        return np.where(pt[:, 0, :] > 0, terms.sum(axis=1) / pt[:, 0, :], 0.0)


def _maxent_pairwise(p: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Maximum entropy tables (B, n1, n2, nt) with the three pairwise marginals of p, by iterative
    proportional fitting from the uniform table (Csiszar 1975); and each one's mismatch."""
    m12 = p.sum(axis=3, keepdims=True)
    m1t = p.sum(axis=2, keepdims=True)
    m2t = p.sum(axis=1, keepdims=True)
    q = np.ones_like(p) / p[0].size
    mismatch = np.full(p.shape[0], np.inf)

    def fit(q: np.ndarray, target: np.ndarray, axis: int) -> np.ndarray:
        s = q.sum(axis=axis, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(s > 0, q * (target / np.where(s > 0, s, 1.0)), 0.0)

    for sweep in range(max_iter):
        q = fit(fit(fit(q, m12, 3), m1t, 2), m2t, 1)
        if sweep % 16 != 15 and sweep != max_iter - 1:
            continue  # checking costs as much as a sweep
        mismatch = np.maximum(
            np.abs(q.sum(axis=3, keepdims=True) - m12).max(axis=(1, 2, 3)),
            np.abs(q.sum(axis=2, keepdims=True) - m1t).max(axis=(1, 2, 3)),
        )
        if mismatch.max() <= tol:
            break
    return q, mismatch


def _ccs_redundancy(p: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    q, mismatch = _maxent_pairwise(p, tol, max_iter)
    q1 = q.sum(axis=(2, 3), keepdims=True)
    q2 = q.sum(axis=(1, 3), keepdims=True)
    qt = q.sum(axis=(1, 2), keepdims=True)
    q12 = q.sum(axis=3, keepdims=True)
    q1t = q.sum(axis=2, keepdims=True)
    q2t = q.sum(axis=1, keepdims=True)
    live = q > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(live, q, 1.0)
        i1 = np.where(live, np.log(q1t / (q1 * qt)), 0.0)
        i2 = np.where(live, np.log(q2t / (q2 * qt)), 0.0)
        i12 = np.where(live, np.log(safe / (q12 * qt)), 0.0)
    coinfo = i1 + i2 - i12

    # Values within rounding of 0 count as 0 (their sign is noise), as in Ince's definition.
    def sign(x: np.ndarray) -> np.ndarray:
        return np.where(np.abs(x) <= 1e-10, 0.0, np.sign(x))

    agree = (sign(coinfo) == sign(i1)) & (sign(coinfo) == sign(i2)) & (sign(coinfo) == sign(i12))
    red = np.where(live & agree, q * np.where(np.abs(coinfo) <= 1e-10, 0.0, coinfo), 0.0)
    return red.sum(axis=(1, 2, 3)), mismatch


def _finish(values: np.ndarray, batch: tuple[int, ...], base: float | None) -> Value:
    out = to_base(values.reshape(batch), base)
    return float(out) if batch == () else np.asarray(out, dtype=np.float64)


def decompose(
    joint: npt.ArrayLike,
    *,
    measure: str = "broja",
    base: float | None = None,
    tol: float = 1e-10,
    backend: str = "auto",
) -> PIDResult:
    """Partial information decomposition of I(T; S1, S2) for a joint table p(s1, s2, t).

    Parameters
    ----------
    joint : array_like
        Probabilities ``(n1, n2, nt)`` over source 1, source 2 and the target (each table summing
        to 1), or a stack ``(..., n1, n2, nt)`` of such tables, each decomposed on its own.
    measure : {"broja", "imin", "mmi", "ccs"}
        The redundancy/unique-information measure (see the module docstring for formulas).
    base : float, optional
        Logarithm base: None for nats (default), 2 for bits.
    tol : float
        For ``"broja"``: the target gap bound, in nats, of the barrier method (default 1e-10);
        below ~1e-11 rounding may stop it earlier, and ``tolerance`` reports what was certified.
        For ``"ccs"``: the marginal mismatch at which iterative proportional fitting stops.
    backend : {"auto", "cpp", "numpy"}
        The compiled BROJA kernel or its numpy twin.

    Returns
    -------
    PIDResult
        Redundancy, the two unique informations, synergy, I(T; S1, S2) and the tolerance, as
        floats for one table and arrays of the leading shape for a stack.

    Notes
    -----
    Cost: ``"mmi"`` and ``"imin"`` are O(n1 n2 nt) per table. ``"broja"`` is O(k^3) per Newton
    step with ``k = sum_t (|S1_t| - 1)(|S2_t| - 1)`` free directions, typically 30-100 steps
    (a 4x4x2 table takes well under a millisecond, an 8x8x4 table tens of milliseconds); tables
    are shared among ``infokit.get_num_threads()`` threads. ``"ccs"`` runs iterative
    proportional fitting to ``tol`` (at most 20000 sweeps), which converges slowly when the
    maximum entropy table has zeros that the marginals do not force.

    References: P. L. Williams and R. D. Beer (2010), "Nonnegative decomposition of multivariate
    information", arXiv:1004.2515; N. Bertschinger et al. (2014), "Quantifying unique
    information", Entropy 16; A. B. Barrett (2015), Phys. Rev. E 91; R. A. A. Ince (2017),
    "Measuring multivariate redundant information with pointwise common change in surprisal",
    Entropy 19; S. Boyd and L. Vandenberghe (2004), *Convex Optimization*, ch. 11.
    """
    check_choice(measure, "measure", MEASURES)
    b = check_base(base)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1:
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    a = _check_joint(joint)
    batch = a.shape[:-3]
    n1, n2, nt = a.shape[-3:]
    p = a.reshape(-1, n1, n2, nt)
    i1 = _mi(p.sum(axis=2), backend)
    i2 = _mi(p.sum(axis=1), backend)
    i12 = _mi(p.reshape(-1, n1 * n2, nt), backend)
    tolerance = np.zeros(p.shape[0])
    if measure == "broja":
        q, gaps, _ = _kernels(backend).broja_solve(p, float(tol), 10_000, get_num_threads())
        iq = _mi(q.reshape(-1, n1 * n2, nt), backend)
        # At the optimum: I_q(T; S1) = I(T; S1) and I_q(T; S2) = I(T; S2) (fixed marginals).
        unique_1, unique_2 = iq - i2, iq - i1
        redundancy = i1 + i2 - iq
        tolerance = gaps
    else:
        if measure == "mmi":
            redundancy = np.minimum(i1, i2)
        elif measure == "imin":
            pt = p.sum(axis=(1, 2))
            spec = np.minimum(
                _specific_information(p.sum(axis=2)), _specific_information(p.sum(axis=1))
            )
            redundancy = (pt * spec).sum(axis=1)
        else:
            redundancy, tolerance = _ccs_redundancy(p, float(tol), 20_000)
        unique_1, unique_2 = i1 - redundancy, i2 - redundancy
    synergy = i12 - redundancy - unique_1 - unique_2
    return PIDResult(
        redundancy=_finish(redundancy, batch, b),
        unique_1=_finish(unique_1, batch, b),
        unique_2=_finish(unique_2, batch, b),
        synergy=_finish(synergy, batch, b),
        mutual_information=_finish(i12, batch, b),
        # A barrier gap is in nats; a marginal mismatch (ccs) is a probability.
        tolerance=_finish(tolerance, batch, b if measure == "broja" else None),
        measure=measure,
        base=b,
    )


def from_samples(
    source_1: Any,
    source_2: Any,
    target: Any,
    *,
    measure: str = "broja",
    base: float | None = None,
    tol: float = 1e-10,
    backend: str = "auto",
) -> PIDResult:
    """PID of the plug-in joint distribution of paired discrete samples.

    Each argument is a 1-D array of labels (or 2-D, one joint symbol per row), as accepted by
    :mod:`infokit.discrete`; the three must have the same number of samples. The table of
    relative frequencies is decomposed by :func:`decompose` (same ``measure``, ``base``, ``tol``,
    ``backend``). Cost: one counting pass per variable plus the decomposition of an
    ``(n1, n2, nt)`` table of the observed symbols. Plug-in estimates are biased upwards for
    few samples per cell.
    """
    named = {"source_1": source_1, "source_2": source_2, "target": target}
    arrays = {name: as_labels(value, name) for name, value in named.items()}
    n = check_same_length(arrays)
    coded = [_counts.codes(v, backend) for v in arrays.values()]
    sizes = [len(counts) for _, counts in coded]
    flat = (coded[0][0] * sizes[1] + coded[1][0]) * sizes[2] + coded[2][0]
    table = np.bincount(flat, minlength=math.prod(sizes)).reshape(sizes) / float(n)
    return decompose(table, measure=measure, base=base, tol=tol, backend=backend)
