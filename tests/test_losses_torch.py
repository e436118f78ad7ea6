"""infokit.torch: the autograd adapter over the cross-entropy engine (gradcheck in float64)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from infokit.torch import LinearCrossEntropy, linear_cross_entropy  # noqa: E402


def _inputs(dtype: Any = torch.float64, batch: tuple[int, ...] = (7,)) -> dict[str, Any]:
    g = torch.Generator().manual_seed(0)
    v, d = 11, 4
    targets = torch.randint(0, v, batch, generator=g)
    targets.view(-1)[::3] = -100
    return {
        "e": torch.randn(*batch, d, generator=g, dtype=dtype, requires_grad=True),
        "c": torch.randn(v, d, generator=g, dtype=dtype, requires_grad=True),
        "bias": torch.randn(v, generator=g, dtype=dtype, requires_grad=True),
        "targets": targets,
        "weight": torch.rand(v, generator=g, dtype=torch.float64) + 0.5,
    }


@pytest.mark.parametrize(
    ("reduction", "strategy"), [("mean", "auto"), ("sum", "vocab"), ("none", "tokens")]
)
def test_gradcheck_every_option(reduction: str, strategy: str) -> None:
    x = _inputs()
    options = {
        "reduction": reduction,
        "strategy": strategy,
        "softcap": 2.0,
        "label_smoothing": 0.1,
        "z_loss": 1e-2,
        "class_weight": x["weight"],
    }

    def f(e: Any, c: Any, b: Any) -> Any:
        return linear_cross_entropy(e, c, x["targets"], bias=b, **options)

    assert torch.autograd.gradcheck(f, (x["e"], x["c"], x["bias"]))


def test_gradcheck_shifted_sequences_per_token() -> None:
    x = _inputs(batch=(2, 5))

    def f(e: Any, c: Any) -> Any:
        return linear_cross_entropy(e, c, x["targets"], shift=True, reduction="none")

    out = f(x["e"], x["c"])
    assert out.shape == (2, 4)
    assert torch.autograd.gradcheck(f, (x["e"], x["c"]))


def test_matches_torch_cross_entropy_float32() -> None:
    x = _inputs(dtype=torch.float32)
    loss = linear_cross_entropy(x["e"], x["c"], x["targets"], bias=x["bias"])
    loss.backward()
    grads = [x["e"].grad.clone(), x["c"].grad.clone(), x["bias"].grad.clone()]
    for t in (x["e"], x["c"], x["bias"]):
        t.grad = None
    ref = torch.nn.functional.cross_entropy(x["e"] @ x["c"].T + x["bias"], x["targets"])
    ref.backward()
    assert loss.dtype == torch.float32
    assert float(loss.detach()) == pytest.approx(float(ref.detach()), rel=1e-6)
    for got, t in zip(grads, (x["e"], x["c"], x["bias"]), strict=True):
        np.testing.assert_allclose(got.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_function_class_and_errors() -> None:
    assert issubclass(LinearCrossEntropy, torch.autograd.Function)
    x = _inputs()
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        linear_cross_entropy(x["e"], x["c"], x["targets"], label_smoothing=1.5)
    with pytest.raises(ValueError, match="share the last dimension D"):
        linear_cross_entropy(x["e"], x["c"][:, :2], x["targets"])
