"""Soft targets (class probabilities) in infokit.losses: against torch autograd on the
materialised logits (float64), the hard-target path, the numpy twin, dtypes, threads, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from loss_checks import OPTION_SETS, assert_rel

import infokit
from infokit import _backend, _losses_engine, losses


def _problem(seed: int = 0, n: int = 37, d: int = 6, v: int = 53) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.full(v, 0.3), size=n)
    q[::5] *= 0.7  # rows need not sum to 1 (torch does not ask them to)
    return {
        "e": 2.0 * rng.normal(size=(n, d)),
        "c": rng.normal(size=(v, d)),
        "bias": rng.normal(size=v),
        "q": q,
        "weight": rng.uniform(0.2, 2.0, v),
    }


def _torch_reference(
    e: np.ndarray,
    c: np.ndarray,
    bias: np.ndarray | None,
    q: np.ndarray,
    *,
    weight: np.ndarray | None,
    smoothing: float,
    softcap: float | None,
    z_loss: float,
    reduction: str,
) -> dict[str, np.ndarray]:
    """torch's F.cross_entropy with probability targets on the materialised logits."""
    torch = pytest.importorskip("torch")
    et = torch.tensor(e, requires_grad=True)
    ct = torch.tensor(c, requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True) if bias is not None else None
    z = et @ ct.T
    if bt is not None:
        z = z + bt
    if softcap is not None:
        z = softcap * torch.tanh(z / softcap)
    z2 = z.reshape(-1, z.shape[-1])
    loss = torch.nn.functional.cross_entropy(
        z2,
        torch.tensor(q).reshape(z2.shape),
        weight=None if weight is None else torch.tensor(weight),
        label_smoothing=smoothing,
        reduction=reduction,
    )
    lse = torch.logsumexp(z2, dim=-1)
    if z_loss:
        per_token = z_loss * lse**2
        loss = (
            loss + {"none": per_token, "sum": per_token.sum(), "mean": per_token.mean()}[reduction]
        )
    loss.sum().backward()
    out = {
        "loss": loss.detach().numpy().reshape(q.shape[:-1] if reduction == "none" else ()),
        "lse": lse.detach().numpy().reshape(q.shape[:-1]),
        "de": et.grad.numpy(),
        "dc": ct.grad.numpy(),
    }
    if bt is not None:
        out["db"] = bt.grad.numpy()
    return out


@pytest.mark.parametrize("strategy", ["vocab", "tokens"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", OPTION_SETS)
def test_linear_soft_targets_match_torch(
    backend: str, small_tiles: None, strategy: str, reduction: str, options: dict[str, Any]
) -> None:
    p = _problem()
    weight = p["weight"] if options["weight"] else None
    expected = _torch_reference(
        p["e"], p["c"], p["bias"], p["q"], weight=weight, smoothing=options["smoothing"],
        softcap=options["softcap"], z_loss=options["z_loss"], reduction=reduction,
    )  # fmt: skip
    got = losses.linear_cross_entropy(
        p["e"], p["c"], p["q"], bias=p["bias"], class_weight=weight,
        label_smoothing=options["smoothing"], softcap=options["softcap"],
        z_loss=options["z_loss"], reduction=reduction, strategy=strategy, grad=True,
    )  # fmt: skip
    assert_rel(got.loss, expected["loss"])
    assert_rel(got.lse, expected["lse"])
    assert_rel(got.grad_embeddings, expected["de"])
    assert_rel(got.grad_classifier, expected["dc"])
    assert_rel(got.grad_bias, expected["db"])


def test_cross_entropy_logits_soft_targets_match_torch(backend: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    z = 3.0 * rng.normal(size=(4, 6, 11))
    q = rng.dirichlet(np.ones(11), size=(4, 6))
    weight = rng.uniform(0.5, 1.5, 11)
    zt = torch.tensor(z, requires_grad=True)
    zc = 4.0 * torch.tanh(zt / 4.0)
    loss = torch.nn.functional.cross_entropy(
        zc.reshape(-1, 11), torch.tensor(q).reshape(-1, 11), weight=torch.tensor(weight),
        label_smoothing=0.15,
    )  # fmt: skip
    loss.backward()
    got = losses.cross_entropy(
        z, q, softcap=4.0, class_weight=weight, label_smoothing=0.15, grad=True
    )
    assert_rel(got.loss, loss.detach().numpy())
    assert_rel(got.grad_logits, zt.grad.numpy())


@pytest.mark.parametrize("strategy", ["vocab", "tokens"])
def test_soft_shift_matches_torch_on_the_shifted_problem(
    backend: str, small_tiles: None, strategy: str
) -> None:
    rng = np.random.default_rng(3)
    e = rng.normal(size=(3, 9, 5))
    c = rng.normal(size=(40, 5))
    q = rng.dirichlet(np.ones(40), size=(3, 9))
    # shift=1 scores position t against q[t + 1]; the last position drops out
    expected = _torch_reference(
        e[:, :-1], c, None, q[:, 1:], weight=None, smoothing=0.05, softcap=None, z_loss=1e-3,
        reduction="mean",
    )  # fmt: skip
    got = losses.linear_cross_entropy(
        e, c, q, shift=True, label_smoothing=0.05, z_loss=1e-3, strategy=strategy, grad=True
    )
    assert_rel(got.loss, expected["loss"])
    assert got.lse.shape == (3, 8)
    assert got.grad_embeddings is not None
    assert_rel(got.grad_embeddings[:, :-1], expected["de"])
    assert not got.grad_embeddings[:, -1].any()  # the dropped positions get no gradient
    assert_rel(got.grad_classifier, expected["dc"])


@pytest.mark.parametrize("strategy", ["vocab", "tokens"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_one_hot_soft_targets_equal_hard_targets(
    backend: str, small_tiles: None, strategy: str, reduction: str
) -> None:
    p = _problem(1)
    rng = np.random.default_rng(1)
    t = rng.integers(0, 53, 37)
    one_hot = np.eye(53)[t]
    kw: dict[str, Any] = {
        "bias": p["bias"], "label_smoothing": 0.1, "softcap": 5.0, "z_loss": 1e-3,
        "reduction": reduction, "strategy": strategy, "grad": True, "return_entropy": True,
    }  # fmt: skip
    soft = losses.linear_cross_entropy(p["e"], p["c"], one_hot, **kw)
    hard = losses.linear_cross_entropy(p["e"], p["c"], t, **kw)
    assert_rel(soft.loss, np.asarray(hard.loss), rtol=1e-13)
    assert_rel(soft.entropy, hard.entropy, rtol=1e-13)  # type: ignore[arg-type]
    assert_rel(soft.grad_embeddings, hard.grad_embeddings, rtol=1e-13)  # type: ignore[arg-type]
    assert_rel(soft.grad_classifier, hard.grad_classifier, rtol=1e-13)  # type: ignore[arg-type]
    assert_rel(soft.grad_bias, hard.grad_bias, rtol=1e-13)  # type: ignore[arg-type]


def test_soft_gradient_rows_and_shift_invariance(backend: str) -> None:
    """With rows of q summing to 1 the logits' gradient rows sum to 0, and adding a constant to
    a row of logits changes nothing."""
    rng = np.random.default_rng(9)
    z = rng.normal(size=(8, 12))
    q = rng.dirichlet(np.ones(12), size=8)
    a = losses.cross_entropy(z, q, reduction="none", grad=True)
    b = losses.cross_entropy(z + rng.normal(size=(8, 1)) * 10, q, reduction="none", grad=True)
    assert a.grad_logits is not None and b.grad_logits is not None
    np.testing.assert_allclose(a.grad_logits.sum(-1), 0.0, atol=1e-15)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-12)
    np.testing.assert_allclose(a.grad_logits, b.grad_logits, atol=1e-14)


@pytest.mark.skipif("cpp" not in _backend.available_backends(), reason="needs the compiled build")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("softcap", [0.0, 2.0])
def test_soft_kernels_match_twin(dtype: Any, softcap: float) -> None:
    from infokit._reference import losses as ref_kernels

    core = _backend.compiled("_core")
    assert core is not None
    rng = np.random.default_rng(11)
    rows, cols, col0, v = 9, 13, 20, 40
    z = (3.0 * rng.normal(size=(rows, cols))).astype(dtype)
    targets = np.full(rows, -1, dtype=np.int64)
    bias = rng.normal(size=v).astype(dtype)
    weight = rng.uniform(0.1, 2.0, v)
    soft = rng.dirichlet(np.ones(v), size=rows).astype(dtype)
    start = _losses_engine.new_state(rows)
    start[:, :] = [0.5, 2.0, 0.3, 1.0, 0.25]  # an earlier tile already folded in
    lse = rng.normal(size=rows) + 3.0
    coef = rng.uniform(0.1, 1.0, (rows, 3))
    outputs = []
    for module in (core, ref_kernels):
        state = start.copy()
        zc = z.copy()
        module.losses_row_stats(
            zc, col0, targets, bias, weight, softcap, False, state, 2, soft=soft
        )
        dbias = np.zeros(v)
        largest = module.losses_softmax_grad(
            zc, col0, targets, bias, weight, softcap, False, lse, coef, dbias, 2, soft=soft
        )
        outputs.append((state, zc, dbias, largest))
    tol = 1e-5 if dtype == np.float32 else 1e-13
    (s1, g1, d1, m1), (s2, g2, d2, m2) = outputs
    np.testing.assert_allclose(s1, s2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=tol, atol=tol)
    np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=1e-14)
    assert m1 == pytest.approx(m2, rel=tol)
    with pytest.raises(ValueError, match="soft must be at least col0 \\+ cols = 33 wide"):
        core.losses_row_stats(
            z, col0, targets, bias, weight, softcap, False, start.copy(), 1, soft=soft[:, :30]
        )
    with pytest.raises(ValueError, match="soft must be an array of"):
        other = np.float64 if dtype == np.float32 else np.float32
        core.losses_softmax_grad(
            z.copy(), col0, targets, bias, weight, softcap, False, lse, coef, None, 1,
            soft=soft.astype(other),
        )  # fmt: skip


@pytest.mark.parametrize("strategy", ["vocab", "tokens"])
def test_soft_float32_threads_and_layouts(backend: str, small_tiles: None, strategy: str) -> None:
    p = _problem(2)
    e32, c32 = p["e"].astype(np.float32), p["c"].astype(np.float32)
    q_reversed = np.ascontiguousarray(p["q"][:, ::-1])[:, ::-1]  # non-contiguous view
    q_reversed.flags.writeable = False
    kw: dict[str, Any] = {"label_smoothing": 0.1, "strategy": strategy, "grad": True}
    with infokit.threads(1):
        one = losses.linear_cross_entropy(e32, c32, q_reversed.astype(np.float32), **kw)
    with infokit.threads(2):
        two = losses.linear_cross_entropy(e32, c32, q_reversed.astype(np.float32), **kw)
    assert isinstance(one.loss, float) and one.grad_embeddings is not None
    assert one.lse.dtype == np.float32 and one.grad_embeddings.dtype == np.float32
    assert one.loss == two.loss
    np.testing.assert_array_equal(one.grad_embeddings, two.grad_embeddings)
    exact = losses.linear_cross_entropy(p["e"], p["c"], q_reversed, **kw)
    assert one.loss == pytest.approx(exact.loss, rel=1e-5)
    assert exact.grad_classifier is not None and one.grad_classifier is not None
    np.testing.assert_allclose(one.grad_classifier, exact.grad_classifier, rtol=1e-3, atol=1e-5)


def test_soft_target_bad_input() -> None:
    p = _problem()
    e, c, q = p["e"], p["c"], p["q"]
    lce = losses.linear_cross_entropy
    with pytest.raises(ValueError, match=r"must have shape \(37, 53\), got \(37, 52\)"):
        lce(e, c, q[:, :-1])
    bad = q.copy()
    bad[3, 4] = -0.1
    with pytest.raises(ValueError, match="class probabilities must be finite and >= 0"):
        lce(e, c, bad)
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="class probabilities must be finite and >= 0"):
        losses.cross_entropy(e @ c.T, bad)
    with pytest.raises(ValueError, match="shift=1 needs a sequence axis longer than 1"):
        lce(e[:1], c, q[:1], shift=True)
    with pytest.raises(TypeError, match="targets must be an array of integer class indices"):
        losses.focal_loss(e @ c.T, q)  # the families take class indices only


@pytest.mark.parametrize(("reduction", "strategy"), [("mean", "auto"), ("none", "vocab")])
def test_torch_adapter_gradcheck_with_soft_targets(reduction: str, strategy: str) -> None:
    torch = pytest.importorskip("torch")
    from infokit.torch import linear_cross_entropy

    g = torch.Generator().manual_seed(1)
    e = torch.randn(2, 5, 4, generator=g, dtype=torch.float64, requires_grad=True)
    c = torch.randn(9, 4, generator=g, dtype=torch.float64, requires_grad=True)
    q = torch.softmax(torch.randn(2, 5, 9, generator=g, dtype=torch.float64), -1)

    def f(e: Any, c: Any) -> Any:
        return linear_cross_entropy(
            e, c, q, shift=True, softcap=3.0, label_smoothing=0.1, reduction=reduction,
            strategy=strategy,
        )  # fmt: skip

    assert torch.autograd.gradcheck(f, (e, c))


@pytest.mark.parametrize("soft", [False, True])
def test_few_tokens_split_the_vocabulary(backend: str, small_tiles: None, soft: bool) -> None:
    """Fewer token blocks than groups: the forward splits the vocabulary, one state per group,
    merged afterwards; still torch's numbers, and the same on one and two threads."""
    p = _problem(4, n=5)
    rng = np.random.default_rng(4)
    targets = p["q"] if soft else rng.integers(0, 53, 5)
    if soft:
        expected = _torch_reference(
            p["e"], p["c"], p["bias"], p["q"], weight=p["weight"], smoothing=0.1, softcap=3.0,
            z_loss=1e-2, reduction="sum",
        )  # fmt: skip
    else:
        torch = pytest.importorskip("torch")
        z = torch.tensor(p["e"] @ p["c"].T + p["bias"])
        z = 3.0 * torch.tanh(z / 3.0)
        ce = torch.nn.functional.cross_entropy(
            z, torch.tensor(targets), weight=torch.tensor(p["weight"]), label_smoothing=0.1,
            reduction="sum",
        )  # fmt: skip
        expected = {"loss": (ce + 1e-2 * (torch.logsumexp(z, -1) ** 2).sum()).numpy()}
    kw: dict[str, Any] = {
        "bias": p["bias"], "class_weight": p["weight"], "label_smoothing": 0.1, "softcap": 3.0,
        "z_loss": 1e-2, "reduction": "sum", "strategy": "vocab", "return_entropy": True,
    }  # fmt: skip
    with infokit.threads(1):
        one = losses.linear_cross_entropy(p["e"], p["c"], targets, **kw)
    with infokit.threads(2):
        two = losses.linear_cross_entropy(p["e"], p["c"], targets, **kw)
    assert_rel(one.loss, expected["loss"])
    assert one.loss == two.loss
    np.testing.assert_array_equal(one.entropy, two.entropy)  # type: ignore[arg-type]


def test_merge_state_equals_one_pass() -> None:
    rng = np.random.default_rng(8)
    z = 5.0 * rng.normal(size=(6, 30))
    z[0, :20] = -np.inf  # a row whose first group sees no finite logit
    t = rng.integers(0, 30, 6)
    from infokit._reference import losses as ref_kernels

    whole = _losses_engine.new_state(6)
    ref_kernels.losses_row_stats(z, 0, t, None, None, 0.0, False, whole)
    left, right = _losses_engine.new_state(6), _losses_engine.new_state(6)
    ref_kernels.losses_row_stats(z[:, :20].copy(), 0, t, None, None, 0.0, False, left)
    ref_kernels.losses_row_stats(z[:, 20:].copy(), 20, t, None, None, 0.0, False, right)
    _losses_engine.merge_state(left, right)
    np.testing.assert_allclose(left[:, 1:], whole[:, 1:], rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(left[:, 0], whole[:, 0])
