"""numpy twins of csrc/include/infokit/pmf/rows.hpp (same signatures as infokit._cypmf).

Each takes C-contiguous 2-D (rows, m) tables (3-D (tables, nx, ny) for mutual_information) whose
values the caller has validated, and returns one float64 per row. They follow the kernels'
formulas step for step, vectorised over the rows; float32 tables are upcast here (the twin favours
plainness over memory). ``n_threads`` is accepted for the same signature and ignored.
"""

from __future__ import annotations

import numpy as np

_LOG2 = float(np.log(2.0))


def _rows(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The table as float64, and each row's sum as a (rows, 1) column."""
    c = np.asarray(p, dtype=np.float64)
    return c, c.sum(axis=1, keepdims=True)


def _log_or_zero(c: np.ndarray) -> np.ndarray:
    """log c where c > 0, else 0 (the factor it multiplies is 0 there: 0 log 0 = 0)."""
    return np.log(c, out=np.zeros_like(c), where=c > 0)


def _shannon(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    log_p = _log_or_zero(c) - np.log(s)
    return -np.sum(np.where(c > 0, c / s * log_p, 0.0), axis=1)


def entropy(p: np.ndarray, n_threads: int = 1) -> np.ndarray:
    c, s = _rows(p)
    return _shannon(c, s)


def cross_entropy(p: np.ndarray, q: np.ndarray, n_threads: int = 1) -> np.ndarray:
    a, sa = _rows(p)
    b, sb = _rows(q)
    log_q = _log_or_zero(b) - np.log(sb)
    h = -np.sum(np.where(a > 0, a / sa * log_q, 0.0), axis=1)
    return np.where(((a > 0) & (b <= 0)).any(axis=1), np.inf, h)


def kl_divergence(p: np.ndarray, q: np.ndarray, n_threads: int = 1) -> np.ndarray:
    a, sa = _rows(p)
    b, sb = _rows(q)
    shift = np.log(sb) - np.log(sa)
    terms = a / sa * ((_log_or_zero(a) - _log_or_zero(b)) + shift)
    d = np.sum(np.where(a > 0, terms, 0.0), axis=1)
    d = np.where(((a > 0) & (b <= 0)).any(axis=1), np.inf, d)
    return np.maximum(d, 0.0)


def js_divergence(p: np.ndarray, q: np.ndarray, n_threads: int = 1) -> np.ndarray:
    a, sa = _rows(p)
    b, sb = _rows(q)
    pn, qn = a / sa, b / sb
    both = pn + qn
    with np.errstate(divide="ignore", invalid="ignore"):
        tp = np.where(pn > 0, pn * np.log(2.0 * pn / both), 0.0)
        tq = np.where(qn > 0, qn * np.log(2.0 * qn / both), 0.0)
    return np.clip(0.5 * np.sum(tp + tq, axis=1), 0.0, _LOG2)


def _power_sum_minus_one(c: np.ndarray, s: np.ndarray, order: float) -> np.ndarray:
    """sum over the support of p^order - p, i.e. sum p^order - 1 (see rows.hpp for the forms)."""
    pn = c / s
    support = (c > 0) & (pn > 0)
    log_p = np.where(support, _log_or_zero(c) - np.log(s), 0.0)
    with np.errstate(over="ignore"):
        x = (order - 1.0) * log_p
        near = pn * np.expm1(np.minimum(x, 1.0))  # clipped: that branch is not taken above 1
        far = np.exp(order * log_p) - pn
    return np.sum(np.where(support, np.where(x < 1.0, near, far), 0.0), axis=1)


def renyi_entropy(p: np.ndarray, alpha: float, n_threads: int = 1) -> np.ndarray:
    c, s = _rows(p)
    if alpha == 1.0:
        return _shannon(c, s)
    top = c.max(axis=1, keepdims=True)
    if np.isinf(alpha):
        return np.log(s[:, 0]) - np.log(top[:, 0])
    if abs(alpha - 1.0) < 0.5:
        return np.log1p(_power_sum_minus_one(c, s, alpha)) / (1.0 - alpha)
    log_top = np.log(top)
    with np.errstate(over="ignore", invalid="ignore"):  # only in entries the mask drops
        scaled = np.where(c > 0, np.exp(alpha * (_log_or_zero(c) - log_top)), 0.0)
    log_p_top = (log_top - np.log(s))[:, 0]
    return (alpha / (1.0 - alpha)) * log_p_top + np.log(scaled.sum(axis=1)) / (1.0 - alpha)


def tsallis_entropy(p: np.ndarray, q: float, n_threads: int = 1) -> np.ndarray:
    c, s = _rows(p)
    if q == 1.0:
        return _shannon(c, s)
    if np.isinf(q):
        return np.zeros(c.shape[0])
    return -_power_sum_minus_one(c, s, q) / (q - 1.0)


def mutual_information(joint: np.ndarray, n_threads: int = 1) -> np.ndarray:
    c = np.asarray(joint, dtype=np.float64)
    s = c.sum(axis=(1, 2), keepdims=True)
    rows = c.sum(axis=2, keepdims=True)
    cols = c.sum(axis=1, keepdims=True)
    log_given_x = _log_or_zero(c) - _log_or_zero(rows)  # log p(y|x)
    log_marginal_y = _log_or_zero(cols) - np.log(s)  # log p(y)
    terms = np.where(c > 0, c / s * (log_given_x - log_marginal_y), 0.0)
    return np.maximum(terms.sum(axis=(1, 2)), 0.0)
