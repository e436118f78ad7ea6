"""The command line: `infokit report` (against the truths of the embedded data and against scipy
and scikit-learn on written files), its errors, and `infokit bench` at a toy size."""

from __future__ import annotations

import json
import math
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import mutual_info_score

from infokit import _bench, _report
from infokit.cli import main

LN2 = math.log(2.0)


def plugin_entropy(labels: np.ndarray) -> float:
    """The oracle for discrete columns: scipy on the symbol counts."""
    return float(scipy.stats.entropy(np.unique(labels, return_counts=True)[1]))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def default_report() -> _report.Report:
    table, truth = _report.default_table()
    return _report.build_report(table, truth=truth)


# ---------------------------------------------------------------------------------------------
# The embedded data set and its truths


def test_truth_file_holds_the_closed_forms() -> None:
    # Re-derived here from the laws the generator states, so a stale or edited JSON fails.
    _, truth = _report.default_table()
    cols = truth["columns"]
    hb = -0.1 * math.log(0.1) - 0.9 * math.log(0.9)
    assert cols["octile"]["entropy"] == pytest.approx(math.log(8))
    assert cols["octile"]["mutual_information"] == pytest.approx(math.log(8))
    assert cols["shifted"]["mutual_information"] == pytest.approx(math.log(8 / 2))
    assert cols["sign_copy"]["mutual_information"] == pytest.approx(LN2 - hb)
    assert cols["coin"]["entropy"] == pytest.approx(math.log(3))
    assert cols["coin"]["mutual_information"] == 0.0
    assert cols["z"]["mutual_information"] == pytest.approx(-0.5 * math.log(1 - 0.6**2))
    assert cols["z"]["entropy"] == pytest.approx(0.5 * math.log(2 * math.pi * math.e))
    assert cols["y"]["entropy"] == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 4.0))
    tc = -0.5 * math.log(1 - 0.36) + math.log(8) + math.log(4) + LN2 - hb
    assert truth["total_correlation"] == pytest.approx(tc)


def test_embedded_data_is_small_and_as_described() -> None:
    table, truth = _report.default_table()
    assert table.names[-1] == truth["target"] == "y"
    assert table.rows == truth["rows"]
    data = Path(_report.__file__).parent / "data" / "default.npz"
    assert data.stat().st_size < 300_000
    octile, y = table.columns[0], table.columns[-1]
    assert np.array_equal(
        octile, np.argsort(np.argsort(y, kind="stable"), kind="stable") * 8 // len(y)
    )


# Tolerances (nats), each several times the spread seen over 20 seeds of the generator:
#  - discrete entropy, plug-in: its bias (K - 1)/(2n) <= 1.5e-4 and sampling noise of that order;
#  - real entropy (histogram): seed-to-seed sd 0.004, binning error ~ width^2/24 < 1e-3;
#  - MI of a discrete column: sd <= 0.005 (sign_copy), plug-in bias <= 7*15/(2n) = 0.002;
#  - MI of z: 16 equal-mass bins lose 0.011 of the continuous 0.223, sd 0.004;
#  - total correlation: plug-in is biased up by ~(K_joint - sum K_i)/(2n) ~ 0.05 with
#    K_joint ~ 2500 joint symbols; Miller-Madow removes most of it (sd 0.007).
ENTROPY_TOL = {"discrete": 0.002, "real": 0.02}
MI_TOL = {"discrete": 0.02, "real": 0.03}


def test_default_report_entropies_match_truth(default_report: _report.Report) -> None:
    for c in default_report.columns:
        assert c.entropy_true is not None, c.name
        tol = ENTROPY_TOL[c.kind]
        assert c.entropy_plugin == pytest.approx(c.entropy_true, abs=tol), c.name
        assert c.entropy_miller_madow == pytest.approx(c.entropy_true, abs=tol), c.name


def test_default_report_mutual_information_matches_truth(default_report: _report.Report) -> None:
    kinds = {c.name: c.kind for c in default_report.columns}
    assert kinds == {
        "octile": "discrete",
        "shifted": "discrete",
        "sign_copy": "discrete",
        "coin": "discrete",
        "z": "real",
        "y": "real",
    }
    for c in default_report.columns:
        if c.name == default_report.target:
            assert c.mi_plugin is None and c.mi_true is None
            continue
        assert c.mi_true is not None
        tol = MI_TOL[c.kind]
        assert c.mi_plugin == pytest.approx(c.mi_true, abs=tol), c.name
        assert c.mi_miller_madow == pytest.approx(c.mi_true, abs=tol), c.name


def test_default_report_total_correlation_matches_truth(default_report: _report.Report) -> None:
    true = default_report.total_correlation_true
    assert true is not None
    assert default_report.total_correlation_miller_madow == pytest.approx(true, abs=0.03)
    assert default_report.total_correlation_plugin == pytest.approx(true, abs=0.1)
    # The plug-in bias is upward, and Miller-Madow moves toward the truth.
    assert default_report.total_correlation_plugin > default_report.total_correlation_miller_madow
    assert 1000 < default_report.joint_symbols < default_report.rows


def test_default_report_entropy_of_discrete_columns_is_the_plugin_of_the_counts(
    default_report: _report.Report,
) -> None:
    table, _ = _report.default_table()
    for name, column in zip(table.names, table.columns, strict=True):
        row = next(c for c in default_report.columns if c.name == name)
        if row.kind == "discrete":
            assert row.entropy_plugin == pytest.approx(plugin_entropy(column), rel=1e-12)
            assert row.symbols == len(np.unique(column))


def test_report_text_shows_estimates_beside_truth(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "report")
    assert code == 0 and err == ""
    assert "embedded default data set" in out
    for heading in ("Entropy of each column", "Mutual information with the target 'y'"):
        assert heading in out
    assert "Total correlation of all 6 columns" in out
    assert "16 equal-mass bins" in out
    assert "Freedman-Diaconis" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.strip().startswith("column") and "true" in line)
    assert header.split() == ["column", "kind", "estimator", "plug-in", "Miller-Madow", "true"]
    octile = next(line for line in lines if line.strip().startswith("octile"))
    assert octile.split()[-1] == f"{math.log(8):.4f}"  # the true value printed last
    # The table is aligned: the numeric columns end at the same character.
    entropy_rows = lines[lines.index(header) + 2 : lines.index(header) + 8]
    assert len({len(row) for row in entropy_rows}) == 1


def test_report_json_parses_and_has_the_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "report", "--json")
    assert code == 0
    d = json.loads(out)
    for key in (
        "source",
        "rows",
        "target",
        "units",
        "mi_bins",
        "columns",
        "total_correlation_plugin",
        "total_correlation_miller_madow",
        "total_correlation_true",
        "joint_symbols",
        "notes",
    ):
        assert key in d, key
    assert d["units"] == "nats" and d["target"] == "y" and d["rows"] == 24000
    assert [c["name"] for c in d["columns"]] == [
        "octile",
        "shifted",
        "sign_copy",
        "coin",
        "z",
        "y",
    ]
    for c in d["columns"]:
        for key in ("kind", "entropy_plugin", "entropy_miller_madow", "entropy_true", "mi_plugin"):
            assert key in c


def test_report_base_2_is_nats_over_ln2(capsys: pytest.CaptureFixture[str]) -> None:
    _, out_nats, _ = run_cli(capsys, "report", "--json")
    _, out_bits, _ = run_cli(capsys, "report", "--json", "--base", "2")
    nats, bits = json.loads(out_nats), json.loads(out_bits)
    assert bits["units"] == "bits"
    for cn, cb in zip(nats["columns"], bits["columns"], strict=True):
        for key in ("entropy_plugin", "entropy_true", "mi_miller_madow"):
            if cn[key] is not None:
                assert cb[key] == pytest.approx(cn[key] / LN2, rel=1e-12)
    assert bits["total_correlation_true"] == pytest.approx(nats["total_correlation_true"] / LN2)
    assert bits["columns"][0]["entropy_true"] == pytest.approx(3.0)  # log2 of 8 symbols


# ---------------------------------------------------------------------------------------------
# Files written here, against scipy and scikit-learn


def _labels(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, n)
    b = (a + rng.integers(0, 2, n)) % 5
    c = rng.integers(-3, 3, n)
    return a, b, c


def _check_discrete_columns(
    report: _report.Report, columns: dict[str, np.ndarray], target: str
) -> None:
    assert report.target == target
    for row in report.columns:
        x = columns[row.name]
        assert row.kind == "discrete"
        assert row.entropy_true is None and row.mi_true is None
        assert row.entropy_plugin == pytest.approx(plugin_entropy(x), rel=1e-12)
        if row.name != target:
            assert row.mi_plugin == pytest.approx(mutual_info_score(x, columns[target]), abs=1e-12)
    tc = sum(plugin_entropy(x) for x in columns.values()) - plugin_entropy(
        np.unique(np.stack(list(columns.values()), axis=1), axis=0, return_inverse=True)[1]
    )
    assert report.total_correlation_plugin == pytest.approx(tc, rel=1e-10)


def test_npy_matrix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b, c = _labels(1)
    path = tmp_path / "m.npy"
    np.save(path, np.stack([a, b, c], axis=1))
    report = _report.build_report(_report.load_table(path))
    _check_discrete_columns(report, {"col0": a, "col1": b, "col2": c}, "col2")
    code, out, _ = run_cli(capsys, "report", str(path), "--target", "0")
    assert code == 0 and "target 'col0'" in out
    assert "true" not in out.split("Notes")[0]  # no truth for a user's file


def test_npy_structured_array_fields_are_columns(tmp_path: Path) -> None:
    a, b, _ = _labels(2)
    rec = np.zeros(len(a), dtype=[("first", "i8"), ("second", "i4")])
    rec["first"], rec["second"] = a, b
    path = tmp_path / "rec.npy"
    np.save(path, rec)
    report = _report.build_report(_report.load_table(path), target="first")
    _check_discrete_columns(report, {"first": a, "second": b}, "first")


def test_npz_named_columns_and_single_matrix(tmp_path: Path) -> None:
    a, b, c = _labels(3)
    named = tmp_path / "named.npz"
    np.savez(named, alpha=a, beta=b.astype(np.uint8), gamma=c.astype(np.int16))
    report = _report.build_report(_report.load_table(named), target="beta")
    _check_discrete_columns(report, {"alpha": a, "beta": b, "gamma": c}, "beta")

    single = tmp_path / "single.npz"
    np.savez_compressed(single, table=np.stack([a, b], axis=1))
    report = _report.build_report(_report.load_table(single), target="-1")
    _check_discrete_columns(report, {"col0": a, "col1": b}, "col1")


def test_csv_with_strings_integral_floats_and_reals(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 4000
    colour = rng.choice(["red", "green", "blue"], n)
    grade = rng.integers(0, 4, n).astype(float)  # whole numbers written as 1.0: discrete
    width = rng.uniform(0.0, 2.0, n)  # real, h = log 2
    path = tmp_path / "t.csv"
    lines = ["colour,grade,width"]
    lines += [f"{c},{g:.1f},{w:.17g}" for c, g, w in zip(colour, grade, width, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    report = _report.build_report(_report.load_table(path), target="colour")
    rows = {c.name: c for c in report.columns}
    assert rows["colour"].kind == "discrete" and rows["grade"].kind == "discrete"
    assert rows["width"].kind == "real"
    assert rows["colour"].entropy_plugin == pytest.approx(plugin_entropy(colour), rel=1e-12)
    assert rows["grade"].entropy_plugin == pytest.approx(plugin_entropy(grade), rel=1e-12)
    assert rows["grade"].mi_plugin == pytest.approx(mutual_info_score(grade, colour), abs=1e-12)
    # Uniform on [0, 2): h = log 2; sd of the histogram estimate ~ 0.01 at n = 4000.
    assert rows["width"].entropy_plugin == pytest.approx(math.log(2.0), abs=0.03)
    # Independent columns: the binned MI is plug-in bias only, ~ (16 - 1)(3 - 1)/(2n) = 0.004.
    assert rows["width"].mi_plugin is not None and 0 <= rows["width"].mi_plugin < 0.01
    assert rows["width"].mi_miller_madow == pytest.approx(0.0, abs=0.005)


def test_discrete_rule_for_floats() -> None:
    assert _report.is_discrete(np.arange(64, dtype=float).repeat(2))
    assert not _report.is_discrete(np.arange(65, dtype=float))
    assert not _report.is_discrete(np.array([0.0, 0.5, 1.0]))
    assert _report.is_discrete(np.full(5, 0.25))  # constant: one symbol, H = 0
    assert _report.is_discrete(np.array(["a", "b"]))
    assert _report.is_discrete(np.array([True, False]))


def test_bins_option_changes_the_equal_mass_binning(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "report", "--json", "--bins", "8")
    assert code == 0
    d = json.loads(out)
    assert d["mi_bins"] == 8
    z = next(c for c in d["columns"] if c["name"] == "z")
    assert z["mi_plugin"] < z["mi_true"]  # coarser bins lose more of the continuous MI


def test_default_mi_bins_shrink_for_small_tables() -> None:
    assert _report.default_mi_bins(24000) == 16
    assert _report.default_mi_bins(1000) == 10
    assert _report.default_mi_bins(5) == 2


# ---------------------------------------------------------------------------------------------
# Errors: one line on stderr, exit status 2


def _write_bad_files(tmp_path: Path) -> dict[str, list[str]]:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    hole = tmp_path / "hole.csv"
    hole.write_text("a,b\n1,2\n3,\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip archive")
    truncated = tmp_path / "truncated.npy"
    np.save(truncated, np.zeros((100, 3)))
    truncated.write_bytes(truncated.read_bytes()[:150])
    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((2, 2, 2)))
    nan = tmp_path / "nan.npz"
    np.savez(nan, a=np.array([1.0, np.nan, 2.5]), b=np.array([1, 2, 3]))
    objects = tmp_path / "objects.npy"
    np.save(objects, np.array([[{}, 1]], dtype=object), allow_pickle=True)
    one = tmp_path / "one.npz"
    np.savez(one, a=np.arange(5))
    good = tmp_path / "good.csv"
    good.write_text("a,b\n1,2\n3,4\n")
    return {
        "no such file": [str(tmp_path / "missing.csv")],
        "it is a directory": [str(tmp_path / "dir.npy")],
        "unsupported file type '.txt'": [str(tmp_path / "x.txt")],
        "line 3 has 1 fields, the header has 2": [str(ragged)],
        "column 'b' is empty": [str(hole)],
        "the file is empty": [str(empty)],
        "cannot read": [str(garbage)],
        "as .npy data": [str(truncated)],
        "expected a 2-D array": [str(cube)],
        "has NaN or inf": [str(nan)],
        "Object arrays cannot be loaded": [str(objects)],
        "a table needs two": [str(one)],
        "unknown target column 'c'": [str(good), "--target", "c"],
        "bins must be >= 2": [str(good), "--bins", "1"],
        "base must be a positive real number other than 1": [str(good), "--base", "1"],
    }


def test_bad_input_gives_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dir.npy").mkdir()
    (tmp_path / "x.txt").write_text("1 2\n")
    for expected, argv in _write_bad_files(tmp_path).items():
        code, out, err = run_cli(capsys, "report", *argv)
        assert code == 2, (expected, err)
        assert out == ""
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("infokit: error: ") and expected in lines[0], lines[0]


def test_entry_point_script(tmp_path: Path) -> None:
    # The installed console script, run once as a user would: an error, then a report.
    script = Path(sysconfig.get_path("scripts")) / "infokit"
    assert script.exists(), f"console script not installed at {script}"
    bad = subprocess.run(
        [str(script), "report", str(tmp_path / "missing.npz")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "no such file" in bad.stderr
    good = subprocess.run(
        [str(script), "report", "--base", "2"], capture_output=True, text=True, check=False
    )
    assert good.returncode == 0, good.stderr
    assert "units: bits" in good.stdout


# ---------------------------------------------------------------------------------------------
# infokit bench


def test_bench_tiny_prints_medians_and_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "bench", "--preset", "tiny")
    assert code == 0
    assert "plug-in entropy" in out and "plug-in mutual information" in out
    assert "scipy.stats.entropy(np.bincount(x))" in out
    assert "numpy: bincount(x*1000+y) -> MI" in out
    assert "floor: np.copy(x)" in out
    assert "x as fast on 1 thread" in out
    assert "| NO " not in out  # every peer computed the same value as infokit
    assert "sklearn.metrics.mutual_info_score(x, y)" in out
    assert "floor, read only: x.sum()" in out


def test_bench_run_times_every_contender() -> None:
    results = _bench.run("tiny", thread_counts=(1, 2))
    roles = [(t.case, t.role, t.threads) for t in results.timings]
    for case in ("entropy", "mutual_information"):
        assert (case, "infokit", 1) in roles and (case, "infokit", 2) in roles
        assert (case, "floor", None) in roles
    assert all(t.seconds > 0 for t in results.timings)
    assert all(t.agrees is not False for t in results.timings)
    assert "cpu" in results.machine and "numpy" in results.machine


def test_numpy_recipe_matches_sklearn() -> None:
    # The peer recipe itself is checked, so the benchmark compares like with like.
    a, b, _ = _labels(5)
    assert _bench.numpy_mutual_information(a, b, m=5) == pytest.approx(
        mutual_info_score(a, b), rel=1e-12
    )
