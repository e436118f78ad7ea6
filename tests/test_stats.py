"""infokit.stats.permutation_test: the p-value rule checked on the statistic's own recorded
calls, calibration under independence, the bias of plug-in MI as the null mean, exact
reproducibility, and bad inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from infokit.stats import PermutationResult, permutation_test


def plugin_mi(x, y):
    """Plug-in MI in nats of two small non-negative label arrays, from a bincount table."""
    kx, ky = int(x.max()) + 1, int(y.max()) + 1
    joint = np.bincount(x * ky + y, minlength=kx * ky).reshape(kx, ky) / x.size
    px, py = joint.sum(axis=1), joint.sum(axis=0)
    nz = joint > 0
    return float(np.sum(joint[nz] * np.log(joint[nz] / np.outer(px, py)[nz])))


def test_helper_statistic_agrees_with_scikit_learn():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 4, 300), rng.integers(0, 6, 300)
    assert plugin_mi(x, y) == pytest.approx(mutual_info_score(x, y), rel=1e-12, abs=1e-15)
    assert plugin_mi(x, x) == pytest.approx(mutual_info_score(x, x), rel=1e-12)


def test_dependent_data_give_the_smallest_p_value():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, 300)
    y = x % 3  # y is a function of x: no shuffle comes near I(X;Y) = H(Y)
    result = permutation_test(mutual_info_score, x, y, n_permutations=199, seed=0)
    assert result.p_value == 1 / 200
    assert result.value == pytest.approx(mutual_info_score(y, y))
    assert result.null_mean < 0.1 * result.value


def test_independent_data_p_values_are_calibrated():
    # Under independence the +1-corrected p-value is exact: P(p <= a) <= a. Over 200 independent
    # data sets the fraction with p <= 0.1 has sd ~0.021, so [0.03, 0.18] is a > 3-sigma band.
    rng = np.random.default_rng(2)
    p_values = []
    for _ in range(200):
        x, y = rng.integers(0, 3, 80), rng.integers(0, 3, 80)
        p_values.append(permutation_test(plugin_mi, x, y, n_permutations=99, seed=rng).p_value)
    p = np.array(p_values)
    assert 0.03 <= np.mean(p <= 0.1) <= 0.18
    assert 0.42 <= p.mean() <= 0.58  # uniform on (0, 1]: mean ~0.5, sd of the mean ~0.02
    assert p.min() >= 1 / 100  # can never go below 1 / (m + 1)


def test_null_mean_of_plugin_mi_is_its_bias():
    # Under independence 2n * MI_plugin is ~ chi-square with (Kx-1)(Ky-1) degrees of freedom,
    # so the null mean is ~ (Kx-1)(Ky-1)/(2n) = 12/4000 = 0.003 nats and its sd
    # sqrt(2*12)/(2n) ~ 0.0012; the mean of 300 draws is within ~0.0001 of 0.003.
    rng = np.random.default_rng(3)
    n, kx, ky = 2000, 4, 5
    x, y = rng.integers(0, kx, n), rng.integers(0, ky, n)
    result = permutation_test(mutual_info_score, x, y, n_permutations=300, seed=7)
    bias = (kx - 1) * (ky - 1) / (2 * n)
    assert result.null_mean == pytest.approx(bias, rel=0.15)
    assert result.null_std == pytest.approx(np.sqrt(2 * (kx - 1) * (ky - 1)) / (2 * n), rel=0.3)


def test_p_value_rule_on_recorded_calls():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, 50)
    y = rng.normal(size=(50, 2))
    calls = []

    def statistic(a, b):
        calls.append((a, b.copy()))
        return float(np.corrcoef(a, b[:, 0])[0, 1])

    m = 300
    result = permutation_test(statistic, x, y, n_permutations=m, seed=11)
    assert len(calls) == m + 1
    observed = float(np.corrcoef(x, y[:, 0])[0, 1])
    assert result.value == observed
    # the statistic always sees x as given and y with whole rows shuffled
    row_keys = sorted(map(tuple, y))
    for a, b in calls[1:]:
        np.testing.assert_array_equal(a, x)
        assert sorted(map(tuple, b)) == row_keys
    null = result.null
    np.testing.assert_array_equal(
        null, [float(np.corrcoef(a, b[:, 0])[0, 1]) for a, b in calls[1:]]
    )
    assert result.null_mean == pytest.approx(null.mean(), rel=1e-12)
    assert result.null_std == pytest.approx(null.std(), rel=1e-12)
    p_greater = (1 + np.sum(null >= observed)) / (m + 1)
    p_less = (1 + np.sum(null <= observed)) / (m + 1)
    assert result.p_value == p_greater
    for alternative, expected in [
        ("greater", p_greater),
        ("less", p_less),
        ("two-sided", min(1.0, 2 * min(p_greater, p_less))),
    ]:
        other = permutation_test(
            statistic, x, y, n_permutations=m, seed=11, alternative=alternative
        )
        assert other.p_value == expected
        assert other.alternative == alternative


def test_rounding_ties_count_against_the_observed_value():
    # The statistic is 0.3 on the data and 0.1 + 0.2 (0.30000000000000004) on every shuffle:
    # equal in exact arithmetic, so every null value is a tie for "less" as well.
    x = np.arange(40)
    y = np.arange(40)

    def statistic(a, b):
        return 0.3 if np.array_equal(b, y) else 0.1 + 0.2

    for alternative in ("greater", "less", "two-sided"):
        result = permutation_test(
            statistic, x, y, n_permutations=20, seed=0, alternative=alternative
        )
        assert result.p_value == 1.0


def test_same_seed_same_result_and_generators():
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    a = permutation_test(plugin_mi, x, y, n_permutations=100, seed=123)
    b = permutation_test(plugin_mi, x, y, n_permutations=100, seed=123)
    assert a == b
    np.testing.assert_array_equal(a.null, b.null)
    c = permutation_test(plugin_mi, x, y, n_permutations=100, seed=124)
    assert not np.array_equal(a.null, c.null)
    # a Generator seeded like the int gives the same stream, and is advanced by the call
    gen = np.random.default_rng(123)
    d = permutation_test(plugin_mi, x, y, n_permutations=100, seed=gen)
    np.testing.assert_array_equal(d.null, a.null)
    e = permutation_test(plugin_mi, x, y, n_permutations=100, seed=gen)
    assert not np.array_equal(e.null, a.null)


def test_read_only_and_non_contiguous_inputs():
    rng = np.random.default_rng(6)
    x = rng.integers(0, 3, (400, 2))[::2, 0]
    y = rng.integers(0, 3, (400, 2))[::2, 1]
    assert not x.flags.c_contiguous
    x.flags.writeable = False
    y.flags.writeable = False
    got = permutation_test(plugin_mi, x, y, n_permutations=50, seed=1)
    want = permutation_test(plugin_mi, x.copy(), y.copy(), n_permutations=50, seed=1)
    np.testing.assert_array_equal(got.null, want.null)
    assert got == want
    # lists are accepted and reach the statistic as arrays
    lists = permutation_test(plugin_mi, x.tolist(), y.tolist(), n_permutations=50, seed=1)
    assert lists == want


def test_result_is_frozen_and_readable():
    result = permutation_test(plugin_mi, np.arange(6) % 2, np.arange(6) % 3, n_permutations=5)
    assert isinstance(result, PermutationResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.p_value = 0.0  # type: ignore[misc]
    text = repr(result)
    assert text.startswith("PermutationResult(value=")
    assert "p_value=" in text
    assert "n_permutations=5" in text
    assert "null=" not in text


def test_bad_inputs():
    x = np.arange(10) % 2
    y = np.arange(10) % 3
    with pytest.raises(TypeError, match="statistic must be a callable statistic"):
        permutation_test("mi", x, y)
    with pytest.raises(ValueError, match="samples must pair up one to one, but x has 10, y has 9"):
        permutation_test(plugin_mi, x, y[:9])
    with pytest.raises(ValueError, match="x and y need at least 2 samples to permute, got 1"):
        permutation_test(plugin_mi, x[:1], y[:1])
    with pytest.raises(ValueError, match="x must have one sample per row, got a scalar"):
        permutation_test(plugin_mi, 3, y)
    with pytest.raises(TypeError, match="y must be an array of samples"):
        permutation_test(plugin_mi, [1, 2], [[1], [2, 3]])
    with pytest.raises(ValueError, match="n_permutations must be >= 1, got 0"):
        permutation_test(plugin_mi, x, y, n_permutations=0)
    with pytest.raises(TypeError, match="n_permutations must be an int, got float"):
        permutation_test(plugin_mi, x, y, n_permutations=10.0)
    with pytest.raises(ValueError, match=r"alternative must be one of .* got 'bigger'"):
        permutation_test(plugin_mi, x, y, alternative="bigger")
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        permutation_test(plugin_mi, x, y, seed=-1)
    with pytest.raises(TypeError, match=r"seed must be None, an int or a numpy\.random\.Generator"):
        permutation_test(plugin_mi, x, y, seed=1.5)
    with pytest.raises(TypeError, match="statistic must return one real number, but on the data"):
        permutation_test(lambda a, b: np.array([1.0, 2.0]), x, y)
    with pytest.raises(TypeError, match="statistic must return one real number"):
        permutation_test(lambda a, b: "0.5", x, y)
    with pytest.raises(ValueError, match="statistic must return a finite number, but on the data"):
        permutation_test(lambda a, b: float("nan"), x, y)

    def inf_on_shuffles(a, b):
        return 0.0 if np.array_equal(b, y) else float("inf")

    with pytest.raises(ValueError, match="finite number, but on a permutation it returned inf"):
        permutation_test(inf_on_shuffles, x, y, n_permutations=3, seed=0)
