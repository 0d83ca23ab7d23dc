"""The scripts in examples/ run as ``python examples/NAME.py --quick`` and show what they
claim: log-cosh beats squared error on outliers, conformal intervals cover about 90%,
a threshold tuned on validation rows beats 0.5 on imbalanced data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(name: str, *args: str, cwd: Path) -> str:
    """Run an example in ``cwd`` with ``--quick``; return its standard output."""
    # One OpenMP thread: on a few shared cores, boosters' threads mostly wait for each other.
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _row(stdout: str, label: str) -> list[float]:
    """The numbers on the line of the table that starts with ``label``."""
    line = next(line for line in stdout.splitlines() if line.startswith(label))
    return [float(value) for value in re.findall(r"-?\d+\.\d+", line[len(label) :])]


def test_every_example_is_tested() -> None:
    # dask_training runs in tests/test_dask.py::test_example_runs_end_to_end (a cluster).
    tested = {"robust_regression", "quantile_intervals", "imbalanced_focal", "dask_training"}
    assert {path.stem for path in EXAMPLES.glob("*.py")} == tested


def test_robust_regression(tmp_path: Path) -> None:
    stdout = _run("robust_regression", cwd=tmp_path)
    for library in ("xgboost", "lightgbm"):
        logcosh_mae, _ = _row(stdout, f"{library} log-cosh")
        squared_mae, _ = _row(stdout, f"{library} squared error")
        assert logcosh_mae < 0.6 * squared_mae, library


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_quantile_intervals(backend: str, tmp_path: Path) -> None:
    plot = tmp_path / "intervals.png"
    stdout = _run("quantile_intervals", "--backend", backend, "--plot", str(plot), cwd=tmp_path)
    coverage, width = _row(stdout, "+ conformal calibration")
    _, true_width = _row(stdout, "true quantiles")
    assert 85 <= coverage <= 96  # percent; 90% nominal, 1000 test rows
    assert width < 1.5 * true_width
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("quantile_intervals.png"))  # only where it was told


def test_imbalanced_focal(tmp_path: Path) -> None:
    stdout = _run("imbalanced_focal", cwd=tmp_path)
    for loss in ("focal, gamma=2", "logistic"):
        threshold, tuned_f1, f1_at_half, average_precision = _row(stdout, loss)
        assert 0 < threshold < 1
        assert tuned_f1 > f1_at_half
        assert average_precision > 0.3
