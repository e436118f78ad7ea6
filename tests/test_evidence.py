"""infokit.evidence: hand-worked combinations, py_dempster_shafer, transform identities, belief
properties, dense vs sparse, many sources, twins, threads and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyds import MassFunction as PydsMass

import infokit
from infokit import evidence as ev

A, B, C = 0b001, 0b010, 0b100
THETA = 0b111

NEEDS_CPP = pytest.mark.skipif(
    "cpp" not in infokit.available_backends(), reason="compares the compiled kernels with the twins"
)


def dense(pairs: dict[int, float], n: int = 3) -> np.ndarray:
    out = np.zeros(1 << n)
    for k, v in pairs.items():
        out[k] += v
    return out


def random_mass(rng: np.random.Generator, n: int, n_focal: int) -> np.ndarray:
    m = np.zeros(1 << n)
    focal = rng.choice(np.arange(1, 1 << n), size=n_focal, replace=False)
    m[focal] = rng.dirichlet(np.ones(n_focal))
    return m


# m1 = {a}: .6, frame: .4 and m2 = {b}: .5, frame: .5. Products: {a}&{b} = empty .30 (the
# conflict), {a} .30, {b} .20, frame .20.
M1 = dense({A: 0.6, THETA: 0.4})
M2 = dense({B: 0.5, THETA: 0.5})
HAND = {
    "dempster": {A: 0.3 / 0.7, B: 0.2 / 0.7, THETA: 0.2 / 0.7},
    "yager": {A: 0.3, B: 0.2, THETA: 0.2 + 0.3},
    "dubois_prade": {A: 0.3, B: 0.2, THETA: 0.2, A | B: 0.3},
    # PCR6: the .30 goes to {a} and {b} in proportion .6 : .5.
    "pcr6": {A: 0.3 + 0.3 * 0.6 / 1.1, B: 0.2 + 0.3 * 0.5 / 1.1, THETA: 0.2},
}


@pytest.mark.parametrize("rule", ev.RULES)
def test_hand_worked_rules(rule: str, backend: str) -> None:
    r = ev.combine(M1, M2, rule=rule)
    assert r.conflict == pytest.approx(0.3)
    np.testing.assert_allclose(r.mass, dense(HAND[rule]), atol=1e-15)
    sparse = ev.combine(
        ev.mass_function([[0], [0, 1, 2]], [0.6, 0.4], 3),
        ev.mass_function([[1], [0, 1, 2]], [0.5, 0.5], 3),
        rule=rule,
    )
    assert isinstance(sparse.mass, ev.MassFunction)
    np.testing.assert_allclose(sparse.mass.dense(), dense(HAND[rule]), atol=1e-15)


def test_three_sources_by_hand(backend: str) -> None:
    # {a}: 1, {b}: 1 and the frame: 1. The one tuple has an empty intersection (K = 1).
    # Dubois-Prade sends it to the union (the frame); PCR6 splits it in proportion 1 : 1 : 1.
    rows = np.stack([dense({A: 1.0}), dense({B: 1.0}), dense({THETA: 1.0})])
    dp = ev.combine(rows, rule="dubois_prade")
    pcr6 = ev.combine(rows, rule="pcr6")
    assert dp.conflict == 1.0 and pcr6.conflict == 1.0
    np.testing.assert_allclose(dp.mass, dense({THETA: 1.0}))
    two = ev.combine(rows[:2], rule="dubois_prade")  # without the frame: the union {a, b}
    np.testing.assert_allclose(two.mass, dense({A | B: 1.0}))
    np.testing.assert_allclose(pcr6.mass, dense({A: 1 / 3, B: 1 / 3, THETA: 1 / 3}))
    # Two sources of masses .6/.4 and .5/.5 plus a vacuous third: PCR6 of the first two plus
    # the frame's share of each conflicting product, .6 * .5 * 1 / (.6 + .5 + 1) to the frame.
    three = ev.combine(np.stack([M1, M2, dense({THETA: 1.0})]), rule="pcr6")
    want = {A: 0.3 + 0.3 * 0.6 / 2.1, B: 0.2 + 0.3 * 0.5 / 2.1, THETA: 0.2 + 0.3 * 1.0 / 2.1}
    np.testing.assert_allclose(three.mass, dense(want), atol=1e-15)


def test_zadeh_example(backend: str) -> None:
    m1 = ev.mass_function([A, B], [0.99, 0.01], 3)
    m2 = ev.mass_function([C, B], [0.99, 0.01], 3)
    r = ev.combine(m1, m2)
    assert r.conflict == pytest.approx(0.9999)
    assert isinstance(r.mass, ev.MassFunction)
    assert r.mass.focal.tolist() == [B]
    assert r.mass.mass[0] == pytest.approx(1.0)


def test_total_conflict_raises_for_dempster_only(backend: str) -> None:
    m1, m2 = dense({A: 1.0}), dense({B: 1.0})
    with pytest.raises(
        ValueError, match=r"total conflict \(K = 1.0\).*Dempster's rule is undefined"
    ):
        ev.combine(m1, m2)
    with pytest.raises(ValueError, match="total conflict"):
        ev.combine(ev.mass_function([A], [1.0], 3), ev.mass_function([B], [1.0], 3))
    r = ev.combine(m1, m2, rule="yager")
    assert r.conflict == 1.0
    np.testing.assert_array_equal(r.mass, dense({THETA: 1.0}))


def pyds_of(m: np.ndarray, n: int) -> PydsMass:
    letters = "abcdefgh"[:n]
    return PydsMass(
        {
            "".join(letters[i] for i in range(n) if k >> i & 1): float(v)
            for k, v in enumerate(m)
            if v > 0
        }
    )


def test_against_py_dempster_shafer(backend: str) -> None:
    rng = np.random.default_rng(0)
    n = 4
    letters = "abcd"
    for _ in range(3):
        m1, m2 = random_mass(rng, n, 6), random_mass(rng, n, 5)
        theirs = pyds_of(m1, n).combine_conjunctive(pyds_of(m2, n))
        ours = ev.combine(m1, m2)
        want = np.zeros(1 << n)
        for focal, v in theirs.items():
            want[sum(1 << letters.index(e) for e in focal)] = v
        np.testing.assert_allclose(ours.mass, want, atol=1e-12)
        # py_dempster_shafer reports -ln(1 - K), not K.
        k_theirs = pyds_of(m1, n).conflict(pyds_of(m2, n))
        assert ours.conflict == pytest.approx(1 - np.exp(-k_theirs))
        bel, pl, bet = ev.belief(m1), ev.plausibility(m1), ev.pignistic(m1)
        mine = pyds_of(m1, n)
        for k in range(1, 1 << n):
            hyp = {letters[i] for i in range(n) if k >> i & 1}
            assert bel[k] == pytest.approx(mine.bel(hyp))
            assert pl[k] == pytest.approx(mine.pl(hyp))
        their_bet = mine.pignistic()
        for i in range(n):
            assert bet[i] == pytest.approx(their_bet[frozenset(letters[i])])


def test_pignistic_and_discount_by_hand() -> None:
    np.testing.assert_allclose(ev.pignistic(M1), [0.6 + 0.4 / 3, 0.4 / 3, 0.4 / 3])
    np.testing.assert_allclose(ev.discount(M1, 0.5), dense({A: 0.3, THETA: 0.7}))
    sparse = ev.discount(ev.mass_function([A, THETA], [0.6, 0.4], 3), 0.5)
    assert isinstance(sparse, ev.MassFunction)
    np.testing.assert_allclose(sparse.dense(), dense({A: 0.3, THETA: 0.7}))
    np.testing.assert_allclose(
        ev.pignistic(ev.mass_function([A, THETA], [0.6, 0.4], 3)), ev.pignistic(M1)
    )


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6))
def test_belief_properties(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    m = random_mass(rng, n, min(3, (1 << n) - 1))
    bel, pl, q = ev.belief(m), ev.plausibility(m), ev.commonality(m)
    assert np.all(bel <= pl + 1e-12)
    assert bel[-1] == pytest.approx(1.0) and pl[-1] == pytest.approx(1.0)
    full = (1 << n) - 1
    np.testing.assert_allclose(pl, 1.0 - bel[full - np.arange(1 << n)], atol=1e-12)
    np.testing.assert_allclose(ev.mobius(bel, kind="subset"), m, atol=1e-12)
    np.testing.assert_allclose(ev.mobius(q, kind="superset"), m, atol=1e-12)
    # Direct sums, subset by subset.
    for a in range(1 << n):
        subs = [b for b in range(1, 1 << n) if b & ~a == 0]
        sups = [b for b in range(1 << n) if b & a == a]
        assert bel[a] == pytest.approx(m[subs].sum())
        assert q[a] == pytest.approx(m[sups].sum())


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 8), st.sampled_from(["subset", "superset"]))
def test_mobius_inverts_zeta(seed: int, n: int, kind: str) -> None:
    f = np.random.default_rng(seed).normal(size=(3, 1 << n))
    np.testing.assert_allclose(ev.mobius(ev.zeta(f, kind=kind), kind=kind), f, atol=1e-12)
    np.testing.assert_allclose(ev.zeta(ev.mobius(f, kind=kind), kind=kind), f, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(ev.RULES))
def test_combination_properties(seed: int, rule: str) -> None:
    rng = np.random.default_rng(seed)
    m1, m2 = random_mass(rng, 3, 3), random_mass(rng, 3, 2)
    k = sum(m1[a] * m2[b] for a in range(8) for b in range(8) if a & b == 0)
    if rule == "dempster" and k > 1 - 1e-9:
        return
    ab, ba = ev.combine(m1, m2, rule=rule), ev.combine(m2, m1, rule=rule)
    assert ab.conflict == pytest.approx(k, abs=1e-15)
    np.testing.assert_allclose(ab.mass, ba.mass, atol=1e-15)  # all four rules are commutative
    assert np.asarray(ab.mass).sum() == pytest.approx(1.0)
    assert np.asarray(ab.mass).min() >= 0.0 and np.asarray(ab.mass)[0] == 0.0


@pytest.mark.parametrize("rule", ev.RULES)
def test_dense_and_sparse_agree_on_three_sources(rule: str, backend: str) -> None:
    rng = np.random.default_rng(5)
    rows = np.stack([random_mass(rng, 4, 5) for _ in range(3)])
    many = ev.combine(rows, rule=rule)
    sparse = ev.combine(
        *[ev.mass_function(np.flatnonzero(r), r[r > 0], 4) for r in rows], rule=rule
    )
    assert isinstance(sparse.mass, ev.MassFunction)
    np.testing.assert_allclose(many.mass, sparse.mass.dense(), atol=1e-14)
    assert many.conflict == pytest.approx(sparse.conflict)
    assert np.asarray(many.mass).sum() == pytest.approx(1.0)
    if rule == "dempster":  # associative: pairwise equals all at once
        step = ev.combine(ev.combine(rows[0], rows[1]).mass, rows[2])
        np.testing.assert_allclose(many.mass, step.mass, atol=1e-14)


def test_large_sparse_frame() -> None:
    top = 1 << 63
    m1 = ev.mass_function([top | 1, top], [0.5, 0.5], 64)
    m2 = ev.mass_function([top | 2, 1], [0.7, 0.3], 64)
    r = ev.combine(m1, m2)
    assert isinstance(r.mass, ev.MassFunction)
    # (top|1)&(top|2) = top: .35; (top|1)&1 = 1: .15; top&(top|2) = top: .35; top&1 = empty: .15.
    assert r.conflict == pytest.approx(0.15)
    assert dict(zip(r.mass.focal.tolist(), r.mass.mass, strict=True)) == pytest.approx(
        {1: 0.15 / 0.85, top: 0.7 / 0.85}
    )
    assert ev.belief(r.mass, [[63], [0, 63]]) == pytest.approx([0.7 / 0.85, 1.0])
    assert ev.plausibility(r.mass, [[0]]) == pytest.approx([0.15 / 0.85])


# --- twins, threads, layouts ---------------------------------------------------------------------


@NEEDS_CPP
def test_twins_and_threads_agree() -> None:
    rng = np.random.default_rng(6)
    f = rng.random((5, 1 << 10))
    for kind in ("subset", "superset"):
        a = ev.zeta(f, kind=kind, backend="cpp")
        b = ev.zeta(f, kind=kind, backend="numpy")
        np.testing.assert_array_equal(a, b)
        with infokit.threads(1):
            one = ev.mobius(a, kind=kind)
        with infokit.threads(2):
            two = ev.mobius(a, kind=kind)
        np.testing.assert_array_equal(one, two)
    rows = np.stack([random_mass(rng, 5, 6) for _ in range(3)])
    for rule in ev.RULES:
        c = ev.combine(rows, rule=rule, backend="cpp")
        d = ev.combine(rows, rule=rule, backend="numpy")
        np.testing.assert_allclose(c.mass, d.mass, atol=1e-15)


def test_float32_readonly_noncontiguous() -> None:
    m = np.zeros(16)
    m[[1, 2, 15]] = [0.25, 0.25, 0.5]
    wide = np.zeros(32)
    wide[::2] = m
    view = wide[::2]
    view.flags.writeable = False
    np.testing.assert_allclose(ev.belief(view), ev.belief(m))
    bel32 = ev.belief(m.astype(np.float32))
    assert bel32.dtype == np.float32 and ev.belief(m).dtype == np.float64
    np.testing.assert_allclose(bel32, ev.belief(m), atol=1e-7)
    assert ev.zeta(m.astype(np.float32), kind="superset").dtype == np.float32
    r = np.random.default_rng(1).dirichlet(np.ones(16)).astype(np.float32)  # sums to 1 +- 1e-7
    r64 = r.astype(np.float64)
    np.testing.assert_allclose(ev.plausibility(r), ev.plausibility(r64 / r64.sum()), atol=1e-6)


# --- bad input -----------------------------------------------------------------------------------


def test_bad_input() -> None:
    with pytest.raises(
        ValueError, match=r"masses must sum to 1 over the subsets, found a sum of 0.9"
    ):
        ev.mass_function([A, B], [0.5, 0.4], 3)
    with pytest.raises(ValueError, match=r"masses\[0\] must sum to 1"):
        ev.combine(dense({A: 0.5}), M2)
    with pytest.raises(ValueError, match=r"frame_size must be <= 64.*got 65"):
        ev.mass_function([1], [1.0], 65)
    with pytest.raises(ValueError, match=r"focal_sets\[0\] = 8 is not a subset of a 3-element"):
        ev.mass_function([8], [1.0], 3)
    with pytest.raises(ValueError, match=r"focal_sets\[0\] has element 3, outside the frame 0..2"):
        ev.mass_function([[3]], [1.0], 3)
    with pytest.raises(ValueError, match=r"last axis of length 2\^n.*got length 6"):
        ev.belief(np.full(6, 1 / 6))
    with pytest.raises(ValueError, match="m has negative masses"):
        ev.belief(np.array([0.0, 1.5, -0.5, 0.0]))
    with pytest.raises(ValueError, match="the sources must share one frame"):
        ev.combine(np.array([0, 1.0]), M1)
    with pytest.raises(
        ValueError, match=r"a single dense argument must be a 2-D array \(k, 2\^n\)"
    ):
        ev.combine(M1)
    with pytest.raises(ValueError, match="need at least two sources to combine, got 1"):
        ev.combine(M1[None, :])
    with pytest.raises(TypeError, match="mix of MassFunction and dense"):
        ev.combine(M1, ev.mass_function([A], [1.0], 3))
    with pytest.raises(ValueError, match="rule must be one of"):
        ev.combine(M1, M2, rule="average")
    with pytest.raises(ValueError, match="needs subsets="):
        ev.belief(ev.mass_function([A], [1.0], 3))
    with pytest.raises(ValueError, match=r"reliability must be in \[0, 1\]"):
        ev.discount(M1, 1.5)
    with pytest.raises(ValueError, match="kind must be 'subset' or 'superset'"):
        ev.zeta(M1, kind="both")
    with pytest.raises(ValueError, match="all its mass on the empty set"):
        ev.pignistic(dense({0: 1.0}))
    with pytest.raises(TypeError, match="frame_size must be an int"):
        ev.mass_function([A], [1.0], 3.0)  # type: ignore[arg-type]
