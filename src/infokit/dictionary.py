"""Sparse coding against a dictionary: matching pursuit, orthogonal matching pursuit, the greedy
dictionary growth of ITDA, and the Jaccard similarity of two dictionaries.

Shapes follow the rest of infokit: signals are rows, ``X`` is ``(n, d)`` (or one signal
``(d,)``), a dictionary ``D`` is ``(n_atoms, d)`` with one atom per row, and codes are
``(n, n_atoms)`` with ``X ≈ codes @ D``. The dictionary-wide products ``G = D Dᵀ`` and
``X Dᵀ`` run in the BLAS that numpy ships; the per-signal pursuit loops run in C++
(``csrc/include/infokit/dictionary/pursuit.hpp``), threaded over signals, or in the numpy twin.
For few signals on many atoms a second route skips ``D Dᵀ`` (``route="direct"``, chosen by
"auto" from the flop counts): one BLAS product ``R Dᵀ`` per step (``_pursuit_direct.py``).
float32 input stays float32 (inner loops accumulate in double).

Papers: P40 (ITDA: inference-time decomposition of activations, Leask, Nanda & Al Moubayed,
ICML 2025), P42 (dictionary atoms shared across layers).
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from . import _backend
from ._pursuit_direct import mp_direct, omp_direct
from ._reference import dictionary as _reference
from ._threads import get_num_threads
from ._validation import as_real_array, check_choice, check_positive_int

__all__ = [
    "Dictionary",
    "GrowthReport",
    "decode",
    "encode",
    "grow",
    "jaccard",
    "matching_pursuit",
    "omp",
]

METHODS = ("omp", "mp")
ROUTES = ("auto", "gram", "direct")
# "auto" avoids a Gram matrix larger than this (its K² entries).
_GRAM_BYTES = 1 << 31
# The direct route's cost per flop relative to the Gram route's (see _choose_route).
_DIRECT_COST = 3
JACCARD_BY = ("identity", "cosine")
# Relative errors at or below this many float epsilons count as an exact reconstruction: an
# activation that is a multiple of an existing atom is never added again because of rounding.
_EXACT_ULPS = 1000.0


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def _work_dtype(*arrays: np.ndarray) -> np.dtype[Any]:
    """float32 when every input is float32, else float64."""
    if all(a.dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _finite(a: np.ndarray, name: str) -> None:
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; sparse coding needs finite values")


def _as_signals(x: Any, d: int | None, name: str = "X") -> tuple[np.ndarray, bool]:
    """(n, d) signals and whether a single (d,) signal came."""
    arr = as_real_array(x, name)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (d,) or 2-D (n, d) with one signal per row, "
            f"got a {arr.ndim}-D array of shape {arr.shape}"
        )
    single = arr.ndim == 1
    arr = arr.reshape(1, -1) if single else arr
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has shape {arr.shape}: signals need at least one dimension")
    if d is not None and arr.shape[1] != d:
        raise ValueError(
            f"{name} must have d = {d} columns to match the dictionary, got shape {arr.shape}"
        )
    _finite(arr, name)
    return arr, single


def _as_atoms(dictionary: Any, name: str = "D") -> np.ndarray:
    arr = as_real_array(dictionary, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_atoms, d) with one atom per row, "
            f"got a {arr.ndim}-D array of shape {arr.shape}"
        )
    if 0 in arr.shape:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    _finite(arr, name)
    with np.errstate(over="ignore"):  # a huge atom is not a zero one; overflow is caught later
        norms = np.einsum("ij,ij->i", arr, arr, dtype=np.float64)
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:
        raise ValueError(f"{name} has atoms of zero norm (rows {zero[:5].tolist()}); drop them")
    return arr


def _check_tol(tol: Any, name: str = "tol") -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"{name} must be a real number >= 0, got {type(tol).__name__}")
    t = float(tol)
    if not math.isfinite(t) or t < 0.0:
        raise ValueError(f"{name} must be a finite real number >= 0, got {tol!r}")
    return t


# ---------------------------------------------------------------------------------------------
# The pursuits
# ---------------------------------------------------------------------------------------------


def _pursue(
    kind: str,
    gram: np.ndarray,
    xy: np.ndarray,
    norms_sq: np.ndarray,
    steps: int,
    tol: float,
    backend: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run a pursuit from the Gram matrix: (support, coef, count), compact per signal."""
    name = "omp_gram" if kind == "omp" else "mp_gram"
    if _backend.resolve(backend) == "cpp":
        core = _backend.compiled("_core")
        assert core is not None
        fn = getattr(core, name)
    else:
        fn = getattr(_reference, name)
    result: tuple[np.ndarray, np.ndarray, np.ndarray] = fn(
        gram, xy, norms_sq, steps, tol, n_threads=get_num_threads()
    )
    return result


def _dense(support: np.ndarray, coef: np.ndarray, n_atoms: int) -> np.ndarray:
    codes = np.zeros((support.shape[0], n_atoms), dtype=coef.dtype)
    mask = support >= 0
    codes[np.nonzero(mask)[0], support[mask]] = coef[mask]
    return codes


def _code(
    kind: str,
    x: Any,
    atoms: Any,
    steps: Any,
    tol: Any,
    backend: str,
    steps_name: str,
    route: str = "auto",
    gram: np.ndarray | None = None,
) -> np.ndarray:
    """Validate, choose the route, run the pursuit, return dense codes. The Gram route forms
    ``D Dᵀ`` (unless a cached ``gram`` of the same atoms comes) and ``X Dᵀ``."""
    check_choice(route, "route", ROUTES)
    d_arr = _as_atoms(atoms)
    x_arr, single = _as_signals(x, d_arr.shape[1])
    n_atoms = d_arr.shape[0]
    tol_value = -1.0 if tol is None else _check_tol(tol)
    if steps is None:
        if tol is None:
            steps = max(int(0.1 * n_atoms), 1)  # scikit-learn's default: 10% of the atoms
            n_steps = steps
        else:
            n_steps = n_atoms if kind == "omp" else 4 * n_atoms
    else:
        n_steps = check_positive_int(steps, steps_name)
        if kind == "omp" and n_steps > n_atoms:
            raise ValueError(
                f"{steps_name} must be <= the number of atoms = {n_atoms}, got {n_steps}"
            )
    check_choice(backend, "backend", _backend.BACKENDS)
    dtype = _work_dtype(x_arr, d_arr)
    x_arr = x_arr.astype(dtype, copy=False)
    d_arr = d_arr.astype(dtype, copy=False)
    if kind == "omp":
        n_steps = min(n_steps, n_atoms)
    if route == "auto":
        route = _choose_route(x_arr.shape[0], d_arr, n_steps, gram is not None)
    if route == "direct":
        return _code_direct(kind, x_arr, d_arr, n_steps, tol_value, single)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        if gram is None or gram.dtype != dtype:
            gram = np.ascontiguousarray(d_arr @ d_arr.T)
        xy = np.ascontiguousarray(x_arr @ d_arr.T)
    if not (np.isfinite(gram).all() and np.isfinite(xy).all()):
        raise ValueError(
            f"X or D is too large for {dtype}: the products D Dᵀ or X Dᵀ overflow; rescale them"
        )
    norms_sq = np.einsum("ij,ij->i", x_arr, x_arr, dtype=np.float64)
    support, coef, _ = _pursue(kind, gram, xy, norms_sq, n_steps, tol_value, backend)
    codes = _dense(support, coef, n_atoms)
    return codes[0] if single else codes


def _choose_route(n: int, atoms: np.ndarray, steps: int, have_gram: bool) -> str:
    """ "gram" unless D Dᵀ costs more than the direct route's per-step products, or is huge.

    Gram route ≈ ``K² d + n K d`` BLAS flops (the pursuits after it are O(K s²) per signal);
    direct ≈ ``s n K d`` plus a few passes over ``n × K`` per step, taken as about twice its
    flop count (an estimate from one timing while the module was written). So direct is
    taken once the Gram route costs 3× its flops, ``K > (3 s − 1) n``: few signals, many atoms.
    """
    k, d = atoms.shape
    if have_gram:
        return "gram"
    if k * k * atoms.itemsize > _GRAM_BYTES:
        return "direct"
    return "direct" if k * k * d + n * k * d > _DIRECT_COST * steps * n * k * d else "gram"


def _code_direct(
    kind: str, x: np.ndarray, atoms: np.ndarray, steps: int, tol: float, single: bool
) -> np.ndarray:
    # |⟨x, d⟩| <= d · max|x| · max|d|: within range, no product R Dᵀ can overflow.
    bound = float(np.abs(x).max(initial=0.0)) * float(np.abs(atoms).max()) * x.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        norms_sq = np.einsum("ij,ij->i", x, x, dtype=np.float64)
    if not (bound < float(np.finfo(x.dtype).max) and np.isfinite(norms_sq).all()):
        raise ValueError(
            f"X or D is too large for {x.dtype}: the products X Dᵀ may overflow; rescale them"
        )
    fn = omp_direct if kind == "omp" else mp_direct
    support, coef, _ = fn(x, atoms, steps, tol, norms_sq)
    codes = _dense(support, coef, atoms.shape[0])
    return codes[0] if single else codes


def omp(
    X: Any,
    D: Any,
    *,
    n_nonzero: int | None = None,
    tol: float | None = None,
    route: str = "auto",
    backend: str = "auto",
) -> np.ndarray:
    """Orthogonal matching pursuit of many signals at once.

    For each signal ``x`` (a row of ``X``), greedily builds a support ``S``: pick the atom whose
    cosine with the residual is largest, ``j = argmax_j |⟨r, d_j⟩| / ‖d_j‖``, then refit all
    chosen coefficients by least squares, ``γ = argmin ‖x − γ D_S‖₂`` (so the residual is
    orthogonal to every chosen atom), until ``n_nonzero`` atoms are chosen or ``‖r‖² ≤ tol``.

    Parameters
    ----------
    X : array_like, shape (n, d) or (d,)
        Signals, one per row.
    D : array_like, shape (n_atoms, d)
        The dictionary, one atom per row (any nonzero norm; unit atoms give the same selection
        as scikit-learn's ``orthogonal_mp``, which compares raw correlations).
    n_nonzero : int, optional
        Most atoms per signal (``<= n_atoms``). Default: 10% of the atoms (as scikit-learn)
        when ``tol`` is not given either.
    tol : float, optional
        Stop once the squared residual norm ``‖x − γ D_S‖₂²`` is at most ``tol`` (scikit-learn's
        meaning). With both, whichever comes first stops.
    route : {"auto", "gram", "direct"}
        "gram": form ``G = D Dᵀ`` once and pursue on it (below). "direct": no Gram matrix;
        every step computes ``R Dᵀ`` for the residuals by BLAS and refits from the chosen
        atoms (numpy), ``O(s n K d)`` flops and no ``K²`` memory: for few signals on many
        atoms. "auto" takes direct when ``K > (3 s − 1) n`` or when ``G`` would exceed 2 GiB.
    backend : {"auto", "cpp", "numpy"}
        Which Gram-route pursuit runs (the direct route is numpy + BLAS).

    Returns
    -------
    ndarray, shape (n, n_atoms) or (n_atoms,)
        Codes with ``X ≈ codes @ D``, same float dtype as the inputs (float32 if both are).

    Notes
    -----
    Gram form (Rubinstein, Zibulevsky & Elad 2008, "Batch-OMP"): ``G = D Dᵀ`` and ``X Dᵀ`` are
    two BLAS products; each signal then runs on its own thread with an incremental Cholesky
    factor of ``G[S, S]``. Cost ``O(K² d + n K d)`` for the products plus ``O(n K s²)`` for the
    pursuits (``K`` atoms, ``s`` nonzeros). A signal stops early when its residual has no
    correlation left or the next atom is numerically in the span of the chosen ones.
    Pati, Rezaiifar & Krishnaprasad (1993); the encoder of ITDA (P40).
    """
    return _code("omp", X, D, n_nonzero, tol, backend, "n_nonzero", route)


def matching_pursuit(
    X: Any,
    D: Any,
    *,
    n_iter: int | None = None,
    tol: float | None = None,
    route: str = "auto",
    backend: str = "auto",
) -> np.ndarray:
    """Plain matching pursuit of many signals at once (Mallat & Zhang 1993).

    Each step picks ``j = argmax_j |⟨r, d_j⟩| / ‖d_j‖`` and moves only that coefficient:
    ``γ_j += ⟨r, d_j⟩ / ‖d_j‖²``, ``r ← r − (⟨r, d_j⟩ / ‖d_j‖²) d_j``, so
    ``‖r‖²`` falls by ``⟨r, d_j⟩² / ‖d_j‖²`` every step. Unlike :func:`omp` an atom may be
    picked again and earlier coefficients are never refit.

    Parameters
    ----------
    X : array_like, shape (n, d) or (d,)
    D : array_like, shape (n_atoms, d)
    n_iter : int, optional
        Steps per signal (the code has at most ``min(n_iter, n_atoms)`` nonzeros). Default: 10%
        of the atoms when ``tol`` is not given either, else ``4 · n_atoms``.
    tol : float, optional
        Stop once ``‖r‖² <= tol``.
    route : {"auto", "gram", "direct"}
        As for :func:`omp`.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    ndarray, shape (n, n_atoms) or (n_atoms,)
        Codes with ``X ≈ codes @ D``.

    Notes
    -----
    Same Gram form as :func:`omp`; cost ``O(K d (K + n))`` for the products plus ``O(n K)``
    per step. The residual norm never increases. ITDA (P40) decomposes with this pursuit.
    """
    return _code("mp", X, D, n_iter, tol, backend, "n_iter", route)


# ---------------------------------------------------------------------------------------------
# Greedy dictionary growth (ITDA)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrowthReport:
    """How well a grown dictionary reconstructs the activations it was grown on.

    Errors are relative, ``‖x − x̂‖ / ‖x‖``, each measured when the activation was processed
    (an activation that became an atom has error 0).
    """

    n_activations: int
    n_zero: int
    n_atoms: int
    threshold: float
    n_nonzero: int
    method: str
    mean_error: float
    max_error: float
    mean_nonzeros: float
    n_above_threshold: int

    def __str__(self) -> str:
        rows = [
            ("method", f"{self.method}, n_nonzero {self.n_nonzero}"),
            ("activations", f"{self.n_activations} ({self.n_zero} zero, skipped)"),
            ("atoms", f"{self.n_atoms}"),
            ("threshold", f"{self.threshold:.4g}"),
            ("relative error", f"mean {self.mean_error:.4g}, max {self.max_error:.4g}"),
            ("nonzeros per code", f"{self.mean_nonzeros:.4g}"),
        ]
        if self.n_above_threshold:
            rows.append(("above threshold", f"{self.n_above_threshold} (max_atoms reached)"))
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


@dataclass(frozen=True, repr=False, eq=False)  # arrays inside: compare by identity
class Dictionary:
    """A dictionary of atoms drawn from data, with where each atom came from.

    Attributes
    ----------
    atoms : ndarray, shape (n_atoms, d)
        Unit-norm atoms, one per row: normalised activations.
    origins : ndarray of int64, shape (n_atoms,)
        Index of each atom's source activation in the stream (0-based, over all chunks).
    labels : ndarray or None
        ``labels[origins]`` when labels were given to :func:`grow` (e.g. token ids, or
        (prompt, position) rows): the identities :func:`jaccard` compares.
    errors : ndarray of float64, shape (n_activations,)
        Relative error of every streamed activation when it was processed.
    nonzeros : ndarray of int64, shape (n_activations,)
        Atoms used by each activation's code then.
    n_nonzero : int
        Most atoms per code, used by :meth:`encode` by default.
    method : str
        "omp" or "mp".
    report : GrowthReport
    """

    atoms: np.ndarray
    origins: np.ndarray
    labels: np.ndarray | None
    errors: np.ndarray
    nonzeros: np.ndarray
    n_nonzero: int
    method: str
    report: GrowthReport

    def __len__(self) -> int:
        return int(self.atoms.shape[0])

    @property
    def identities(self) -> np.ndarray:
        """What identifies an atom across dictionaries: its label if given, else its origin."""
        return self.origins if self.labels is None else self.labels

    @functools.cached_property
    def _gram(self) -> np.ndarray:
        # Formed on the first encode and kept: later batches skip the O(K² d) product.
        return np.ascontiguousarray(self.atoms @ self.atoms.T)

    def encode(self, X: Any, *, n_nonzero: int | None = None, backend: str = "auto") -> np.ndarray:
        """Codes of ``X`` on the atoms with the growth's pursuit; ``X ≈ codes @ atoms``."""
        k = self.n_nonzero if n_nonzero is None else n_nonzero
        if self.method == "omp":
            k = min(k, len(self)) if n_nonzero is None else k
            return _code("omp", X, self.atoms, k, None, backend, "n_nonzero", "gram", self._gram)
        return _code("mp", X, self.atoms, k, None, backend, "n_iter", "gram", self._gram)

    def decode(self, codes: Any) -> np.ndarray:
        """``codes @ atoms``: the reconstruction of encoded signals."""
        arr = as_real_array(codes, "codes")
        if arr.ndim not in (1, 2) or arr.shape[-1] != len(self):
            raise ValueError(
                f"codes must have shape (n, {len(self)}) or ({len(self)},) for a dictionary "
                f"of {len(self)} atoms, got shape {arr.shape}"
            )
        _finite(arr, "codes")
        result: np.ndarray = arr.astype(_work_dtype(arr, self.atoms), copy=False) @ self.atoms
        return result

    def __repr__(self) -> str:
        r = self.report
        return (
            f"Dictionary({len(self)} atoms × {self.atoms.shape[1]} {self.atoms.dtype}, from "
            f"{r.n_activations} activations, threshold {r.threshold:.4g}, {self.method} "
            f"n_nonzero {self.n_nonzero}, mean rel. error {r.mean_error:.4g})"
        )


def encode(
    X: Any, dictionary: Dictionary, *, n_nonzero: int | None = None, backend: str = "auto"
) -> np.ndarray:
    """Codes of ``X`` on a grown :class:`Dictionary`: the inference-time decomposition of P40.

    Runs the pursuit the dictionary was grown with (:func:`omp` or :func:`matching_pursuit`)
    with ``n_nonzero`` atoms (default: the growth's), so ``X ≈ codes @ dictionary.atoms``.
    Returns ``(n, n_atoms)`` codes (``(n_atoms,)`` for one signal); cost as :func:`omp`.
    """
    if not isinstance(dictionary, Dictionary):
        raise TypeError(f"dictionary must be a Dictionary, got {type(dictionary).__name__}")
    return dictionary.encode(X, n_nonzero=n_nonzero, backend=backend)


def decode(codes: Any, dictionary: Dictionary) -> np.ndarray:
    """The reconstruction ``x̂ = codes @ dictionary.atoms`` of encoded signals.

    ``codes`` is ``(n, n_atoms)`` or ``(n_atoms,)``; one GEMM, ``O(n K d)``.
    """
    if not isinstance(dictionary, Dictionary):
        raise TypeError(f"dictionary must be a Dictionary, got {type(dictionary).__name__}")
    return dictionary.decode(codes)


class _Growing:
    """Atoms and their Gram matrix in buffers that double, so adding an atom costs O(K d)."""

    def __init__(self, d: int, dtype: np.dtype[Any], capacity: int) -> None:
        self.atoms = np.zeros((capacity, d), dtype=dtype)
        self.gram = np.zeros((capacity, capacity), dtype=dtype)
        self.size = 0
        self.origins: list[int] = []

    def add(self, atom: np.ndarray, origin: int) -> None:
        k = self.size
        if k == self.atoms.shape[0]:
            cap = 2 * k
            atoms = np.zeros((cap, self.atoms.shape[1]), dtype=self.atoms.dtype)
            atoms[:k] = self.atoms
            gram = np.zeros((cap, cap), dtype=self.gram.dtype)
            gram[:k, :k] = self.gram
            self.atoms, self.gram = atoms, gram
        self.atoms[k] = atom
        row = self.atoms[: k + 1] @ atom
        self.gram[k, : k + 1] = row
        self.gram[: k + 1, k] = row
        self.size = k + 1
        self.origins.append(origin)


def _chunks(activations: Any, batch_size: int) -> Iterator[tuple[np.ndarray, str]]:
    """Batches of at most batch_size rows from an array or an iterable of 2-D chunks."""
    if isinstance(activations, np.ndarray) or not isinstance(activations, Iterable):
        arr = as_real_array(activations, "activations")
        if arr.ndim != 2:
            raise ValueError(
                "activations must be 2-D (n, d) with one activation per row, or an iterable "
                f"of such chunks, got a {arr.ndim}-D array of shape {arr.shape}"
            )
        for lo in range(0, arr.shape[0], batch_size):
            yield arr[lo : lo + batch_size], "activations"
        return
    for c, chunk in enumerate(activations):
        name = f"activations chunk {c}"
        arr = as_real_array(chunk, name)
        if arr.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (n, d), got a {arr.ndim}-D array of shape {arr.shape}"
            )
        for lo in range(0, arr.shape[0], batch_size):
            yield arr[lo : lo + batch_size], name


def _relative_errors(
    x: np.ndarray,
    norms: np.ndarray,
    atoms: np.ndarray,
    support: np.ndarray,
    coef: np.ndarray,
) -> np.ndarray:
    """‖x − Σ coef·atoms[support]‖ / ‖x‖ per row, in double."""
    safe = np.where(support >= 0, support, 0)
    recon = np.einsum("ps,psd->pd", coef.astype(np.float64), atoms[safe].astype(np.float64))
    resid = x.astype(np.float64) - recon
    out: np.ndarray = np.sqrt(np.einsum("ij,ij->i", resid, resid)) / norms
    return out


def grow(
    activations: Any,
    *,
    threshold: float,
    n_nonzero: int = 8,
    max_atoms: int | None = None,
    batch_size: int = 32,
    labels: Any = None,
    method: str = "omp",
    backend: str = "auto",
) -> Dictionary:
    """Grow a dictionary from a stream of activations, greedily, as ITDA does (P40).

    The first nonzero activation, normalised, is the first atom. Then each batch of activations
    is encoded against the current atoms (``n_nonzero`` atoms per code, :func:`omp` or
    :func:`matching_pursuit`), and while some activation of the batch has relative error
    ``e = ‖x − x̂‖ / ‖x‖ > threshold``, the worst one, ``x / ‖x‖``, becomes a new atom and the
    rest of those above the threshold are encoded again. So every activation ends with error
    ``<= threshold`` (or is an atom), unless ``max_atoms`` stops the growth first.

    Parameters
    ----------
    activations : array_like (n, d), or an iterable of (n_i, d) chunks
        The stream, e.g. a model's residual-stream activations token by token.
    threshold : float
        Relative error above which an activation is added, ``>= 0``. 0 keeps every distinct
        direction (errors within 1000 float epsilons count as exact); ``>= 1`` keeps only the
        first atom, since a pursuit never has error above 1.
    n_nonzero : int
        Atoms per code (``L0`` of ITDA).
    max_atoms : int, optional
        Stop adding atoms at this size.
    batch_size : int
        Activations encoded together (one BLAS product and one threaded pursuit). Each atom
        added re-encodes the rows of its batch still above the threshold, so while most
        activations become atoms small batches are much faster (measured here: 16 rows per
        batch 12× faster than 256 when 95 % of a stream became atoms); large batches only
        pay off once the dictionary has stopped growing.
    labels : array_like, optional
        One identity per activation (1-D, or 2-D rows such as (prompt, position)); kept for the
        atoms as :attr:`Dictionary.labels` and compared by :func:`jaccard`.
    method : {"omp", "mp"}
        The pursuit. ITDA uses matching pursuit; OMP reconstructs better at the same L0.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    Dictionary
        Atoms, their origins in the stream, per-activation errors and nonzeros, and a report.

    Notes
    -----
    Zero activations have no direction: they are skipped (error 0, no atoms). The pursuits run
    on the Gram matrix of the atoms, kept up to date as atoms are added: memory ``O(K²)``
    (``K`` atoms; 10⁴ float32 atoms take 400 MB). Cost per batch of
    ``B`` rows: ``O(B K d)`` for ``X Dᵀ`` plus the pursuit, plus for each added atom ``O((B + K)
    d)`` to extend ``X Dᵀ`` and the Gram matrix, and a re-encoding of the rows still above the
    threshold. Leask, Nanda & Al Moubayed, "Inference-Time Decomposition of Activations (ITDA)",
    ICML 2025.
    """
    thr = _check_tol(threshold, "threshold")
    n_nonzero = check_positive_int(n_nonzero, "n_nonzero")
    if max_atoms is not None:
        max_atoms = check_positive_int(max_atoms, "max_atoms")
    batch_size = check_positive_int(batch_size, "batch_size")
    method = check_choice(method, "method", METHODS)
    check_choice(backend, "backend", _backend.BACKENDS)
    label_arr = None if labels is None else _as_labels_column(labels)

    state: _Growing | None = None
    errors: list[np.ndarray] = []
    nonzeros: list[np.ndarray] = []
    n_seen = 0
    n_zero = 0
    floor = 0.0
    for batch, name in _chunks(activations, batch_size):
        if batch.shape[0] == 0:
            continue
        if state is None:
            if batch.shape[1] == 0:
                raise ValueError(f"{name} has shape {batch.shape}: need at least one column")
            dtype = _work_dtype(batch)
            state = _Growing(batch.shape[1], dtype, min(64, max_atoms or 64))
            floor = _EXACT_ULPS * float(np.finfo(dtype).eps)
        elif batch.shape[1] != state.atoms.shape[1]:
            raise ValueError(
                f"{name} has d = {batch.shape[1]} columns, but the stream started with "
                f"d = {state.atoms.shape[1]}"
            )
        _finite(batch, name)
        with np.errstate(over="ignore"):
            big = not np.isfinite(np.einsum("ij,ij->i", batch, batch, dtype=np.float64)).all()
        if big:
            raise ValueError(f"{name} has activations whose squared norm overflows; rescale them")
        x = np.ascontiguousarray(batch, dtype=state.atoms.dtype)
        err, nnz, zeros = _grow_batch(
            state, x, n_seen, thr, floor, n_nonzero, max_atoms, method, backend
        )
        errors.append(err)
        nonzeros.append(nnz)
        n_zero += zeros
        n_seen += x.shape[0]
    if state is None or n_seen == 0:
        raise ValueError("activations is empty: need at least one activation")
    if state.size == 0:
        raise ValueError("activations are all zero: no direction to make an atom from")
    origins = np.asarray(state.origins, dtype=np.int64)
    atom_labels = None
    if label_arr is not None:
        if label_arr.shape[0] != n_seen:
            raise ValueError(
                f"labels must have one entry per activation ({n_seen}), got {label_arr.shape[0]}"
            )
        atom_labels = label_arr[origins]
    err_all = np.concatenate(errors)
    nnz_all = np.concatenate(nonzeros)
    report = GrowthReport(
        n_activations=n_seen,
        n_zero=n_zero,
        n_atoms=state.size,
        threshold=thr,
        n_nonzero=n_nonzero,
        method=method,
        mean_error=float(err_all.mean()),
        max_error=float(err_all.max()),
        mean_nonzeros=float(nnz_all.mean()),
        n_above_threshold=int(np.count_nonzero(err_all > max(thr, floor))),
    )
    atoms = state.atoms[: state.size].copy()
    return Dictionary(
        atoms=atoms,
        origins=origins,
        labels=atom_labels,
        errors=err_all,
        nonzeros=nnz_all,
        n_nonzero=n_nonzero,
        method=method,
        report=report,
    )


def _as_labels_column(labels: Any) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"labels must be 1-D (one identity per activation) or 2-D (one row per activation), "
            f"got a {arr.ndim}-D array of shape {arr.shape}"
        )
    return arr


def _grow_batch(
    state: _Growing,
    x: np.ndarray,
    offset: int,
    thr: float,
    floor: float,
    n_nonzero: int,
    max_atoms: int | None,
    method: str,
    backend: str,
) -> tuple[np.ndarray, np.ndarray, int]:
    """One batch of :func:`grow`: (relative errors, nonzeros, number of zero rows)."""
    b = x.shape[0]
    norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))
    err = np.zeros(b)
    nnz = np.zeros(b, dtype=np.int64)
    rows = np.flatnonzero(norms > 0.0)
    if rows.size == 0:
        return err, nnz, b
    cutoff = max(thr, floor)

    def add(i: int) -> None:
        state.add((x[i] / norms[i]).astype(x.dtype), offset + i)
        err[i] = 0.0
        nnz[i] = 1

    if state.size == 0:
        add(int(rows[0]))
        rows = rows[1:]
    # X Dᵀ for the batch, one column per atom; a new atom appends a column.
    xy = np.zeros((b, state.atoms.shape[0]), dtype=x.dtype)
    xy[:, : state.size] = x @ state.atoms[: state.size].T

    def encode_rows(pending: np.ndarray) -> None:
        k = state.size
        n_steps = min(n_nonzero, k) if method == "omp" else n_nonzero
        sub = np.ascontiguousarray(xy[pending, :k])
        support, coef, count = _pursue(
            method, state.gram[:k, :k], sub, norms[pending] ** 2, n_steps, -1.0, backend
        )
        err[pending] = _relative_errors(x[pending], norms[pending], state.atoms, support, coef)
        nnz[pending] = count

    pending = rows
    if pending.size:
        encode_rows(pending)
        pending = pending[err[pending] > cutoff]
    while pending.size and (max_atoms is None or state.size < max_atoms):
        worst = int(pending[np.argmax(err[pending])])
        add(worst)
        if xy.shape[1] < state.atoms.shape[0]:
            wider = np.zeros((b, state.atoms.shape[0]), dtype=x.dtype)
            wider[:, : xy.shape[1]] = xy
            xy = wider
        xy[:, state.size - 1] = x @ state.atoms[state.size - 1]
        pending = pending[pending != worst]
        if pending.size:
            encode_rows(pending)
            pending = pending[err[pending] > cutoff]
    return err, nnz, b - int(np.count_nonzero(norms > 0.0))


# ---------------------------------------------------------------------------------------------
# Similarity of two dictionaries
# ---------------------------------------------------------------------------------------------


def _identity_set(a: Any, name: str) -> set[Any]:
    ids = a.identities if isinstance(a, Dictionary) else np.asarray(a)
    if ids.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be a Dictionary or a 1-D/2-D array of atom identities, "
            f"got a {ids.ndim}-D array of shape {ids.shape}"
        )
    if ids.shape[0] == 0:
        raise ValueError(f"{name} has no atoms")
    if ids.ndim == 2:
        return {tuple(row) for row in ids.tolist()}
    return set(ids.tolist())


def _unit_atoms(a: Any, name: str) -> np.ndarray:
    atoms = a.atoms if isinstance(a, Dictionary) else _as_atoms(a, name)
    a64 = atoms.astype(np.float64)
    out: np.ndarray = a64 / np.linalg.norm(a64, axis=1, keepdims=True)
    return out


def jaccard(a: Any, b: Any, *, by: str = "identity", threshold: float = 0.99) -> float:
    """Jaccard similarity ``|A ∩ B| / |A ∪ B|`` of two dictionaries.

    ``by="identity"`` (ITDA's index, P40): an ITDA atom *is* an activation of a given token in a
    given prompt, so two dictionaries grown on the same prompts (from two models, or two layers)
    are compared as sets of those identities: :attr:`Dictionary.identities` (the labels given to
    :func:`grow`, e.g. (prompt, position) rows, else the origins in the stream). ``a`` and ``b``
    may also be arrays of identities.

    ``by="cosine"``: for dictionaries in the same space (same ``d``), atoms match when their
    cosine is at least ``threshold``; ``|A ∩ B|`` is the size of a maximum one-to-one matching
    (Hopcroft–Karp on the bipartite graph of matching pairs) and ``|A ∪ B| = |A| + |B| − |A ∩
    B|``. ``a`` and ``b`` may also be ``(n_atoms, d)`` arrays.

    Both are symmetric, 1 for identical dictionaries and 0 for disjoint ones.

    Returns
    -------
    float in [0, 1]

    Notes
    -----
    Cost: identity, O(|A| + |B|) hashing; cosine, one ``|A| × |B| × d`` GEMM plus the matching.
    """
    by = check_choice(by, "by", JACCARD_BY)
    if by == "identity":
        sa, sb = _identity_set(a, "a"), _identity_set(b, "b")
        return len(sa & sb) / len(sa | sb)
    t = float(threshold) if isinstance(threshold, numbers.Real) else math.nan
    if isinstance(threshold, bool) or not (-1.0 <= t <= 1.0):
        raise ValueError(f"threshold must be a cosine in [-1, 1], got {threshold!r}")
    ua, ub = _unit_atoms(a, "a"), _unit_atoms(b, "b")
    if ua.shape[1] != ub.shape[1]:
        raise ValueError(
            f"a and b must hold atoms of the same dimension to compare by cosine, got "
            f"d = {ua.shape[1]} and d = {ub.shape[1]}"
        )
    graph = scipy.sparse.csr_matrix(ua @ ub.T >= t)
    match = scipy.sparse.csgraph.maximum_bipartite_matching(graph, perm_type="column")
    inter = int(np.count_nonzero(match >= 0))
    return inter / (ua.shape[0] + ub.shape[0] - inter)
