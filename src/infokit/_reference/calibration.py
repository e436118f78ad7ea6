"""Pure-numpy twins of the calibration kernels (csrc/include/infokit/calibration/), with the same
signatures as their bindings in infokit._core. They materialise what the kernels avoid (the
softmax table), so they are the test oracle and the fallback, not the fast path."""

from __future__ import annotations

import numpy as np


def _softmax_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shifted logits d = z - max, exp(d), row sums of exp(d)), all in float64."""
    z = x.astype(np.float64)
    d = z - z.max(axis=1, keepdims=True)
    e = np.exp(d)
    return d, e, e.sum(axis=1)


def top_label(
    x: np.ndarray,
    labels: np.ndarray,
    from_logits: bool,
    want_entropy: bool = False,
    n_threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(confidence, correct, entropy or None) of each row; correct: label is the first argmax."""
    pred = np.argmax(x, axis=1).astype(np.int64)
    entropy = None
    if from_logits:
        with np.errstate(invalid="ignore", over="ignore"):
            d, e, s = _softmax_parts(x)
            confidence = 1.0 / s
            if want_entropy:
                entropy = np.log(s) - (e * d).sum(axis=1) / s
        # As the kernel: a row holding NaN or inf gets a NaN confidence (rejected upstream).
        confidence[~np.isfinite(x).all(axis=1)] = np.nan
    else:
        confidence = x.max(axis=1).astype(np.float64)
        if want_entropy:
            entropy = _prob_entropy(x)
    return confidence, pred == labels, entropy


def _prob_entropy(p: np.ndarray) -> np.ndarray:
    p = p.astype(np.float64)
    logs = np.log(np.where(p > 0, p, 1.0))
    return -(p * logs).sum(axis=1)


def entropy_rows(x: np.ndarray, from_logits: bool, n_threads: int = 1) -> np.ndarray:
    """Predictive entropy (nats) of each row."""
    if from_logits:
        d, e, s = _softmax_parts(x)
        return np.asarray(np.log(s) - (e * d).sum(axis=1) / s)
    return _prob_entropy(x)


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value: the number of inner edges <= value (last bin closed on the right)."""
    return np.searchsorted(edges[1:-1], values, side="right")


def bin_stats(
    confidence: np.ndarray,
    correct: np.ndarray,
    edges: np.ndarray,
    uniform: bool,
    n_threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(count, hits, conf_sum) per bin of the top-label confidences."""
    n_bins = len(edges) - 1
    b = bin_index(confidence, edges)
    count = np.bincount(b, minlength=n_bins).astype(np.int64)
    hits = np.bincount(b, weights=correct.astype(np.float64), minlength=n_bins)
    conf_sum = np.bincount(b, weights=confidence, minlength=n_bins)
    return count, hits.astype(np.int64), conf_sum


def probabilities(x: np.ndarray, from_logits: bool) -> np.ndarray:
    """The probability table (float64): softmax of logits, or the probabilities as given."""
    if not from_logits:
        return x.astype(np.float64)
    _, e, s = _softmax_parts(x)
    return np.asarray(e / s[:, None])


def classwise_bin_stats(
    x: np.ndarray,
    labels: np.ndarray,
    from_logits: bool,
    edges: np.ndarray,
    uniform: bool,
    n_threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(count, hits, prob_sum), each (classes, n_bins), of the class-wise reliability bins."""
    p = probabilities(x, from_logits)
    m = p.shape[1]
    n_bins = len(edges) - 1
    cell = np.arange(m)[None, :] * n_bins + bin_index(p, edges)
    outcome = (labels[:, None] == np.arange(m)[None, :]).astype(np.float64)
    size = m * n_bins
    count = np.bincount(cell.ravel(), minlength=size).astype(np.int64)
    hits = np.bincount(cell.ravel(), weights=outcome.ravel(), minlength=size).astype(np.int64)
    prob_sum = np.bincount(cell.ravel(), weights=p.ravel(), minlength=size)
    return count.reshape(m, n_bins), hits.reshape(m, n_bins), prob_sum.reshape(m, n_bins)


def temperature_sums(
    x: np.ndarray, labels: np.ndarray, beta: float, n_threads: int = 1
) -> tuple[float, float, float]:
    """(sum nll, sum dnll/dbeta, sum d2nll/dbeta2) of softmax(beta * logits)."""
    z = x.astype(np.float64)
    d = z - z.max(axis=1, keepdims=True)
    e = np.exp(beta * d)
    s = e.sum(axis=1)
    mean = (e * d).sum(axis=1) / s
    var = np.maximum((e * d * d).sum(axis=1) / s - mean**2, 0.0)
    dy = d[np.arange(len(d)), labels]
    nll = np.log(s) - beta * dy
    return float(nll.sum()), float((mean - dy).sum()), float(var.sum())
