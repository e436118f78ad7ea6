"""infokit.discrete and its estimators (infokit._estimators).

References: scipy.stats.entropy of a bincount, sklearn's mutual_info_score, dit (plug-in measures of
the empirical distribution, its Grassberger entropy_2), pyitlib (plug-in, James-Stein, Dirichlet)
when installed, closed forms (uniform, shift channel), hand derivations of each estimator, an
independent NSB integral over xi (the paper's variable) with exact rising factorials, and the numpy
twin of the counting kernel.
"""

from __future__ import annotations

import math

import dit
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate, optimize
from scipy.special import digamma, polygamma
from sklearn.metrics import mutual_info_score

import infokit
from infokit import _estimators, discrete

ESTIMATORS = discrete.ESTIMATORS


def kwargs_for(estimator: str) -> dict:
    """The extra argument an estimator needs (bayes requires alpha)."""
    return {"alpha": 0.5} if estimator == "bayes" else {}


def three_variables(n: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, n)
    z = rng.integers(0, 3, n)
    y = (x + z + rng.integers(0, 2, n)) % 5
    return x, y, z


def dit_distribution(*columns: np.ndarray) -> dit.Distribution:
    """The empirical distribution of the rows (columns[0][i], columns[1][i], ...) as dit sees it."""
    rows = np.stack(columns, axis=1)
    outcomes, counts = np.unique(rows, axis=0, return_counts=True)
    return dit.Distribution([tuple(int(v) for v in r) for r in outcomes], counts / counts.sum())


# ---------------------------------------------------------------------------------------------
# Plug-in measures against scipy, scikit-learn and dit


@pytest.mark.parametrize(
    "dtype", [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64]
)
def test_plugin_entropy_matches_scipy_bincount(backend, dtype):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2 if dtype is np.bool_ else 40, 5000).astype(dtype)
    expected = scipy.stats.entropy(np.bincount(x.astype(np.int64)))
    assert discrete.entropy(x) == pytest.approx(expected, rel=1e-12)
    assert discrete.entropy(x, base=2) == pytest.approx(expected / math.log(2), rel=1e-12)
    assert isinstance(discrete.entropy(x), float)


def test_plugin_entropy_of_sparse_negative_labels_matches_scipy(backend):
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 30, 4000)
    labels = np.array([-(10**15), -7, 0, 3, 2**40, *range(100, 125)], dtype=np.int64)
    x = labels[codes]
    expected = scipy.stats.entropy(np.bincount(codes))
    assert discrete.entropy(x) == pytest.approx(expected, rel=1e-12)


def test_plugin_mi_matches_sklearn(backend):
    x, y, _ = three_variables()
    expected = mutual_info_score(x, y)
    assert discrete.mutual_information(x, y) == pytest.approx(expected, rel=1e-12)
    # mixed dtypes and a 2-D variable take other counting routes
    assert discrete.mutual_information(x.astype(np.int8), y.astype(np.uint64)) == pytest.approx(
        expected, rel=1e-12
    )


def test_plugin_measures_match_dit(backend):
    x, y, z = three_variables(n=1500, seed=3)
    d = dit_distribution(x, y, z)
    bits = {"base": 2}
    assert discrete.entropy(x, **bits) == pytest.approx(dit.shannon.entropy(d, [0]), rel=1e-12)
    assert discrete.entropy(np.stack([x, y], 1), **bits) == pytest.approx(
        dit.shannon.entropy(d, [0, 1]), rel=1e-12
    )
    assert discrete.conditional_entropy(x, given=y, **bits) == pytest.approx(
        dit.shannon.conditional_entropy(d, [0], [1]), rel=1e-12
    )
    assert discrete.mutual_information(x, y, **bits) == pytest.approx(
        dit.shannon.mutual_information(d, [0], [1]), rel=1e-12
    )
    assert discrete.mutual_information(x, y, given=z, **bits) == pytest.approx(
        dit.multivariate.coinformation(d, [[0], [1]], [2]), rel=1e-12
    )
    assert discrete.total_correlation(x, y, z, **bits) == pytest.approx(
        dit.multivariate.total_correlation(d, [[0], [1], [2]]), rel=1e-12
    )
    # Our interaction information is I(X;Y|Z) - I(X;Y); dit's co-information is its negative.
    assert discrete.interaction_information(x, y, z, **bits) == pytest.approx(
        -dit.multivariate.coinformation(d, [[0], [1], [2]]), rel=1e-10
    )


def test_interaction_information_sign_on_xor_and_copies():
    # XOR: synergy, +1 bit. Three copies of a fair bit: redundancy, -1 bit.
    x = np.array([0, 0, 1, 1])
    y = np.array([0, 1, 0, 1])
    assert discrete.interaction_information(x, y, x ^ y, base=2) == pytest.approx(1.0)
    assert discrete.interaction_information(x, x, x, base=2) == pytest.approx(-1.0)


# ---------------------------------------------------------------------------------------------
# Closed forms


@pytest.mark.parametrize("m", [2, 7, 256])
def test_uniform_entropy_is_log_m(backend, m):
    x = np.tile(np.arange(m) * 3 - 100, 11)  # exactly balanced, sparse, negative labels
    assert discrete.entropy(x) == pytest.approx(math.log(m), rel=1e-13)
    assert discrete.entropy(x, base=2) == pytest.approx(math.log2(m), rel=1e-13)


@pytest.mark.parametrize(("m", "shift"), [(8, 1), (8, 2), (12, 3), (100, 7)])
def test_shift_channel_mi_is_log_m_over_shift(backend, m, shift):
    # Every (x, u) pair once: x uniform over m, u uniform over {0..shift-1}, y = x + u mod m.
    x = np.repeat(np.arange(m), shift)
    u = np.tile(np.arange(shift), m)
    y = (x + u) % m
    assert discrete.mutual_information(x, y) == pytest.approx(math.log(m / shift), abs=1e-12)
    assert discrete.conditional_entropy(y, given=x) == pytest.approx(math.log(shift), abs=1e-12)


def test_shift_channel_from_random_samples_approaches_closed_form():
    rng = np.random.default_rng(4)
    m, shift, n = 16, 4, 200_000
    x = rng.integers(0, m, n)
    y = (x + rng.integers(0, shift, n)) % m
    truth = math.log(m / shift)
    # Plug-in bias (K_xy - K_x - K_y + 1)/(2n) is about 1.2e-4 here; sampling error ~ 3e-3.
    assert discrete.mutual_information(x, y) == pytest.approx(truth, abs=0.01)
    assert discrete.mutual_information(x, y, estimator="miller_madow") == pytest.approx(
        truth, abs=0.01
    )


# ---------------------------------------------------------------------------------------------
# The numpy twin, threads, input layouts and dtypes


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_compiled_and_numpy_backends_agree(estimator):
    if "cpp" not in infokit.available_backends():
        pytest.skip("no compiled backend")
    x, y, z = three_variables(n=3000, seed=5)
    kw = kwargs_for(estimator)
    for fn, args in [
        (discrete.entropy, (x,)),
        (discrete.conditional_entropy, (x, z)),
        (discrete.mutual_information, (x, y)),
        (discrete.total_correlation, (x, y, z)),
        (discrete.interaction_information, (x, y, z)),
    ]:
        a = fn(*args, estimator=estimator, backend="cpp", **kw)
        b = fn(*args, estimator=estimator, backend="numpy", **kw)
        assert a == pytest.approx(b, rel=1e-12, abs=1e-13)
    a = discrete.mutual_information(x, y, given=z, estimator=estimator, backend="cpp", **kw)
    b = discrete.mutual_information(x, y, given=z, estimator=estimator, backend="numpy", **kw)
    assert a == pytest.approx(b, rel=1e-12, abs=1e-13)


def test_one_and_two_threads_give_identical_results():
    rng = np.random.default_rng(6)
    n = 300_000  # above the counting kernel's threading grain
    x = rng.integers(0, 500, n)
    y = (x + rng.integers(0, 50, n)) % 700
    z = rng.integers(-2, 2, n)
    results = []
    for t in (1, 2):
        with infokit.threads(t):
            results.append(
                [
                    discrete.entropy(x),
                    discrete.entropy(x, estimator="nsb"),
                    discrete.mutual_information(x, y),
                    discrete.mutual_information(x, y, given=z, estimator="grassberger"),
                    discrete.interaction_information(x, y, z),
                ]
            )
            local = discrete.mutual_information(x, y, local=True)
        results[-1].append(local)
    for a, b in zip(results[0][:-1], results[1][:-1], strict=True):
        assert a == b
    np.testing.assert_array_equal(results[0][-1], results[1][-1])


def test_rows_are_joint_symbols(backend):
    rng = np.random.default_rng(7)
    xy = rng.integers(0, 4, size=(3000, 2))
    joint_code = xy[:, 0] * 4 + xy[:, 1]
    z = (xy[:, 0] + rng.integers(0, 2, 3000)) % 3
    for estimator in ESTIMATORS:
        kw = kwargs_for(estimator)
        assert discrete.entropy(xy, estimator=estimator, **kw) == pytest.approx(
            discrete.entropy(joint_code, estimator=estimator, **kw), rel=1e-12
        )
        assert discrete.mutual_information(xy, z, estimator=estimator, **kw) == pytest.approx(
            discrete.mutual_information(joint_code, z, estimator=estimator, **kw), rel=1e-12
        )
    assert discrete.mutual_information(xy, z) == pytest.approx(
        mutual_info_score(joint_code, z), rel=1e-12
    )


def test_read_only_and_strided_inputs(backend):
    rng = np.random.default_rng(8)
    big = rng.integers(0, 30, (4000, 3))
    x = big[::2, 0]  # strided view
    y = big[::2, 1]
    ro = np.ascontiguousarray(big[::2, :2])
    ro.setflags(write=False)
    xc, yc = x.copy(), y.copy()
    assert not x.flags.c_contiguous
    assert discrete.entropy(x) == pytest.approx(discrete.entropy(xc), rel=1e-14)
    assert discrete.mutual_information(x, y) == pytest.approx(mutual_info_score(xc, yc), rel=1e-12)
    assert discrete.entropy(ro) == pytest.approx(discrete.entropy(xc * 30 + yc), rel=1e-12)
    assert discrete.mutual_information(ro[:, 0], ro[:, 1], given=big[::2, 2]) >= 0.0
    # A transposed (Fortran-ordered) 2-D array is rows all the same.
    fortran = np.asfortranarray(big[::2, :2])
    assert discrete.entropy(fortran) == pytest.approx(discrete.entropy(ro), rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_labels_are_symbols(backend, dtype):
    x, y, _ = three_variables(n=2000, seed=9)
    xf = (x * 0.5).astype(dtype)
    yf = (y - 0.25).astype(dtype)
    assert discrete.entropy(xf) == pytest.approx(discrete.entropy(x), rel=1e-14)
    assert discrete.mutual_information(xf, yf) == pytest.approx(
        discrete.mutual_information(x, y), rel=1e-14
    )


def test_python_lists_and_strings_are_accepted():
    assert discrete.entropy([1, 1, 2, 2]) == pytest.approx(math.log(2))
    assert discrete.mutual_information(["a", "b", "a", "b"], [0, 1, 0, 1]) == pytest.approx(
        math.log(2)
    )


# ---------------------------------------------------------------------------------------------
# Properties (hypothesis)

labels_strategy = hnp.arrays(np.int64, st.integers(1, 60), elements=st.integers(-4, 4))


@st.composite
def paired(draw, k: int = 2):
    n = draw(st.integers(1, 60))
    return [draw(hnp.arrays(np.int64, n, elements=st.integers(-3, 3))) for _ in range(k)]


@settings(max_examples=40, deadline=None)
@given(xy=paired(2), estimator=st.sampled_from(ESTIMATORS))
def test_mi_is_symmetric(xy, estimator):
    x, y = xy
    kw = kwargs_for(estimator)
    a = discrete.mutual_information(x, y, estimator=estimator, **kw)
    b = discrete.mutual_information(y, x, estimator=estimator, **kw)
    assert a == pytest.approx(b, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(xy=paired(2), estimator=st.sampled_from(ESTIMATORS))
def test_chain_rule(xy, estimator):
    x, y = xy
    kw = kwargs_for(estimator)
    joint = discrete.entropy(np.stack([x, y], 1), estimator=estimator, **kw)
    chained = discrete.entropy(x, estimator=estimator, **kw) + discrete.conditional_entropy(
        y, given=x, estimator=estimator, **kw
    )
    assert joint == pytest.approx(chained, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(xyz=paired(3))
def test_plugin_mi_bounds_and_cmi_nonnegative(xyz):
    x, y, z = xyz
    mi = discrete.mutual_information(x, y)
    hx, hy = discrete.entropy(x), discrete.entropy(y)
    tol = 1e-12
    assert -tol <= mi <= min(hx, hy) + tol
    assert discrete.mutual_information(x, y, given=z) >= -tol
    assert discrete.total_correlation(x, y, z) >= -tol
    # the plug-in MI is exactly sklearn's
    assert mi == pytest.approx(mutual_info_score(x, y), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    xy=paired(2),
    targets=st.lists(st.integers(-(2**62), 2**62), min_size=7, max_size=7, unique=True),
    estimator=st.sampled_from(ESTIMATORS),
)
def test_invariant_to_relabelling(xy, targets, estimator):
    x, y = xy  # labels in -3..3: map them injectively to arbitrary (sparse, negative) labels
    relabel = np.array(targets, dtype=np.int64)
    x2, y2 = relabel[x + 3], relabel[::-1][y + 3]
    kw = kwargs_for(estimator)
    assert discrete.entropy(x2, estimator=estimator, **kw) == pytest.approx(
        discrete.entropy(x, estimator=estimator, **kw), rel=1e-12, abs=1e-12
    )
    assert discrete.mutual_information(x2, y2, estimator=estimator, **kw) == pytest.approx(
        discrete.mutual_information(x, y, estimator=estimator, **kw), rel=1e-9, abs=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(bits=hnp.arrays(np.bool_, st.integers(1, 80)), estimator=st.sampled_from(ESTIMATORS))
def test_bool_labels_equal_integer_labels(bits, estimator):
    kw = kwargs_for(estimator)
    as_int = np.where(bits, -5, 9)
    assert discrete.entropy(bits, estimator=estimator, **kw) == pytest.approx(
        discrete.entropy(as_int, estimator=estimator, **kw), rel=1e-12, abs=1e-12
    )


# ---------------------------------------------------------------------------------------------
# Local (pointwise) values


def test_local_values_average_to_the_plugin_estimates(backend):
    x, y, z = three_variables(n=2000, seed=10)
    cases = [
        (discrete.entropy, (x,), {}),
        (discrete.conditional_entropy, (x, z), {}),
        (discrete.mutual_information, (x, y), {}),
        (discrete.mutual_information, (x, y), {"given": z}),
        (discrete.total_correlation, (x, y, z), {}),
        (discrete.interaction_information, (x, y, z), {}),
    ]
    for fn, args, kw in cases:
        local = fn(*args, local=True, base=2, **kw)
        assert isinstance(local, np.ndarray)
        assert local.shape == (x.size,)
        assert local.mean() == pytest.approx(fn(*args, base=2, **kw), rel=1e-10, abs=1e-12)


def test_local_mi_is_pointwise_log_ratio():
    x = np.array([0, 0, 1, 1, 1, 2])
    y = np.array([5, 5, 5, 6, 6, 6])
    n = x.size
    px = {v: np.mean(x == v) for v in set(x.tolist())}
    py = {v: np.mean(y == v) for v in set(y.tolist())}
    expected = [
        math.log(np.mean((x == a) & (y == b)) / (px[a] * py[b])) for a, b in zip(x, y, strict=True)
    ]
    np.testing.assert_allclose(discrete.mutual_information(x, y, local=True), expected, rtol=1e-13)
    np.testing.assert_allclose(
        discrete.entropy(x, local=True), [-math.log(px[a]) for a in x], rtol=1e-13
    )
    assert n == 6


@pytest.mark.parametrize("estimator", [e for e in ESTIMATORS if e != "plugin"])
def test_local_values_are_refused_for_bias_corrected_estimators(estimator):
    with pytest.raises(ValueError, match=f"local=True.*estimator='{estimator}'"):
        discrete.entropy([1, 2, 2], estimator=estimator, local=True, **kwargs_for(estimator))
    with pytest.raises(ValueError, match=f"estimator='{estimator}'"):
        discrete.mutual_information(
            [1, 2, 2], [1, 1, 2], estimator=estimator, local=True, **kwargs_for(estimator)
        )


# ---------------------------------------------------------------------------------------------
# Estimators, each against an independent derivation


def test_miller_madow_is_plugin_plus_k_minus_one_over_2n(backend):
    rng = np.random.default_rng(11)
    x = rng.integers(0, 25, 700)
    counts = np.bincount(x)
    k, n = np.count_nonzero(counts), x.size
    expected = scipy.stats.entropy(counts) + (k - 1) / (2 * n)
    assert discrete.entropy(x, estimator="miller_madow") == pytest.approx(expected, rel=1e-12)


def test_grassberger_by_hand():
    # counts (1, 2, 3), n = 6. With psi(1) = -g, psi(1/2) = -g - 2 log 2, psi(x + 1) = psi(x) + 1/x:
    # G(1) = psi(1) - (psi(1) - psi(1/2))/2 = -g - log 2
    # G(2) = psi(2) + (psi(3/2) - psi(1))/2 = (1 - g) + (2 - 2 log 2)/2 = 2 - g - log 2
    # G(3) = psi(3) - (psi(2) - psi(3/2))/2 = (3/2 - g) - (2 log 2 - 1)/2 = 2 - g - log 2
    # H = log 6 - (1/6)(G(1) + 2 G(2) + 3 G(3)) = log 6 - 10/6 + g + log 2
    g, ln2 = np.euler_gamma, math.log(2)
    expected = math.log(6) - 10 / 6 + g + ln2
    x = np.array([7, 8, 8, 9, 9, 9])
    assert discrete.entropy(x, estimator="grassberger") == pytest.approx(expected, rel=1e-13)


def test_grassberger_matches_dit_entropy_2():
    # dit's entropy_2 writes G through an alternating sum,
    # G(c) = psi(c) - log 2 - sum_{j<c} (-1)^j/j, and uses psi(n) where Grassberger (2003) has
    # log n: the two differ by exactly log n - psi(n).
    from dit.inference.estimators import entropy_2

    rng = np.random.default_rng(12)
    x = rng.integers(0, 12, 150)
    n = x.size
    expected = entropy_2(x.tolist()) * math.log(2) + math.log(n) - digamma(n)
    assert discrete.entropy(x, estimator="grassberger") == pytest.approx(expected, rel=1e-10)


def test_chao_shen_by_hand():
    # counts (1, 1, 2, 4), n = 8: f1 = 2, coverage C = 1 - 2/8 = 3/4, p = C c / n.
    x = np.array([0, 1, 2, 2, 3, 3, 3, 3])
    n, coverage = 8, 0.75
    expected = 0.0
    for c in (1, 1, 2, 4):
        p = coverage * c / n
        expected += -p * math.log(p) / (1 - (1 - p) ** n)
    assert discrete.entropy(x, estimator="chao_shen") == pytest.approx(expected, rel=1e-13)


def test_chao_shen_all_singletons_uses_f1_n_minus_1():
    # n = 4 singletons: f1 = n - 1 = 3, C = 1/4, p = 1/16 each.
    p = 1 / 16
    expected = -4 * p * math.log(p) / (1 - (1 - p) ** 4)
    assert discrete.entropy([3, 1, 4, 5], estimator="chao_shen") == pytest.approx(expected)
    assert discrete.entropy([2, 2, 2], estimator="chao_shen") == 0.0


def test_shrinkage_lambda_by_hand():
    # counts (2, 8), n = 10, K = 2, target 1/2. p = (0.2, 0.8), sum p^2 = 0.68,
    # sum (1/2 - p)^2 = 0.18, lambda = 0.32 / (9 * 0.18) = 16/81.
    # shrunk p = 8/81 + (65/81) (0.2, 0.8) = (21/81, 60/81).
    assert _estimators.shrinkage_lambda(np.array([2, 8]), 2) == pytest.approx(16 / 81)
    x = np.array([0] * 2 + [1] * 8)
    expected = -(21 / 81 * math.log(21 / 81) + 60 / 81 * math.log(60 / 81))
    assert discrete.entropy(x, estimator="shrinkage") == pytest.approx(expected, rel=1e-13)
    # With an alphabet of 4: sum (1/4 - p)^2 = 0.0025 + 0.3025 + 2/16 = 0.43,
    # lambda = 0.32 / (9 * 0.43); the two unseen symbols get lambda/4 each.
    lam = 0.32 / (9 * 0.43)
    p = [lam / 4 + (1 - lam) * 0.2, lam / 4 + (1 - lam) * 0.8, lam / 4, lam / 4]
    expected4 = -sum(q * math.log(q) for q in p)
    assert discrete.entropy(x, estimator="shrinkage", n_symbols=4) == pytest.approx(
        expected4, rel=1e-13
    )


def test_bayes_matches_direct_formula():
    x = np.array([0, 0, 0, 2])  # counts (3, 1), plus one unseen symbol when n_symbols = 3
    for alpha, k in [(0.5, 2), (0.5, 3), (2.0, 5)]:
        counts = [3, 1] + [0] * (k - 2)
        p = [(c + alpha) / (4 + k * alpha) for c in counts]
        expected = -sum(q * math.log(q) for q in p)
        got = discrete.entropy(x, estimator="bayes", alpha=alpha, n_symbols=k)
        assert got == pytest.approx(expected, rel=1e-13)
    # named priors: Jeffreys 1/2, Laplace 1, Perks 1/K, minimax sqrt(n)/K (here K = 2, n = 4)
    for name, value in [("jeffreys", 0.5), ("laplace", 1.0), ("perks", 0.5), ("minimax", 1.0)]:
        assert discrete.entropy(x, estimator="bayes", alpha=name) == pytest.approx(
            discrete.entropy(x, estimator="bayes", alpha=value), rel=1e-14
        )


def test_estimators_from_pyitlib():
    """Plug-in, James-Stein (shrinkage) and Dirichlet (bayes) against pyitlib, when installed."""
    drv = pytest.importorskip("pyitlib.discrete_random_variable")
    rng = np.random.default_rng(13)
    x = rng.integers(0, 30, 80)  # undersampled: shrinkage and the prior matter
    e = math.e
    assert discrete.entropy(x) == pytest.approx(drv.entropy(x, base=e), rel=1e-12)
    assert discrete.entropy(x, estimator="shrinkage") == pytest.approx(
        drv.entropy(x, base=e, estimator="JAMES-STEIN"), rel=1e-12
    )
    alphabet = np.arange(40)
    assert discrete.entropy(x, estimator="shrinkage", n_symbols=40) == pytest.approx(
        drv.entropy(x, base=e, estimator="JAMES-STEIN", Alphabet_X=alphabet), rel=1e-12
    )
    assert discrete.entropy(x, estimator="bayes", alpha=0.7, n_symbols=40) == pytest.approx(
        drv.entropy(x, base=e, estimator=0.7, Alphabet_X=alphabet), rel=1e-12
    )
    assert discrete.entropy(x, estimator="bayes", alpha="perks") == pytest.approx(
        drv.entropy(x, base=e, estimator="PERKS"), rel=1e-12
    )
    assert discrete.entropy(x, estimator="bayes", alpha="minimax") == pytest.approx(
        drv.entropy(x, base=e, estimator="MINIMAX"), rel=1e-12
    )


# NSB reference: the paper's own form, a flat prior over xi in (0, log K), beta(xi) found by root
# finding, the evidence from exact rising factorials (sums of logs), adaptive quadrature.


def _nsb_by_xi(counts: np.ndarray, k: int) -> float:
    counts = np.asarray(counts)
    n = int(counts.sum())
    unseen = k - counts.size

    def xi(beta: float) -> float:
        return float(digamma(k * beta + 1) - digamma(beta + 1))

    def beta_of(target: float) -> float:
        return optimize.brentq(lambda b: xi(b) - target, 1e-14, 1e14, xtol=1e-300, rtol=1e-14)

    def log_evidence(beta: float) -> float:
        # Gamma(K b)/Gamma(n + K b) * prod_i Gamma(c_i + b)/Gamma(b)
        value = -float(np.sum(np.log(k * beta + np.arange(n))))
        for c in counts:
            value += float(np.sum(np.log(beta + np.arange(c))))
        return value

    def posterior_mean(beta: float) -> float:
        a = counts + beta
        total = n + k * beta
        return float(
            digamma(total + 1)
            - (np.sum(a * digamma(a + 1)) + unseen * beta * digamma(beta + 1)) / total
        )

    lo, hi = xi(1e-12), xi(1e9)
    grid = np.linspace(lo, hi, 400)[1:-1]
    values = [log_evidence(beta_of(t)) for t in grid]
    top, peak = max(values), float(grid[int(np.argmax(values))])

    def weight(t: float) -> float:
        return math.exp(log_evidence(beta_of(t)) - top)

    opts = {"points": [peak], "limit": 200, "epsabs": 0.0, "epsrel": 1e-11}
    norm = integrate.quad(weight, lo, hi, **opts)[0]
    mean = integrate.quad(lambda t: weight(t) * posterior_mean(beta_of(t)), lo, hi, **opts)[0]
    return mean / norm


@pytest.mark.parametrize(
    ("counts", "k"),
    [([5, 3, 1, 1], None), ([5, 3, 1, 1], 10), ([2, 1, 1, 1, 1, 1], 50), ([9, 1], None)],
)
def test_nsb_matches_integral_over_xi(counts, k):
    x = np.repeat(np.arange(len(counts)) * 11 - 3, counts)
    expected = _nsb_by_xi(np.array(counts), k if k is not None else len(counts))
    got = discrete.entropy(x, estimator="nsb", n_symbols=k)
    assert got == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("k", [2, 7, 1000])
def test_nsb_of_one_sample_is_half_log_k(k):
    # One sample: the evidence Gamma(K b)/Gamma(1 + K b) * Gamma(1 + b)/Gamma(b) = 1/K does not
    # depend on beta, so the posterior over beta is the prior, and by symmetry among the symbols
    # E[H | x_1, beta] = E[H | beta] = xi(beta). The prior is flat in xi on [0, log K], so the
    # estimate is the prior mean log K / 2.
    assert discrete.entropy([42], estimator="nsb", n_symbols=k) == pytest.approx(
        math.log(k) / 2, rel=1e-9
    )


def test_nsb_at_ten_million_samples_over_1000_symbols():
    # Counts of 10^7 uniform draws over 1000 symbols, then the samples themselves (int16, 20 MB).
    rng = np.random.default_rng(14)
    counts = rng.multinomial(10**7, np.full(1000, 1e-3))
    x = np.repeat(np.arange(1000, dtype=np.int16), counts)
    h = discrete.entropy(x, estimator="nsb")
    assert math.isfinite(h)
    # Plug-in is biased low by about (K - 1)/(2n) = 5e-5 nats; NSB should remove most of it.
    assert h == pytest.approx(math.log(1000), abs=2e-5)
    assert abs(h - math.log(1000)) < abs(discrete.entropy(x) - math.log(1000))


def test_nsb_on_undersampled_data_lies_between_plugin_and_log_k():
    rng = np.random.default_rng(15)
    x = rng.integers(0, 1000, 300)  # ~260 of 1000 equiprobable symbols seen
    plugin = discrete.entropy(x)
    k_seen = np.unique(x).size
    h = discrete.entropy(x, estimator="nsb")
    assert plugin < h < math.log(k_seen)
    h_full = discrete.entropy(x, estimator="nsb", n_symbols=1000)
    assert plugin < h_full < math.log(1000)
    # Knowing the alphabet, NSB gets much closer to the truth log 1000 than plug-in does.
    assert abs(h_full - math.log(1000)) < 0.25 * abs(plugin - math.log(1000))


def test_nsb_prior_series_matches_direct_form_where_both_are_accurate():
    # Just below 100 the direct difference is used, at 100 the series: they must join smoothly.
    beta = np.array([99.9999, 100.0])
    direct = np.log(5 * polygamma(1, 5 * beta + 1) - polygamma(1, beta + 1))
    np.testing.assert_allclose(_estimators._nsb_log_prior(beta, 5), direct, rtol=1e-11)


def test_log_rising_factorial_is_accurate_for_huge_arguments():
    a = np.array([3.0, 12.0, 1e6, 1e18])
    c = np.array([5.0, 7.0, 3.0, 2.0])
    exact = [
        sum(math.log(ai + j) for j in range(int(ci)))
        for ai, ci in zip(a.tolist(), c.tolist(), strict=True)
    ]
    np.testing.assert_allclose(_estimators._log_rising(a, c), exact, rtol=1e-13)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_estimator_recovers_a_uniform_source_at_large_n(estimator):
    x = np.tile(np.arange(20), 5000)
    h = discrete.entropy(x, estimator=estimator, **kwargs_for(estimator))
    assert h == pytest.approx(math.log(20), abs=3e-4)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_single_symbol_has_zero_entropy(estimator):
    n = 50
    h = discrete.entropy(np.full(n, 4), estimator=estimator, **kwargs_for(estimator))
    if estimator == "grassberger":
        # log n - G(n), with G(n) = psi(n) + (psi((n+1)/2) - psi(n/2))/2 for even n: not exactly 0
        g = digamma(n) + 0.5 * (digamma((n + 1) / 2) - digamma(n / 2))
        assert h == pytest.approx(math.log(n) - g, rel=1e-12)
        assert abs(h) < 1 / n
    else:
        assert h == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Bad input


def test_bad_inputs_are_named():
    good = np.array([1, 2, 3])
    with pytest.raises(ValueError, match="x is empty"):
        discrete.entropy(np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match="x contains NaN"):
        discrete.entropy(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="y contains NaN"):
        discrete.mutual_information(good, np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="x has 3, y has 2"):
        discrete.mutual_information(good, np.array([1, 2]))
    with pytest.raises(ValueError, match="given has 4"):
        discrete.mutual_information(good, good, given=np.arange(4))
    with pytest.raises(ValueError, match=r"x must be 1-D .* got a 3-D array"):
        discrete.entropy(np.zeros((2, 2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"z must be 1-D"):
        discrete.interaction_information(good, good, np.zeros((3, 1, 1), dtype=int))
    with pytest.raises(TypeError, match="x must hold integer, bool, float or string"):
        discrete.entropy(np.array([1 + 1j, 2j]))


def test_bad_options_are_named():
    x = np.array([1, 2, 2])
    with pytest.raises(ValueError, match=r"estimator must be one of \('plugin', .*'bayes'\)"):
        discrete.entropy(x, estimator="mle")
    with pytest.raises(TypeError, match="estimator must be a string"):
        discrete.entropy(x, estimator=None)
    with pytest.raises(ValueError, match="alpha is required for estimator='bayes'"):
        discrete.entropy(x, estimator="bayes")
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="alpha must be a finite real number > 0"):
            discrete.mutual_information(x, x, estimator="bayes", alpha=bad)
    with pytest.raises(ValueError, match="alpha must be a real > 0 or one of"):
        discrete.entropy(x, estimator="bayes", alpha="flat")
    with pytest.raises(TypeError, match="alpha must be a real number"):
        discrete.entropy(x, estimator="bayes", alpha=True)
    with pytest.raises(ValueError, match="alpha is used only by estimator='bayes'"):
        discrete.entropy(x, alpha=1.0)
    for bad in (0, -2.0, 1):
        with pytest.raises(ValueError, match="base must be a positive real number other than 1"):
            discrete.entropy(x, base=bad)
    with pytest.raises(TypeError, match="base must be None"):
        discrete.entropy(x, base="2")
    with pytest.raises(ValueError, match="n_symbols must be >= the number of distinct"):
        discrete.entropy(x, estimator="nsb", n_symbols=1)
    with pytest.raises(ValueError, match="n_symbols must be >= 1"):
        discrete.entropy(x, estimator="nsb", n_symbols=0)
    with pytest.raises(ValueError, match="n_symbols is used only by the estimators"):
        discrete.entropy(x, n_symbols=5)
    with pytest.raises(TypeError, match="local must be True or False"):
        discrete.entropy(x, local=1)
    with pytest.raises(ValueError, match="backend must be one of"):
        discrete.entropy(x, backend="gpu")
    with pytest.raises(ValueError, match="total_correlation needs at least two variables"):
        discrete.total_correlation(x)
