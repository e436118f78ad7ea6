"""The packed single-precision product (csrc/include/infokit/linalg/gemm.hpp) behind the
cross-entropy engine's float32 route: against numpy's float64 product for every shape class
(ragged edges, empty, one row), every operand layout (transposed and strided views), packing into
inner ranges, accumulation, instruction sets and thread counts; bad buffers refused."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infokit import _backend

core = _backend.compiled("_core")
pytestmark = pytest.mark.skipif(core is None, reason="compiled kernels not built")

MR, NR = core.linalg_panel_widths() if core is not None else (8, 48)
ISAS = list(range(core.simd_cpu_isa() + 1)) if core is not None else []


@pytest.fixture(params=ISAS)
def isa(request: pytest.FixtureRequest) -> Iterator[int]:
    core.simd_set_isa_cap(request.param)
    yield request.param
    core.simd_set_isa_cap(2)


def product(a: np.ndarray, b: np.ndarray, n_threads: int = 1) -> np.ndarray:
    out = np.full((a.shape[0], b.shape[1]), np.nan, dtype=np.float32)
    core.linalg_gemm_packed(
        out, core.linalg_pack(a, "lhs"), core.linalg_pack(b, "rhs"), False, n_threads
    )
    return out


def check_close(
    got: np.ndarray, a: np.ndarray, b: np.ndarray, extra: np.ndarray | None = None
) -> None:
    """Within float32 summation error of the float64 product: |err| <= k·2^-23·(|A|·|B|)."""
    exact = a.astype(np.float64) @ b.astype(np.float64)
    if extra is not None:
        exact = exact + extra
    scale = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)) + 1.0
    bound = (a.shape[1] + 2) * 2.0**-23 * scale
    assert got.dtype == np.float32
    assert np.all(np.abs(got - exact) <= bound)


SHAPES = [
    (1, 1, 1),
    (MR, NR, 1),
    (MR - 1, NR + 1, 3),
    (MR + 1, NR - 1, 300),
    (3 * MR + 5, 2 * NR + 7, 513),
    (130, 97, 1030),
]


@pytest.mark.parametrize(("m", "n", "k"), SHAPES)
def test_matches_float64_product(isa: int, m: int, n: int, k: int) -> None:
    rng = np.random.default_rng(m * 1000 + n + k)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    check_close(product(a, b), a, b)


def test_transposed_and_strided_operands_pack_alike() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((37, 70), dtype=np.float32)
    b = rng.standard_normal((70, 53), dtype=np.float32)
    for a_view in (np.asfortranarray(a), np.repeat(a, 2, axis=1)[:, ::2]):
        assert np.array_equal(core.linalg_pack(a_view, "lhs"), core.linalg_pack(a, "lhs"))
    for b_view in (np.ascontiguousarray(b.T).T, np.repeat(b, 3, axis=0)[::3]):
        assert np.array_equal(core.linalg_pack(b_view, "rhs"), core.linalg_pack(b, "rhs"))
    for view in (a[::-1], a[:, ::-1], a[::-2, ::-3]):  # negative strides
        assert np.array_equal(
            core.linalg_pack(view, "lhs"), core.linalg_pack(np.ascontiguousarray(view), "lhs")
        )
        assert np.array_equal(
            core.linalg_pack(view.T, "rhs"), core.linalg_pack(np.ascontiguousarray(view.T), "rhs")
        )
    packed = core.linalg_pack(a, "lhs")
    assert packed.shape == (-(-37 // MR), 70, MR)
    assert np.array_equal(packed[0, :, 3], a[3])  # panel 0, lane 3 holds row 3
    assert not packed[-1, :, 37 % MR :].any()  # rows past the end are zero


def test_accumulate_adds_to_out() -> None:
    rng = np.random.default_rng(2)
    a = rng.standard_normal((20, 33), dtype=np.float32)
    b = rng.standard_normal((33, 61), dtype=np.float32)
    start = rng.standard_normal((20, 61), dtype=np.float32)
    out = start.copy()
    core.linalg_gemm_packed(out, core.linalg_pack(a, "lhs"), core.linalg_pack(b, "rhs"), True, 1)
    check_close(out, a, b, extra=start.astype(np.float64))


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("n", [NR + 1, NR + 15, NR + 17, NR + 33, 2 * NR - 1])
def test_edges_never_write_past_the_output(isa: int, accumulate: bool, n: int) -> None:
    """``out`` is a view into a wider array full of a sentinel: the columns past n (and the
    rows below m) must stay untouched, whichever lanes of the last vectors are masked."""
    rng = np.random.default_rng(n)
    m, k = MR + 3, 2 * 256 + 5  # ragged rows, and several inner blocks
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    big = np.full((m + 2, n + 64), 7.5, dtype=np.float32)
    start = rng.standard_normal((m, n), dtype=np.float32)
    out = big[:m, :n]
    out[...] = start
    core.linalg_gemm_packed(
        out, core.linalg_pack(a, "lhs"), core.linalg_pack(b, "rhs"), accumulate, 2
    )
    check_close(out, a, b, extra=start.astype(np.float64) if accumulate else None)
    assert (big[:, n:] == 7.5).all() and (big[m:] == 7.5).all()


def test_row_panels_and_inner_ranges_of_one_packing() -> None:
    """Slicing a packed operand by panels gives a block of rows; by k, an inner range; packing
    into a k-range of a larger packed operand fills exactly that range."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5 * MR, 90), dtype=np.float32)
    b = rng.standard_normal((90, 70), dtype=np.float32)
    pa, pb = core.linalg_pack(a, "lhs"), core.linalg_pack(b, "rhs")
    out = np.empty((2 * MR, 70), dtype=np.float32)
    core.linalg_gemm_packed(out, pa[1:3], pb, False, 1)
    check_close(out, a[MR : 3 * MR], b)
    out = np.empty((5 * MR, 70), dtype=np.float32)
    core.linalg_gemm_packed(out, pa[:, 10:50], pb[:, 10:50], False, 1)
    check_close(out, a[:, 10:50], b[10:50])
    whole = np.zeros_like(pa)
    core.linalg_pack(a[:, :40], "lhs", out=whole[:, :40])
    core.linalg_pack(a[:, 40:], "lhs", out=whole[:, 40:])
    assert np.array_equal(whole, pa)


def test_empty_and_zero_inner() -> None:
    out = np.full((3, 4), 5.0, dtype=np.float32)
    a, b = np.zeros((3, 0), np.float32), np.zeros((0, 4), np.float32)
    core.linalg_gemm_packed(out, core.linalg_pack(a, "lhs"), core.linalg_pack(b, "rhs"), True, 1)
    assert (out == 5.0).all()  # += nothing
    core.linalg_gemm_packed(out, core.linalg_pack(a, "lhs"), core.linalg_pack(b, "rhs"), False, 1)
    assert (out == 0.0).all()  # = the empty sum
    assert product(np.zeros((0, 3), np.float32), np.zeros((3, 5), np.float32)).shape == (0, 5)


def test_same_bits_on_any_thread_count_and_tiling() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((70, 600), dtype=np.float32)
    b = rng.standard_normal((600, 9 * NR + 5), dtype=np.float32)
    one = product(a, b, 1)
    assert np.array_equal(one, product(a, b, 2))
    assert np.array_equal(one[MR : 3 * MR], product(a[MR : 3 * MR], b, 2))  # a row block alone


def test_instruction_sets_agree(isa: int) -> None:
    rng = np.random.default_rng(5)
    a = rng.standard_normal((29, 257), dtype=np.float32)
    b = rng.standard_normal((257, 101), dtype=np.float32)
    core.simd_set_isa_cap(0)
    portable = product(a, b)
    core.simd_set_isa_cap(isa)
    check_close(product(a, b), a, b)
    np.testing.assert_allclose(product(a, b), portable, rtol=0, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 3 * MR + 1),
    n=st.integers(1, 2 * NR + 1),
    k=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_shape(m: int, n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    check_close(product(a, b, 2), a, b)


def test_bad_buffers_are_refused() -> None:
    a = np.ones((10, 6), np.float32)
    b = np.ones((6, 7), np.float32)
    pa, pb = core.linalg_pack(a, "lhs"), core.linalg_pack(b, "rhs")
    out = np.empty((10, 7), np.float32)
    with pytest.raises(TypeError, match="x must be a float32 array"):
        core.linalg_pack(a.astype(np.float64), "lhs")
    with pytest.raises(TypeError, match="out must be a float32 array"):
        core.linalg_pack(a, "lhs", out=np.empty(pa.shape))
    with pytest.raises(ValueError, match="x must be aligned to float32"):
        core.linalg_pack(
            np.frombuffer(bytes(4 * 61), np.float32, 60, offset=1).reshape(10, 6), "lhs"
        )
    with pytest.raises(ValueError, match="side must be 'lhs' or 'rhs'"):
        core.linalg_pack(a, "left")
    with pytest.raises(ValueError, match="a must be packed into 3 panels here, got 1"):
        core.linalg_gemm_packed(np.empty((20, 7), np.float32), pa[:1], pb, False, 1)
    with pytest.raises(ValueError, match="b must be packed with the same inner size"):
        core.linalg_gemm_packed(out, pa, pb[:, :5], False, 1)
    with pytest.raises(ValueError, match="a must be a packed operand of width"):
        core.linalg_gemm_packed(out, pb, pb, False, 1)
    with pytest.raises(ValueError, match="a must be a packed operand of width"):
        core.linalg_gemm_packed(out, pa[:, ::2], pb, False, 1)
    with pytest.raises(ValueError, match="out must be contiguous along its rows"):
        core.linalg_gemm_packed(np.empty((10, 14), np.float32)[:, ::2], pa, pb, False, 1)
    with pytest.raises(ValueError, match="out must be writeable"):
        frozen = out.copy()
        frozen.flags.writeable = False
        core.linalg_gemm_packed(frozen, pa, pb, False, 1)
    with pytest.raises(ValueError, match="out must be packed with inner size 6"):
        core.linalg_pack(a, "lhs", out=np.empty((2, 5, MR), np.float32))
    with pytest.raises(ValueError, match="out must be writeable"):
        frozen_pack = pa.copy()
        frozen_pack.flags.writeable = False
        core.linalg_pack(a, "lhs", out=frozen_pack)
    with pytest.raises(ValueError, match="a must be made of non-overlapping panels"):
        core.linalg_gemm_packed(out, pa[::-1], pb, False, 1)
    glued = np.lib.stride_tricks.as_strided(pa, strides=(0, *pa.strides[1:]))
    with pytest.raises(ValueError, match="a must be made of non-overlapping panels"):
        core.linalg_gemm_packed(out, glued, pb, False, 1)
    with pytest.raises(ValueError, match="out must be made of non-overlapping rows"):
        core.linalg_gemm_packed(
            np.lib.stride_tricks.as_strided(out, strides=(4, 4)), pa, pb, False, 1
        )
    with pytest.raises(ValueError, match="out must be separate from a"):
        core.linalg_gemm_packed(pa.reshape(-1)[:70].reshape(10, 7), pa, pb, False, 1)
    with pytest.raises(ValueError, match="out must be separate from x"):
        core.linalg_pack(pa[0].T, "lhs", out=pa[:1])
