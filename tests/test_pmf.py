"""infokit.pmf against scipy, scikit-learn, dit, closed forms and its numpy twin; properties with
hypothesis; dtypes, layouts, threads; bad inputs and the kernels' robustness to them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import jensenshannon

import infokit
from infokit import _backend, pmf
from infokit._reference import pmf as ref

LOG2 = math.log(2.0)
ORDERS = [0.0, 0.25, 0.5, 0.9, 1.0, 1.2, 1.5, 2.0, 3.0, 10.0, math.inf]
PAIRS = [pmf.cross_entropy, pmf.kl_divergence, pmf.js_divergence]


def cypmf():
    mod = _backend.compiled("_cypmf")
    if mod is None:
        pytest.skip("no compiled backend")
    return mod


def random_table(rng, shape, zeros=0.3, dtype=np.float64):
    """Positive counts with some exact zeros, only where the index sum is even: every line of
    length >= 2, along any axis, keeps a positive entry."""
    t = rng.random(shape) + 0.05
    even = np.indices(shape).sum(axis=0) % 2 == 0
    t[even & (rng.random(shape) < 2 * zeros)] = 0.0
    return t.astype(dtype)


def normalised(t, axis=-1):
    t = np.asarray(t, dtype=np.float64)
    return t / t.sum(axis=axis, keepdims=True)


# --- against peers -----------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("base", [None, 2, 10.0])
def test_entropy_and_kl_match_scipy(backend, axis, base):
    rng = np.random.default_rng(1)
    p = random_table(rng, (4, 5, 6))
    q = random_table(rng, (4, 5, 6), zeros=0.0)  # q > 0 everywhere: KL finite
    np.testing.assert_allclose(
        pmf.entropy(p, base=base, axis=axis),
        scipy.stats.entropy(p, base=base, axis=axis),
        rtol=1e-12,
        atol=1e-14,
    )
    np.testing.assert_allclose(
        pmf.kl_divergence(p, q, base=base, axis=axis),
        scipy.stats.entropy(p, q, base=base, axis=axis),
        rtol=1e-12,
        atol=1e-14,
    )


def test_kl_inf_where_q_is_zero_matches_scipy(backend):
    p = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5]])
    q = np.array([[0.5, 0.0, 0.5], [0.5, 0.0, 0.5]])
    got = pmf.kl_divergence(p, q)
    np.testing.assert_array_equal(got, scipy.stats.entropy(p, q, axis=-1))
    assert got[0] == np.inf and got[1] == 0.0
    assert pmf.cross_entropy(p[0], q[0]) == np.inf
    # p = 0 where q = 0 contributes nothing (0 log 0 = 0).
    assert pmf.cross_entropy(p[1], q[1]) == pytest.approx(LOG2, rel=1e-15)


def test_cross_entropy_matches_xlogy_sum(backend):
    rng = np.random.default_rng(2)
    p = random_table(rng, (7, 9))
    q = random_table(rng, (7, 9), zeros=0.0)
    expected = -scipy.special.xlogy(normalised(p), normalised(q)).sum(axis=-1)
    np.testing.assert_allclose(pmf.cross_entropy(p, q), expected, rtol=1e-12)
    np.testing.assert_allclose(pmf.cross_entropy(p, q, base=2), expected / LOG2, rtol=1e-12)


@pytest.mark.parametrize("base", [None, 2])
def test_js_divergence_is_scipy_distance_squared(backend, base):
    rng = np.random.default_rng(3)
    p = random_table(rng, (6, 8), zeros=0.5)
    q = random_table(rng, (6, 8), zeros=0.5)
    # scipy returns the Jensen-Shannon *distance*, the square root of the divergence.
    expected = jensenshannon(p, q, base=base, axis=-1) ** 2
    np.testing.assert_allclose(pmf.js_divergence(p, q, base=base), expected, rtol=1e-10)
    # Disjoint supports reach the bound log 2 (1 bit).
    assert pmf.js_divergence([1, 0], [0, 3], base=base) == pytest.approx(
        1.0 if base == 2 else LOG2, rel=1e-15
    )


@pytest.mark.parametrize("order", [0.0, 0.5, 1.0, 2.0, 3.5, math.inf])
def test_renyi_and_tsallis_match_dit(order):
    from dit import Distribution
    from dit.other import renyi_entropy, tsallis_entropy

    probs = [0.1, 0.2, 0.3, 0.4]
    d = Distribution(["a", "b", "c", "d"], probs)
    assert pmf.renyi_entropy(probs, order, base=2) == pytest.approx(
        renyi_entropy(d, order), rel=1e-12
    )
    if math.isfinite(order):  # dit's Tsallis has no inf order
        assert pmf.tsallis_entropy(probs, order) == pytest.approx(
            tsallis_entropy(d, order), rel=1e-12, abs=1e-15
        )


def test_mutual_information_matches_sklearn_and_entropies(backend):
    from sklearn.metrics import mutual_info_score

    rng = np.random.default_rng(4)
    for shape in [(2, 2), (3, 7), (10, 4)]:
        counts = rng.integers(0, 20, shape)
        counts[0, 0] += 1
        got = pmf.mutual_information(counts)
        assert isinstance(got, float)
        assert got == pytest.approx(
            mutual_info_score(None, None, contingency=counts), rel=1e-10, abs=1e-14
        )
        hx = scipy.stats.entropy(counts.sum(axis=1))
        hy = scipy.stats.entropy(counts.sum(axis=0))
        hxy = scipy.stats.entropy(counts.ravel())
        assert got == pytest.approx(hx + hy - hxy, rel=1e-10, abs=1e-14)
        assert pmf.mutual_information(counts, base=2) == pytest.approx(got / LOG2, rel=1e-14)


def test_mutual_information_batched_equals_one_by_one(backend):
    rng = np.random.default_rng(5)
    stack = random_table(rng, (2, 3, 4, 5))
    got = pmf.mutual_information(stack)
    assert got.shape == (2, 3)
    for i, j in np.ndindex(2, 3):
        assert got[i, j] == pmf.mutual_information(stack[i, j])


# --- closed forms ------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [1, 2, 7, 1000])
def test_uniform_entropies_are_log_m(backend, m):
    u = np.full(m, 3.0)  # unnormalised on purpose
    assert pmf.entropy(u) == pytest.approx(math.log(m), rel=1e-14, abs=1e-15)
    assert pmf.entropy(u, base=2) == pytest.approx(math.log2(m), rel=1e-14, abs=1e-15)
    for order in ORDERS:
        assert pmf.renyi_entropy(u, order) == pytest.approx(math.log(m), rel=1e-13, abs=1e-15)
    # Tsallis of the uniform: (1 - m^(1-q)) / (q - 1), and m - 1 at q = 0.
    assert pmf.tsallis_entropy(u, 0.0) == pytest.approx(m - 1, rel=1e-13, abs=1e-15)
    for q in [0.5, 2.0, 3.0]:
        expected = (1 - m ** (1 - q)) / (q - 1)
        assert pmf.tsallis_entropy(u, q) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_kl_of_two_bernoullis(backend):
    a, b = 0.3, 0.6
    expected = a * math.log(a / b) + (1 - a) * math.log((1 - a) / (1 - b))
    assert pmf.kl_divergence([a, 1 - a], [b, 1 - b]) == pytest.approx(expected, rel=1e-14)
    assert pmf.kl_divergence([3, 7], [6, 4]) == pytest.approx(expected, rel=1e-14)  # counts
    assert pmf.kl_divergence([a, 1 - a], [a, 1 - a]) == 0.0
    assert pmf.kl_divergence([2, 5], [4, 10]) == 0.0  # the same distribution, scaled


def test_renyi_and_tsallis_closed_forms(backend):
    p = np.array([0.5, 0.25, 0.125, 0.125, 0.0])
    assert pmf.renyi_entropy(p, 0) == pytest.approx(math.log(4), rel=1e-15)  # support size
    assert pmf.renyi_entropy(p, 2) == pytest.approx(-math.log(np.sum(p**2)), rel=1e-14)
    assert pmf.renyi_entropy(p, math.inf) == pytest.approx(math.log(2), rel=1e-15)
    assert pmf.renyi_entropy(p, 1) == pmf.entropy(p)
    assert pmf.tsallis_entropy(p, 1) == pmf.entropy(p)
    assert pmf.tsallis_entropy(p, 2) == pytest.approx(1 - np.sum(p**2), rel=1e-14)
    assert pmf.tsallis_entropy(p, 0) == pytest.approx(3.0, rel=1e-15)
    assert pmf.tsallis_entropy(p, math.inf) == 0.0
    rng = np.random.default_rng(6)
    t = normalised(random_table(rng, (5, 9)))
    for order in [0.3, 0.7, 1.4, 2.5, 40.0]:
        direct_renyi = np.log(np.sum(t**order, axis=-1)) / (1 - order)
        direct_tsallis = (1 - np.sum(t**order, axis=-1)) / (order - 1)
        np.testing.assert_allclose(pmf.renyi_entropy(t, order), direct_renyi, rtol=1e-12)
        np.testing.assert_allclose(pmf.tsallis_entropy(t, order), direct_tsallis, rtol=1e-12)


@pytest.mark.parametrize("delta", [1e-3, 1e-6, 1e-10, 1e-14])
def test_orders_tend_to_shannon_near_one(backend, delta):
    rng = np.random.default_rng(7)
    t = random_table(rng, (4, 50))
    h = pmf.entropy(t)
    # H_a = H - (a - 1) Var[log p] / 2 + O((a-1)^2), and S_q = H - (q - 1) E[log^2 p] / 2 + ...:
    # both within a few delta of H, with no cancellation blowing up as delta -> 0.
    for order in (1 - delta, 1 + delta):
        np.testing.assert_allclose(pmf.renyi_entropy(t, order), h, rtol=0, atol=20 * delta)
        np.testing.assert_allclose(pmf.tsallis_entropy(t, order), h, rtol=0, atol=20 * delta)


def test_mutual_information_closed_forms(backend):
    n = 6
    assert pmf.mutual_information(np.eye(n)) == pytest.approx(math.log(n), rel=1e-14)
    # A shift channel: Y = X + U (mod n), U uniform on `shift` values: I = log(n / shift).
    shift = 3
    joint = sum(np.roll(np.eye(n), k, axis=1) for k in range(shift))
    assert pmf.mutual_information(joint) == pytest.approx(math.log(n / shift), rel=1e-14)
    rng = np.random.default_rng(8)
    independent = np.outer(rng.random(5), rng.random(7))
    assert 0.0 <= pmf.mutual_information(independent) < 1e-15


# --- properties --------------------------------------------------------------------------------

counts_rows = hnp.arrays(
    np.float64,
    st.integers(1, 12),
    elements=st.one_of(st.just(0.0), st.floats(1e-6, 1e6)),
).filter(lambda a: a.sum() > 0)

positive_rows = hnp.arrays(np.float64, st.integers(1, 12), elements=st.floats(1e-6, 1e6))

hyp = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@hyp
@given(st.data())
def test_property_divergences(backend, data):
    p = data.draw(counts_rows)
    q = data.draw(hnp.arrays(np.float64, p.shape, elements=st.floats(1e-6, 1e6)))
    kl = pmf.kl_divergence(p, q)
    assert kl >= 0.0
    assert pmf.cross_entropy(p, q) == pytest.approx(pmf.entropy(p) + kl, rel=1e-9, abs=1e-12)
    js = pmf.js_divergence(p, q)
    assert js == pmf.js_divergence(q, p)
    assert 0.0 <= js <= LOG2
    assert pmf.js_divergence(p, q, base=2) <= 1.0


@hyp
@given(p=counts_rows, seed=st.integers(0, 2**32 - 1))
def test_property_entropy_bounds_and_permutation(backend, p, seed):
    h = pmf.entropy(p)
    assert 0.0 <= h <= math.log(p.size) + 1e-12
    shuffled = np.random.default_rng(seed).permutation(p)
    assert pmf.entropy(shuffled) == pytest.approx(h, rel=1e-12, abs=1e-14)


@hyp
@given(p=counts_rows, a=st.floats(0, 20), b=st.floats(0, 20))
def test_property_renyi_decreases_with_order(backend, p, a, b):
    lo, hi = min(a, b), max(a, b)
    h_lo, h_hi = pmf.renyi_entropy(p, lo), pmf.renyi_entropy(p, hi)
    assert h_hi <= h_lo + 1e-9
    assert -1e-12 <= pmf.renyi_entropy(p, math.inf) <= h_hi + 1e-9
    assert h_lo <= math.log(p.size) + 1e-9


@hyp
@given(
    table=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 6)),
        elements=st.one_of(st.just(0.0), st.floats(1e-3, 1e3)),
    )
)
def test_property_mutual_information(backend, table):
    if table.sum() == 0:
        table[0, 0] = 1.0
    mi = pmf.mutual_information(table)
    assert mi >= 0.0
    assert mi == pytest.approx(pmf.mutual_information(table.T), rel=1e-9, abs=1e-12)
    hx, hy = pmf.entropy(table.sum(axis=1)), pmf.entropy(table.sum(axis=0))
    assert mi <= min(hx, hy) + 1e-9


# --- the kernel against its twin ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_match_numpy_twin(dtype):
    cy = cypmf()
    rng = np.random.default_rng(9)
    p = random_table(rng, (30, 17), zeros=0.4, dtype=dtype)
    q = random_table(rng, (30, 17), zeros=0.2, dtype=dtype)
    for name in ("entropy",):
        np.testing.assert_allclose(getattr(cy, name)(p), getattr(ref, name)(p), rtol=1e-13)
    for name in ("cross_entropy", "kl_divergence", "js_divergence"):
        np.testing.assert_allclose(
            getattr(cy, name)(p, q), getattr(ref, name)(p, q), rtol=1e-13, atol=1e-15
        )
    for order in [*ORDERS, 1 - 1e-9, 1e6]:
        np.testing.assert_allclose(
            cy.renyi_entropy(p, order), ref.renyi_entropy(p, order), rtol=1e-12
        )
        np.testing.assert_allclose(
            cy.tsallis_entropy(p, order), ref.tsallis_entropy(p, order), rtol=1e-12, atol=1e-15
        )
    stack = random_table(rng, (8, 5, 6), dtype=dtype)
    np.testing.assert_allclose(
        cy.mutual_information(stack), ref.mutual_information(stack), rtol=1e-12, atol=1e-15
    )


# --- dtypes, layouts, threads ------------------------------------------------------------------


def test_float32_is_read_without_a_copy_and_matches_float64(backend, monkeypatch):
    rng = np.random.default_rng(10)
    p32 = random_table(rng, (5, 8), dtype=np.float32)
    q32 = random_table(rng, (5, 8), dtype=np.float32)
    p64, q64 = p32.astype(np.float64), q32.astype(np.float64)  # the same values, exactly
    for f in PAIRS:
        np.testing.assert_array_equal(f(p32, q32), f(p64, q64))
    np.testing.assert_array_equal(pmf.entropy(p32), pmf.entropy(p64))
    np.testing.assert_array_equal(pmf.renyi_entropy(p32, 2.5), pmf.renyi_entropy(p64, 2.5))
    np.testing.assert_array_equal(pmf.tsallis_entropy(p32, 0.5), pmf.tsallis_entropy(p64, 0.5))
    np.testing.assert_array_equal(pmf.mutual_information(p32), pmf.mutual_information(p64))
    assert pmf.entropy(p32).dtype == np.float64
    # The kernel sees the caller's float32 buffer itself.
    module = pmf._kernels("auto")
    seen = []
    real = module.entropy

    def spy(table, n_threads=1):
        seen.append((table.dtype, np.shares_memory(table, p32)))
        return real(table, n_threads=n_threads)

    monkeypatch.setattr(module, "entropy", spy)
    pmf.entropy(p32)
    assert seen == [(np.float32, True)]


def test_integer_bool_and_other_float_dtypes_are_counts(backend):
    counts = np.array([[3, 0, 1], [2, 2, 0]])
    expected = scipy.stats.entropy(counts, axis=-1)
    for dtype in (np.int8, np.uint16, np.int64, np.uint64, np.float16, np.longdouble):
        np.testing.assert_allclose(pmf.entropy(counts.astype(dtype)), expected, rtol=1e-14)
    assert pmf.entropy(np.array([True, False, True])) == pytest.approx(LOG2, rel=1e-15)
    assert pmf.entropy([1, 1, 1, 1]) == pytest.approx(math.log(4), rel=1e-15)  # a list
    mixed = pmf.kl_divergence(counts[0].astype(np.float32), counts[0] + 1.0)
    assert mixed == pytest.approx(scipy.stats.entropy(counts[0], counts[0] + 1.0), rel=1e-12)


def test_read_only_and_non_contiguous_inputs(backend):
    rng = np.random.default_rng(11)
    big = random_table(rng, (8, 12))
    q_big = random_table(rng, (8, 12), zeros=0.0)
    views = {
        "strided": (big[:, ::2], q_big[:, ::2]),
        "fortran": (np.asfortranarray(big), np.asfortranarray(q_big)),
        "transposed": (big.T, q_big.T),
    }
    for p, q in views.values():
        p_copy, q_copy = np.ascontiguousarray(p), np.ascontiguousarray(q)
        for axis in (0, -1):
            np.testing.assert_array_equal(pmf.entropy(p, axis=axis), pmf.entropy(p_copy, axis=axis))
            for f in PAIRS:
                np.testing.assert_array_equal(f(p, q, axis=axis), f(p_copy, q_copy, axis=axis))
    frozen_p, frozen_q = big.copy(), q_big.copy()
    frozen_p.setflags(write=False)
    frozen_q.setflags(write=False)
    np.testing.assert_array_equal(pmf.entropy(frozen_p), pmf.entropy(big))
    np.testing.assert_array_equal(
        pmf.kl_divergence(frozen_p, frozen_q), pmf.kl_divergence(big, q_big)
    )
    np.testing.assert_array_equal(pmf.renyi_entropy(frozen_p, 3), pmf.renyi_entropy(big, 3))
    np.testing.assert_array_equal(pmf.tsallis_entropy(frozen_p, 3), pmf.tsallis_entropy(big, 3))
    stack = random_table(rng, (3, 4, 5))
    frozen_stack = stack.copy()
    frozen_stack.setflags(write=False)
    np.testing.assert_array_equal(
        pmf.mutual_information(frozen_stack), pmf.mutual_information(stack)
    )
    np.testing.assert_array_equal(
        pmf.mutual_information(stack.transpose(0, 2, 1)),
        pmf.mutual_information(np.ascontiguousarray(stack.transpose(0, 2, 1))),
    )


def test_results_identical_under_one_and_two_threads(backend):
    rng = np.random.default_rng(12)
    p = random_table(rng, (300, 300))  # 90 000 entries: above the kernels' threading grain
    q = random_table(rng, (300, 300), zeros=0.0)
    stack = random_table(rng, (40, 50, 50))

    def run():
        return [
            pmf.entropy(p),
            *(f(p, q) for f in PAIRS),
            pmf.renyi_entropy(p, 0.7),
            pmf.renyi_entropy(p, 3.0),
            pmf.tsallis_entropy(p, 2.0),
            pmf.mutual_information(stack),
        ]

    with infokit.threads(1):
        one = run()
    with infokit.threads(2):
        two = run()
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


# --- shapes and broadcasting -------------------------------------------------------------------


def test_result_kinds_and_shapes(backend):
    assert isinstance(pmf.entropy([1, 2, 3]), float)
    assert isinstance(pmf.kl_divergence([1, 2], [2, 1]), float)
    assert isinstance(pmf.tsallis_entropy([1, 2], 2), float)
    got = pmf.entropy(np.ones((2, 3, 4)), axis=1)
    assert isinstance(got, np.ndarray) and got.shape == (2, 4) and got.dtype == np.float64
    empty = pmf.entropy(np.ones((0, 5)))
    assert isinstance(empty, np.ndarray) and empty.shape == (0,)
    assert pmf.kl_divergence(np.ones((0, 3)), np.ones(3)).shape == (0,)
    assert pmf.mutual_information(np.ones((0, 2, 2))).shape == (0,)


def test_p_and_q_broadcast_off_axis(backend):
    rng = np.random.default_rng(13)
    rows = random_table(rng, (4, 6))
    reference = random_table(rng, (6,), zeros=0.0)
    for f in PAIRS:
        got = f(rows, reference)
        assert got.shape == (4,)
        np.testing.assert_array_equal(got, [f(r, reference) for r in rows])
        np.testing.assert_array_equal(f(reference, rows), [f(reference, r) for r in rows])
    # (2, 1, 6) against (3, 6) -> (2, 3); and along axis 0: (6, 1) against (6, 4) -> (4,).
    a = random_table(rng, (2, 1, 6))
    b = random_table(rng, (3, 6), zeros=0.0)
    got = pmf.kl_divergence(a, b)
    assert got.shape == (2, 3)
    assert got[1, 2] == pmf.kl_divergence(a[1, 0], b[2])
    col = random_table(rng, (6, 1), zeros=0.0).T.copy().T  # (6, 1)
    np.testing.assert_array_equal(
        pmf.js_divergence(col, rows.T, axis=0), [pmf.js_divergence(col[:, 0], r) for r in rows]
    )


# --- numerical edges ---------------------------------------------------------------------------


def test_extreme_magnitudes(backend):
    # A positive but tiny q entry is not a zero: KL stays finite (c / sum would underflow to 0).
    q = np.array([1e-320, 1.0])
    expected = 0.5 * (math.log(0.5) - math.log(1e-320)) + 0.5 * math.log(0.5)
    assert pmf.kl_divergence([1.0, 1.0], q) == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(pmf.cross_entropy([1.0, 1.0], q))
    # Huge counts: the entries' logs do not overflow, the normalised answer is unchanged.
    huge = np.array([1e300, 3e300, 4e300])
    assert pmf.entropy(huge) == pytest.approx(pmf.entropy([1, 3, 4]), rel=1e-12)
    for order in (0.5, 1.0 + 1e-9, 2.0, 1e300):
        assert pmf.renyi_entropy(huge, order) == pytest.approx(
            pmf.renyi_entropy([1, 3, 4], order), rel=1e-10
        )
    # Huge orders: no overflow to inf or NaN (the limit is the min-entropy, and 0 for Tsallis).
    assert pmf.renyi_entropy([1, 3, 4], 1e300) == pytest.approx(math.log(2), rel=1e-12)
    assert 0.0 <= pmf.tsallis_entropy([1, 3, 4], 1e300) < 1e-299
    # A delta distribution: zero entropy of every kind, exactly.
    for order in ORDERS:
        assert pmf.renyi_entropy([0, 5, 0], order) == 0.0
        assert pmf.tsallis_entropy([0, 5, 0], order) == 0.0


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: pmf.entropy([0.5, np.nan]), ValueError, "p contains NaN or inf"),
        (lambda: pmf.entropy([0.5, np.inf]), ValueError, "p contains NaN or inf"),
        (lambda: pmf.entropy([0.5, -0.1, 1.0]), ValueError, r"p has negative entries \(min -0.1"),
        (lambda: pmf.entropy([[1, 2], [0, 0]]), ValueError, "p has 1 distribution.* summing to 0"),
        (
            lambda: pmf.entropy([1e308, 1e308]),
            ValueError,
            "p has distributions whose total overflows",
        ),
        (lambda: pmf.entropy(3.0), ValueError, "p must have at least one axis"),
        (lambda: pmf.entropy(np.ones((3, 0))), ValueError, "p has no outcomes along axis 1"),
        (lambda: pmf.entropy([1, 2], axis=1), ValueError, "axis 1 is out of range for p with 1"),
        (lambda: pmf.entropy(np.ones((2, 2)), axis=-3), ValueError, "axis -3 is out of range"),
        (lambda: pmf.entropy([1, 2], axis=0.0), TypeError, "axis must be an int, got float"),
        (lambda: pmf.entropy([1 + 1j, 2]), TypeError, "p must hold real numbers.*complex128"),
        (lambda: pmf.entropy(["a", "b"]), TypeError, "p must hold real numbers.*<U1"),
        (lambda: pmf.entropy(np.array([1, None])), TypeError, "p must hold real numbers.*object"),
        (lambda: pmf.entropy([1, 2], base=1), ValueError, "base must be a positive real"),
        (lambda: pmf.entropy([1, 2], base="2"), TypeError, "base must be None"),
        (lambda: pmf.entropy([1, 2], backend="gpu"), ValueError, "backend must be one of"),
        (lambda: pmf.kl_divergence([1, 2], [1, np.nan]), ValueError, "q contains NaN or inf"),
        (lambda: pmf.kl_divergence([1, 2], [1, -2]), ValueError, "q has negative entries"),
        (lambda: pmf.js_divergence([1, 2], [0, 0]), ValueError, "q has 1 distribution.* to 0"),
        (lambda: pmf.cross_entropy([1j], [1]), TypeError, "p must hold real numbers"),
        (
            lambda: pmf.kl_divergence([1, 2, 3], [1, 2]),
            ValueError,
            "p and q must have the same number of outcomes along axis -1, got 3 and 2",
        ),
        (
            lambda: pmf.kl_divergence([1, 2, 3], [[1], [2]]),
            ValueError,
            "same number of outcomes along axis -1, got 3 and 1",
        ),
        (
            lambda: pmf.js_divergence(np.ones((2, 3)), np.ones((4, 3))),
            ValueError,
            r"p and q must broadcast together off axis -1, got shapes \(2, 3\) and \(4, 3\)",
        ),
        (lambda: pmf.cross_entropy([1, 2], [1, 2], axis=2), ValueError, "out of range for p and q"),
        (
            lambda: pmf.renyi_entropy([1, 2], -0.5),
            ValueError,
            r"alpha must be >= 0 \(inf allowed\)",
        ),
        (lambda: pmf.renyi_entropy([1, 2], math.nan), ValueError, "alpha must be >= 0"),
        (lambda: pmf.renyi_entropy([1, 2], "2"), TypeError, "alpha must be a real number"),
        (lambda: pmf.renyi_entropy([1, 2], True), TypeError, "alpha must be a real number"),
        (lambda: pmf.tsallis_entropy([1, 2], -1), ValueError, "q must be >= 0"),
        (lambda: pmf.tsallis_entropy([1, 2], None), TypeError, "q must be a real number"),
        (lambda: pmf.mutual_information([1, 2]), ValueError, r"joint must be a 2-D table.*\(2,\)"),
        (lambda: pmf.mutual_information(np.ones((2, 0))), ValueError, "joint has shape"),
        (lambda: pmf.mutual_information([[1, -1], [1, 1]]), ValueError, "joint has negative"),
        (lambda: pmf.mutual_information([[0, 0], [0, 0]]), ValueError, "joint has 1 distrib"),
        (lambda: pmf.mutual_information([[1, np.nan]]), ValueError, "joint contains NaN"),
        (lambda: pmf.mutual_information([["a"]]), TypeError, "joint must hold real numbers"),
    ],
)
def test_bad_input_is_explained(backend, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_kernels_survive_unvalidated_data():
    """The bindings check shapes only; the kernels give NaN/inf on bad values but never crash."""
    cy = cypmf()
    bad = np.array(
        [
            [np.nan, 1.0, 2.0],
            [-1.0, 0.5, 0.2],
            [0.0, 0.0, 0.0],
            [np.inf, 1.0, 0.0],
            [-np.inf, np.inf, 1.0],
            [1e308, 1e308, 1e308],
        ]
    )
    good = np.ones_like(bad)
    for table in (bad, bad.astype(np.float32)):
        other = good.astype(table.dtype)
        outs = [
            cy.entropy(table),
            cy.renyi_entropy(table, 2.0),
            cy.renyi_entropy(table, 0.9),
            cy.renyi_entropy(table, math.inf),
            cy.renyi_entropy(table, -1.0),
            cy.tsallis_entropy(table, 0.5),
            cy.tsallis_entropy(table, math.nan),
            cy.mutual_information(table.reshape(2, 3, 3)),
        ]
        for f in (cy.cross_entropy, cy.kl_divergence, cy.js_divergence):
            outs += [f(table, other), f(other, table), f(table, table)]
        for out in outs:
            assert out.dtype == np.float64 and out.ndim == 1
        # A zero row is not a distribution: NaN, not a made-up number.
        assert np.isnan(cy.entropy(table)[2]) and np.isnan(cy.kl_divergence(other, table)[2])
    with pytest.raises(ValueError, match="p and q must have the same shape"):
        cy.kl_divergence(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="at least one column"):
        cy.entropy(np.ones((2, 0)))
    with pytest.raises(ValueError, match="at least one row and one column"):
        cy.mutual_information(np.ones((1, 0, 2)))
    with pytest.raises(ValueError, match="not C-contiguous"):
        cy.entropy(np.ones((4, 4))[:, ::2])
