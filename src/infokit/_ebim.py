"""Entropy-bounded information maximisation (EBIM), the encoder half of MEC-B.

EBIM (Ebrahimi, Chen, Khisti, "Minimum entropy coupling with bottleneck", NeurIPS 2024): given
p_X and a budget R, find the joint p(x, t) with X-marginal p_X that maximises I(X; T) subject to
H(T) <= R. Two pieces of the paper:

* ``greedy_code`` is its Algorithm 1, the deterministic EBIM solver. Start from T = X. At every
  step, if merging the two least probable codes already meets the budget, do that and stop;
  otherwise merge the two most probable codes and stop once the budget is met. For a deterministic
  map I(X; T) = H(T), and the paper proves the result within h(p_2) of the EBIM optimum, p_2 the
  second largest probability of p_X and h the binary entropy.
* ``refined_encoder`` uses the paper's Theorem 3 (optimal couplings next to a deterministic map,
  its Figures 1 and 2) around that answer. To raise H(T) a little above a map's entropy R_g, the
  best move is a small mass from the cell of least normalised value p(x, t) / p(t) to a new code
  in the same row; to lower it a little below R_g, a small mass from the least cell of the least
  probable code to the most probable code. Each move is sized so that H(T) = R; when a whole
  cell is not enough, moving it gives the next deterministic map and the rule applies again (a
  walk). The best of Algorithm 1's map and of the walks from the maps it ends among is kept, so
  the refinement never loses to Algorithm 1. The paper's Figure 2 picks, for each R, the best
  such move over every deterministic map; the walks search near Algorithm 1's answer instead.

Everything is in nats. Algorithm 1 runs on the sorted masses: after k merges of the two most
probable codes the codes are {s_1 + ... + s_{k+1}, s_{k+2}, ..., s_m}, so every entropy the
algorithm checks comes from a prefix and a suffix sum, O(m log m) in all.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt


def _phi(u: npt.ArrayLike) -> np.ndarray:
    """-u log u elementwise, 0 at u = 0."""
    a = np.asarray(u, dtype=np.float64)
    return -a * np.log(np.where(a > 0, a, 1.0))


def _phi1(u: float) -> float:
    return float(-u * np.log(u)) if u > 0 else 0.0


def slack(rate: float) -> float:
    """Rounding allowance when comparing an entropy with the budget."""
    return 1e-12 * max(1.0, rate)


def _code(order: np.ndarray, n: int, merged: int, merge_tail: bool) -> np.ndarray:
    """Code of each x for the map that puts the ``merged`` most probable atoms (sorted ``order``)
    into code 0, every other atom in its own code, and with ``merge_tail`` the two least probable
    atoms into one code. Atoms of zero mass get -1."""
    m = len(order)
    code = np.full(n, -1, dtype=np.int64)
    own = np.arange(m, dtype=np.int64) - (merged - 1)
    own[:merged] = 0
    if merge_tail and m - merged >= 2:
        own[m - 1] = own[m - 2]
    elif merge_tail:  # only the merged code and one atom left: everything in one code
        own[:] = 0
    code[order] = own
    return code


def _greedy_path(p: np.ndarray, rate: float) -> tuple[list[np.ndarray], int]:
    """The maps Algorithm 1 ends among: [M_k, SM(M_k), M_{k+1}] around its answer, where M_j is
    the map after j merges of the two most probable codes and SM the merge of the two least
    probable codes of it, and the index of the answer in that list. [identity], 0 if R >= H(X)."""
    n = len(p)
    support = np.flatnonzero(p > 0)
    order = support[np.argsort(-p[support], kind="stable")]
    s = p[order]
    m = len(s)
    phi = _phi(s)
    limit = rate + slack(rate)
    if m <= 1 or float(phi.sum()) <= limit:
        return [_code(order, n, 1, False)], 0
    # h_map[j] = H(M_j) = phi(s_1 + ... + s_{j+1}) + phi(s_{j+2}) + ... + phi(s_m), j = 0..m-1.
    after = np.concatenate([np.cumsum(phi[::-1])[::-1][1:], [0.0]])
    h_map = _phi(np.cumsum(s)) + after
    # h_small[j] = H(SM(M_j)), j = 0..m-2: the two least probable codes are s_{m-1}, s_m while
    # M_j keeps at least two atoms of its own (the merged code outweighs every atom).
    h_small = np.zeros(m - 1)
    h_small[: m - 2] = h_map[: m - 2] - phi[m - 2] - phi[m - 1] + _phi1(s[m - 2] + s[m - 1])
    # Algorithm 1 checks SM(M_0), M_1, SM(M_1), M_2, ... in this order and stops at the first
    # within budget (M_{m-1}, a single code, always is).
    checks = np.empty(2 * (m - 1))
    checks[0::2] = h_small
    checks[1::2] = h_map[1:]
    first = int(np.argmax(checks <= limit))
    k = first // 2  # the answer is SM(M_k) (first even) or M_{k+1} (first odd)
    path = [
        _code(order, n, k + 1, False),
        _code(order, n, k + 1, True),
        _code(order, n, k + 2, False),
    ]
    return path, 1 + first % 2


def greedy_code(p: np.ndarray, rate: float) -> np.ndarray:
    """Algorithm 1 of Ebrahimi et al.: the code of each x (-1 where p[x] = 0), H(T) <= rate."""
    path, answer = _greedy_path(p, rate)
    return path[answer]


def encoder_of(p: np.ndarray, code: np.ndarray, extra: int = 0) -> np.ndarray:
    """The joint p(x, t) of a deterministic map given as codes (rows of zero mass stay 0), with
    ``extra`` empty codes appended."""
    n_t = (int(code.max()) + 1 if code.size else 0) + extra
    out = np.zeros((len(p), n_t))
    rows = np.flatnonzero(code >= 0)
    out[rows, code[rows]] = p[rows]
    return out


Move = tuple[int, int, float]  # (x, to, delta): delta of row x goes to code ``to``


def _size_moves(
    entropy: Callable[[np.ndarray], np.ndarray], top: np.ndarray, rate: float, raising: bool
) -> np.ndarray:
    """For moves whose H(T) after moving d is ``entropy(d)`` (monotone on [0, top], crossing the
    rate), the d with H(T) = rate, on the side where H(T) <= rate. Bisection on log d, all moves
    at once: a move sized to a budget just past a map's entropy can be hundreds of orders of
    magnitude below ``top``."""
    lo = np.full(top.shape, math.log(1e-300))
    hi = np.log(top)
    for _ in range(80):  # the bracket is < 710 wide in log d: 80 halvings reach rounding
        mid = 0.5 * (lo + hi)
        below = entropy(np.exp(mid)) <= rate
        # H(T) rises with d when raising, falls when lowering: keep the root bracketed.
        lo, hi = np.where(below == raising, mid, lo), np.where(below == raising, hi, mid)
    return np.exp(lo if raising else hi)


# Codes tried as the source of a move that lowers H(T): the least probable ones, Theorem 3's
# choice first (trying every code costs O(n) per move and, in random trials, gains nothing more).
_LOWER_SOURCES = 8

# Whole-cell moves one walk may make before it stops (see _walk): bounds the refinement at
# O(_MAX_MOVES n); in random trials on small supports the walks that help need a handful.
_MAX_MOVES = 64


def _theorem3_move(p: np.ndarray, code: np.ndarray, rate: float) -> tuple[Move | None, Move | None]:
    """The Theorem 3 moves of the deterministic map ``code`` towards H(T) = rate, each as
    (x, to, delta): ``delta`` of row x to code ``to`` (the number of codes for a new one). Returns
    the best move sized to reach the rate (None if none can), and, when Theorem 3's own cell
    cannot reach it, that whole cell moved (else None): the step a walk continues with.

    Raising H(T), a cell moves to a new code; lowering it, to the most probable code; the cell is
    the least of its code. Theorem 3 names the code: least p(x, t) / p(t) when raising, least p(t)
    when lowering; that choice is the best as R approaches the map's entropy. At a finite distance
    every code's least cell is sized exactly and the move with the largest I(X; T) is kept."""
    used = code >= 0
    q = np.bincount(code[used], weights=p[used])
    h0 = float(_phi(q).sum())
    rows = np.flatnonzero(used)
    by_code = rows[np.lexsort((p[rows], code[rows]))]
    least = by_code[np.r_[True, code[by_code][1:] != code[by_code][:-1]]]  # least atom per code
    raising = h0 <= rate
    if raising:
        codes = np.flatnonzero(np.bincount(code[used]) >= 2)
        if codes.size == 0:  # one atom per code: H(T) = H(X) already
            return None, None
        to, qs = len(q), 0.0  # a new code, empty before the move
        canonical = int(np.argmin(p[least[codes]] / q[codes]))
    else:
        if len(q) < 2:
            return None, None
        by_mass = np.argsort(q, kind="stable")
        to, codes = int(by_mass[-1]), by_mass[: min(len(q) - 1, _LOWER_SOURCES)]
        qs = float(q[to])
        canonical = 0  # the least probable code
    x, qt = least[codes], q[codes]
    px = p[x]
    # Moving d: H(T) changes in the source and the destination code only. It rises with d on
    # [0, min(p_x, qt / 2)] when the destination is new, falls on [0, p_x] when it is the most
    # probable code (qt - d <= qs + d).
    top = np.minimum(px, qt / 2) if raising else px

    def entropy(d: np.ndarray, qt: np.ndarray) -> np.ndarray:
        return h0 - _phi(qt) - _phi1(qs) + _phi(qt - d) + _phi(qs + d)

    whole = (int(x[canonical]), to, float(top[canonical]))
    reach = np.flatnonzero((entropy(top, qt) - rate) * (h0 - rate) <= 0)
    if reach.size == 0:
        return None, whole
    qt, px = qt[reach], px[reach]
    d = _size_moves(lambda dd: entropy(dd, qt), top[reach], rate, raising)
    info = entropy(d, qt) - (_phi(px - d) + _phi(d) - _phi(px))
    best = int(np.argmax(info))
    return (int(x[reach][best]), to, float(d[best])), None if canonical in reach else whole


def _after(p: np.ndarray, code: np.ndarray, move: Move) -> tuple[float, float]:
    """H(T) and I(X; T) = H(T) - H(T | X) of the map ``code`` after ``move`` (only row x of the
    encoder is stochastic, so H(T | X) is that row's share)."""
    x, to, delta = move
    used = code >= 0
    q = np.bincount(code[used], weights=p[used], minlength=to + 1)
    q[code[x]] -= delta
    q[to] += delta
    h = float(_phi(q).sum())
    px = float(p[x])
    return h, h - (_phi1(px - delta) + _phi1(delta) - _phi1(px))


def _moved_whole(code: np.ndarray, x: int, to: int) -> np.ndarray:
    """The map ``code`` with atom x moved to code ``to``, labels kept contiguous."""
    code = code.copy()
    was = code[x]
    code[x] = to
    if not np.any(code == was):  # the code emptied: close the gap in the labels
        code[code > was] -= 1
    return code


def _encoder(p: np.ndarray, code: np.ndarray, move: Move | None) -> np.ndarray:
    """The joint p(x, t) of the map ``code``, after ``move`` if one is given."""
    if move is None:
        return encoder_of(p, code)
    x, to, delta = move
    if delta >= p[x]:  # a whole cell: another deterministic map
        return encoder_of(p, _moved_whole(code, x, to))
    enc = encoder_of(p, code, extra=1 if to == int(code.max()) + 1 else 0)
    enc[x, code[x]] -= delta
    enc[x, to] += delta
    return enc


def _walk(p: np.ndarray, code: np.ndarray, rate: float) -> tuple[np.ndarray, Move, float] | None:
    """Theorem 3 from the map ``code``, continued: while its cell cannot reach H(T) = R, moving
    that whole cell gives another deterministic map on the same side of R, from which the rule
    applies again. The best feasible (H(T) <= R) map, move and I(X; T) met on the way."""
    best: tuple[np.ndarray, Move, float] | None = None
    for _ in range(_MAX_MOVES):
        sized, whole = _theorem3_move(p, code, rate)
        for move in (sized, whole):
            if move is None:
                continue
            h, info = _after(p, code, move)
            if h <= rate + slack(rate) and (best is None or info > best[2]):
                best = (code.copy(), move, info)
        if whole is None or whole[2] < p[whole[0]]:  # met the rate, or moved all it could
            return best
        code = _moved_whole(code, whole[0], whole[1])
    return best


def refined_encoder(p: np.ndarray, rate: float) -> np.ndarray:
    """Algorithm 1 refined by Theorem 3: the best of the greedy map and of the Theorem 3 walks
    (sized to H(T) = R) from the maps Algorithm 1 ends among. Returns the joint p(x, t)."""
    path, answer = _greedy_path(p, rate)
    best_code, best_move = path[answer], None
    used = best_code >= 0
    best_info = float(_phi(np.bincount(best_code[used], weights=p[used])).sum())  # = H(T)
    for code in path:
        found = _walk(p, code, rate)
        # Keep the deterministic map unless a move gains more than rounding.
        if found is not None and found[2] > best_info + slack(rate):
            best_code, best_move, best_info = found
    return _encoder(p, best_code, best_move)


def gap_bound(p: np.ndarray) -> float:
    """h(p_2) in nats: Algorithm 1's I(X; T) is at most this far below the EBIM optimum."""
    if p.size < 2:
        return 0.0
    p2 = float(np.partition(p, p.size - 2)[p.size - 2])
    return _phi1(p2) + _phi1(1.0 - p2)
