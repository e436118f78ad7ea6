"""infokit.calibration against torchmetrics (when torch is installed), bin-by-bin formulas written
here, hand-computed cases, scipy's optimiser and softmax, and the numpy twins; properties,
dtypes, layouts, threads, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import infokit
from infokit import _backend
from infokit import calibration as cal
from infokit._reference import calibration as ref


def softmax(z):
    return scipy.special.softmax(np.asarray(z, dtype=np.float64), axis=1)


def make_data(rng, n=3000, k=7, scale=2.0, accuracy=0.6, dtype=np.float64):
    """Logits and labels of a moderately accurate, miscalibrated classifier."""
    z = rng.normal(size=(n, k)) * scale
    y = rng.integers(0, k, n)
    right = rng.random(n) < accuracy
    y[right] = z[right].argmax(axis=1)
    return z.astype(dtype), y


def binned_errors(conf, outcome, edges):
    """ECE, MCE and RMS from the definitions, one bin at a time (last bin closed on the right)."""
    conf, outcome = np.asarray(conf, float), np.asarray(outcome, float)
    n, nb = len(conf), len(edges) - 1
    ece = mce = sq = 0.0
    for b in range(nb):
        lo, hi = edges[b], edges[b + 1]
        inside = (conf >= lo) & ((conf < hi) if b < nb - 1 else (conf <= hi))
        if b == 0:
            inside |= conf < lo
        if not inside.any():
            continue
        gap = abs(outcome[inside].mean() - conf[inside].mean())
        ece += inside.sum() / n * gap
        sq += inside.sum() / n * gap**2
        mce = max(mce, gap)
    return ece, mce, math.sqrt(sq)


def top_label_of(p, y):
    p = np.asarray(p, dtype=np.float64)
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(float)


def uniform_edges(nb):
    return np.arange(nb + 1) / nb


# --- against the definitions and hand-computed values --------------------------------------


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_top_label_errors_match_the_definition(backend, from_logits, n_bins):
    rng = np.random.default_rng(3)
    z, y = make_data(rng)
    p = softmax(z)
    scores = z if from_logits else p
    conf, outcome = top_label_of(p, y)
    want = binned_errors(conf, outcome, uniform_edges(n_bins))
    kw = {"from_logits": from_logits, "n_bins": n_bins}
    got = (
        cal.ece(scores, y, **kw),
        cal.mce(scores, y, **kw),
        cal.rms_calibration_error(scores, y, **kw),
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_quantile_strategy_matches_the_definition(backend):
    rng = np.random.default_rng(4)
    z, y = make_data(rng)
    conf, outcome = top_label_of(softmax(z), y)
    edges = np.quantile(conf, np.linspace(0, 1, 11))
    want = binned_errors(conf, outcome, edges)
    got = cal.reliability_diagram(z, y, from_logits=True, n_bins=10, strategy="quantile")
    np.testing.assert_allclose((got.ece, got.mce, got.rms), want, rtol=1e-12)
    assert got.ece == cal.adaptive_ece(z, y, from_logits=True, n_bins=10)
    # Equal mass: distinct confidences split into bins of n / n_bins (+-1).
    assert np.all(np.abs(got.count - len(y) / 10) <= 1)


def test_confidence_of_exactly_one_is_in_the_last_bin(backend):
    # One bin [14/15, 1] holds both: accuracy 1/2, confidence 0.975, ECE = MCE = RMS = 0.475.
    p = np.array([[1.0, 0.0], [0.05, 0.95]])
    y = np.array([1, 1])
    d = cal.reliability_diagram(p, y)
    assert d.count[-1] == 2 and d.count.sum() == 2
    assert d.ece == pytest.approx(0.475, abs=1e-15)
    assert d.mce == pytest.approx(0.475, abs=1e-15)
    assert d.rms == pytest.approx(0.475, abs=1e-15)
    # Binary scores: the score of class 1 is the confidence, the outcome is label == 1.
    assert cal.ece(np.array([1.0, 0.95]), np.array([0, 1])) == pytest.approx(0.475, abs=1e-15)


def test_hand_computed_two_bins(backend):
    # Bins [0, .5) and [.5, 1]: {0.2 (wrong), 0.5 (right), 0.9 (right), 0.7 (wrong)} as binary
    # scores with outcomes {0, 1, 1, 0}. Bin 0: conf .2, acc 0 -> gap .2 (weight 1/4);
    # bin 1: conf 0.7, acc 2/3 -> gap 1/30 (weight 3/4). ECE = .05 + .025 = .075.
    s = np.array([0.2, 0.5, 0.9, 0.7])
    y = np.array([0, 1, 1, 0])
    assert cal.ece(s, y, n_bins=2) == pytest.approx(0.075, abs=1e-15)
    assert cal.mce(s, y, n_bins=2) == pytest.approx(0.2, abs=1e-15)
    assert cal.rms_calibration_error(s, y, n_bins=2) == pytest.approx(
        math.sqrt(0.25 * 0.04 + 0.75 / 900), abs=1e-15
    )


def test_bin_edges_are_exact(backend):
    # 0.2 * 5 rounds to exactly 1 and 0.6 * 5 to 3.0000000000000004: both must sit at the left
    # edge of their bin, as searchsorted over k / n_bins puts them.
    conf = np.array([0.0, 0.2, 0.6, 0.7999999999999999, 0.8, 1.0])
    d = cal.reliability_diagram(conf, np.ones(6, dtype=int), n_bins=5)
    np.testing.assert_array_equal(d.count, [1, 1, 0, 2, 2])
    assert np.isnan(d.accuracy[2]) and np.isnan(d.confidence[2])


def test_binary_logits_are_a_sigmoid(backend):
    rng = np.random.default_rng(5)
    z = rng.normal(size=500) * 3
    y = (rng.random(500) < scipy.special.expit(z * 0.7)).astype(int)
    assert cal.ece(z, y, from_logits=True) == pytest.approx(
        cal.ece(scipy.special.expit(z), y), rel=1e-12
    )


def test_from_logits_equals_from_probabilities(backend):
    rng = np.random.default_rng(6)
    z, y = make_data(rng, n=2000, k=50)
    for f in (cal.ece, cal.mce, cal.classwise_ece):
        assert f(z, y, from_logits=True) == pytest.approx(f(softmax(z), y), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_classwise_ece_matches_the_definition(backend, strategy):
    rng = np.random.default_rng(7)
    z, y = make_data(rng, n=1500, k=5)
    p = softmax(z)
    per_class = []
    for k in range(5):
        edges = (
            uniform_edges(10)
            if strategy == "uniform"
            else np.quantile(p[:, k], np.linspace(0, 1, 11))
        )
        per_class.append(binned_errors(p[:, k], y == k, edges)[0])
    got = cal.classwise_ece(z, y, from_logits=True, n_bins=10, strategy=strategy)
    assert got == pytest.approx(np.mean(per_class), rel=1e-10)


def test_classwise_ece_of_binary_scores_counts_both_classes(backend):
    rng = np.random.default_rng(8)
    s = rng.random(400)
    y = (rng.random(400) < s**2).astype(int)
    two = np.stack([1 - s, s], axis=1)
    assert cal.classwise_ece(s, y) == pytest.approx(cal.classwise_ece(two, y), rel=1e-12)


# --- torchmetrics (only where torch is installed; never in the test extra) -------------------


def test_matches_torchmetrics_away_from_the_edge():
    torch = pytest.importorskip("torch")
    tmc = pytest.importorskip("torchmetrics.functional.classification")
    rng = np.random.default_rng(9)
    z, y = make_data(rng, n=4000, k=9)
    p = softmax(z)
    assert p.max() < 1.0
    for norm, f in (("l1", cal.ece), ("l2", cal.rms_calibration_error), ("max", cal.mce)):
        want = float(
            tmc.multiclass_calibration_error(
                torch.tensor(p), torch.tensor(y), 9, n_bins=15, norm=norm
            )
        )
        # torchmetrics accumulates in float32: six digits.
        assert f(z, y, from_logits=True) == pytest.approx(want, rel=2e-6, abs=1e-7)
    s = rng.random(3000) * 0.999
    t = (rng.random(3000) < s).astype(int)
    want = float(tmc.binary_calibration_error(torch.tensor(s), torch.tensor(t), n_bins=15))
    assert cal.ece(s, t) == pytest.approx(want, rel=2e-6, abs=1e-7)


def test_torchmetrics_puts_a_confidence_of_one_in_an_extra_bin():
    torch = pytest.importorskip("torch")
    tmc = pytest.importorskip("torchmetrics.functional.classification")
    s, t = np.array([1.0, 0.95]), np.array([0, 1])
    theirs = float(tmc.binary_calibration_error(torch.tensor(s), torch.tensor(t), n_bins=15))
    # torchmetrics: bin {1.0} gap 1, bin {0.95} gap 0.05 -> (1 + 0.05) / 2; infokit: one bin.
    assert theirs == pytest.approx(0.525, abs=1e-6)
    assert cal.ece(s, t) == pytest.approx(0.475, abs=1e-15)


# --- temperature scaling -------------------------------------------------------------------


def nll(z, y, t):
    zt = z / t
    return float(np.mean(scipy.special.logsumexp(zt, axis=1) - zt[np.arange(len(y)), y]))


@pytest.mark.parametrize("scale", [0.3, 4.0])
def test_fit_temperature_matches_scipy(backend, scale):
    rng = np.random.default_rng(10)
    z, y = make_data(rng, n=4000, k=10, scale=scale, accuracy=0.5)
    fit = cal.fit_temperature(z, y)
    opt = scipy.optimize.minimize_scalar(
        lambda lt: nll(z, y, math.exp(lt)), bracket=(-3, 3), method="brent", tol=1e-12
    )
    assert fit.converged and fit.n_iter <= 12
    assert fit.temperature == pytest.approx(math.exp(opt.x), rel=1e-6)
    assert fit.nll_after == pytest.approx(nll(z, y, fit.temperature), rel=1e-12)
    assert fit.nll_before == pytest.approx(nll(z, y, 1.0), rel=1e-12)
    assert fit.nll_after <= fit.nll_before


def test_fit_temperature_recovers_a_planted_temperature(backend):
    rng = np.random.default_rng(11)
    z = rng.normal(size=(20000, 5)) * 3
    t0 = 2.5
    p = softmax(z / t0)
    y = (rng.random((len(z), 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    assert cal.fit_temperature(z, y).temperature == pytest.approx(t0, rel=0.05)


def test_fit_temperature_cpp_equals_numpy_twin():
    if "cpp" not in _backend.available_backends():
        pytest.skip("no compiled backend")
    rng = np.random.default_rng(12)
    z, y = make_data(rng, n=3000, k=20, dtype=np.float32)
    a = cal.fit_temperature(z, y, backend="cpp")
    b = cal.fit_temperature(z, y, backend="numpy")
    assert a.temperature == pytest.approx(b.temperature, rel=1e-12)


def test_apply_temperature_is_softmax_of_scaled_logits():
    rng = np.random.default_rng(13)
    z = rng.normal(size=(50, 6)) * 5
    got = cal.apply_temperature(z, 1.7)
    np.testing.assert_allclose(got, softmax(z / 1.7), rtol=1e-13)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-14)
    assert cal.apply_temperature(z.astype(np.float32), 2.0).dtype == np.float32
    assert cal.apply_temperature([1000.0, 0.0], 1.0)[1] == 0.0  # no overflow


# --- predictive entropy and P38 self-consistency ---------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_predictive_entropy_matches_scipy(backend, dtype):
    rng = np.random.default_rng(14)
    z = (rng.normal(size=(300, 40)) * 4).astype(dtype)
    p = softmax(z)
    want = scipy.stats.entropy(p, axis=1)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(cal.predictive_entropy(z, from_logits=True), want, rtol=rtol)
    np.testing.assert_allclose(cal.predictive_entropy(p), want, rtol=1e-12)
    assert cal.predictive_entropy(p[0], base=2) == pytest.approx(
        scipy.stats.entropy(p[0], base=2), rel=1e-12
    )
    assert cal.predictive_entropy(np.array([[0.0, 1.0, 0.0]])) == np.array([0.0])


def test_self_consistency_discrepancy_closed_forms():
    mu, md = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 0.1])
    harmonic = 2 * mu * md / (mu + md)
    np.testing.assert_allclose(cal.self_consistency_discrepancy(harmonic, mu, md), 0, atol=1e-15)
    assert cal.self_consistency_discrepancy(1.0, 1.0, 3.0) == pytest.approx(2.0, abs=1e-15)


def test_split_point_discrepancy_is_mean_residual_times_side_gap():
    # With p = P(r > 0): 2 mu md - MAR (mu + md) = -mean(r) (mu - md), derived by hand from
    # MAR = p mu + (1 - p) md and mean(r) = p mu - (1 - p) md.
    rng = np.random.default_rng(15)
    y = rng.normal(size=1000)
    for bias in (0.0, 0.3):
        pred = y - rng.exponential(size=1000) + 1.0 + bias
        sp = cal.split_point_residuals(y, pred)
        r = y - pred
        assert sp.mar == pytest.approx(np.abs(r).mean(), rel=1e-14)
        assert sp.fraction_up == np.mean(r > 0)
        assert sp.discrepancy == pytest.approx(
            abs(r.mean()) * abs(sp.mar_up - sp.mar_down), rel=1e-9
        )
    # A predictor with zero-mean residuals is self-consistent: MAR is the harmonic mean.
    r = rng.normal(size=999)
    r -= r.mean()
    sp = cal.split_point_residuals(r, np.zeros_like(r))
    assert sp.discrepancy == pytest.approx(0.0, abs=1e-12)
    assert sp.mar == pytest.approx(sp.harmonic, rel=1e-12)


def test_classification_self_consistency():
    p = np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])
    ideal = 2 * p * (1 - p)
    np.testing.assert_allclose(cal.classification_self_consistency(p, ideal), 0, atol=1e-16)
    mar = ideal + np.array([[0.1, 0.0, 0.0], [0.0, 0.0, 0.25]])
    np.testing.assert_allclose(cal.classification_self_consistency(p, mar), [0.1, 0.25], rtol=1e-14)
    z = np.log(p[:1])
    np.testing.assert_allclose(
        cal.classification_self_consistency(z, ideal[:1], from_logits=True), 0, atol=1e-15
    )


# --- the numpy twins, dtypes, layouts, threads --------------------------------------------------


def test_cpp_kernels_equal_numpy_twins():
    core = _backend.compiled("_core")
    if core is None:
        pytest.skip("no compiled backend")
    rng = np.random.default_rng(16)
    z, y = make_data(rng, n=2000, k=30)
    for logits in (True, False):
        x = z if logits else softmax(z)
        a, b = core.top_label(x, y, logits, True), ref.top_label(x, y, logits, True)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-13)
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_allclose(a[2], b[2], rtol=1e-11, atol=1e-14)
        edges = uniform_edges(15)
        ca, cb = (
            core.classwise_bin_stats(x, y, logits, edges, True),
            ref.classwise_bin_stats(x, y, logits, edges, True),
        )
        np.testing.assert_array_equal(ca[0], cb[0])
        np.testing.assert_array_equal(ca[1], cb[1])
        np.testing.assert_allclose(ca[2], cb[2], rtol=1e-12)
    conf = rng.random(5000)
    ok = rng.random(5000) < 0.5
    edges = np.quantile(conf, np.linspace(0, 1, 8))
    for e, uniform in ((uniform_edges(7), True), (edges, False)):
        a, b = core.bin_stats(conf, ok, e, uniform), ref.bin_stats(conf, ok, e, uniform)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_allclose(a[2], b[2], rtol=1e-13)
    np.testing.assert_allclose(
        core.temperature_sums(z, y, 0.7), ref.temperature_sums(z, y, 0.7), rtol=1e-12
    )


def test_float32_read_only_and_strided_inputs(backend):
    rng = np.random.default_rng(17)
    z, y = make_data(rng, n=1000, k=12)
    want = cal.ece(z, y, from_logits=True)
    z32 = z.astype(np.float32)
    assert cal.ece(z32, y, from_logits=True) == pytest.approx(want, abs=2e-6)
    ro = z.copy()
    ro.setflags(write=False)
    assert cal.ece(ro, y, from_logits=True) == want
    wide = np.zeros((1000, 24))
    wide[:, ::2] = z
    assert cal.ece(wide[:, ::2], y, from_logits=True) == want
    assert cal.ece(np.asfortranarray(z), y[::-1][::-1], from_logits=True) == want
    assert cal.fit_temperature(z32, y).temperature == pytest.approx(
        cal.fit_temperature(z, y).temperature, rel=1e-5
    )


def test_results_do_not_depend_on_threads(backend):
    rng = np.random.default_rng(18)
    z, y = make_data(rng, n=40000, k=10, dtype=np.float32)
    funcs = [
        lambda: cal.reliability_diagram(z, y, from_logits=True).ece,
        lambda: cal.adaptive_ece(z, y, from_logits=True),
        lambda: cal.classwise_ece(z, y, from_logits=True),
        lambda: cal.fit_temperature(z, y).temperature,
        lambda: cal.predictive_entropy(z, from_logits=True),
    ]
    with infokit.threads(1):
        one = [f() for f in funcs]
    with infokit.threads(2):
        two = [f() for f in funcs]
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    k=st.integers(2, 6),
    n_bins=st.integers(1, 20),
    strategy=st.sampled_from(["uniform", "quantile"]),
)
def test_properties(seed, n, k, n_bins, strategy):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * rng.uniform(0.1, 10)
    y = rng.integers(0, k, n)
    d = cal.reliability_diagram(z, y, from_logits=True, n_bins=n_bins, strategy=strategy)
    assert 0 <= d.ece <= d.rms + 1e-15 and d.rms <= d.mce + 1e-15 and d.mce <= 1
    assert d.count.sum() == n
    perm = rng.permutation(n)
    assert cal.ece(z[perm], y[perm], from_logits=True, n_bins=n_bins, strategy=strategy) == (
        pytest.approx(d.ece, abs=1e-14)
    )
    assert 0 <= cal.classwise_ece(z, y, from_logits=True, n_bins=n_bins) <= 1


def test_reliability_diagram_plot():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(19)
    z, y = make_data(rng, n=300, k=4)
    ax = cal.reliability_diagram(z, y, from_logits=True).plot()
    assert ax.get_xlabel() == "confidence"


# --- bad input ---------------------------------------------------------------------------------


def test_bad_scores_and_labels(backend):
    p = np.array([[0.5, 0.5], [0.2, 0.8]])
    y = np.array([0, 1])
    with pytest.raises(ValueError, match=r"rows must sum to 1 .*from_logits=True"):
        cal.ece(np.array([[0.5, 0.6], [0.2, 0.8]]), y)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        cal.ece(np.array([[1.5, -0.5], [0.2, 0.8]]), y)
    with pytest.raises(ValueError, match="NaN or inf"):
        cal.ece(np.array([[np.nan, 0.5], [0.2, 0.8]]), y)
    with pytest.raises(ValueError, match="NaN or inf; logits must be finite"):
        cal.ece(np.array([[0.0, np.inf], [0.2, 0.8]]), y, from_logits=True)
    with pytest.raises(ValueError, match="NaN or inf; logits must be finite"):
        cal.ece(np.array([[0.0, -np.inf], [0.2, 0.8]], dtype=np.float32), y, from_logits=True)
    with pytest.raises(ValueError, match="NaN or inf"):
        cal.classwise_ece(np.array([[np.nan, 1.0], [0.2, 0.8]]), y, from_logits=True)
    with pytest.raises(
        ValueError, match=r"labels must lie in \[0, 2\) for 2 classes, got values in \[0, 2\]"
    ):
        cal.ece(p, np.array([0, 2]))
    with pytest.raises(ValueError, match="labels has 3 entries but the scores have 2 rows"):
        cal.ece(p, np.array([0, 1, 1]))
    with pytest.raises(
        TypeError, match="labels must hold integer class indices, got dtype float64"
    ):
        cal.ece(p, np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="scores must hold real numbers, got dtype complex128"):
        cal.ece(p.astype(complex), y)
    with pytest.raises(ValueError, match=r"scores must be 1-D \(n,\) binary scores or 2-D"):
        cal.ece(p[None], y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        cal.ece(np.ones((2, 1)), y)
    with pytest.raises(ValueError, match="scores is empty"):
        cal.ece(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_bad_options():
    p = np.array([[0.5, 0.5], [0.2, 0.8]])
    y = np.array([0, 1])
    with pytest.raises(
        ValueError, match=r"strategy must be one of \('uniform', 'quantile'\), got 'equal'"
    ):
        cal.ece(p, y, strategy="equal")
    with pytest.raises(ValueError, match="n_bins must be >= 1, got 0"):
        cal.ece(p, y, n_bins=0)
    with pytest.raises(TypeError, match="n_bins must be an int, got float"):
        cal.mce(p, y, n_bins=10.0)
    with pytest.raises(TypeError, match="from_logits must be a bool, got str"):
        cal.ece(p, y, from_logits="yes")
    with pytest.raises(ValueError, match="logits must be 2-D"):
        cal.fit_temperature(np.zeros(3), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="every sample is classified correctly"):
        cal.fit_temperature(np.array([[2.0, 0.0], [0.0, 1.0]]), y)
    with pytest.raises(ValueError, match="tol must be a real number in"):
        cal.fit_temperature(np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([1, 0]), tol=0)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0, got 0"):
        cal.apply_temperature(p, 0)
    with pytest.raises(TypeError, match="temperature must be a real number, got str"):
        cal.apply_temperature(p, "1")
    with pytest.raises(ValueError, match="mar_up must be >= 0"):
        cal.self_consistency_discrepancy(1.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="must broadcast together"):
        cal.self_consistency_discrepancy(np.ones(2), np.ones(3), 1.0)
    with pytest.raises(ValueError, match="need at least 2 samples, got 1"):
        cal.split_point_residuals([1.0], [0.0])
    with pytest.raises(ValueError, match=r"mar must have the shape of scores \(2, 2\)"):
        cal.classification_self_consistency(p, np.ones((2, 3)))
    with pytest.raises(ValueError, match="base must be a positive real number other than 1"):
        cal.predictive_entropy(p, base=1)
    with pytest.raises(ValueError, match=r"scores must be 1-D \(classes,\) or 2-D"):
        cal.predictive_entropy(0.5)
    with pytest.raises(TypeError, match="tol must be a real number in"):
        cal.fit_temperature(np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([1, 0]), tol="1e-9")


def test_kernels_stay_in_bounds_on_bad_data():
    core = _backend.compiled("_core")
    if core is None:
        pytest.skip("no compiled backend")
    x = np.array([[np.nan, 1.0, 2.0], [1.0, np.nan, 0.0], [np.inf, 0.0, 0.0], [-1e30, 0.0, 1e30]])
    labels = np.array([-5, 7, 0, 2], dtype=np.int64)
    conf, ok, ent = core.top_label(x, labels, True, True)
    assert np.isnan(conf[:3]).all() and conf[3] == 1.0 and 0 <= ent[3] < 1e-30
    assert not ok[:2].any()
    count, hits, _ = core.classwise_bin_stats(x, labels, True, uniform_edges(4), True)
    assert count.sum() == x.size and hits.sum() <= 2
    # Rows with labels outside [0, 3) are skipped: only rows 2 and 3 count (row 2 is NaN).
    assert len(core.temperature_sums(x, labels, 1.0)) == 3
    f, g, h = core.temperature_sums(x[3:], labels[3:], 1.0)
    assert (f, g, h) == (0.0, 0.0, 0.0)  # its label holds all the mass
    conf = np.array([np.nan, -3.0, 7.0, 0.5])
    count, _, _ = core.bin_stats(conf, np.ones(4, dtype=bool), uniform_edges(3), True)
    assert count.sum() == 4
