"""The cross-entropy engine: cross-entropy, its gradient, token entropy and log-perplexity, from
given logits or from embeddings and a classifier without ever holding the N×V logits.

Conventions shared by the whole module:

- **Semantics.** :func:`cross_entropy` and :func:`linear_cross_entropy` compute exactly what
  ``torch.nn.functional.cross_entropy`` computes on the (materialised) logits, option for option:
  ``ignore_index``, ``reduction``, ``label_smoothing`` (torch's convention: mass ε/K on every
  class) and ``class_weight`` (torch's ``weight``; "mean" divides by Σ w_{y_i}). On top:
  ``softcap`` (logits become ``c·tanh(z/c)`` first, as in Gemma and Cut Cross-Entropy),
  ``z_loss`` (λ·lse² per token, PaLM's auxiliary loss; "mean" averages it over valid tokens) and
  ``shift`` (next-token prediction: position t is scored against target t + shift).
- **Numerics.** Every sum (log-sum-exp, entropy, loss, bias gradient) accumulates in float64.
  float32 inputs stay float32 (tiles, GEMMs, returned arrays); other reals become float64.
- **Errors.** NaN or inf logits (or embeddings/classifier producing them), targets outside
  [0, K) other than ``ignore_index``, all targets ignored under "mean", mismatched shapes, a
  non-positive softcap and smoothing outside [0, 1) raise ``ValueError``; wrong kinds raise
  ``TypeError``. Messages name the argument.
- **Backends.** ``backend="auto"`` runs the C++ epilogue (``infokit._core``) when built, else its
  numpy twin; the GEMMs always go through the BLAS that numpy/scipy ship.
- **Threads.** ``infokit.threads(n)`` governs both the epilogue and the BLAS. Each per-token
  number is reduced by one thread in a fixed order, so results do not depend on the thread count
  beyond what the BLAS itself does.

References: Wijmans et al. (2025), "Cut Your Losses in Large-Vocabulary Language Models", ICLR
(P10); Hsu et al. (2024), "Liger Kernel"; Szegedy et al. (2016) for label smoothing; Chowdhery
et al. (2022), PaLM, for the z-loss; P58 for the detection statistic.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _losses_engine as _engine
from ._validation import check_base, check_choice, to_base

__all__ = [
    "AdaptiveLossResult",
    "AdversarialLossResult",
    "CrossEntropyResult",
    "LinearCrossEntropyResult",
    "LossResult",
    "TriBCEResult",
    "aldr_kl_loss",
    "attention_entropy",
    "bias_loss",
    "comp_sum_loss",
    "cross_entropy",
    "detection_statistic",
    "focal_loss",
    "generalized_cross_entropy",
    "histogram_mean",
    "hl_gauss_targets",
    "ldr_kl_loss",
    "linear_cross_entropy",
    "log_perplexity",
    "smooth_adversarial_comp_sum_loss",
    "soft_cross_entropy",
    "token_entropy",
    "tri_bce_loss",
    "two_hot_targets",
]

REDUCTIONS = ("mean", "sum", "none")
STRATEGIES = ("auto", "vocab", "tokens")


@dataclass(frozen=True)
class CrossEntropyResult:
    """What :func:`cross_entropy` returns.

    Attributes
    ----------
    loss : float or ndarray
        The reduced loss (a float), or per token for ``reduction="none"`` (0 where ignored).
    lse : ndarray
        log Σ_j exp(z_j) per token, after the softcap.
    entropy : ndarray or None
        The entropy of softmax(z) per token in nats, when ``return_entropy=True``.
    grad_logits : ndarray or None
        ∂loss/∂logits when ``grad=True`` (for "none": of the sum of the per-token losses).
    """

    loss: float | np.ndarray
    lse: np.ndarray = field(repr=False)
    entropy: np.ndarray | None = field(default=None, repr=False)
    grad_logits: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LinearCrossEntropyResult:
    """What :func:`linear_cross_entropy` returns.

    Attributes
    ----------
    loss, lse, entropy :
        As in :class:`CrossEntropyResult`.
    grad_embeddings, grad_classifier, grad_bias : ndarray or None
        Gradients of the loss when ``grad=True`` (grad_bias only with a bias).
    strategy : str
        The strategy that ran ("vocab" or "tokens").
    filtered_fraction : float
        With ``filter_eps``: the fraction of tiles whose gradient GEMMs were skipped because
        every entry was below ``filter_eps`` (0.0 without filtering: the default is exact).
    """

    loss: float | np.ndarray
    lse: np.ndarray = field(repr=False)
    entropy: np.ndarray | None = field(default=None, repr=False)
    grad_embeddings: np.ndarray | None = field(default=None, repr=False)
    grad_classifier: np.ndarray | None = field(default=None, repr=False)
    grad_bias: np.ndarray | None = field(default=None, repr=False)
    strategy: str = "vocab"
    filtered_fraction: float = 0.0


# --- argument handling -------------------------------------------------------------------------


def _as_float_array(x: Any, name: str, ndim_min: int = 1) -> np.ndarray:
    """``x`` as float32 (kept) or float64 (every other real), C-contiguous."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real array: {exc}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real array, got dtype {a.dtype}")
    if a.dtype != np.float32:
        a = a.astype(np.float64, copy=False)
    if a.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} dimension(s), got shape {a.shape}")
    return np.ascontiguousarray(a)


def _check_targets(
    targets: Any, shape: tuple[int, ...], n_classes: int, ignore_index: int
) -> np.ndarray:
    """Targets as int64 of ``shape``, each in [0, n_classes) or == ignore_index."""
    t = np.asarray(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(
            "targets must be an array of integer class indices (or, where accepted, float class "
            f"probabilities), got dtype {t.dtype}"
        )
    if t.shape != shape:
        raise ValueError(
            f"targets must have shape {shape} (one class index per token), got {t.shape}"
        )
    t = t.astype(np.int64, copy=False)
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise ValueError(
            f"targets must lie in [0, {n_classes}) or equal ignore_index={ignore_index}, "
            f"got {int(t[bad].flat[0])}"
        )
    return t


def _check_options(
    reduction: Any,
    softcap: Any,
    label_smoothing: Any,
    z_loss: Any,
    class_weight: Any,
    n_classes: int,
) -> tuple[str, float, float, float, np.ndarray | None]:
    check_choice(reduction, "reduction", REDUCTIONS)
    cap = 0.0
    if softcap is not None:
        cap = _real(softcap, "softcap")
        if not cap > 0.0:
            raise ValueError(f"softcap must be None or a finite number > 0, got {softcap!r}")
    eps = _real(label_smoothing, "label_smoothing")
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
    lam = _real(z_loss, "z_loss")
    if lam < 0.0:
        raise ValueError(f"z_loss must be >= 0, got {z_loss!r}")
    weight = None
    if class_weight is not None:
        weight = _as_float_array(class_weight, "class_weight").astype(np.float64, copy=False)
        if weight.shape != (n_classes,):
            raise ValueError(
                f"class_weight must have shape ({n_classes},) (one weight per class), "
                f"got {weight.shape}"
            )
        if not (np.isfinite(weight).all() and (weight >= 0).all()):
            raise ValueError("class_weight must be finite and >= 0")
    return reduction, cap, eps, lam, weight


def _real(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return value


def _shift_amount(shift: Any) -> int:
    if isinstance(shift, bool):
        return int(shift)
    if not isinstance(shift, numbers.Integral) or shift < 0:
        raise ValueError(f"shift must be a bool or an int >= 0, got {shift!r}")
    return int(shift)


def _options(
    targets: Any,
    token_shape: tuple[int, ...],
    n_classes: int,
    ignore_index: Any,
    shift: int,
    reduction: Any,
    softcap: Any,
    label_smoothing: Any,
    z_loss: Any,
    class_weight: Any,
    soft_dtype: Any = None,
) -> _engine.Options:
    """Validated options; ``targets`` flattened to one row per token (shifted, -1 = ignored).

    Float targets of shape token_shape + (n_classes,) are class probabilities (soft targets, as
    torch reads them), kept in ``soft_dtype``; with ``soft_dtype=None`` they are refused."""
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
    reduction, cap, eps, lam, weight = _check_options(
        reduction, softcap, label_smoothing, z_loss, class_weight, n_classes
    )
    if soft_dtype is not None and np.asarray(targets).dtype.kind == "f":
        return _soft_options(
            targets, token_shape, n_classes, shift, reduction, cap, eps, lam, weight, soft_dtype
        )
    t = _check_targets(targets, token_shape, n_classes, int(ignore_index))
    rows = np.where(t == ignore_index, -1, t)
    if shift:
        if len(token_shape) < 1 or token_shape[-1] <= shift:
            raise ValueError(
                f"shift={shift} needs a sequence axis longer than {shift}, got token shape "
                f"{token_shape}"
            )
        shifted = np.full_like(rows, -1)
        shifted[..., :-shift] = rows[..., shift:]
        rows = shifted
    rows = np.ascontiguousarray(rows.reshape(-1))
    if reduction == "mean" and not (rows >= 0).any():
        raise ValueError(
            f"all targets equal ignore_index={ignore_index}: the mean loss over no tokens is "
            "undefined"
        )
    return _engine.Options(
        targets=rows,
        n_classes=n_classes,
        reduction=reduction,
        softcap=cap,
        label_smoothing=eps,
        z_loss=lam,
        class_weight=weight,
    )


def _soft_options(
    targets: Any,
    token_shape: tuple[int, ...],
    n_classes: int,
    shift: int,
    reduction: str,
    cap: float,
    eps: float,
    lam: float,
    weight: np.ndarray | None,
    dtype: Any,
) -> _engine.Options:
    """Options for class-probability targets (no ignore_index: every token is scored)."""
    q = np.asarray(targets)
    expected = (*token_shape, n_classes)
    if q.shape != expected:
        raise ValueError(
            f"targets given as class probabilities (float) must have shape {expected}, "
            f"got {q.shape}"
        )
    if not np.isfinite(q).all() or (q < 0).any():
        raise ValueError("targets given as class probabilities must be finite and >= 0")
    n = int(np.prod(token_shape))
    valid = np.ones(token_shape, dtype=bool)
    if shift:
        if len(token_shape) < 1 or token_shape[-1] <= shift:
            raise ValueError(
                f"shift={shift} needs a sequence axis longer than {shift}, got token shape "
                f"{token_shape}"
            )
        shifted = np.zeros(expected, dtype=dtype)
        shifted[..., :-shift, :] = q[..., shift:, :]
        valid[..., -shift:] = False
        soft = shifted.reshape(n, n_classes)
    else:
        soft = np.ascontiguousarray(q.reshape(n, n_classes), dtype=dtype)
    return _engine.Options(
        targets=np.full(n, -1, dtype=np.int64),
        n_classes=n_classes,
        reduction=reduction,
        softcap=cap,
        label_smoothing=eps,
        z_loss=lam,
        class_weight=weight,
        soft=soft,
        soft_mass=_engine.Options.mass_of(soft, weight),
        soft_valid=valid.reshape(n),
    )


def _per_token(
    values: np.ndarray, token_shape: tuple[int, ...], shift: int, dtype: Any
) -> np.ndarray:
    """A per-row array back in the tokens' shape (dropping the last ``shift`` positions)."""
    out = values.reshape(token_shape)
    if shift:
        out = out[..., :-shift]
    return np.ascontiguousarray(out, dtype=dtype)


def _loss_value(
    stats: _engine.RowStats,
    opts: _engine.Options,
    token_shape: tuple[int, ...],
    shift: int,
    dtype: Any,
) -> float | np.ndarray:
    loss = _engine.reduce(stats, opts)
    if isinstance(loss, np.ndarray):
        return _per_token(loss, token_shape, shift, dtype)
    return float(loss)


@dataclass(frozen=True)
class _LinearProblem:
    """Validated inputs of :func:`linear_cross_entropy` (also used by ``infokit.torch``)."""

    e: np.ndarray  # (..., D), float32 or float64, C-contiguous
    c: np.ndarray  # (V, D), same dtype
    bias: np.ndarray | None
    opts: _engine.Options
    shift: int
    filter_eps: float | None
    token_shape: tuple[int, ...]


def _prepare_linear(
    embeddings: Any,
    classifier: Any,
    targets: Any,
    bias: Any,
    ignore_index: Any,
    reduction: Any,
    shift: Any,
    softcap: Any,
    label_smoothing: Any,
    z_loss: Any,
    class_weight: Any,
    strategy: Any,
    filter_eps: Any,
) -> _LinearProblem:
    e = _as_float_array(embeddings, "embeddings")
    c = _as_float_array(classifier, "classifier", ndim_min=2)
    if c.ndim != 2:
        raise ValueError(f"classifier must be 2-D (V, D), got shape {c.shape}")
    if e.shape[-1] != c.shape[1]:
        raise ValueError(
            f"embeddings and classifier must share the last dimension D, got embeddings "
            f"{e.shape} and classifier {c.shape}"
        )
    if c.shape[0] == 0:
        raise ValueError("classifier must have at least one class (row), got shape (0, D)")
    if e.dtype != c.dtype:  # mixed precision: compute in float64
        e, c = e.astype(np.float64), c.astype(np.float64)
    b = None
    if bias is not None:
        b = _as_float_array(bias, "bias").astype(e.dtype, copy=False)
        if b.shape != (c.shape[0],):
            raise ValueError(f"bias must have shape ({c.shape[0]},), got {b.shape}")
    check_choice(strategy, "strategy", STRATEGIES)
    eps_filter = None
    if filter_eps is not None:
        eps_filter = _real(filter_eps, "filter_eps")
        if eps_filter <= 0.0:
            raise ValueError(f"filter_eps must be None or > 0, got {filter_eps!r}")
    s = _shift_amount(shift)
    opts = _options(
        targets,
        e.shape[:-1],
        c.shape[0],
        ignore_index,
        s,
        reduction,
        softcap,
        label_smoothing,
        z_loss,
        class_weight,
        soft_dtype=e.dtype,
    )
    return _LinearProblem(
        e=e, c=c, bias=b, opts=opts, shift=s, filter_eps=eps_filter, token_shape=e.shape[:-1]
    )


# --- public functions -------------------------------------------------------------------------


def cross_entropy(
    logits: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    shift: bool | int = False,
    softcap: float | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    class_weight: npt.ArrayLike | None = None,
    grad: bool = False,
    return_entropy: bool = False,
    backend: str = "auto",
) -> CrossEntropyResult:
    """Cross-entropy of given logits against class indices, in one pass, with its gradient.

    With v = softcap(z), p = softmax(v), lse = log Σ_j e^{v_j}, the loss of a valid token with
    target y is (torch's conventions, see the module docstring)

        (1 − ε)·w_y·(lse − v_y) + (ε/K)·Σ_j w_j·(lse − v_j) + λ·lse²

    and its gradient is (a·p − b·e_y − c·w)·softcap′(z) with per-token scalars a, b, c.

    Parameters
    ----------
    logits : array_like, shape (..., K)
        Unnormalised log-probabilities, classes on the last axis.
    targets : array_like of int, shape (...), or of float, shape (..., K)
        Class indices in [0, K), or ``ignore_index``; or class probabilities (soft targets,
        see :func:`linear_cross_entropy`).
    ignore_index, reduction, shift, softcap, label_smoothing, z_loss, class_weight :
        As in :func:`linear_cross_entropy`.
    grad : bool
        Also return ∂loss/∂logits (a new array of the logits' shape and dtype).
    return_entropy : bool
        Also return the per-token entropy of softmax(v), in nats.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    CrossEntropyResult

    Notes
    -----
    Cost: one pass over the logits (two with ``grad``), O(N·K) time, O(N) extra memory without
    ``grad``. float32 logits are read as they are; sums accumulate in float64.
    """
    z = _as_float_array(logits, "logits")
    if z.shape[-1] == 0:
        raise ValueError(f"logits must have at least one class on the last axis, got {z.shape}")
    s = _shift_amount(shift)
    token_shape = z.shape[:-1]
    opts = _options(
        targets,
        token_shape,
        z.shape[-1],
        ignore_index,
        s,
        reduction,
        softcap,
        label_smoothing,
        z_loss,
        class_weight,
        soft_dtype=z.dtype,
    )
    flat = z.reshape(-1, z.shape[-1])
    stats, g = _engine.from_logits(flat, opts, bool(grad), backend)
    _engine.check_finite(stats.lse)
    return CrossEntropyResult(
        loss=_loss_value(stats, opts, token_shape, s, z.dtype),
        lse=_per_token(stats.lse, token_shape, s, z.dtype),
        entropy=_per_token(stats.entropy, token_shape, s, z.dtype) if return_entropy else None,
        grad_logits=None if g is None else g.reshape(z.shape),
    )


def linear_cross_entropy(
    embeddings: npt.ArrayLike,
    classifier: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    bias: npt.ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    shift: bool | int = False,
    softcap: float | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    class_weight: npt.ArrayLike | None = None,
    strategy: str = "auto",
    grad: bool = False,
    return_entropy: bool = False,
    filter_eps: float | None = None,
    backend: str = "auto",
) -> LinearCrossEntropyResult:
    """Cross-entropy of ``embeddings @ classifier.T + bias`` without holding the N×V logits.

    Identical to ``torch.nn.functional.cross_entropy`` on the materialised logits, for every
    option, with the extras ``softcap`` (c·tanh(z/c)), ``z_loss`` (λ·lse²) and ``shift``.

    Parameters
    ----------
    embeddings : array_like, shape (..., D)
        One embedding per token (e.g. (batch, time, D)).
    classifier : array_like, shape (V, D)
        The output layer (unembedding) weights.
    targets : array_like of int, shape (...), or of float, shape (..., V)
        Class indices in [0, V), or ``ignore_index``. Float targets are class probabilities q
        (soft targets, torch's probability targets; finite and >= 0, rows need not sum to 1):
        the loss is −Σ_j w_j·q'_j·log p_j with q' = (1 − ε)·q + ε/V, every token counts
        (``ignore_index`` does not apply) and "mean" divides by the number of tokens, as in
        torch. They are read tile by tile, in the embeddings' dtype.
    bias : array_like, shape (V,), optional
    ignore_index : int
        Tokens with this target contribute nothing (torch's default -100).
    reduction : {"mean", "sum", "none"}
        "mean" divides by Σ w_{y_i} over valid tokens (their number without class weights; the
        number of tokens with soft targets).
    shift : bool or int
        Score position t against target t + shift along the last token axis (True = 1), as in
        next-token prediction: the last ``shift`` positions drop out, without copying embeddings.
        Per-token outputs then have ``shift`` fewer positions; gradients keep the full shape.
    softcap : float, optional
        Logits become softcap·tanh(z/softcap) before the softmax.
    label_smoothing : float in [0, 1)
        torch's convention: the target distribution is (1 − ε)·e_y + ε/V.
    z_loss : float >= 0
        Adds λ·lse² per valid token (averaged over valid tokens under "mean").
    class_weight : array_like, shape (V,), optional
        torch's ``weight``: rescales each class, in the NLL and the smoothing term alike.
    strategy : {"auto", "vocab", "tokens"}
        "vocab": vocabulary tiles with an online log-sum-exp (Cut Cross-Entropy); extra memory
        O(N + tile) beside copies of the embeddings' size (see Notes); the backward recomputes
        each tile (about four GEMMs forward + backward).
        "tokens": token chunks against the whole vocabulary (Liger); the gradient is made in the
        forward while the chunk's logits are in memory (three GEMMs, extra memory O(chunk·V),
        chunks of at least 256 tokens, so about 190 MiB at V = 131072 in float32).
        "auto": "vocab", except "tokens" when ``grad=True`` and the tiles go through BLAS
        (float64, a CPU without AVX-512, the numpy backend or no compiled kernels): the faster
        of the two in each case (benchmarks/RESULTS.md, issue 4's section).
    grad : bool
        Also return the gradients with respect to embeddings, classifier and bias.
    return_entropy : bool
        Also return the per-token entropy of the predicted distribution (nats); it costs one
        more accumulator, no extra pass.
    filter_eps : float, optional
        Opt-in gradient filtering (P10): skip the two gradient GEMMs of a tile whose gradient
        entries are all below ``filter_eps`` in magnitude. Off by default (exact). Tiles are
        1024 classes by up to 4096 tokens through BLAS and by 128 tokens on the packed route
        (Notes), so what is skipped, and ``filtered_fraction``, depend on the route.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    LinearCrossEntropyResult

    Notes
    -----
    Cost: 2·N·V·D flops forward (one GEMM's worth), about 4× that forward + backward with
    "vocab", 3× with "tokens". "vocab" tiles hold 256 tokens × 1024 classes in the forward
    (cache-sized) and up to 4096 tokens × 1024 classes in the backward, whose second thread keeps
    its own copy of the embeddings' gradient (extra memory about 40 MiB + N·D); "tokens" chunks
    hold chunk·V ≈ 2²⁴ entries. With two or more threads the "vocab" tiles run as two fixed groups
    on two threads, each with its own BLAS calls and epilogue; results do not depend on the
    thread count. float32 inputs run float32 GEMMs with float64 accumulation of every per-token
    sum. On CPUs with AVX-512, float32 "vocab" tiles are multiplied by infokit's own packed
    kernel instead of BLAS (the packed route: each operand packed once and reused, logits and
    gradients made about 128 × 1024 at a time), because the OpenBLAS numpy ships runs only its
    AVX2 kernels on AVX-512 CPUs it does not know by name. Its extra memory: the embeddings
    packed twice and the second group's copy of their gradient (3·N·D floats with D rounded up
    to a multiple of 48) plus per-thread buffers of about 5 MiB + 8 KiB·D (forward: N·D floats
    plus one packed classifier tile per thread). Measured at N = 4096, D = 1024: 26 MiB
    forward, 75 MiB forward + backward beyond the gradients.
    """
    prep = _prepare_linear(
        embeddings, classifier, targets, bias, ignore_index, reduction, shift, softcap,
        label_smoothing, z_loss, class_weight, strategy, filter_eps,
    )  # fmt: skip
    e, c, b, opts, s, eps_filter = prep.e, prep.c, prep.bias, prep.opts, prep.shift, prep.filter_eps
    token_shape = prep.token_shape
    flat = e.reshape(-1, e.shape[-1])
    chosen = strategy if strategy != "auto" else _engine.auto_strategy(flat, bool(grad), backend)
    grads = None
    if chosen == "tokens":
        stats, grads = _engine.tokens_forward_backward(
            flat, c, b, opts, bool(grad), eps_filter, backend
        )
        _engine.check_finite(stats.lse)
    else:
        stats = _engine.vocab_forward(flat, c, b, opts, backend)
        _engine.check_finite(stats.lse)
        if grad:
            grads = _engine.vocab_backward(flat, c, b, opts, stats.lse, 1.0, eps_filter, backend)
    dtype = e.dtype
    return LinearCrossEntropyResult(
        loss=_loss_value(stats, opts, token_shape, s, dtype),
        lse=_per_token(stats.lse, token_shape, s, dtype),
        entropy=_per_token(stats.entropy, token_shape, s, dtype) if return_entropy else None,
        grad_embeddings=None if grads is None else grads.embeddings.reshape(e.shape),
        grad_classifier=None if grads is None else grads.classifier,
        grad_bias=None if grads is None else grads.bias,
        strategy=chosen,
        filtered_fraction=0.0 if grads is None else grads.filtered_fraction,
    )


def token_entropy(
    logits: npt.ArrayLike, *, base: float | None = None, backend: str = "auto"
) -> float | np.ndarray:
    """Entropy of softmax(logits) per token: H = lse − Σ_j p_j z_j.

    Parameters
    ----------
    logits : array_like, shape (..., K)
    base : None (nats) or the logarithm base (2 for bits)
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    float for a single row (1-D logits), else an ndarray of shape logits.shape[:-1] (float64).

    Notes
    -----
    One pass, O(N·K), with the online accumulators (m, Σe^{z−m}, Σe^{z−m}(z−m)) in float64.
    """
    b = check_base(base)
    z = _as_float_array(logits, "logits")
    if z.shape[-1] == 0:
        raise ValueError(f"logits must have at least one class on the last axis, got {z.shape}")
    flat = z.reshape(-1, z.shape[-1])
    opts = _engine.Options(
        targets=np.full(flat.shape[0], -1, dtype=np.int64),
        n_classes=z.shape[-1],
        reduction="none",
        softcap=0.0,
        label_smoothing=0.0,
        z_loss=0.0,
        class_weight=None,
    )
    stats, _ = _engine.from_logits(flat, opts, False, backend)
    _engine.check_finite(stats.lse)
    h = to_base(stats.entropy.reshape(z.shape[:-1]), b)
    return float(h) if z.ndim == 1 else np.asarray(h, dtype=np.float64)


def _sequence_terms(
    logits: Any,
    targets: Any,
    embeddings: Any,
    classifier: Any,
    bias: Any,
    mask: Any,
    ignore_index: int,
    backend: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """Per-token NLL and entropy (float64), the mask of scored tokens, and the token shape."""
    if (logits is None) == (embeddings is None or classifier is None):
        raise ValueError("pass either logits, or embeddings and classifier (not both, not neither)")
    if logits is not None:
        z = _as_float_array(logits, "logits")
        token_shape, n_classes = z.shape[:-1], z.shape[-1]
    else:
        e = _as_float_array(embeddings, "embeddings")
        token_shape, n_classes = e.shape[:-1], np.shape(classifier)[0]
    if not token_shape:
        raise ValueError("need at least one token: logits/embeddings must be at least 2-D")
    if mask is None:
        keep = np.ones(token_shape, dtype=bool)
    else:
        keep = np.asarray(mask)
        if keep.dtype != np.bool_:
            raise TypeError(f"mask must be a boolean array, got dtype {keep.dtype}")
        if keep.shape != token_shape:
            raise ValueError(f"mask must have shape {token_shape}, got {keep.shape}")
    t = np.asarray(targets)
    if t.dtype.kind in "iu" and t.shape == token_shape:
        keep = keep & (t != ignore_index)
    if logits is not None:
        res = cross_entropy(
            logits,
            targets,
            ignore_index=ignore_index,
            reduction="none",
            return_entropy=True,
            backend=backend,
        )
    else:
        res_l = linear_cross_entropy(
            embeddings,
            classifier,
            targets,
            bias=bias,
            ignore_index=ignore_index,
            reduction="none",
            return_entropy=True,
            strategy="vocab",
            backend=backend,
        )
        res = CrossEntropyResult(loss=res_l.loss, lse=res_l.lse, entropy=res_l.entropy)
    assert isinstance(res.loss, np.ndarray) and res.entropy is not None
    del n_classes
    return (
        res.loss.astype(np.float64),
        res.entropy.astype(np.float64),
        keep,
        token_shape,
    )


def _per_sequence_mean(values: np.ndarray, keep: np.ndarray, name: str) -> float | np.ndarray:
    counts = keep.sum(axis=-1)
    if (counts == 0).any():
        raise ValueError(f"{name}: a sequence has no scored tokens (all masked or ignored)")
    means = np.where(keep, values, 0.0).sum(axis=-1) / counts
    return float(means) if np.ndim(means) == 0 else np.asarray(means, dtype=np.float64)


def log_perplexity(
    logits: npt.ArrayLike | None = None,
    targets: npt.ArrayLike | None = None,
    *,
    embeddings: npt.ArrayLike | None = None,
    classifier: npt.ArrayLike | None = None,
    bias: npt.ArrayLike | None = None,
    mask: npt.ArrayLike | None = None,
    ignore_index: int = -100,
    base: float | None = None,
    backend: str = "auto",
) -> float | np.ndarray:
    """Log-perplexity per sequence: (1/n) Σ_t −log p(x_t | x_<t) over the scored tokens.

    Parameters
    ----------
    logits : array_like, shape (..., T, K), or None when embeddings and classifier are given
    targets : array_like of int, shape (..., T)
        The observed tokens (aligned with the logits: no shift is applied).
    embeddings, classifier, bias :
        Alternatively, logits = embeddings @ classifier.T + bias, never materialised.
    mask : array_like of bool, shape (..., T), optional
        Tokens to score (ignored targets are never scored).
    base : None (nats) or the logarithm base
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    float for one sequence (shape (T, K)), else an ndarray over the leading axes.

    Notes
    -----
    One pass over the logits (one GEMM's worth of work from embeddings); O(N) memory.
    """
    b = check_base(base)
    nll, _, keep, _ = _sequence_terms(
        logits, targets, embeddings, classifier, bias, mask, ignore_index, backend
    )
    out = _per_sequence_mean(nll, keep, "log_perplexity")
    return to_base(out, b)


def detection_statistic(
    logits: npt.ArrayLike | None = None,
    targets: npt.ArrayLike | None = None,
    *,
    embeddings: npt.ArrayLike | None = None,
    classifier: npt.ArrayLike | None = None,
    bias: npt.ArrayLike | None = None,
    mask: npt.ArrayLike | None = None,
    ignore_index: int = -100,
    base: float | None = None,
    backend: str = "auto",
) -> float | np.ndarray:
    """Log-perplexity minus mean token entropy per sequence, the test statistic of P58.

    For a string x_1..x_n scored by model A:  (1/n) Σ_t [−log p_A(x_t | x_<t) − H(p_A(· | x_<t))].
    Under A's own generations it concentrates at 0 (exponentially fast in n); under text from
    another source B it concentrates at the mean of the cross-entropy minus entropy (a KL-like
    gap), which is what the test thresholds.

    Parameters and returns as in :func:`log_perplexity`.

    References
    ----------
    P58: "Zero-Shot Statistical Tests for LLM-Generated Text Detection using Finite Sample
    Concentration Inequalities".
    """
    b = check_base(base)
    nll, ent, keep, _ = _sequence_terms(
        logits, targets, embeddings, classifier, bias, mask, ignore_index, backend
    )
    out = _per_sequence_mean(nll - ent, keep, "detection_statistic")
    return to_base(out, b)


# The loss families live in their own file; they are part of this module's public surface.
from ._losses_binary import TriBCEResult, tri_bce_loss  # noqa: E402
from ._losses_families import (  # noqa: E402
    AdaptiveLossResult,
    AdversarialLossResult,
    LossResult,
    aldr_kl_loss,
    attention_entropy,
    bias_loss,
    comp_sum_loss,
    focal_loss,
    generalized_cross_entropy,
    histogram_mean,
    hl_gauss_targets,
    ldr_kl_loss,
    smooth_adversarial_comp_sum_loss,
    soft_cross_entropy,
    two_hot_targets,
)
