"""The nearest-neighbour engine (csrc/include/infokit/knn, infokit._core.KNNTree/SortedCounter)
and its numpy twin (infokit._reference.knn), against brute-force pairwise distances."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import infokit
from infokit import _backend
from infokit._reference import knn as ref

core = _backend.compiled("_core")
# Under INFOKIT_NO_EXTENSIONS=1 (CI's numpy-only pass) the compiled engine is absent by design.
needs_core = pytest.mark.skipif(
    core is None and os.environ.get("INFOKIT_NO_EXTENSIONS", "") not in ("", "0"),
    reason="INFOKIT_NO_EXTENSIONS is set",
)
MODULES = [pytest.param(core, id="cpp", marks=needs_core), pytest.param(ref, id="numpy")]
METRICS = ["chebyshev", "euclidean"]


def pairwise(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    diff = np.abs(a[:, None, :] - b[None, :, :])
    return diff.max(axis=2) if metric == "chebyshev" else np.sqrt((diff**2).sum(axis=2))


def brute_knn_self(points: np.ndarray, k: int, metric: str) -> np.ndarray:
    dist = pairwise(points, points, metric)
    np.fill_diagonal(dist, np.inf)
    return np.sort(dist, axis=1)[:, :k]


def brute_count_self(points, radius, strict, metric):
    dist = pairwise(points, points, metric)
    np.fill_diagonal(dist, np.inf)
    inside = dist < radius[:, None] if strict else dist <= radius[:, None]
    return inside.sum(axis=1)


@needs_core
def test_compiled_engine_present():
    assert core is not None and hasattr(core, "KNNTree") and hasattr(core, "SortedCounter")


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("d", [1, 2, 5])
def test_knn_self_matches_brute_force(module, metric, d):
    rng = np.random.default_rng(d)
    pts = rng.normal(size=(400, d))
    dist, index = module.KNNTree(pts).knn_self(4, metric)
    expected = brute_knn_self(pts, 4, metric)
    np.testing.assert_allclose(dist, expected, rtol=1e-12, atol=0)
    # The indices point at neighbours at those distances, never at the point itself.
    assert not (index == np.arange(400)[:, None]).any()
    got = pairwise(pts, pts, metric)[np.arange(400)[:, None], index]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("metric", METRICS)
def test_knn_of_other_queries(module, metric):
    rng = np.random.default_rng(3)
    pts, queries = rng.normal(size=(300, 3)), rng.normal(size=(50, 3))
    dist, _ = module.KNNTree(pts).knn(queries, 2, metric)
    expected = np.sort(pairwise(queries, pts, metric), axis=1)[:, :2]
    np.testing.assert_allclose(dist, expected, rtol=1e-12)


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("d", [1, 3])
def test_chebyshev_counts_at_the_kth_distance_are_exact(module, strict, d):
    # Integer data: many points sit exactly on the radius, so < and <= differ.
    rng = np.random.default_rng(5)
    pts = rng.integers(0, 6, size=(300, d)).astype(np.float64)
    radius = np.ascontiguousarray(brute_knn_self(pts, 3, "chebyshev")[:, -1])
    got = module.KNNTree(pts).count_self(radius, strict, "chebyshev")
    np.testing.assert_array_equal(got, brute_count_self(pts, radius, strict, "chebyshev"))


@pytest.mark.parametrize("module", MODULES)
def test_euclidean_counts(module):
    rng = np.random.default_rng(6)
    pts = rng.normal(size=(300, 3))
    radius = rng.uniform(0.1, 1.0, 300)
    got = module.KNNTree(pts).count_self(radius, True, "euclidean")
    np.testing.assert_array_equal(got, brute_count_self(pts, radius, True, "euclidean"))
    queries = rng.normal(size=(40, 3))
    r = radius[:40].copy()
    got = module.KNNTree(pts).count(queries, r, False, "euclidean")
    np.testing.assert_array_equal(got, (pairwise(queries, pts, "euclidean") <= r[:, None]).sum(1))


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("strict", [True, False])
def test_sorted_counter_matches_brute_force_with_ties(module, strict):
    rng = np.random.default_rng(7)
    x = rng.integers(-5, 5, 500).astype(np.float64) * 0.1  # ties and inexact differences
    radius = rng.choice([0.0, 0.1, 0.2, 0.30000000000000004], 500)
    got = module.SortedCounter(x).count_self(radius, strict)
    np.testing.assert_array_equal(got, brute_count_self(x[:, None], radius, strict, "chebyshev"))


@needs_core
@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=64), min_size=2, max_size=40),
    r=st.floats(0, 100),
    strict=st.booleans(),
)
def test_sorted_and_tree_counts_agree(values, r, strict):
    x = np.array(values)
    radius = np.full(x.size, r)
    want = brute_count_self(x[:, None], radius, strict, "chebyshev")
    np.testing.assert_array_equal(core.SortedCounter(x).count_self(radius, strict), want)
    np.testing.assert_array_equal(core.KNNTree(x).count_self(radius, strict), want)


@pytest.mark.parametrize("module", MODULES)
def test_duplicates_and_too_few_points(module):
    pts = np.zeros((40, 2))  # all identical: one big leaf
    dist, index = module.KNNTree(pts).knn_self(3)
    assert (dist == 0).all() and (index >= 0).all()
    assert (module.KNNTree(pts).count_self(np.zeros(40), True) == 0).all()
    assert (module.KNNTree(pts).count_self(np.zeros(40), False) == 39).all()
    dist, index = module.KNNTree(np.arange(3.0)).knn_self(5)
    assert np.isinf(dist[:, 2:]).all() and (index[:, 2:] == -1).all()


@pytest.mark.parametrize("module", MODULES)
def test_bad_arguments(module):
    tree = module.KNNTree(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="k must be >= 1"):
        tree.knn_self(0)
    with pytest.raises(ValueError, match="metric must be"):
        tree.knn_self(1, "manhattan")
    with pytest.raises(ValueError, match="radius must be 1-D with one value per query"):
        tree.count_self(np.zeros(4), True)
    with pytest.raises(ValueError, match="queries must have 2 columns"):
        tree.knn(np.zeros((3, 3)), 1)
    with pytest.raises(ValueError, match="at least one column"):
        module.KNNTree(np.zeros((5, 0)))


@needs_core
def test_threads_give_identical_results():
    rng = np.random.default_rng(8)
    pts = rng.normal(size=(20_000, 2))
    tree = core.KNNTree(pts)
    one = tree.knn_self(3, "chebyshev", 1)
    two = tree.knn_self(3, "chebyshev", 2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    r = np.ascontiguousarray(one[0][:, -1])
    np.testing.assert_array_equal(
        tree.count_self(r, True, "chebyshev", 1), tree.count_self(r, True, "chebyshev", 2)
    )
    s = core.SortedCounter(np.ascontiguousarray(pts[:, 0]))
    np.testing.assert_array_equal(s.count_self(r, True, 1), s.count_self(r, True, 2))
    with infokit.threads(2):
        pass


@needs_core
def test_tree_keeps_its_own_copy():
    pts = np.random.default_rng(9).normal(size=(100, 2))
    tree = core.KNNTree(pts)
    before = tree.knn_self(2)[0]
    pts[:] = 0.0
    np.testing.assert_array_equal(tree.knn_self(2)[0], before)


# knn_self_points: a grid in 2 and 3 dimensions (falls back to the tree when crowded).
POINT_SETS = {
    "normal": lambda rng, d: rng.normal(size=(400, d)),
    "integer ties": lambda rng, d: rng.integers(0, 7, size=(400, d)).astype(np.float64),
    "crowded": lambda rng, d: np.vstack([np.zeros((300, d)), rng.normal(size=(100, d))]),
    "wide spread": lambda rng, d: rng.standard_cauchy(size=(400, d)) * 1e6,
}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", list(POINT_SETS))
def test_knn_self_points_matches_brute_force(module, metric, d, kind):
    rng = np.random.default_rng(d)
    pts = POINT_SETS[kind](rng, d)
    dist, index = module.knn_self_points(pts, 3, metric)
    expected = brute_knn_self(pts, 3, metric)
    np.testing.assert_array_equal(dist, expected)
    assert not (index == np.arange(len(pts))[:, None]).any()
    got = pairwise(pts, pts, metric)[np.arange(len(pts))[:, None], index]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("module", MODULES)
def test_knn_self_points_with_fewer_points_than_k(module):
    dist, index = module.knn_self_points(np.array([[0.0, 1.0], [2.0, 0.5], [1.0, 1.0]]), 4)
    np.testing.assert_array_equal(dist[:, 2:], np.inf)
    np.testing.assert_array_equal(index[:, 2:], -1)
    np.testing.assert_array_equal(
        dist[:, :2], brute_knn_self(np.array([[0.0, 1.0], [2.0, 0.5], [1.0, 1.0]]), 2, "chebyshev")
    )


@needs_core
@pytest.mark.parametrize("d", [2, 3])
def test_knn_self_points_threads_and_tree_agree(d):
    pts = np.random.default_rng(10).normal(size=(30_000, d))
    one = core.knn_self_points(pts, 3, "chebyshev", 1)
    two = core.knn_self_points(pts, 3, "chebyshev", 2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    np.testing.assert_array_equal(one[0], core.KNNTree(pts).knn_self(3, "chebyshev", 1)[0])


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("strict", [True, False])
def test_sorted_counter_on_uneven_data(module, strict):
    # Clusters, a far outlier and repeated values: the bucket guesses are far off, counts exact.
    rng = np.random.default_rng(11)
    x = np.concatenate(
        [rng.normal(size=300) * 1e-3, rng.normal(size=200) + 50.0, [1e12, -3.0, -3.0, -3.0]]
    )
    radius = np.concatenate([rng.uniform(0, 2e-3, 300), rng.uniform(0, 3, 200), [1e13, 0, 1, 0]])
    got = module.SortedCounter(x).count_self(radius, strict)
    np.testing.assert_array_equal(got, brute_count_self(x[:, None], radius, strict, "chebyshev"))


@pytest.mark.parametrize("module", MODULES)
def test_knn_self_points_without_index(module):
    pts = np.random.default_rng(12).normal(size=(300, 2))
    dist, index = module.knn_self_points(pts, 2, "euclidean", 1, False)
    assert index is None
    np.testing.assert_array_equal(dist, module.knn_self_points(pts, 2, "euclidean")[0])


@needs_core
@pytest.mark.parametrize("d", [2, 3, 6, 8, 16])
@pytest.mark.parametrize("metric", METRICS)
def test_portable_and_vector_scans_agree(d, metric):
    # The AVX2 leaf scans and box bounds against the portable loops (simd_set_isa_cap(0)): the
    # same bits; and against brute force (exactly in the max-norm, counts on the k-th distance).
    # d = 6 runs the vector box bounds over 4 dimensions and the scalar loop over the other 2.
    rng = np.random.default_rng(13)
    pts = rng.normal(size=(500, d))
    radius = np.ascontiguousarray(brute_knn_self(pts, 3, metric)[:, -1])
    results = []
    try:
        for cap in (0, 2):
            core.simd_set_isa_cap(cap)
            tree = core.KNNTree(pts)
            results.append(
                (
                    tree.knn_self(3, metric)[0],
                    core.knn_self_points(pts, 3, metric)[0],
                    tree.count_self(radius, True, metric),
                    tree.count_self(radius, False, metric),
                )
            )
    finally:
        core.simd_set_isa_cap(2)
    for portable, vector in zip(*results, strict=True):
        np.testing.assert_array_equal(portable, vector)
    if metric == "euclidean":
        # numpy sums the squares in another order: equal up to rounding, and a radius taken
        # from its distances is not exactly on the engine's.
        np.testing.assert_allclose(results[0][0], brute_knn_self(pts, 3, metric), rtol=1e-12)
        return
    np.testing.assert_array_equal(results[0][0], brute_knn_self(pts, 3, metric))
    np.testing.assert_array_equal(results[0][2], brute_count_self(pts, radius, True, metric))
    np.testing.assert_array_equal(results[0][3], brute_count_self(pts, radius, False, metric))
