"""The "vocab" strategy on packed operands: the engine's float32 route where infokit's AVX-512
micro-kernel runs (``csrc/include/infokit/linalg/gemm.hpp``).

Same tiles, states and epilogue as :mod:`infokit._losses_engine`; what changes is how tiles are
multiplied. Each operand is packed once into the micro-kernel's layout and reused: the embeddings
for every vocabulary tile, each classifier tile for every block of tokens, and the gradient tile
for both of its products. Logits and gradients are made about ``ROWS`` × VOCAB_TILE at a time
(``ROWS`` tokens at full tile width; more tokens when the vocabulary is narrower), so the epilogue
reads them from L2 right after the product wrote them. The dC product runs over a long block of
tokens (about ``GRAD_T_ENTRIES`` / tile width) packed as it is made, so that the classifier
gradient is written once per block rather than once per ``ROWS`` tokens.

Why not numpy's BLAS here: the OpenBLAS numpy and scipy ship runs its AVX2 kernels on AVX-512
CPUs it does not know by name (AMD Zen 5 among them), at half their FMA throughput, and re-packs
the same operands on every call. Elsewhere (no AVX-512, float64, the numpy backend) the engine
keeps the BLAS route.
"""

from __future__ import annotations

import functools
from types import ModuleType

import numpy as np

from . import _backend
from . import _losses_engine as eng

ROWS = 128  # tokens per product + epilogue block at full tile width (128 × 1024 float32: L2)
GRAD_T_ENTRIES = 1 << 20  # entries of the packed transposed gradient block (4 MiB in float32)
FORCE: bool | None = None  # tests: True/False force this route on or off where it can run


def module(e: np.ndarray, backend: str) -> ModuleType | None:
    """The compiled module when this route applies to ``e`` (float32, compiled backend, AVX-512
    micro-kernel active), else None."""
    if FORCE is False or e.dtype != np.float32 or _backend.resolve(backend) != "cpp":
        return None
    core = _backend.compiled("_core")
    if core is None or not (FORCE or core.linalg_fast_kernel()):
        return None
    return core


def _packed_buffer(k: ModuleType, side: str, outer: int, inner: int) -> np.ndarray:
    """Room for a packed (outer × inner) operand; smaller ones are packed into a slice of it
    (``_into``), so that each task allocates its buffers once, not once per tile."""
    mr, nr = k.linalg_panel_widths()
    width = mr if side == "lhs" else nr
    return np.empty((-(-outer // width), inner, width), dtype=np.float32)


def _into(buffer: np.ndarray, outer: int, inner: int) -> np.ndarray:
    """The slice of ``buffer`` that holds a packed (outer × inner) operand."""
    return buffer[: -(-outer // buffer.shape[2]), :inner]


def _rows_per_block(width: int, entries: int, mr: int) -> int:
    """Tokens per block: about ``entries`` / ``width``, a multiple of ``mr``, at least ``mr``."""
    return max(mr, entries // max(1, width) // mr * mr)


def vocab_forward(
    e: np.ndarray, c: np.ndarray, bias: np.ndarray | None, opts: eng.Options, k: ModuleType
) -> eng.RowStats:
    """eng.vocab_forward on packed operands; the vocabulary tiles are split into eng.GROUPS
    fixed groups (one state each, merged in order) whatever the thread count."""
    mr, _ = k.linalg_panel_widths()
    (n, d), v = e.shape, c.shape[0]
    vb = min(v, eng.VOCAB_TILE)
    rows = min(_rows_per_block(vb, ROWS * eng.VOCAB_TILE, mr), max(mr, n))
    lhs = k.linalg_pack(e, "lhs")
    groups = eng._split(eng._blocks(v, vb), eng.GROUPS)
    states = [eng.new_state(n) for _ in groups]

    def task(g: int, nt: int) -> None:
        buffer = np.empty(rows * vb, dtype=np.float32)
        rhs_buffer = _packed_buffer(k, "rhs", vb, d)
        state = states[g]
        for v0, v1 in groups[g]:
            rhs = k.linalg_pack(c[v0:v1].T, "rhs", out=_into(rhs_buffer, v1 - v0, d))
            for r0, r1 in eng._blocks(n, rows):
                z = eng._tile(buffer, r1 - r0, v1 - v0)
                k.linalg_gemm_packed(z, lhs[r0 // mr : -(-r1 // mr)], rhs, False, nt)
                eng.tile_stats(k, z, v0, r0, opts, bias, False, state[r0:r1], nt)

    eng.run_groups([functools.partial(task, g) for g in range(len(groups))], n * v)
    for other in states[1:]:
        eng.merge_state(states[0], other)
    return eng.finish(states[0], opts)


def vocab_backward(
    e: np.ndarray,
    c: np.ndarray,
    bias: np.ndarray | None,
    opts: eng.Options,
    lse: np.ndarray,
    grad_output: float | np.ndarray,
    filter_eps: float | None,
    k: ModuleType,
) -> eng.LinearGrads:
    """eng.vocab_backward on packed operands: per vocabulary tile and block of tokens, the logits
    are remade ROWS tokens at a time and turned into the gradient G, which goes at once into
    dE_rows += G·C_tile and is packed transposed for dC_tile += Gᵀ·E_block, made once per block.
    Groups of tiles as in the forward, each with its own copy of dE, added in group order.
    ``filter_eps`` skips a (rows × vb) tile whose largest |gradient| is below it (both
    products)."""
    mr, _ = k.linalg_panel_widths()
    (n, d), v = e.shape, c.shape[0]
    vb = min(v, eng.VOCAB_TILE)
    rows = min(_rows_per_block(vb, ROWS * eng.VOCAB_TILE, mr), max(mr, n))
    block = min(_rows_per_block(vb, GRAD_T_ENTRIES, rows), -(-n // rows) * rows)
    coef = eng.coefficients(lse, opts, grad_output)
    lhs_e = k.linalg_pack(e, "lhs")  # E as the left operand of the logits
    rhs_e = k.linalg_pack(e, "rhs")  # E as the right operand of dC = Gᵀ·E (inner = tokens)
    de = np.zeros_like(e)
    dc = np.zeros_like(c)
    dbias = np.zeros(v) if bias is not None else None
    groups = eng._split(eng._blocks(v, vb), eng.GROUPS)
    partial_de = [de] + [np.zeros_like(e) for _ in groups[1:]]
    counts = [[0, 0] for _ in groups]  # (tiles, skipped) per group: a tile is rows × vb

    def task(g: int, nt: int) -> None:
        buffer = np.empty(rows * vb, dtype=np.float32)
        ct_buffer = _packed_buffer(k, "rhs", vb, d)
        c_buffer = _packed_buffer(k, "rhs", d, vb)
        z_buffer = _packed_buffer(k, "lhs", rows, vb)
        grad_t_buffer = _packed_buffer(k, "lhs", vb, block)
        de_g = partial_de[g]
        for v0, v1 in groups[g]:
            w = v1 - v0
            rhs_ct = k.linalg_pack(c[v0:v1].T, "rhs", out=_into(ct_buffer, w, d))  # for E·C_tileᵀ
            rhs_c = k.linalg_pack(c[v0:v1], "rhs", out=_into(c_buffer, d, w))  # for dE += G·C_tile
            grad_t = _into(grad_t_buffer, w, block)
            for b0, b1 in eng._blocks(n, block):
                kept = False
                for r0, r1 in eng._blocks(b1 - b0, rows):
                    r0, r1 = b0 + r0, b0 + r1
                    counts[g][0] += 1
                    grad_rows = grad_t[:, r0 - b0 : r1 - b0]
                    if not coef[r0:r1].any():  # no gradient from these tokens
                        counts[g][1] += filter_eps is not None
                        grad_rows[...] = 0.0
                        continue
                    z = eng._tile(buffer, r1 - r0, v1 - v0)
                    lhs_rows = lhs_e[r0 // mr : -(-r1 // mr)]
                    k.linalg_gemm_packed(z, lhs_rows, rhs_ct, False, nt)
                    largest = eng.tile_grad(
                        k, z, v0, r0, opts, bias, False, lse[r0:r1], coef[r0:r1], dbias, nt
                    )
                    if filter_eps is not None and largest < filter_eps:
                        counts[g][1] += 1
                        grad_rows[...] = 0.0
                        continue
                    lhs_z = k.linalg_pack(z, "lhs", out=_into(z_buffer, r1 - r0, w))
                    k.linalg_gemm_packed(de_g[r0:r1], lhs_z, rhs_c, True, nt)
                    k.linalg_pack(z.T, "lhs", out=grad_rows)
                    kept = True
                if kept:
                    used = grad_t[:, : b1 - b0]
                    k.linalg_gemm_packed(dc[v0:v1], used, rhs_e[:, b0:b1], True, nt)

    eng.run_groups([functools.partial(task, g) for g in range(len(groups))], n * v)
    for extra in partial_de[1:]:
        de += extra
    tiles = sum(t for t, _ in counts)
    skipped = sum(s for _, s in counts)
    return eng.LinearGrads(
        embeddings=de,
        classifier=dc,
        bias=None if dbias is None else dbias.astype(e.dtype),
        filtered_fraction=skipped / tiles if filter_eps is not None and tiles else 0.0,
    )
