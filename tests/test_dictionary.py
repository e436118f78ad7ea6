"""infokit.dictionary against scikit-learn's orthogonal_mp / orthogonal_mp_gram, planted sparse
codes, a from-the-definition matching pursuit, brute-force matchings and set Jaccard; the numpy
twin; dtypes, layouts, threads, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import orthogonal_mp, orthogonal_mp_gram

import infokit
from infokit import _backend, _pursuit_direct, dictionary
from infokit._reference import dictionary as ref_dictionary


@pytest.fixture(params=["gram", "direct"])
def route(request: pytest.FixtureRequest) -> str:
    """The pursuit on D Dᵀ (C++ kernel or its numpy twin) and the one without it."""
    return str(request.param)


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Two BLAS threads on this shared 2-core machine are slower; the thread test sets its own."""
    with infokit.threads(1):
        yield


def unit_rows(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def problem(seed, n=40, d=30, k=60, dtype=np.float64):
    """Random unit-norm dictionary (k, d) and signals (n, d): well conditioned for small L0."""
    rng = np.random.default_rng(seed)
    D = unit_rows(rng.standard_normal((k, d))).astype(dtype)
    X = rng.standard_normal((n, d)).astype(dtype)
    return X, D


def planted(seed, n, d, k, s, dtype=np.float64):
    """Signals that are exact s-sparse combinations of an incoherent dictionary; (X, D, codes)."""
    rng = np.random.default_rng(seed)
    D = unit_rows(rng.standard_normal((k, d)))
    codes = np.zeros((n, k))
    for i in range(n):
        support = rng.choice(k, s, replace=False)
        codes[i, support] = rng.choice([-1.0, 1.0], s) * rng.uniform(1.0, 2.0, s)
    return (codes @ D).astype(dtype), D.astype(dtype), codes


# ---------------------------------------------------------------------------------------------
# omp against scikit-learn
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_nonzero", [1, 4, 12])
def test_omp_matches_sklearn_orthogonal_mp_gram(backend, route, n_nonzero):
    X, D = problem(1)
    got = dictionary.omp(X, D, n_nonzero=n_nonzero, route=route)
    want = orthogonal_mp_gram(D @ D.T, D @ X.T, n_nonzero_coefs=n_nonzero).T
    np.testing.assert_array_equal(got != 0, want != 0)  # same supports
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_omp_matches_sklearn_orthogonal_mp_with_tol(backend, route):
    X, D = problem(2)
    tol = 0.3 * float(np.min(np.sum(X**2, axis=1)))
    got = dictionary.omp(X, D, tol=tol, route=route)
    want = orthogonal_mp(D.T, X.T, tol=tol).T
    np.testing.assert_array_equal(got != 0, want != 0)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
    resid = np.sum((X - got @ D) ** 2, axis=1)
    assert np.all(resid <= tol * (1 + 1e-9))


def test_omp_default_is_ten_percent_of_atoms_like_sklearn(backend, route):
    X, D = problem(3, k=50)
    got = dictionary.omp(X, D, route=route)
    want = orthogonal_mp_gram(D @ D.T, D @ X.T).T
    assert np.all(np.count_nonzero(got, axis=1) == 5)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_omp_single_signal_and_float32(backend, route):
    X, D = problem(4)
    one = dictionary.omp(X[3], D, n_nonzero=5, route=route)
    assert one.shape == (D.shape[0],)
    np.testing.assert_allclose(one, dictionary.omp(X, D, n_nonzero=5, route=route)[3], rtol=1e-12)
    got32 = dictionary.omp(X.astype(np.float32), D.astype(np.float32), n_nonzero=5, route=route)
    assert got32.dtype == np.float32
    got64 = dictionary.omp(X, D, n_nonzero=5, route=route)
    np.testing.assert_array_equal(got32 != 0, got64 != 0)
    np.testing.assert_allclose(got32, got64, rtol=2e-4, atol=2e-5)
    mixed = dictionary.omp(X.astype(np.float32), D, n_nonzero=5, route=route)
    assert mixed.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_omp_recovers_planted_sparse_codes(backend, route, dtype):
    # k = 128 atoms in d = 64: mutual coherence about 0.5, and s = 4 nonzeros of magnitude 1-2
    # are recovered exactly by OMP on random dictionaries with overwhelming probability.
    X, D, codes = planted(5, n=60, d=64, k=128, s=4, dtype=dtype)
    got = dictionary.omp(X, D, n_nonzero=4, route=route)
    np.testing.assert_array_equal(got != 0, codes != 0)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, codes, atol=tol)
    # With a tolerance instead of a count, the pursuit stops once the residual is gone; the Gram
    # form tracks ‖r‖² = ‖x‖² − γ·xy_S, so "gone" is relative to ‖x‖² and the float epsilon.
    smallest = float(np.min(np.sum(X.astype(np.float64) ** 2, axis=1)))
    got_tol = dictionary.omp(
        X, D, tol=smallest * (1e-4 if dtype == np.float32 else 1e-12), route=route
    )
    np.testing.assert_array_equal(got_tol != 0, codes != 0)


def test_omp_residual_is_orthogonal_to_chosen_atoms(backend, route):
    X, D = problem(6)
    codes = dictionary.omp(X, D, n_nonzero=7, route=route)
    resid = X - codes @ D
    for i in range(X.shape[0]):
        chosen = np.flatnonzero(codes[i])
        np.testing.assert_allclose(D[chosen] @ resid[i], 0.0, atol=1e-11)
        # and the coefficients are the least-squares fit on the chosen atoms
        lstsq = np.linalg.lstsq(D[chosen].T, X[i], rcond=None)[0]
        np.testing.assert_allclose(codes[i, chosen], lstsq, rtol=1e-9, atol=1e-12)


def test_no_signals_give_no_codes(backend, route):
    _, D = problem(23)
    for codes in (
        dictionary.omp(np.zeros((0, 30)), D, n_nonzero=3, route=route),
        dictionary.matching_pursuit(np.zeros((0, 30)), D, n_iter=3, route=route),
    ):
        assert codes.shape == (0, 60)


def test_auto_route_follows_the_flop_count():
    # direct once K > (3 s - 1) n, or when D Dᵀ would exceed 2 GiB; gram otherwise.
    many_atoms, few_atoms = np.zeros((1000, 16)), np.zeros((100, 16))
    assert dictionary._choose_route(3, many_atoms, 5, False) == "direct"
    assert dictionary._choose_route(5000, few_atoms, 5, False) == "gram"
    assert dictionary._choose_route(3, many_atoms, 5, True) == "gram"  # a cached Gram is free
    huge = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(20000, 4), strides=(0, 0))
    assert dictionary._choose_route(10**9, huge, 5, False) == "direct"
    X, D = problem(24, n=3, k=200)
    np.testing.assert_allclose(
        dictionary.omp(X, D, n_nonzero=5),
        dictionary.omp(X, D, n_nonzero=5, route="gram"),
        rtol=1e-10,
        atol=1e-12,
    )


def test_omp_unnormalised_atoms_select_by_cosine(backend, route):
    X, D = problem(7)
    scales = np.random.default_rng(7).uniform(0.1, 10.0, D.shape[0])
    got = dictionary.omp(X, D * scales[:, None], n_nonzero=6, route=route)
    want = dictionary.omp(X, D, n_nonzero=6, route=route)
    np.testing.assert_allclose(got * scales, want, rtol=1e-9, atol=1e-12)


def test_omp_stops_on_dependent_atoms_and_zero_signal(backend, route):
    # Atom 2 is atom 0 + atom 1: after picking two of the three, the third adds nothing.
    D = unit_rows(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]]))
    x = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    codes = dictionary.omp(x, D, n_nonzero=3, route=route)
    assert np.count_nonzero(codes[0]) == 1  # atom 2 alone is exact; the rest is rounding noise
    np.testing.assert_allclose(codes[0] @ D, x[0], atol=1e-12)
    np.testing.assert_array_equal(codes[1], 0.0)
    y = np.array([[1.0, 2.0, 0.5]])
    codes = dictionary.omp(y, D, n_nonzero=3, route=route)
    assert np.count_nonzero(codes) == 2  # the third atom is in the span of the first two
    assert np.all(np.isfinite(codes))


# ---------------------------------------------------------------------------------------------
# matching pursuit
# ---------------------------------------------------------------------------------------------


def mp_by_definition(x, D, n_iter):
    """Matching pursuit on the residual itself (no Gram matrix), one signal."""
    r = x.astype(np.float64).copy()
    code = np.zeros(D.shape[0])
    norms = np.linalg.norm(D, axis=1)
    for _ in range(n_iter):
        corr = D @ r
        j = int(np.argmax(np.abs(corr) / norms))
        step = corr[j] / norms[j] ** 2
        code[j] += step
        r -= step * D[j]
    return code


def test_matching_pursuit_matches_definition_and_residual_decreases(backend, route):
    X, D = problem(8, n=15)
    D = D * np.random.default_rng(8).uniform(0.5, 2.0, D.shape[0])[:, None]
    previous = np.linalg.norm(X, axis=1)
    for n_iter in (1, 2, 5, 20, 80):
        codes = dictionary.matching_pursuit(X, D, n_iter=n_iter, route=route)
        want = np.array([mp_by_definition(x, D, n_iter) for x in X])
        np.testing.assert_allclose(codes, want, rtol=1e-9, atol=1e-12)
        resid = np.linalg.norm(X - codes @ D, axis=1)
        assert np.all(resid <= previous * (1 + 1e-12))
        assert np.all(np.count_nonzero(codes, axis=1) <= n_iter)
        previous = resid


def test_matching_pursuit_tol_and_orthonormal_dictionary(backend, route):
    # On an orthonormal basis MP is exact after d steps and equals OMP.
    rng = np.random.default_rng(9)
    Q = np.linalg.qr(rng.standard_normal((12, 12)))[0]
    X = rng.standard_normal((10, 12))
    codes = dictionary.matching_pursuit(X, Q, n_iter=12, route=route)
    np.testing.assert_allclose(codes, X @ Q.T, atol=1e-12)
    np.testing.assert_allclose(codes, dictionary.omp(X, Q, n_nonzero=12, route=route), atol=1e-12)
    coarse = dictionary.matching_pursuit(X, Q, tol=1.0, route=route)
    assert np.all(np.sum((X - coarse @ Q) ** 2, axis=1) <= 1.0 + 1e-12)


# ---------------------------------------------------------------------------------------------
# kernels against the numpy twin, layouts, threads
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif("cpp" not in _backend.available_backends(), reason="needs the build")
@pytest.mark.parametrize("kind", ["omp_gram", "mp_gram"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_matches_numpy_twin(kind, dtype):
    core = _backend.compiled("_core")
    X, D = problem(10, n=70, dtype=dtype)
    gram, xy = D @ D.T, X @ D.T
    norms = np.sum(X.astype(np.float64) ** 2, axis=1)
    many = 25 if kind == "omp_gram" else 100  # MP may take more steps than there are atoms
    for steps, tol in ((6, -1.0), (many, 5.0)):
        got = getattr(core, kind)(gram, xy, norms, steps, tol, n_threads=2)
        want = getattr(ref_dictionary, kind)(gram, xy, norms, steps, tol)
        assert got[0].shape == (X.shape[0], min(steps, D.shape[0]))
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[2], want[2])
        rtol = 1e-4 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(got[1], want[1], rtol=rtol, atol=rtol)
        assert got[1].dtype == dtype


@pytest.mark.skipif("cpp" not in _backend.available_backends(), reason="needs the build")
def test_kernel_accepts_strided_rows_and_rejects_bad_buffers():
    core = _backend.compiled("_core")
    X, D = problem(11, n=9)
    big = np.zeros((80, 80))
    big[:60, :60] = D @ D.T
    xy = X @ D.T
    norms = np.zeros(9)
    got = core.omp_gram(big[:60, :60], xy, norms, 5, -1.0)
    want = core.omp_gram(np.ascontiguousarray(big[:60, :60]), xy, norms, 5, -1.0)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="rows must be contiguous"):
        core.omp_gram(np.asfortranarray(D @ D.T), xy, norms, 5, -1.0)
    with pytest.raises(ValueError, match="square"):
        core.omp_gram(xy, xy, norms, 5, -1.0)
    with pytest.raises(ValueError, match="positive finite"):
        core.omp_gram(np.zeros((60, 60)), xy, norms, 5, -1.0)
    with pytest.raises(ValueError, match="steps must be <= n_atoms for OMP"):
        core.omp_gram(D @ D.T, xy, norms, 61, -1.0)
    with pytest.raises(TypeError):
        core.omp_gram((D @ D.T).astype(np.float32), xy, norms, 5, -1.0)


def test_layouts_and_threads(backend):
    X, D = problem(12, n=300, k=80)
    ref = dictionary.omp(X, D, n_nonzero=6)
    X.setflags(write=False)
    np.testing.assert_array_equal(dictionary.omp(X, D, n_nonzero=6), ref)
    np.testing.assert_array_equal(dictionary.omp(np.asfortranarray(X), D, n_nonzero=6), ref)
    wide = np.zeros((300, 60))
    wide[:, ::2] = X
    np.testing.assert_array_equal(dictionary.omp(wide[:, ::2], D, n_nonzero=6), ref)
    mp_ref = dictionary.matching_pursuit(X, D, n_iter=9)
    with infokit.threads(2):
        # BLAS may block X Dᵀ differently on two threads (last-bit changes); supports must agree.
        got = dictionary.omp(X, D, n_nonzero=6)
        np.testing.assert_array_equal(got != 0, ref != 0)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)
        mp = dictionary.matching_pursuit(X, D, n_iter=9)
        np.testing.assert_allclose(mp, mp_ref, rtol=1e-12, atol=1e-13)


@pytest.mark.skipif("cpp" not in _backend.available_backends(), reason="needs the build")
def test_kernel_same_bits_on_one_and_two_threads():
    core = _backend.compiled("_core")
    X, D = problem(22, n=500, k=120)
    gram, xy = D @ D.T, X @ D.T
    norms = np.sum(X**2, axis=1)
    for kind in ("omp_gram", "mp_gram"):
        one = getattr(core, kind)(gram, xy, norms, 10, -1.0, n_threads=1)
        two = getattr(core, kind)(gram, xy, norms, 10, -1.0, n_threads=2)
        for a, b in zip(one, two, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["omp", "mp"])
def test_direct_route_same_codes_in_chunks_of_signals(monkeypatch, kind):
    # The direct route bounds memory by coding the signals a chunk at a time (about
    # _CHUNK_BYTES of correlations each): chunks of 3 signals must give the codes of one chunk,
    # up to rounding (BLAS may sum R Dᵀ in another order for fewer rows), on the same atoms.
    X, D = problem(8, n=20, d=12, k=25)
    X[4] = 0.0  # a signal that stops at once, in the middle of a chunk
    code = dictionary.omp if kind == "omp" else dictionary.matching_pursuit
    steps = {"n_nonzero": 6} if kind == "omp" else {"n_iter": 30}
    whole = code(X, D, route="direct", **steps)
    monkeypatch.setattr(_pursuit_direct, "_CHUNK_BYTES", 3 * 8 * D.shape[0])
    chunked = code(X, D, route="direct", **steps)
    np.testing.assert_array_equal(chunked != 0, whole != 0)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(whole, code(X, D, route="gram", **steps), rtol=1e-9, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 12),
    d=st.integers(1, 8),
    n_nonzero=st.integers(1, 12),
)
def test_property_omp_never_worse_than_mp_and_no_larger_than_signal(seed, k, d, n_nonzero):
    n_nonzero = min(n_nonzero, k)
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((k, d))
    D[np.linalg.norm(D, axis=1) == 0] = 1.0
    X = rng.standard_normal((5, d))
    for backend, route in itertools.product(_backend.available_backends(), ("gram", "direct")):
        codes = dictionary.omp(X, D, n_nonzero=n_nonzero, backend=backend, route=route)
        assert np.all(np.isfinite(codes))
        assert np.all(np.count_nonzero(codes, axis=1) <= min(n_nonzero, d))
        r_omp = np.linalg.norm(X - codes @ D, axis=1)
        assert np.all(r_omp <= np.linalg.norm(X, axis=1) * (1 + 1e-9))
        mp = dictionary.matching_pursuit(X, D, n_iter=n_nonzero, backend=backend, route=route)
        r_mp = np.linalg.norm(X - mp @ D, axis=1)
        # OMP's first step is MP's; each later OMP step is a least-squares refit on a support,
        # so after one step they agree and OMP is never worse then.
        if n_nonzero == 1:
            np.testing.assert_allclose(r_omp, r_mp, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# grow (ITDA)
# ---------------------------------------------------------------------------------------------


def test_grow_threshold_zero_keeps_every_distinct_direction(backend):
    rng = np.random.default_rng(13)
    base = rng.standard_normal((12, 20))
    # Each base activation appears again scaled by a positive factor, in shuffled order, and one
    # zero activation is mixed in.
    stream = np.vstack([base, base * rng.uniform(0.5, 3.0, 12)[:, None], np.zeros((1, 20))])
    order = rng.permutation(stream.shape[0])
    stream = stream[order]
    for dtype in (np.float32, np.float64):
        d = dictionary.grow(stream.astype(dtype), threshold=0.0, n_nonzero=4, batch_size=7)
        assert d.atoms.dtype == dtype
        assert len(d) == 12
        # Every atom is a normalised base activation, and every base activation is an atom.
        cos = unit_rows(base) @ d.atoms.T.astype(np.float64)
        assert np.all(np.isclose(cos.max(axis=1), 1.0, atol=1e-6))
        assert np.all(np.isclose(cos.max(axis=0), 1.0, atol=1e-6))
        np.testing.assert_allclose(
            d.atoms, unit_rows(stream[d.origins]).astype(dtype), rtol=1e-6, atol=1e-7
        )
        assert d.report.n_zero == 1 and d.report.n_activations == 25
        assert d.report.n_above_threshold == 0


def test_grow_large_threshold_keeps_one_atom(backend):
    rng = np.random.default_rng(14)
    stream = np.vstack([np.zeros((2, 10)), rng.standard_normal((50, 10))])
    d = dictionary.grow(stream, threshold=1.0, n_nonzero=3)
    assert len(d) == 1
    assert d.origins.tolist() == [2]  # the first nonzero activation seeds the dictionary
    np.testing.assert_allclose(d.atoms[0], stream[2] / np.linalg.norm(stream[2]))
    assert d.report.max_error <= 1.0 + 1e-12


@pytest.mark.parametrize("method", ["omp", "mp"])
def test_grow_every_activation_within_threshold(backend, method):
    rng = np.random.default_rng(15)
    # Activations near a few hidden directions plus noise, streamed in chunks.
    hidden = unit_rows(rng.standard_normal((6, 24)))
    mix = rng.standard_normal((400, 6)) * (rng.random((400, 6)) < 0.3)
    mix[np.all(mix == 0, axis=1), 0] = 1.0
    acts = mix @ hidden + 0.05 * rng.standard_normal((400, 24))
    chunks = [acts[:128], acts[128:192], acts[192:]]  # batch boundaries as for one array
    thr = 0.35
    d = dictionary.grow(chunks, threshold=thr, n_nonzero=3, batch_size=64, method=method)
    assert d.report.n_activations == 400 and d.errors.shape == (400,)
    assert np.all(d.errors <= thr)
    assert d.report.max_error <= thr
    assert 1 < len(d) < 400
    assert len(set(d.origins.tolist())) == len(d)
    # The recorded errors are the real ones: re-encode the non-atoms against the atoms that
    # existed when they were processed is not possible after the fact, but the atoms themselves
    # reconstruct exactly, and the final dictionary reconstructs the stream within threshold
    # for OMP (a larger dictionary can only help a least-squares fit on the same support; the
    # greedy choice may differ, so the check is on the mean).
    self_codes = d.encode(d.atoms)
    np.testing.assert_allclose(d.decode(self_codes), d.atoms, atol=1e-9)
    final = d.encode(acts)
    rel = np.linalg.norm(acts - d.decode(final), axis=1) / np.linalg.norm(acts, axis=1)
    assert rel.mean() <= thr
    # Same stream, same result, whether in chunks or as one array, on either backend.
    again = dictionary.grow(acts, threshold=thr, n_nonzero=3, batch_size=64, method=method)
    np.testing.assert_array_equal(again.origins, d.origins)


def test_grow_backends_agree_and_max_atoms(backend):
    rng = np.random.default_rng(16)
    acts = rng.standard_normal((120, 16))
    d = dictionary.grow(acts, threshold=0.6, n_nonzero=4, batch_size=32)
    other = "numpy" if backend == "cpp" else backend
    d2 = dictionary.grow(acts, threshold=0.6, n_nonzero=4, batch_size=32, backend=other)
    np.testing.assert_array_equal(d.origins, d2.origins)
    np.testing.assert_allclose(d.errors, d2.errors, atol=1e-10)
    capped = dictionary.grow(acts, threshold=0.0, n_nonzero=4, max_atoms=5)
    assert len(capped) == 5
    assert capped.report.n_above_threshold > 0
    assert "max_atoms reached" in str(capped.report)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    d=st.integers(1, 6),
    threshold=st.floats(0.0, 1.2),
    n_nonzero=st.integers(1, 4),
    batch_size=st.integers(1, 16),
    method=st.sampled_from(["omp", "mp"]),
)
def test_property_grow_invariants(seed, n, d, threshold, n_nonzero, batch_size, method):
    rng = np.random.default_rng(seed)
    acts = rng.standard_normal((n, d)) * (rng.random((n, 1)) < 0.9)  # some zero rows
    if not np.any(acts):
        acts[0, 0] = 1.0
    results = []
    for backend in _backend.available_backends():
        g = dictionary.grow(
            acts,
            threshold=threshold,
            n_nonzero=n_nonzero,
            batch_size=batch_size,
            method=method,
            backend=backend,
        )
        results.append(g)
        assert 1 <= len(g) <= n
        assert len(set(g.origins.tolist())) == len(g)
        np.testing.assert_allclose(np.linalg.norm(g.atoms, axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(g.atoms, unit_rows(acts[g.origins]), rtol=1e-12)
        assert np.all(g.errors <= max(threshold, 1e-12))
        assert np.all(g.errors[g.origins] == 0.0)
        assert np.all(g.errors[~np.any(acts, axis=1)] == 0.0)
        assert g.report.n_zero == int(np.sum(~np.any(acts, axis=1)))
        if threshold >= 1.0:
            assert len(g) == 1
    np.testing.assert_array_equal(results[0].origins, results[-1].origins)


def test_grow_worst_activation_is_added_first():
    # Batch of three with an empty dictionary after the seed: the one orthogonal to the seed
    # (error 1) must be added before the one at 45 degrees (error sin 45° ≈ 0.71).
    acts = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    d = dictionary.grow(acts, threshold=0.5, n_nonzero=1)
    assert d.origins.tolist() == [0, 2, 1]
    d = dictionary.grow(acts, threshold=0.8, n_nonzero=1)
    assert d.origins.tolist() == [0, 2]
    np.testing.assert_allclose(d.errors, [0.0, np.sqrt(0.5), 0.0], atol=1e-12)


def test_grow_labels_and_repr():
    rng = np.random.default_rng(17)
    acts = rng.standard_normal((30, 8))
    labels = np.stack([np.repeat(np.arange(3), 10), np.tile(np.arange(10), 3)], axis=1)
    d = dictionary.grow(acts, threshold=0.5, n_nonzero=2, labels=labels)
    np.testing.assert_array_equal(d.labels, labels[d.origins])
    np.testing.assert_array_equal(d.identities, d.labels)
    assert "atoms" in repr(d) and "threshold 0.5" in repr(d)
    assert "relative error" in str(d.report)
    np.testing.assert_array_equal(dictionary.encode(acts, d), d.encode(acts))
    # encode keeps the Gram matrix of the atoms: same codes as a fresh omp, call after call.
    fresh = dictionary.omp(acts, d.atoms, n_nonzero=2, route="gram")
    np.testing.assert_array_equal(d.encode(acts), fresh)
    acts32 = acts.astype(np.float32)  # with float64 atoms the work stays float64
    np.testing.assert_array_equal(
        d.encode(acts32), dictionary.omp(acts32, d.atoms, n_nonzero=2, route="gram")
    )
    np.testing.assert_array_equal(
        d.encode(acts, n_nonzero=1), dictionary.omp(acts, d.atoms, n_nonzero=1, route="gram")
    )
    codes = d.encode(acts)
    np.testing.assert_allclose(dictionary.decode(codes, d), codes @ d.atoms)


# ---------------------------------------------------------------------------------------------
# jaccard
# ---------------------------------------------------------------------------------------------


def test_jaccard_identity_is_set_jaccard():
    rng = np.random.default_rng(18)
    acts = rng.standard_normal((80, 10))
    a = dictionary.grow(acts, threshold=0.4, n_nonzero=3)
    b = dictionary.grow(acts[::-1].copy(), threshold=0.4, n_nonzero=3)
    assert dictionary.jaccard(a, a) == 1.0
    sa, sb = set(a.origins.tolist()), set((79 - b.origins).tolist())
    # b's origins count from the reversed stream: compare through labels of the same rows
    b_lab = dictionary.grow(
        acts[::-1].copy(), threshold=0.4, n_nonzero=3, labels=np.arange(80)[::-1]
    )
    want = len(sa & sb) / len(sa | sb)
    assert dictionary.jaccard(a, b_lab) == pytest.approx(want)
    assert dictionary.jaccard(a, b_lab) == dictionary.jaccard(b_lab, a)
    assert dictionary.jaccard([1, 2, 3], [4, 5]) == 0.0
    assert dictionary.jaccard(["x", "y"], ["y", "z", "y"]) == pytest.approx(1 / 3)
    assert dictionary.jaccard([[0, 1], [0, 2]], [[0, 2], [1, 1]]) == pytest.approx(1 / 3)


def brute_max_matching(adj):
    """Largest one-to-one matching by trying every injection of the smaller side (tiny sizes)."""
    m, n = adj.shape
    if m > n:
        return brute_max_matching(adj.T)
    best = 0
    for cols in itertools.permutations(range(n), m):
        best = max(best, sum(bool(adj[i, c]) for i, c in enumerate(cols)))
    return best


def test_jaccard_cosine_matches_brute_force_and_properties():
    rng = np.random.default_rng(19)
    for _ in range(6):
        base = unit_rows(rng.standard_normal((6, 5)))
        a = base[rng.choice(6, 4, replace=False)] + 0.01 * rng.standard_normal((4, 5))
        b = base[rng.choice(6, 5, replace=False)]
        adj = unit_rows(a) @ unit_rows(b).T >= 0.95
        m = brute_max_matching(adj)
        want = m / (4 + 5 - m)
        assert dictionary.jaccard(a, b, by="cosine", threshold=0.95) == pytest.approx(want)
        assert dictionary.jaccard(b, a, by="cosine", threshold=0.95) == pytest.approx(want)
    # Linear assignment on the 0/1 adjacency gives the same maximum matching size.
    score = scipy.optimize.linear_sum_assignment(adj.astype(float), maximize=True)
    assert int(adj[score].sum()) == m
    assert dictionary.jaccard(base, base * 3.0, by="cosine") == 1.0
    assert dictionary.jaccard(base[:3], -base[:3], by="cosine") == 0.0
    # Duplicated atoms in one dictionary match only once.
    assert dictionary.jaccard(base[:1], np.vstack([base[:1], base[:1]]), by="cosine") == 0.5


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_bad_input_messages():
    X, D = problem(20, n=5, d=4, k=6)
    with pytest.raises(ValueError, match=r"D must be 2-D \(n_atoms, d\)"):
        dictionary.omp(X, D[0])
    with pytest.raises(ValueError, match="X must have d = 4 columns"):
        dictionary.omp(X[:, :3], D)
    with pytest.raises(ValueError, match=r"X must be 1-D \(d,\) or 2-D"):
        dictionary.omp(X[None], D)
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        dictionary.omp(np.full((2, 4), np.nan), D)
    with pytest.raises(ValueError, match="D contains NaN or inf"):
        dictionary.omp(X, np.full((2, 4), np.inf))
    with pytest.raises(ValueError, match=r"D has atoms of zero norm \(rows \[1\]\)"):
        dictionary.omp(X, np.vstack([D[:1], np.zeros((1, 4))]))
    with pytest.raises(ValueError, match="D is empty"):
        dictionary.omp(X, np.zeros((0, 4)))
    with pytest.raises(TypeError, match="D must hold real numbers, got dtype complex128"):
        dictionary.omp(X, D + 1j)
    with pytest.raises(TypeError, match="X must hold real numbers, got dtype <U1"):
        dictionary.omp(np.array(["a", "b", "c", "d"]), D)
    with pytest.raises(ValueError, match="n_nonzero must be <= the number of atoms = 6, got 7"):
        dictionary.omp(X, D, n_nonzero=7)
    with pytest.raises(ValueError, match="n_nonzero must be >= 1, got 0"):
        dictionary.omp(X, D, n_nonzero=0)
    with pytest.raises(TypeError, match="n_iter must be an int, got float"):
        dictionary.matching_pursuit(X, D, n_iter=2.0)
    with pytest.raises(ValueError, match="tol must be a finite real number >= 0, got -1"):
        dictionary.omp(X, D, tol=-1)
    with pytest.raises(TypeError, match="tol must be a real number >= 0, got str"):
        dictionary.omp(X, D, tol="1")
    with pytest.raises(ValueError, match="backend must be one of"):
        dictionary.omp(X, D, backend="gpu")
    big = (D * 1e30).astype(np.float32)
    with pytest.raises(ValueError, match="too large for float32: the products D Dᵀ or X Dᵀ"):
        dictionary.omp(X.astype(np.float32), big, route="gram")  # D Dᵀ ~ 1e60 overflows
    # Without the Gram matrix only X Dᵀ ~ 1e30 is formed: fine, and the same supports.
    direct = dictionary.omp(X.astype(np.float32), big, n_nonzero=2, route="direct")
    small = dictionary.omp(X.astype(np.float32), D.astype(np.float32), n_nonzero=2)
    np.testing.assert_array_equal(direct != 0, small != 0)
    with pytest.raises(ValueError, match="too large for float32: the products X Dᵀ may"):
        dictionary.omp(X.astype(np.float32) * 1e10, big, route="direct")
    with pytest.raises(ValueError, match="route must be one of"):
        dictionary.omp(X, D, route="sparse")


def test_bad_input_grow_and_jaccard():
    acts = np.random.default_rng(21).standard_normal((10, 4))
    with pytest.raises(ValueError, match="threshold must be a finite real number >= 0"):
        dictionary.grow(acts, threshold=np.nan)
    with pytest.raises(TypeError, match="threshold must be a real number >= 0, got NoneType"):
        dictionary.grow(acts, threshold=None)
    with pytest.raises(ValueError, match="activations are all zero"):
        dictionary.grow(np.zeros((3, 4)), threshold=0.1)
    with pytest.raises(ValueError, match="activations is empty"):
        dictionary.grow(np.zeros((0, 4)), threshold=0.1)
    with pytest.raises(ValueError, match=r"activations must be 2-D \(n, d\)"):
        dictionary.grow(acts[0], threshold=0.1)
    with pytest.raises(ValueError, match="activations chunk 1 has d = 3 columns, but the stream"):
        dictionary.grow([acts, acts[:, :3]], threshold=0.1)
    with pytest.raises(ValueError, match="activations chunk 0 contains NaN"):
        dictionary.grow([np.full((2, 4), np.nan)], threshold=0.1)
    with pytest.raises(
        ValueError, match=r"labels must have one entry per activation \(10\), got 9"
    ):
        dictionary.grow(acts, threshold=0.1, labels=np.arange(9))
    with pytest.raises(ValueError, match="method must be one of"):
        dictionary.grow(acts, threshold=0.1, method="lasso")
    with pytest.raises(ValueError, match="activations has activations whose squared norm"):
        dictionary.grow(acts * 1e200, threshold=0.1)
    with pytest.raises(ValueError, match="max_atoms must be >= 1"):
        dictionary.grow(acts, threshold=0.1, max_atoms=0)
    d = dictionary.grow(acts, threshold=0.1)
    with pytest.raises(ValueError, match=r"codes must have shape \(n, \d+\)"):
        d.decode(np.zeros((2, len(d) + 1)))
    with pytest.raises(TypeError, match="dictionary must be a Dictionary, got ndarray"):
        dictionary.encode(acts, acts)
    with pytest.raises(ValueError, match="by must be one of"):
        dictionary.jaccard(d, d, by="cka")
    with pytest.raises(ValueError, match="a has no atoms"):
        dictionary.jaccard([], [1])
    with pytest.raises(ValueError, match="threshold must be a cosine in"):
        dictionary.jaccard(d, d, by="cosine", threshold=2.0)
    with pytest.raises(ValueError, match="same dimension"):
        dictionary.jaccard(acts, acts[:, :3], by="cosine")
