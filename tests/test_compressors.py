"""infokit.compressors: selections against numpy, statistics of the unbiased compressors against
their theorems, PowerSGD against the Eckart–Young optimum, error-feedback accounting, exact bit
counts against hand-derived formulas, and both backends."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import infokit
from infokit import _backend
from infokit import compressors as C

# Kernel-level comparisons need the build; test_build.py asserts it exists unless
# INFOKIT_NO_EXTENSIONS is set on purpose.
needs_build = pytest.mark.skipif(
    "cpp" not in _backend.available_backends(), reason="needs the compiled kernels"
)

DTYPES = [np.float32, np.float64]


def header_bits(ndim: int, n_params: int) -> int:
    # 8-byte header (tag, dtype code, ndim, padding), int64 per dimension and per parameter.
    return 8 * (8 + 8 * (ndim + n_params))


# ---------------------------------------------------------------------------------------------
# top-k
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 37, 1000, 10007])
def test_topk_equals_argpartition(backend: str, dtype: type, k: int) -> None:
    x = np.random.default_rng(k).standard_normal(10007).astype(dtype)
    p = C.topk(x, k)
    expected = np.sort(np.argpartition(-np.abs(x), k - 1)[:k])
    np.testing.assert_array_equal(p.indices, expected)
    np.testing.assert_array_equal(p.values, x[expected])
    assert p.values.dtype == dtype
    assert p.method == "topk" and not p.unbiased and p.delta == k / x.size


@pytest.mark.parametrize("dtype", DTYPES)
def test_topk_ties_keep_lowest_indices(backend: str, dtype: type) -> None:
    x = np.random.default_rng(1).integers(-3, 4, 5000).astype(dtype)
    for k in [1, 700, 2500, 4999]:
        expected = np.sort(np.argsort(-np.abs(x), kind="stable")[:k])
        np.testing.assert_array_equal(C.topk(x, k).indices, expected)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=300),
    st.floats(0.001, 1.0),
    st.sampled_from(DTYPES),
)
def test_topk_property_both_backends(values: list[int], density: float, dtype: type) -> None:
    x = np.array(values, dtype=dtype) * dtype(0.25)
    k = max(1, math.ceil(density * x.size))
    expected = np.sort(np.argsort(-np.abs(x), kind="stable")[:k])
    for b in _backend.available_backends():
        p = C.topk(x, density=density, backend=b)
        np.testing.assert_array_equal(p.indices, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_topk_round_trip_and_contraction(backend: str, dtype: type) -> None:
    x = np.random.default_rng(2).standard_normal((60, 70)).astype(dtype)
    p = C.topk(x, density=0.05)
    y = p.decode()
    assert y.shape == x.shape and y.dtype == dtype
    kept = y != 0
    assert kept.sum() == p.k == math.ceil(0.05 * x.size)
    np.testing.assert_array_equal(y[kept], x[kept])
    assert np.abs(x[~kept]).max() <= np.abs(x[kept]).min()
    err = float(np.sum((y.astype(float) - x) ** 2))
    assert err <= (1 - p.k / x.size) * float(np.sum(x.astype(float) ** 2))


def test_topk_inputs_readonly_noncontiguous_int() -> None:
    x = np.random.default_rng(3).standard_normal((200, 50))
    view = x[:, ::2]
    ro = view.copy()
    ro.setflags(write=False)
    a, b = C.topk(view, 77), C.topk(ro, 77)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.decode(), np.where(a.decode() != 0, view, 0))
    ints = C.topk(np.arange(-50, 50), 3)
    assert ints.dtype == np.float64
    np.testing.assert_array_equal(ints.values, [-50.0, -49.0, 49.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [7, 3000, 50_000, 300_001])
def test_topk_approximate_keeps_everything_above_the_sampled_threshold(
    backend: str, dtype: type, n: int
) -> None:
    # Reference written from the definition with a full sort instead of a partition: tau is the
    # r-th largest of the m strided samples, r = ceil(k·m / n), and every |x| >= tau is kept.
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    x[n // 3] = -x[n // 2]  # a tie in magnitude
    for k in sorted({1, max(1, n // 100), n // 2 or 1, n}):
        m = min(n, 2**14)
        stride = n // m
        sample = np.sort(np.abs(np.array([x[j * stride] for j in range(m)])))[::-1]
        tau = sample[math.ceil(k * m / n) - 1]
        want = np.array([i for i in range(n) if abs(x[i]) >= tau]) if n < 5000 else None
        if want is None:
            want = np.flatnonzero(np.abs(x) >= tau)
        got = C.topk(x, k, approximate=True)
        np.testing.assert_array_equal(got.indices, want)
        np.testing.assert_array_equal(got.values, x[want])
        assert got.values.dtype == dtype and got.delta == got.k / n
        dropped = np.delete(np.abs(x), got.indices)
        assert dropped.size == 0 or dropped.max() < np.abs(got.values).min()  # a top-c set
        np.testing.assert_array_equal(got.decode()[got.indices], x[got.indices])


def test_topk_approximate_count_is_close_to_k(backend: str) -> None:
    # tau is the r-th largest of m samples, so the fraction of x above it is about
    # Beta(r, m - r + 1): mean r/m, sd sqrt(r)/m; c = n·fraction. Allow 5 sd plus rounding.
    n, m = 400_000, 2**14
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal(n)
        for k in (400, 4000, 40_000):
            r = math.ceil(k * m / n)
            c = C.topk(x, k, approximate=True).k
            assert abs(c - k) <= n / m * (5 * math.sqrt(r) + 1), (k, c)


def test_topk_approximate_on_mostly_zeros_is_exact(backend: str) -> None:
    x = np.zeros(100_000, np.float32)
    x[[5, 70_000, 99_999]] = [1.0, -2.0, 0.5]
    got = C.topk(x, 50, approximate=True)  # the sample sees only zeros: tau = 0
    exact = C.topk(x, 50)
    assert got.k == 50
    np.testing.assert_array_equal(got.indices, exact.indices)


def test_topk_approximate_bad_input(backend: str) -> None:
    x = np.ones(100)
    x[37] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        C.topk(x, 5, approximate=True)
    with pytest.raises(TypeError, match="approximate must be True or False"):
        C.topk(np.ones(10), 2, approximate="yes")
    with pytest.raises(ValueError, match="k"):
        C.topk(np.ones(10), 11, approximate=True)


@pytest.mark.parametrize("dtype", DTYPES)
@needs_build
def test_topk_approximate_threads_and_backends_agree(dtype: type) -> None:
    x = np.random.default_rng(9).standard_normal(1_000_003).astype(dtype)
    view = x[::3]  # non-contiguous input
    for data in (x, view):
        runs = []
        for threads in (1, 2):
            with infokit.threads(threads):
                runs.append(C.topk(data, 5000, approximate=True, backend="cpp"))
        twin = C.topk(data, 5000, approximate=True, backend="numpy")
        for got in runs:
            np.testing.assert_array_equal(got.indices, twin.indices)
            np.testing.assert_array_equal(got.values, twin.values)


@pytest.mark.parametrize("dtype", DTYPES)
@needs_build
def test_topk_threads_and_backends_agree(dtype: type) -> None:
    x = np.random.default_rng(4).standard_normal(300_000).astype(dtype)
    x[::1000] = 2.5  # a tie at the threshold region
    with infokit.threads(1):
        one = C.topk(x, 3000, backend="cpp")
    with infokit.threads(2):
        two = C.topk(x, 3000, backend="cpp")
    ref = C.topk(x, 3000, backend="numpy")
    for other in (two, ref):
        np.testing.assert_array_equal(one.indices, other.indices)
        np.testing.assert_array_equal(one.values, other.values)


def stable_topk(x: np.ndarray, k: int) -> np.ndarray:
    return np.sort(np.argsort(-np.abs(x), kind="stable")[:k])


@needs_build
def test_topk_large_inputs_ties_and_fallbacks() -> None:
    # n >= 2^18 and k <= n/4 take the sampled one-pass route; these inputs also force its
    # fallbacks to the histogram route (too few or too many candidates).
    rng = np.random.default_rng(14)
    n = 300_000
    ties = rng.integers(-50, 51, n).astype(np.float32)  # the k-th value sits inside a tie group
    misleading = np.ones(n)
    misleading[:: n // 2**14] = 10.0  # exactly the strided sample is large
    flat = np.full(n, 3.0)  # every entry is a candidate
    subnormal = (rng.random(n) * 1e-40).astype(np.float32)  # keys below the smallest normal
    subnormal64 = rng.random(n) * 1e-310
    cases = [(ties, 5000), (ties, 70_000), (misleading, 20_000), (flat, 10)]
    for x, k in [*cases, (subnormal, 3000), (subnormal64, 3000), (ties.astype(float), 4000)]:
        for b in ("cpp", "numpy"):
            np.testing.assert_array_equal(C.topk(x, k, backend=b).indices, stable_topk(x, k))
    x = rng.standard_normal(n)
    x[12345] = np.nan
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        C.topk(x, 100, backend="cpp")


# ---------------------------------------------------------------------------------------------
# random-k
# ---------------------------------------------------------------------------------------------


@needs_build
def test_randk_backends_give_the_same_subset() -> None:
    x = np.random.default_rng(5).standard_normal(5000)
    for seed in [0, 1, 2**64 - 1, 123456789]:
        a = C.randk(x, 300, seed=seed, backend="cpp")
        b = C.randk(x, 300, seed=seed, backend="numpy")
        np.testing.assert_array_equal(a.indices, b.indices)
        assert np.all(np.diff(a.indices) > 0) and a.indices.size == 300
    assert not np.array_equal(C.randk(x, 300, seed=1).indices, C.randk(x, 300, seed=2).indices)


def test_randk_subsets_are_uniform(backend: str) -> None:
    # Each index is kept with probability k/n; chi-square over the inclusion counts.
    n, k, trials = 20, 5, 3000
    counts = np.zeros(n)
    x = np.ones(n)
    for seed in range(trials):
        idx = C.randk(x, k, seed=seed).indices
        counts[idx] += 1
    expected = trials * k / n
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 50.0  # 19 degrees of freedom: P(chi2 > 50) < 1e-4
    assert counts.min() > 0.8 * expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_randk_unbiased_with_exact_variance(backend: str, dtype: type) -> None:
    x = np.random.default_rng(6).standard_normal(40).astype(dtype)
    k, trials = 8, 3000
    decoded = np.stack([C.randk(x, k, seed=s).decode() for s in range(trials)]).astype(float)
    p = C.randk(x, k, seed=0)
    assert p.unbiased and p.omega == pytest.approx(40 / 8 - 1) and p.scale == 5.0
    # E[C(x)_i] = x_i; the per-entry variance is (d/k - 1) x_i^2.
    se = np.sqrt((40 / 8 - 1) * x.astype(float) ** 2 / trials)
    assert np.all(np.abs(decoded.mean(axis=0) - x) <= 5 * se + 1e-12)
    mse = np.mean(np.sum((decoded - x) ** 2, axis=1))
    assert mse == pytest.approx(p.omega * float(np.sum(x.astype(float) ** 2)), rel=0.1)


# ---------------------------------------------------------------------------------------------
# QSGD
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("n", "bits", "bucket"), [(1000, 4, 128), (777, 3, 50), (9, 2, 1), (4099, 8, 13), (64, 5, None)]
)
@needs_build
def test_qsgd_backends_agree_bit_for_bit(
    dtype: type, n: int, bits: int, bucket: int | None
) -> None:
    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    a = C.qsgd(x, bits, bucket, seed=99, backend="cpp")
    b = C.qsgd(x, bits, bucket, seed=99, backend="numpy")
    np.testing.assert_array_equal(a.packed, b.packed)
    np.testing.assert_allclose(a.norms, b.norms, rtol=4 * np.finfo(dtype).eps)
    for backend in ("cpp", "numpy"):
        np.testing.assert_allclose(
            a.decode(backend=backend), b.decode(), rtol=1e-6 if dtype == np.float32 else 1e-14
        )


@pytest.mark.parametrize("dtype", DTYPES)
def test_qsgd_decode_follows_the_formula(backend: str, dtype: type) -> None:
    x = np.random.default_rng(7).standard_normal(300).astype(dtype)
    p = C.qsgd(x, 4, 64, seed=3)
    s = 7
    codes = p.codes()
    level, negative = codes & 7, (codes & 8) != 0
    assert level.max() <= s
    norms = np.repeat(p.norms.astype(float), 64)[:300]
    expected = np.where(negative, -1.0, 1.0) * norms * level / s
    np.testing.assert_allclose(p.decode(), expected, rtol=1e-6 if dtype == np.float32 else 1e-15)
    # norms are the bucket L2 norms rounded up to the dtype
    exact = np.sqrt(np.add.reduceat(x.astype(float) ** 2, np.arange(0, 300, 64)))
    assert np.all(p.norms.astype(float) >= exact * (1 - 1e-15))
    np.testing.assert_allclose(p.norms, exact, rtol=2 * np.finfo(dtype).eps)
    # the sign is sent where the level is non-zero, and the level is floor or ceil of s|x|/N
    ratio = s * np.abs(x.astype(float)) / norms
    assert np.all((level == np.floor(ratio)) | (level == np.ceil(ratio)))
    assert np.all(np.sign(p.decode()[level > 0]) == np.sign(x[level > 0]))


@pytest.mark.parametrize(("bits", "bucket"), [(2, 16), (3, 64), (4, 128)])
def test_qsgd_unbiased_and_variance_bound(backend: str, bits: int, bucket: int) -> None:
    rng = np.random.default_rng(bits)
    x = rng.standard_normal(256) * rng.exponential(1.0, 256)
    trials = 2000
    decoded = np.stack([C.qsgd(x, bits, bucket, seed=t).decode() for t in range(trials)])
    s = 2 ** (bits - 1) - 1
    # Per-entry variance of the stochastic rounding is (N/s)^2 p(1-p) <= (N/s)^2 / 4.
    norms = np.repeat(np.sqrt(np.add.reduceat(x**2, np.arange(0, 256, bucket))), bucket)
    se = norms / s / 2 / np.sqrt(trials)
    assert np.all(np.abs(decoded.mean(axis=0) - x) <= 5 * se)
    mse = np.mean(np.sum((decoded - x) ** 2, axis=1))
    omega = min(bucket / s**2, math.sqrt(bucket) / s)
    assert C.qsgd(x, bits, bucket, seed=0).omega == pytest.approx(omega)
    assert mse <= omega * float(x @ x)


@needs_build
def test_qsgd_threads_and_seeds() -> None:
    x = np.random.default_rng(8).standard_normal(200_003).astype(np.float32)
    with infokit.threads(1):
        one = C.qsgd(x, 4, 100, seed=5, backend="cpp")
    with infokit.threads(2):
        two = C.qsgd(x, 4, 100, seed=5, backend="cpp")
        dec_two = two.decode(backend="cpp")
    np.testing.assert_array_equal(one.packed, two.packed)
    np.testing.assert_array_equal(one.norms, two.norms)
    with infokit.threads(1):
        np.testing.assert_array_equal(one.decode(backend="cpp"), dec_two)
    other = C.qsgd(x, 4, 100, seed=6, backend="cpp")
    assert not np.array_equal(one.packed, other.packed)


def test_qsgd_huge_float64_values_do_not_overflow(backend: str) -> None:
    x = np.array([3e200, -4e200, 1e199, 0.0])
    p = C.qsgd(x, 8, 4, seed=0)
    expected = 1e200 * math.sqrt(9 + 16 + 0.01)
    assert p.norms[0] == pytest.approx(expected, rel=1e-15)
    assert np.isfinite(p.decode()).all()


# ---------------------------------------------------------------------------------------------
# PowerSGD
# ---------------------------------------------------------------------------------------------


def decaying(m: int, n: int, dtype: type, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((m, min(m, n))))
    v, _ = np.linalg.qr(rng.standard_normal((n, min(m, n))))
    sigma = 0.7 ** np.arange(min(m, n))
    return ((u * sigma) @ v.T).astype(dtype), sigma


@pytest.mark.parametrize("dtype", DTYPES)
def test_powersgd_approaches_eckart_young(dtype: type) -> None:
    M, sigma = decaying(80, 60, dtype)
    r = 4
    optimum = math.sqrt(float(np.sum(sigma[r:] ** 2)))
    p = C.powersgd(M, r, seed=0)
    first = float(np.linalg.norm(p.decode().astype(float) - M))
    assert first >= optimum * (1 - 1e-6)
    for _ in range(15):
        p = C.powersgd(M, r, warm_start=p)
    err = float(np.linalg.norm(p.decode().astype(float) - M))
    assert err <= 1.01 * optimum
    assert p.p.dtype == dtype and p.decode().shape == M.shape
    np.testing.assert_allclose(p.p.T @ p.p, np.eye(r), atol=1e-5 if dtype == np.float32 else 1e-12)
    assert not p.unbiased and p.rank == r


def test_powersgd_warm_start_array_seed_and_tensor() -> None:
    M = np.random.default_rng(9).standard_normal((6, 5, 4))
    a, b = C.powersgd(M, 2, seed=4), C.powersgd(M, 2, seed=4)
    np.testing.assert_array_equal(a.q, b.q)
    assert a.decode().shape == (6, 5, 4)
    c = C.powersgd(M, 2, warm_start=a.q)
    d = C.powersgd(M, 2, warm_start=a)
    np.testing.assert_array_equal(c.q, d.q)
    with pytest.raises(ValueError, match=r"warm_start must have shape \(n, rank\) = \(20, 2\)"):
        C.powersgd(M, 2, warm_start=np.ones((5, 2)))


# ---------------------------------------------------------------------------------------------
# Error feedback
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_error_feedback_topk_identity_is_exact(backend: str, dtype: type) -> None:
    rng = np.random.default_rng(10)
    ef = C.ErrorFeedback(C.TopK(density=0.02))
    e_old = np.zeros(1000, dtype=dtype)
    sent = np.zeros(1000)
    total = np.zeros(1000)
    for _ in range(5):
        x = rng.standard_normal(1000).astype(dtype)
        p = ef.step(x)
        e_new = ef.residual
        assert e_new is not None
        np.testing.assert_array_equal(x + e_old, p.decode() + e_new)
        # the fused step equals the unfused definition
        manual = C.topk(x + e_old, p.k, backend="numpy")
        np.testing.assert_array_equal(manual.indices, p.indices)
        e_old = e_new
        sent += p.decode()
        total += x
    np.testing.assert_allclose(sent + e_old, total, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@needs_build
def test_error_feedback_topk_large_matches_twin_under_threads(dtype: type) -> None:
    # n >= 2^18 takes the kernel's sampled one-pass route for the feedback step too.
    rng = np.random.default_rng(15)
    xs = [rng.standard_normal(300_000).astype(dtype) for _ in range(3)]
    runs = []
    for backend, n_threads in [("cpp", 1), ("cpp", 2), ("numpy", 1)]:
        ef = C.ErrorFeedback(C.TopK(density=0.01), backend=backend)
        with infokit.threads(n_threads):
            sent = [ef.step(x) for x in xs]
        runs.append((sent, ef.residual))
    (ref_sent, ref_res), others = runs[0], runs[1:]
    for sent, res in others:
        np.testing.assert_array_equal(res, ref_res)
        for a, b in zip(sent, ref_sent, strict=True):
            np.testing.assert_array_equal(a.indices, b.indices)
            np.testing.assert_array_equal(a.values, b.values)


@pytest.mark.parametrize(
    "compressor", [C.QSGD(bits=3, bucket=32), C.RandK(density=0.1), C.PowerSGD(rank=2)]
)
def test_error_feedback_identity_other_compressors(backend: str, compressor: C.Compressor) -> None:
    rng = np.random.default_rng(11)
    ef = C.ErrorFeedback(compressor, seed=1)
    e_old = np.zeros((20, 30))
    for _ in range(4):
        x = rng.standard_normal((20, 30))
        p = ef.step(x)
        e_new = ef.residual
        assert e_new is not None
        np.testing.assert_allclose(x + e_old, p.decode() + e_new, atol=1e-12)
        e_old = e_new
    again = C.ErrorFeedback(compressor, seed=1)
    rng = np.random.default_rng(11)
    for _ in range(4):
        last = again.step(rng.standard_normal((20, 30)))
    np.testing.assert_array_equal(last.decode(), p.decode())


def test_error_feedback_rejects_and_keeps_state(backend: str) -> None:
    ef = C.ErrorFeedback(C.TopK(k=3))
    ef.step(np.arange(10.0))
    before = ef.residual
    bad = np.arange(10.0)
    bad[4] = np.nan
    with pytest.raises(ValueError, match=r"x \+ residual contains NaN or inf"):
        ef.step(bad)
    np.testing.assert_array_equal(ef.residual, before)
    with pytest.raises(ValueError, match="x must keep the shape and dtype of the first step"):
        ef.step(np.arange(11.0))
    with pytest.raises(TypeError, match="compressor must be a TopK, RandK, QSGD or PowerSGD"):
        C.ErrorFeedback("topk")  # type: ignore[arg-type]
    ef.reset()
    assert ef.residual is None


# ---------------------------------------------------------------------------------------------
# Bit accounting
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_bits_match_hand_formulas(dtype: type) -> None:
    x = np.random.default_rng(12).standard_normal((30, 41)).astype(dtype)
    d, item = x.size, np.dtype(dtype).itemsize * 8
    cases = [
        (C.TopK(k=50), C.topk(x, 50), header_bits(2, 1) + 50 * (32 + item)),
        (C.RandK(k=50), C.randk(x, 50, seed=1), header_bits(2, 2) + 50 * item),
        (C.QSGD(4, 128), C.qsgd(x, 4, 128, seed=1), header_bits(2, 2) + 10 * item + 8 * 615),
        (C.QSGD(3, 7), C.qsgd(x, 3, 7, seed=1), header_bits(2, 2) + 176 * item + 8 * 462),
        (C.PowerSGD(3), C.powersgd(x, 3, seed=1), header_bits(2, 1) + 3 * (30 + 41) * item),
    ]
    for compressor, payload, expected in cases:
        assert payload.bits == expected, payload
        assert compressor.payload_bits(x.shape, dtype) == expected
        assert 8 * len(payload.to_bytes()) == expected
        assert payload.bits_per_element == expected / d
        assert payload.compression_ratio == pytest.approx(d * item / expected)
        back = C.from_bytes(payload.to_bytes())
        assert type(back) is type(payload) and back.shape == payload.shape
        np.testing.assert_array_equal(back.decode(), payload.decode())


def test_declared_properties() -> None:
    assert (C.TopK.unbiased, C.RandK.unbiased, C.QSGD.unbiased, C.PowerSGD.unbiased) == (
        False,
        True,
        True,
        False,
    )
    x = np.random.default_rng(16).standard_normal(1000)
    # one global norm: d is the whole vector, so omega = min(1000/49, sqrt(1000)/7)
    glob = C.qsgd(x, 4, None, seed=0)
    assert glob.bucket == 1000 and glob.norms.size == 1
    huge = C.qsgd(x, 4, 2**62, seed=0)  # a bucket longer than x is one bucket
    np.testing.assert_array_equal(huge.packed, glob.packed)
    assert huge.bucket == 1000 and C.QSGD(4, 2**62).payload_bits(x.shape, np.float64) == huge.bits
    assert glob.omega == pytest.approx(min(1000 / 49, math.sqrt(1000) / 7))
    assert C.QSGD(4, None).payload_bits(x.shape, np.float64) == glob.bits
    assert C.TopK(density=0.013).payload_bits((1000,), np.float64) == header_bits(1, 1) + 13 * 96
    assert C.RandK(k=7).encode(x, seed=3).omega == pytest.approx(1000 / 7 - 1)
    assert C.topk(x, 10).omega is None and C.randk(x, 10, seed=1).delta is None
    assert C.powersgd(x.reshape(20, 50), 2).delta is None


def test_index_width_grows_beyond_32_bits() -> None:
    assert C.TopK(k=10).payload_bits((2**32 + 1,), np.float32) == header_bits(1, 1) + 10 * (64 + 32)
    assert C.TopK(k=10).payload_bits((2**32,), np.float32) == header_bits(1, 1) + 10 * (32 + 32)


def test_from_bytes_rejects_corrupt_streams() -> None:
    data = C.qsgd(np.arange(20.0), 4, 8, seed=0).to_bytes()
    with pytest.raises(ValueError, match="shorter than its shape and parameters require"):
        C.from_bytes(data[:-1])
    with pytest.raises(ValueError, match="trailing bytes"):
        C.from_bytes(data + b"\0")
    with pytest.raises(ValueError, match="unknown format tag"):
        C.from_bytes(b"\x09" + data[1:])
    with pytest.raises(ValueError, match="too short for a header"):
        C.from_bytes(data[:3])
    topk_data = bytearray(C.topk(np.arange(1.0, 21.0), 2).to_bytes())
    topk_data[24:28] = (99).to_bytes(4, "little")  # first index beyond the 20 entries
    with pytest.raises(ValueError, match="indices out of range or not increasing"):
        C.from_bytes(bytes(topk_data))
    with pytest.raises(TypeError, match="data must be bytes"):
        C.from_bytes("abc")  # type: ignore[arg-type]


def test_report_numbers() -> None:
    x = np.random.default_rng(13).standard_normal(500)
    p = C.topk(x, 25)
    rep = C.report(x, p)
    top = np.sort(np.abs(x))[-25:]
    assert rep.energy_kept == pytest.approx(float(top @ top) / float(x @ x))
    assert rep.relative_error == pytest.approx(math.sqrt(1 - rep.energy_kept))
    assert rep.delta == 25 / 500 and rep.omega is None and rep.bits == p.bits
    assert "bits per element" in str(rep) and "topk" in repr(rep) and "topk" in repr(p)
    with pytest.raises(ValueError, match=r"x must have the payload's shape \(500,\)"):
        C.report(x[:10], p)


# ---------------------------------------------------------------------------------------------
# Expected errors and L-GreCo tables
# ---------------------------------------------------------------------------------------------


def test_expected_error_closed_forms(backend: str) -> None:
    rng = np.random.default_rng(17)
    x = rng.standard_normal(512) * rng.exponential(1.0, 512)
    total = float(x @ x)
    top = C.topk(x, 40)
    assert C.expected_error(x, C.TopK(k=40)) == pytest.approx(
        float(np.sum((top.decode() - x) ** 2))
    )
    assert C.expected_error(x, C.RandK(k=64)) == pytest.approx((512 / 64 - 1) * total)
    q = C.QSGD(bits=3, bucket=64)
    draws = np.stack([C.qsgd(x, 3, 64, seed=t).decode() for t in range(1500)])
    mse = float(np.mean(np.sum((draws - x) ** 2, axis=1)))
    expected = C.expected_error(x, q)
    assert mse == pytest.approx(expected, rel=0.06)
    assert expected <= C.qsgd(x, 3, 64, seed=0).omega * total
    M = rng.standard_normal((16, 32))
    p = C.powersgd(M, 3, seed=5)
    assert C.expected_error(M, C.PowerSGD(3), seed=5) == pytest.approx(
        float(np.sum((p.decode() - M) ** 2))
    )
    with pytest.raises(TypeError, match="compressor must be a TopK, RandK, QSGD or PowerSGD"):
        C.expected_error(x, "topk")  # type: ignore[arg-type]


def test_error_tables_drive_the_lgreco_allocation() -> None:
    rng = np.random.default_rng(18)
    layers = [rng.standard_normal(400) * scale for scale in (0.1, 1.0, 5.0)]
    candidates = [C.TopK(density=0.02), C.TopK(density=0.1), C.QSGD(2, 64), C.QSGD(4, 64)]
    tables = [C.error_table(g, candidates) for g in layers]
    for t, g in zip(tables, layers, strict=True):
        assert [int(b) for b in t.bits] == [c.payload_bits(g.shape, g.dtype) for c in candidates]
    budget = int(sum(t.bits[1] for t in tables))
    alloc = infokit.lowrank.allocate_ranks(
        [t.errors for t in tables], [t.bits for t in tables], budget
    )
    # brute force over all 4^3 choices
    best = min(
        (sum(t.errors[c] for t, c in zip(tables, combo, strict=True)), combo)
        for combo in np.ndindex(4, 4, 4)
        if sum(t.bits[c] for t, c in zip(tables, combo, strict=True)) <= budget
    )
    assert alloc.total_error == pytest.approx(best[0])
    assert tuple(alloc.levels) == best[1]


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rejected(backend: str, bad: float) -> None:
    x = np.ones(50)
    x[17] = bad
    for call in (
        lambda: C.topk(x, 3),
        lambda: C.randk(x, 3, seed=0),
        lambda: C.qsgd(x, 4, 8, seed=0),
        lambda: C.topk(x.astype(np.float32), 3),
        lambda: C.qsgd(x.astype(np.float32), 4, 8, seed=0),
    ):
        with pytest.raises(ValueError, match="x contains NaN or inf"):
            call()
    with pytest.raises(ValueError, match="M contains NaN or inf"):
        C.powersgd(x.reshape(5, 10), 2)


def test_argument_errors(backend: str) -> None:
    x = np.ones(10)
    with pytest.raises(ValueError, match=r"k must be <= x\.size = 10, got 11"):
        C.topk(x, 11)
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        C.randk(x, 0)
    with pytest.raises(TypeError, match="give exactly one of k and density"):
        C.topk(x, 2, density=0.5)
    with pytest.raises(TypeError, match="give exactly one of k and density"):
        C.topk(x)
    with pytest.raises(ValueError, match=r"density must be in \(0, 1\], got 1.5"):
        C.topk(x, density=1.5)
    with pytest.raises(ValueError, match=r"bits must be in \[2, 8\], got 9"):
        C.qsgd(x, 9)
    with pytest.raises(ValueError, match=r"bits must be in \[2, 8\], got 1"):
        C.qsgd(x, 1)
    with pytest.raises(TypeError, match="bits must be an int, got float"):
        C.qsgd(x, 4.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bucket must be >= 1, got 0"):
        C.qsgd(x, 4, 0)
    with pytest.raises(ValueError, match="x is empty"):
        C.topk(np.array([]), 1)
    with pytest.raises(
        ValueError, match="x must be an array of at least 1 dimension, got a scalar"
    ):
        C.qsgd(3.0)
    with pytest.raises(TypeError, match="x must hold real numbers, got dtype complex128"):
        C.qsgd(x + 1j)
    with pytest.raises(ValueError, match=r"seed must be in \[0, 2\*\*64\), got -1"):
        C.randk(x, 2, seed=-1)
    with pytest.raises(
        TypeError, match="seed must be None, an int or a numpy Generator, got float"
    ):
        C.qsgd(x, seed=1.5)
    with pytest.raises(ValueError, match=r"rank must be <= min\(m, n\) = 2, got 3"):
        C.powersgd(np.ones((2, 5)), 3)
    with pytest.raises(ValueError, match="M must have at least 2 dimensions"):
        C.powersgd(x, 1)
    with pytest.raises(ValueError, match="backend must be one of"):
        C.topk(x, 1, backend="gpu")
