"""End-to-end training time: boostobj objectives against the libraries' built-ins.

The issue's setup: float32 features (20), 100 boosting rounds, depth 6 (XGBoost) / 63
leaves (LightGBM), 2 threads, histogram trees, every model started from the same constant
margin (the loss's ``init_score``, as ``base_margin`` / ``init_score``), no eval sets.

Per library and loss, the variants are trained in turn, ``--repeats`` times, interleaved
(every variant once per repetition, the order rotated each time), and each variant's
minimum and median wall time are reported with their ratio to the built-in:

- ``built-in``: the library's own objective (nearest one for losses it lacks:
  ``LogCosh`` against pseudo-Huber / Huber, ``Quantile`` against the quantile objective,
  ``Logistic`` against binary logistic, ``Softmax`` against the multiclass softmax:
  XGBoost's ``multi:softprob`` grows the same trees, LightGBM's ``multiclass`` uses a
  smaller Hessian factor, K/(K-1) instead of 2);
- ``numpy``: for squared error only, the objective a new user writes in plain NumPy
  (``preds - labels, ones``), the issue's baseline;
- ``boostobj``: the loss object as the objective.

``SquaredError`` hands the same gradients as the built-in squared error, so both grow the
same trees: the script checks that their predictions agree (column ``max |Δ|``), which
makes the time ratio a clean measure of what the custom-objective path costs.

Rerun (``--api sklearn`` for ``XGBRegressor`` / ``LGBMRegressor`` instead of the training
APIs):

    python benchmarks/bench_training_speed.py                     # 100k and 1M rows
    python benchmarks/bench_training_speed.py --rows 100000 --repeats 3 --losses squared_error
    python benchmarks/bench_training_speed.py --rows 1000000 --weighted --losses squared_error
    python benchmarks/bench_training_speed.py --losses softmax    # 3 classes, not in the default

``softmax`` (3 classes, the target's tertiles; one tree per class and round) runs only
through the training APIs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb

import boostobj
from boostobj import LogCosh, Logistic, Loss, Quantile, Softmax, SquaredError


@dataclass(frozen=True)
class LossCase:
    """A boostobj loss and the nearest built-in objective of each library."""

    loss: Loss
    xgboost: dict[str, Any]
    lightgbm: dict[str, Any]
    n_classes: int = 1  #: classes of a multiclass loss (labels 0..K-1), 1 otherwise


LOSS_CASES = {
    "squared_error": LossCase(
        SquaredError(), {"objective": "reg:squarederror"}, {"objective": "regression"}
    ),
    "logcosh": LossCase(
        LogCosh(),
        {"objective": "reg:pseudohubererror", "huber_slope": 1.0},
        {"objective": "huber", "alpha": 1.0},
    ),
    "quantile": LossCase(
        Quantile(alpha=0.5),
        {"objective": "reg:quantileerror", "quantile_alpha": 0.5},
        {"objective": "quantile", "alpha": 0.5},
    ),
    "logistic": LossCase(Logistic(), {"objective": "binary:logistic"}, {"objective": "binary"}),
    "softmax": LossCase(
        Softmax(), {"objective": "multi:softprob"}, {"objective": "multiclass"}, n_classes=3
    ),
}
#: The issue's comparisons, run when ``--losses`` is not given.
DEFAULT_LOSSES = ["squared_error", "logcosh", "quantile", "logistic"]


def make_data(
    rows: int, features: int, binary: bool, seed: int = 0, n_classes: int = 1
) -> tuple[Any, Any]:
    """Float32 features and a nonlinear target (0/1 labels when ``binary``, the target's
    ``n_classes``-quantile bins 0..K-1 when ``n_classes`` > 1)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features), dtype=np.float32)
    signal = X[:, 0] + np.sin(3 * X[:, 1]) + 0.5 * X[:, 2] * X[:, 3]
    y = signal + 0.5 * rng.standard_normal(rows, dtype=np.float32)
    if n_classes > 1:
        edges = np.quantile(y, np.arange(1, n_classes) / n_classes)
        return X, np.digitize(y, edges).astype(np.float32)
    return X, (y > 0).astype(np.float32) if binary else y.astype(np.float32)


def case_data(case: LossCase, rows: int, features: int = 20) -> tuple[Any, Any]:
    """``make_data`` with the labels ``case``'s loss takes."""
    return make_data(rows, features, case.loss.binary_labels, n_classes=case.n_classes)


def xgboost_params(threads: int, device: str = "cpu") -> dict[str, Any]:
    """Tree parameters shared by every XGBoost variant."""
    return {
        "tree_method": "hist",
        "device": device,
        "max_depth": 6,
        "learning_rate": 0.1,
        "max_bin": 256,
        "nthread": threads,
        "verbosity": 0,
    }


def lightgbm_params(threads: int) -> dict[str, Any]:
    """Tree and dataset parameters shared by every LightGBM variant."""
    return {
        "num_leaves": 63,
        "learning_rate": 0.1,
        "max_bin": 255,
        "num_threads": threads,
        "metric": "None",
        "verbose": -1,
    }


def numpy_squared_error_train(preds: Any, dataset: Any) -> tuple[Any, Any]:
    """The plain NumPy objective of a new user, training-API convention."""
    return numpy_squared_error_sklearn(dataset.get_label(), preds, dataset.get_weight())


def numpy_squared_error_sklearn(y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
    """The plain NumPy objective of a new user, scikit-learn convention."""
    if sample_weight is None or len(sample_weight) == 0:
        return y_pred - y_true, np.ones_like(y_pred)
    return (y_pred - y_true) * sample_weight, sample_weight.astype(y_pred.dtype)


def objectives(case: LossCase, library: str, api: str) -> dict[str, Any]:
    """Variant name -> objective: built-in params (a dict) or a callable."""
    builtin = case.xgboost if library == "xgboost" else case.lightgbm
    variants: dict[str, Any] = {"built-in": builtin}
    if isinstance(case.loss, SquaredError):
        plain = numpy_squared_error_train if api == "train" else numpy_squared_error_sklearn
        variants["numpy"] = plain
    variants["boostobj"] = case.loss
    return variants


class Trainer:
    """Trains one library through one API on fixed data; returns predictions on the
    training rows (raw margins) so that variants can be compared."""

    def __init__(
        self,
        library: str,
        api: str,
        X: Any,
        y: Any,
        init_score: Any,
        rounds: int,
        threads: int,
        device: str = "cpu",
        weight: Any = None,
    ) -> None:
        self.library, self.api, self.rounds = library, api, rounds
        self.X, self.y, self.weight = X, y, weight
        init_score = np.asarray(init_score, dtype=np.float32)  # () or (n_classes,)
        self.margin = np.broadcast_to(init_score, (len(y), *init_score.shape)).copy()
        if library == "xgboost":
            self.params = xgboost_params(threads, device)
        else:
            self.params = lightgbm_params(threads)
        if init_score.ndim:
            if api != "train":
                raise ValueError("multiclass losses are benchmarked through the training APIs")
            self.params["num_class"] = init_score.size
        if api == "train" and library == "xgboost":
            self.data = xgb.DMatrix(
                X, label=y, weight=weight, base_margin=self.margin, nthread=threads
            )
        elif api == "train":
            dataset_params = {k: v for k, v in self.params.items() if k != "num_class"}
            self.data = lgb.Dataset(
                X, label=y, weight=weight, init_score=self.margin, params=dataset_params
            )
            self.data.construct()

    def fit(self, objective: Any, rounds: int | None = None) -> Any:
        """Train with ``objective`` (built-in params or a callable) for ``rounds`` (default:
        the trainer's); return the model."""
        rounds = rounds or self.rounds
        builtin = isinstance(objective, dict)
        if self.library == "xgboost":
            if self.api == "train":
                params = {**self.params, **objective} if builtin else self.params
                return xgb.train(params, self.data, rounds, obj=None if builtin else objective)
            params = {**self.params, **(objective if builtin else {"objective": objective})}
            params["n_jobs"] = params.pop("nthread")
            model = xgb.XGBRegressor(n_estimators=rounds, **params)
            return model.fit(self.X, self.y, sample_weight=self.weight, base_margin=self.margin)
        params = {**self.params, **(objective if builtin else {"objective": objective})}
        if self.api == "train":
            return lgb.train(params, self.data, rounds)
        params["n_jobs"] = params.pop("num_threads")
        model = lgb.LGBMRegressor(n_estimators=rounds, **params)
        return model.fit(self.X, self.y, sample_weight=self.weight, init_score=self.margin)

    def raw_predictions(self, model: Any) -> Any:
        """Raw margins of ``model`` on the training rows: the sum of its trees. (A zero
        ``base_margin`` keeps XGBoost from adding ``base_score``, which it estimates for
        built-in objectives only and never uses in training when a margin is given.)"""
        if self.library == "xgboost":
            booster = model if self.api == "train" else model.get_booster()
            zero = np.zeros_like(self.margin)
            return booster.predict(xgb.DMatrix(self.X, base_margin=zero), output_margin=True)
        booster = model if self.api == "train" else model.booster_
        return booster.predict(self.X, raw_score=True)


def time_variants(
    trainer: Trainer, variants: dict[str, Any], repeats: int
) -> dict[str, dict[str, Any]]:
    """Train every variant ``repeats`` times, interleaved; seconds and predictions. A
    one-round warm-up per variant first: XGBoost builds and caches its histogram index
    in the DMatrix on the first training, which would otherwise bill the first variant."""
    results: dict[str, dict[str, Any]] = {name: {"seconds": []} for name in variants}
    names = list(variants)
    for name in names:
        trainer.fit(variants[name], rounds=1)
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            model = trainer.fit(variants[name])
            results[name]["seconds"].append(time.perf_counter() - start)
            if repeat == 0:
                results[name]["predictions"] = trainer.raw_predictions(model)
    return results


def summarize(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Min / median seconds and ratios to the built-in, per variant."""
    builtin = results["built-in"]
    base_min, base_median = min(builtin["seconds"]), statistics.median(builtin["seconds"])
    rows = []
    for name, result in results.items():
        seconds = result["seconds"]
        difference = np.max(np.abs(result["predictions"] - builtin["predictions"]))
        rows.append(
            {
                "variant": name,
                "min_s": min(seconds),
                "median_s": statistics.median(seconds),
                "ratio_min": min(seconds) / base_min,
                "ratio_median": statistics.median(seconds) / base_median,
                "max_abs_difference": float(difference),
                "seconds": seconds,
            }
        )
    return rows


def run(args: argparse.Namespace, on_row: Callable[[dict[str, Any]], None]) -> None:
    """Every (rows, library, loss) case; ``on_row`` receives each summary row."""
    for rows in args.rows:
        for name in args.losses:
            case = LOSS_CASES[name]
            X, y = case_data(case, rows, args.features)
            weight = None
            if args.weighted:
                weight = np.random.default_rng(1).uniform(0.5, 1.5, rows).astype(np.float32)
            init_score = case.loss.init_score(y, weight)
            for library in args.libraries:
                trainer = Trainer(
                    library, args.api, X, y, init_score, args.rounds, args.threads, weight=weight
                )
                results = time_variants(trainer, objectives(case, library, args.api), args.repeats)
                for row in summarize(results):
                    on_row({"rows": rows, "library": library, "loss": name, **row})


def environment() -> str:
    """Machine and versions, for the table's caption."""
    return (
        f"{datetime.date.today()} · {platform.machine()} {platform.processor() or ''}, "
        f"{os.cpu_count()} CPUs · Python {platform.python_version()}, NumPy {np.__version__}, "
        f"XGBoost {xgb.__version__}, LightGBM {lgb.__version__}, boostobj {boostobj.__version__}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--api", choices=["train", "sklearn"], default="train")
    parser.add_argument("--libraries", nargs="+", default=["xgboost", "lightgbm"])
    parser.add_argument("--losses", nargs="+", choices=list(LOSS_CASES), default=DEFAULT_LOSSES)
    parser.add_argument(
        "--weighted",
        action="store_true",
        help="give every variant the same sample weights (uniform in [0.5, 1.5]): LightGBM's "
        "unweighted L2/L1/Huber/quantile built-ins skip Hessian sums in their histograms "
        "(a constant Hessian), a shortcut no custom objective can declare",
    )
    parser.add_argument("--json", help="also write every row to this JSON file")
    args = parser.parse_args(argv)
    print(environment())
    print(
        f"api={args.api} features={args.features} rounds={args.rounds} "
        f"threads={args.threads} repeats={args.repeats} weighted={args.weighted}\n"
    )
    print(
        "| rows | library | loss | variant | min (s) | median (s) | ratio (min) "
        "| ratio (median) | max |Δ| vs built-in |"
    )
    print("|---:|---|---|---|---:|---:|---:|---:|---:|")
    collected: list[dict[str, Any]] = []

    def on_row(row: dict[str, Any]) -> None:
        collected.append(row)
        print(
            f"| {row['rows']:,} | {row['library']} | {row['loss']} | {row['variant']} "
            f"| {row['min_s']:.2f} | {row['median_s']:.2f} | {row['ratio_min']:.3f} "
            f"| {row['ratio_median']:.3f} | {row['max_abs_difference']:.2g} |",
            flush=True,
        )

    run(args, on_row)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"environment": environment(), "args": vars(args), "rows": collected}, handle)


if __name__ == "__main__":
    main()
