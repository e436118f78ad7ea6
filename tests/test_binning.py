"""infokit.binning against numpy's own histogram/quantile machinery, brute-force transcriptions of
the documented definitions, and hand-derived examples; invariances, dtypes and bad inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from infokit import binning

FLOATS = [np.float32, np.float64]


def histogram_codes(col, n_bins, value_range=None):
    """numpy's assignment: np.digitize on np.histogram_bin_edges, the maximum in the last bin."""
    edges = np.histogram_bin_edges(col, n_bins, range=value_range)
    k = np.digitize(col, edges) - 1
    k[col == edges[-1]] = n_bins - 1
    return k


def brute_equal_mass(col, n_bins):
    """The documented rule, O(n^2): code = min(B-1, floor(B * #{samples < x} / n)), made dense."""
    n = col.size
    below = (col[np.newaxis, :] < col[:, np.newaxis]).sum(axis=1)
    raw = np.minimum(n_bins - 1, (n_bins * below) // n)
    return np.unique(raw, return_inverse=True)[1].reshape(-1)


def brute_adaptive(values, n_bins, saturation):
    """The documented rule from ranks: bin c (1-based) holds the distinct non-saturating values
    of rank floor((c-1)U/B) <= rank < floor(cU/B); code = 1 + #{c >= 1 : floor(cU/B) <= rank}."""
    flat = values.ravel()
    keep = np.ones(flat.shape, dtype=bool) if saturation is None else flat != saturation
    distinct = sorted(set(flat[keep].tolist()))
    u = len(distinct)
    b = min(n_bins, u)
    rank = {v: r for r, v in enumerate(distinct)}
    out = []
    for v, k in zip(flat.tolist(), keep.tolist(), strict=True):
        if not k:
            out.append(0)
        else:
            out.append(1 + sum(1 for c in range(1, b) if (c * u) // b <= rank[v]))
    return np.array(out, dtype=np.int64).reshape(values.shape)


# ------------------------------------------------------------------------------------- uniform


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n_bins", [1, 2, 7, 10, 64])
def test_uniform_matches_numpy_histogram(dtype, n_bins):
    rng = np.random.default_rng(n_bins)
    x = rng.normal(size=(2_000, 3)).astype(dtype)
    codes = binning.uniform(x, n_bins)
    assert codes.dtype == np.int64
    assert codes.shape == x.shape
    for j in range(x.shape[1]):
        col = x[:, j]
        np.testing.assert_array_equal(codes[:, j], histogram_codes(col, n_bins))
        # np.histogram's own counting path agrees, the maximum included.
        counts = np.histogram(col, n_bins)[0]
        np.testing.assert_array_equal(np.bincount(codes[:, j], minlength=n_bins), counts)
        assert codes[np.argmax(col), j] == n_bins - 1
        assert codes[np.argmin(col), j] == 0


def test_uniform_value_on_an_interior_edge_goes_up():
    # edges of [0, 4] in 4 bins: 0, 1, 2, 3, 4; a value equal to 2 opens bin 2 (numpy's [a, b)).
    x = np.array([0.0, 1.0, 2.0, 2.5, 4.0])
    np.testing.assert_array_equal(binning.uniform(x, 4), [0, 1, 2, 2, 3])


def test_uniform_with_range_matches_numpy():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1.0, 1.0, size=500)
    codes = binning.uniform(x, 8, range=(-2.0, 2.0))
    np.testing.assert_array_equal(codes, histogram_codes(x, 8, (-2.0, 2.0)))
    np.testing.assert_array_equal(
        np.bincount(codes, minlength=8), np.histogram(x, 8, range=(-2.0, 2.0))[0]
    )
    # all of x lies in the middle half of the range: bins 0, 1, 6, 7 stay empty
    assert set(np.unique(codes)) <= {2, 3, 4, 5}


def test_uniform_range_upper_bound_is_in_the_last_bin():
    np.testing.assert_array_equal(binning.uniform([0.0, 10.0], 5, range=(0, 10)), [0, 4])


def test_uniform_constant_input_is_one_bin():
    np.testing.assert_array_equal(binning.uniform(np.full(5, 3.5), 10), np.zeros(5))
    x = np.column_stack([np.full(4, 2.0), [0.0, 1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(binning.uniform(x, 3), [[0, 0], [0, 1], [0, 2], [0, 2]])


def test_uniform_integer_input_bins_like_numpy():
    x = np.array([1, 5, 2, 9, 9, 3, 7], dtype=np.int16)
    np.testing.assert_array_equal(binning.uniform(x, 4), histogram_codes(x, 4))


def test_uniform_is_per_column():
    rng = np.random.default_rng(5)
    x = np.column_stack([rng.normal(size=300), 1000.0 + rng.exponential(size=300)])
    codes = binning.uniform(x, 6)
    for j in range(2):
        np.testing.assert_array_equal(codes[:, j], binning.uniform(x[:, j], 6))


@settings(max_examples=60, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        st.integers(1, 40),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    ),
    n_bins=st.integers(1, 12),
)
def test_uniform_property_numpy_assignment(x, n_bins):
    codes = binning.uniform(x, n_bins)
    if x.min() == x.max():
        np.testing.assert_array_equal(codes, 0)
    else:
        np.testing.assert_array_equal(codes, histogram_codes(x, n_bins))
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(codes[order]) >= 0)  # monotone in x


# ---------------------------------------------------------------------------------- equal_mass


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n_bins", [1, 2, 3, 7, 10])
@pytest.mark.parametrize("n", [997, 1000])
def test_equal_mass_balanced_and_on_numpy_quantiles(dtype, n_bins, n):
    rng = np.random.default_rng(n + n_bins)
    x = rng.standard_cauchy(size=(n, 2)).astype(dtype)
    codes = binning.equal_mass(x, n_bins)
    assert codes.dtype == np.int64
    assert codes.shape == x.shape
    for j in range(2):
        col = x[:, j]
        counts = np.bincount(codes[:, j])
        assert counts.size == n_bins
        assert counts.max() - counts.min() <= 1
        # interior edges are numpy's inverted-CDF quantiles; bins are (e_j, e_{j+1}]
        edges = np.quantile(col, np.arange(1, n_bins) / n_bins, method="inverted_cdf")
        expected = (col[:, np.newaxis] > edges[np.newaxis, :]).sum(axis=1)
        np.testing.assert_array_equal(codes[:, j], expected)


def test_equal_mass_heavy_tie_hand_example():
    # n = 10, B = 4, "#below" = number of samples strictly smaller:
    #   value 0 (x6): below 0 -> floor(4*0/10) = 0
    #   value 1: below 6 -> floor(24/10) = 2;  value 2: below 7 -> floor(28/10) = 2
    #   value 3: below 8 -> floor(32/10) = 3;  value 4: below 9 -> floor(36/10) = 3
    # Raw codes {0, 2, 3}: the six zeros swallowed the edge of bin 1, so 3 bins, renumbered 0, 1, 2.
    x = np.array([0, 0, 0, 0, 0, 0, 1, 2, 3, 4], dtype=np.float64)
    np.testing.assert_array_equal(binning.equal_mass(x, 4), [0, 0, 0, 0, 0, 0, 1, 1, 2, 2])


def test_equal_mass_distinct_hand_example():
    # n = 6 distinct values, B = 4: below = 0..5 -> floor(4*below/6) = 0, 0, 1, 2, 2, 3
    x = np.array([30.0, 10.0, 60.0, 20.0, 50.0, 40.0])
    np.testing.assert_array_equal(binning.equal_mass(x, 4), [1, 0, 3, 0, 2, 2])


def test_equal_mass_constant_and_too_many_bins():
    np.testing.assert_array_equal(binning.equal_mass(np.full(7, -2.0), 3), np.zeros(7))
    # more bins than samples: every distinct value gets its own bin, in order
    x = np.array([5.0, 1.0, 5.0, 3.0])
    np.testing.assert_array_equal(binning.equal_mass(x, 100), [2, 0, 2, 1])


@settings(max_examples=80, deadline=None)
@given(
    x=hnp.arrays(np.float64, st.integers(1, 40), elements=st.integers(-5, 5).map(float)),
    n_bins=st.integers(1, 9),
)
def test_equal_mass_property_matches_definition_with_ties(x, n_bins):
    codes = binning.equal_mass(x, n_bins)
    np.testing.assert_array_equal(codes, brute_equal_mass(x, n_bins))
    # a value is never split, codes are dense and at most n_bins of them
    for v in np.unique(x):
        assert np.unique(codes[x == v]).size == 1
    assert set(np.unique(codes)) == set(range(codes.max() + 1))
    assert codes.max() < n_bins


# ------------------------------------------------------------------------------------ adaptive


def test_adaptive_hand_example_relu_layer():
    # 4 samples x 3 neurons, ReLU (saturation 0). Pooled non-zero DISTINCT values, sorted:
    #   0.2, 0.7, 0.9, 1.5, 2.2, 3.0   (U = 6; 0.2 and 0.7 occur twice but count once)
    # B = 3 -> 2 distinct values per bin: {0.2, 0.7} -> 1, {0.9, 1.5} -> 2, {2.2, 3.0} -> 3;
    # zeros -> 0. Edges: lower edges 0.2, 0.9, 2.2 and the maximum 3.0.
    layer = np.array(
        [
            [0.0, 0.2, 1.5],
            [0.7, 0.0, 0.2],
            [3.0, 0.9, 0.0],
            [0.0, 2.2, 0.7],
        ]
    )
    result = binning.adaptive(layer, 3, saturation=0.0)
    np.testing.assert_array_equal(result.codes, [[0, 1, 2], [1, 0, 1], [3, 2, 0], [0, 3, 1]])
    np.testing.assert_array_equal(result.edges, [0.2, 0.9, 2.2, 3.0])
    assert result.n_bins == 3
    assert result.saturation == 0.0
    assert result.codes.dtype == np.int64


def test_adaptive_uneven_split_keeps_the_maximum_in_the_last_bin():
    # U = 7 distinct values 1..7, B = 3: lower-edge ranks floor(0*7/3)=0, floor(7/3)=2,
    # floor(14/3)=4 -> bins {1, 2}, {3, 4}, {5, 6, 7}. The maximum 7 shares the last bin.
    x = np.array([[7.0, 1.0], [2.0, 6.0], [3.0, 5.0], [4.0, 4.0]])
    result = binning.adaptive(x, 3)
    np.testing.assert_array_equal(result.codes, [[3, 1], [1, 3], [2, 3], [2, 2]])
    np.testing.assert_array_equal(result.edges, [1.0, 3.0, 5.0, 7.0])


def test_adaptive_tanh_saturation():
    # tanh saturates at -1: others -0.5, 0, 0.5, 1 (U = 4), B = 2 -> {-0.5, 0} -> 1, {0.5, 1} -> 2.
    x = np.array([[-1.0, -0.5], [0.0, 0.5], [1.0, -1.0]])
    np.testing.assert_array_equal(
        binning.adaptive(x, 2, saturation=-1.0).codes, [[0, 1], [1, 2], [2, 0]]
    )
    # without saturation, -1 is ranked like any value: U = 5, B = 2 -> ranks {0, 1} -> 1,
    # {2, 3, 4} -> 2 (floor(5/2) = 2), i.e. {-1, -0.5} -> 1 and {0, 0.5, 1} -> 2.
    np.testing.assert_array_equal(binning.adaptive(x, 2).codes, [[1, 1], [2, 2], [2, 1]])


def test_adaptive_saturation_need_not_be_the_minimum():
    # saturation 0 in the middle: others -2, -1, 1, 2 -> {-2, -1} -> 1, {1, 2} -> 2.
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(binning.adaptive(x, 2, saturation=0).codes, [1, 1, 0, 2, 2])


def test_adaptive_fewer_distinct_values_than_bins():
    # two distinct non-zero values and 5 bins asked: each value its own bin, 2 bins in all.
    result = binning.adaptive(np.array([0.0, 2.0, 1.0, 2.0]), 5, saturation=0.0)
    np.testing.assert_array_equal(result.codes, [0, 2, 1, 2])
    np.testing.assert_array_equal(result.edges, [1.0, 2.0, 2.0])
    assert result.n_bins == 2


def test_adaptive_all_saturated():
    result = binning.adaptive(np.zeros((3, 2)), 4, saturation=0.0)
    np.testing.assert_array_equal(result.codes, np.zeros((3, 2)))
    assert result.edges.size == 0
    assert result.n_bins == 0


def test_adaptive_negative_zero_is_the_relu_zero():
    result = binning.adaptive(np.array([-0.0, 0.0, 1.0, 2.0]), 2, saturation=0.0)
    np.testing.assert_array_equal(result.codes, [0, 0, 1, 2])


@pytest.mark.parametrize("dtype", FLOATS)
def test_adaptive_relu_like_layer(dtype):
    rng = np.random.default_rng(11)
    pre = rng.normal(size=(300, 8)) * np.linspace(0.1, 3.0, 8)  # neurons of different scales
    layer = np.maximum(pre, 0.0).astype(dtype)
    result = binning.adaptive(layer, 30, saturation=0.0)
    codes = result.codes
    assert codes.shape == layer.shape
    assert result.edges.dtype == dtype
    np.testing.assert_array_equal(codes == 0, layer == 0)
    np.testing.assert_array_equal(codes, brute_adaptive(layer, 30, 0.0))
    # the bins hold equal numbers of DISTINCT values (within one)
    positive = layer[layer > 0]
    per_bin = [np.unique(positive[codes[layer > 0] == c]).size for c in range(1, 31)]
    assert max(per_bin) - min(per_bin) <= 1
    # edges are shared by the whole layer: the small-scale neuron sits in the low bins
    assert codes[:, 0].max() < codes[:, 7].max()


@settings(max_examples=80, deadline=None)
@given(
    layer=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 8), st.integers(1, 4)),
        elements=st.integers(-3, 12).map(lambda v: max(v, 0) / 4),
    ),
    n_bins=st.integers(1, 8),
    saturate=st.booleans(),
)
def test_adaptive_property_matches_rank_definition(layer, n_bins, saturate):
    saturation = 0.0 if saturate else None
    result = binning.adaptive(layer, n_bins, saturation=saturation)
    np.testing.assert_array_equal(result.codes, brute_adaptive(layer, n_bins, saturation))
    # every used bin is between its edges
    for c in range(1, result.n_bins + 1):
        inside = layer[result.codes == c]
        assert inside.size > 0
        assert inside.min() >= result.edges[c - 1]
        assert inside.max() < result.edges[c] or c == result.n_bins


# ---------------------------------------------------------------------------------- invariance


def increasing(v):
    """A strictly increasing map that keeps the test's values (multiples of 1/4) distinct."""
    return v**3 + 2.0 * v


def test_equal_mass_and_adaptive_invariant_to_increasing_transforms():
    rng = np.random.default_rng(2)
    x = np.maximum(rng.integers(-20, 40, size=(200, 3)), 0) / 4.0  # ties and zeros
    np.testing.assert_array_equal(binning.equal_mass(x, 6), binning.equal_mass(increasing(x), 6))
    np.testing.assert_array_equal(binning.equal_mass(x, 6), binning.equal_mass(np.exp(x / 10.0), 6))
    a = binning.adaptive(x, 5, saturation=0.0).codes
    np.testing.assert_array_equal(a, binning.adaptive(increasing(x), 5, saturation=0.0).codes)
    # exp moves the saturating value 0 to 1
    np.testing.assert_array_equal(a, binning.adaptive(np.exp(x), 5, saturation=1.0).codes)


def test_uniform_is_not_rank_based():
    # a check that the invariance test above can fail: uniform bins move under exp
    x = np.arange(10.0)
    assert not np.array_equal(binning.uniform(x, 3), binning.uniform(np.exp(x), 3))


# --------------------------------------------------------------------- dtypes and memory layout


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: binning.uniform(a, 5),
        lambda a: binning.equal_mass(a, 5),
        lambda a: binning.adaptive(a, 5, saturation=0.0).codes,
    ],
    ids=["uniform", "equal_mass", "adaptive"],
)
def test_read_only_non_contiguous_and_dtypes(fn):
    rng = np.random.default_rng(9)
    base = np.maximum(rng.normal(size=(120, 6)), 0.0)
    expected = fn(np.ascontiguousarray(base[::2, ::2]))
    strided = base[::2, ::2]
    assert not strided.flags.c_contiguous
    np.testing.assert_array_equal(fn(strided), expected)
    frozen = base[::2, ::2].copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(fn(frozen), expected)
    np.testing.assert_array_equal(fn(np.asfortranarray(frozen)), expected)
    # a float32 copy of data that float32 holds exactly bins the same
    exact = np.round(base[::2, ::2] * 8) / 8
    np.testing.assert_array_equal(fn(exact.astype(np.float32)), fn(exact))
    assert fn(base[:, 0]).shape == (120,)


def test_float32_uniform_uses_float32_edges_like_numpy():
    # values near edges that round differently in float32 and float64
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, size=5_000).astype(np.float32)
    x[:3] = [np.float32(0.1), np.float32(0.3), np.float32(0.7)]
    np.testing.assert_array_equal(binning.uniform(x, 10), histogram_codes(x, 10))


# ----------------------------------------------------------------------------------- bad input


BINNERS = {
    "uniform": (lambda x, n=3: binning.uniform(x, n), "x"),
    "equal_mass": (lambda x, n=3: binning.equal_mass(x, n), "x"),
    "adaptive": (lambda x, n=3: binning.adaptive(x, n), "activations"),
}


@pytest.mark.parametrize("name", BINNERS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_rejected(name, bad):
    fn, arg = BINNERS[name]
    with pytest.raises(ValueError, match=rf"{arg} must be finite, but it holds 1 NaN or inf"):
        fn(np.array([0.0, bad, 1.0]))


@pytest.mark.parametrize("name", BINNERS)
def test_bad_n_bins(name):
    fn, _ = BINNERS[name]
    x = np.arange(5.0)
    with pytest.raises(ValueError, match="n_bins must be >= 1, got 0"):
        fn(x, 0)
    with pytest.raises(TypeError, match="n_bins must be an int, got float"):
        fn(x, 2.5)
    with pytest.raises(TypeError, match="n_bins must be an int, got bool"):
        fn(x, True)


@pytest.mark.parametrize("name", BINNERS)
def test_bad_shapes(name):
    fn, arg = BINNERS[name]
    with pytest.raises(ValueError, match=rf"{arg} is empty \(shape \(0,\)\)"):
        fn(np.array([], dtype=float))
    with pytest.raises(ValueError, match=rf"{arg} is empty \(shape \(4, 0\)\)"):
        fn(np.zeros((4, 0)))
    with pytest.raises(ValueError, match=rf"{arg} must be 1-D .* got a 3-D array"):
        fn(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=rf"{arg} must be 1-D .* got a 0-D array"):
        fn(np.float64(1.0))


@pytest.mark.parametrize("name", BINNERS)
def test_bad_dtypes(name):
    fn, arg = BINNERS[name]
    with pytest.raises(TypeError, match=rf"{arg} must hold real numbers .* got dtype complex128"):
        fn(np.array([1 + 1j, 2.0]))
    with pytest.raises(TypeError, match=rf"{arg} must hold real numbers .* got dtype bool"):
        fn(np.array([True, False]))
    with pytest.raises(TypeError, match=rf"{arg} must hold real numbers .* got dtype <U1"):
        fn(np.array(["a", "b"]))
    with pytest.raises(TypeError, match=rf"{arg} must hold real numbers .* got dtype object"):
        fn(np.array([1.0, None], dtype=object))
    with pytest.raises(TypeError, match=rf"{arg} must be an array of real numbers"):
        fn([[1.0, 2.0], [3.0]])


def test_uniform_bad_range():
    x = np.array([0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match=r"range must be None or a pair \(low, high\)"):
        binning.uniform(x, 2, range=(1.0,))
    with pytest.raises(TypeError, match=r"range must be None or a pair \(low, high\)"):
        binning.uniform(x, 2, range=("a", 3))
    with pytest.raises(ValueError, match="range must be finite with low < high, got"):
        binning.uniform(x, 2, range=(2.0, 2.0))
    with pytest.raises(ValueError, match="range must be finite with low < high, got"):
        binning.uniform(x, 2, range=(0.0, np.inf))
    with pytest.raises(ValueError, match=r"x has values outside range=\(0.5, 2.0\)"):
        binning.uniform(x, 2, range=(0.5, 2.0))
    with pytest.raises(ValueError, match=r"x has values outside range=\(0.0, 1.5\)"):
        binning.uniform(x, 2, range=(0.0, 1.5))


def test_uniform_span_overflow():
    with pytest.raises(ValueError, match=r"x spans .* whose width overflows float64"):
        binning.uniform(np.array([-1e308, 1e308]), 4)


def test_adaptive_bad_saturation():
    x = np.arange(4.0)
    with pytest.raises(TypeError, match="saturation must be None or a real number"):
        binning.adaptive(x, 2, saturation="relu")
    with pytest.raises(TypeError, match="saturation must be None or a real number"):
        binning.adaptive(x, 2, saturation=False)
    with pytest.raises(ValueError, match="saturation must be finite, got nan"):
        binning.adaptive(x, 2, saturation=float("nan"))


def test_adaptive_result_is_frozen_and_readable():
    result = binning.adaptive(np.array([[0.0, 1.0], [2.0, 3.0]]), 2, saturation=0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.codes = np.zeros(2)  # type: ignore[misc]
    text = repr(result)
    assert "AdaptiveBinning(codes=<int64 array of shape (2, 2)>" in text
    assert "n_bins=2" in text
    assert "saturation=0.0" in text
