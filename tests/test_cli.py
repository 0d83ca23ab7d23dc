"""The ``boostobj`` command: demo, fit, predict, their help and their error messages."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from boostobj.cli import SETTINGS_FILE, build_parser, main
from boostobj.datasets import (
    heavy_tailed_regression,
    heteroscedastic_regression,
    imbalanced_classification,
)

SCRIPT = Path(sys.executable).parent / "boostobj"
#: One thread per model (a --param passed to the library): tests share a few cores.
ONE_THREAD = ["--param", "n_jobs=1"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``boostobj argv``, expect the usage-error status and return stderr."""
    assert main(argv) == 2
    return capsys.readouterr().err


@pytest.fixture
def regression_csv(tmp_path: Path) -> Path:
    path = tmp_path / "houses.csv"
    frame = heavy_tailed_regression(400, random_state=1).frame("price")
    frame.insert(0, "id", np.arange(len(frame)))
    frame.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- help
def _subcommands() -> dict[str, argparse.ArgumentParser]:
    actions = build_parser()._subparsers._group_actions  # type: ignore[union-attr]
    return dict(actions[0].choices)


@pytest.mark.parametrize("command", ["demo", "fit", "predict"])
def test_help_explains_every_option(command: str) -> None:
    parser = _subcommands()[command]
    help_text = " ".join(parser.format_help().split())
    for action in parser._actions:
        assert action.help and len(action.help) > 10, f"{command} {action.dest}: no help"
        for option in action.option_strings or [action.metavar]:
            assert option in help_text


def test_console_script_and_module_agree() -> None:
    by_script = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True)
    by_module = subprocess.run(
        [sys.executable, "-m", "boostobj", "--help"], capture_output=True, text=True
    )
    assert by_script.returncode == by_module.returncode == 0
    assert by_script.stdout == by_module.stdout
    assert {"demo", "fit", "predict"} <= set(by_script.stdout.split())


# --------------------------------------------------------------------------- errors
def test_missing_optional_dependency_names_the_extra(tmp_path: Path) -> None:
    """Where pandas cannot be imported, fit says how to install it (and does not crash)."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pandas':\n"
        "            raise ImportError('pandas is blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    argv = ["fit", str(tmp_path / "data.csv"), "--target", "y", "--out", str(tmp_path / "m")]
    done = subprocess.run(
        [sys.executable, "-m", "boostobj", *argv], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert "needs the optional package 'pandas': pip install 'boostobj[demo]'" in done.stderr


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = _error(capsys, ["fit", str(tmp_path / "nope.csv"), "--target", "y", "--out", "m"])
    assert "no such file" in err and "nope.csv" in err


def test_missing_target_column(capsys: pytest.CaptureFixture[str], regression_csv: Path) -> None:
    err = _error(capsys, ["fit", str(regression_csv), "--target", "cost", "--out", "m"])
    assert "'cost' not found" in err and "price" in err


def test_non_numeric_target(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "text.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", "c"]}).to_csv(path, index=False)
    err = _error(capsys, ["fit", str(path), "--target", "y", "--out", "m"])
    assert "'y' is not numeric" in err


def test_non_numeric_feature(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "text.csv"
    pd.DataFrame({"city": ["a", "b", "c"], "y": [1.0, 2.0, 3.0]}).to_csv(path, index=False)
    err = _error(capsys, ["fit", str(path), "--target", "y", "--out", "m"])
    assert "not numeric: city" in err and "--exclude" in err


def test_unknown_loss(capsys: pytest.CaptureFixture[str], regression_csv: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", str(regression_csv), "--target", "price", "--loss", "cauchy", "--out", "m"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'cauchy'" in err and "logcosh" in err


def test_all_targets_missing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    pd.DataFrame({"x": [1.0, 2.0], "y": [np.nan, np.nan]}).to_csv(path, index=False)
    err = _error(capsys, ["fit", str(path), "--target", "y", "--out", "m"])
    assert "no values" in err


def test_alpha_needs_the_quantile_loss(
    capsys: pytest.CaptureFixture[str], regression_csv: Path
) -> None:
    argv = ["fit", str(regression_csv), "--target", "price", "--alpha", "0.1", "--out", "m"]
    assert "--loss quantile" in _error(capsys, argv)


def test_bad_loss_parameter(
    capsys: pytest.CaptureFixture[str], regression_csv: Path, tmp_path: Path
) -> None:
    argv = ["fit", str(regression_csv), "--target", "price", "--loss", "huber"]
    err = _error(capsys, [*argv, "--loss-param", "delta=-1", "--out", str(tmp_path / "m")])
    assert "delta must be a finite number > 0" in err


def test_quantile_levels_come_from_alpha(
    capsys: pytest.CaptureFixture[str], regression_csv: Path
) -> None:
    argv = ["fit", str(regression_csv), "--target", "price", "--loss", "quantile"]
    err = _error(capsys, [*argv, "--loss-param", "alpha=0.3", "--out", "m"])
    assert "from --alpha" in err


def test_predict_needs_a_model_folder(
    capsys: pytest.CaptureFixture[str], regression_csv: Path, tmp_path: Path
) -> None:
    err = _error(capsys, ["predict", str(tmp_path), str(regression_csv), "--out", "p.csv"])
    assert SETTINGS_FILE in err


# ------------------------------------------------------------------ fit and predict
def test_fit_predict_regression_drops_missing_targets(
    capsys: pytest.CaptureFixture[str], regression_csv: Path, tmp_path: Path
) -> None:
    frame = pd.read_csv(regression_csv)
    frame.loc[[3, 10, 20], "price"] = np.nan
    frame.loc[5, "x1"] = np.nan  # a missing feature is fine
    frame.to_csv(regression_csv, index=False)
    model_dir, out = tmp_path / "model", tmp_path / "predictions.csv"
    argv = ["fit", str(regression_csv), "--target", "price", "--loss", "logcosh"]
    argv += ["--exclude", "id", "--n-estimators", "100", "--param", "max_depth=3", *ONE_THREAD]
    assert main([*argv, "--out", str(model_dir)]) == 0
    printed = capsys.readouterr().out
    assert "dropped 3 of 400 rows" in printed and "RMSE" in printed

    settings = json.loads((model_dir / SETTINGS_FILE).read_text())
    assert settings["features"] == [f"x{i}" for i in range(6)]
    assert settings["rows"] == {"train": 317, "test": 80, "dropped_missing_target": 3}
    assert set(settings["held_out_metrics"]) == {"MAE", "RMSE", "R2"}

    assert (
        main(["predict", str(model_dir), str(regression_csv), "--out", str(out), "--keep", "id"])
        == 0
    )
    predictions = pd.read_csv(out)
    assert list(predictions) == ["id", "prediction"] and len(predictions) == 400
    assert np.array_equal(predictions["id"], frame["id"])
    truth = heavy_tailed_regression(400, random_state=1).truth  # the noiseless function
    assert np.corrcoef(predictions["prediction"], truth)[0, 1] > 0.8


def test_fit_predict_quantile_parquet(tmp_path: Path) -> None:
    data = tmp_path / "houses.parquet"
    heavy_tailed_regression(400, outlier_fraction=0, random_state=2).frame("price").to_parquet(data)
    model_dir, out = tmp_path / "model", tmp_path / "q.csv"
    argv = ["fit", str(data), "--target", "price", "--loss", "quantile", "--alpha", "0.1", "0.9"]
    argv += ["--backend", "lightgbm", "--conformal", "--n-estimators", "40", *ONE_THREAD]
    assert main([*argv, "--out", str(model_dir)]) == 0
    metrics = json.loads((model_dir / SETTINGS_FILE).read_text())["held_out_metrics"]
    assert {"pinball@0.1", "pinball@0.9", "coverage (80%)"} <= set(metrics)
    assert 0.5 < metrics["coverage (80%)"] <= 1

    assert main(["predict", str(model_dir), str(data), "--out", str(out)]) == 0
    predictions = pd.read_csv(out)
    assert list(predictions) == ["q0.1", "q0.9"] and len(predictions) == 400
    assert np.mean(predictions["q0.1"] <= predictions["q0.9"]) > 0.95


def test_fit_predict_classifier_keeps_the_labels(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "churn.csv"
    frame = imbalanced_classification(1000, prevalence=0.2, random_state=3).frame("churn")
    frame["churn"] = np.where(frame["churn"] == 1, 7, 3)  # any two numeric labels
    frame.to_csv(data, index=False)
    model_dir, out = tmp_path / "model", tmp_path / "p.csv"
    argv = ["fit", str(data), "--target", "churn", "--loss", "focal", "--loss-param", "gamma=1"]
    assert main([*argv, "--n-estimators", "40", *ONE_THREAD, "--out", str(model_dir)]) == 0
    metrics = json.loads((model_dir / SETTINGS_FILE).read_text())["held_out_metrics"]
    assert metrics["ROC-AUC"] > 0.75

    capsys.readouterr()
    assert (
        main(["predict", str(model_dir), str(data), "--out", str(out), "--threshold", "0.3"]) == 0
    )
    predictions = pd.read_csv(out)
    assert list(predictions) == ["probability_3", "probability_7", "label"]
    assert np.allclose(predictions["probability_3"] + predictions["probability_7"], 1)
    assert set(predictions["label"]) == {3, 7}
    assert np.array_equal(predictions["label"] == 7, predictions["probability_7"] >= 0.3)


def test_fit_predict_multiclass_text_labels(tmp_path: Path) -> None:
    data = tmp_path / "levels.csv"
    frame = heteroscedastic_regression(600, random_state=4).frame("level")
    frame["level"] = pd.cut(frame["level"], [-np.inf, 2, 8, np.inf], labels=["low", "mid", "high"])
    frame.to_csv(data, index=False)
    model_dir, out = tmp_path / "model", tmp_path / "p.csv"
    argv = ["fit", str(data), "--target", "level", "--loss", "softmax", "--backend", "lightgbm"]
    assert main([*argv, "--n-estimators", "40", *ONE_THREAD, "--out", str(model_dir)]) == 0
    metrics = json.loads((model_dir / SETTINGS_FILE).read_text())["held_out_metrics"]
    assert set(metrics) == {"log-loss", "accuracy"} and metrics["accuracy"] > 0.7

    assert main(["predict", str(model_dir), str(data), "--out", str(out)]) == 0
    predictions = pd.read_csv(out)
    probabilities = ["probability_high", "probability_low", "probability_mid"]
    assert list(predictions) == [*probabilities, "label"]
    assert np.allclose(predictions[probabilities].sum(axis=1), 1)
    assert np.mean(predictions["label"] == frame["level"]) > 0.7


def test_predict_needs_the_feature_columns(
    capsys: pytest.CaptureFixture[str], regression_csv: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "model"
    argv = ["fit", str(regression_csv), "--target", "price", "--n-estimators", "5", *ONE_THREAD]
    assert main([*argv, "--out", str(model_dir)]) == 0
    partial = tmp_path / "partial.csv"
    pd.read_csv(regression_csv).drop(columns=["x2"]).to_csv(partial, index=False)
    err = _error(capsys, ["predict", str(model_dir), str(partial), "--out", "p.csv"])
    assert "lacks the model's feature columns: x2" in err


# ----------------------------------------------------------------------------- demo
def test_demo_quick(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [str(SCRIPT), "demo", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for part in ("robust regression", "90% intervals", "imbalanced classification"):
        assert part in done.stdout
    assert "training" in done.stderr  # the progress bar
    results = pd.read_csv(out / "results.csv")
    counts = results.groupby(["part", "backend"]).size().to_dict()
    for backend in ("xgboost", "lightgbm"):
        assert counts[("robust regression", backend)] == 7
        assert counts[("90% intervals", backend)] == 3
        assert counts[("imbalanced classification", backend)] == 4
    assert results.drop(columns=["part", "backend", "model"]).notna().any(axis=None)
    for plot in ("intervals.png", "reliability.png"):
        assert (out / plot).read_bytes()[:8] == PNG_MAGIC


def test_demo_one_backend(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["demo", "--quick", "--backend", "lightgbm", "--out", str(tmp_path)]) == 0
    results = pd.read_csv(tmp_path / "results.csv")
    assert set(results["backend"]) == {"lightgbm", "-"}  # "-": the true quantiles, probabilities
    assert "xgboost" not in capsys.readouterr().out
