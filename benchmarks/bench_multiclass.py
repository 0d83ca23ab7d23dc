"""Multiclass benchmark: boostobj's Softmax and Focal against the built-in objectives.

Three imbalanced classes (about 90/8/2%, scikit-learn's ``make_classification``), a
stratified 50/50 train/test split, for each of ``--seeds`` data sets. Every model of a
library trains with the same hyperparameters; the custom objectives start from their
``init_score`` (the built-ins from their own, which for Softmax is the same centred
log-prior). Reported on the test half, mean ± standard deviation over the seeds:

- macro AP: average precision of each class one-vs-rest, averaged over the classes;
- AP of the 2% class;
- log-loss of the predicted probabilities (scikit-learn's ``log_loss``), with its
  relative difference to the library's built-in objective.

Run: ``python benchmarks/bench_multiclass.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, log_loss
from sklearn.model_selection import train_test_split

from boostobj import Focal, Softmax
from boostobj.base import MulticlassLoss

N_CLASSES = 3
XGB_PARAMS = {"num_class": N_CLASSES, "max_depth": 4, "eta": 0.1, "nthread": 1}
LGB_PARAMS = {"num_class": N_CLASSES, "num_leaves": 15, "learning_rate": 0.1}
LGB_PARAMS |= {"num_threads": 1, "verbose": -1}


def make_data(seed: int, n_samples: int) -> tuple[np.ndarray, ...]:
    X, y = make_classification(
        n_samples,
        20,
        n_informative=8,
        n_classes=N_CLASSES,
        weights=[0.9, 0.08, 0.02],
        class_sep=0.8,
        flip_y=0.01,
        random_state=seed,
    )
    return tuple(train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y))


def balanced_alpha(y: np.ndarray) -> list[float]:
    """Class weights 1 / (K prior): every class carries the same total weight."""
    prior = np.bincount(y, minlength=N_CLASSES) / y.size
    return (1 / (N_CLASSES * prior)).tolist()


def losses(y: np.ndarray) -> dict[str, MulticlassLoss]:
    return {
        "Softmax()": Softmax(),
        'Softmax("friedman")': Softmax(hessian="friedman"),
        "Focal(γ=1)": Focal(gamma=1.0),
        "Focal(γ=2)": Focal(gamma=2.0),
        "Focal(γ=2, balanced α)": Focal(gamma=2.0, alpha=balanced_alpha(y)),
    }


def xgboost_models(X: Any, y: Any, X_test: Any, rounds: int) -> dict[str, np.ndarray]:
    """Test-set probabilities of the built-in and of every custom loss."""
    builtin = xgb.train({**XGB_PARAMS, "objective": "multi:softprob"}, xgb.DMatrix(X, y), rounds)
    out = {"built-in multi:softprob": builtin.predict(xgb.DMatrix(X_test))}
    for name, loss in losses(y).items():
        init = loss.init_score(y)
        train = xgb.DMatrix(X, y, base_margin=np.tile(init, (len(y), 1)))
        booster = xgb.train(XGB_PARAMS, train, rounds, obj=loss)
        test = xgb.DMatrix(X_test, base_margin=np.tile(init, (len(X_test), 1)))
        out[name] = loss.transform(booster.predict(test, output_margin=True).astype(np.float64))
    return out


def lightgbm_models(X: Any, y: Any, X_test: Any, rounds: int) -> dict[str, np.ndarray]:
    """Test-set probabilities of the built-in and of every custom loss."""
    builtin = lgb.train({**LGB_PARAMS, "objective": "multiclass"}, lgb.Dataset(X, y), rounds)
    out = {"built-in multiclass": builtin.predict(X_test)}
    for name, loss in losses(y).items():
        init = loss.init_score(y)
        train = lgb.Dataset(X, y, init_score=np.tile(init, (len(y), 1)))
        booster = lgb.train({**LGB_PARAMS, "objective": loss}, train, rounds)
        out[name] = loss.transform(booster.predict(X_test, raw_score=True) + init)
    return out


def scores(y_test: np.ndarray, probability: np.ndarray) -> tuple[float, float, float]:
    """(macro AP, AP of the rarest class, log-loss)."""
    ap = [average_precision_score(y_test == c, probability[:, c]) for c in range(N_CLASSES)]
    return float(np.mean(ap)), float(ap[-1]), float(log_loss(y_test, probability))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    backends: dict[str, Callable[..., dict[str, np.ndarray]]] = {
        "XGBoost": xgboost_models,
        "LightGBM": lightgbm_models,
    }
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for seed in range(args.seeds):
        X, X_test, y, y_test = make_data(seed, args.samples)
        for backend, train in backends.items():
            for name, probability in train(X, y, X_test, args.rounds).items():
                results.setdefault((backend, name), []).append(scores(y_test, probability))

    print(
        f"{args.samples} rows (50% test), {args.seeds} seeds, {args.rounds} rounds; "
        f"xgboost {xgb.__version__}, lightgbm {lgb.__version__}, "
        f"{platform.processor() or platform.machine()}\n"
    )
    print("| library | objective | macro AP | AP, 2% class | log-loss | vs built-in |")
    print("|---|---|---|---|---|---|")
    for backend in backends:
        rows = {name: np.array(v) for (b, name), v in results.items() if b == backend}
        reference = next(v for name, v in rows.items() if name.startswith("built-in"))[:, 2]
        for name, values in rows.items():
            mean, sd = values.mean(axis=0), values.std(axis=0)
            change = 100 * np.mean(values[:, 2] / reference - 1)
            print(
                f"| {backend} | {name} | {mean[0]:.4f} ± {sd[0]:.4f} | "
                f"{mean[1]:.4f} ± {sd[1]:.4f} | {mean[2]:.4f} ± {sd[2]:.4f} | {change:+.2f}% |"
            )


if __name__ == "__main__":
    main()
