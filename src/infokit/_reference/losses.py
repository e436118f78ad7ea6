"""numpy twins of the cross-entropy epilogue kernels (csrc/include/infokit/losses/epilogue.hpp).

Same signatures and the same in-place contract as ``infokit._core.losses_row_stats`` and
``losses_softmax_grad``: a tile z of raw logits covering vocabulary columns [col0, col0 + cols)
becomes v = cap(z + bias), folded into a per-row state (max, Σe^{v−m}, Σe^{v−m}(v−m),
Σ weight·v, v at the target) or overwritten with the loss gradient. Everything is computed in
float64 and written back in z's dtype. With soft targets q (rows × ld, global columns), the target
field accumulates Σ weight·q·v instead, and the gradient's target term is b·weight·q.
"""

from __future__ import annotations

import numpy as np

MAX, SUM, SHIFTED_SUM, WEIGHTED_SUM, TARGET = range(5)


def _transform(z: np.ndarray, col0: int, bias: np.ndarray | None, softcap: float) -> np.ndarray:
    v = z.astype(np.float64)
    cols = z.shape[1]
    if bias is not None:
        v += bias[col0 : col0 + cols].astype(np.float64)
    if softcap != 0.0:
        v = softcap * np.tanh(v / softcap)
    return v


def _target_columns(targets: np.ndarray, col0: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose target falls in this tile, and the target's column inside the tile."""
    local = targets - col0
    rows = np.flatnonzero((local >= 0) & (local < cols))
    return rows, local[rows]


def losses_row_stats(
    z: np.ndarray,
    col0: int,
    targets: np.ndarray,
    bias: np.ndarray | None,
    class_weight: np.ndarray | None,
    softcap: float,
    write_transformed: bool,
    state: np.ndarray,
    n_threads: int = 1,
    soft: np.ndarray | None = None,
) -> None:
    """Fold the tile ``z`` into ``state`` (rows × 5, float64) in place."""
    del n_threads  # numpy decides its own threading
    rows, cols = z.shape
    v = _transform(z, col0, bias, softcap)
    if write_transformed:
        z[...] = v
    st = state.reshape(rows, 5)
    with np.errstate(invalid="ignore", over="ignore"):
        tile_max = v.max(axis=1, initial=-np.inf) if cols else np.full(rows, -np.inf)
        m_old = st[:, MAX].copy()
        m = np.fmax(m_old, tile_max)
        s_old, u_old = st[:, SUM], st[:, SHIFTED_SUM]
        grow = (s_old > 0) & (m > m_old)
        scale = np.exp(np.where(grow, m_old - m, 0.0))
        u = np.where(grow, (u_old + (m_old - m) * s_old) * scale, u_old)
        s = np.where(grow, s_old * scale, s_old)
        finite = m > -np.inf
        d = v - np.where(finite, m, 0.0)[:, None]
        e = np.where(finite[:, None], np.exp(d), 0.0)
        ed = np.where((e > 0) | np.isnan(e), e * d, 0.0)
        weight = 1.0 if class_weight is None else class_weight[col0 : col0 + cols]
        st[:, MAX] = m
        st[:, SUM] = s + e.sum(axis=1)
        st[:, SHIFTED_SUM] = u + ed.sum(axis=1)
        st[:, WEIGHTED_SUM] += (v * weight).sum(axis=1)
    hit, local = _target_columns(targets, col0, cols)
    st[hit, TARGET] = v[hit, local]
    if soft is not None:
        q = soft[:, col0 : col0 + cols].astype(np.float64)
        st[:, TARGET] += (weight * q * v).sum(axis=1)


def losses_softmax_grad(
    z: np.ndarray,
    col0: int,
    targets: np.ndarray,
    bias: np.ndarray | None,
    class_weight: np.ndarray | None,
    softcap: float,
    already_transformed: bool,
    lse: np.ndarray,
    coef: np.ndarray,
    dbias: np.ndarray | None,
    n_threads: int = 1,
    soft: np.ndarray | None = None,
) -> float:
    """Overwrite ``z`` with the gradient; add its column sums to ``dbias``; return max |g|."""
    del n_threads
    rows, cols = z.shape
    v = z.astype(np.float64) if already_transformed else _transform(z, col0, bias, softcap)
    c3 = coef.reshape(rows, 3)
    a, b, c = c3[:, 0:1], c3[:, 1], c3[:, 2:3]
    weight = 1.0 if class_weight is None else class_weight[col0 : col0 + cols]
    g = a * np.exp(v - lse[:, None]) - c * weight
    hit, local = _target_columns(targets, col0, cols)
    g[hit, local] -= b[hit]
    if soft is not None:
        g -= b[:, None] * weight * soft[:, col0 : col0 + cols].astype(np.float64)
    if softcap != 0.0:
        g *= 1.0 - (v / softcap) ** 2
    g[(c3 == 0).all(axis=1)] = 0.0
    z[...] = g
    if dbias is not None:
        dbias[col0 : col0 + cols] += g.sum(axis=0)
    return float(np.abs(g).max(initial=0.0))
