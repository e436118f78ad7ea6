"""torch adapter: :func:`linear_cross_entropy` as a differentiable torch op on CPU tensors.

torch is imported on first use, never by ``import infokit``. The op runs infokit's engine
(:func:`infokit.losses.linear_cross_entropy`) on the tensors' memory, so the N×V logits are never
materialised, and plugs its gradients into autograd::

    from infokit.torch import linear_cross_entropy
    loss = linear_cross_entropy(hidden, lm_head.weight, targets, shift=True)
    loss.backward()

With ``reduction="mean"`` or ``"sum"`` and ``strategy="tokens"`` (or "auto" where it picks
"tokens", see :func:`infokit.losses.linear_cross_entropy`) the gradients are made in the forward
(three GEMMs) and the backward only scales them by the incoming gradient. Otherwise the forward
keeps only the per-token log-sum-exp and the backward recomputes the logits tile by tile (Cut
Cross-Entropy's order).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from . import _losses_engine as _engine
from . import losses as _losses

__all__ = ["LinearCrossEntropy", "linear_cross_entropy"]  # noqa: F822 (module __getattr__)


def _numpy(t: Any) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().numpy()


@functools.cache
def _function_class() -> Any:
    import torch

    class LinearCrossEntropyFunction(torch.autograd.Function):
        """autograd.Function over infokit's engine (see the module docstring)."""

        @staticmethod
        def forward(
            ctx: Any,
            embeddings: Any,
            classifier: Any,
            bias: Any,
            targets: Any,
            options: dict[str, Any],
        ) -> Any:
            for name, t in (("embeddings", embeddings), ("classifier", classifier)):
                if t.device.type != "cpu":
                    raise ValueError(f"{name} must be a CPU tensor, got device {t.device}")
            prep = _losses._prepare_linear(
                _numpy(embeddings),
                _numpy(classifier),
                _numpy(targets),
                _numpy(bias),
                options["ignore_index"],
                options["reduction"],
                options["shift"],
                options["softcap"],
                options["label_smoothing"],
                options["z_loss"],
                None if options["class_weight"] is None else _numpy(options["class_weight"]),
                options["strategy"],
                None,
            )
            flat = prep.e.reshape(-1, prep.e.shape[-1])
            wants_grad = any(ctx.needs_input_grad[:3])
            strategy = options["strategy"]
            if strategy == "auto":
                strategy = _engine.auto_strategy(flat, wants_grad, "auto")
            early = wants_grad and prep.opts.reduction != "none" and strategy == "tokens"
            if early:
                stats, grads = _engine.tokens_forward_backward(
                    flat, prep.c, prep.bias, prep.opts, True, None, "auto"
                )
            else:
                stats, grads = (
                    _engine.vocab_forward(flat, prep.c, prep.bias, prep.opts, "auto"),
                    None,
                )
            _engine.check_finite(stats.lse)
            ctx.prep, ctx.grads, ctx.lse = prep, grads, stats.lse
            loss = _losses._loss_value(stats, prep.opts, prep.token_shape, prep.shift, prep.e.dtype)
            return torch.as_tensor(np.asarray(loss, dtype=prep.e.dtype))

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            prep: _losses._LinearProblem = ctx.prep
            go = grad_output.detach().cpu().numpy().astype(np.float64)
            grads = ctx.grads
            if grads is None:
                if prep.opts.reduction == "none":  # per-token grad_output back to one per row
                    rows = np.zeros(prep.token_shape)
                    if prep.shift:
                        rows[..., : -prep.shift] = go
                    else:
                        rows[...] = go
                    scale: Any = rows.reshape(-1)
                else:
                    scale = float(go)
                flat = prep.e.reshape(-1, prep.e.shape[-1])
                grads = _engine.vocab_backward(
                    flat, prep.c, prep.bias, prep.opts, ctx.lse, scale, None, "auto"
                )
                factor = 1.0
            else:
                factor = float(go)
            de = torch.from_numpy(grads.embeddings.reshape(prep.e.shape) * factor)
            dc = torch.from_numpy(grads.classifier * factor)
            db = None if grads.bias is None else torch.from_numpy(grads.bias * factor)
            return de, dc, db, None, None

    return LinearCrossEntropyFunction


def __getattr__(name: str) -> Any:
    if (
        name == "LinearCrossEntropy"
    ):  # the autograd.Function class, built when torch is first needed
        return _function_class()
    raise AttributeError(f"module 'infokit.torch' has no attribute {name!r}")


def linear_cross_entropy(
    embeddings: Any,
    classifier: Any,
    targets: Any,
    *,
    bias: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    shift: bool | int = False,
    softcap: float | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    class_weight: Any = None,
    strategy: str = "auto",
) -> Any:
    """Cross-entropy of ``embeddings @ classifier.T + bias`` as a differentiable torch tensor.

    Same options and semantics as :func:`infokit.losses.linear_cross_entropy` (which equals
    ``torch.nn.functional.cross_entropy`` on the materialised logits); CPU tensors, float32 or
    float64. Returns a 0-d tensor, or per-token losses for ``reduction="none"``. ``targets`` are
    class indices, or class probabilities of shape (..., V) (soft targets, held constant: no
    gradient flows to them).
    """
    options = {
        "ignore_index": ignore_index,
        "reduction": reduction,
        "shift": shift,
        "softcap": softcap,
        "label_smoothing": label_smoothing,
        "z_loss": z_loss,
        "class_weight": class_weight,
        "strategy": strategy,
    }
    return _function_class().apply(embeddings, classifier, bias, targets, options)
