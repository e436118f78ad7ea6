"""numpy twin of csrc/include/infokit/dictionary/pursuit.hpp (same signatures as infokit._core).

Vectorised across signals: every still-running signal takes its next step together, and the
least-squares refit of OMP solves the normal equations ``G[S, S] gamma = xy[S]`` for all of them
at once (np.linalg.solve on a stack), instead of updating a Cholesky factor. Signals go in blocks
so the ``(block, s, K)`` gather of Gram rows stays small.
"""

from __future__ import annotations

import numpy as np

_BLOCK = 256


def omp_gram(
    gram: np.ndarray,
    xy: np.ndarray,
    norms_sq: np.ndarray,
    steps: int,
    tol: float,
    n_threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthogonal matching pursuit from ``G = D Dᵀ`` and ``xy = X Dᵀ``: (support, coef, count)."""
    width = steps  # at most one atom per step
    n = xy.shape[0]
    support = np.full((n, width), -1, dtype=np.int64)
    coef = np.zeros((n, width), dtype=xy.dtype)
    count = np.zeros(n, dtype=np.int64)
    g = gram.astype(np.float64)
    diag = np.diag(g).copy()
    inv_norm = 1.0 / np.sqrt(diag)
    eps = float(np.finfo(xy.dtype).eps)
    noise = 64.0 * eps * np.sqrt(np.maximum(norms_sq, 0.0))  # as the kernel's noise_floor
    for lo in range(0, n, _BLOCK):
        rows = np.arange(lo, min(n, lo + _BLOCK))
        b = xy[rows].astype(np.float64)
        c = b.copy()
        chosen = np.zeros((rows.size, 0), dtype=np.int64)
        gamma = np.zeros((rows.size, 0))
        resid = norms_sq[rows].astype(np.float64)
        alive = np.ones(rows.size, dtype=bool)
        if tol >= 0.0:
            alive &= resid > tol
        for step in range(width):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            score = np.abs(c[idx]) * inv_norm
            if step:
                np.put_along_axis(score, chosen[idx], -1.0, axis=1)
            j = np.argmax(score, axis=1)
            has_corr = score[np.arange(idx.size), j] > noise[rows[idx]]
            if step:
                g_old = g[chosen[idx][:, :, None], chosen[idx][:, None, :]]
                g_new = g[chosen[idx], j[:, None]]
                v = np.linalg.solve(g_old, g_new[:, :, None])[:, :, 0]
                pivot2 = diag[j] - np.einsum("ij,ij->i", g_new, v)
            else:
                pivot2 = diag[j]
            ok = has_corr & (pivot2 > eps * diag[j])
            alive[idx[~ok]] = False
            idx, j = idx[ok], j[ok]
            if idx.size == 0:
                break
            new_chosen = np.full((rows.size, step + 1), -1, dtype=np.int64)
            new_chosen[:, :step] = chosen
            new_chosen[idx, step] = j
            new_gamma = np.zeros((rows.size, step + 1))
            new_gamma[:, :step] = gamma
            s = new_chosen[idx]
            g_ss = g[s[:, :, None], s[:, None, :]]
            rhs = np.take_along_axis(b[idx], s, axis=1)
            gam = np.linalg.solve(g_ss, rhs[:, :, None])[:, :, 0]
            new_gamma[idx] = gam
            c[idx] = b[idx] - np.einsum("is,isk->ik", gam, g[s])
            resid[idx] = norms_sq[rows[idx]] - np.einsum("is,is->i", gam, rhs)
            chosen, gamma = new_chosen, new_gamma
            count[rows[idx]] = step + 1
            if tol >= 0.0:
                alive[idx[resid[idx] <= tol]] = False
        m = chosen.shape[1]
        if m:
            support[rows, :m] = chosen
            coef[rows, :m] = np.where(chosen >= 0, gamma, 0.0)
    return support, coef, count


def mp_gram(
    gram: np.ndarray,
    xy: np.ndarray,
    norms_sq: np.ndarray,
    steps: int,
    tol: float,
    n_threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matching pursuit from ``G = D Dᵀ`` and ``xy = X Dᵀ``: (support, coef, count).

    ``steps`` is the number of steps; the outputs have ``min(steps, K)`` columns. Atoms are
    listed in the order of their first pick; a repeated pick adds to its coefficient.
    """
    n, k = xy.shape
    g = gram.astype(np.float64)
    diag = np.diag(g).copy()
    inv_norm = 1.0 / np.sqrt(diag)
    c = xy.astype(np.float64)
    dense = np.zeros((n, k))
    first_pick = np.full((n, k), np.iinfo(np.int64).max, dtype=np.int64)
    resid = norms_sq.astype(np.float64).copy()
    noise = 64.0 * float(np.finfo(xy.dtype).eps) * np.sqrt(np.maximum(norms_sq, 0.0))
    alive = np.ones(n, dtype=bool)
    for step in range(steps):
        if tol >= 0.0:
            alive &= resid > tol
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        score = np.abs(c[idx]) * inv_norm
        j = np.argmax(score, axis=1)
        ok = score[np.arange(idx.size), j] > noise[idx]
        alive[idx[~ok]] = False
        idx, j = idx[ok], j[ok]
        cj = c[idx, j]
        step_coef = cj / diag[j]
        dense[idx, j] += step_coef
        first_pick[idx, j] = np.minimum(first_pick[idx, j], step)
        c[idx] -= step_coef[:, None] * g[j]
        resid[idx] -= cj * step_coef
    order = np.argsort(first_pick, axis=1, kind="stable")
    picked = np.take_along_axis(first_pick, order, axis=1) < np.iinfo(np.int64).max
    count = picked.sum(axis=1).astype(np.int64)
    m = min(steps, k)  # repeated atoms merge, so at most k distinct ones
    support = np.full((n, m), -1, dtype=np.int64)
    coef = np.zeros((n, m), dtype=xy.dtype)
    support[:, :m] = np.where(picked[:, :m], order[:, :m], -1)
    coef[:, :m] = np.where(picked[:, :m], np.take_along_axis(dense, order[:, :m], axis=1), 0.0)
    return support, coef, count
