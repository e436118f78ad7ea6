"""infokit.coupling: greedy minimum-entropy coupling against brute force over the vertices of the
transportation polytope, its guarantees and marginals; MEC-B against brute force over
deterministic encoders; twins, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
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


def best_deterministic_code(p: np.ndarray, rate_bits: float) -> float:
    """max H(T) <= R over every partition of the support of p (brute force)."""
    n = len(p)
    best = 0.0
    for labels in itertools.product(range(n), repeat=n):
        t = np.bincount(labels, weights=p, minlength=n)
        h = h2(t)
        if h <= rate_bits + 1e-12:
            best = max(best, h)
    return best


@pytest.mark.parametrize("rate", [0.0, 0.5, 1.0, 1.5, 2.5])
def test_bottleneck_coupling(rate: float) -> None:
    p_x = np.array([0.4, 0.3, 0.2, 0.1])
    p_y = np.array([0.25, 0.25, 0.5])
    r = coupling.bottleneck_coupling(p_x, p_y, rate, base=2)
    np.testing.assert_allclose(r.encoder.sum(axis=1), p_x, atol=1e-15)
    np.testing.assert_allclose(r.decoder.sum(axis=0), p_y, atol=1e-12)
    np.testing.assert_allclose(r.joint.sum(axis=1), p_x, atol=1e-12)
    np.testing.assert_allclose(r.joint.sum(axis=0), p_y, atol=1e-12)
    assert r.code_entropy <= rate + 1e-12
    # A deterministic encoder has I(X; T) = H(T); the paper's greedy guarantee is h(p_2).
    assert r.encoder_information == pytest.approx(r.code_entropy)
    p2 = np.sort(p_x)[-2]
    assert r.code_entropy >= best_deterministic_code(p_x, rate) - h2(np.array([p2, 1 - p2]))
    # Data processing along X - T - Y, and the paper's lower bound for the decoder.
    i_ty = h2(r.decoder.sum(1)) + h2(p_y) - h2(r.decoder.ravel())
    assert r.information <= r.encoder_information + 1e-12
    assert r.information >= r.encoder_information + i_ty - r.code_entropy - 1e-12


def test_bottleneck_without_a_limit_is_the_coupling_of_x_and_y() -> None:
    p_x, p_y = np.array([0.5, 0.5]), np.array([0.5, 0.5])
    r = coupling.bottleneck_coupling(p_x, p_y, 10.0, base=2)
    assert r.information == pytest.approx(1.0)


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
