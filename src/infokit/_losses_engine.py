"""The cross-entropy engine behind :mod:`infokit.losses`: validated arrays in, tiles through BLAS
(or, for float32 on AVX-512 CPUs, infokit's packed kernel: _losses_packed) and the fused
epilogue, per-token statistics and gradients out.

Nothing here validates user input (``losses.py`` does); shapes and dtypes are trusted.

The loss of one valid token i with target y, class weights w (all 1 without ``class_weight``),
W = Σ_j w_j, K classes, smoothing ε and z-loss λ, in torch's convention:

    loss_i = (1 − ε)·w_y·(lse_i − v_iy) + (ε/K)·(W·lse_i − Σ_j w_j v_ij) + λ·lse_i²

"mean" divides the first two terms by Σ_i w_{y_i} (torch's weighted mean) and the z-loss term by
the number of valid tokens. Its gradient with respect to v_ij is a_i·p_ij − b_i·[j = y] − c_i·w_j
with a_i = r_i·((1 − ε)·w_y + ε·W/K) + ρ_i·2λ·lse_i, b_i = r_i·(1 − ε)·w_y, c_i = r_i·ε/K, where r_i
and ρ_i are the reduction's scale of the two parts times grad_output. The kernel applies the
softcap's chain rule.

Soft targets q (class probabilities, torch's probability targets) replace w_y·(lse − v_y) by
Σ_j w_j·q_ij·(lse − v_ij) = m_i·lse − Σ_j w_j q_ij v_ij with the target mass m_i = Σ_j w_j q_ij;
every token counts, "mean" divides by the number of tokens (torch), the kernel's target field
accumulates Σ_j w_j q_ij v_ij, and the gradient's target term becomes b_i·w_j·q_ij with
b_i = r_i·(1 − ε).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController

from . import _backend
from ._reference import losses as _ref
from ._threads import get_num_threads

MAX, SUM, SHIFTED_SUM, WEIGHTED_SUM, TARGET = range(5)

# "vocab" strategy through BLAS (the packed route has its own block sizes, in _losses_packed;
# it reads VOCAB_TILE and GROUPS from here). The forward's tiles are small (256 × 1024 = 1 MiB
# in float32) so that the epilogue reads them from cache right after the GEMM wrote them; the
# backward's are a whole column block of up to 4096 tokens, so that dC_blk = Gᵀ·E is one GEMM
# with a long inner dimension, written once rather than accumulated tile by tile.
TILE_ENTRIES = 1 << 18  # entries of one forward tile
BACKWARD_TILE_ENTRIES = 1 << 22  # entries of one backward tile (16 MiB in float32)
VOCAB_TILE = 1024  # vocabulary columns per tile
GROUPS = 2  # the tiles are split into this many fixed groups, run concurrently with >= 2 threads
PARALLEL_ENTRIES = 1 << 22  # fewest logits (n·V) for which the groups run concurrently
SUM_ROWS = 1024  # rows of the embeddings' gradient made per product in the "vocab" backward
CHUNK_ENTRIES = 1 << 24  # entries of one chunk × V block in the "tokens" strategy (64 MiB f32)
MIN_CHUNK = 256  # fewest tokens per chunk in the "tokens" strategy


@dataclass(frozen=True)
class Options:
    """Loss options, already validated. ``targets`` holds -1 for ignored tokens."""

    targets: np.ndarray  # int64 (n,), -1 where ignored
    n_classes: int
    reduction: str
    softcap: float  # 0.0 = none
    label_smoothing: float
    z_loss: float
    class_weight: np.ndarray | None  # float64 (K,)
    # Soft targets: (n, K) class probabilities in the problem's dtype (then ``targets`` is all -1,
    # so that the kernels never treat a column as the target), or None.
    soft: np.ndarray | None = None
    soft_mass: np.ndarray | None = None  # float64 (n,): Σ_j w_j q_ij, with soft
    soft_valid: np.ndarray | None = None  # bool (n,): rows scored (False: shifted out), with soft

    @staticmethod
    def mass_of(soft: np.ndarray, class_weight: np.ndarray | None) -> np.ndarray:
        """Σ_j w_j q_ij per row, in float64 (one pass over the soft targets)."""
        q = soft.astype(np.float64, copy=False)
        return q.sum(axis=1) if class_weight is None else q @ class_weight

    @property
    def valid(self) -> np.ndarray:
        if self.soft_valid is not None:
            return self.soft_valid
        return self.targets >= 0

    def target_weight(self) -> np.ndarray:
        """w_{y_i} for valid tokens, 0 for ignored ones (soft targets: Σ_j w_j q_ij)."""
        if self.soft is not None:
            assert self.soft_mass is not None
            return self.soft_mass
        valid = self.valid
        w = np.zeros(self.targets.shape[0])
        if self.class_weight is None:
            w[valid] = 1.0
        else:
            w[valid] = self.class_weight[self.targets[valid]]
        return w

    def mean_denominator(self) -> float:
        """What "mean" divides the cross-entropy by: Σ w_{y_i} (torch), or n for soft targets."""
        if self.soft is not None:
            return float(self.valid.sum())
        return float(self.target_weight().sum())

    def soft_rows(self, r0: int, r1: int) -> np.ndarray | None:
        return None if self.soft is None else self.soft[r0:r1]

    def total_weight(self) -> float:
        return float(self.n_classes if self.class_weight is None else self.class_weight.sum())


@dataclass(frozen=True)
class RowStats:
    """Per-token results of the forward pass (float64)."""

    lse: np.ndarray
    entropy: np.ndarray
    loss: np.ndarray  # per token, 0 for ignored tokens, z-loss included


def kernels(backend: str) -> ModuleType:
    if _backend.resolve(backend) == "cpp":
        module = _backend.compiled("_core")
        assert module is not None  # resolve() said the build is there
        return module
    return _ref


def new_state(n: int) -> np.ndarray:
    state = np.zeros((n, 5))
    state[:, MAX] = -np.inf
    return state


def finish(state: np.ndarray, opts: Options) -> RowStats:
    """lse, entropy and per-token loss from the final running state."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(state[:, SUM])
        lse = state[:, MAX] + log_s
        entropy = log_s - state[:, SHIFTED_SUM] / state[:, SUM]
    eps, k = opts.label_smoothing, opts.n_classes
    w_y = opts.target_weight()
    valid = opts.valid
    loss = np.zeros_like(lse)
    if opts.soft is not None:  # Σ_j w_j q_j (lse − v_j); the target field holds Σ_j w_j q_j v_j
        loss[valid] = (1.0 - eps) * (w_y[valid] * lse[valid] - state[valid, TARGET])
    else:
        nll = lse[valid] - state[valid, TARGET]
        loss[valid] = (1.0 - eps) * w_y[valid] * nll
    if eps > 0.0:
        smooth = opts.total_weight() * lse[valid] - state[valid, WEIGHTED_SUM]
        loss[valid] += (eps / k) * smooth
    if opts.z_loss > 0.0:
        loss[valid] += opts.z_loss * lse[valid] ** 2
    return RowStats(lse=lse, entropy=entropy, loss=loss)


def reduce(stats: RowStats, opts: Options) -> float | np.ndarray:
    """The reduced loss (float for "mean"/"sum"; the per-token float64 array for "none")."""
    if opts.reduction == "none":
        return stats.loss
    valid = opts.valid
    total = float(stats.loss.sum())
    if opts.reduction == "sum":
        return total
    z_part = opts.z_loss * float((stats.lse[valid] ** 2).sum()) if opts.z_loss > 0.0 else 0.0
    ce_part = total - z_part
    return ce_part / opts.mean_denominator() + z_part / int(valid.sum())


def coefficients(
    lse: np.ndarray, opts: Options, grad_output: float | np.ndarray, r0: int = 0
) -> np.ndarray:
    """(a, b, c) for tokens r0 .. r0 + len(lse) in the kernel's g = a·p − b·[j = y] − c·w_j.

    The reduction's denominators are taken over ALL tokens of ``opts``; ignored tokens get 0.
    """
    rows = slice(r0, r0 + lse.shape[0])
    valid_all, w_all = opts.valid, opts.target_weight()
    valid, w_y = valid_all[rows], w_all[rows]
    go = np.broadcast_to(np.asarray(grad_output, dtype=np.float64), valid_all.shape)[rows]
    if opts.reduction == "mean":
        r = go / opts.mean_denominator()
        rho = go / valid_all.sum()
    else:
        r = rho = go
    eps, k = opts.label_smoothing, opts.n_classes
    coef = np.zeros((lse.shape[0], 3))
    a = r * ((1.0 - eps) * w_y + eps * opts.total_weight() / k)
    if opts.z_loss > 0.0:
        a = a + rho * 2.0 * opts.z_loss * lse
    coef[:, 0] = a
    # hard targets: b multiplies [j = y]; soft targets: it multiplies w_j·q_ij
    coef[:, 1] = r * (1.0 - eps) * (1.0 if opts.soft is not None else w_y)
    coef[:, 2] = r * eps / k
    coef[~valid] = 0.0
    return coef


def tile_stats(
    k: ModuleType,
    z: np.ndarray,
    v0: int,
    r0: int,
    opts: Options,
    bias: np.ndarray | None,
    write: bool,
    state: np.ndarray,
    n_threads: int,
) -> None:
    """Fold the logits tile ``z`` (tokens r0 .. r0 + len(z), classes v0 ..) into ``state`` (the
    running state of those tokens); ``write`` leaves the softcapped logits in ``z``."""
    r1 = r0 + z.shape[0]
    k.losses_row_stats(
        z, v0, opts.targets[r0:r1], bias, opts.class_weight, opts.softcap, write, state,
        n_threads, soft=opts.soft_rows(r0, r1),
    )  # fmt: skip


def tile_grad(
    k: ModuleType,
    z: np.ndarray,
    v0: int,
    r0: int,
    opts: Options,
    bias: np.ndarray | None,
    transformed: bool,
    lse: np.ndarray,
    coef: np.ndarray,
    dbias: np.ndarray | None,
    n_threads: int,
) -> float:
    """Overwrite the logits tile ``z`` (as in tile_stats) with the loss gradient, given those
    tokens' ``lse`` and ``coef``; adds into ``dbias``; returns the largest |gradient|."""
    r1 = r0 + z.shape[0]
    largest = k.losses_softmax_grad(
        z, v0, opts.targets[r0:r1], bias, opts.class_weight, opts.softcap, transformed, lse, coef,
        dbias, n_threads, soft=opts.soft_rows(r0, r1),
    )  # fmt: skip
    return float(largest)


# --- GEMMs and threads ---------------------------------------------------------------------------
#
# The "vocab" strategy's BLAS route multiplies through np.matmul, which releases the GIL for the
# whole call (scipy's f2py gemm wrapper mostly does not, which would serialise the two groups); sums
# over tiles go through small reused products. The "tokens" strategy's go through scipy's gemm
# (gemm_into), which accumulates the V×D classifier gradient in place.
#
# Threads: rather than one multi-threaded GEMM per tile followed by a multi-threaded epilogue
# (two fork-joins per tile, with the BLAS pool busy-waiting while the epilogue runs and the other
# way round), the tiles are split into GROUPS fixed groups that run concurrently, each on its own
# thread with its own single-threaded BLAS calls and epilogue. One group's epilogue then overlaps
# the other's GEMM, and each tile is consumed by the core that produced it. The groups and their
# tiles do not depend on the thread count, and each number is reduced in a fixed order, so results
# are the same for any thread count.

_POOL: ThreadPoolExecutor | None = None
_POOL_PID = 0  # the process that made _POOL: a forked child must make its own
_CONTROLLER: ThreadpoolController | None = None  # found once: a lookup re-scans the libraries


def run_groups(tasks: Sequence[Callable[[int], None]], entries: int) -> None:
    """Run ``task(n_threads)`` for each task: concurrently (threads split between them) when
    there are threads to spare and ``entries`` logits are worth it; one after the other on one
    thread when they are not worth threads at all (small tiles: multi-threaded BLAS calls and
    kernels on them cost more in fork-joins and busy-waiting than they gain); one after the
    other on all threads when there is a single large task."""
    global _POOL, _POOL_PID, _CONTROLLER
    threads = get_num_threads()
    if threads < 2 or (len(tasks) < 2 and entries >= PARALLEL_ENTRIES):
        for task in tasks:
            task(threads)
        return
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    if entries < PARALLEL_ENTRIES:
        with _CONTROLLER.limit(limits=1):
            for task in tasks:
                task(1)
        return
    per_task = max(1, threads // len(tasks))
    if _POOL is None or os.getpid() != _POOL_PID:
        _POOL = ThreadPoolExecutor(max_workers=GROUPS, thread_name_prefix="infokit-losses")
        _POOL_PID = os.getpid()
    with _CONTROLLER.limit(limits=per_task):  # each task's BLAS calls run on its own thread
        futures = [_POOL.submit(task, per_task) for task in tasks]
        for future in futures:
            future.result()


def _split(items: list[tuple[int, int]], parts: int) -> list[list[tuple[int, int]]]:
    """``items`` cut into at most ``parts`` contiguous, nearly equal, non-empty groups."""
    parts = max(1, min(parts, len(items)))
    return [items[g * len(items) // parts : (g + 1) * len(items) // parts] for g in range(parts)]


def gemm_into(out: np.ndarray, a: np.ndarray, b: np.ndarray, beta: float) -> None:
    """out = a @ b + beta·out in place through scipy's BLAS gemm, with no temporary.

    ``out`` is C-contiguous, so outᵀ is a Fortran-ordered matrix that BLAS writes directly:
    outᵀ = bᵀ·aᵀ + beta·outᵀ. Accumulating through a temporary instead would cost one more read
    and write of the whole output per call (all V×D classifier-gradient entries per token chunk
    in the "tokens" strategy).
    """
    gemm = blas.sgemm if out.dtype == np.float32 else blas.dgemm

    def operand(x: np.ndarray) -> tuple[np.ndarray, int]:  # (array, trans) giving xᵀ, no copy
        return (x.T, 0) if x.T.flags.f_contiguous else (x, 1)

    lhs, trans_a = operand(b)
    rhs, trans_b = operand(a)
    result = gemm(
        1.0, lhs, rhs, beta=beta, c=out.T, trans_a=trans_a, trans_b=trans_b, overwrite_c=True
    )
    if not np.shares_memory(result, out):  # cannot happen for a C-contiguous out; stay correct
        out[...] = result.T


# --- logits given ------------------------------------------------------------------------------


def from_logits(
    logits: np.ndarray,
    opts: Options,
    grad: bool,
    backend: str,
    grad_output: float | np.ndarray = 1.0,
) -> tuple[RowStats, np.ndarray | None]:
    """One pass over given (n, K) logits; with ``grad`` also their gradient (a new array).

    ``grad_output`` scales the gradient (one number, or one per token for "none")."""
    k = kernels(backend)
    n_threads = get_num_threads()
    state = new_state(logits.shape[0])
    if not grad:
        tile_stats(k, logits, 0, 0, opts, None, False, state, n_threads)
        return finish(state, opts), None
    g = np.array(logits, order="C", copy=True)
    tile_stats(k, g, 0, 0, opts, None, True, state, n_threads)
    stats = finish(state, opts)
    check_finite(stats.lse)
    coef = coefficients(stats.lse, opts, grad_output)
    tile_grad(k, g, 0, 0, opts, None, True, stats.lse, coef, None, n_threads)
    return stats, g


def check_finite(lse: np.ndarray) -> None:
    if not np.isfinite(lse).all():
        bad = int(np.flatnonzero(~np.isfinite(lse))[0])
        raise ValueError(
            f"logits must be finite, but the logits of token {bad} contain NaN or inf "
            "(or are all -inf)"
        )


# --- embeddings × classifier -------------------------------------------------------------------


@dataclass(frozen=True)
class LinearGrads:
    embeddings: np.ndarray
    classifier: np.ndarray
    bias: np.ndarray | None
    filtered_fraction: float


def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    """[0, n) cut into consecutive blocks of ``size`` (none when n = 0)."""
    size = max(1, size)  # sizes derived from n are 0 when there are no tokens
    return [(b, min(n, b + size)) for b in range(0, n, size)]


def _tile(buffer: np.ndarray, rows: int, cols: int) -> np.ndarray:
    return buffer[: rows * cols].reshape(rows, cols)


def merge_state(into: np.ndarray, other: np.ndarray) -> None:
    """Fold ``other`` (the running state of the same rows over other vocabulary columns) into
    ``into``, in place: both sums are rescaled to the larger of the two maxima."""
    m_a, m_b = into[:, MAX], other[:, MAX]
    m = np.fmax(m_a, m_b)
    with np.errstate(invalid="ignore", over="ignore"):
        parts = []
        for m_i, st in ((m_a, into), (m_b, other)):
            live = st[:, SUM] > 0.0  # an empty side (no finite logit yet) adds nothing
            shift = np.where(live, m_i - m, 0.0)
            scale = np.where(live, np.exp(shift), 0.0)
            parts.append((st[:, SUM] * scale, (st[:, SHIFTED_SUM] + shift * st[:, SUM]) * scale))
    into[:, MAX] = m
    into[:, SUM] = parts[0][0] + parts[1][0]
    into[:, SHIFTED_SUM] = parts[0][1] + parts[1][1]
    into[:, WEIGHTED_SUM] += other[:, WEIGHTED_SUM]
    into[:, TARGET] += other[:, TARGET]  # set in one side only (0 in the other), or partial sums


def auto_strategy(e: np.ndarray, grad: bool, backend: str) -> str:
    """What strategy="auto" runs: "tokens" when the gradient is wanted and the tiles go through
    BLAS (its three GEMMs beat "vocab"'s four), else "vocab" (on the packed route its four
    products beat three BLAS GEMMs: benchmarks/RESULTS.md, issue 4's section)."""
    return "tokens" if grad and _packed_route(e, backend) is None else "vocab"


def _packed_route(e: np.ndarray, backend: str) -> tuple[ModuleType, ModuleType] | None:
    """(the packed-route module, the compiled module) when the packed route applies, else None."""
    from . import _losses_packed  # it imports this module, so only at call time

    core = _losses_packed.module(e, backend)
    return None if core is None else (_losses_packed, core)


def vocab_forward(
    e: np.ndarray, c: np.ndarray, bias: np.ndarray | None, opts: Options, backend: str
) -> RowStats:
    """Online log-sum-exp over vocabulary tiles: one GEMM's worth of work, O(n + tile) memory
    through BLAS (the packed route also holds the packed embeddings, n·D floats).

    The tiles are split into groups: by token blocks (disjoint rows of the state) when there are
    enough of them, else by vocabulary blocks, each group with its own state, merged in order.
    float32 on CPUs with AVX-512 goes through the packed route (_losses_packed)."""
    packed = _packed_route(e, backend)
    if packed is not None:
        return packed[0].vocab_forward(e, c, bias, opts, packed[1])
    k = kernels(backend)
    n, v = e.shape[0], c.shape[0]
    vb = min(v, VOCAB_TILE)
    rb = min(n, max(1, TILE_ENTRIES // vb))
    row_blocks, vocab_blocks = _blocks(n, rb), _blocks(v, vb)

    def task(
        rows: list[tuple[int, int]], cols: list[tuple[int, int]], state: np.ndarray, nt: int
    ) -> None:
        buffer = np.empty(rb * vb, dtype=e.dtype)
        for v0, v1 in cols:
            for r0, r1 in rows:
                z = _tile(buffer, r1 - r0, v1 - v0)
                np.matmul(e[r0:r1], c[v0:v1].T, out=z)
                tile_stats(k, z, v0, r0, opts, bias, False, state[r0:r1], nt)

    state = new_state(n)
    if len(row_blocks) >= GROUPS or len(vocab_blocks) < 2:
        tasks = [
            functools.partial(task, g, vocab_blocks, state) for g in _split(row_blocks, GROUPS)
        ]
        run_groups(tasks, n * v)
    else:  # few tokens: split the vocabulary, one state per group
        groups = _split(vocab_blocks, GROUPS)
        states = [state] + [new_state(n) for _ in groups[1:]]
        pairs = zip(groups, states, strict=True)
        run_groups([functools.partial(task, row_blocks, g, st) for g, st in pairs], n * v)
        for other in states[1:]:
            merge_state(state, other)
    return finish(state, opts)


def vocab_backward(
    e: np.ndarray,
    c: np.ndarray,
    bias: np.ndarray | None,
    opts: Options,
    lse: np.ndarray,
    grad_output: float | np.ndarray,
    filter_eps: float | None,
    backend: str,
) -> LinearGrads:
    """Recompute each tile, turn it into the gradient, and accumulate dE += G·C_blk and
    dC_blk += Gᵀ·E_blk in place (two more GEMMs per tile: about four in all with the forward).

    The vocabulary blocks are split into groups: each writes its own rows of dC and of dbias, and
    its own copy of dE (the first group's is dE itself); the copies are added in group order."""
    packed = _packed_route(e, backend)
    if packed is not None:
        return packed[0].vocab_backward(e, c, bias, opts, lse, grad_output, filter_eps, packed[1])
    k = kernels(backend)
    n, v = e.shape[0], c.shape[0]
    vb = min(v, VOCAB_TILE)
    rb = min(n, max(1, BACKWARD_TILE_ENTRIES // vb))
    coef = coefficients(lse, opts, grad_output)
    de = np.zeros_like(e)
    dc = np.zeros_like(c)
    dbias = np.zeros(v) if bias is not None else None
    groups = _split(_blocks(v, vb), GROUPS)
    partial_de = [de] + [np.zeros_like(e) for _ in groups[1:]]
    counts = [[0, 0] for _ in groups]  # (tiles, skipped) per group

    def task(g: int, n_threads: int) -> None:
        buffer = np.empty(rb * vb, dtype=e.dtype)
        # G·C_blk before it is added, made SUM_ROWS rows at a time to keep this buffer small
        product_e = np.empty((min(rb, SUM_ROWS), e.shape[1]), dtype=e.dtype)
        product_c = np.empty((vb, e.shape[1]), dtype=e.dtype) if rb < n else None
        de_g = partial_de[g]
        for v0, v1 in groups[g]:
            dc_written = False
            for r0, r1 in _blocks(n, rb):
                counts[g][0] += 1
                if not coef[r0:r1].any():
                    counts[g][1] += filter_eps is not None
                    continue
                z = _tile(buffer, r1 - r0, v1 - v0)
                np.matmul(e[r0:r1], c[v0:v1].T, out=z)
                largest = tile_grad(
                    k, z, v0, r0, opts, bias, False, lse[r0:r1], coef[r0:r1], dbias, n_threads
                )
                if filter_eps is not None and largest < filter_eps:
                    counts[g][1] += 1
                    continue
                for s0 in range(0, r1 - r0, SUM_ROWS):
                    s1 = min(r1 - r0, s0 + SUM_ROWS)
                    part_e = product_e[: s1 - s0]
                    np.matmul(z[s0:s1], c[v0:v1], out=part_e)
                    rows = slice(r0 + s0, r0 + s1)
                    np.add(de_g[rows], part_e, out=de_g[rows])
                if product_c is None or not dc_written:  # the first product goes straight in
                    np.matmul(z.T, e[r0:r1], out=dc[v0:v1])
                else:
                    part_c = product_c[: v1 - v0]
                    np.matmul(z.T, e[r0:r1], out=part_c)
                    np.add(dc[v0:v1], part_c, out=dc[v0:v1])
                dc_written = True

    run_groups([functools.partial(task, g) for g in range(len(groups))], n * v)
    for extra in partial_de[1:]:
        de += extra
    tiles = sum(t for t, _ in counts)
    skipped = sum(s for _, s in counts)
    return LinearGrads(
        embeddings=de,
        classifier=dc,
        bias=None if dbias is None else dbias.astype(e.dtype),
        filtered_fraction=skipped / tiles if filter_eps is not None and tiles else 0.0,
    )


def tokens_forward_backward(
    e: np.ndarray,
    c: np.ndarray,
    bias: np.ndarray | None,
    opts: Options,
    grad: bool,
    filter_eps: float | None,
    backend: str,
) -> tuple[RowStats, LinearGrads | None]:
    """Token chunks × the full vocabulary (Liger's order): the gradient of a chunk is made in the
    forward, while its logits are in memory, so three GEMMs in all and no recompute."""
    k = kernels(backend)
    n_threads = get_num_threads()
    n, v = e.shape[0], c.shape[0]
    # At least MIN_CHUNK tokens: each chunk's update of the V×D classifier gradient reads and
    # writes all of it, which only a long enough chunk amortises.
    chunk = min(n, max(MIN_CHUNK, CHUNK_ENTRIES // v))
    buffer = np.empty(chunk * v, dtype=e.dtype)
    state = new_state(n)
    de = np.zeros_like(e) if grad else None
    dc = np.zeros_like(c) if grad else None
    dbias = np.zeros(v) if grad and bias is not None else None
    skipped = chunks = 0
    for r0, r1 in _blocks(n, chunk):
        z = _tile(buffer, r1 - r0, v)
        gemm_into(z, e[r0:r1], c.T, 0.0)
        tile_stats(k, z, 0, r0, opts, bias, grad, state[r0:r1], n_threads)
        if not grad:
            continue
        assert de is not None and dc is not None
        part = finish(state[r0:r1], _rows(opts, r0, r1))
        check_finite(part.lse)
        chunks += 1
        coef = coefficients(part.lse, opts, 1.0, r0)
        largest = tile_grad(k, z, 0, r0, opts, bias, True, part.lse, coef, dbias, n_threads)
        if filter_eps is not None and largest < filter_eps:
            skipped += 1
            continue
        gemm_into(de[r0:r1], z, c, 0.0)
        gemm_into(dc, z.T, e[r0:r1], 1.0)
    stats = finish(state, opts)
    if not grad:
        return stats, None
    assert de is not None and dc is not None
    grads = LinearGrads(
        embeddings=de,
        classifier=dc,
        bias=None if dbias is None else dbias.astype(e.dtype),
        filtered_fraction=skipped / chunks if filter_eps is not None and chunks else 0.0,
    )
    return stats, grads


def _rows(opts: Options, r0: int, r1: int) -> Options:
    return Options(
        targets=opts.targets[r0:r1],
        n_classes=opts.n_classes,
        reduction=opts.reduction,
        softcap=opts.softcap,
        label_smoothing=opts.label_smoothing,
        z_loss=opts.z_loss,
        class_weight=opts.class_weight,
        soft=opts.soft_rows(r0, r1),
        soft_mass=None if opts.soft_mass is None else opts.soft_mass[r0:r1],
        soft_valid=None if opts.soft_valid is None else opts.soft_valid[r0:r1],
    )
