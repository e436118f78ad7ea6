"""Scaling-law fits: L(x) = L_inf + (x0 / x)^alpha, with confidence intervals (P02).

Henighan et al. (P02) fit the cross-entropy loss of autoregressive models against model size N
(or compute C) with this "power law plus constant". The cross-entropy reads as
S(true) + D_KL(true || model): the constant L_inf estimates the entropy of the data (the
irreducible loss) and the power term (x0 / x)^alpha the KL divergence still to be removed (the
reducible loss), so the fit forecasts the size that reaches a given reducible loss.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

__all__ = ["PowerLawFit", "fit_power_law"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PowerLawFit:
    """A fitted L(x) = L_inf + (x0 / x)^alpha.

    Parameters are estimated by (weighted) least squares on the losses in the parametrisation
    theta = (L_inf, log x0, alpha) (L_inf fixed at 0 when ``with_constant=False``, and then absent
    from ``covariance``). ``covariance`` is the asymptotic s^2 (J^T J)^-1 of theta with
    s^2 = rss / (n - p); the intervals are t-intervals at level ``confidence`` (for x0, the
    exponentiated interval of log x0). ``constant_p_value`` is the F-test of L_inf = 0 against the
    fit with a constant (None when ``with_constant=False``).
    """

    l_inf: float
    x0: float
    alpha: float
    l_inf_ci: tuple[float, float]
    x0_ci: tuple[float, float]
    alpha_ci: tuple[float, float]
    covariance: FloatArray
    rss: float
    residual_std: float
    n: int
    with_constant: bool
    confidence: float
    constant_p_value: float | None

    def predict(self, x: Any) -> Any:
        """L(x) = L_inf + (x0 / x)^alpha."""
        return self.l_inf + self.reducible(x)

    def reducible(self, x: Any) -> Any:
        """The reducible loss (x0 / x)^alpha: in P02's reading, D_KL(true || model) at size x."""
        return (self.x0 / np.asarray(x, dtype=np.float64)) ** self.alpha

    def x_for_reducible(self, target: float) -> float:
        """The size x at which the reducible loss falls to ``target``: x0 * target^(-1/alpha)."""
        if not (isinstance(target, numbers.Real) and target > 0):
            raise ValueError(f"target must be a positive reducible loss, got {target!r}")
        return float(self.x0 * float(target) ** (-1.0 / self.alpha))


def _as_positive_1d(values: Any, name: str) -> FloatArray:
    try:
        a = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a 1-D array of real numbers: {exc}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf")
    return a


def _model(theta: FloatArray, log_x: FloatArray, with_constant: bool) -> FloatArray:
    l_inf, log_x0, alpha = theta if with_constant else (0.0, *theta)
    return l_inf + np.exp(alpha * (log_x0 - log_x))


def _initial_guess(log_x: FloatArray, loss: FloatArray, with_constant: bool) -> FloatArray:
    """A straight line in log-log space for each trial constant; the best in loss space wins."""
    low, spread = loss.min(), np.ptp(loss) or abs(loss.min()) or 1.0
    constants = [0.0]
    if with_constant:
        constants = list(low - spread * np.logspace(-4, 2, 61))
    best, best_sse = None, math.inf
    for c in constants:
        gap = loss - c
        if (gap <= 0).any():
            continue
        slope, intercept = np.polyfit(log_x, np.log(gap), 1)
        alpha = max(-slope, 1e-6)
        theta = np.array([c, intercept / alpha, alpha])
        sse = float(np.sum((_model(theta, log_x, True) - loss) ** 2))
        if sse < best_sse:
            best, best_sse = theta, sse
    assert best is not None  # the constants below min(loss) always qualify
    return best if with_constant else best[1:]


def _least_squares(
    log_x: FloatArray, loss: FloatArray, sqrt_w: FloatArray, with_constant: bool
) -> tuple[FloatArray, FloatArray, float]:
    """theta, its Jacobian at the optimum (weighted) and the weighted residual sum of squares."""
    theta0 = _initial_guess(log_x, loss, with_constant)

    def residuals(theta: FloatArray) -> FloatArray:
        return sqrt_w * (_model(theta, log_x, with_constant) - loss)

    def jacobian(theta: FloatArray) -> FloatArray:
        log_x0, alpha = theta[-2], theta[-1]
        power = np.exp(alpha * (log_x0 - log_x))
        columns = [power * alpha, power * (log_x0 - log_x)]
        if with_constant:
            columns.insert(0, np.ones_like(log_x))
        return sqrt_w[:, None] * np.stack(columns, axis=1)

    lower = np.array([-np.inf, -np.inf, 0.0])[-theta0.size :]
    theta0[-1] = max(theta0[-1], 1e-6)
    fit = optimize.least_squares(
        residuals, theta0, jac=jacobian, bounds=(lower, np.inf), xtol=1e-14, ftol=1e-14, gtol=1e-14
    )
    return fit.x, jacobian(fit.x), float(np.sum(fit.fun**2))


def fit_power_law(
    x: Any,
    loss: Any,
    *,
    with_constant: bool = True,
    weights: Any = None,
    confidence: float = 0.95,
) -> PowerLawFit:
    """Fit L(x) = L_inf + (x0 / x)^alpha to losses measured at sizes x (P02's scaling law).

    Minimises sum_i w_i (L(x_i) - loss_i)^2 over theta = (L_inf, log x0, alpha >= 0) with
    scipy's trust-region least squares, started from the best log-log line over a grid of trial
    constants; ``with_constant=False`` fixes L_inf = 0 (a pure power law). Confidence intervals
    are asymptotic t-intervals from s^2 (J^T J)^-1 with n - p degrees of freedom, p = 3 (or 2);
    they are accurate when the noise is small next to the curvature of the law (check coverage
    by simulation for sparse or very noisy data). Units: those of ``loss`` (nats for a
    cross-entropy in nats) and of ``x``. Cost: O(n) per iteration, a few dozen iterations.

    Parameters
    ----------
    x : array_like, shape (n,)
        Sizes (parameters, compute, data); must be > 0.
    loss : array_like, shape (n,)
        Losses at those sizes.
    with_constant : bool
        Fit L_inf (the irreducible loss); False fits loss = (x0 / x)^alpha and needs loss > 0.
    weights : array_like, shape (n,), optional
        Non-negative weights w_i (e.g. inverse variances); default all 1.
    confidence : float in (0, 1)

    Returns
    -------
    PowerLawFit
        Estimates, intervals, covariance, the F-test p-value of L_inf = 0, and ``predict``,
        ``reducible`` and ``x_for_reducible`` for the reading of P02.

    References
    ----------
    T. Henighan et al. (2020), "Scaling Laws for Autoregressive Generative Modeling",
    arXiv:2010.14701 (P02); J. Kaplan et al. (2020), "Scaling Laws for Neural Language Models".

    Examples
    --------
    >>> import numpy as np
    >>> from infokit.scaling import fit_power_law
    >>> x = np.logspace(6, 10, 12)
    >>> fit = fit_power_law(x, 2.0 + (1e5 / x) ** 0.3)
    >>> round(fit.l_inf, 6), round(fit.alpha, 6)
    (2.0, 0.3)
    """
    xs = _as_positive_1d(x, "x")
    ls = _as_positive_1d(loss, "loss")
    if xs.shape != ls.shape:
        raise ValueError(f"x and loss must have the same length, got {xs.size} and {ls.size}")
    if (xs <= 0).any():
        raise ValueError(f"x must be > 0 (a power law in x is fitted in log x), got min {xs.min()}")
    with_constant = bool(with_constant)
    p = 3 if with_constant else 2
    if xs.size < p + 1:
        raise ValueError(
            f"need at least {p + 1} points to fit {p} parameters with an error estimate, "
            f"got {xs.size}"
        )
    if np.unique(xs).size < p:
        raise ValueError(f"x needs at least {p} distinct values to fit {p} parameters")
    if not with_constant and (ls <= 0).any():
        raise ValueError("loss must be > 0 for a pure power law (with_constant=False)")
    if weights is None:
        w = np.ones_like(xs)
    else:
        w = _as_positive_1d(weights, "weights")
        if w.shape != xs.shape:
            raise ValueError(f"weights must have x's length {xs.size}, got {w.size}")
        if (w < 0).any():
            raise ValueError(f"weights must be >= 0, got min {w.min()}")
    if not (isinstance(confidence, numbers.Real) and 0 < confidence < 1):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")

    log_x = np.log(xs)
    sqrt_w = np.sqrt(w)
    theta, jac, rss = _least_squares(log_x, ls, sqrt_w, with_constant)
    dof = xs.size - p
    s2 = rss / dof
    covariance = s2 * np.linalg.pinv(jac.T @ jac)
    t = float(stats.t.ppf(0.5 + confidence / 2, dof))
    se = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    lo, hi = theta - t * se, theta + t * se
    p_value = None
    if with_constant:
        _, _, rss0 = (
            _least_squares(log_x, ls, sqrt_w, False) if (ls > 0).all() else (0, 0, math.inf)
        )
        f_stat = max(rss0 - rss, 0.0) / s2 if s2 > 0 else math.inf
        p_value = float(stats.f.sf(f_stat, 1, dof))
    l_inf = float(theta[0]) if with_constant else 0.0
    return PowerLawFit(
        l_inf=l_inf,
        x0=float(np.exp(theta[-2])),
        alpha=float(theta[-1]),
        l_inf_ci=(float(lo[0]), float(hi[0])) if with_constant else (0.0, 0.0),
        x0_ci=(float(np.exp(lo[-2])), float(np.exp(hi[-2]))),
        alpha_ci=(float(lo[-1]), float(hi[-1])),
        covariance=covariance,
        rss=rss,
        residual_std=math.sqrt(s2),
        n=int(xs.size),
        with_constant=with_constant,
        confidence=float(confidence),
        constant_p_value=p_value,
    )
