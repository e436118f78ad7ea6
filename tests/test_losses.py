"""infokit.losses: the cross-entropy engine against torch autograd, the numpy twin, closed forms,
properties, dtypes, layouts, threads and bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from loss_checks import OPTION_SETS, assert_rel, filtering_problem

import infokit
from infokit import _backend, _losses_engine, losses
from infokit._reference import losses as ref_kernels


def _problem(
    seed: int = 0, n: int = 37, d: int = 6, v: int = 53, dtype: Any = np.float64
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, v, n)
    targets[::7] = -100
    return {
        "e": (2.0 * rng.normal(size=(n, d))).astype(dtype),
        "c": rng.normal(size=(v, d)).astype(dtype),
        "bias": rng.normal(size=v).astype(dtype),
        "targets": targets,
        "weight": rng.uniform(0.2, 2.0, v),
    }


# --- torch on the materialised logits (float64 autograd) ---------------------------------------


def _torch_reference(
    e: np.ndarray,
    c: np.ndarray,
    bias: np.ndarray | None,
    targets: np.ndarray,
    *,
    weight: np.ndarray | None,
    smoothing: float,
    softcap: float | None,
    z_loss: float,
    reduction: str,
    shift: int = 0,
) -> dict[str, np.ndarray]:
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    et = torch.tensor(e, dtype=torch.float64, requires_grad=True)
    ct = torch.tensor(c, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(bias, dtype=torch.float64, requires_grad=True) if bias is not None else None
    z = et @ ct.T
    if bt is not None:
        z = z + bt
    if softcap is not None:
        z = softcap * torch.tanh(z / softcap)
    t = torch.tensor(targets)
    if shift:
        z, t = z[..., :-shift, :], t[..., shift:]
    z2, t2 = z.reshape(-1, z.shape[-1]), t.reshape(-1)
    loss = f.cross_entropy(
        z2,
        t2,
        weight=None if weight is None else torch.tensor(weight),
        label_smoothing=smoothing,
        reduction=reduction,
    )
    lse = torch.logsumexp(z2, dim=-1)
    valid = t2 != -100
    if z_loss:
        per_token = z_loss * lse**2 * valid
        if reduction == "none":
            loss = loss + per_token
        elif reduction == "sum":
            loss = loss + per_token.sum()
        else:
            loss = loss + per_token.sum() / valid.sum()
    loss.sum().backward()
    entropy = -(torch.softmax(z2, -1) * torch.log_softmax(z2, -1)).sum(-1)
    out = {
        "loss": loss.detach().numpy().reshape(t.shape if reduction == "none" else ()),
        "lse": lse.detach().numpy().reshape(t.shape),
        "entropy": entropy.detach().numpy().reshape(t.shape),
        "de": et.grad.numpy(),
        "dc": ct.grad.numpy(),
    }
    if bt is not None:
        out["db"] = bt.grad.numpy()
    return out


@pytest.mark.parametrize("strategy", ["vocab", "tokens"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", OPTION_SETS)
def test_linear_matches_torch(
    backend: str, small_tiles: None, strategy: str, reduction: str, options: dict[str, Any]
) -> None:
    p = _problem()
    weight = p["weight"] if options["weight"] else None
    expected = _torch_reference(
        p["e"], p["c"], p["bias"], p["targets"], weight=weight, smoothing=options["smoothing"],
        softcap=options["softcap"], z_loss=options["z_loss"], reduction=reduction,
    )  # fmt: skip
    got = losses.linear_cross_entropy(
        p["e"], p["c"], p["targets"], bias=p["bias"], class_weight=weight,
        label_smoothing=options["smoothing"], softcap=options["softcap"],
        z_loss=options["z_loss"], reduction=reduction, strategy=strategy, grad=True,
        return_entropy=True,
    )  # fmt: skip
    assert got.strategy == strategy and got.filtered_fraction == 0.0
    assert_rel(got.loss, expected["loss"])
    assert_rel(got.lse, expected["lse"])
    assert got.entropy is not None
    assert_rel(got.entropy, expected["entropy"])
    assert_rel(got.grad_embeddings, expected["de"])
    assert_rel(got.grad_classifier, expected["dc"])
    assert_rel(got.grad_bias, expected["db"])


@pytest.mark.parametrize("strategy", ["vocab", "tokens"])
def test_linear_batched_shift_matches_torch(backend: str, small_tiles: None, strategy: str) -> None:
    rng = np.random.default_rng(3)
    e = rng.normal(size=(3, 9, 5))
    c = rng.normal(size=(40, 5))
    targets = rng.integers(0, 40, (3, 9))
    targets[1, 2] = -100
    expected = _torch_reference(
        e, c, None, targets, weight=None, smoothing=0.05, softcap=None, z_loss=1e-3,
        reduction="none", shift=1,
    )  # fmt: skip
    got = losses.linear_cross_entropy(
        e, c, targets, shift=True, label_smoothing=0.05, z_loss=1e-3, reduction="none",
        strategy=strategy, grad=True, return_entropy=True,
    )  # fmt: skip
    assert np.shape(got.loss) == (3, 8)
    assert_rel(got.loss, expected["loss"])
    assert_rel(got.lse, expected["lse"])
    assert_rel(got.entropy, expected["entropy"])  # type: ignore[arg-type]
    assert_rel(got.grad_embeddings, expected["de"])
    assert_rel(got.grad_classifier, expected["dc"])
    assert got.grad_bias is None


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_logits_matches_torch(backend: str, reduction: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    z = 3.0 * rng.normal(size=(4, 6, 11))
    z[0, 0, 3] = -np.inf  # a masked logit is allowed (not the target, no smoothing)
    targets = rng.integers(0, 11, (4, 6))
    targets[0, 0] = 2
    targets[2, 1] = -1
    weight = rng.uniform(0.5, 1.5, 11)
    zt = torch.tensor(z, requires_grad=True)
    zc = 4.0 * torch.tanh(zt / 4.0)
    loss = torch.nn.functional.cross_entropy(
        zc.reshape(-1, 11), torch.tensor(targets).reshape(-1), weight=torch.tensor(weight),
        ignore_index=-1, reduction=reduction,
    )  # fmt: skip
    loss.sum().backward()
    got = losses.cross_entropy(
        z, targets, ignore_index=-1, softcap=4.0, class_weight=weight, reduction=reduction,
        grad=True,
    )  # fmt: skip
    assert_rel(got.loss, loss.detach().numpy().reshape(np.shape(got.loss)))
    assert_rel(got.grad_logits, zt.grad.numpy())
    assert_rel(got.lse, torch.logsumexp(zc, -1).detach().numpy())


# --- the numpy twin and the compiled kernel ------------------------------------------------------


@pytest.mark.skipif("cpp" not in _backend.available_backends(), reason="needs the compiled build")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("softcap", [0.0, 2.0])
def test_kernels_match_twin(dtype: Any, softcap: float) -> None:
    core = _backend.compiled("_core")
    assert core is not None
    rng = np.random.default_rng(11)
    rows, cols, col0, v = 9, 13, 20, 40
    z = (3.0 * rng.normal(size=(rows, cols))).astype(dtype)
    targets = rng.integers(-1, v, rows)
    targets[:3] = [20, 32, 33]  # first and last column of the tile, and just past it
    bias = rng.normal(size=v).astype(dtype)
    weight = rng.uniform(0.1, 2.0, v)
    start = _losses_engine.new_state(rows)
    start[:4, 0] = 1.5  # some rows already saw an earlier tile
    start[:4, 1] = 2.0
    start[:4, 2] = -0.7
    outs = []
    for module in (core, ref_kernels):
        state, zc = start.copy(), z.copy()
        module.losses_row_stats(zc, col0, targets, bias, weight, softcap, True, state, 2)
        lse = state[:, 0] + np.log(state[:, 1])
        coef = rng.normal(size=(rows, 3)) if not outs else outs[0][3]
        coef[5] = 0.0  # an ignored row
        dbias = np.zeros(v)
        g = z.copy()
        largest = module.losses_softmax_grad(
            g, col0, targets, bias, weight, softcap, False, lse, coef, dbias, 2
        )
        outs.append((state, zc, g, coef, dbias, largest))
    tol = 1e-13 if dtype == np.float64 else 1e-6
    for a, b in zip(outs[0], outs[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert not outs[0][2][5].any()


@pytest.mark.skipif("cpp" not in _backend.available_backends(), reason="needs the compiled build")
def test_kernel_rejects_wrong_buffers() -> None:
    core = _backend.compiled("_core")
    assert core is not None
    z = np.zeros((2, 3))
    t = np.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError, match="state must be an array of float64"):
        core.losses_row_stats(z, 0, t, None, None, 0.0, False, np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="state must be of size 10"):
        core.losses_row_stats(z, 0, t, None, None, 0.0, False, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="bias must be of size >= 5"):
        core.losses_row_stats(z, 2, t, np.zeros(4), None, 0.0, False, np.zeros((2, 5)))
    with pytest.raises(TypeError, match="z must be float32 or float64"):
        core.losses_row_stats(z.astype(np.int64), 0, t, None, None, 0.0, False, np.zeros((2, 5)))
    ro = np.zeros((2, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="z must be writeable"):
        core.losses_softmax_grad(
            ro, 0, t, None, None, 0.0, False, np.zeros(2), np.zeros((2, 3)), None
        )


def test_backends_agree(small_tiles: None) -> None:
    p = _problem(seed=1, dtype=np.float32)
    results = []
    for be in _backend.available_backends():
        results.append(
            losses.linear_cross_entropy(
                p["e"], p["c"], p["targets"], bias=p["bias"], label_smoothing=0.1,
                softcap=3.0, grad=True, strategy="vocab", backend=be,
            )
        )  # fmt: skip
    for r in results[1:]:
        np.testing.assert_allclose(r.loss, results[0].loss, rtol=1e-6)
        np.testing.assert_allclose(r.grad_classifier, results[0].grad_classifier, atol=1e-7)


# --- closed forms and direct formulas ------------------------------------------------------------


def test_token_entropy_matches_scipy(backend: str) -> None:
    rng = np.random.default_rng(2)
    z = 2.0 * rng.normal(size=(5, 7, 30))
    expected = scipy.stats.entropy(scipy.special.softmax(z, axis=-1), axis=-1)
    np.testing.assert_allclose(losses.token_entropy(z), expected, rtol=1e-13)
    np.testing.assert_allclose(losses.token_entropy(z, base=2), expected / np.log(2), rtol=1e-13)
    one = losses.token_entropy(np.zeros(8))
    assert isinstance(one, float) and one == pytest.approx(np.log(8), rel=1e-15)


def test_log_perplexity_and_detection_statistic(backend: str) -> None:
    rng = np.random.default_rng(4)
    b, t, d, v = 3, 10, 4, 25
    e = rng.normal(size=(b, t, d))
    c = rng.normal(size=(v, d))
    z = e @ c.T
    targets = rng.integers(0, v, (b, t))
    mask = rng.random((b, t)) < 0.8
    mask[:, 0] = True
    logp = scipy.special.log_softmax(z, axis=-1)
    nll = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    ent = -(np.exp(logp) * logp).sum(-1)
    ppl = (nll * mask).sum(-1) / mask.sum(-1)
    stat = ((nll - ent) * mask).sum(-1) / mask.sum(-1)
    np.testing.assert_allclose(losses.log_perplexity(z, targets, mask=mask), ppl, rtol=1e-13)
    np.testing.assert_allclose(losses.detection_statistic(z, targets, mask=mask), stat, rtol=1e-12)
    from_e = losses.detection_statistic(targets=targets, embeddings=e, classifier=c, mask=mask)
    np.testing.assert_allclose(from_e, stat, rtol=1e-12)
    single = losses.log_perplexity(z[0], targets[0], base=2)
    assert isinstance(single, float)
    assert single == pytest.approx(nll[0].mean() / np.log(2), rel=1e-13)


def test_label_smoothing_closed_form(backend: str) -> None:
    # Uniform logits: p = 1/K everywhere, so every term of the loss is log K.
    k = 9
    got = losses.cross_entropy(np.zeros((4, k)), np.arange(4), label_smoothing=0.3, z_loss=0.5)
    assert got.loss == pytest.approx(np.log(k) + 0.5 * np.log(k) ** 2, rel=1e-15)


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    k=st.integers(2, 40),
    shift=st.floats(-50.0, 50.0),
    smoothing=st.sampled_from([0.0, 0.1]),
)
def test_row_shift_invariance_and_zero_row_sums(
    seed: int, k: int, shift: float, smoothing: float
) -> None:
    rng = np.random.default_rng(seed)
    z = 3.0 * rng.normal(size=(6, k))
    targets = rng.integers(0, k, 6)
    weight = rng.uniform(0.5, 2.0, k)
    kw: dict[str, Any] = {"label_smoothing": smoothing, "class_weight": weight, "grad": True}
    base = losses.cross_entropy(z, targets, reduction="none", **kw)
    moved = losses.cross_entropy(
        z + shift * rng.normal(size=(6, 1)), targets, reduction="none", **kw
    )
    np.testing.assert_allclose(moved.loss, base.loss, rtol=1e-9, atol=1e-9)
    assert base.grad_logits is not None
    np.testing.assert_allclose(base.grad_logits.sum(axis=1), 0.0, atol=1e-12)


def test_filtering_is_opt_in_and_reported(small_tiles: None) -> None:
    e, c, targets = filtering_problem(20, np.float64)
    exact = losses.linear_cross_entropy(e, c, targets, grad=True, strategy="vocab")
    filtered = losses.linear_cross_entropy(
        e, c, targets, grad=True, strategy="vocab", filter_eps=1e-6
    )
    assert exact.filtered_fraction == 0.0
    assert 0.0 < filtered.filtered_fraction < 1.0
    assert filtered.loss == exact.loss
    np.testing.assert_allclose(filtered.grad_classifier, exact.grad_classifier, atol=1e-5)


# --- dtypes, layouts, threads --------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["vocab", "tokens"])
def test_float32_stays_float32_and_accurate(backend: str, strategy: str) -> None:
    p = _problem(seed=7, n=64, d=16, v=3000, dtype=np.float32)
    got = losses.linear_cross_entropy(
        p["e"], p["c"], p["targets"], bias=p["bias"], grad=True, reduction="none",
        strategy=strategy, return_entropy=True,
    )  # fmt: skip
    exact = losses.linear_cross_entropy(
        p["e"].astype(np.float64), p["c"].astype(np.float64), p["targets"],
        bias=p["bias"].astype(np.float64), grad=True, reduction="none", strategy=strategy,
    )  # fmt: skip
    for a in (got.loss, got.lse, got.entropy, got.grad_embeddings, got.grad_classifier):
        assert isinstance(a, np.ndarray) and a.dtype == np.float32
    assert_rel(got.loss, np.asarray(exact.loss), rtol=2e-6)
    assert_rel(got.grad_classifier, exact.grad_classifier, rtol=2e-6)  # type: ignore[arg-type]


def test_read_only_and_non_contiguous_inputs(backend: str) -> None:
    p = _problem(seed=8)
    e_wide = np.repeat(p["e"], 2, axis=1)[:, ::2]  # non-contiguous view
    c_f = np.asfortranarray(p["c"])
    for a in (e_wide, c_f):
        a.flags.writeable = False
    got = losses.linear_cross_entropy(e_wide, c_f, p["targets"], grad=True)
    want = losses.linear_cross_entropy(p["e"], p["c"], p["targets"], grad=True)
    assert got.loss == pytest.approx(want.loss, rel=1e-14)
    z = np.asfortranarray(p["e"] @ p["c"].T)
    z.flags.writeable = False
    assert losses.cross_entropy(z, p["targets"]).loss == pytest.approx(want.loss, rel=1e-13)


def test_same_results_on_one_and_two_threads(backend: str, small_tiles: None) -> None:
    p = _problem(seed=9)
    kw: dict[str, Any] = {"bias": p["bias"], "label_smoothing": 0.1, "softcap": 3.0, "grad": True}
    with infokit.threads(1):
        one = losses.linear_cross_entropy(p["e"], p["c"], p["targets"], **kw)
        z_one = losses.cross_entropy(p["e"] @ p["c"].T, p["targets"], grad=True)
    with infokit.threads(2):
        two = losses.linear_cross_entropy(p["e"], p["c"], p["targets"], **kw)
        z_two = losses.cross_entropy(p["e"] @ p["c"].T, p["targets"], grad=True)
    assert one.loss == pytest.approx(two.loss, rel=1e-14)
    np.testing.assert_allclose(one.grad_classifier, two.grad_classifier, rtol=1e-13, atol=1e-15)
    assert z_one.loss == z_two.loss
    np.testing.assert_array_equal(z_one.grad_logits, z_two.grad_logits)


@pytest.mark.parametrize("strategy", ["vocab", "tokens"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_tokens(backend: str, strategy: str, dtype: Any) -> None:
    """N = 0: sums are 0 and the gradients empty (or zero for the classifier), on every route."""
    e, c = np.zeros((0, 5), dtype=dtype), np.ones((7, 5), dtype=dtype)
    targets = np.zeros(0, dtype=np.int64)
    for reduction in ("sum", "none"):
        got = losses.linear_cross_entropy(
            e, c, targets, grad=True, strategy=strategy, reduction=reduction
        )
        assert got.grad_embeddings is not None and got.grad_embeddings.shape == (0, 5)
        assert got.grad_classifier is not None and not got.grad_classifier.any()
        assert np.asarray(got.loss).sum() == 0.0


# --- bad input -----------------------------------------------------------------------------------


def test_bad_input_messages() -> None:
    p = _problem()
    e, c, t = p["e"], p["c"], p["targets"]
    lce = losses.linear_cross_entropy
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 53\).*got 53"):
        lce(e, c, np.where(t == -100, 53, t))
    with pytest.raises(ValueError, match="all targets equal ignore_index=-100"):
        lce(e, c, np.full_like(t, -100))
    with pytest.raises(ValueError, match="share the last dimension D"):
        lce(e, c[:, :-1], t)
    with pytest.raises(ValueError, match=r"targets must have shape \(37,\)"):
        lce(e, c, t[:-1])
    with pytest.raises(TypeError, match="targets must be an array of integer class indices"):
        lce(e, c, t.astype(bool))
    with pytest.raises(
        ValueError, match=r"class probabilities \(float\) must have shape \(37, 53\)"
    ):
        lce(e, c, t.astype(float))  # float targets are probabilities: one row per token
    with pytest.raises(ValueError, match="softcap must be None or a finite number > 0"):
        lce(e, c, t, softcap=-1.0)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\), got 1.0"):
        lce(e, c, t, label_smoothing=1.0)
    with pytest.raises(ValueError, match="z_loss must be >= 0"):
        lce(e, c, t, z_loss=-0.1)
    with pytest.raises(ValueError, match=r"class_weight must have shape \(53,\)"):
        lce(e, c, t, class_weight=np.ones(5))
    with pytest.raises(ValueError, match="strategy must be one of"):
        lce(e, c, t, strategy="rows")
    with pytest.raises(ValueError, match="reduction must be one of"):
        lce(e, c, t, reduction="avg")
    with pytest.raises(ValueError, match=r"bias must have shape \(53,\)"):
        lce(e, c, t, bias=np.ones(3))
    with pytest.raises(ValueError, match="filter_eps must be None or > 0"):
        lce(e, c, t, filter_eps=0.0)
    with pytest.raises(TypeError, match="embeddings must be a real array"):
        lce(e.astype(complex), c, t)
    bad = e.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"logits must be finite.*token 4"):
        lce(bad, c, t)
    z = e @ c.T
    z[2, 0] = np.inf
    with pytest.raises(ValueError, match=r"logits must be finite.*token 2"):
        losses.cross_entropy(z, t)
    with pytest.raises(ValueError, match="shift=1 needs a sequence axis longer than 1"):
        losses.cross_entropy(np.zeros((1, 3)), np.zeros(1, dtype=int), shift=True)
    with pytest.raises(ValueError, match="pass either logits, or embeddings and classifier"):
        losses.log_perplexity(targets=t)
    with pytest.raises(TypeError, match="mask must be a boolean array"):
        losses.detection_statistic(z[None], t[None], mask=np.ones((1, 37)))
