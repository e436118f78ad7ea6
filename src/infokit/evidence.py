"""Dempster-Shafer evidence theory on a frame of discernment of n elements.

A mass function assigns ``m(A) >= 0`` to subsets ``A`` of the frame, summing to 1. Subsets are
bitsets: element ``i`` is bit ``i``, so ``0b101`` is ``{0, 2}`` and ``0`` the empty set. Two
representations:

- **dense**: a float array of length ``2^n`` indexed by the bitset (any leading axes hold
  several mass functions at once); the fast path, through the O(n 2^n) zeta/Moebius transforms
  (Kennes 1992), for frames of up to 30 elements.
- **sparse**: :class:`MassFunction`, the focal sets as ``uint64`` bitsets with their masses, for
  frames of up to 64 elements (larger frames are not supported).

From a mass function: belief ``bel(A) = sum_{0 != B subset A} m(B)``, plausibility
``pl(A) = sum_{B cap A != 0} m(B)``, commonality ``q(A) = sum_{B superset A} m(B)`` and the
pignistic probability ``BetP(x) = sum_{A ni x} m(A) / (|A| (1 - m(0)))`` (Smets). Combination
rules (:func:`combine`) all report the conflict ``K = sum over tuples with empty intersection of
the product of their masses`` (K itself, not -log(1 - K)).

Reference: G. Shafer (1976), *A Mathematical Theory of Evidence*, Princeton; R. Kennes (1992),
"Computational aspects of the Moebius transformation of graphs", IEEE SMC 22; serves P34
(evidence fusion of several knowledge sources).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from . import _backend
from ._reference import structure as _ref
from ._threads import get_num_threads
from ._validation import check_choice

__all__ = [
    "RULES",
    "Combination",
    "MassFunction",
    "belief",
    "combine",
    "commonality",
    "discount",
    "mass_function",
    "mobius",
    "pignistic",
    "plausibility",
    "zeta",
]

RULES = ("dempster", "yager", "dubois_prade", "pcr6")
MAX_DENSE_FRAME = 30
MAX_FRAME = 64
MAX_TUPLES = 10_000_000
_RULE_CODE = {"dubois_prade": 1, "pcr6": 2}


@dataclass(frozen=True)
class MassFunction:
    """A sparse mass function: ``mass[j]`` on the focal set ``focal[j]`` (a ``uint64`` bitset) of
    a frame of ``frame_size <= 64`` elements; focal sets ascending and distinct."""

    focal: npt.NDArray[np.uint64]
    mass: npt.NDArray[np.float64]
    frame_size: int

    def dense(self) -> npt.NDArray[np.float64]:
        """The ``2^frame_size`` dense vector (frames of up to 30 elements)."""
        if self.frame_size > MAX_DENSE_FRAME:
            raise ValueError(
                f"a dense mass vector needs frame_size <= {MAX_DENSE_FRAME}, "
                f"this frame has {self.frame_size} elements"
            )
        out = np.zeros(1 << self.frame_size)
        np.add.at(out, self.focal.astype(np.int64), self.mass)
        return out


@dataclass(frozen=True)
class Combination:
    """The combined mass (dense array or :class:`MassFunction`, as the inputs were) and the
    conflict ``K`` between the sources."""

    mass: npt.NDArray[np.float64] | MassFunction
    conflict: float


Mass = Union[npt.NDArray[np.float64], MassFunction]  # noqa: UP007 (a runtime alias)


def _kernels(backend: str) -> ModuleType:
    if _backend.resolve(backend) == "cpp":
        core = _backend.compiled("_core")
        assert core is not None  # resolve() said the build is there
        return core
    return _ref


# --- validation ---------------------------------------------------------------------------------


def _check_frame_size(frame_size: Any) -> int:
    if isinstance(frame_size, bool) or not isinstance(frame_size, (int, np.integer)):
        raise TypeError(f"frame_size must be an int, got {type(frame_size).__name__}")
    if frame_size < 1:
        raise ValueError(f"frame_size must be >= 1, got {frame_size}")
    if frame_size > MAX_FRAME:
        raise ValueError(
            f"frame_size must be <= {MAX_FRAME} (subsets are 64-bit bitsets), got {frame_size}; "
            "larger frames are not supported"
        )
    return int(frame_size)


def _check_masses(m: np.ndarray, name: str, slack: float = 1e-9) -> None:
    if not np.isfinite(m).all():
        raise ValueError(f"{name} contains NaN or inf; expected masses")
    if (m < 0).any():
        raise ValueError(f"{name} has negative masses (min {m.min():.3g})")
    sums = m.sum(axis=-1)
    if np.any(np.abs(sums - 1.0) > slack):
        worst = float(np.ravel(sums)[np.argmax(np.ravel(np.abs(sums - 1.0)))])
        raise ValueError(f"{name} must sum to 1 over the subsets, found a sum of {worst!r}")


def _as_dense(values: Any, name: str, *, masses: bool) -> tuple[np.ndarray, int]:
    """A float64 (..., 2^n) array and n."""
    try:
        a = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array over the 2^n subsets: {exc}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim < 1:
        raise ValueError(f"{name} must have a last axis of length 2^n, got a scalar")
    size = a.shape[-1]
    if size < 2 or size & (size - 1):
        raise ValueError(
            f"{name} must have a last axis of length 2^n (one entry per subset of an n-element "
            f"frame, n >= 1), got length {size}"
        )
    n = size.bit_length() - 1
    if n > MAX_DENSE_FRAME:
        raise ValueError(
            f"{name} is over a frame of {n} elements; dense vectors take at most "
            f"{MAX_DENSE_FRAME}: use MassFunction"
        )
    slack = 1e-6 if a.dtype == np.float32 else 1e-9  # float32 sums carry ~1e-7 of rounding
    a = np.ascontiguousarray(a, dtype=np.float64)
    if masses:
        _check_masses(a, name, slack)
    elif not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf")
    return a, n


def _like(result: np.ndarray, values: Any) -> np.ndarray:
    """float32 in, float32 out (computed in float64); everything else stays float64."""
    if getattr(values, "dtype", None) == np.float32:
        return result.astype(np.float32)
    return result


def _bitset(subset: Any, frame_size: int, name: str) -> int:
    if isinstance(subset, (int, np.integer)) and not isinstance(subset, bool):
        value = int(subset)
        if value < 0 or value >> frame_size:
            raise ValueError(
                f"{name} = {value} is not a subset of a {frame_size}-element frame "
                f"(bitsets below 2^{frame_size})"
            )
        return value
    if isinstance(subset, Iterable) and not isinstance(subset, (str, bytes)):
        value = 0
        for e in subset:
            if isinstance(e, bool) or not isinstance(e, (int, np.integer)):
                raise TypeError(f"{name} must hold element indices (ints), got {e!r}")
            if not 0 <= e < frame_size:
                raise ValueError(f"{name} has element {e}, outside the frame 0..{frame_size - 1}")
            value |= 1 << int(e)
        return value
    raise TypeError(
        f"{name} must be a bitset (int) or an iterable of element indices, got {subset!r}"
    )


def mass_function(
    focal_sets: Iterable[Any], masses: npt.ArrayLike, frame_size: int
) -> MassFunction:
    """Build a sparse :class:`MassFunction`.

    Parameters
    ----------
    focal_sets : iterable
        One subset per mass: a bitset (int) or an iterable of element indices in
        ``0..frame_size-1``. Repeated sets have their masses added.
    masses : array_like
        Non-negative masses summing to 1.
    frame_size : int
        Number of elements of the frame, 1..64.
    """
    n = _check_frame_size(frame_size)
    sets = [_bitset(s, n, f"focal_sets[{i}]") for i, s in enumerate(focal_sets)]
    w = np.asarray(masses, dtype=np.float64).reshape(-1)
    if len(sets) != len(w):
        raise ValueError(f"focal_sets has {len(sets)} sets but masses has {len(w)} values")
    if len(w) == 0:
        raise ValueError("a mass function needs at least one focal set")
    _check_masses(w, "masses")
    return _from_pairs(np.asarray(sets, dtype=np.uint64), w, n)


def _from_pairs(focal: np.ndarray, mass: np.ndarray, n: int) -> MassFunction:
    keys, inverse = np.unique(focal, return_inverse=True)
    summed = np.bincount(inverse.reshape(-1), weights=mass, minlength=len(keys)).astype(np.float64)
    keep = summed > 0
    return MassFunction(focal=keys[keep], mass=summed[keep], frame_size=n)


# --- transforms ---------------------------------------------------------------------------------


def _transform(values: np.ndarray, superset: bool, inverse: bool, backend: str) -> np.ndarray:
    rows = values.reshape(-1, values.shape[-1])
    out = _kernels(backend).set_transform(rows, superset, inverse, get_num_threads())
    result: np.ndarray = out.reshape(values.shape)
    return result


def _check_kind(kind: str) -> bool:
    if kind not in ("subset", "superset"):
        raise ValueError(f"kind must be 'subset' or 'superset', got {kind!r}")
    return kind == "superset"


def zeta(
    values: npt.ArrayLike, *, kind: str = "subset", backend: str = "auto"
) -> npt.NDArray[np.float64]:
    """Zeta transform over the subsets: ``f(A) = sum_{B subset A} g(B)`` (``kind="subset"``) or
    ``sum_{B superset A} g(B)`` (``kind="superset"``), along the last axis of length 2^n.

    Cost O(n 2^n) per row (Kennes 1992; Yates' butterfly), rows shared among threads. The subset
    zeta of a mass function is its belief plus m(empty); the superset zeta its commonality.
    """
    superset = _check_kind(kind)
    a, _ = _as_dense(values, "values", masses=False)
    return _like(_transform(a, superset, False, backend), values)


def mobius(
    values: npt.ArrayLike, *, kind: str = "subset", backend: str = "auto"
) -> npt.NDArray[np.float64]:
    """Moebius transform, the inverse of :func:`zeta` of the same ``kind``:
    ``g(A) = sum_{B subset A} (-1)^{|A - B|} f(B)`` for ``kind="subset"``. Cost O(n 2^n) per row.
    """
    superset = _check_kind(kind)
    a, _ = _as_dense(values, "values", masses=False)
    return _like(_transform(a, superset, True, backend), values)


# --- belief functions ---------------------------------------------------------------------------


def _subsets(subsets: Any, n: int) -> np.ndarray:
    if subsets is None:
        raise ValueError("a MassFunction needs subsets=[...] to evaluate at (2^n is too many)")
    return np.asarray([_bitset(s, n, f"subsets[{i}]") for i, s in enumerate(subsets)], np.uint64)


def belief(m: Mass, subsets: Any = None, *, backend: str = "auto") -> npt.NDArray[np.float64]:
    """Belief ``bel(A) = sum_{0 != B subset A} m(B)``: for a dense mass, of every subset (same
    shape); for a :class:`MassFunction`, of each of ``subsets`` (bitsets or element lists).
    Cost O(n 2^n) dense, O(k |subsets|) sparse."""
    if isinstance(m, MassFunction):
        sets = _subsets(subsets, m.frame_size)
        inside = (m.focal[None, :] & ~sets[:, None]) == 0
        nonempty = m.focal[None, :] != 0
        result: np.ndarray = (inside & nonempty) @ m.mass
        return result
    a, _ = _as_dense(m, "m", masses=True)
    return _like(_transform(a, False, False, backend) - a[..., :1], m)


def plausibility(m: Mass, subsets: Any = None, *, backend: str = "auto") -> npt.NDArray[np.float64]:
    """Plausibility ``pl(A) = sum_{B cap A != 0} m(B) = 1 - bel(not A) - m(0)``; shapes as for
    :func:`belief`."""
    if isinstance(m, MassFunction):
        sets = _subsets(subsets, m.frame_size)
        meets = (m.focal[None, :] & sets[:, None]) != 0
        result: np.ndarray = meets @ m.mass
        return result
    a, _ = _as_dense(m, "m", masses=True)
    below = _transform(a, False, False, backend)  # sum over B subset A, the empty set included
    pl = a.sum(axis=-1, keepdims=True) - below[..., ::-1]  # index of the complement: reversed
    pl[..., 0] = 0.0  # pl(empty) = 0 exactly, not a rounding residue
    return _like(pl, m)


def commonality(m: Mass, subsets: Any = None, *, backend: str = "auto") -> npt.NDArray[np.float64]:
    """Commonality ``q(A) = sum_{B superset A} m(B)``; shapes as for :func:`belief`."""
    if isinstance(m, MassFunction):
        sets = _subsets(subsets, m.frame_size)
        contains = (m.focal[None, :] & sets[:, None]) == sets[:, None]
        result: np.ndarray = contains @ m.mass
        return result
    a, _ = _as_dense(m, "m", masses=True)
    return _like(_transform(a, True, False, backend), m)


def _popcount(x: np.ndarray) -> np.ndarray:
    counts = np.zeros(x.shape, dtype=np.int64)
    v = x.astype(np.uint64)
    while np.any(v):
        counts += (v & np.uint64(1)).astype(np.int64)
        v = v >> np.uint64(1)
    return counts


def pignistic(m: Mass) -> npt.NDArray[np.float64]:
    """Pignistic probability ``BetP(x) = sum_{A ni x} m(A) / (|A| (1 - m(0)))`` of each element
    (Smets and Kennes 1994): shape ``(..., n)`` for a dense mass, ``(n,)`` for a MassFunction.
    Raises ValueError when m(0) = 1 (no mass on any non-empty set)."""
    if isinstance(m, MassFunction):
        focal, mass, n = m.focal, m.mass, m.frame_size
        empty: Any = float(mass[focal == 0].sum())
    else:
        a, n = _as_dense(m, "m", masses=True)
        focal = np.arange(a.shape[-1], dtype=np.uint64)
        mass = a
        empty = a[..., 0]
    if np.any(np.asarray(empty) >= 1.0 - 1e-12):
        raise ValueError(
            "m puts all its mass on the empty set: the pignistic probability is undefined"
        )
    size = _popcount(focal)
    share = np.where(size > 0, mass / np.maximum(size, 1), 0.0)
    if isinstance(m, MassFunction):
        member = (focal[:, None] >> np.arange(n, dtype=np.uint64)[None, :]) & np.uint64(1)
        bet: np.ndarray = share @ member.astype(np.float64) / (1.0 - empty)
        return bet
    # Dense: element i's sets are the upper halves of blocks of 2^(i+1) (no 2^n x n matrix).
    columns = [
        share.reshape(*share.shape[:-1], -1, 2, 1 << i)[..., 1, :].sum(axis=(-2, -1))
        for i in range(n)
    ]
    result: np.ndarray = np.stack(columns, axis=-1) / (1.0 - np.asarray(empty))[..., None]
    return result


def discount(m: Mass, reliability: float) -> Mass:
    """Shafer's discounting by a source reliability ``alpha`` in [0, 1]:
    ``m'(A) = alpha m(A)`` for ``A`` not the whole frame and
    ``m'(frame) = alpha m(frame) + 1 - alpha`` (works on dense and sparse masses).
    """
    if isinstance(reliability, bool) or not isinstance(reliability, (int, float, np.floating)):
        raise TypeError(f"reliability must be a number in [0, 1], got {reliability!r}")
    alpha = float(reliability)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"reliability must be in [0, 1], got {reliability!r}")
    if isinstance(m, MassFunction):
        frame = np.uint64((1 << m.frame_size) - 1)
        focal = np.concatenate([m.focal, np.asarray([frame], dtype=np.uint64)])
        mass = np.concatenate([alpha * m.mass, [1.0 - alpha]])
        return _from_pairs(focal, mass, m.frame_size)
    a, _ = _as_dense(m, "m", masses=True)
    out = alpha * a
    out[..., -1] += 1.0 - alpha
    return out


# --- combination --------------------------------------------------------------------------------


def _sources(masses: tuple[Any, ...]) -> tuple[list[MassFunction] | None, np.ndarray | None]:
    """Either all sparse (a list) or all dense (a (k, 2^n) array)."""
    if len(masses) == 1 and not isinstance(masses[0], MassFunction):
        a, _ = _as_dense(masses[0], "masses[0]", masses=True)
        if a.ndim != 2:
            raise ValueError(
                "a single dense argument must be a 2-D array (k, 2^n) of k >= 2 sources, "
                f"got shape {a.shape}"
            )
        if a.shape[0] < 2:
            raise ValueError(f"need at least two sources to combine, got {a.shape[0]}")
        return None, a
    if len(masses) < 2:
        raise ValueError(f"need at least two sources to combine, got {len(masses)}")
    if all(isinstance(m, MassFunction) for m in masses):
        sparse = [m for m in masses if isinstance(m, MassFunction)]
        sizes = {m.frame_size for m in sparse}
        if len(sizes) > 1:
            raise ValueError(f"the sources must share one frame, got frame sizes {sorted(sizes)}")
        return sparse, None
    if any(isinstance(m, MassFunction) for m in masses):
        raise TypeError("mix of MassFunction and dense arrays: convert them to one representation")
    rows = []
    for i, m in enumerate(masses):
        a, _ = _as_dense(m, f"masses[{i}]", masses=True)
        if a.ndim != 1:
            raise ValueError(f"masses[{i}] must be 1-D (2^n,), got shape {a.shape}")
        rows.append(a)
    if len({len(r) for r in rows}) > 1:
        raise ValueError(
            f"the sources must share one frame, got lengths {sorted({len(r) for r in rows})}"
        )
    return None, np.stack(rows)


def _sparse_rows(dense: np.ndarray, n: int) -> list[MassFunction]:
    out = []
    for row in dense:
        idx = np.flatnonzero(row > 0)
        out.append(MassFunction(idx.astype(np.uint64), row[idx].copy(), n))
    return out


def _conjunctive(sources: list[MassFunction], kernels: ModuleType) -> MassFunction:
    """Unnormalised conjunctive combination, source by source (it is associative; the empty set
    stays a focal set, so its mass is the total conflict at the end)."""
    acc = sources[0]
    for nxt in sources[1:]:
        keys, values = kernels.focal_combine(
            np.concatenate([acc.focal, nxt.focal]),
            np.concatenate([acc.mass, nxt.mass]),
            np.asarray([0, len(acc.focal), len(acc.focal) + len(nxt.focal)], dtype=np.int64),
            0,
            get_num_threads(),
        )
        acc = MassFunction(keys, values, acc.frame_size)
    return acc


def combine(*masses: Any, rule: str = "dempster", backend: str = "auto") -> Combination:
    """Combine independent sources of evidence.

    Parameters
    ----------
    *masses : dense arrays, MassFunction, or one (k, 2^n) array
        Two or more mass functions on one frame: all dense 1-D arrays of length 2^n, all
        :class:`MassFunction`, or a single 2-D array whose k rows are the sources.
    rule : {"dempster", "yager", "dubois_prade", "pcr6"}
        How the conflicting mass (products of focal sets with an empty intersection) is handled.
        The conjunctive part ``m_cap(A) = sum_{B1 cap ... cap Bk = A} prod_i m_i(B_i)`` is shared.
        ``dempster``: renormalise, ``m(A) = m_cap(A) / (1 - K)`` (Dempster 1967). ``yager``: give
        ``K`` to the whole frame (Yager 1987). ``dubois_prade``: give each conflicting product to
        the union of its sets (Dubois and Prade 1988). ``pcr6``: share each conflicting product
        among its sets in proportion to their masses (Martin and Osswald 2006; PCR5 for k = 2).
        For k > 2 the last two are applied to all sources at once (they are not associative).
    backend : {"auto", "cpp", "numpy"}
        Compiled kernels or numpy twins.

    Returns
    -------
    Combination
        The combined mass (dense or MassFunction as given) and the conflict
        ``K = m_cap(empty set)``.

    Raises
    ------
    ValueError
        For total conflict (K = 1) under Dempster's rule, where it is undefined.

    Notes
    -----
    Cost: dense Dempster/Yager run through commonalities, ``q = prod_i q_i`` then one Moebius
    transform: O(k n 2^n) whatever the number of focal sets. Sparse conjunctive combination is
    O(|F_acc| |F_i|) per source. Dubois-Prade and PCR6 enumerate all tuples of focal sets,
    O(prod_i |F_i|) (refused above 10^7 tuples).
    """
    check_choice(rule, "rule", RULES)
    kernels = _kernels(backend)
    sparse, dense = _sources(masses)
    if dense is not None and rule in ("dempster", "yager"):
        q = _transform(dense, True, False, backend).prod(axis=0, keepdims=True)
        joint = _transform(q, True, True, backend)[0]
        joint = np.maximum(joint, 0.0)  # Moebius differences can round to -1e-17
        conflict = float(joint[0])
        joint[0] = 0.0
        return Combination(_finish_dense(joint, conflict, rule), conflict)
    if dense is not None:
        n = int(dense.shape[1]).bit_length() - 1
        srcs = _sparse_rows(dense, n)
    else:
        assert sparse is not None  # _sources returns one of the two
        n, srcs = sparse[0].frame_size, sparse
    conj = _conjunctive(srcs, kernels)
    conflict = float(conj.mass[conj.focal == 0].sum())
    if rule in ("dempster", "yager"):
        keep = conj.focal != 0
        result = _finish_sparse(conj.focal[keep], conj.mass[keep], conflict, rule, n)
    else:
        tuples = math.prod(len(s.focal) for s in srcs)
        if tuples > MAX_TUPLES:
            raise ValueError(
                f"rule={rule!r} enumerates every tuple of focal sets: {tuples} tuples exceed the "
                f"limit of {MAX_TUPLES}"
            )
        keys, values = kernels.focal_combine(
            np.concatenate([s.focal for s in srcs]),
            np.concatenate([s.mass for s in srcs]),
            np.concatenate([[0], np.cumsum([len(s.focal) for s in srcs])]).astype(np.int64),
            _RULE_CODE[rule],
            get_num_threads(),
        )
        result = MassFunction(keys, values, n)
    return Combination(result if sparse is not None else result.dense(), conflict)


def _check_conflict(conflict: float) -> None:
    if conflict >= 1.0 - 1e-12:
        raise ValueError(
            f"total conflict (K = {conflict!r}): the sources contradict each other completely and "
            "Dempster's rule is undefined; use rule='yager', 'dubois_prade' or 'pcr6'"
        )


def _finish_dense(joint: np.ndarray, conflict: float, rule: str) -> np.ndarray:
    if rule == "dempster":
        _check_conflict(conflict)
        return joint / (1.0 - conflict)
    joint[-1] += conflict
    return joint


def _finish_sparse(
    focal: np.ndarray, mass: np.ndarray, conflict: float, rule: str, n: int
) -> MassFunction:
    if rule == "dempster":
        _check_conflict(conflict)
        return MassFunction(focal, mass / (1.0 - conflict), n)
    frame = np.asarray([(1 << n) - 1], dtype=np.uint64)
    return _from_pairs(np.concatenate([focal, frame]), np.concatenate([mass, [conflict]]), n)
