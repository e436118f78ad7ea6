"""The counting kernel (histogram, factorize, combine, joint counts) against its numpy twin and
against numpy's own bincount/unique, on every integer dtype, both routes (dense and hashed),
thread counts, read-only and non-contiguous inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import infokit
from infokit import _backend, _counts
from infokit._reference import counts as ref
from infokit._validation import as_labels

INT_DTYPES = [
    np.bool_,
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.uint32,
    np.int64,
    np.uint64,
]


def core():
    mod = _backend.compiled("_core")
    if mod is None:
        pytest.skip("no compiled backend")
    return mod


def sample(dtype, n, rng, wide=False):
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    if info is None:
        return rng.integers(0, 2, n).astype(np.bool_)
    if wide:
        return rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    lo = max(info.min, -50)
    return rng.integers(lo, lo + 100, n).astype(dtype)


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_histogram_and_factorize_match_numpy(dtype, wide, n_threads):
    rng = np.random.default_rng(7)
    # 200_003 items: above the threading grain, not a multiple of the lane count.
    x = sample(dtype, 200_003, rng, wide)
    values, counts = core().histogram(x, n_threads=n_threads)
    v_ref, c_ref = np.unique(x, return_counts=True)
    np.testing.assert_array_equal(values, v_ref)
    assert values.dtype == x.dtype
    np.testing.assert_array_equal(counts, c_ref)
    codes, values2, counts2 = core().factorize(x, n_threads=n_threads)
    np.testing.assert_array_equal(values2, v_ref)
    np.testing.assert_array_equal(counts2, c_ref)
    np.testing.assert_array_equal(values2[codes], x)


def test_extreme_int64_and_uint64_values():
    x = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0, -1, 0], dtype=np.int64)
    values, counts = core().histogram(x)
    np.testing.assert_array_equal(values, np.unique(x))
    np.testing.assert_array_equal(counts, [1, 1, 2, 1])
    u = np.array([0, np.iinfo(np.uint64).max, 2**63, 0], dtype=np.uint64)
    values, counts = core().histogram(u)
    np.testing.assert_array_equal(values, np.unique(u))
    np.testing.assert_array_equal(counts, [2, 1, 1])


@pytest.mark.parametrize("k", [2, 300, 5000])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_joint_counts_dense_and_hashed(k, n_threads):
    rng = np.random.default_rng(k)
    n = 150_001
    x = rng.integers(-k, k, n)
    y = (x * 7 + rng.integers(0, k, n)) * 1_000_003  # wide range: forces factorize + hash
    for yy in (rng.integers(0, k, n), y):
        joint, cx, cy = core().joint_counts(x, yy, n_threads=n_threads)
        j_ref, cx_ref, cy_ref = ref.joint_counts(x, yy)
        np.testing.assert_array_equal(joint, j_ref)
        np.testing.assert_array_equal(cx, cx_ref)
        np.testing.assert_array_equal(cy, cy_ref)


def test_combine_matches_reference():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 40, 100_000)
    b = rng.integers(0, 70_000, 100_000)
    codes, counts = core().combine(a, b, 40, 70_000, n_threads=2)
    c_ref, k_ref = ref.combine(a, b, 40, 70_000)
    np.testing.assert_array_equal(codes, c_ref)
    np.testing.assert_array_equal(counts, k_ref)


def test_kernel_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same length"):
        core().joint_counts(np.zeros(3, np.int64), np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="1-D"):
        core().histogram(np.zeros((2, 2), np.int64))
    with pytest.raises(ValueError, match="positive"):
        core().combine(np.zeros(3, np.int64), np.zeros(3, np.int64), 0, 1)


def test_empty_arrays_in_kernel():
    values, counts = core().histogram(np.zeros(0, np.int32))
    assert values.size == 0 and counts.size == 0
    joint, cx, cy = core().joint_counts(np.zeros(0, np.int8), np.zeros(0, np.int8))
    assert joint.size == cx.size == cy.size == 0


def test_rows_are_joint_symbols(backend):
    rng = np.random.default_rng(11)
    x = rng.integers(0, 3, size=(5000, 3))
    codes, counts = _counts.codes(as_labels(x))
    _, inv, c_ref = np.unique(x, axis=0, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(codes, inv.reshape(-1))
    np.testing.assert_array_equal(counts, c_ref)


def test_read_only_and_strided_inputs(backend):
    rng = np.random.default_rng(5)
    base = rng.integers(0, 50, 20_000)
    ro = base.copy()
    ro.setflags(write=False)
    strided = base[::2]
    np.testing.assert_array_equal(
        _counts.counts(as_labels(ro)), np.unique(base, return_counts=True)[1]
    )
    np.testing.assert_array_equal(
        _counts.counts(as_labels(strided)), np.unique(strided, return_counts=True)[1]
    )


def test_thread_count_does_not_change_counts():
    rng = np.random.default_rng(9)
    x = rng.integers(0, 1000, 300_000)
    y = rng.integers(0, 1000, 300_000)
    with infokit.threads(1):
        one = _counts.pair_counts(x, y)
    with infokit.threads(2):
        two = _counts.pair_counts(x, y)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(
    x=hnp.arrays(np.int64, st.integers(1, 300), elements=st.integers(-(2**62), 2**62)),
    shift=st.integers(0, 3),
)
def test_hypothesis_counts_match_unique(x, shift):
    for arr in (x, x >> (60 - shift)):  # wide and narrow ranges
        values, counts = core().histogram(arr)
        v_ref, c_ref = np.unique(arr, return_counts=True)
        np.testing.assert_array_equal(values, v_ref)
        np.testing.assert_array_equal(counts, c_ref)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_growing_tables_on_drifting_and_split_ranges(n_threads):
    """The single-pass tables grow as new labels appear; each case changes the range mid-stream."""
    rng = np.random.default_rng(21)
    n = 300_000
    cases = {
        "sorted": np.sort(rng.integers(-5000, 5000, n)),
        "descending": np.sort(rng.integers(0, 200_000, n))[::-1].copy(),
        "halves far apart": np.concatenate(
            [rng.integers(0, 100, n // 2), rng.integers(10**6, 10**6 + 100, n - n // 2)]
        ),
        "outgrows dense then hashed": np.concatenate(
            [rng.integers(0, 50, n // 2), rng.integers(0, 2**62, n - n // 2)]
        ),
        "one label": np.full(n, -7),
    }
    for name, x in cases.items():
        values, counts = core().histogram(x, n_threads=n_threads)
        v_ref, c_ref = np.unique(x, return_counts=True)
        np.testing.assert_array_equal(values, v_ref, err_msg=name)
        np.testing.assert_array_equal(counts, c_ref, err_msg=name)
        y = np.roll(x, 12345) // 3
        joint, cx, cy = core().joint_counts(x, y, n_threads=n_threads)
        j_ref, cx_ref, cy_ref = ref.joint_counts(x, y)
        np.testing.assert_array_equal(joint, j_ref, err_msg=name)
        np.testing.assert_array_equal(cx, cx_ref, err_msg=name)
        np.testing.assert_array_equal(cy, cy_ref, err_msg=name)
