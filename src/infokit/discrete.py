"""Information measures estimated from discrete samples.

Every measure here is a signed sum of entropies of joint variables, for example
I(X;Y) = H(X) + H(Y) - H(X,Y). Each entropy term is estimated from its own histogram with the SAME
estimator, so the measures compose consistently for every estimator (chain rules hold exactly).
Counting is one pass per joint variable through the counting kernel (:mod:`infokit._counts`); the
estimators (:mod:`infokit._estimators`) are O(K) functions of the counts.

Samples: ``x`` is 1-D of any integer, bool, float or string dtype (each distinct value is a symbol;
labels need not be dense or non-negative), or 2-D (n, d) with one joint symbol per row.

Estimators (``estimator=``), n samples, counts c_i of the K observed symbols:

- ``"plugin"``: maximum likelihood, H = log n - (1/n) sum c_i log c_i.
- ``"miller_madow"``: plug-in + (K - 1)/(2n), K the OBSERVED symbols (Miller 1955).
- ``"grassberger"``: H = log n - (1/n) sum c_i G(c_i), G(c) = psi(c) + (1/2)(-1)^c
  [psi((c+1)/2) - psi(c/2)] (Grassberger 2003, arXiv:physics/0307138). G is evaluated
  once per distinct count value. (dit's ``entropy_2`` uses psi(n) for log n.)
- ``"chao_shen"``: coverage C = 1 - f1/n (f1 singletons; f1 = n - 1 if all are), p_i = C c_i/n,
  H = -sum p_i log p_i / (1 - (1 - p_i)^n) (Chao & Shen 2003, Environ. Ecol. Stat. 10).
- ``"shrinkage"``: James-Stein shrinkage of c_i/n toward 1/K with the Hausser-Strimmer intensity
  lambda = (1 - sum p_i^2)/((n - 1) sum (1/K - p_i)^2) clipped to [0, 1] (Hausser & Strimmer
  2009, JMLR 10). K = the observed symbols by default, as pyitlib and infomeasure do.
- ``"nsb"``: Nemenman-Shafee-Bialek: the posterior mean of H under a mixture of Dirichlet(beta)
  priors that is flat in the prior mean entropy (Nemenman, Shafee & Bialek, NIPS 14, 2002).
  Integrated over log beta in log space from the posterior peak; stable at n = 10^7.
- ``"bayes"``: plug-in of the Dirichlet posterior mean (c_i + alpha)/(n + K alpha); needs ``alpha``
  (a real > 0, or "jeffreys" 1/2, "laplace" 1, "perks" 1/K, "minimax" sqrt(n)/K).

The estimators that use an alphabet size K (``shrinkage``, ``nsb``, ``bayes``) take K = the number
of observed symbols of each entropy term; :func:`entropy` accepts ``n_symbols=`` to give K.

Bias-corrected estimators can return negative MI/CMI on independent data; values are not clipped.
Use a permutation test (:mod:`infokit.stats`) to judge whether a small value is distinguishable
from zero.

Units: nats by default; ``base=2`` gives bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _backend, _counts
from . import _estimators as _est
from ._validation import as_labels, check_base, check_same_length, to_base

__all__ = [
    "conditional_entropy",
    "entropy",
    "interaction_information",
    "mutual_information",
    "total_correlation",
]

ESTIMATORS = _est.ESTIMATORS

# A measure is a list of (sign, indices of the variables forming one joint entropy term).
_Term = tuple[int, tuple[int, ...]]


class _Options:
    """The checked keyword arguments shared by every public function."""

    def __init__(
        self,
        estimator: Any,
        base: Any,
        alpha: Any,
        local: Any,
        backend: Any,
        n_symbols: Any = None,
    ) -> None:
        self.estimator = _est.check_estimator(estimator)
        self.alpha = _est.check_alpha(alpha, self.estimator)
        self.n_symbols = _est.check_n_symbols(n_symbols, self.estimator)
        self.base = check_base(base)
        if not isinstance(local, bool):
            raise TypeError(f"local must be True or False, got {type(local).__name__}")
        if local and self.estimator != "plugin":
            raise ValueError(
                f"local=True is defined only for estimator='plugin' (pointwise -log p(x_i) "
                f"whose mean is the estimate); no pointwise value exists for "
                f"estimator={self.estimator!r}"
            )
        self.local = local
        _backend.resolve(backend)  # reject a bad backend before touching the data
        self.backend: str = backend


def _labels(named: dict[str, Any]) -> list[np.ndarray]:
    """Validate each variable as labels and check that they pair up sample by sample."""
    arrays = {name: as_labels(value, name) for name, value in named.items()}
    if len(arrays) > 1:
        check_same_length(arrays)
    return list(arrays.values())


class _Histograms:
    """Counts of joint variables, each counted once; a pair count also yields both margins."""

    def __init__(self, variables: list[np.ndarray], backend: str) -> None:
        self.variables = variables
        self.backend = backend
        self.cache: dict[tuple[int, ...], np.ndarray] = {}

    def counts(self, subset: tuple[int, ...]) -> np.ndarray:
        if subset not in self.cache:
            vs = [self.variables[i] for i in subset]
            if len(subset) == 1:
                self.cache[subset] = _counts.counts(vs[0], self.backend)
            elif len(subset) == 2:
                # One joint-count kernel call gives the joint and both marginal histograms.
                joint, cx, cy = _counts.pair_counts(vs[0], vs[1], self.backend)
                self.cache[subset] = joint
                self.cache.setdefault(subset[:1], cx)
                self.cache.setdefault(subset[1:], cy)
            else:
                self.cache[subset] = _counts.joint(*vs, backend=self.backend)[1]
        return self.cache[subset]


def _surprisal(variables: list[np.ndarray], backend: str) -> np.ndarray:
    """-log p_hat(sample) of each sample of the joint variable, p_hat = count/n (plug-in)."""
    if len(variables) == 1:
        codes, counts = _counts.codes(variables[0], backend)
    else:
        codes, counts = _counts.joint(*variables, backend=backend)
    n = codes.shape[0]
    return np.log(float(n)) - np.log(counts.astype(np.float64))[codes]


def _evaluate(
    terms: list[_Term], variables: list[np.ndarray], opts: _Options
) -> float | np.ndarray:
    """sum over terms of sign * H(joint variable), estimated with opts.estimator, in opts.base."""
    if opts.local:
        local = np.zeros(variables[0].shape[0])
        for sign, subset in terms:
            local += sign * _surprisal([variables[i] for i in subset], opts.backend)
        result: np.ndarray = to_base(local, opts.base)
        return result
    hist = _Histograms(variables, opts.backend)
    # Count the largest joints first, so pairs fill in their margins before singles are asked for.
    total = 0.0
    for sign, subset in sorted(terms, key=lambda t: -len(t[1])):
        h = _est.entropy_from_counts(
            hist.counts(subset), opts.estimator, n_symbols=opts.n_symbols, alpha=opts.alpha
        )
        total += sign * h
    return float(to_base(total, opts.base))


def entropy(
    x: Any,
    *,
    estimator: str = "plugin",
    base: float | None = None,
    alpha: float | str | None = None,
    n_symbols: int | None = None,
    local: bool = False,
    backend: str = "auto",
) -> Any:
    """Entropy H(X) estimated from discrete samples.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        Samples; a row of a 2-D array is one joint symbol. Integer, bool, float (finite) or
        string labels; labels need not be dense or non-negative.
    estimator : str
        One of ``"plugin"``, ``"miller_madow"``, ``"grassberger"``, ``"chao_shen"``,
        ``"shrinkage"``, ``"nsb"``, ``"bayes"`` (see the module docstring for formulas).
    base : float, optional
        Logarithm base of the result; None means nats, 2 bits.
    alpha : float or str, optional
        Dirichlet pseudo-count for ``estimator="bayes"`` (required there, > 0), or a named prior:
        ``"jeffreys"`` (1/2), ``"laplace"`` (1), ``"perks"`` (1/K), ``"minimax"`` (sqrt(n)/K).
    n_symbols : int, optional
        Alphabet size K for ``shrinkage``, ``nsb`` and ``bayes`` (default: the observed symbols).
        Unobserved symbols get the probability the estimator gives a zero count.
    local : bool
        If True return the pointwise values -log p_hat(x_i), shape (n,), whose mean is the plug-in
        entropy. Only ``estimator="plugin"`` has them.
    backend : {"auto", "cpp", "numpy"}
        The counting kernel: compiled or its numpy twin.

    Returns
    -------
    float, or ndarray of shape (n,) when ``local=True``.

    Notes
    -----
    Plug-in: H = log n - (1/n) sum_i c_i log c_i over the counts c_i of the K observed symbols.
    Cost: one counting pass O(n), then O(K) for the estimator (NSB: a few hundred O(D)
    evaluations, D the number of distinct count values). Reference: Cover & Thomas, Elements of
    Information Theory, ch. 2; the estimator papers are listed in the module docstring.
    """
    opts = _Options(estimator, base, alpha, local, backend, n_symbols)
    variables = _labels({"x": x})
    return _evaluate([(1, (0,))], variables, opts)


def conditional_entropy(
    x: Any,
    given: Any,
    *,
    estimator: str = "plugin",
    base: float | None = None,
    alpha: float | str | None = None,
    local: bool = False,
    backend: str = "auto",
) -> Any:
    """Conditional entropy H(X | Given) = H(X, Given) - H(Given).

    Parameters
    ----------
    x, given : array_like, shape (n,) or (n, d)
        Paired samples (rows are joint symbols), the same n.
    estimator : str
        One of ``"plugin"``, ``"miller_madow"``, ``"grassberger"``, ``"chao_shen"``,
        ``"shrinkage"``, ``"nsb"``, ``"bayes"`` (formulas in the module docstring). The same
        estimator is used for every entropy term.
    base : float, optional
        Logarithm base of the result; None means nats, 2 bits.
    alpha : float or str, optional
        Dirichlet pseudo-count for ``estimator="bayes"`` (required there, > 0), or a named prior.
    local : bool
        If True return pointwise values, shape (n,), whose mean is the plug-in estimate. Only
        ``estimator="plugin"`` has them (ValueError otherwise).
    backend : {"auto", "cpp", "numpy"}
        The counting kernel: compiled, or its numpy twin.

    Returns
    -------
    float, or ndarray of shape (n,) when ``local=True``.

    Notes
    -----
    Both terms use the same estimator, so H(X, Y) = H(Y) + H(X | Y) holds exactly for every
    estimator. Pointwise: -log p_hat(x_i | given_i) = log c(given_i) - log c(x_i, given_i).
    Cost: two counting passes, two O(K) estimates. Reference: Cover & Thomas, Elements of
    Information Theory, eq. 2.10 and 2.14.
    """
    opts = _Options(estimator, base, alpha, local, backend)
    variables = _labels({"x": x, "given": given})
    return _evaluate([(1, (0, 1)), (-1, (1,))], variables, opts)


def mutual_information(
    x: Any,
    y: Any,
    *,
    given: Any = None,
    estimator: str = "plugin",
    base: float | None = None,
    alpha: float | str | None = None,
    local: bool = False,
    backend: str = "auto",
) -> Any:
    """Mutual information I(X;Y), or conditional mutual information I(X;Y | Given).

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d)
        Paired samples (rows are joint symbols), the same n.
    given : array_like, shape (n,) or (n, d), optional
        The conditioning variable Z.
    estimator : str
        One of ``"plugin"``, ``"miller_madow"``, ``"grassberger"``, ``"chao_shen"``,
        ``"shrinkage"``, ``"nsb"``, ``"bayes"`` (formulas in the module docstring). The same
        estimator is used for every entropy term.
    base : float, optional
        Logarithm base of the result; None means nats, 2 bits.
    alpha : float or str, optional
        Dirichlet pseudo-count for ``estimator="bayes"`` (required there, > 0), or a named prior.
    local : bool
        If True return pointwise values, shape (n,), whose mean is the plug-in estimate. Only
        ``estimator="plugin"`` has them (ValueError otherwise).
    backend : {"auto", "cpp", "numpy"}
        The counting kernel: compiled, or its numpy twin.

    Returns
    -------
    float, or ndarray of shape (n,) when ``local=True``.

    Notes
    -----
    I(X;Y) = H(X) + H(Y) - H(X,Y) and I(X;Y | Z) = H(X,Z) + H(Y,Z) - H(X,Y,Z) - H(Z), every term
    with the same estimator. Without ``given`` one joint-count kernel call produces the joint and
    both marginal histograms. Plug-in MI equals ``sklearn.metrics.mutual_info_score`` and is
    biased upward by about (K_xy - K_x - K_y + 1)/(2n); bias-corrected estimators may return
    negative values (not clipped). Pointwise: log p(x,y)/(p(x)p(y)), with ``given``
    log p(x,y|z)/(p(x|z)p(y|z)). Cost: O(n) counting (one pass without ``given``, three with),
    then O(K) per term. Reference: Cover & Thomas, sections 2.4-2.5.
    """
    opts = _Options(estimator, base, alpha, local, backend)
    if given is None:
        variables = _labels({"x": x, "y": y})
        return _evaluate([(1, (0,)), (1, (1,)), (-1, (0, 1))], variables, opts)
    variables = _labels({"x": x, "y": y, "given": given})
    return _evaluate(_CMI_TERMS, variables, opts)


# I(X;Y|Z) over variables (x, y, z) = (0, 1, 2).
_CMI_TERMS: list[_Term] = [(1, (0, 2)), (1, (1, 2)), (-1, (0, 1, 2)), (-1, (2,))]


def total_correlation(
    *variables: Any,
    estimator: str = "plugin",
    base: float | None = None,
    alpha: float | str | None = None,
    local: bool = False,
    backend: str = "auto",
) -> Any:
    """Total correlation (multi-information) C = sum_i H(X_i) - H(X_1, ..., X_k).

    Parameters
    ----------
    *variables : array_like, shape (n,) or (n, d)
        At least two variables, paired sample by sample (the same n).
    estimator : str
        One of ``"plugin"``, ``"miller_madow"``, ``"grassberger"``, ``"chao_shen"``,
        ``"shrinkage"``, ``"nsb"``, ``"bayes"`` (formulas in the module docstring). The same
        estimator is used for every entropy term.
    base : float, optional
        Logarithm base of the result; None means nats, 2 bits.
    alpha : float or str, optional
        Dirichlet pseudo-count for ``estimator="bayes"`` (required there, > 0), or a named prior.
    local : bool
        If True return pointwise values, shape (n,), whose mean is the plug-in estimate. Only
        ``estimator="plugin"`` has them (ValueError otherwise).
    backend : {"auto", "cpp", "numpy"}
        The counting kernel: compiled, or its numpy twin.

    Returns
    -------
    float, or ndarray of shape (n,) when ``local=True``.

    Notes
    -----
    Zero iff the variables are independent (for the plug-in estimate: iff the empirical joint
    factorises). Pointwise: log p(x_1..x_k)/prod_i p(x_i). Cost: k + 1 counting passes and k + 1
    O(K) estimates. Reference: Watanabe (1960), IBM J. Res. Dev. 4, "Information theoretical
    analysis of multivariate correlation".
    """
    opts = _Options(estimator, base, alpha, local, backend)
    if len(variables) < 2:
        raise ValueError(f"total_correlation needs at least two variables, got {len(variables)}")
    labels = _labels({f"variables[{i}]": v for i, v in enumerate(variables)})
    k = len(labels)
    terms: list[_Term] = [(1, (i,)) for i in range(k)]
    terms.append((-1, tuple(range(k))))
    return _evaluate(terms, labels, opts)


def interaction_information(
    x: Any,
    y: Any,
    z: Any,
    *,
    estimator: str = "plugin",
    base: float | None = None,
    alpha: float | str | None = None,
    local: bool = False,
    backend: str = "auto",
) -> Any:
    """Interaction information I(X;Y;Z) = I(X;Y | Z) - I(X;Y).

    Parameters
    ----------
    x, y, z : array_like, shape (n,) or (n, d)
        Paired samples (rows are joint symbols), the same n.
    estimator : str
        One of ``"plugin"``, ``"miller_madow"``, ``"grassberger"``, ``"chao_shen"``,
        ``"shrinkage"``, ``"nsb"``, ``"bayes"`` (formulas in the module docstring). The same
        estimator is used for every entropy term.
    base : float, optional
        Logarithm base of the result; None means nats, 2 bits.
    alpha : float or str, optional
        Dirichlet pseudo-count for ``estimator="bayes"`` (required there, > 0), or a named prior.
    local : bool
        If True return pointwise values, shape (n,), whose mean is the plug-in estimate. Only
        ``estimator="plugin"`` has them (ValueError otherwise).
    backend : {"auto", "cpp", "numpy"}
        The counting kernel: compiled, or its numpy twin.

    Returns
    -------
    float, or ndarray of shape (n,) when ``local=True``.

    Notes
    -----
    Sign convention: positive for synergy (Z = X XOR Y of fair bits gives +log 2), negative for
    redundancy (X = Y = Z gives -H(X)); the convention of Jakulin & Bratko (2003, "Quantifying and
    visualizing attribute interactions"). Symmetric in x, y, z. Co-information (Bell 2003,
    ``dit.multivariate.coinformation``) is I(X;Y) - I(X;Y | Z), the NEGATIVE of this value.

    In entropies: -H(X) - H(Y) - H(Z) + H(X,Y) + H(X,Z) + H(Y,Z) - H(X,Y,Z), each with the same
    estimator. Cost: 4 counting passes, 7 O(K) estimates.
    """
    opts = _Options(estimator, base, alpha, local, backend)
    variables = _labels({"x": x, "y": y, "z": z})
    terms: list[_Term] = [
        (-1, (0,)),
        (-1, (1,)),
        (-1, (2,)),
        (1, (0, 1)),
        (1, (0, 2)),
        (1, (1, 2)),
        (-1, (0, 1, 2)),
    ]
    return _evaluate(terms, variables, opts)
