"""Training quality of boostobj objectives against XGBoost's and LightGBM's built-ins.

Rerun:  python benchmarks/bench_quality.py [--quick] [--out results.md]
        [--newton-scale C] [--target-scale K]   (a constant scale's trade-off, BENCHMARKS.md)

Every model uses the library's default hyperparameters except ``n_estimators`` and
``learning_rate`` (the same for both sides of a comparison). A boostobj loss is passed as
``objective=`` with nothing else set ("raw": XGBoost starts at 0.5, LightGBM at 0), and
again as ``loss.fitted_to(y)`` (curvature floor from the labels) with its ``init_score`` as
the starting score ("with init": ``base_score`` for XGBoost, ``init_score`` at fit + added
back at predict for LightGBM), and through the estimators
("estimator": ``BoostRegressor`` / ``BoostClassifier`` with their defaults: the init
score, and for XGBoost ``min_child_weight = loss.newton_scale``). Ratios are
boostobj / built-in on the same split; < 1 is better than the built-in.

Datasets: ``offset`` (synthetic, target mean 5000, spread 1000, Student-t(2) noise),
``hetero`` (synthetic, noise scale depending on a feature), ``diabetes`` (scikit-learn's
bundled data; 5-fold cross-validation), and for classification ``imbalanced``
(synthetic, 5% positives) and ``breast_cancer`` (bundled; 5-fold cross-validation).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import sklearn
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold

from boostobj import (
    BoostClassifier,
    BoostRegressor,
    Exponential,
    Focal,
    Huber,
    LogCosh,
    Logistic,
    Loss,
    PseudoHuber,
    Quantile,
)
from boostobj.base import ScaledRobustLoss


@dataclass
class Dataset:
    name: str
    X: np.ndarray
    y: np.ndarray
    n_estimators: int
    learning_rate: float
    folds: int  # 1 = a single 75/25 split
    shuffle_seed: int = 0  # of the cross-validation folds

    def splits(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.folds == 1:
            order = np.random.default_rng(1).permutation(len(self.y))
            cut = int(0.75 * len(self.y))
            yield order[:cut], order[cut:]
            return
        binary = set(np.unique(self.y)) <= {0.0, 1.0}
        splitter = (StratifiedKFold if binary else KFold)(
            self.folds, shuffle=True, random_state=self.shuffle_seed
        )
        yield from splitter.split(self.X, self.y)


def offset_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(n, 10))
    f = 2 * X[:, 0] + 1.5 * np.sin(2 * X[:, 1]) + X[:, 2] * X[:, 3] + np.abs(X[:, 4])
    f = (f - f.mean()) / f.std()
    return X, 5000 + 1000 * f + 300 * rng.standard_t(2, size=n)


def heteroscedastic_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-2, 2, size=(n, 6))
    mean = 100 * X[:, 0] + 50 * np.sin(3 * X[:, 1])
    return X, mean + (10 + 40 * np.abs(X[:, 2])) * rng.normal(size=n)


def regression_datasets(quick: bool) -> list[Dataset]:
    rng = np.random.default_rng(0)
    n = 8_000 if quick else 40_000
    rounds = 100 if quick else 300
    diabetes = load_diabetes()
    return [
        Dataset("offset", *offset_data(n, rng), rounds, 0.1, 1),
        Dataset("hetero", *heteroscedastic_data(n, rng), rounds, 0.1, 1),
        Dataset("diabetes", diabetes.data, diabetes.target, rounds, 0.1, 5),
    ]


def classification_datasets(quick: bool) -> list[Dataset]:
    X, y = make_classification(
        n_samples=8_000 if quick else 40_000,
        n_features=20,
        n_informative=8,
        weights=[0.95],
        flip_y=0.01,
        random_state=0,
    )
    cancer = load_breast_cancer()
    return [
        Dataset("imbalanced", X, y.astype(float), 100 if quick else 300, 0.1, 1),
        Dataset("breast_cancer", cancer.data, cancer.target.astype(float), 100, 0.1, 5),
    ]


# ---------------------------------------------------------------- model fitting
def fit_predict_builtin(
    backend: str, objective: dict, data: Dataset, train: np.ndarray, test: np.ndarray
) -> np.ndarray:
    """Built-in objective; returns predictions on the target scale (probabilities)."""
    common = {"n_estimators": data.n_estimators, "learning_rate": data.learning_rate}
    X, y = data.X, data.y
    classify = objective.get("classify", False)
    params = {k: v for k, v in objective.items() if k != "classify"}
    if backend == "xgboost":
        model_class = xgb.XGBClassifier if classify else xgb.XGBRegressor
        model = model_class(**common, **params).fit(X[train], y[train])
    else:
        model_class = lgb.LGBMClassifier if classify else lgb.LGBMRegressor
        model = model_class(**common, **params, verbose=-1).fit(X[train], y[train])
    if classify:
        return model.predict_proba(X[test])[:, 1]
    return model.predict(X[test])


def fit_predict_boostobj(
    backend: str, loss: Loss, with_init: bool, data: Dataset, train: np.ndarray, test: np.ndarray
) -> np.ndarray:
    """boostobj loss as ``objective=``; returns ``loss.transform`` of the raw margin."""
    common = {"n_estimators": data.n_estimators, "learning_rate": data.learning_rate}
    X, y = data.X, data.y
    classify = loss.binary_labels
    if with_init:  # the README recipe: the loss fitted to the labels, from its init score
        loss = loss.fitted_to(y[train])
    init = loss.init_score(y[train]) if with_init else 0.0
    if backend == "xgboost":
        model_class = xgb.XGBClassifier if classify else xgb.XGBRegressor
        extra = {}
        if with_init:  # base_score is read through the built-in objective's link
            extra["base_score"] = float(loss.transform(np.array([init]))[0])
        model = model_class(objective=loss, **common, **extra).fit(X[train], y[train])
        raw = model.predict(X[test], output_margin=True)
    else:
        model_class = lgb.LGBMClassifier if classify else lgb.LGBMRegressor
        fit_extra = {"init_score": np.full(len(train), init)} if with_init else {}
        model = model_class(objective=loss, **common, verbose=-1)
        model.fit(X[train], y[train], **fit_extra)
        raw = model.predict(X[test], raw_score=True) + init  # init is not stored
    return np.asarray(loss.transform(raw))


def fit_predict_estimator(
    backend: str, loss: Loss, data: Dataset, train: np.ndarray, test: np.ndarray
) -> np.ndarray:
    """The product path: ``BoostRegressor`` / ``BoostClassifier`` with their defaults
    (starting score from the loss; for XGBoost ``min_child_weight = loss.newton_scale``)."""
    common = {"n_estimators": data.n_estimators, "learning_rate": data.learning_rate}
    X, y = data.X, data.y
    if loss.binary_labels:
        model = BoostClassifier(loss=loss, backend=backend, **common).fit(X[train], y[train])
        return model.predict_proba(X[test])[:, 1]
    return (
        BoostRegressor(loss=loss, backend=backend, **common)
        .fit(X[train], y[train])
        .predict(X[test])
    )


def boostobj_predictions(
    data: Dataset, backend: str, loss: Loss
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Out-of-fold ``(y, prediction)`` for the three ways of training with ``loss``:
    raw objective, objective with init score, estimator."""
    for start in ("raw", "with init"):
        yield cross_validated(
            data,
            lambda tr, te, wi=start == "with init": fit_predict_boostobj(
                backend, loss, wi, data, tr, te
            ),
        )
    yield cross_validated(data, lambda tr, te: fit_predict_estimator(backend, loss, data, tr, te))


STARTS = ("raw", "with init", "estimator")


# ---------------------------------------------------------------------- metrics
def pinball(alpha: float) -> Callable[[np.ndarray, np.ndarray], float]:
    def metric(y: np.ndarray, p: np.ndarray) -> float:
        r = y - p
        return float(np.mean(np.maximum(alpha * r, (alpha - 1) * r)))

    return metric


def mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(y - p)))


def cross_validated(
    data: Dataset, predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions and the matching labels."""
    labels, predictions = [], []
    for train, test in data.splits():
        labels.append(data.y[test])
        predictions.append(predict(train, test))
    return np.concatenate(labels), np.concatenate(predictions)


def builtin_out_of_fold(
    backend: str, objective: dict, data: Dataset
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold labels and predictions of the built-in ``objective``."""
    return cross_validated(
        data, lambda train, test: fit_predict_builtin(backend, objective, data, train, test)
    )


BACKENDS = ("xgboost", "lightgbm")
ALPHAS = (0.05, 0.5, 0.95)
BUILTIN_L1 = {"xgboost": {"objective": "reg:absoluteerror"}, "lightgbm": {"objective": "l1"}}
BUILTIN_LOGISTIC = {
    "xgboost": {"objective": "binary:logistic", "classify": True},
    "lightgbm": {"objective": "binary", "classify": True},
}


def builtin_quantile(backend: str, alpha: float) -> dict:
    if backend == "xgboost":
        return {"objective": "reg:quantileerror", "quantile_alpha": alpha}
    return {"objective": "quantile", "alpha": alpha}


def robust_rows(data: Dataset) -> list[str]:
    rows = []
    for backend in BACKENDS:
        y, reference = builtin_out_of_fold(backend, BUILTIN_L1[backend], data)
        base = mae(y, reference)
        rows.append(f"| {data.name} | {backend} | built-in L1 | {base:.4g} | 1.000 | | |")
        losses = [LogCosh(), Huber(), PseudoHuber(), LogCosh(hessian="exact")]
        for loss in losses:
            cells = [mae(y, p) / base for y, p in boostobj_predictions(data, backend, loss)]
            rows.append(
                f"| {data.name} | {backend} | {loss!r} | | "
                + " | ".join(f"{c:.3f}" for c in cells)
                + " |"
            )
    return rows


def quantile_rows(data: Dataset) -> list[str]:
    rows = []
    for backend in BACKENDS:
        for alpha in ALPHAS:
            y, reference = builtin_out_of_fold(backend, builtin_quantile(backend, alpha), data)
            base = pinball(alpha)(y, reference)
            cells = [f"{base:.4g}", f"{np.mean(y <= reference):.3f}"]
            for y, p in boostobj_predictions(data, backend, Quantile(alpha)):
                cells += [f"{pinball(alpha)(y, p) / base:.3f}", f"{np.mean(y <= p):.3f}"]
            rows.append(f"| {data.name} | {backend} | {alpha} | " + " | ".join(cells) + " |")
    return rows


def classification_scores(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return log_loss(y, p), roc_auc_score(y, p), average_precision_score(y, p)


def classification_rows(data: Dataset) -> list[str]:
    rows = []
    for backend in BACKENDS:
        y, reference = builtin_out_of_fold(backend, BUILTIN_LOGISTIC[backend], data)
        ll, auc, ap = classification_scores(y, reference)
        rows.append(
            f"| {data.name} | {backend} | built-in logistic | | {ll:.4f} | 1.000 | "
            f"{auc:.4f} | {ap:.4f} |"
        )
        for loss in (Logistic(), Focal(), Exponential()):
            for start, (y, p) in zip(
                STARTS, boostobj_predictions(data, backend, loss), strict=True
            ):
                loss_value, auc, ap = classification_scores(y, p)
                rows.append(
                    f"| {data.name} | {backend} | {loss!r} | {start} | {loss_value:.4f} | "
                    f"{loss_value / ll:.3f} | {auc:.4f} | {ap:.4f} |"
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer trees")
    parser.add_argument("--out", help="also write the markdown tables to this file")
    parser.add_argument(
        "--newton-scale",
        type=float,
        help="hand both libraries the secant/Hunter-Lange losses' gradients and Hessians "
        "times this constant (default: LightGBM 1e6, XGBoost normalized every round)",
    )
    parser.add_argument(
        "--target-scale", type=float, default=1.0, help="multiply the regression targets"
    )
    args = parser.parse_args()
    if args.newton_scale is not None:  # a constant for XGBoost too: no xgboost_unit_rows
        ScaledRobustLoss.secant_newton_scale = Quantile.newton_scale = args.newton_scale
        ScaledRobustLoss.xgboost_unit_rows = Quantile.xgboost_unit_rows = None  # type: ignore[assignment]
    warnings.filterwarnings("ignore", category=UserWarning)
    started = time.perf_counter()
    lines = [
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}; Python "
        f"{platform.python_version()}, xgboost {xgb.__version__}, lightgbm {lgb.__version__},"
        f" scikit-learn {sklearn.__version__}, numpy {np.__version__}. "
        f"Command: `python {' '.join(sys.argv)}`.",
        "",
        "### Robust regression: test MAE / built-in L1 MAE (`reg:absoluteerror`, `l1`)",
        "",
        "| data | library | objective | built-in MAE | raw | with init | estimator |",
        "|---|---|---|---|---|---|---|",
    ]
    regression = regression_datasets(args.quick)
    for data in regression:
        data.y = data.y * args.target_scale
    for data in regression:
        lines += robust_rows(data)
        print(f"robust {data.name} done", file=sys.stderr, flush=True)
    lines += [
        "",
        "### Quantile: test pinball loss / built-in (`reg:quantileerror`, `quantile`) and "
        "coverage P(y <= prediction)",
        "",
        "| data | library | alpha | built-in pinball | built-in coverage | raw ratio | "
        "raw coverage | with-init ratio | with-init coverage | estimator ratio | "
        "estimator coverage |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for data in regression:
        lines += quantile_rows(data)
        print(f"quantile {data.name} done", file=sys.stderr, flush=True)
    lines += [
        "",
        "### Binary classification against the built-in logistic (`binary:logistic`, `binary`)",
        "",
        "| data | library | objective | start | log-loss | log-loss ratio | ROC-AUC | "
        "average precision |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for data in classification_datasets(args.quick):
        lines += classification_rows(data)
        print(f"classification {data.name} done", file=sys.stderr, flush=True)
    lines += ["", f"Total time: {time.perf_counter() - started:.0f} s."]
    report(lines, args.out)


def report(lines: list[str], out: str | None) -> None:
    """Print the markdown ``lines``, and write them to ``out`` when it is given."""
    text = "\n".join(lines)
    print(text)
    if out:
        with open(out, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
