"""The raw objective on small data: how far it is from the built-ins on ``diabetes`` over
many cross-validation shuffles, and what XGBoost's per-round Hessian normalization
(``Loss.xgboost_unit_rows``) changes against a constant scale.

Rerun:  python benchmarks/bench_raw_objective.py [--shuffles 8] [--out results.md]
        [--target-scale K]   (every target times K: is the objective scale-free?)

"raw" is ``bench_quality.py``'s: the loss passed as ``objective=`` with nothing else set,
each library's defaults, 300 trees at learning rate 0.1. ``diabetes`` (scikit-learn's
bundled 442 rows) is cross-validated with ``--shuffles`` different 5-fold shuffles
(``KFold(5, shuffle=True, random_state=s)``, s = 0, 1, ...; s = 0 is ``bench_quality.py``'s
split); each cell gives the median and the range over the shuffles of the ratio to the
built-in on the same folds (test MAE for the robust losses, pinball loss for ``Quantile``)
and, for ``Quantile``, the median coverage P(y <= prediction).

XGBoost rows:

- "xgboost, raw": the package. XGBoost is handed gradient and Hessian divided every
  round by their mean Hessian per unit of weight times ``xgboost_unit_rows`` (1 for the
  robust losses, ``Quantile.leaf_prior_rows`` = 10 / 1 / 10 at α = 0.05 / 0.5 / 0.95):
  ``reg_lambda=1`` and ``min_child_weight=1`` weigh that many average rows.
- "xgboost, unit rows 1": the same normalization with one row for ``Quantile`` too (for
  the robust losses it is "xgboost, raw" again, not rerun).
- "xgboost, constant scale": ``newton_scale`` (1e6) times gradient and Hessian, the
  package's behaviour before the normalization and still LightGBM's.

"ε = 1" rows (both libraries): ``Quantile(alpha, epsilon=1.0)``, the package's quantile
objective before ε followed the residuals (``epsilon=None``: ε = 0.04 S every round).
"ε = 0.001 S" rows: ε follows the residuals with a 40 times smaller constant, which does
better on ``diabetes`` and worse on the coverage of ``offset`` (BENCHMARKS.md, "The raw
objective on small data"). The other rows use the package's ε.

"with init" rows (``Quantile`` only): ``bench_quality.py``'s "with init", the loss's
``fitted_to(y)`` started from its init score: "(τ)" is the package's (``fitted_to`` fixes
ε = τ, the README recipe), "ε = 0.04 S" and "ε = 0.001 S" keep ε following the residuals
from the init score on.

A second ``diabetes`` table (shuffle 0) follows the raw ``Quantile`` and the built-in at
the tails along the boosting path: out-of-fold pinball loss after 25 ... 300 trees, and
the training rows' pinball loss after 300. The synthetic ``offset`` and ``hetero`` sets
(``bench_quality.py``'s, one 75/25 split) show what the variants do on larger data.
"""

from __future__ import annotations

import argparse
import platform
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from bench_quality import (
    ALPHAS,
    BACKENDS,
    BUILTIN_L1,
    Dataset,
    builtin_out_of_fold,
    builtin_quantile,
    cross_validated,
    fit_predict_boostobj,
    mae,
    pinball,
    regression_datasets,
    report,
)
from sklearn.datasets import load_diabetes

from boostobj import Huber, LogCosh, Loss, PseudoHuber, Quantile
from boostobj.adapters import xgboost_normalization


class RescaledObjective:
    """XGBoost scikit-learn objective: the loss's gradient and Hessian times
    ``newton_scale`` (``unit_rows`` None: the package before ``xgboost_unit_rows``), or
    normalized as the package does with ``unit_rows`` in place of ``xgboost_unit_rows``
    (one machine)."""

    def __init__(self, loss: Loss, unit_rows: float | None) -> None:
        self.loss, self.unit_rows = loss, unit_rows

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> tuple[Any, Any]:
        gradient, hessian = self.loss.gradient_hessian(y_true, y_pred, sample_weight)
        if self.unit_rows is None:
            factor = self.loss.newton_scale
        else:
            factor = xgboost_normalization(hessian, sample_weight, self.unit_rows)
        return gradient * factor, hessian * factor


def xgboost_fit_predict(
    unit_rows: float | None,
) -> Callable[[Loss, Dataset, np.ndarray, np.ndarray], np.ndarray]:
    def fit_predict(loss: Loss, data: Dataset, train: np.ndarray, test: np.ndarray) -> Any:
        model = xgb.XGBRegressor(
            objective=RescaledObjective(loss, unit_rows),
            n_estimators=data.n_estimators,
            learning_rate=data.learning_rate,
        )
        return model.fit(data.X[train], data.y[train]).predict(data.X[test])

    return fit_predict


def adaptive_epsilon(fraction: float) -> type[Quantile]:
    """``Quantile`` with ε = ``fraction``·S every round (the package's is 0.04·S), from the
    init score too: its ``fitted_to`` keeps ε following the residuals, where the package's
    fixes ε = τ."""

    class AdaptiveEpsilonQuantile(Quantile):
        adaptive_epsilon_fraction = fraction

        def fitted_to(self, y_true: Any, sample_weight: Any = None) -> Loss:
            return self

    return AdaptiveEpsilonQuantile


def quantile_variant_fit_predict(
    backend: str, variant: Callable[[float], Quantile], with_init: bool = False
) -> Callable[[Loss, Dataset, np.ndarray, np.ndarray], np.ndarray]:
    """The raw objective (``with_init``: ``bench_quality.py``'s "with init"), with
    ``variant(alpha)`` in place of ``Quantile(alpha)``."""

    def fit_predict(loss: Loss, data: Dataset, train: np.ndarray, test: np.ndarray) -> Any:
        if isinstance(loss, Quantile):
            loss = variant(loss.alpha)
        return fit_predict_boostobj(backend, loss, with_init, data, train, test)

    return fit_predict


#: ε = 0.001·S every round (the "ε = 0.001 S" rows, raw and with init).
SmallEpsilonQuantile = adaptive_epsilon(0.001)

#: The "with init" rows: (label suffix, ``Quantile`` variant).
WITH_INIT_VARIANTS: tuple[tuple[str, Callable[[float], Quantile]], ...] = (
    (" (τ)", Quantile),
    (
        f", ε = {Quantile.adaptive_epsilon_fraction:g} S",
        adaptive_epsilon(Quantile.adaptive_epsilon_fraction),
    ),
    (", ε = 0.001 S", SmallEpsilonQuantile),
)


def fixed_epsilon(alpha: float) -> Quantile:
    """ε fixed at 1: the package before ``epsilon=None`` followed the residuals."""
    return Quantile(alpha, epsilon=Quantile.default_epsilon)


#: (row label, backend, how to fit a loss, whether it differs from the package for the
#: robust losses) for every boostobj variant measured.
Variant = tuple[str, str, Callable[[Loss, Dataset, np.ndarray, np.ndarray], np.ndarray], bool]
VARIANTS: list[Variant] = [
    *(
        (
            f"{backend}, raw",
            backend,
            lambda loss, d, tr, te, b=backend: fit_predict_boostobj(b, loss, False, d, tr, te),
            True,
        )
        for backend in BACKENDS
    ),
    ("xgboost, unit rows 1", "xgboost", xgboost_fit_predict(1.0), False),
    ("xgboost, constant scale", "xgboost", xgboost_fit_predict(None), True),
    *(
        (f"{backend}, ε = 1", backend, quantile_variant_fit_predict(backend, fixed_epsilon), False)
        for backend in BACKENDS
    ),
    *(
        (
            f"{backend}, ε = 0.001 S",
            backend,
            quantile_variant_fit_predict(backend, SmallEpsilonQuantile),
            False,
        )
        for backend in BACKENDS
    ),
    *(
        (
            f"{backend}, with init{label}",
            backend,
            quantile_variant_fit_predict(backend, variant, with_init=True),
            False,
        )
        for backend in BACKENDS
        for label, variant in WITH_INIT_VARIANTS
    ),
]
ROBUST_LOSSES = (LogCosh(), Huber(), PseudoHuber())


def shuffled_diabetes(shuffles: int) -> Iterator[Dataset]:
    diabetes = load_diabetes()
    for seed in range(shuffles):
        yield Dataset("diabetes", diabetes.data, diabetes.target, 300, 0.1, 5, shuffle_seed=seed)


def builtin_scores(data: Dataset) -> dict[tuple[str, Any], tuple[float, float]]:
    """(backend, "l1" or alpha) -> (built-in MAE or pinball loss, coverage)."""
    scores = {}
    for backend in BACKENDS:
        y, p = builtin_out_of_fold(backend, BUILTIN_L1[backend], data)
        scores[backend, "l1"] = (mae(y, p), float("nan"))
        for alpha in ALPHAS:
            y, p = builtin_out_of_fold(backend, builtin_quantile(backend, alpha), data)
            scores[backend, alpha] = (pinball(alpha)(y, p), float(np.mean(y <= p)))
    return scores


def out_of_fold(fit: Callable[..., np.ndarray], loss: Loss, data: Dataset) -> tuple[Any, Any]:
    return cross_validated(data, lambda train, test: fit(loss, data, train, test))


def variant_scores(data: Dataset) -> dict[tuple[str, str], tuple[float, float]]:
    """(variant label, objective) -> (ratio to the built-in, coverage) on ``data``; for
    the built-in rows, the built-in's own MAE or pinball loss and coverage."""
    reference = builtin_scores(data)
    scores: dict[tuple[str, str], tuple[float, float]] = {}
    for backend in BACKENDS:
        for loss in ROBUST_LOSSES:
            scores[f"{backend}, built-in", type(loss).__name__] = reference[backend, "l1"]
        for alpha in ALPHAS:
            scores[f"{backend}, built-in", f"Quantile({alpha})"] = reference[backend, alpha]
    for label, backend, fit, robust_differs in VARIANTS:
        for loss in ROBUST_LOSSES if robust_differs else ():
            y, p = out_of_fold(fit, loss, data)
            scores[label, type(loss).__name__] = (mae(y, p) / reference[backend, "l1"][0], np.nan)
        for alpha in ALPHAS:
            y, p = out_of_fold(fit, Quantile(alpha), data)
            ratio = pinball(alpha)(y, p) / reference[backend, alpha][0]
            scores[label, f"Quantile({alpha})"] = (ratio, float(np.mean(y <= p)))
    return scores


#: Tree counts at which ``staged_rows`` scores the models.
STAGES = (25, 50, 100, 150, 200, 300)


def fit_staged(
    backend: str, objective: dict[str, Any], data: Dataset, train: np.ndarray
) -> Callable[[np.ndarray, int], np.ndarray]:
    """Fit ``max(STAGES)`` trees on ``train``; returns (rows, trees) -> raw prediction of
    the first ``trees`` trees (for the built-ins, the libraries' own starting score
    included)."""
    common = {"n_estimators": max(STAGES), "learning_rate": data.learning_rate}
    X, y = data.X, data.y
    if backend == "xgboost":
        booster = xgb.XGBRegressor(**common, **objective).fit(X[train], y[train])
        return lambda rows, trees: booster.predict(
            X[rows], output_margin=True, iteration_range=(0, trees)
        )
    model = lgb.LGBMRegressor(**common, **objective, verbose=-1).fit(X[train], y[train])
    return lambda rows, trees: model.predict(X[rows], raw_score=True, num_iteration=trees)


def staged_rows(data: Dataset) -> list[str]:
    """Test pinball loss after ``STAGES`` trees and training pinball loss after all of
    them, out of fold, for the built-in quantile objective and the raw ``Quantile`` at
    the tails: is the raw objective's gap a matter of when to stop, or of what it fits?"""
    lines = [
        "| backend | α | objective | "
        + " | ".join(f"test, {trees} trees" for trees in STAGES)
        + f" | train, {max(STAGES)} trees |",
        "|---" * (len(STAGES) + 4) + "|",
    ]
    for backend in BACKENDS:
        for alpha in (ALPHAS[0], ALPHAS[-1]):
            objectives: dict[str, dict[str, Any]] = {
                "built-in": builtin_quantile(backend, alpha),
                "raw": {"objective": Quantile(alpha)},
            }
            for name, objective in objectives.items():
                tests: list[list[np.ndarray]] = [[] for _ in STAGES]
                labels, training = [], []
                for train, test in data.splits():
                    predict = fit_staged(backend, objective, data, train)
                    labels.append(data.y[test])
                    for stage, trees in zip(tests, STAGES, strict=True):
                        stage.append(predict(test, trees))
                    training.append(pinball(alpha)(data.y[train], predict(train, max(STAGES))))
                y = np.concatenate(labels)
                cells = [pinball(alpha)(y, np.concatenate(stage)) for stage in tests]
                cells.append(float(np.mean(training)))
                lines.append(
                    f"| {backend} | {alpha} | {name} | "
                    + " | ".join(f"{c:.3f}" for c in cells)
                    + " |"
                )
    return lines


def cell(values: list[tuple[float, float]]) -> str:
    ratios = [r for r, _ in values]
    text = f"{np.median(ratios):.3f}"
    if len(ratios) > 1:
        text += f" ({min(ratios):.3f}–{max(ratios):.3f})"
    coverages = [c for _, c in values if not np.isnan(c)]
    if coverages:
        text += f", coverage {np.median(coverages):.3f}"
    return text


def table(runs: list[dict[tuple[str, str], tuple[float, float]]]) -> list[str]:
    labels = list(dict.fromkeys(label for label, _ in runs[0]))
    objectives = list(dict.fromkeys(objective for _, objective in runs[0]))
    lines = ["| variant | " + " | ".join(objectives) + " |", "|---" * (len(objectives) + 1) + "|"]
    for label in labels:
        cells = [
            cell([run[label, objective] for run in runs]) if (label, objective) in runs[0] else ""
            for objective in objectives
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shuffles", type=int, default=8, help="5-fold shuffles of diabetes")
    parser.add_argument("--out", help="also write the markdown tables to this file")
    parser.add_argument(
        "--target-scale", type=float, default=1.0, help="multiply every target by this"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    lines = [
        f"Machine: {platform.machine()}; Python {platform.python_version()}, xgboost "
        f"{xgb.__version__}, lightgbm {lgb.__version__}, numpy {np.__version__}. "
        f"Command: `python {' '.join(sys.argv)}`.",
        "",
        f"diabetes, {args.shuffles} shuffles of 5-fold cross-validation: median (range) of "
        "the ratio to the built-in (built-in rows: its own MAE / pinball loss), median coverage",
        "",
    ]
    shuffles, runs = list(shuffled_diabetes(args.shuffles)), []
    for data in shuffles:
        data.y = data.y * args.target_scale
        runs.append(variant_scores(data))
        print(f"diabetes shuffle {len(runs)} done", file=sys.stderr, flush=True)
    lines += table(runs)
    lines += [
        "",
        "diabetes, shuffle 0: out-of-fold pinball loss of the tails after each number of "
        "trees (test) and mean pinball loss on the folds' training rows (train)",
        "",
        *staged_rows(shuffles[0]),
    ]
    for data in regression_datasets(quick=False):
        if data.name == "diabetes":  # measured above, over the shuffles
            continue
        data.y = data.y * args.target_scale
        lines += [
            "",
            f"{data.name}, one 75/25 split: ratio to the built-in (built-in rows: "
            "its own MAE / pinball loss), coverage",
            "",
        ]
        lines += table([variant_scores(data)])
        print(f"{data.name} done", file=sys.stderr, flush=True)
    report(lines, args.out)


if __name__ == "__main__":
    main()
