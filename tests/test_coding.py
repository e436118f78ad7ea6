"""infokit.coding: round trips, the C++ coder against its pure-Python twin (same bytes), golden
streams, ideal bits against scipy, overhead bounds, hypothesis properties, corrupt streams and
bad input."""

from __future__ import annotations

import hashlib
import math
import struct
import zlib

import numpy as np
import pytest
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import infokit
from infokit import _backend, coding
from infokit._coding_tables import FAMILIES, TABLES, generate
from infokit._reference import coding as ref

FAMILY_MODELS = [
    coding.QuantizedGaussian,
    coding.QuantizedLaplace,
    coding.QuantizedLogistic,
    coding.QuantizedCauchy,
]
SCIPY = [scipy.stats.norm, scipy.stats.laplace, scipy.stats.logistic, scipy.stats.cauchy]


def core():
    mod = _backend.compiled("_core")
    if mod is None:
        pytest.skip("no compiled backend")
    return mod


def zipf(K=256, a=1.1):
    p = np.arange(1, K + 1, dtype=np.float64) ** -a
    return p / p.sum()


def gaussian_workload(rng, n):
    mean = rng.normal(0.0, 5.0, n)
    scale = np.exp(rng.uniform(np.log(0.11), np.log(20.0), n))
    return np.round(rng.normal(mean, scale)).astype(np.int64), mean, scale


def small_models(rng, n):
    """One model of each kind over n symbols, with symbols that include escapes."""
    x, mean, scale = gaussian_workload(rng, n)
    out = []
    for cls in FAMILY_MODELS:
        out.append((cls(mean, scale, -20, 20), x))
    weights = rng.random((n, 3))
    comps = [
        coding.QuantizedGaussian(mean, scale, -20, 20),
        coding.QuantizedLaplace(mean + 1.0, 2.0 * scale, -20, 20),
        coding.QuantizedCauchy(-mean, 1.5, -20, 20),
    ]
    out.append((coding.Mixture(comps, weights), x))
    probs = rng.random(7)
    probs[3] = 0.0
    out.append((coding.Categorical(probs), rng.integers(-2, 9, n)))
    out.append((coding.Categorical(rng.random((n, 5))), rng.integers(-1, 6, n)))
    table, index = cdf_table(rng, n)
    out.append((table, table.offsets[index] + rng.integers(-1, 9, n)))
    return out


def cdf_table(rng, n, rows=5, width=12):
    """A CompressAI-style table: 16-bit cumulative rows of several lengths and offsets."""
    counts = rng.integers(0, 3000, (rows, width - 1))
    counts[:, 0] += 1
    cdfs = np.concatenate([np.zeros((rows, 1), np.int64), np.cumsum(counts, axis=1)], axis=1)
    lengths = np.array([width, 5, 8, 2, width])[:rows]
    offsets = np.array([-3, 0, 10, -100, 5])[:rows]
    index = rng.integers(0, rows, n)
    return coding.CdfTable(cdfs, index, offsets, lengths), index


def with_escapes(x):
    x = x.copy()
    far = np.array([10**6, -(10**12), 2**62, -(2**63), 2**63 - 1, 21, -21], dtype=np.int64)
    x[: len(far) * 5 : 5] = far[: len(x[: len(far) * 5 : 5])]
    return x


# --- round trips --------------------------------------------------------------------------------


CODERS = ["rans", "range"]


@pytest.mark.parametrize("coder", CODERS)
def test_round_trip_every_model(backend, coder):
    rng = np.random.default_rng(0)
    for model, x in small_models(rng, 60):
        x = with_escapes(x)
        enc = coding.encode(x, model, coder=coder)
        assert isinstance(enc.data, bytes) and enc.count == x.size
        np.testing.assert_array_equal(coding.decode(enc.data, model), x)


@pytest.mark.parametrize("coder", CODERS)
def test_cpp_and_python_twin_write_the_same_bytes(coder):
    core()
    rng = np.random.default_rng(1)
    for precision in (16, 24, 30):
        for model, x in small_models(rng, 50):
            x = with_escapes(x)
            try:
                a = coding.encode(x, model, precision=precision, coder=coder, backend="cpp")
            except ValueError:
                continue  # the alphabet does not fit this precision
            b = coding.encode(x, model, precision=precision, coder=coder, backend="numpy")
            assert a.data == b.data, (model, precision)
            np.testing.assert_array_equal(coding.decode(a, model, backend="numpy"), x)


def test_quantized_cdfs_match_the_twin_and_keep_every_symbol():
    mod = core()
    rng = np.random.default_rng(2)
    for family in range(4):
        for _ in range(20):
            mean, scale = rng.normal(0, 30), math.exp(rng.uniform(-5, 6))
            low = int(rng.integers(-50, 10))
            high = low + int(rng.integers(0, 80))
            for P in (16, 24):
                c = mod.parametric_cdf(family, mean, scale, low, high, P)
                np.testing.assert_array_equal(
                    c, ref.parametric_cdf(family, mean, scale, low, high, P)
                )
                assert c[0] == 0 and c[-2] == 2**P - 1 and c[-1] == 2**P
                assert (np.diff(c) >= 1).all()
    for _ in range(20):
        p = rng.random(int(rng.integers(1, 40))) * (rng.random() < 0.5)
        p[rng.integers(len(p))] = 1e-300 + rng.random()
        c = mod.categorical_cdf(p, 16)
        np.testing.assert_array_equal(c, ref.categorical_cdf(p, 16))
        assert (np.diff(c) >= 1).all() and c[-1] == 2**16


def test_tables_agree_between_cpp_python_and_scipy():
    mod = core()
    for f, name in enumerate(FAMILIES):
        np.testing.assert_array_equal(mod.coding_table(f), np.array(TABLES[name], dtype=np.uint64))
        regenerated = np.array(generate(name), dtype=np.int64)
        assert np.abs(regenerated - np.array(TABLES[name], dtype=np.int64)).max() <= 1
        assert (np.diff(np.array(TABLES[name], dtype=np.int64)) >= 0).all()
    # the interpolated CDF against scipy's at arbitrary points
    u = np.linspace(-30, 30, 2001)
    for name, dist in zip(FAMILIES, SCIPY, strict=True):
        g = np.array([ref.table_cdf(name, float(v)) for v in u]) / 2**32
        assert np.abs(g - dist.cdf(u)).max() < 2e-5


# Golden streams: SHA-256 of streams written by the pure-Python twin when these tests were
# written; both backends must keep producing exactly these bytes on every platform. Regenerated
# for stream version 2 (12-byte header; rANS tail on one lane, lanes started from its words,
# final states pushed into lane 0), which changed every stream's bytes.
GOLDEN = {
    "categorical": "d483a79339bc3525169ecf5c00bdcc31bf3cd4bcfbd943be06b9b1a7997c4e89",
    "categorical-range": "2a07bad136ab42cf3d7a32b4dba76a8e50f7d99fecd377542f9e6b6e11f2cb39",
    "cauchy": "62cbc4b999c92385d3e5c192238bc49834d293fb989edcbe1b88556f856901da",
    "gaussian": "16dfcaa821b4bc530f971cf92ede7d3609ad27d3fabd37f19ecc8c1f51755fb5",
    "gaussian-range": "5b5d98494bdf62912450ccc01d10269573aa5fb6d19c2994ba837b9ada99d7ba",
    "laplace": "4cc866c05f001585be31f16c5f6809bd26b29b7d6037ca9c0b74523ffe972eab",
    "logistic": "364de53429495cf827f265f4b9352e7000158b67c77a96beb4d52b932e57d35a",
    "mixture": "06575d7f4f69f0a39c44c4a3d5d8898c9f7a45ec985529e34d3170016ede9784",
    "mixture-range": "183d3cea30b4793c6bdafbb244ec8940ec36839234361bc6adf9856c7cb3faaf",
    "rows": "e2fdc5cc40674b60411e50b5cfeae2a330d6753504702eaeebddc54ef210bf6a",
    "table": "0247884759ed4f657b5bd84024f100e4fe16414b222e3e2965ee14b40f969ae5",
    "long-gaussian": "8af5778e08417a5161203210f43acf2b4479b463bccc6191e4c435613904f041",
    "long-categorical": "cbb10de62448550150a6834d2b18aef09401a0b029d833c25a2b2e3da38bd659",
    "long-flat": "4d576d5368dd0a2a96fec590b4715826c1f018dd5e95c9ca854d755069c47728",
}


def golden_cases():
    x = np.array(
        [3, -4, 0, 1, 7, 2, -1, 0, 0, 5, 40, -40, 12345678901, 2, 1, -2, 0, 3, 1], np.int64
    )
    n = x.size
    mean = np.linspace(-3.0, 4.0, n)
    scale = np.linspace(0.2, 6.0, n)
    probs = np.array([0.5, 0.2, 0.15, 0.1, 0.05, 0.0, 1e-9, 0.3])
    rows = np.abs(np.sin(np.arange(n * 6, dtype=np.float64))).reshape(n, 6)
    cases = {"categorical": (coding.Categorical(probs), x)}
    for name, cls in zip(FAMILIES, FAMILY_MODELS, strict=True):
        cases[name] = (cls(mean, scale, -10, 10), x)
    comps = [
        coding.QuantizedGaussian(mean, scale, -10, 10),
        coding.QuantizedLogistic(1.0, 3.0, -10, 10),
    ]
    cases["mixture"] = (coding.Mixture(comps, [0.7, 0.3]), x)
    cases["rows"] = (coding.Categorical(rows), x % 7)
    cdfs = np.array([[0, 10, 10, 300, 65536], [0, 65000, 65100, 65200, 65536]])
    index = np.arange(n) % 2
    cases["table"] = (coding.CdfTable(cdfs, index, offsets=[-2, 0], lengths=[5, 3]), x)
    # Past the rANS tail of 256 symbols: the lanes, the words they carry and their final states.
    k = np.arange(700)
    long_x = (k * 7919) % 23 - 11
    long_x[::97] = 5000
    m, sc = np.sin(k) * 3.0, 0.3 + (k % 11) * 0.7
    cases["long-gaussian"] = (coding.QuantizedGaussian(m, sc, -40, 40), long_x)
    cases["long-categorical"] = (coding.Categorical(probs), long_x % 9)
    cases["long-flat"] = (coding.Categorical([0.0, 1.0]), np.ones(700, np.int64))  # no word
    return cases


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_streams(backend, name):
    model, x = golden_cases()[name.removesuffix("-range")]
    enc = coding.encode(x, model, precision=20, coder="range" if "-range" in name else "rans")
    assert hashlib.sha256(enc.data).hexdigest() == GOLDEN[name]
    np.testing.assert_array_equal(coding.decode(enc.data, model), x)


# --- ideal bits and overhead --------------------------------------------------------------------


@pytest.mark.parametrize("family", range(4))
def test_bits_match_scipy_bin_probabilities(family):
    rng = np.random.default_rng(3)
    x, mean, scale = gaussian_workload(rng, 500)
    model = FAMILY_MODELS[family](mean, scale, -1000, 1000)
    dist = SCIPY[family]
    p = dist.cdf(x + 0.5, mean, scale) - dist.cdf(x - 0.5, mean, scale)
    np.testing.assert_allclose(coding.bits(x, model), -np.log2(p), rtol=1e-9)
    np.testing.assert_allclose(coding.log_likelihood(x, model), np.log(p), rtol=1e-9)
    # far in the tail, where the scipy difference underflows, the log-space form stays finite
    far = coding.bits(np.array([400]), FAMILY_MODELS[family](0.0, 1.0, -10, 10))
    assert np.isfinite(far).all() and far[0] > 10


def test_bits_of_categorical_and_mixture():
    p = np.array([0.5, 0.25, 0.25, 0.0])
    np.testing.assert_allclose(
        coding.bits([0, 1, 2, 3, 4, -1], coding.Categorical(2 * p)),
        [1, 2, 2, np.inf, np.inf, np.inf],
    )
    x = np.arange(-5, 6)
    a, b = coding.QuantizedGaussian(0.5, 1.2, -5, 5), coding.QuantizedCauchy(-1.0, 0.7, -5, 5)
    pa, pb = 2.0 ** -coding.bits(x, a), 2.0 ** -coding.bits(x, b)
    mix = coding.Mixture([a, b], [0.3, 0.9])
    np.testing.assert_allclose(coding.bits(x, mix), -np.log2(0.25 * pa + 0.75 * pb), rtol=1e-12)
    assert coding.ideal_bits(x, mix) == pytest.approx(float(np.sum(coding.bits(x, mix))))


def test_bits_of_a_cdf_table():
    rng = np.random.default_rng(12)
    table, index = cdf_table(rng, 300)
    x = table.offsets[index] + rng.integers(-1, 12, 300)
    w = np.diff(table.cdfs, axis=1).astype(np.float64)
    size = table.lengths[index] - 1
    s = x - table.offsets[index]
    inside = (s >= 0) & (s < size)
    expected = np.full(300, np.inf)
    p = (
        w[index[inside], s[inside]]
        / w[index[inside], :].cumsum(axis=1)[np.arange(inside.sum()), size[inside] - 1]
    )
    with np.errstate(divide="ignore"):
        expected[inside] = -np.log2(p)
    np.testing.assert_allclose(coding.bits(x, table), expected)


def test_overhead_is_small_on_the_issue_workloads():
    core()
    rng = np.random.default_rng(4)
    p = zipf()
    x = rng.choice(256, size=200_000, p=p)
    enc = coding.encode(x, coding.Categorical(p))
    # header; lane 0's start (about a symbol's worth of precision) and its flush (up to two
    # words); the other lanes' starts (under a bit each) and final states (5-bit lengths)
    framing = 8 * 16 + 30 + 64 + (ref.LANES - 1) * (1 + 6)
    assert enc.ideal_bits == pytest.approx(-np.log2(p[x]).sum())
    assert 0 < enc.bits - enc.ideal_bits < framing + 1e-4 * enc.ideal_bits
    y, mean, scale = gaussian_workload(rng, 200_000)
    enc = coding.encode(y, coding.QuantizedGaussian(mean, scale, -512, 511))
    assert 0 < enc.bits - enc.ideal_bits < framing + 1e-4 * enc.ideal_bits
    assert enc.overhead == pytest.approx(enc.bits / enc.ideal_bits - 1)
    enc = coding.encode(y, coding.QuantizedGaussian(mean, scale, -512, 511), coder="range")
    assert 0 < enc.bits - enc.ideal_bits < 8 * 28 + 2e-4 * enc.ideal_bits


def test_gaussian_overhead_meets_the_issue_target_at_full_size():
    # Issue 5: at most 0.01 % over ideal_bits at the default precision, 10^6 per-symbol
    # Gaussians on [-512, 511] (ideal about 2.84e6 bits, so 284 bits of slack for quantizing
    # at 24 bits and the stream's fixed framing).
    core()
    y, mean, scale = gaussian_workload(np.random.default_rng(5), 1_000_000)
    model = coding.QuantizedGaussian(mean, scale, -512, 511)
    enc = coding.encode(y, model)
    assert enc.ideal_bits == pytest.approx(coding.ideal_bits(y, model))
    assert 0 < enc.overhead < 1e-4


# --- adversarial data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "probs",
    [
        [0.0, 0.0, 1.0, 0.0],  # all mass on one symbol
        np.ones(256),  # uniform
        [1.0, 1e-300, 1e-30, 5e-324],  # tiny probabilities
        [1.0],  # one symbol
    ],
)
def test_adversarial_categoricals_round_trip(backend, probs):
    rng = np.random.default_rng(5)
    K = len(probs)
    x = rng.integers(0, K, 300)
    x[::7] = K - 1
    x[:5] = [-(2**63), 2**63 - 1, K, -1, 10**15]
    model = coding.Categorical(probs)
    enc = coding.encode(x, model, precision=16)
    np.testing.assert_array_equal(coding.decode(enc, model), x)


def test_far_out_of_range_and_degenerate_parametric(backend):
    x = np.array([0, 2**62, -(2**62), 2**63 - 1, -(2**63), 5, -5, 6, -6, 0], dtype=np.int64)
    for cls in FAMILY_MODELS:
        for mean, scale in [(0.0, 1e-9), (1e12, 1.0), (-3.0, 1e9), (0.49999999, 0.01)]:
            model = cls(mean, scale, -5, 5)
            np.testing.assert_array_equal(coding.decode(coding.encode(x, model), model), x)
    one = coding.QuantizedGaussian(0.0, 1.0, 3, 3)  # a single in-range symbol
    np.testing.assert_array_equal(coding.decode(coding.encode(x, one), one), x)


def test_many_symbols_uses_the_bucket_table_tail_and_escapes():
    core()
    rng = np.random.default_rng(6)
    p = zipf(5000, 0.9)
    x = rng.choice(5000, size=100_003, p=p)
    x[::1000] = 5000 + np.arange(x[::1000].size)
    model = coding.Categorical(p)
    for precision in (16, 20, 28):
        np.testing.assert_array_equal(
            coding.decode(coding.encode(x, model, precision=precision), model), x
        )


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_block_coders_with_scattered_escapes_match_the_twin(dtype):
    # Long enough for the unrolled block loops (and their ends near the first words); escapes,
    # some with multi-chunk payloads, inside blocks, in runs, and at the ends.
    core()
    rng = np.random.default_rng(12)
    for K, precision in ((256, 24), (256, 20), (300, 24)):
        p = zipf(K)
        x = rng.choice(K, size=2003, p=p).astype(np.int64)
        spots = np.concatenate([rng.choice(x.size, 40, replace=False), [0, 1, 2, 2001, 2002]])
        x[spots] = rng.choice([K, K + 5, -1, -70000, 2**31 - 1, -(2**31)], spots.size)
        x[800:820] = K + 1  # a run of escapes: whole blocks of them
        x = x.astype(dtype)
        model = coding.Categorical(p)
        a = coding.encode(x, model, precision=precision, backend="cpp")
        b = coding.encode(x, model, precision=precision, backend="numpy")
        assert a.data == b.data, (K, precision)
        np.testing.assert_array_equal(coding.decode(a, model), x)


def test_decoders_write_into_a_given_output(backend):
    kernels = core() if backend == "cpp" else ref
    rng = np.random.default_rng(13)
    p = zipf(16)
    x = rng.choice(16, size=300, p=p)
    words = coding._words(coding._read_header(coding.encode(x, coding.Categorical(p)))[-1])
    out = np.full(400, -7, dtype=np.int64)
    dec = kernels.RansStreamDecoder(words, 300, 24)
    got = dec.decode_categorical(p, 300, out=out[50:350])
    dec.finish()
    np.testing.assert_array_equal(got, x)
    np.testing.assert_array_equal(out[50:350], x)
    assert (out[:50] == -7).all() and (out[350:] == -7).all()
    if backend == "cpp":
        dec = kernels.RansStreamDecoder(words, 300, 24)
        with pytest.raises(ValueError, match="out must be a writable 1-D array of n entries"):
            dec.decode_categorical(p, 300, out=out[:10])
        with pytest.raises(TypeError, match="out must be a C-contiguous int64 array"):
            dec.decode_categorical(p, 300, out=out[::2])


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    probs=st.lists(st.floats(0.0, 1e3, allow_subnormal=True), min_size=1, max_size=12).filter(
        lambda p: sum(p) > 0
    ),
    data=st.data(),
    precision=st.sampled_from([16, 19, 24, 30]),
)
def test_property_categorical_round_trip(probs, data, precision):
    x = data.draw(st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(-2, 14), max_size=40))
    model = coding.Categorical(probs)
    enc = coding.encode(np.array(x, dtype=np.int64), model, precision=precision)
    np.testing.assert_array_equal(coding.decode(enc, model), np.array(x, dtype=np.int64))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.integers(0, 3),
    mean=st.floats(-1e6, 1e6),
    scale=st.floats(1e-6, 1e6),
    low=st.integers(-300, 300),
    width=st.integers(0, 600),
    x=st.lists(st.integers(-2000, 2000), max_size=30),
)
def test_property_parametric_round_trip_and_twin(family, mean, scale, low, width, x):
    model = FAMILY_MODELS[family](mean, scale, low, low + width)
    x = np.array(x, dtype=np.int64)
    enc = coding.encode(x, model)
    np.testing.assert_array_equal(coding.decode(enc, model), x)
    if x.size <= 8:
        assert coding.encode(x, model, backend="numpy").data == enc.data


# --- layouts, dtypes, shapes, threads -----------------------------------------------------------


def test_shapes_dtypes_and_layouts(backend):
    rng = np.random.default_rng(7)
    x = rng.integers(-6, 7, (6, 8)).astype(np.int16)
    mean = rng.normal(0, 2, (6, 8)).astype(np.float32)
    scale = np.float32(1.5)
    model = coding.QuantizedLaplace(mean, scale, -5, 5)
    enc = coding.encode(x, model)
    out = coding.decode(enc, model)
    assert out.shape == (6, 8) and out.dtype == np.int64
    np.testing.assert_array_equal(out, x)
    # the same values read-only, non-contiguous and float64 give the same stream
    big = np.zeros((6, 16), dtype=np.int64)
    big[:, ::2] = x
    view = big[:, ::2]
    view.flags.writeable = False
    m64 = np.zeros((6, 16))
    m64[:, ::2] = mean
    model64 = coding.QuantizedLaplace(m64[:, ::2], 1.5, -5, 5)
    assert coding.encode(view, model64).data == enc.data
    # a shared model codes any shape and decodes flat
    cat = coding.Categorical([1, 2, 3])
    np.testing.assert_array_equal(coding.decode(coding.encode(x % 3, cat), cat), (x % 3).ravel())
    # per-row categoricals broadcast their leading axes against the symbols
    rows = coding.Categorical(rng.random((8, 3)))
    assert coding.decode(
        coding.encode(x % 3, rows), coding.Categorical(np.broadcast_to(rows.probs, (6, 8, 3)))
    ).shape == (6, 8)


def test_same_bytes_under_one_and_two_threads():
    rng = np.random.default_rng(8)
    y, mean, scale = gaussian_workload(rng, 5000 if "cpp" in _backend.available_backends() else 300)
    model = coding.QuantizedGaussian(mean, scale, -100, 100)
    with infokit.threads(1):
        a = coding.encode(y, model).data
    with infokit.threads(2):
        b = coding.encode(y, model).data
        np.testing.assert_array_equal(coding.decode(b, model), y)
    assert a == b


# --- corrupt streams ----------------------------------------------------------------------------


def corrupt_cases():
    rng = np.random.default_rng(9)
    x, mean, scale = gaussian_workload(rng, 40)
    x[3] = 10**9
    return [
        # past the rANS tail (256 symbols): lanes started from carried words, final states
        # pushed into lane 0; and a tail that emits no word (lane 1 flags lane 0's move)
        (coding.Categorical(zipf(16)), rng.integers(0, 16, 300)),
        (coding.Categorical([0.0, 1.0]), np.ones(300, np.int64)),
        (coding.QuantizedGaussian(mean, scale, -30, 30), x),
        (coding.Categorical(zipf(16)), rng.integers(0, 17, 40)),
        (cdf_table(rng, 40)[0], rng.integers(-5, 15, 40)),
        (
            coding.Mixture(
                [
                    coding.QuantizedGaussian(mean, scale, -30, 30),
                    coding.QuantizedCauchy(0.0, 4.0, -30, 30),
                ],
                [0.5, 0.5],
            ),
            x,
        ),
    ]


@pytest.mark.parametrize("coder", CODERS)
def test_every_flipped_byte_and_every_truncation_raises(backend, coder):
    for model, x in corrupt_cases():
        data = coding.encode(x, model, coder=coder).data
        for i in range(len(data)):
            for flip in (0x01, 0x80, 0xFF):
                bad = bytearray(data)
                bad[i] ^= flip
                with pytest.raises(ValueError):
                    coding.decode(bytes(bad), model)
        for cut in range(len(data)):
            with pytest.raises(ValueError):
                coding.decode(data[:cut], model)
        with pytest.raises(ValueError):
            coding.decode(data + b"\0\0\0\0", model)


def reseal(head, payload):
    """A stream with a valid checksum around arbitrary words: only the coder can object.

    ``head``: the header before its CRC, ``data[:8]`` for a stream of under 2**21 symbols."""
    crc = zlib.crc32(payload, zlib.crc32(head))
    return head + struct.pack("<I", crc) + payload


@pytest.mark.parametrize("coder", CODERS)
def test_garbage_words_with_a_valid_checksum_never_crash(backend, coder):
    # The coder's closing check (every state back at its start, every word read) catches damage
    # to coded symbols; the raw bits of an escaped value pass through the states unchecked (that
    # is what the CRC is for), so a flip there may decode to another value instead of raising.
    rng = np.random.default_rng(10)
    raised = trials = 0
    for model, x in corrupt_cases():
        data = coding.encode(x, model, coder=coder).data
        head, payload = data[:8], data[12:]
        for trial in range(30 if backend == "cpp" else 5):
            words = bytearray(payload)
            if trial % 3 == 0:
                words = bytearray(rng.integers(0, 256, len(payload), dtype=np.uint8).tobytes())
            elif trial % 3 == 1:
                k = int(rng.integers(len(words)))
                words[k] ^= 1 << int(rng.integers(8))
            else:
                words = words[: 4 * int(rng.integers(len(words) // 4))]
            trials += 1
            try:
                out = coding.decode(reseal(head, bytes(words)), model)
            except ValueError:
                raised += 1
            else:
                assert out.dtype == np.int64 and out.size == x.size
    assert raised >= 0.9 * trials


@pytest.mark.parametrize("coder", CODERS)
def test_damaged_coded_symbols_raise_even_with_a_valid_checksum(backend, coder):
    rng = np.random.default_rng(13)
    p = zipf(16)
    x = rng.choice(16, 64, p=p)  # no escapes: every bit passes through the coder's arithmetic
    model = coding.Categorical(p)
    data = coding.encode(x, model, coder=coder).data
    head, payload = data[:8], data[12:]
    for k in range(0, len(payload), 3 if backend == "cpp" else 11):
        words = bytearray(payload)
        words[k] ^= 1 << (k % 8)
        with pytest.raises(ValueError, match=r"does not decode|ended before|invalid"):
            coding.decode(reseal(head, bytes(words)), model)


@pytest.mark.parametrize("coder", CODERS)
def test_wrong_model_raises(backend, coder):
    rng = np.random.default_rng(11)
    x, mean, scale = gaussian_workload(rng, 300)
    model = coding.QuantizedGaussian(mean, scale, -60, 60)
    data = coding.encode(x, model, coder=coder).data
    with pytest.raises(
        ValueError, match="encoded with a QuantizedGaussian model, got QuantizedLaplace"
    ):
        coding.decode(data, coding.QuantizedLaplace(mean, scale, -60, 60))
    with pytest.raises(ValueError, match=r"does not decode|ended before"):
        coding.decode(data, coding.QuantizedGaussian(mean + 0.7, scale, -60, 60))
    with pytest.raises(ValueError, match="holds 300 symbols but the model's parameters have shape"):
        coding.decode(data, coding.QuantizedGaussian(mean[:10], scale[:10], -60, 60))


def test_header_errors_are_named():
    model = coding.Categorical([0.5, 0.5])
    data = bytearray(coding.encode([0, 1, 1], model).data)
    with pytest.raises(ValueError, match="not an infokit stream: magic"):
        coding.decode(b"XXXX" + bytes(data[4:]), model)
    other = bytearray(data)
    other[2] = 3
    with pytest.raises(ValueError, match="version 3 is not supported"):
        coding.decode(reseal(bytes(other[:8]), bytes(other[12:])), model)
    # a version 1 stream (20-byte header b"IKEC", 1, coder, precision, tag, count, crc)
    v1 = struct.pack("<4sBBBBQ", b"IKEC", 1, 0, 24, 1, 3)
    v1 += struct.pack("<I", zlib.crc32(bytes(8), zlib.crc32(v1))) + bytes(8)
    with pytest.raises(ValueError, match=r"version 1 is not supported \(this is version 2; "):
        coding.decode(v1, model)
    endless = bytes(data[:5]) + b"\x80" * 11  # a varint count that never ends
    with pytest.raises(ValueError, match="symbol count is damaged"):
        coding.decode(reseal(endless, bytes(data[12:])), model)
    padded = bytearray(coding.encode(np.zeros(200, np.int64), model).data)
    padded[7] = 1  # after a 2-byte count, a padding byte that is not zero
    with pytest.raises(ValueError, match="header is damaged"):
        coding.decode(reseal(bytes(padded[:8]), bytes(padded[12:])), model)
    with pytest.raises(ValueError, match="shorter than a header"):
        coding.decode(bytes(data[:10]), model)
    with pytest.raises(ValueError, match="checksum mismatch"):
        coding.decode(bytes(data[:-1]) + bytes([data[-1] ^ 1]), model)
    with pytest.raises(TypeError, match="data must be bytes"):
        coding.decode("abc", model)


# --- bad input ----------------------------------------------------------------------------------


def test_bad_cdf_tables():
    good = np.array([[0, 5, 9], [0, 1, 2]])
    with pytest.raises(TypeError, match="cdfs must be an integer array"):
        coding.CdfTable(good.astype(float), 0)
    with pytest.raises(ValueError, match=r"cdfs must have shape \(R, L\)"):
        coding.CdfTable(np.array([[0]]), 0)
    with pytest.raises(ValueError, match="non-decreasing"):
        coding.CdfTable(np.array([[0, 5, 3]]), 0)
    with pytest.raises(ValueError, match="a positive total"):
        coding.CdfTable(np.array([[0, 0, 0]]), 0)
    with pytest.raises(ValueError, match=r"index must be in \[0, 2\)"):
        coding.CdfTable(good, [0, 2])
    with pytest.raises(ValueError, match=r"lengths must be in \[2, 3\]"):
        coding.CdfTable(good, 0, lengths=[1, 3])
    with pytest.raises(ValueError, match=r"lengths and offsets must have shape \(2,\)"):
        coding.CdfTable(good, 0, offsets=[0])
    with pytest.raises(TypeError, match="index must be an integer array"):
        coding.CdfTable(good, 0.5)


def test_bad_input_messages():
    g = coding.QuantizedGaussian
    with pytest.raises(TypeError, match="symbols must be an integer array, got dtype float64"):
        coding.encode([0.5, 1.0], coding.Categorical([1, 1]))
    with pytest.raises(ValueError, match="probs must be non-negative"):
        coding.Categorical([0.5, -0.1])
    with pytest.raises(ValueError, match="probs must be finite"):
        coding.Categorical([0.5, np.nan])
    with pytest.raises(ValueError, match="positive sum in every row"):
        coding.Categorical([[0.0, 0.0], [1.0, 0.0]])
    with pytest.raises(TypeError, match="probs must be a real array"):
        coding.Categorical(["a", "b"])
    with pytest.raises(ValueError, match="scale must be > 0"):
        g(0.0, [1.0, 0.0], -3, 3)
    with pytest.raises(ValueError, match="mean must be finite"):
        g(np.inf, 1.0, -3, 3)
    with pytest.raises(ValueError, match="low must be <= high, got low=3, high=-3"):
        g(0.0, 1.0, 3, -3)
    with pytest.raises(TypeError, match="low must be an int"):
        g(0.0, 1.0, 0.5, 3)
    with pytest.raises(ValueError, match="do not broadcast"):
        g(np.zeros(3), np.ones(4), -3, 3)
    with pytest.raises(
        ValueError, match=r"shape \(4,\) do not broadcast against symbols of shape \(3,\)"
    ):
        coding.encode([0, 1, 2], g(np.zeros(4), 1.0, -3, 3))
    with pytest.raises(
        ValueError, match=r"shape \(3, 1\) do not broadcast against symbols of shape \(3,\)"
    ):
        coding.encode([0, 1, 2], g(np.zeros((3, 1)), 1.0, -3, 3))
    with pytest.raises(ValueError, match="precision must be in"):
        coding.encode([0], coding.Categorical([1]), precision=12)
    with pytest.raises(TypeError, match="precision must be an int"):
        coding.encode([0], coding.Categorical([1]), precision=24.0)
    with pytest.raises(ValueError, match="precision=16 is too low"):
        coding.encode([0], g(0.0, 1.0, 0, 70000), precision=16)
    with pytest.raises(ValueError, match="coder must be one of"):
        coding.encode([0], coding.Categorical([1]), coder="huffman")
    with pytest.raises(TypeError, match=r"model must be an infokit\.coding model"):
        coding.encode([0], [0.5, 0.5])
    with pytest.raises(ValueError, match="weights must have shape"):
        coding.Mixture([g(0.0, 1.0, -3, 3)], [0.5, 0.5])
    with pytest.raises(ValueError, match="components must share the same low and high"):
        coding.Mixture([g(0.0, 1.0, -3, 3), g(0.0, 1.0, -3, 4)], [0.5, 0.5])
    with pytest.raises(TypeError, match="components must be Quantized"):
        coding.Mixture([coding.Categorical([1])], [1.0])
    with pytest.raises(ValueError, match="symbols must fit in int64"):
        coding.encode(np.array([2**64 - 1], dtype=np.uint64), coding.Categorical([1]))


# --- streaming ----------------------------------------------------------------------------------


def test_streaming_blocks_decode_in_reverse_and_match_one_batch(backend):
    rng = np.random.default_rng(14)
    n1, n2 = 13, 22  # not multiples of the lane count
    y1, m1, s1 = gaussian_workload(rng, n1)
    first = coding.QuantizedGaussian(m1, s1, -40, 40)
    # an autoregressive second block: its means are the first block's symbols
    y2 = y1[: n2 % n1].repeat(2)[:n2] if False else np.resize(y1, n2) + rng.integers(-2, 3, n2)
    y2[5] = 10**7  # an escape
    second = coding.QuantizedGaussian(np.resize(y1, n2).astype(float), 1.5, -40, 40)
    enc = coding.RansEncoder()
    enc.encode(y2, second)
    enc.encode(y1, first)
    stream = enc.finish()
    assert stream.count == n1 + n2
    dec = coding.RansDecoder(stream.data)
    got1 = dec.decode(first)
    got2 = dec.decode(coding.QuantizedGaussian(np.resize(got1, n2).astype(float), 1.5, -40, 40))
    dec.finish()
    np.testing.assert_array_equal(got1, y1)
    np.testing.assert_array_equal(got2, y2)
    # the same bytes as one batch with the concatenated per-symbol parameters
    both = coding.QuantizedGaussian(
        np.concatenate([m1, np.resize(y1, n2)]), np.concatenate([s1, np.full(n2, 1.5)]), -40, 40
    )
    assert coding.encode(np.concatenate([y1, y2]), both).data == stream.data
    assert stream.ideal_bits == pytest.approx(coding.ideal_bits(np.concatenate([y1, y2]), both))


@pytest.mark.parametrize("n", [255, 256, 257, 263, 264, 265, 700])
def test_rans_tail_and_lane_start_at_every_boundary(backend, n):
    # The first 256 pushes (the last 256 symbols decoded) run on lane 0 alone; the lanes start
    # at push 256 from the words lane 0 emitted (or at L, with lane 1 flagging lane 0's move
    # when it emitted none). Blocks that straddle that push, a low-entropy tail, escapes in the
    # tail and in the lanes: the same bytes as the twin and as one batch, and a round trip.
    rng = np.random.default_rng(n)
    p = zipf(16)
    cases = [
        (coding.Categorical(p), with_escapes(rng.choice(16, n, p=p))),
        (coding.Categorical([1e-9, 1.0, 1e-9]), np.ones(n, np.int64)),  # the tail emits no word
    ]
    y, mean, scale = gaussian_workload(rng, n)
    y[n - 3] = 10**9  # an escape in the tail (decoded last, pushed first)
    cases.append((coding.QuantizedGaussian(mean, scale, -40, 40), y))
    for model, x in cases:
        data = coding.encode(x, model).data
        if backend == "cpp":
            assert coding.encode(x, model, backend="numpy").data == data
        np.testing.assert_array_equal(coding.decode(data, model), x)
        if model.shape is None:  # blocks pushed across the lanes' start, one shared model
            enc2 = coding.RansEncoder()
            top = n
            for cut in sorted(
                {max(c, 0) for c in (n - 7, n - 250, n - 256, n - 260)}, reverse=True
            ):
                enc2.encode(x[cut:top], model)
                top = cut
            enc2.encode(x[:top], model)
            assert enc2.finish().data == data
            dec = coding.RansDecoder(data)
            parts = [dec.decode(model, k) for k in (5, n - 5 - 200, 200)]
            dec.finish()
            np.testing.assert_array_equal(np.concatenate(parts), x)


def test_rans_lane_zero_flush_must_be_canonical(backend):
    model = coding.Categorical(zipf(16))
    x = np.random.default_rng(21).choice(16, 300, p=zipf(16))
    data = coding.encode(x, model).data
    head, words = data[:8], np.frombuffer(data[12:], dtype="<u4").copy()
    # lane 0 (>= L once the lanes ran) as a high word of 0: not what the encoder writes
    bad = np.concatenate([words[:-1] if words[-1] >> 31 else words[:-2], [words[-1] | 1 << 31, 0]])
    with pytest.raises(ValueError, match="final coder states are invalid"):
        coding.decode(reseal(head, bad.astype("<u4").tobytes()), model)
    with pytest.raises(ValueError, match=r"ended before|final coder states"):
        coding.decode(reseal(head, np.zeros(1, "<u4").tobytes()), model)


def test_streaming_mixed_models_and_misuse(backend):
    rng = np.random.default_rng(15)
    cat = coding.Categorical(zipf(10))
    x1, x2 = rng.integers(0, 10, 9), rng.integers(-3, 4, (3, 5))
    lap = coding.QuantizedLaplace(np.zeros((3, 5)), 2.0, -3, 3)
    enc = coding.RansEncoder(precision=20)
    enc.encode(x2, lap)
    enc.encode(x1, cat)
    data = enc.finish().data
    with pytest.raises(ValueError, match="has finished"):
        enc.encode(x1, cat)
    with pytest.raises(ValueError, match="mixes models block by block"):
        coding.decode(data, cat)
    dec = coding.RansDecoder(data)
    with pytest.raises(ValueError, match="shape is required"):
        dec.decode(cat)
    np.testing.assert_array_equal(dec.decode(cat, 9), x1)
    assert dec.remaining == 15
    with pytest.raises(ValueError, match="only 9 of the stream's 24 symbols"):
        dec.finish()
    np.testing.assert_array_equal(dec.decode(lap), x2)
    dec.finish()
    dec = coding.RansDecoder(data)
    with pytest.raises(ValueError, match="24 symbols; 0 decoded, 30 more asked"):
        dec.decode(cat, 30)
    # a wrong model for the second block
    dec = coding.RansDecoder(data)
    dec.decode(cat, 9)
    with pytest.raises(ValueError, match=r"does not decode|ended before|escaped"):
        dec.decode(coding.QuantizedGaussian(np.zeros((3, 5)), 0.3, -3, 3))
        dec.finish()


def test_range_streaming_is_a_queue(backend):
    rng = np.random.default_rng(16)
    y1, m1, s1 = gaussian_workload(rng, 11)
    first = coding.QuantizedLogistic(m1, s1, -40, 40)
    y2 = rng.integers(0, 5, 7)
    second = coding.Categorical(rng.random((7, 5)))
    enc = coding.RangeEncoder(precision=22)
    enc.encode(y1, first)
    enc.encode(y2, second)
    stream = enc.finish()
    dec = coding.RangeDecoder(stream)
    np.testing.assert_array_equal(dec.decode(first), y1)
    np.testing.assert_array_equal(dec.decode(second), y2)
    dec.finish()
    with pytest.raises(ValueError, match="written by the range coder; read it with RangeDecoder"):
        coding.RansDecoder(stream)
    # one block: the same bytes as encode(..., coder="range")
    one = coding.RangeEncoder()
    one.encode(y1, first)
    assert one.finish().data == coding.encode(y1, first, coder="range").data


def test_code_lengths_match_constriction():
    # constriction (the reference peer) codes the same data under the same models: both coders
    # should land within a few 1e-5 of the ideal, hence of each other.
    constriction = pytest.importorskip("constriction")
    core()  # 10^5 symbols: the compiled coder (the twin writes the same bytes, tested above)
    rng = np.random.default_rng(17)
    p = zipf()
    x = rng.choice(256, size=100_000, p=p)
    ours = coding.encode(x, coding.Categorical(p)).bits
    c = constriction.stream.stack.AnsCoder()
    c.encode_reverse(x.astype(np.int32), constriction.stream.model.Categorical(p, perfect=False))
    theirs = 32 * c.get_compressed().size
    assert abs(ours - theirs) < 1e-4 * theirs + 800
    y, mean, scale = gaussian_workload(rng, 100_000)
    ours = coding.encode(y, coding.QuantizedGaussian(mean, scale, -512, 511)).bits
    c = constriction.stream.stack.AnsCoder()
    c.encode_reverse(
        y.astype(np.int32), constriction.stream.model.QuantizedGaussian(-512, 511), mean, scale
    )
    theirs = 32 * c.get_compressed().size
    assert abs(ours - theirs) < 2e-4 * theirs + 800


# --- chunked streams (parallel threads) ---------------------------------------------------------


@pytest.mark.parametrize("coder", CODERS)
def test_chunked_streams_round_trip_and_do_not_depend_on_threads(backend, coder, monkeypatch):
    monkeypatch.setattr(coding, "CHUNK", 37)
    rng = np.random.default_rng(18)
    for model, x in small_models(rng, 130):
        x = with_escapes(x)
        with infokit.threads(1):
            one = coding.encode(x, model, coder=coder)
        with infokit.threads(2):
            two = coding.encode(x, model, coder=coder)
            np.testing.assert_array_equal(coding.decode(two, model), x)
        assert one.data == two.data
        assert one.data[3] & 0x80  # the chunked flag
        if backend == "cpp":
            assert coding.encode(x, model, coder=coder, backend="numpy").data == one.data


def test_chunked_stream_damage_and_misuse(monkeypatch):
    monkeypatch.setattr(coding, "CHUNK", 16)
    rng = np.random.default_rng(19)
    p = zipf(8)
    x = rng.choice(8, 50, p=p)
    model = coding.Categorical(p)
    data = coding.encode(x, model).data
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x10
        with pytest.raises(ValueError):
            coding.decode(bytes(bad), model)
    head, words = data[:8], np.frombuffer(data[12:], dtype="<u4").copy()
    for k in (0, 1, 2):  # the chunk length and the first word counts, resealed
        bad = words.copy()
        bad[k] += 1
        with pytest.raises(ValueError, match=r"chunk table|does not decode|ended before"):
            coding.decode(reseal(head, bad.tobytes()), model)
    with pytest.raises(ValueError, match="use decode"):
        coding.RansDecoder(data)


def test_long_streams_are_chunked_at_full_size():
    core()
    rng = np.random.default_rng(20)
    p = zipf()
    x = rng.choice(256, size=coding.CHUNK + 1_000_000, p=p)
    model = coding.Categorical(p)
    with infokit.threads(2):
        enc = coding.encode(x, model)
        np.testing.assert_array_equal(coding.decode(enc, model), x)
    assert enc.data[3] == 0x80 | 24 << 1 and enc.overhead < 5e-5


def test_compiled_crc32_equals_zlib():
    mod = core()
    rng = np.random.default_rng(21)
    # below and around the 64-byte minimum of the folding path, its 16-byte steps, and its tail
    for n in (0, 1, 7, 8, 9, 63, 64, 65, 79, 80, 127, 128, 129, 1000, 4097, 65536 + 13):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        for start in (0, 0xDEADBEEF):
            assert mod.crc32(data, start) == zlib.crc32(data, start)
    block = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    for offset in range(1, 17):  # unaligned starts
        view = memoryview(block)[offset : offset + 2000]
        assert mod.crc32(view, 7) == zlib.crc32(view, 7)
    words = rng.integers(0, 2**32, 999, dtype=np.uint64).astype("<u4")
    assert mod.crc32(words.data) == zlib.crc32(words.data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    families=st.lists(st.integers(0, 3), min_size=1, max_size=4),
    data=st.data(),
    low=st.integers(-200, 0),
    width=st.integers(0, 400),
)
def test_property_mixture_round_trip_and_twin(families, data, low, width):
    K = len(families)
    means = data.draw(st.lists(st.floats(-300, 300), min_size=K, max_size=K))
    scales = data.draw(st.lists(st.floats(1e-3, 1e3), min_size=K, max_size=K))
    weights = data.draw(
        st.lists(st.floats(0, 10), min_size=K, max_size=K).filter(lambda w: sum(w) > 0)
    )
    comps = [
        FAMILY_MODELS[f](m, s, low, low + width)
        for f, m, s in zip(families, means, scales, strict=True)
    ]
    model = coding.Mixture(comps, weights)
    x = np.array(data.draw(st.lists(st.integers(-500, 500), max_size=20)), dtype=np.int64)
    enc = coding.encode(x, model)
    np.testing.assert_array_equal(coding.decode(enc, model), x)
    assert coding.encode(x, model, backend="numpy").data == enc.data


@pytest.mark.parametrize("coder", CODERS)
def test_int32_symbols_are_read_in_place_and_give_the_same_stream(backend, coder):
    rng = np.random.default_rng(22)
    for model, x in small_models(rng, 40):
        x = with_escapes(x).clip(-(2**31), 2**31 - 1)
        wide = coding.encode(x, model, coder=coder).data
        narrow = coding.encode(x.astype(np.int32), model, coder=coder).data
        strided = np.repeat(x.astype(np.int32), 2)[::2]  # not contiguous
        assert wide == narrow == coding.encode(strided, model, coder=coder).data


@pytest.mark.parametrize("coder", CODERS)
def test_empty_streams(backend, coder):
    cat = coding.Categorical([0.5, 0.5])
    enc = coding.encode(np.array([], dtype=np.int64), cat, coder=coder)
    assert enc.count == 0 and math.isnan(enc.overhead)
    assert coding.decode(enc, cat).shape == (0,)
    gauss = coding.QuantizedGaussian(np.zeros((0, 3)), 1.0, -3, 3)
    enc = coding.encode(np.zeros((0, 3), dtype=np.int64), gauss, coder=coder)
    assert coding.decode(enc, gauss).shape == (0, 3)
