"""``boostobj demo``: the losses against the alternatives, on generated data.

Three comparisons, each on XGBoost and LightGBM with the same trees and rounds:

1. robust regression on heavy-tailed targets with outliers: log-cosh, Huber and
   pseudo-Huber against squared error and the libraries' built-in objectives, scored
   against the noiseless function;
2. 90% prediction intervals from ``QuantileRegressor``, before and after conformal
   calibration, against the built-in quantile objectives and the true quantiles;
3. imbalanced classification (5% positives): logistic, focal and exponential against
   the built-in logistic objective and the true probabilities.

The scoring functions here are shared with ``boostobj fit``. matplotlib, pandas and tqdm
are imported only when the demo runs (``pip install 'boostobj[demo]'``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from boostobj.datasets import (
    HETEROSCEDASTIC_RANGE,
    SyntheticData,
    heavy_tailed_regression,
    heteroscedastic_quantile,
    heteroscedastic_regression,
    imbalanced_classification,
)
from boostobj.estimators import BoostClassifier, BoostRegressor, QuantileRegressor
from boostobj.losses import Quantile

BACKENDS = ("xgboost", "lightgbm")
#: Quantile levels of the demo's QuantileRegressor: a 90% interval and the median.
ALPHAS = (0.05, 0.5, 0.95)
COVERAGE = 0.9
LOW, HIGH = ALPHAS[0], ALPHAS[-1]
ROBUST, INTERVALS, CLASSIFICATION = (
    "robust regression",
    "90% intervals",
    "imbalanced classification",
)
#: Tree size per library, the same for every loss (XGBoost grows by depth, LightGBM by leaves).
TREE_PARAMS = {"xgboost": {"max_depth": 4}, "lightgbm": {"num_leaves": 15}}
#: One thread per model: on data this small, more threads mostly wait for each other.
N_JOBS = 1
#: The metrics shown per part (the scoring functions compute more).
SHOWN_METRICS = {
    ROBUST: ("MAE", "RMSE"),
    CLASSIFICATION: ("log-loss", "ROC-AUC", "avg precision"),
}
#: The libraries' built-in regression objectives compared with the robust losses.
BUILTIN_REGRESSION = {
    "xgboost": ("reg:squarederror", "reg:pseudohubererror", "reg:absoluteerror"),
    "lightgbm": ("l2", "huber", "l1"),
}


# ------------------------------------------------------------------------ scoring
def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """Mean absolute error, root mean squared error and R²."""
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    error = y_pred - y_true
    total = np.sum((y_true - y_true.mean()) ** 2)
    return {
        "MAE": float(np.mean(np.abs(error))),
        "RMSE": float(np.sqrt(np.mean(error**2))),
        "R2": float(1 - np.sum(error**2) / total) if total > 0 else float("nan"),
    }


def interval_scores(y_true: Any, lower: Any, upper: Any, coverage: float) -> dict[str, float]:
    """Empirical coverage, mean width and the mean interval (Winkler) score of
    ``[lower, upper]`` at nominal ``coverage``: width plus ``2 / (1 - coverage)`` times
    the distance to the interval of each point outside it (lower is better)."""
    y_true = np.asarray(y_true, np.float64)
    lower, upper = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    miss = 2 / (1 - coverage)
    score = (
        (upper - lower)
        + miss * np.maximum(lower - y_true, 0)
        + miss * np.maximum(y_true - upper, 0)
    )
    return {
        "coverage": float(np.mean((lower <= y_true) & (y_true <= upper))),
        "width": float(np.mean(upper - lower)),
        "interval score": float(np.mean(score)),
    }


def interval_metrics(y_true: Any, quantiles: Any, alphas: Sequence[float]) -> dict[str, float]:
    """Pinball loss per level and, for two levels or more, the interval scores of the
    outermost pair (nominal coverage: the difference of their levels)."""
    quantiles = np.asarray(quantiles, np.float64).reshape(len(y_true), len(alphas))
    metrics = {
        f"pinball@{alpha:g}": Quantile(alpha).mean_loss(y_true, quantiles[:, k])
        for k, alpha in enumerate(alphas)
    }
    if len(alphas) >= 2:
        low, high = int(np.argmin(alphas)), int(np.argmax(alphas))
        nominal = alphas[high] - alphas[low]
        scores = interval_scores(y_true, quantiles[:, low], quantiles[:, high], nominal)
        metrics.update({f"{name} ({nominal:.0%})": value for name, value in scores.items()})
    return metrics


def classification_metrics(y_true: Any, probability: Any) -> dict[str, float]:
    """Log-loss and accuracy of class probabilities, shape (n, K), given labels 0..K-1;
    with two classes also ROC-AUC and average precision of class 1."""
    y_true = np.asarray(y_true)
    probability = np.asarray(probability, np.float64)
    probability /= probability.sum(axis=1, keepdims=True)  # float32 inputs: rows sum to 1±ε
    classes = np.arange(probability.shape[1])
    metrics = {"log-loss": float(log_loss(y_true, probability, labels=classes))}
    if classes.size == 2:
        metrics["ROC-AUC"] = float(roc_auc_score(y_true, probability[:, 1]))
        metrics["avg precision"] = float(average_precision_score(y_true, probability[:, 1]))
    metrics["accuracy"] = float(np.mean(np.argmax(probability, axis=1) == y_true))
    return metrics


# ------------------------------------------------------------------ demo set-up
@dataclass(frozen=True)
class Sizes:
    """Rows per data set and boosting rounds per model."""

    n_train: int
    n_calibration: int
    n_test: int
    n_estimators: int


FULL = Sizes(n_train=4000, n_calibration=1000, n_test=2000, n_estimators=200)
QUICK = Sizes(n_train=600, n_calibration=300, n_test=300, n_estimators=20)


@dataclass
class Result:
    """One row of the results table, and what its plot needs (``curves``)."""

    part: str
    backend: str
    model: str
    metrics: dict[str, float]
    curves: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """One unit of training for the progress bar."""

    part: str
    backend: str
    model: str
    run: Callable[[], list[Result]]


@dataclass(frozen=True)
class Split:
    """Train, calibration and test rows of one generated data set."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_calibration: np.ndarray
    y_calibration: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    truth_test: np.ndarray

    @classmethod
    def of(cls, data: SyntheticData, n_train: int, n_calibration: int = 0) -> Split:
        """The first ``n_train`` rows, the next ``n_calibration``, then the rest."""
        a, b = n_train, n_train + n_calibration
        X, y = data.X, data.y
        return cls(X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:], data.truth[b:])


def _library_model(backend: str, classifier: bool, params: dict[str, Any]) -> Any:
    """An XGBoost or LightGBM scikit-learn model with a built-in objective."""
    if backend == "xgboost":
        return (xgb.XGBClassifier if classifier else xgb.XGBRegressor)(**params)
    return (lgb.LGBMClassifier if classifier else lgb.LGBMRegressor)(verbose=-1, **params)


def _shown(part: str, metrics: dict[str, float]) -> dict[str, float]:
    return {name: metrics[name] for name in SHOWN_METRICS[part]}


# ----------------------------------------------------------------------- parts
def _robust_jobs(backend: str, data: Split, params: dict[str, Any]) -> list[Job]:
    def score(model: str, prediction: np.ndarray) -> list[Result]:
        metrics = _shown(ROBUST, regression_metrics(data.truth_test, prediction))
        return [Result(ROBUST, backend, model, metrics)]

    def custom(loss: str) -> Callable[[], list[Result]]:
        def run() -> list[Result]:
            model = BoostRegressor(loss=loss, backend=backend, **params)
            return score(
                f"boostobj {loss}", model.fit(data.X_train, data.y_train).predict(data.X_test)
            )

        return run

    def builtin(objective: str) -> Callable[[], list[Result]]:
        def run() -> list[Result]:
            model = _library_model(backend, False, {"objective": objective, **params})
            return score(
                f"built-in {objective}", model.fit(data.X_train, data.y_train).predict(data.X_test)
            )

        return run

    losses = ("logcosh", "huber", "pseudo_huber", "squared_error")
    return [Job(ROBUST, backend, loss, custom(loss)) for loss in losses] + [
        Job(ROBUST, backend, objective, builtin(objective))
        for objective in BUILTIN_REGRESSION[backend]
    ]


def _interval_grid(n_features: int) -> np.ndarray:
    """Points along the informative feature, the others at the middle of their range."""
    grid = np.full((200, n_features), np.mean(HETEROSCEDASTIC_RANGE))
    grid[:, 0] = np.linspace(*HETEROSCEDASTIC_RANGE, 200)
    return grid


def _interval_jobs(backend: str, data: Split, params: dict[str, Any]) -> list[Job]:
    grid = _interval_grid(data.X_test.shape[1])

    def quantile_regressor() -> list[Result]:
        model = QuantileRegressor(alphas=ALPHAS, backend=backend, **params)
        model.fit(data.X_train, data.y_train)

        def result(name: str) -> Result:
            lower, upper = model.predict_interval(data.X_test, coverage=COVERAGE)
            grid_lower, grid_upper = model.predict_interval(grid, coverage=COVERAGE)
            scores = interval_scores(data.y_test, lower, upper, COVERAGE)
            curves = {"x": grid[:, 0], "lower": grid_lower, "upper": grid_upper}
            return Result(INTERVALS, backend, name, scores, curves)

        uncalibrated = result("QuantileRegressor")
        model.calibrate(data.X_calibration, data.y_calibration)
        return [uncalibrated, result("+ conformal")]

    def builtin() -> list[Result]:
        if backend == "xgboost":
            model = _library_model(
                backend,
                False,
                {"objective": "reg:quantileerror", "quantile_alpha": [LOW, HIGH], **params},
            )
            lower, upper = model.fit(data.X_train, data.y_train).predict(data.X_test).T
        else:
            lower, upper = (
                _library_model(backend, False, {"objective": "quantile", "alpha": alpha, **params})
                .fit(data.X_train, data.y_train)
                .predict(data.X_test)
                for alpha in (LOW, HIGH)
            )
        name = "built-in quantile"
        return [
            Result(INTERVALS, backend, name, interval_scores(data.y_test, lower, upper, COVERAGE))
        ]

    return [
        Job(INTERVALS, backend, "QuantileRegressor", quantile_regressor),
        Job(INTERVALS, backend, "built-in quantile", builtin),
    ]


def _classification_jobs(backend: str, data: Split, params: dict[str, Any]) -> list[Job]:
    def score(model: str, probability: np.ndarray) -> list[Result]:
        metrics = _shown(CLASSIFICATION, classification_metrics(data.y_test, probability))
        curves = {"probability": probability[:, 1]}
        return [Result(CLASSIFICATION, backend, model, metrics, curves)]

    def custom(loss: str) -> Callable[[], list[Result]]:
        def run() -> list[Result]:
            model = BoostClassifier(loss=loss, backend=backend, **params)
            model.fit(data.X_train, data.y_train)
            return score(f"boostobj {loss}", model.predict_proba(data.X_test))

        return run

    def builtin() -> list[Result]:
        model = _library_model(backend, True, params).fit(data.X_train, data.y_train)
        return score("built-in logistic", model.predict_proba(data.X_test))

    losses = ("logistic", "focal", "exponential")
    return [Job(CLASSIFICATION, backend, loss, custom(loss)) for loss in losses] + [
        Job(CLASSIFICATION, backend, "built-in logistic", builtin)
    ]


def _reference_results(intervals: Split, classification: Split) -> list[Result]:
    """What a perfect model would score: the true quantiles and probabilities."""
    x0 = intervals.X_test[:, 0]
    lower, upper = heteroscedastic_quantile(x0, LOW), heteroscedastic_quantile(x0, HIGH)
    grid = _interval_grid(intervals.X_test.shape[1])[:, 0]
    truth_curves = {
        "x": grid,
        "lower": heteroscedastic_quantile(grid, LOW),
        "upper": heteroscedastic_quantile(grid, HIGH),
    }
    truth = classification.truth_test
    return [
        Result(
            INTERVALS,
            "-",
            "true quantiles",
            interval_scores(intervals.y_test, lower, upper, COVERAGE),
            truth_curves,
        ),
        Result(
            CLASSIFICATION,
            "-",
            "true probabilities",
            _shown(
                CLASSIFICATION,
                classification_metrics(classification.y_test, np.column_stack([1 - truth, truth])),
            ),
        ),
    ]


# ------------------------------------------------------------------------ plots
def _plot_intervals(results: list[Result], data: Split, path: Path) -> None:
    import matplotlib.pyplot as plt

    truth = next(r for r in results if r.model == "true quantiles").curves
    backends = sorted({r.backend for r in results if r.curves and r.backend != "-"})
    figure, axes = plt.subplots(1, len(backends), figsize=(6 * len(backends), 4.5), squeeze=False)
    for axis, backend in zip(axes[0], backends, strict=True):
        axis.scatter(data.X_test[:, 0], data.y_test, s=3, color="0.7", label="test data")
        axis.plot(truth["x"], truth["lower"], "k--", lw=1.2, label="true 5% / 95% quantiles")
        axis.plot(truth["x"], truth["upper"], "k--", lw=1.2)
        for result, color in zip(
            (r for r in results if r.backend == backend and r.curves), ("C0", "C3"), strict=True
        ):
            label = f"{result.model} (coverage {result.metrics['coverage']:.0%})"
            curves = result.curves
            axis.plot(curves["x"], curves["lower"], color=color, label=label)
            axis.plot(curves["x"], curves["upper"], color=color)
        axis.set(title=f"{backend}: 90% intervals", xlabel="x0 (other features at 5)", ylabel="y")
        axis.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _plot_reliability(
    results: list[Result], y_test: np.ndarray, path: Path, bins: int = 10
) -> None:
    import matplotlib.pyplot as plt

    backends = sorted({r.backend for r in results if r.curves})
    figure, axes = plt.subplots(1, len(backends), figsize=(5.5 * len(backends), 4.5), squeeze=False)
    for axis, backend in zip(axes[0], backends, strict=True):
        for result in (r for r in results if r.backend == backend and r.curves):
            probability = result.curves["probability"]
            # Equal-count bins: with 5% positives, equal-width bins would be nearly empty.
            order = np.argsort(probability, kind="stable")
            chunks = np.array_split(order, bins)
            mean_p = np.array([probability[chunk].mean() for chunk in chunks])
            observed = np.array([y_test[chunk].mean() for chunk in chunks])
            style = "s--" if result.model.startswith("built-in") else "o-"  # may overlap
            axis.plot(mean_p, observed, style, ms=4, label=result.model)
        axis.plot([1e-4, 1], [1e-4, 1], "k:", lw=1, label="perfectly calibrated")
        axis.set(
            xscale="log",
            title=f"{backend}: reliability (test set, {bins} equal-count bins)",
            xlabel="mean predicted probability",
            ylabel="observed frequency of positives",
        )
        axis.set_yscale("symlog", linthresh=1e-2)  # observed frequencies can be 0
        axis.set_ylim(0, 1)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# ------------------------------------------------------------------------- main
def results_table(results: list[Result]) -> Any:
    """The results as a pandas DataFrame: part, backend, model, then one column per metric."""
    import pandas as pd

    rows = [{"part": r.part, "backend": r.backend, "model": r.model, **r.metrics} for r in results]
    return pd.DataFrame(rows)


def format_table(table: Any) -> str:
    """One block per part, with only that part's metric columns."""
    blocks = []
    for part, rows in table.groupby("part", sort=False):
        rows = rows.drop(columns="part").dropna(axis=1, how="all")
        blocks.append(f"{part}\n{rows.to_string(index=False, float_format=lambda v: f'{v:.3f}')}")
    return "\n\n".join(blocks)


def run_demo(
    out: str | Path = "boostobj-demo",
    quick: bool = False,
    backends: Sequence[str] = BACKENDS,
    random_state: int = 0,
) -> Any:
    """Run the three comparisons, print the table, write ``results.csv`` and the plots
    ``intervals.png`` and ``reliability.png`` to ``out``; return the table (a DataFrame)."""
    import matplotlib

    matplotlib.use("Agg")
    from tqdm.auto import tqdm

    sizes = QUICK if quick else FULL
    n_rows = sizes.n_train + sizes.n_calibration + sizes.n_test
    robust = Split.of(heavy_tailed_regression(n_rows, random_state=random_state), sizes.n_train)
    intervals = Split.of(
        heteroscedastic_regression(n_rows, random_state=random_state),
        sizes.n_train,
        sizes.n_calibration,
    )
    # Twice the rows: with 5% positives, the test set needs enough of them.
    classification = Split.of(
        imbalanced_classification(2 * n_rows, random_state=random_state), 2 * sizes.n_train
    )

    jobs: list[Job] = []
    for backend in backends:
        params = {
            "n_estimators": sizes.n_estimators,
            "learning_rate": 0.1,
            "random_state": random_state,
            "n_jobs": N_JOBS,
            **TREE_PARAMS[backend],
        }
        jobs += _robust_jobs(backend, robust, params)
        jobs += _interval_jobs(backend, intervals, params)
        jobs += _classification_jobs(backend, classification, params)

    results: list[Result] = []
    with tqdm(jobs, desc="training", unit="model") as bar:
        for job in bar:
            bar.set_postfix_str(f"{job.backend} {job.part}: {job.model}")
            results += job.run()
    results += _reference_results(intervals, classification)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = results_table(results)
    table.to_csv(out / "results.csv", index=False)
    _plot_intervals([r for r in results if r.part == INTERVALS], intervals, out / "intervals.png")
    _plot_reliability(
        [r for r in results if r.part == CLASSIFICATION],
        classification.y_test,
        out / "reliability.png",
    )
    print(format_table(table))
    print(f"\nplots and results.csv written to {out}/")
    return table
