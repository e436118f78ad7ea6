"""The shared vector helpers (csrc/include/infokit/simd/): the branch-free exp of every
instruction set this CPU offers against extended-precision exp, and the kernels built on it
(matrix tiles, calibration rows) agreeing across instruction sets."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import rbf_kernel

from infokit import _backend, calibration
from infokit import matrix as mx

core = _backend.compiled("_core")
pytestmark = pytest.mark.skipif(core is None, reason="compiled kernels not built")

ISAS = list(range(core.simd_cpu_isa() + 1)) if core is not None else []
EXP_BOUND = 2.0**-52  # relative error of exp_fast, as stated in simd/exp.hpp
F32_BOUND = 3e-7  # relative error of exp_nonpositive(float)
TABLE_BOUND = 2.0**-51  # relative error of the AVX-512 table exp (simd/exp_avx512.hpp)


@pytest.fixture
def isa_cap() -> Iterator[None]:
    yield
    core.simd_set_isa_cap(2)


def _exp_points() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.concatenate(
        [
            rng.uniform(-708.0, 709.0, 40_000),
            rng.uniform(-1.0, 1.0, 20_000),
            np.linspace(-0.35, 0.35, 1001),  # the reduced range itself
            np.arange(-708, 710, dtype=np.float64),  # k ln 2 boundaries nearby
        ]
    )


@pytest.mark.parametrize("isa", ISAS)
def test_exp_fast_within_stated_bound(isa_cap, isa):
    core.simd_set_isa_cap(isa)
    assert core.simd_active_isa() == isa
    x = _exp_points()
    exact = np.exp(x.astype(np.longdouble))
    rel = np.abs((core.simd_exp(x).astype(np.longdouble) - exact) / exact)
    assert float(rel.max()) < EXP_BOUND


@pytest.mark.parametrize("isa", ISAS)
def test_exp_fast_special_values(isa_cap, isa):
    core.simd_set_isa_cap(isa)
    x = np.array([np.nan, -np.inf, -1e300, -708.5, 0.0, -0.0, 709.5, np.inf, -5e-324, 1e-300])
    got = core.simd_exp(x)
    assert math.isnan(got[0])
    assert (got[1:4] == 0.0).all()  # below -708: 0 (the true value is subnormal or 0)
    assert (got[4:6] == 1.0).all()
    e709 = core.simd_exp(np.array([709.0]))[0]
    assert got[6] == got[7] == e709  # above 709: clamped, finite
    assert e709 == pytest.approx(math.exp(709.0), rel=EXP_BOUND)
    assert (got[8:] == 1.0).all()


def test_exp_fast_same_value_in_every_lane_position(isa_cap):
    """A value never depends on where it sits in the buffer (tails go through the same lanes)."""
    x = np.random.default_rng(3).uniform(-50.0, 5.0, 37)
    whole = core.simd_exp(x)
    for start in range(9):
        np.testing.assert_array_equal(core.simd_exp(x[start:]), whole[start:])


def test_exp_fast_paths_agree(isa_cap):
    x = _exp_points()
    results = []
    for isa in ISAS:
        core.simd_set_isa_cap(isa)
        results.append(core.simd_exp(x))
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0], rtol=2 * EXP_BOUND, atol=0.0)


@pytest.mark.parametrize("isa", ISAS)
def test_exp_nonpositive_double_within_bound(isa_cap, isa):
    """The kernel sums' exp: the AVX-512 table variant there, exp_fast on the other paths."""
    core.simd_set_isa_cap(isa)
    rng = np.random.default_rng(13)
    x = np.concatenate(
        [-rng.uniform(0.0, 708.0, 40_000), -rng.uniform(0.0, 1.0, 20_000), np.arange(-708.0, 1.0)]
    )
    exact = np.exp(x.astype(np.longdouble))
    rel = np.abs((core.simd_exp_nonpositive(x).astype(np.longdouble) - exact) / exact)
    assert float(rel.max()) < TABLE_BOUND
    edges = core.simd_exp_nonpositive(np.array([0.0, -0.0, -750.0, -1e300, -np.inf, np.nan]))
    assert (edges[:2] == 1.0).all()
    assert (edges[2:5] == 0.0).all()
    assert math.isnan(edges[5])
    # the same value wherever it sits in the buffer
    y = -rng.uniform(0.0, 30.0, 29)
    whole = core.simd_exp_nonpositive(y)
    for start in range(9):
        np.testing.assert_array_equal(core.simd_exp_nonpositive(y[start:]), whole[start:])


@pytest.mark.parametrize("isa", ISAS)
def test_exp_nonpositive_float_within_bound(isa_cap, isa):
    core.simd_set_isa_cap(isa)
    x = np.random.default_rng(11).uniform(-87.0, 0.0, 50_000).astype(np.float32)
    got = core.simd_exp_nonpositive(x).astype(np.float64)
    assert float(np.abs(got / np.exp(x.astype(np.float64)) - 1.0).max()) < F32_BOUND
    edges = core.simd_exp_nonpositive(np.array([0.0, 1.0, -100.0, -np.inf], dtype=np.float32))
    assert edges[0] == edges[1] == 1.0  # clamped to [-87, 0]
    assert edges[2] == edges[3] == core.simd_exp_nonpositive(np.array([-87.0], np.float32))[0]


def test_cap_checks_its_argument():
    with pytest.raises(ValueError, match="cap must be 0, 1 or 2"):
        core.simd_set_isa_cap(3)


# --- kernels on top of the helpers, on every instruction set -----------------------------------


@pytest.mark.parametrize("isa", ISAS)
def test_matrix_tiles_on_every_isa(isa_cap, isa):
    core.simd_set_isa_cap(isa)
    rng = np.random.default_rng(isa)
    x, y = rng.normal(size=(300, 70)), rng.normal(size=(277, 70)) + 0.2
    g = 0.5 / 70
    assert core.gaussian_cross_sum(x, y, g, 2) == pytest.approx(
        rbf_kernel(x, y, gamma=g).sum(), rel=1e-12
    )
    assert core.gaussian_self_sum(y, g, 2) == pytest.approx(rbf_kernel(y, gamma=g).sum(), rel=1e-12)
    gram = core.gaussian_gram(x, g, 1)
    np.testing.assert_allclose(gram, rbf_kernel(x, gamma=g), rtol=1e-12, atol=1e-15)
    assert (np.diag(gram) == 1.0).all()
    k, lm = rbf_kernel(x, gamma=g), rbf_kernel(x[:, :5], gamma=0.3)
    kl, kk, ll, k_rows, l_rows = core.gaussian_paired_sums(
        x, np.ascontiguousarray(x[:, :5]), g, 0.3, 2
    )
    assert kl == pytest.approx((k * lm).sum(), rel=1e-12)
    assert kk == pytest.approx((k * k).sum(), rel=1e-12)
    assert ll == pytest.approx((lm * lm).sum(), rel=1e-12)
    np.testing.assert_allclose(k_rows, k.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(l_rows, lm.sum(axis=1), rtol=1e-12)
    # identical samples: the diagonal is exactly 1 and the divergence exactly 0
    assert mx.cauchy_schwarz_divergence(x[:100], x[:100], sigma=3.0) == 0.0


# Shapes around the AVX-512 tile sum's edges: 8-row register tiles, 16-column panels, the
# multiply-add loop in steps of 4 with one parked exp per step (d < 64 leaves exps to drain after
# the loop, d not a multiple of 4 leaves a remainder), and blocks of 256 columns at d = 64.
TILE_EDGES = [
    (1, 1, 1),
    (7, 9, 3),
    (8, 16, 4),
    (9, 17, 5),
    (15, 33, 31),
    (16, 1, 64),
    (17, 300, 64),
    (257, 23, 64),
    (40, 41, 67),
    (24, 25, 130),
]


@pytest.mark.parametrize("isa", ISAS)
def test_matrix_tile_edges_on_every_isa(isa_cap, isa):
    core.simd_set_isa_cap(isa)
    rng = np.random.default_rng(100 + isa)
    for n, m, d in TILE_EDGES:
        x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d)) + 0.3
        g = 0.7 / d
        # direct differences (scipy's cdist), not the GEMM form the tiles use
        k_xy = np.exp(-g * cdist(x, y, "sqeuclidean"))
        k_xx = np.exp(-g * cdist(x, x, "sqeuclidean"))
        assert core.gaussian_cross_sum(x, y, g, 2) == pytest.approx(k_xy.sum(), rel=1e-12)
        assert core.gaussian_self_sum(x, g, 2) == pytest.approx(k_xx.sum(), rel=1e-12)
        gram = core.gaussian_gram(x, g, 1)
        np.testing.assert_allclose(gram, k_xx, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("isa", ISAS)
def test_matrix_tiles_near_and_far_points(isa_cap, isa):
    core.simd_set_isa_cap(isa)
    rng = np.random.default_rng(9)
    base = rng.normal(size=(20, 6)) * 50.0
    # near-duplicates: exponents within rounding of 0, of either sign in the GEMM form
    near = np.concatenate([base, base + 1e-9 * rng.normal(size=base.shape)])
    gram = core.gaussian_gram(near, 1.0, 1)
    assert (gram <= 1.0).all()
    assert (np.diag(gram) == 1.0).all()
    # the GEMM form's exponents are within a few ulp of s_i + s_j (matrix/tiles.hpp)
    bound = 1e-15 * 2 * float((near * near).sum(axis=1).max())
    np.testing.assert_allclose(gram, np.exp(-cdist(near, near, "sqeuclidean")), rtol=0, atol=bound)
    # far apart (exponents far below -745): exactly 0 off the diagonal, for every kernel
    far = np.arange(30, dtype=np.float64)[:, None] * np.ones((1, 3)) * 100.0
    assert core.gaussian_self_sum(far, 1.0, 2) == 30.0
    assert core.gaussian_cross_sum(far, far + 1e4, 1.0, 2) == 0.0
    np.testing.assert_array_equal(core.gaussian_gram(far, 1.0, 1), np.eye(30))


def test_matrix_and_calibration_agree_across_isas(isa_cap):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(400, 9)), rng.normal(size=(400, 9))
    logits = rng.normal(scale=3.0, size=(500, 40)).astype(np.float32)
    labels = rng.integers(0, 40, 500)
    values = []
    for isa in ISAS:
        core.simd_set_isa_cap(isa)
        values.append(
            (
                mx.mmd(x, y, sigma=2.0),
                mx.hsic(x, y, sigma_x=2.0, sigma_y=1.5),
                calibration.ece(logits, labels, from_logits=True),
            )
        )
    for other in values[1:]:
        assert other[:2] == pytest.approx(values[0][:2], rel=1e-12, abs=1e-15)
        # float32 logits: each path's exp is within F32_BOUND, so the confidences are too
        assert other[2] == pytest.approx(values[0][2], rel=10 * F32_BOUND)
