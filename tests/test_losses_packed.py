"""The cross-entropy engine's packed route (float32 tiles multiplied by infokit's own kernel,
src/infokit/_losses_packed.py): with every option, against the float64 engine (itself checked
against torch autograd in test_losses.py), on tiles small enough that every loop runs many times;
routing, threads, filtering and the float32 accuracy the issue asks for at V = 131072."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from loss_checks import assert_rel, filtering_problem

import infokit
from infokit import _backend, _losses_packed, losses

core = _backend.compiled("_core")
pytestmark = pytest.mark.skipif(core is None, reason="compiled kernels not built")


@pytest.fixture
def packed_on() -> Iterator[None]:
    """The packed route forced on (it runs on any CPU: the portable micro-kernel below AVX-512)."""
    _losses_packed.FORCE = True
    yield
    _losses_packed.FORCE = None


def _problem(seed: int, n: int = 45, d: int = 7, v: int = 61) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, v, n)
    targets[::6] = -100
    return {
        "e": (1.5 * rng.normal(size=(n, d))).astype(np.float32),
        "c": rng.normal(size=(v, d)).astype(np.float32),
        "bias": rng.normal(size=v).astype(np.float32),
        "targets": targets,
        "weight": rng.uniform(0.2, 2.0, v),
        "soft": rng.dirichlet(np.full(v, 0.3), size=n).astype(np.float32),
    }


def _as64(x: Any) -> Any:
    return x.astype(np.float64) if isinstance(x, np.ndarray) and x.dtype == np.float32 else x


OPTIONS = [
    {},
    {"bias": True, "label_smoothing": 0.2, "z_loss": 1e-3, "reduction": "sum"},
    {"softcap": 2.5, "class_weight": True, "reduction": "none"},
    {"bias": True, "soft": True, "label_smoothing": 0.1},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_matches_the_float64_engine(
    packed_on: None, small_tiles: None, options: dict[str, Any]
) -> None:
    p = _problem(seed=len(options))
    kw: dict[str, Any] = dict(options)
    kw["bias"] = p["bias"] if kw.get("bias") else None
    kw["class_weight"] = p["weight"] if kw.get("class_weight") else None
    targets = p["soft"] if kw.pop("soft", False) else p["targets"]
    got = losses.linear_cross_entropy(
        p["e"], p["c"], targets, strategy="vocab", grad=True, return_entropy=True, **kw
    )
    want = losses.linear_cross_entropy(
        _as64(p["e"]), _as64(p["c"]), _as64(targets), strategy="vocab", grad=True,
        return_entropy=True, **{key: _as64(val) for key, val in kw.items()},
    )  # fmt: skip
    assert got.grad_embeddings is not None and got.grad_embeddings.dtype == np.float32
    pairs = [
        (got.loss, want.loss), (got.lse, want.lse), (got.entropy, want.entropy),
        (got.grad_embeddings, want.grad_embeddings), (got.grad_classifier, want.grad_classifier),
    ]  # fmt: skip
    if kw["bias"] is not None:
        pairs.append((got.grad_bias, want.grad_bias))
    for a, b in pairs:
        assert_rel(a, np.float64(b), rtol=3e-6)


def test_it_is_the_route_taken(monkeypatch: pytest.MonkeyPatch, small_tiles: None) -> None:
    """float32 + compiled kernels + AVX-512 (or forced) take it; float64, the numpy backend and
    FORCE = False do not, and then the results are the BLAS route's."""
    e32 = np.zeros((3, 2), np.float32)
    assert (_losses_packed.module(e32, "auto") is not None) == bool(core.linalg_fast_kernel())
    assert _losses_packed.module(e32.astype(np.float64), "auto") is None
    assert _losses_packed.module(e32, "numpy") is None
    monkeypatch.setattr(_losses_packed, "FORCE", True)
    assert _losses_packed.module(e32, "auto") is core
    monkeypatch.setattr(_losses_packed, "FORCE", False)
    assert _losses_packed.module(e32, "auto") is None
    calls: list[str] = []
    real = core.linalg_gemm_packed
    monkeypatch.setattr(_losses_packed, "FORCE", True)
    p = _problem(seed=11)
    with monkeypatch.context() as m:
        m.setattr(core, "linalg_gemm_packed", lambda *a: calls.append("x") or real(*a))
        packed = losses.linear_cross_entropy(
            p["e"], p["c"], p["targets"], grad=True, strategy="vocab"
        )
    assert calls  # the products went through the packed kernel
    monkeypatch.setattr(_losses_packed, "FORCE", False)
    blas = losses.linear_cross_entropy(p["e"], p["c"], p["targets"], grad=True, strategy="vocab")
    assert_rel(packed.loss, np.float64(blas.loss), rtol=3e-6)
    assert_rel(packed.grad_classifier, np.float64(blas.grad_classifier), rtol=3e-6)


@pytest.mark.parametrize("v", [90, 16])  # two groups of tiles; one group (its products threaded)
def test_same_bits_on_one_and_two_threads(packed_on: None, small_tiles: None, v: int) -> None:
    p = _problem(seed=12, n=70, v=v, d=150)
    kw: dict[str, Any] = {
        "bias": p["bias"],
        "label_smoothing": 0.1,
        "grad": True,
        "strategy": "vocab",
    }
    with infokit.threads(1):
        one = losses.linear_cross_entropy(p["e"], p["c"], p["targets"], **kw)
    with infokit.threads(2):
        two = losses.linear_cross_entropy(p["e"], p["c"], p["targets"], **kw)
    assert one.strategy == two.strategy == "vocab"
    assert one.loss == two.loss
    for field in ("grad_embeddings", "grad_classifier", "grad_bias", "lse"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))


def test_filtering_skips_tiles_and_reports_them(packed_on: None, small_tiles: None) -> None:
    e, c, targets = filtering_problem(40, np.float32)
    exact = losses.linear_cross_entropy(e, c, targets, grad=True, strategy="vocab")
    filtered = losses.linear_cross_entropy(
        e, c, targets, grad=True, strategy="vocab", filter_eps=1e-6
    )
    assert exact.filtered_fraction == 0.0
    assert 0.0 < filtered.filtered_fraction < 1.0
    assert filtered.loss == exact.loss
    np.testing.assert_allclose(filtered.grad_classifier, exact.grad_classifier, atol=1e-5)
    np.testing.assert_allclose(filtered.grad_embeddings, exact.grad_embeddings, atol=1e-5)


@pytest.mark.parametrize("ignored", [slice(0, 24), slice(8, 16)])
def test_ignored_rows_only(packed_on: None, small_tiles: None, ignored: slice) -> None:
    """Tiles whose tokens are all ignored add nothing (and are never multiplied): a whole block
    of 24 tokens (GRAD_T_ENTRIES / VOCAB_TILE), or one 8-token tile inside a kept block, whose
    rows of the packed transposed gradient must then be zeros, not stale values."""
    p = _problem(seed=13, n=40)
    targets = p["targets"].copy()
    targets[ignored] = -100
    kw: dict[str, Any] = {"grad": True, "reduction": "sum", "strategy": "vocab"}
    got = losses.linear_cross_entropy(p["e"], p["c"], targets, **kw)
    want = losses.linear_cross_entropy(_as64(p["e"]), _as64(p["c"]), targets, **kw)
    assert got.grad_embeddings is not None
    assert not got.grad_embeddings[ignored].any()
    assert_rel(got.grad_classifier, np.float64(want.grad_classifier), rtol=3e-6)
    assert_rel(got.grad_embeddings, np.float64(want.grad_embeddings), rtol=3e-6)


def test_float32_within_1e6_of_float64_at_v_131072(packed_on: None) -> None:
    """The issue's accuracy bar: float32 loss and classifier gradient within 1e-6 relative of
    float64 at V = 131072 (small N and D keep it quick)."""
    rng = np.random.default_rng(14)
    n, d, v = 48, 8, 131072
    e = rng.normal(size=(n, d)).astype(np.float32)
    c = (0.5 * rng.normal(size=(v, d))).astype(np.float32)
    targets = rng.integers(0, v, n)
    got = losses.linear_cross_entropy(e, c, targets, grad=True, strategy="vocab")
    want = losses.linear_cross_entropy(_as64(e), _as64(c), targets, grad=True, strategy="vocab")
    assert abs(got.loss - want.loss) <= 1e-6 * abs(want.loss)
    assert_rel(got.grad_classifier, np.float64(want.grad_classifier), rtol=1e-6)


@pytest.mark.parametrize("isa", [0, 2])
def test_portable_micro_kernel_route(packed_on: None, small_tiles: None, isa: int) -> None:
    """The packed route on the portable micro-kernel (what a CPU without AVX-512 would run if
    forced) and on the CPU's best, both against float64."""
    p = _problem(seed=15, n=30, v=50, d=60)
    core.simd_set_isa_cap(min(isa, core.simd_cpu_isa()))
    try:
        got = losses.linear_cross_entropy(p["e"], p["c"], p["targets"], grad=True, strategy="vocab")
    finally:
        core.simd_set_isa_cap(2)
    want = losses.linear_cross_entropy(
        _as64(p["e"]), _as64(p["c"]), p["targets"], grad=True, strategy="vocab"
    )
    assert_rel(got.loss, np.float64(want.loss), rtol=3e-6)
    assert_rel(got.grad_classifier, np.float64(want.grad_classifier), rtol=3e-6)


def test_auto_strategy_follows_the_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "auto" with gradients takes "vocab" on the packed route and "tokens" on BLAS; without
    gradients always "vocab"."""
    p = _problem(seed=16)
    e, c, t = p["e"], p["c"], p["targets"]
    monkeypatch.setattr(_losses_packed, "FORCE", True)
    assert losses.linear_cross_entropy(e, c, t, grad=True).strategy == "vocab"
    assert losses.linear_cross_entropy(_as64(e), _as64(c), t, grad=True).strategy == "tokens"
    assert losses.linear_cross_entropy(e, c, t, grad=True, backend="numpy").strategy == "tokens"
    monkeypatch.setattr(_losses_packed, "FORCE", False)
    assert losses.linear_cross_entropy(e, c, t, grad=True).strategy == "tokens"
    assert losses.linear_cross_entropy(e, c, t).strategy == "vocab"
