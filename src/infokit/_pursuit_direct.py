"""Pursuits without the Gram matrix, for dictionaries too large for ``D Dᵀ``.

The Gram route (csrc/include/infokit/dictionary/pursuit.hpp) pays ``K² d`` flops and ``K²``
memory once, then ``O(K s²)`` per signal. Here every step recomputes the residual's correlations
with all atoms by one BLAS product ``R Dᵀ`` (``n K d`` per step) and refits OMP's coefficients
from the chosen atoms' own small Gram matrices, so memory is ``O(n K)`` per chunk of signals
and nothing is ``K²``: the better route when ``K`` exceeds about ``s · n``, or when ``K²``
does not fit. Same selection rule, stopping rules and compact output as the kernels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

_CHUNK_BYTES = 64 << 20  # bound on one chunk's (signals × atoms) correlation block


@dataclass(frozen=True)
class _Setup:
    """What both pursuits start from: per-atom norms, the noise floor and the zeroed outputs."""

    diag: np.ndarray  # squared atom norms (float64)
    inv_norm: np.ndarray  # 1 / atom norms: the atom is chosen by |<r, d_j>| / ||d_j||
    noise: np.ndarray  # per signal: a score at or below this is rounding, and the pursuit stops
    a64: np.ndarray  # the atoms in float64, for the updates
    support: np.ndarray  # (n, width) chosen atoms, -1 padded
    coef: np.ndarray  # (n, width) their coefficients, in x's dtype
    count: np.ndarray  # (n,) atoms used per signal


def _setup(x: np.ndarray, atoms: np.ndarray, width: int, norms_sq: np.ndarray) -> _Setup:
    diag = np.einsum("ij,ij->i", atoms, atoms, dtype=np.float64)
    n = x.shape[0]
    return _Setup(
        diag=diag,
        inv_norm=1.0 / np.sqrt(diag),
        noise=64.0 * float(np.finfo(x.dtype).eps) * np.sqrt(norms_sq),
        a64=atoms.astype(np.float64, copy=False),
        support=np.full((n, width), -1, dtype=np.int64),
        coef=np.zeros((n, width), dtype=x.dtype),
        count=np.zeros(n, dtype=np.int64),
    )


def _row_blocks(n: int, k: int) -> Iterator[np.ndarray]:
    """The signal rows of each chunk, so that a chunk's correlations take <= _CHUNK_BYTES."""
    step = max(1, _CHUNK_BYTES // (8 * max(k, 1)))
    for lo in range(0, n, step):
        yield np.arange(lo, min(n, lo + step))


def _scores(
    resid: np.ndarray, atoms: np.ndarray, inv_norm: np.ndarray, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Correlations of the (float64) residuals with every atom, by one BLAS product in the
    signals' ``dtype``, and the selection scores |corr| / ||d_j||."""
    corr = (resid.astype(dtype) @ atoms.T).astype(np.float64)
    return corr, np.abs(corr) * inv_norm


def omp_direct(
    x: np.ndarray, atoms: np.ndarray, steps: int, tol: float, norms_sq: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OMP from the atoms themselves: (support, coef, count) as ``omp_gram`` returns them."""
    out = _setup(x, atoms, steps, norms_sq)
    diag, a64 = out.diag, out.a64
    eps = float(np.finfo(x.dtype).eps)
    for rows in _row_blocks(x.shape[0], atoms.shape[0]):
        xb = x[rows].astype(np.float64)
        resid = xb.copy()
        chosen = np.zeros((rows.size, 0), dtype=np.int64)
        gamma = np.zeros((rows.size, 0))
        alive = np.ones(rows.size, dtype=bool)
        if tol >= 0.0:
            alive &= norms_sq[rows] > tol
        for step in range(steps):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            score = _scores(resid[idx], atoms, out.inv_norm, x.dtype)[1]
            if step:
                np.put_along_axis(score, chosen[idx], -1.0, axis=1)
            j = np.argmax(score, axis=1)
            ok = score[np.arange(idx.size), j] > out.noise[rows[idx]]
            if step:
                d_old = a64[chosen[idx]]  # (m, step, d)
                g_old = d_old @ d_old.transpose(0, 2, 1)
                g_new = np.einsum("msd,md->ms", d_old, a64[j])
                v = np.linalg.solve(g_old, g_new[:, :, None])[:, :, 0]
                pivot2 = diag[j] - np.einsum("ms,ms->m", g_new, v)
                ok &= pivot2 > eps * diag[j]
            alive[idx[~ok]] = False
            idx, j = idx[ok], j[ok]
            if idx.size == 0:
                break
            grown = np.full((rows.size, step + 1), -1, dtype=np.int64)
            grown[:, :step] = chosen
            grown[idx, step] = j
            new_gamma = np.zeros((rows.size, step + 1))
            new_gamma[:, :step] = gamma
            d_s = a64[grown[idx]]  # (m, step + 1, d)
            g_ss = d_s @ d_s.transpose(0, 2, 1)
            rhs = np.einsum("msd,md->ms", d_s, xb[idx])
            gam = np.linalg.solve(g_ss, rhs[:, :, None])[:, :, 0]
            new_gamma[idx] = gam
            resid[idx] = xb[idx] - np.einsum("ms,msd->md", gam, d_s)
            chosen, gamma = grown, new_gamma
            out.count[rows[idx]] = step + 1
            if tol >= 0.0:
                left = np.einsum("md,md->m", resid[idx], resid[idx])
                alive[idx[left <= tol]] = False
        m = chosen.shape[1]
        if m:
            out.support[rows, :m] = chosen
            out.coef[rows, :m] = np.where(chosen >= 0, gamma, 0.0)
    return out.support, out.coef, out.count


def mp_direct(
    x: np.ndarray, atoms: np.ndarray, steps: int, tol: float, norms_sq: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matching pursuit from the atoms themselves: (support, coef, count) as ``mp_gram``."""
    k = atoms.shape[0]
    width = min(steps, k)
    out = _setup(x, atoms, width, norms_sq)
    never = np.iinfo(np.int64).max
    for rows in _row_blocks(x.shape[0], k):
        resid = x[rows].astype(np.float64)
        left = norms_sq[rows].astype(np.float64)  # fancy indexing: already a new array
        dense = np.zeros((rows.size, k))
        first_pick = np.full((rows.size, k), never, dtype=np.int64)
        alive = np.ones(rows.size, dtype=bool)
        for step in range(steps):
            if tol >= 0.0:
                alive &= left > tol
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            corr, score = _scores(resid[idx], atoms, out.inv_norm, x.dtype)
            j = np.argmax(score, axis=1)
            ok = score[np.arange(idx.size), j] > out.noise[rows[idx]]
            alive[idx[~ok]] = False
            idx, j, cj = idx[ok], j[ok], corr[ok, j[ok]]
            step_coef = cj / out.diag[j]
            dense[idx, j] += step_coef
            first_pick[idx, j] = np.minimum(first_pick[idx, j], step)
            resid[idx] -= step_coef[:, None] * out.a64[j]
            left[idx] -= cj * step_coef
        order = np.argsort(first_pick, axis=1, kind="stable")[:, :width]
        picked = np.take_along_axis(first_pick, order, axis=1) < never
        out.count[rows] = picked.sum(axis=1)
        out.support[rows] = np.where(picked, order, -1)
        out.coef[rows] = np.where(picked, np.take_along_axis(dense, order, axis=1), 0.0)
    return out.support, out.coef, out.count
