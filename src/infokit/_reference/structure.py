"""numpy twins of csrc/include/infokit/structure/*.hpp (same signatures as the kernels in
infokit._core): the BROJA barrier solver, the greedy minimum-entropy coupling, the subset/superset
sum transforms over 2^n subsets and the focal-set combination of mass functions.

The caller has validated every input. ``n_threads`` is accepted for the same signature and
ignored. They follow the kernels step for step; plainness wins over speed here.
"""

from __future__ import annotations

import heapq

import numpy as np

# --- BROJA: min over q in Delta_p of -H_q(T | S1, S2), by a primal log-barrier Newton method ---


def _broja_structure(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Free cells, the feasible start q0 on them, and a basis N of the directions that keep the
    (s1, t) and (s2, t) marginals (one +1 -1 -1 +1 cycle per free 2x2 minor of each t-slice)."""
    n1, n2, nt = p.shape
    p1 = p.sum(axis=1)  # (n1, nt)
    p2 = p.sum(axis=0)  # (n2, nt)
    pt = p1.sum(axis=0)
    cells: list[int] = []
    start: list[float] = []
    columns: list[tuple[int, int, int, int]] = []
    for t in range(nt):
        rows = [i for i in range(n1) if p1[i, t] > 0]
        cols = [j for j in range(n2) if p2[j, t] > 0]
        index = {}
        for i in rows:
            for j in cols:
                index[i, j] = len(cells)
                cells.append((i * n2 + j) * nt + t)
                start.append(p1[i, t] * p2[j, t] / pt[t])
        for i in rows[1:]:
            for j in cols[1:]:
                columns.append(
                    (index[i, j], index[rows[0], cols[0]], index[i, cols[0]], index[rows[0], j])
                )
    basis = np.zeros((len(cells), len(columns)))
    for a, (pp, qq, m1, m2) in enumerate(columns):
        basis[pp, a] += 1.0
        basis[qq, a] += 1.0
        basis[m1, a] -= 1.0
        basis[m2, a] -= 1.0
    pair = np.asarray(cells, dtype=np.int64) // nt  # the (s1, s2) cell of each free cell
    return np.asarray(cells, dtype=np.int64), np.asarray(start), basis, pair


def _slope(q: np.ndarray, dq: np.ndarray, pair: np.ndarray, n_pairs: int, tau: float) -> float:
    """d/ds Phi(q + s dq) at s = 0, where Phi = tau * (-H(T | S1, S2)) - sum log q."""
    big_q = np.bincount(pair, weights=q, minlength=n_pairs)[pair]
    return float(tau * (dq @ (np.log(q) - np.log(big_q))) - np.sum(dq / q))


def _guarded_solve(h: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve h x = g for symmetric PSD h by a Jacobi-scaled Cholesky whose pivots below 1e-13
    (relative) are treated as flat directions (no step along them). Such directions exist: the
    objective is linear along rescalings of a whole (s1, s2) row, so the optimum may be a face."""
    scale = 1.0 / np.sqrt(np.diag(h))
    a = h * scale[:, None] * scale[None, :]
    n = len(g)
    lower = np.zeros_like(a)
    live = np.ones(n, dtype=bool)
    for j in range(n):
        pivot = a[j, j] - lower[j, :j] @ lower[j, :j]
        if pivot <= 1e-13:
            live[j] = False  # the column of L stays 0
            continue
        lower[j, j] = np.sqrt(pivot)
        lower[j + 1 :, j] = (a[j + 1 :, j] - lower[j + 1 :, :j] @ lower[j, :j]) / lower[j, j]
    b = g * scale
    y = np.zeros(n)
    for j in range(n):  # forward substitution, skipping flat pivots
        if live[j]:
            y[j] = (b[j] - lower[j, :j] @ y[:j]) / lower[j, j]
    x = np.zeros(n)
    for j in range(n - 1, -1, -1):
        if live[j]:
            x[j] = (y[j] - lower[j + 1 :, j] @ x[j + 1 :]) / lower[j, j]
    return x * scale


def _broja_one(p: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, float, int]:
    n1, n2, nt = p.shape
    cells, q, basis, pair = _broja_structure(p)
    out = np.zeros(n1 * n2 * nt)
    if basis.shape[1] == 0:  # a single feasible point
        out[cells] = q
        return out.reshape(p.shape), 0.0, 0
    n_pairs = n1 * n2
    m = float(len(cells))
    tau = m  # the barrier's gap bound m / tau starts at 1 nat
    steps = 0
    same = pair[:, None] == pair[None, :]
    # The m / tau bound holds on the central path only: keep the last centred point and its tau,
    # and return that if a later stage cannot be centred (rounding at very large tau).
    centred_q, centred_gap = q.copy(), np.inf
    while True:
        centred = False
        for _ in range(50):
            if steps >= max_iter:
                break
            big_q = np.bincount(pair, weights=q, minlength=n_pairs)[pair]
            grad = tau * (np.log(q) - np.log(big_q)) - 1.0 / q
            hess = np.where(same, -tau / big_q[:, None], 0.0)
            hess[np.diag_indices_from(hess)] += tau / q + 1.0 / q**2
            g = basis.T @ grad
            h = basis.T @ hess @ basis
            dx = -_guarded_solve(h, g)
            decrement = float(-(g @ dx))
            steps += 1
            if decrement <= 1e-9:  # centred: off the central path by ~1e-9 / tau nats
                centred = True
                centred_q, centred_gap = q.copy(), m / tau
                break
            dq = basis @ dx
            s = 1.0
            neg = dq < 0
            if neg.any():
                s = min(1.0, 0.99 * float(np.min(-q[neg] / dq[neg])))
            # Halve until the slope at the new point is at most half the starting descent rate
            # (a curvature test: values of Phi lose their digits once tau is large, slopes do
            # not). A Newton step on a near-quadratic line passes it at s = 1.
            while s > 1e-12 and _slope(q + s * dq, dq, pair, n_pairs, tau) > 0.5 * decrement:
                s *= 0.5
            if s <= 1e-12:
                break
            q = q + s * dq
        if not centred or m / tau <= tol or steps >= max_iter:
            break
        tau *= 100.0  # measured: fewer Newton steps in total than 10 or 30, same optimum
    out[cells] = centred_q
    return out.reshape(p.shape), centred_gap, steps


def broja_solve(
    tables: np.ndarray, tol: float, max_iter: int, n_threads: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each (n1, n2, nt) table of a (B, n1, n2, nt) stack: the q minimising I_q(T; S1, S2)
    with the (s1, t) and (s2, t) marginals of p, its gap bound (nats) and its Newton steps."""
    out = np.zeros_like(tables, dtype=np.float64)
    gaps = np.zeros(tables.shape[0])
    steps = np.zeros(tables.shape[0], dtype=np.int64)
    for b in range(tables.shape[0]):
        out[b], gaps[b], steps[b] = _broja_one(np.asarray(tables[b], np.float64), tol, max_iter)
    return out, gaps, steps


# --- greedy minimum-entropy coupling (Kocaoglu et al. 2017) ------------------------------------


def greedy_coupling(
    marginals: np.ndarray, sizes: np.ndarray, n_threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Cells (k, m) and masses (k,) of the greedy coupling of m marginals stored end to end.

    Each step takes the largest remaining mass of every marginal, puts the smallest of them, r,
    on the cell of those argmaxes and removes r from each; the marginal whose maximum was r loses
    that atom (its remainder is set to 0 exactly). Ties go to the lowest index."""
    m = len(sizes)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    heaps = []
    for i in range(m):
        part = marginals[offsets[i] : offsets[i + 1]]
        h = [(-float(v), j) for j, v in enumerate(part) if v > 0]
        heapq.heapify(h)
        heaps.append(h)
    cells: list[list[int]] = []
    masses: list[float] = []
    while all(heaps):
        tops = [h[0] for h in heaps]
        r = min(-t[0] for t in tops)
        first_min = min(i for i in range(m) if -tops[i][0] == r)
        cells.append([t[1] for t in tops])
        masses.append(r)
        for i, h in enumerate(heaps):
            value, j = heapq.heappop(h)
            rest = -value - r
            if i != first_min and rest > 0:
                heapq.heappush(h, (-rest, j))
    return np.asarray(cells, dtype=np.int64).reshape(-1, m), np.asarray(masses)


# --- subset / superset sums over the 2^n subsets of a frame (bit i = element i) -----------------


def set_transform(
    values: np.ndarray, superset: bool, inverse: bool, n_threads: int = 1
) -> np.ndarray:
    """Rows of length 2^n: zeta (f(A) = sum over B subset of A, or superset with superset=True)
    or, with inverse=True, its Moebius inverse. One pass per element, O(n 2^n) per row."""
    out = np.array(values, dtype=np.float64, copy=True)
    rows, size = out.shape
    n = size.bit_length() - 1
    for i in range(n):
        view = out.reshape(rows, size >> (i + 1), 2, 1 << i)
        low, high = view[:, :, 0, :], view[:, :, 1, :]
        if superset:
            low += -high if inverse else high
        else:
            high += -low if inverse else low
    return out


# --- combination of mass functions given as focal bitsets ---------------------------------------

RULE_CONJUNCTIVE = 0
RULE_DUBOIS_PRADE = 1
RULE_PCR6 = 2


def focal_combine(
    focal: np.ndarray, mass: np.ndarray, offsets: np.ndarray, rule: int, n_threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Combine k sources (source s owns focal[offsets[s]:offsets[s + 1]]) by enumerating every
    tuple of one focal set per source. Conjunctive: the product goes to the intersection (which
    may be 0, the empty set). Dubois-Prade: an empty intersection sends it to the union. PCR6: an
    empty intersection shares it among the tuple's sets in proportion to their own masses.
    Returns the distinct resulting sets ascending and their masses."""
    k = len(offsets) - 1
    sizes = [int(offsets[s + 1] - offsets[s]) for s in range(k)]
    acc: dict[int, float] = {}
    for flat in range(int(np.prod(sizes))):
        picks = []
        rest = flat
        for s in range(k):
            picks.append(int(offsets[s]) + rest % sizes[s])
            rest //= sizes[s]
        inter = ~0
        union = 0
        product = 1.0
        total = 0.0
        for j in picks:
            inter &= int(focal[j])
            union |= int(focal[j])
            product *= float(mass[j])
            total += float(mass[j])
        inter &= (1 << 64) - 1
        if inter != 0 or rule == RULE_CONJUNCTIVE:
            acc[inter] = acc.get(inter, 0.0) + product
        elif rule == RULE_DUBOIS_PRADE:
            acc[union] = acc.get(union, 0.0) + product
        elif total > 0:
            for j in picks:
                key = int(focal[j])
                acc[key] = acc.get(key, 0.0) + float(mass[j]) * product / total
    keys = sorted(acc)
    return np.asarray(keys, dtype=np.uint64), np.asarray([acc[x] for x in keys], dtype=np.float64)
