"""Calibration of classifiers: binned calibration errors, reliability diagrams, temperature
scaling, and the split-point self-consistency scores of P38.

Scores come as probabilities or, with ``from_logits=True``, as logits:

- **2-D** ``(n, classes)``: one row per sample. The top-label confidence is the largest
  probability and the outcome is whether its class (the first maximum) equals the label. From
  logits the softmax is fused into that pass, ``confidence = 1 / sum_j exp(z_j - max z)``: no
  probability table is formed (the C++ kernel reads each row once more from cache).
- **1-D** ``(n,)``: binary scores, the probability (or logit) of class 1; the confidence is that
  probability and the outcome is ``label == 1`` (torchmetrics' ``binary_calibration_error``).

Bins (``n_bins``, default 15 as in Guo et al. 2017):

- ``strategy="uniform"``: edges ``k / n_bins``; ``strategy="quantile"``: edges at the quantiles of
  the confidences (equal-mass bins; tied confidences always share a bin, so bins may be unequal or
  empty).
- Bins are ``[e_k, e_{k+1})``, closed on the left, and the LAST bin is closed on the right, so a
  confidence of exactly 1.0 counts in the last bin. torchmetrics (1.9, ``bucketize(...,
  right=True) - 1`` over ``n_bins + 1`` accumulators) gives such a sample an extra bin of its own
  (Lightning-AI/torchmetrics#3510): for confidences ``[1.0, 0.95]`` with outcomes ``[0, 1]`` infokit
  has one last bin with accuracy 0.5, confidence 0.975, ECE 0.475, where torchmetrics reports
  (1.0 + 0.05)/2 = 0.525. Away from confidences of exactly 1.0 both agree.
- Empty bins contribute nothing.

Rejected: NaN or inf scores, probabilities outside [0, 1] or rows not summing to 1 (tolerance
1e-6 for float64, 1e-4 for float32), labels outside ``[0, classes)``, mismatched lengths
(``ValueError``); non-real scores or non-integer labels (``TypeError``).

float32 scores are read as they are (never copied); all sums are accumulated in float64.
``backend="auto"`` runs the C++ kernels (``infokit._core``) when built, else their numpy twins.
Threads split the rows (``infokit.set_num_threads``); results are bitwise identical for any
thread count.

References: C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger (2017), "On calibration of modern neural
networks", ICML; M. P. Naeini, G. Cooper, M. Hauskrecht (2015), "Obtaining well calibrated
probabilities using Bayesian binning", AAAI; J. Nixon et al. (2019), "Measuring calibration in deep
learning", CVPR workshops (adaptive, equal-mass bins); M. Kull et al. (2019), "Beyond temperature
scaling", NeurIPS (class-wise ECE); P06 (Liu et al. 2024, calibration aware of prediction
correctness); P38 (split-point self-consistency).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _backend
from ._reference import calibration as _ref
from ._threads import get_num_threads
from ._validation import check_base, check_choice, check_positive_int, to_base

__all__ = [
    "ReliabilityDiagram",
    "SplitPoint",
    "TemperatureFit",
    "adaptive_ece",
    "apply_temperature",
    "classification_self_consistency",
    "classwise_ece",
    "ece",
    "fit_temperature",
    "mce",
    "predictive_entropy",
    "reliability_diagram",
    "rms_calibration_error",
    "self_consistency_discrepancy",
    "split_point_residuals",
]

STRATEGIES = ("uniform", "quantile")
_SUM_TOLERANCE = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-6}


# --- argument handling -------------------------------------------------------------------------


def _kernels(backend: str) -> ModuleType:
    if _backend.resolve(backend) == "cpp":
        module = _backend.compiled("_core")
        assert module is not None  # resolve() said the build is there
        return module
    return _ref


def _as_scores(x: Any, name: str, allow_1d: bool = True) -> np.ndarray:
    """A C-contiguous float32/float64 array of scores, 1-D or 2-D (other reals -> float64)."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of probabilities or logits: {exc}") from None
    if a.dtype.kind in "biu" or (a.dtype.kind == "f" and a.dtype not in (np.float32, np.float64)):
        a = a.astype(np.float64)
    elif a.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    dims = "1-D (n,) binary scores or 2-D (n, classes)" if allow_1d else "2-D (n, classes)"
    if a.ndim not in ((1, 2) if allow_1d else (2,)):
        raise ValueError(f"{name} must be {dims}, got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError(f"{name} is empty: need at least one sample")
    if a.ndim == 2 and a.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 classes (columns), got shape {a.shape}")
    return np.ascontiguousarray(a)


def _check_probabilities(p: np.ndarray, name: str) -> None:
    """Entries in [0, 1] and (2-D) rows summing to 1 within a dtype-dependent tolerance."""
    sums = p.sum(axis=-1, dtype=np.float64) if p.ndim == 2 else p.astype(np.float64)
    if not np.isfinite(sums).all():
        raise ValueError(f"{name} contains NaN or inf; scores must be finite")
    low, high = p.min(), p.max()
    if low < 0 or high > 1:
        raise ValueError(
            f"{name} must hold probabilities in [0, 1], got values in [{low}, {high}]; "
            "pass from_logits=True for logits"
        )
    if p.ndim == 2:
        tol = _SUM_TOLERANCE[p.dtype]
        worst = float(np.max(np.abs(sums - 1.0)))
        if worst > tol:
            raise ValueError(
                f"{name} rows must sum to 1 (tolerance {tol}), but a row sums to "
                f"{1.0 + worst if np.any(sums > 1) else 1.0 - worst:.6g}; "
                "pass from_logits=True for logits"
            )


def _check_finite_rows(x: np.ndarray, name: str) -> None:
    """One pass without a temporary table: a NaN or inf makes its row's float64 sum non-finite."""
    if not np.isfinite(x.sum(axis=-1, dtype=np.float64)).all():
        raise ValueError(f"{name} contains NaN or inf; logits must be finite")


def _as_labels(labels: Any, n: int, n_classes: int, name: str = "labels") -> np.ndarray:
    """Labels as a C-contiguous int64 (n,) array with values in [0, n_classes)."""
    a = np.asarray(labels)
    if a.dtype.kind not in "biu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {a.dtype}")
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n,), got shape {a.shape}")
    if a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} entries but the scores have {n} rows")
    a = np.ascontiguousarray(a, dtype=np.int64)
    if n and (a.min() < 0 or a.max() >= n_classes):
        raise ValueError(
            f"{name} must lie in [0, {n_classes}) for {n_classes} classes, "
            f"got values in [{a.min()}, {a.max()}]"
        )
    return a


def _check_strategy(strategy: Any) -> str:
    return check_choice(strategy, "strategy", STRATEGIES)


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _uniform_edges(n_bins: int) -> np.ndarray:
    # k / n_bins exactly (linspace's k * (1/n_bins) can be one ulp off an edge).
    return np.arange(n_bins + 1, dtype=np.float64) / n_bins


def _edges(values: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if strategy == "uniform":
        return _uniform_edges(n_bins)
    return np.ascontiguousarray(np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    z = x.astype(np.float64, copy=False)
    return np.asarray(np.exp(-np.logaddexp(0.0, -z)))


def _top_label(
    scores: Any, labels: Any, from_logits: Any, backend: str
) -> tuple[np.ndarray, np.ndarray]:
    """Validated (confidence float64, correct bool) of every sample."""
    logits = _check_bool(from_logits, "from_logits")
    x = _as_scores(scores, "scores")
    if x.ndim == 1:  # binary: the score of class 1
        y = _as_labels(labels, x.shape[0], 2)
        if logits:
            _check_finite_rows(x[:, None], "scores")
            return _sigmoid(x), y == 1
        _check_probabilities(x, "scores")
        return x.astype(np.float64), y == 1
    y = _as_labels(labels, x.shape[0], x.shape[1])
    if not logits:
        _check_probabilities(x, "scores")
    conf, correct, _ = _kernels(backend).top_label(
        x, y, from_logits=logits, want_entropy=False, n_threads=get_num_threads()
    )
    if logits and not np.isfinite(conf).all():
        raise ValueError("scores contains NaN or inf; logits must be finite")
    return conf, correct


@dataclass(frozen=True)
class ReliabilityDiagram:
    """Per-bin data of a reliability diagram and the calibration errors it implies.

    Attributes
    ----------
    edges : ndarray, shape (n_bins + 1,)
        Bin edges; bins are [e_k, e_{k+1}), the last one closed on the right.
    count : ndarray of int64, shape (n_bins,)
        Samples per bin.
    confidence, accuracy : ndarray, shape (n_bins,)
        Mean confidence and fraction correct per bin (NaN for empty bins).
    ece, mce, rms : float
        Expected, maximum and root-mean-square calibration error over the bins.
    """

    edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    ece: float
    mce: float
    rms: float

    def plot(self, ax: Any = None) -> Any:
        """Draw the diagram with matplotlib (imported only here) and return the Axes.

        Bars show the accuracy of each bin over its width; the dashed diagonal is perfect
        calibration. Raises ImportError if matplotlib is not installed.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("ReliabilityDiagram.plot needs matplotlib installed") from exc
        if ax is None:
            _, ax = plt.subplots()
        left, width = self.edges[:-1], np.diff(self.edges)
        filled = self.count > 0
        ax.bar(
            left[filled],
            self.accuracy[filled],
            width=width[filled],
            align="edge",
            edgecolor="black",
            label="accuracy",
        )
        ax.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfect calibration")
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_title(f"ECE = {self.ece:.4f}")
        ax.legend()
        return ax


def _diagram(
    confidence: np.ndarray, correct: np.ndarray, n_bins: Any, strategy: Any, backend: str
) -> ReliabilityDiagram:
    b = check_positive_int(n_bins, "n_bins")
    edges = _edges(confidence, b, _check_strategy(strategy))
    count, hits, conf_sum = _kernels(backend).bin_stats(
        confidence, correct, edges, uniform=strategy == "uniform", n_threads=get_num_threads()
    )
    n = confidence.shape[0]
    filled = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(filled, conf_sum / count, np.nan)
        accuracy = np.where(filled, hits / count, np.nan)
    gap = np.abs(accuracy[filled] - mean_conf[filled])
    weight = count[filled] / n
    return ReliabilityDiagram(
        edges=edges,
        count=np.asarray(count, dtype=np.int64),
        confidence=mean_conf,
        accuracy=accuracy,
        ece=float(np.sum(weight * gap)),
        mce=float(gap.max()) if gap.size else 0.0,
        rms=float(math.sqrt(np.sum(weight * gap**2))),
    )


_COMMON_PARAMS = """
    Parameters
    ----------
    scores : array_like, shape (n, classes) or (n,)
        Probabilities (rows summing to 1) or, with ``from_logits=True``, logits. 1-D: binary
        scores of class 1.
    labels : array_like of int, shape (n,)
        True classes in ``[0, classes)`` (``{0, 1}`` for binary scores).
    from_logits : bool
        Read ``scores`` as logits (softmax, or sigmoid for 1-D, fused into the pass).
    n_bins : int
        Number of bins (default 15).
    strategy : {"uniform", "quantile"}
        Equal-width bins on [0, 1] or equal-mass bins at the confidence quantiles.
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.
"""


def reliability_diagram(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    from_logits: bool = False,
    n_bins: int = 15,
    strategy: str = "uniform",
    backend: str = "auto",
) -> ReliabilityDiagram:
    """Reliability-diagram data: per-bin count, mean confidence and accuracy, with ECE/MCE/RMS.

    Call ``.plot()`` on the result to draw it (needs matplotlib).
    {params}
    Returns
    -------
    ReliabilityDiagram

    Notes
    -----
    Cost: one pass over the scores (from logits: one exp per entry) plus O(n) for the bins
    (O(n log n) for quantile edges). Reference: Guo et al. (2017), sec. 2; Naeini et al. (2015).
    """
    conf, correct = _top_label(scores, labels, from_logits, backend)
    return _diagram(conf, correct, n_bins, strategy, backend)


def ece(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    from_logits: bool = False,
    n_bins: int = 15,
    strategy: str = "uniform",
    backend: str = "auto",
) -> float:
    r"""Expected calibration error of the top-label confidence.

    .. math:: \mathrm{ECE} = \sum_b \frac{|B_b|}{n} \left| \mathrm{acc}(B_b) - \mathrm{conf}(B_b)
              \right|

    with ``acc`` the fraction of correct predictions and ``conf`` the mean confidence in bin b.
    {params}
    Returns
    -------
    float
        In [0, 1]; 0 for a perfectly calibrated classifier (in the binned sense).

    Notes
    -----
    Cost: one pass over the scores (from logits: one exp per entry, no softmax table), O(n)
    for the bins. Equals torchmetrics' ``multiclass_calibration_error(norm="l1")`` except for
    confidences of exactly 1.0 (module docstring). Reference: Naeini et al. (2015); Guo et al.
    (2017), eq. 3.
    """
    return reliability_diagram(
        scores, labels, from_logits=from_logits, n_bins=n_bins, strategy=strategy, backend=backend
    ).ece


def mce(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    from_logits: bool = False,
    n_bins: int = 15,
    strategy: str = "uniform",
    backend: str = "auto",
) -> float:
    r"""Maximum calibration error: the largest |accuracy - confidence| over non-empty bins.

    .. math:: \mathrm{MCE} = \max_{b:\,|B_b| > 0} \left| \mathrm{acc}(B_b) - \mathrm{conf}(B_b)
              \right|
    {params}
    Returns
    -------
    float
        In [0, 1].

    Notes
    -----
    Cost: as :func:`ece`. torchmetrics' ``norm="max"``. Reference: Naeini et al. (2015).
    """
    return reliability_diagram(
        scores, labels, from_logits=from_logits, n_bins=n_bins, strategy=strategy, backend=backend
    ).mce


def rms_calibration_error(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    from_logits: bool = False,
    n_bins: int = 15,
    strategy: str = "uniform",
    backend: str = "auto",
) -> float:
    r"""Root-mean-square (L2) calibration error over the bins.

    .. math:: \mathrm{RMSCE} = \Big( \sum_b \frac{|B_b|}{n} \left( \mathrm{acc}(B_b) -
              \mathrm{conf}(B_b) \right)^2 \Big)^{1/2}
    {params}
    Returns
    -------
    float
        In [0, 1]; ``ECE <= RMSCE <= MCE``.

    Notes
    -----
    Cost: as :func:`ece`. torchmetrics' ``norm="l2"``. Reference: Nixon et al. (2019).
    """
    return reliability_diagram(
        scores, labels, from_logits=from_logits, n_bins=n_bins, strategy=strategy, backend=backend
    ).rms


def adaptive_ece(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    from_logits: bool = False,
    n_bins: int = 15,
    backend: str = "auto",
) -> float:
    """Adaptive (equal-mass) ECE: :func:`ece` with ``strategy="quantile"``.

    Bin edges are the quantiles of the confidences, so each bin holds about n / n_bins samples
    (ties share a bin). Parameters as :func:`ece` without ``strategy``.

    Returns
    -------
    float

    Notes
    -----
    Cost: as :func:`ece` plus O(n log n) for the quantiles. Reference: Nixon et al. (2019).
    """
    return ece(
        scores,
        labels,
        from_logits=from_logits,
        n_bins=n_bins,
        strategy="quantile",
        backend=backend,
    )


def classwise_ece(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    from_logits: bool = False,
    n_bins: int = 15,
    strategy: str = "uniform",
    backend: str = "auto",
) -> float:
    r"""Class-wise ECE: the mean over classes k of the binary ECE of p_k against 1[y = k].

    .. math:: \mathrm{cwECE} = \frac{1}{K} \sum_k \sum_b \frac{|B_{kb}|}{n}
              \left| \bar{y}_k(B_{kb}) - \bar{p}_k(B_{kb}) \right|
    {params}
    Returns
    -------
    float

    Notes
    -----
    Cost: O(n K) with one exp per entry from logits; uniform bins never form the probability
    table (the C++ kernel bins each row as it goes), quantile bins need per-class quantiles and
    do form it. 1-D binary scores count as two classes (1 - p, p). Reference: Kull et al.
    (2019), sec. 4.
    """
    logits = _check_bool(from_logits, "from_logits")
    b = check_positive_int(n_bins, "n_bins")
    strat = _check_strategy(strategy)
    x = _as_scores(scores, "scores")
    if x.ndim == 1:
        p1 = _sigmoid(x) if logits else x.astype(np.float64)
        if logits:
            _check_finite_rows(x[:, None], "scores")
        else:
            _check_probabilities(x, "scores")
        x, logits = np.ascontiguousarray(np.stack([1.0 - p1, p1], axis=1)), False
    elif logits:
        _check_finite_rows(x, "scores")
    else:
        _check_probabilities(x, "scores")
    n, k = x.shape
    y = _as_labels(labels, n, k)
    if strat == "uniform":
        _, hits, prob_sum = _kernels(backend).classwise_bin_stats(
            x,
            y,
            from_logits=logits,
            edges=_uniform_edges(b),
            uniform=True,
            n_threads=get_num_threads(),
        )
        return float(np.abs(hits - prob_sum).sum() / (n * k))
    p = _ref.probabilities(x, logits)
    total = 0.0
    for j in range(k):  # per-class quantile edges: one top-label pass per column
        edges = _edges(p[:, j], b, "quantile")
        col = np.ascontiguousarray(p[:, j])
        _, hits, psum = _kernels(backend).bin_stats(
            col, y == j, edges, uniform=False, n_threads=get_num_threads()
        )
        total += float(np.abs(hits - psum).sum()) / n
    return total / k


# --- temperature scaling -----------------------------------------------------------------------


@dataclass(frozen=True)
class TemperatureFit:
    """Result of :func:`fit_temperature`.

    Attributes
    ----------
    temperature : float
        T > 0; calibrated probabilities are softmax(logits / T).
    nll_before, nll_after : float
        Mean negative log-likelihood (nats per sample) at T = 1 and at the fitted T.
    n_iter : int
        Newton iterations taken.
    converged : bool
        False if the iteration limit was hit or beta = 1/T passed 1e12 (an optimum at T -> 0);
        then T is the last iterate.
    """

    temperature: float
    nll_before: float
    nll_after: float
    n_iter: int
    converged: bool


def fit_temperature(
    logits: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
    backend: str = "auto",
) -> TemperatureFit:
    r"""Fit the temperature T of temperature scaling by minimising the NLL with Newton's method.

    With :math:`\beta = 1/T` the mean negative log-likelihood

    .. math:: L(\beta) = \frac{1}{n} \sum_i \Big[ \log \sum_j e^{\beta z_{ij}} - \beta z_{i y_i}
              \Big]

    is convex, with :math:`L' = \mathrm{mean}(E_p[z] - z_y)` and
    :math:`L'' = \mathrm{mean}(\mathrm{Var}_p[z]) \ge 0` under
    :math:`p = \mathrm{softmax}(\beta z)`.
    Newton steps on beta from beta = 1 (a step that would make beta <= 0 goes to beta / 4
    instead; a step that raises L is halved) stop when the Newton step is below ``tol``
    relative to beta; near the optimum convergence is quadratic (5-10 passes).

    Parameters
    ----------
    logits : array_like, shape (n, classes)
        Logits of a held-out calibration set.
    labels : array_like of int, shape (n,)
        True classes.
    max_iter : int
        Iteration limit (typically 5-10 are used).
    tol : float
        Relative step size at which to stop.
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.

    Returns
    -------
    TemperatureFit

    Notes
    -----
    Cost: one pass over the logits per iteration (exp in float64, sums in float64), no
    probability table. Reference: Guo et al. (2017), sec. 4.2.
    """
    x = _as_scores(logits, "logits", allow_1d=False)
    _check_finite_rows(x, "logits")
    n, k = x.shape
    y = _as_labels(labels, n, k)
    iters = check_positive_int(max_iter, "max_iter")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number in (0, 1), got {type(tol).__name__}")
    if not 0 < float(tol) < 1:
        raise ValueError(f"tol must be a real number in (0, 1), got {tol!r}")
    kern = _kernels(backend)
    nt = get_num_threads()
    if kern.top_label(x, y, from_logits=True, want_entropy=False, n_threads=nt)[1].all():
        raise ValueError(
            "every sample is classified correctly: the NLL keeps falling as T -> 0 and has no "
            "minimiser; temperature scaling needs some misclassified calibration samples"
        )

    def sums(beta: float) -> tuple[float, float, float]:
        f, g, h = kern.temperature_sums(x, y, beta=beta, n_threads=nt)
        return f / n, g / n, h / n

    beta = 1.0
    f, g, h = sums(beta)
    nll_before = f
    converged = False
    it = 0
    while it < iters:
        it += 1
        if not h > 0.0:  # flat (all logits equal in every row): nothing to fit
            converged = True
            break
        step = g / h
        if abs(step) <= float(tol) * beta:
            converged = True
            break
        new = beta - step if beta - step > 0.0 else beta / 4.0
        fn, gn, hn = sums(new)
        halvings = 0
        # Damped Newton: never go uphill (beyond the rounding noise of the mean NLL).
        while fn > f + 1e-13 * max(1.0, abs(f)) and halvings < 60:
            new = beta + (new - beta) / 2.0
            fn, gn, hn = sums(new)
            halvings += 1
        beta, f, g, h = new, fn, gn, hn
        if beta > 1e12:  # separable data: the optimum is at T -> 0
            break
    return TemperatureFit(
        temperature=1.0 / beta, nll_before=nll_before, nll_after=f, n_iter=it, converged=converged
    )


def apply_temperature(logits: npt.ArrayLike, temperature: float) -> np.ndarray:
    """Calibrated probabilities ``softmax(logits / temperature)`` along the last axis.

    Parameters
    ----------
    logits : array_like, shape (..., classes)
        Logits; float32 stays float32 (the exponentials are taken in float64).
    temperature : float
        T > 0, e.g. ``fit_temperature(...).temperature``.

    Returns
    -------
    ndarray
        Probabilities of the same shape, rows summing to 1.

    Notes
    -----
    Cost: O(size); this forms the probability table (it is the output). Reference: Guo et al.
    (2017).
    """
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a real number, got {type(temperature).__name__}")
    t = float(temperature)
    if not math.isfinite(t) or t <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    x = np.asarray(logits)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"logits must hold real numbers, got dtype {x.dtype}")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"logits must have a non-empty last axis of classes, got shape {x.shape}")
    z = x.astype(np.float64) / t
    if not np.isfinite(z).all():
        raise ValueError("logits contains NaN or inf; logits must be finite")
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=-1, keepdims=True)
    return p.astype(np.float32) if x.dtype == np.float32 else p


# --- P38: predictive entropy and split-point self-consistency ------------------------------------


def predictive_entropy(
    scores: npt.ArrayLike,
    *,
    from_logits: bool = False,
    base: float | None = None,
    backend: str = "auto",
) -> float | npt.NDArray[np.float64]:
    r"""Entropy of the predictive distribution of each sample.

    .. math:: H(p) = -\sum_j p_j \log p_j = \log s - \frac{1}{s} \sum_j e^{z_j - m}(z_j - m)

    (the second form from logits, with m = max z and s = sum exp(z - m); no softmax is formed).

    Parameters
    ----------
    scores : array_like, shape (n, classes) or (classes,)
        Probabilities (rows summing to 1) or logits.
    from_logits : bool
        Read ``scores`` as logits.
    base : float, optional
        None for nats, 2 for bits.
    backend : {"auto", "cpp", "numpy"}
        Compiled kernel or numpy twin.

    Returns
    -------
    float or ndarray of shape (n,)
        In [0, log classes].

    Notes
    -----
    Cost: one pass, one exp per entry (from logits) or one log per positive entry. P38 computes
    it on the SDS-adjusted probabilities; here it is the plain measure of any probabilities.
    Reference: P38 (split-point self-consistency); Cover and Thomas (2006), ch. 2.
    """
    logits = _check_bool(from_logits, "from_logits")
    bb = check_base(base)
    a = np.asarray(scores)
    if a.ndim not in (1, 2):
        raise ValueError(f"scores must be 1-D (classes,) or 2-D (n, classes), got shape {a.shape}")
    one = a.ndim == 1
    x = _as_scores(a[None, :] if one else a, "scores", allow_1d=False)
    if logits:
        _check_finite_rows(x, "scores")
    else:
        _check_probabilities(x, "scores")
    h = _kernels(backend).entropy_rows(x, from_logits=logits, n_threads=get_num_threads())
    h = np.maximum(h, 0.0)  # rounding can leave -1e-16 for a one-hot row
    out = to_base(h, bb)
    return float(out[0]) if one else np.asarray(out, dtype=np.float64)


def _as_mar(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf")
    if a.size and a.min() < 0:
        raise ValueError(f"{name} must be >= 0 (a mean absolute residual), got min {a.min()}")
    return a


def self_consistency_discrepancy(
    mar: npt.ArrayLike, mar_up: npt.ArrayLike, mar_down: npt.ArrayLike
) -> float | npt.NDArray[np.float64]:
    r"""Split-point self-consistency discrepancy score (SDS) of P38.

    Split the residuals r = y - f(x) at 0: ``mar_up`` is the mean of r over r > 0, ``mar_down``
    the mean of -r over r < 0, ``mar`` the mean of |r|. For an unbiased predictor (E r = 0) the
    total MAR is the harmonic mean of the two sides, ``mar = 2 mu md / (mu + md)``, so

    .. math:: \mathrm{SDS} = \left| 2\, \mathrm{MAR}_\uparrow \mathrm{MAR}_\downarrow -
              \mathrm{MAR} \,(\mathrm{MAR}_\uparrow + \mathrm{MAR}_\downarrow) \right|

    is 0 when the three are self-consistent and grows with the (epistemic) inconsistency.

    Parameters
    ----------
    mar, mar_up, mar_down : array_like
        Non-negative; broadcast together (e.g. per-sample predictions of three MAR heads).

    Returns
    -------
    float or ndarray
        SDS >= 0 in squared units of the target (the reference code also reports its square
        root); a float for scalar inputs.

    Notes
    -----
    Cost: O(size). Reference: P38 (Post-hoc split-point self-consistency verification, sec. on
    self-consistency; the regression form as in its reference code).
    """
    m, u, d = (
        _as_mar(v, nm) for v, nm in ((mar, "mar"), (mar_up, "mar_up"), (mar_down, "mar_down"))
    )
    try:
        m, u, d = np.broadcast_arrays(m, u, d)
    except ValueError:
        raise ValueError(
            f"mar, mar_up and mar_down must broadcast together, got shapes "
            f"{np.shape(mar)}, {np.shape(mar_up)}, {np.shape(mar_down)}"
        ) from None
    sds = np.abs(2.0 * u * d - m * (u + d))
    return float(sds) if sds.ndim == 0 else sds


@dataclass(frozen=True)
class SplitPoint:
    """Split-point analysis of residuals r = y_true - y_pred (P38).

    Attributes
    ----------
    mar : float
        Mean absolute residual, mean |r|.
    mar_up, mar_down : float
        Mean of r over r > 0 and of -r over r < 0 (NaN if that side is empty).
    fraction_up : float
        Fraction of residuals > 0.
    harmonic : float
        ``2 mar_up mar_down / (mar_up + mar_down)``: the MAR an unbiased predictor would have.
    discrepancy : float
        The SDS ``|2 mar_up mar_down - mar (mar_up + mar_down)|`` (NaN if a side is empty).
    """

    mar: float
    mar_up: float
    mar_down: float
    fraction_up: float
    harmonic: float
    discrepancy: float


def split_point_residuals(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> SplitPoint:
    """Split-point analysis (SPA) of regression residuals and their self-consistency (P38).

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n,)
        Targets and predictions, finite.

    Returns
    -------
    SplitPoint
        ``discrepancy`` is 0 exactly when the residuals have mean 0 (E r = 0 makes the MAR the
        harmonic mean of the side MARs); a biased predictor gives a positive value.

    Notes
    -----
    Cost: O(n). Reference: P38.
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    for a, nm in ((t, "y_true"), (p, "y_pred")):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{nm} must hold real numbers, got dtype {a.dtype}")
        if a.ndim != 1:
            raise ValueError(f"{nm} must be 1-D (n,), got shape {a.shape}")
    if t.shape != p.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {t.shape} and {p.shape}"
        )
    if t.shape[0] < 2:
        raise ValueError(f"need at least 2 samples, got {t.shape[0]}")
    r = t.astype(np.float64) - p.astype(np.float64)
    if not np.isfinite(r).all():
        raise ValueError("y_true and y_pred must be finite (NaN or inf found)")
    up, down = r[r > 0], -r[r < 0]
    mar = float(np.mean(np.abs(r)))
    mu = float(up.mean()) if up.size else math.nan
    md = float(down.mean()) if down.size else math.nan
    harmonic = 2 * mu * md / (mu + md) if up.size and down.size else math.nan
    return SplitPoint(
        mar=mar,
        mar_up=mu,
        mar_down=md,
        fraction_up=float(up.size / r.size),
        harmonic=harmonic,
        discrepancy=abs(2 * mu * md - mar * (mu + md)),
    )


def classification_self_consistency(
    scores: npt.ArrayLike, mar: npt.ArrayLike, *, from_logits: bool = False
) -> npt.NDArray[np.float64]:
    r"""Per-sample self-consistency discrepancy of a classifier with a MAR head (P38).

    For class k the one-hot residual |1[y = k] - p_k| of a calibrated p_k has mean
    2 p_k (1 - p_k), so a predicted mean absolute residual ``mar`` far from it flags an
    inconsistent (epistemically uncertain) sample:

    .. math:: \mathrm{SDS}_i = \sum_k \left| \mathrm{MAR}_{ik} - 2 p_{ik} (1 - p_{ik}) \right|

    Parameters
    ----------
    scores : array_like, shape (n, classes)
        Probabilities or, with ``from_logits=True``, logits.
    mar : array_like, shape (n, classes)
        Predicted mean absolute residuals per class (e.g. a MAR head trained on
        |onehot - p|).
    from_logits : bool
        Read ``scores`` as logits.

    Returns
    -------
    ndarray of shape (n,)

    Notes
    -----
    Cost: O(n K) (forms the probability table). Reference: P38, classification form of its
    reference code.
    """
    logits = _check_bool(from_logits, "from_logits")
    x = _as_scores(scores, "scores", allow_1d=False)
    if logits:
        _check_finite_rows(x, "scores")
    else:
        _check_probabilities(x, "scores")
    m = _as_mar(mar, "mar")
    if m.shape != x.shape:
        raise ValueError(f"mar must have the shape of scores {x.shape}, got {m.shape}")
    p = _ref.probabilities(x, logits)
    return np.asarray(np.abs(m - 2.0 * p * (1.0 - p)).sum(axis=1))


for _f in (reliability_diagram, ece, mce, rms_calibration_error, classwise_ece):
    if _f.__doc__:
        _f.__doc__ = _f.__doc__.replace("{params}", _COMMON_PARAMS)
