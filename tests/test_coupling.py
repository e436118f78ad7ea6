"""infokit.coupling: greedy minimum-entropy coupling against brute force over the vertices of the
transportation polytope, its guarantees and marginals; MEC-B's encoder against the paper's
Algorithm 1 transcribed, brute force over deterministic encoders and single-cell moves, and a
generic optimiser (the paper's Figure 2 example); twins, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.optimize
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import infokit
from infokit import coupling

LOG2E_OVER_E = math.log2(math.e) / math.e  # Compton et al. (2023): greedy gap for 2 marginals

NEEDS_CPP = pytest.mark.skipif(
    "cpp" not in infokit.available_backends(), reason="compares the compiled kernels with the twins"
)


def h2(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def brute_force_mec(p: np.ndarray, q: np.ndarray) -> float:
    """Minimum entropy over couplings of p and q, in bits. Entropy is concave, so the minimum is
    at a vertex of the transportation polytope: a support of n + m - 1 cells whose linear system
    has a unique non-negative solution."""
    n, m = len(p), len(q)
    cells = list(itertools.product(range(n), range(m)))
    rows = np.zeros((n + m, n * m))
    for k, (i, j) in enumerate(cells):
        rows[i, k] = 1.0
        rows[n + j, k] = 1.0
    rhs = np.concatenate([p, q])
    best = math.inf
    for support in itertools.combinations(range(n * m), n + m - 1):
        a = rows[:, support]
        if np.linalg.matrix_rank(a) < n + m - 1:
            continue
        x = np.linalg.lstsq(a, rhs, rcond=None)[0]
        if np.abs(a @ x - rhs).max() > 1e-12 or x.min() < -1e-12:
            continue
        best = min(best, h2(np.maximum(x, 0)))
    return best


def check_marginals(c: coupling.Coupling, marginals: list[np.ndarray]) -> None:
    for axis, p in enumerate(marginals):
        got = np.bincount(c.cells[:, axis], weights=c.masses, minlength=len(p))
        np.testing.assert_allclose(got, p, atol=1e-12)


def test_two_uniform_bits_give_the_diagonal(backend: str) -> None:
    c = coupling.minimum_entropy_coupling([0.5, 0.5], [0.5, 0.5], base=2)
    np.testing.assert_array_equal(c.dense(), [[0.5, 0], [0, 0.5]])
    assert c.entropy == pytest.approx(1.0)
    assert c.lower_bound == pytest.approx(1.0)


def test_hand_worked_example(backend: str) -> None:
    # p = (.6, .4), q = (.5, .3, .2). Greedy: .5 on (0, 0), leaving p = (.1, .4), q = (0, .3, .2);
    # .3 on (1, 1), leaving p = (.1, .1), q = (0, 0, .2); then .1 on (0, 2) and .1 on (1, 2).
    p, q = np.array([0.6, 0.4]), np.array([0.5, 0.3, 0.2])
    c = coupling.minimum_entropy_coupling(p, q)
    check_marginals(c, [p, q])
    want = np.array([[0.5, 0.0, 0.1], [0.0, 0.3, 0.1]])
    np.testing.assert_allclose(c.dense(), want, atol=1e-15)
    assert c.entropy == pytest.approx(-(want[want > 0] * np.log(want[want > 0])).sum())


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 3), st.integers(2, 3))
def test_against_brute_force(seed: int, n: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(m))
    c = coupling.minimum_entropy_coupling(p, q, base=2)
    check_marginals(c, [p, q])
    opt = brute_force_mec(p, q)
    assert c.lower_bound <= opt + 1e-9
    assert opt - 1e-9 <= c.entropy <= opt + LOG2E_OVER_E
    assert c.entropy == pytest.approx(h2(c.dense().ravel()))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5))
def test_many_marginals_properties(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    marginals = [rng.dirichlet(np.full(rng.integers(1, 7), 0.5)) for _ in range(k)]
    c = coupling.minimum_entropy_coupling(*marginals)
    check_marginals(c, marginals)
    assert len(c.masses) <= sum(len(p) for p in marginals) - k + 1
    assert c.entropy >= c.lower_bound - 1e-12


@NEEDS_CPP
def test_twins_agree_at_large_support() -> None:
    rng = np.random.default_rng(3)
    p, q = rng.dirichlet(np.ones(3000)), rng.dirichlet(np.ones(2000))
    a = coupling.minimum_entropy_coupling(p, q, backend="cpp")
    b = coupling.minimum_entropy_coupling(p, q, backend="numpy")
    np.testing.assert_array_equal(a.cells, b.cells)
    np.testing.assert_allclose(a.masses, b.masses, rtol=0, atol=1e-15)
    check_marginals(a, [p, q])


def test_float32_readonly_noncontiguous_inputs() -> None:
    base = np.array([0.2, 9, 0.3, 9, 0.5])
    view = base[::2]
    view.flags.writeable = False
    c = coupling.minimum_entropy_coupling(view, np.array([0.5, 0.5], dtype=np.float32))
    check_marginals(c, [np.array([0.2, 0.3, 0.5]), np.array([0.5, 0.5])])


# --- MEC with bottleneck --------------------------------------------------------------------------
# References here are independent of src/infokit/_ebim.py: a plain list-merging transcription of
# the paper's Algorithm 1, brute force over every deterministic encoder (set partitions of the
# support), brute force over every single-cell move next to a deterministic encoder, and a generic
# constrained optimiser (scipy SLSQP, many random starts) over all encoders.


def set_partitions(n: int) -> list[list[list[int]]]:
    """Every partition of range(n) into blocks (the deterministic encoders, up to code labels)."""
    if n == 0:
        return [[]]
    out = []
    for rest in set_partitions(n - 1):
        for i in range(len(rest)):
            out.append([*rest[:i], [*rest[i], n - 1], *rest[i + 1 :]])
        out.append([*rest, [n - 1]])
    return out


def best_deterministic_code(p: np.ndarray, rate_bits: float) -> float:
    """max H(T) = I(X; T) <= R over every deterministic encoder (brute force)."""
    best = 0.0
    for blocks in set_partitions(len(p)):
        h = h2(np.array([p[b].sum() for b in blocks]))
        if h <= rate_bits + 1e-12:
            best = max(best, h)
    return best


def algorithm_1(p: np.ndarray, rate_bits: float) -> list[list[int]]:
    """Algorithm 1 of Ebrahimi, Chen, Khisti (2024) as the paper states it, on lists of blocks:
    if merging the two least probable codes meets the budget, return that; else merge the two
    most probable codes and return once the budget is met."""
    blocks = [[i] for i in range(len(p)) if p[i] > 0]

    def entropy(bl: list[list[int]]) -> float:
        return h2(np.array([p[b].sum() for b in bl]))

    if entropy(blocks) <= rate_bits + 1e-12:
        return blocks
    while len(blocks) > 1:
        by_mass = sorted(range(len(blocks)), key=lambda j: p[blocks[j]].sum())
        a, b = by_mass[0], by_mass[1]
        small = [bl for j, bl in enumerate(blocks) if j not in (a, b)] + [blocks[a] + blocks[b]]
        if entropy(small) <= rate_bits + 1e-12:
            return small
        a, b = by_mass[-1], by_mass[-2]
        blocks = [bl for j, bl in enumerate(blocks) if j not in (a, b)] + [blocks[a] + blocks[b]]
        if entropy(blocks) <= rate_bits + 1e-12:
            return blocks
    return blocks


def mi2(joint: np.ndarray) -> float:
    return h2(joint.sum(axis=0)) + h2(joint.sum(axis=1)) - h2(joint.ravel())


def binary_entropy_bits(p: float) -> float:
    return float(scipy.stats.entropy([p, 1 - p], base=2))


def check_encoder(r: coupling.BottleneckCoupling, p_x: np.ndarray, rate: float) -> None:
    np.testing.assert_allclose(r.encoder.sum(axis=1), p_x, atol=1e-15)
    assert r.encoder.min() >= 0
    assert r.code_entropy <= rate + 1e-12
    assert r.code_entropy == pytest.approx(h2(r.encoder.sum(axis=0)), abs=1e-12)
    assert r.encoder_information == pytest.approx(mi2(r.encoder), abs=1e-12)
    assert r.encoder_information <= min(r.code_entropy, h2(p_x)) + 1e-12
    # At most one row is split between codes (Theorem 3 moves one cell).
    assert int(((r.encoder > 0).sum(axis=1) > 1).sum()) <= (1 if r.method == "refined" else 0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 7))
def test_greedy_is_the_papers_algorithm_1(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(n, 0.7))
    p[rng.random(n) < 0.2] = 0.0  # atoms of zero mass get no code
    if p.sum() == 0:
        p[0] = 1.0
    p /= p.sum()
    for fraction in (0.0, 1.0, *rng.uniform(0, 1.1, size=8)):
        rate = fraction * h2(p)
        r = coupling.bottleneck_coupling(p, [1.0], rate, method="greedy", base=2)
        check_encoder(r, p, rate)
        want = algorithm_1(p, rate)
        got = [sorted(np.flatnonzero(col).tolist()) for col in r.encoder.T]
        assert sorted(got) == sorted(sorted(b) for b in want)
        assert r.encoder_information == pytest.approx(r.code_entropy, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6))
def test_greedy_guarantee_against_brute_force(seed: int, n: int) -> None:
    # The paper's guarantee: Algorithm 1 is within h(p_2) of the EBIM optimum. Brute force over
    # the deterministic encoders, and min(R, H(X)) bounds every encoder from above.
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(n, rng.choice([0.3, 1.0, 3.0])))
    rate = rng.uniform(0, 1.05) * h2(p)
    bound = binary_entropy_bits(float(np.sort(p)[-2]))
    for method in ("greedy", "refined"):
        r = coupling.bottleneck_coupling(p, [0.5, 0.5], rate, method=method, base=2)
        check_encoder(r, p, rate)
        assert r.gap_bound == pytest.approx(bound, abs=1e-12)
        assert r.encoder_information >= best_deterministic_code(p, rate) - bound - 1e-12
        assert r.encoder_information >= min(rate, h2(p)) - bound - 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 7))
def test_refined_is_never_worse_than_greedy(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(n, 1.0))
    p[rng.integers(n)] = 0.0  # an atom of zero mass stays a zero row
    p /= p.sum()
    rate = rng.uniform(0, 1.0) * h2(p)
    greedy = coupling.bottleneck_coupling(p, [1.0], rate, method="greedy", base=2)
    refined = coupling.bottleneck_coupling(p, [1.0], rate, base=2)
    check_encoder(refined, p, rate)
    assert refined.method == "refined"
    assert refined.encoder_information >= greedy.encoder_information - 1e-12


def ebim_by_optimiser(p: np.ndarray, rate_bits: float, starts: int, seed: int) -> float:
    """max I(X; T) s.t. H(T) <= R over all encoders with len(p) + 1 codes, by SLSQP on softmax
    parameters from random starts (a lower bound on the optimum: the best local optimum found)."""
    n, m = len(p), len(p) + 1
    rng = np.random.default_rng(seed)

    def joint(z: np.ndarray) -> np.ndarray:
        w = np.exp(z.reshape(n, m) - z.reshape(n, m).max(axis=1, keepdims=True))
        return w / w.sum(axis=1, keepdims=True) * p[:, None]

    best = 0.0
    for _ in range(starts):
        res = scipy.optimize.minimize(
            lambda z: -mi2(joint(z)),
            rng.normal(scale=3.0, size=n * m),
            method="SLSQP",
            constraints=[{"type": "ineq", "fun": lambda z: rate_bits - h2(joint(z).sum(axis=0))}],
        )
        j = joint(res.x)
        if h2(j.sum(axis=0)) <= rate_bits + 1e-9:
            best = max(best, mi2(j))
    return best


def test_refined_reaches_the_optimum_of_figure_2() -> None:
    # The paper's Figure 2: for p_X = (0.7, 0.2, 0.1), Theorem 3 moves next to deterministic maps
    # recover the EBIM optimum. A generic optimiser over all encoders must not do better, and the
    # refinement must beat Algorithm 1 alone where H(T) = R is out of a deterministic map's reach.
    p = np.array([0.7, 0.2, 0.1])
    gained = 0.0
    for rate in (0.2, 0.7, 0.95, 1.1):
        refined = coupling.bottleneck_coupling(p, [1.0], rate, base=2)
        greedy = coupling.bottleneck_coupling(p, [1.0], rate, method="greedy", base=2)
        check_encoder(refined, p, rate)
        assert refined.code_entropy == pytest.approx(rate, abs=1e-12)
        assert refined.encoder_information >= ebim_by_optimiser(p, rate, 8, 7) - 1e-6
        gained = max(gained, refined.encoder_information - greedy.encoder_information)
    assert gained > 0.05


def single_cell_moves(p: np.ndarray, blocks: list[list[int]], rate_bits: float) -> float:
    """Best I(X; T) over every move of part of one cell of a deterministic map (to another code
    or a new one) sized so that H(T) = R, by root finding; -inf if no move reaches R."""
    base = np.zeros((len(p), len(blocks) + 1))
    for t, b in enumerate(blocks):
        base[b, t] = p[b]
    best = -math.inf
    for x, t in np.argwhere(base):
        for to in range(len(blocks) + 1):
            if to == t:
                continue

            def moved(d: float, x: int = x, t: int = t, to: int = to) -> np.ndarray:
                j = base.copy()
                j[x, t] -= d
                j[x, to] += d
                return j

            grid = np.linspace(0, p[x], 401)
            gap = np.array([h2(moved(d).sum(axis=0)) - rate_bits for d in grid])
            cross = np.flatnonzero(np.sign(gap[:-1]) != np.sign(gap[1:]))
            if cross.size:
                i = cross[0]
                d = scipy.optimize.brentq(
                    lambda d: h2(moved(d).sum(axis=0)) - rate_bits, grid[i], grid[i + 1]
                )
                best = max(best, mi2(moved(d)))
    return best


@pytest.mark.parametrize("seed", range(3))
def test_theorem_3_picks_the_best_single_cell_move(seed: int) -> None:
    # Just above Algorithm 1's map (R = R_g + eps), the refined encoder is at least as good as
    # every single-cell move from that map; just below the map that merges the two least probable
    # atoms (here the least probable code, of two cells), at least as good as every move from it.
    rng = np.random.default_rng(seed)
    p = np.sort(rng.dirichlet(np.ones(5)))[::-1]
    p[3:] *= 0.5 * p[2] / p[3:].sum()  # the last two atoms together weigh less than the third
    p /= p.sum()
    blocks = algorithm_1(p, 0.6 * h2(p))
    r_g = h2(np.array([p[b].sum() for b in blocks]))
    tail = [[0], [1], [2], [3, 4]]
    r_tail = h2(np.array([p[b].sum() for b in tail]))
    for rate, start in ((r_g + 1e-4, blocks), (r_tail - 1e-4, tail)):
        r = coupling.bottleneck_coupling(p, [1.0], rate, base=2)
        check_encoder(r, p, rate)
        assert r.encoder_information >= single_cell_moves(p, start, rate) - 1e-12


@pytest.mark.parametrize("method", ["refined", "greedy"])
@pytest.mark.parametrize("rate", [0.0, 0.5, 1.0, 1.5, 2.5])
def test_bottleneck_coupling(rate: float, method: str, backend: str) -> None:
    p_x = np.array([0.4, 0.3, 0.2, 0.1])
    p_y = np.array([0.25, 0.25, 0.5])
    r = coupling.bottleneck_coupling(p_x, p_y, rate, method=method, base=2, backend=backend)
    check_encoder(r, p_x, rate)
    np.testing.assert_allclose(r.decoder.sum(axis=1), r.encoder.sum(axis=0), atol=1e-12)
    np.testing.assert_allclose(r.decoder.sum(axis=0), p_y, atol=1e-12)
    np.testing.assert_allclose(r.joint.sum(axis=1), p_x, atol=1e-12)
    np.testing.assert_allclose(r.joint.sum(axis=0), p_y, atol=1e-12)
    # The decoder is the greedy coupling of p_T and p_Y.
    mec = coupling.minimum_entropy_coupling(r.encoder.sum(axis=0), p_y, backend=backend)
    np.testing.assert_allclose(r.decoder, mec.dense(), atol=1e-15)
    np.testing.assert_allclose(r.joint, r.encoder @ (r.decoder / r.encoder.sum(axis=0)[:, None]))
    # Data processing along X - T - Y, and the decoder's bound I(X;Y) >= I(X;T) + I(T;Y) - H(T).
    assert r.information == pytest.approx(mi2(r.joint), abs=1e-12)
    assert r.information <= r.encoder_information + 1e-12
    assert r.information >= r.encoder_information + mi2(r.decoder) - r.code_entropy - 1e-12


def test_bottleneck_without_a_limit_is_the_coupling_of_x_and_y() -> None:
    p_x, p_y = np.array([0.5, 0.5]), np.array([0.5, 0.5])
    r = coupling.bottleneck_coupling(p_x, p_y, 10.0, base=2)
    assert r.information == pytest.approx(1.0)
    np.testing.assert_array_equal(r.encoder, np.diag(p_x))


def test_units_and_large_support() -> None:
    rng = np.random.default_rng(11)
    p = rng.dirichlet(np.full(1000, 0.5))
    q = rng.dirichlet(np.ones(50))
    rate_bits = 0.5 * h2(p)
    for method in ("refined", "greedy"):
        bits = coupling.bottleneck_coupling(p, q, rate_bits, method=method, base=2)
        nats = coupling.bottleneck_coupling(p, q, rate_bits * math.log(2), method=method)
        np.testing.assert_array_equal(bits.encoder, nats.encoder)
        assert nats.encoder_information == pytest.approx(bits.encoder_information * math.log(2))
        assert nats.gap_bound == pytest.approx(bits.gap_bound * math.log(2))
        assert bits.code_entropy <= rate_bits * (1 + 1e-12)
        assert bits.encoder_information >= rate_bits - bits.gap_bound


def test_inputs_float32_readonly_noncontiguous_and_threads() -> None:
    base = np.array([0.4, 9, 0.3, 9, 0.2, 9, 0.1])
    view = base[::2]
    view.flags.writeable = False
    want = coupling.bottleneck_coupling(np.array([0.4, 0.3, 0.2, 0.1]), [0.5, 0.5], 1.0, base=2)
    got = coupling.bottleneck_coupling(view, np.array([0.5, 0.5], dtype=np.float32), 1.0, base=2)
    np.testing.assert_allclose(got.joint, want.joint, atol=1e-15)
    for n in (1, 2):
        with infokit.threads(n):
            again = coupling.bottleneck_coupling(view, [0.5, 0.5], 1.0, base=2)
        np.testing.assert_array_equal(again.joint, got.joint)


# --- bad input -----------------------------------------------------------------------------------


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"marginals\[1\] must sum to 1 .*totals must match"):
        coupling.minimum_entropy_coupling([0.5, 0.5], [0.5, 0.6])
    with pytest.raises(ValueError, match="at least two marginals"):
        coupling.minimum_entropy_coupling([1.0])
    with pytest.raises(ValueError, match=r"marginals\[0\] must hold finite non-negative"):
        coupling.minimum_entropy_coupling([1.5, -0.5], [1.0])
    with pytest.raises(ValueError, match=r"marginals\[0\] must be a non-empty 1-D"):
        coupling.minimum_entropy_coupling([[0.5, 0.5]], [1.0])
    with pytest.raises(TypeError, match=r"marginals\[0\] must hold real probabilities"):
        coupling.minimum_entropy_coupling(["a"], [1.0])
    with pytest.raises(ValueError, match="rate must be >= 0"):
        coupling.bottleneck_coupling([1.0], [1.0], -1.0)
    with pytest.raises(TypeError, match="rate must be a finite number"):
        coupling.bottleneck_coupling([1.0], [1.0], float("nan"))
    with pytest.raises(ValueError, match="p_y must sum to 1"):
        coupling.bottleneck_coupling([1.0], [0.3], 1.0)
    with pytest.raises(
        ValueError, match=r"p_x must be a non-empty 1-D distribution, got shape \(0,\)"
    ):
        coupling.bottleneck_coupling([], [1.0], 1.0)
    with pytest.raises(
        ValueError, match=r"method must be one of \('refined', 'greedy'\), got 'huffman'"
    ):
        coupling.bottleneck_coupling([1.0], [1.0], 1.0, method="huffman")
    with pytest.raises(TypeError, match="method must be a string, got int"):
        coupling.bottleneck_coupling([1.0], [1.0], 1.0, method=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rate must be a finite number, got True"):
        coupling.bottleneck_coupling([1.0], [1.0], True)
