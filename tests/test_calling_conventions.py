"""A loss object is the custom objective and metric in all four calling conventions.

``XGBRegressor/XGBClassifier(objective=obj)``, ``xgb.train(..., obj=obj)``,
``LGBMRegressor/LGBMClassifier(objective=obj)`` and ``lgb.train({"objective": obj})``
each train a model with every loss, with and without sample weights, on a tiny data set.
"""

from __future__ import annotations

import inspect
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from conftest import handed_to_library

from boostobj import Loss, Quantile
from boostobj.adapters import LIBRARY_DTYPE

N_TREES = 5
#: Deterministic single-threaded histogram boosting, in which a row of weight 2 and two
#: copies of it are alike to the tree learner: LightGBM checks ``min_data_in_leaf``
#: against row counts it estimates from Hessian sums (count ≈ H × rows / ΣH), which
#: differ between the two, so the check is off (0); ``min_data_in_bin`` is 1.
XGB_PARAMS = {"tree_method": "hist", "max_depth": 3, "learning_rate": 0.5, "seed": 0}
LGB_PARAMS = {
    "num_leaves": 8,
    "learning_rate": 0.5,
    "min_data_in_leaf": 0,
    "min_data_in_bin": 1,
    "deterministic": True,
    "force_col_wise": True,
    "seed": 0,
    "verbose": -1,
}


class Recorder:
    """A custom objective that calls ``loss`` and keeps, for each call, the raw
    predictions it was given and the (grad, hess) it returned."""

    def __init__(self, loss: Loss) -> None:
        self.loss = loss
        self.calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __deepcopy__(self, memo: dict) -> Recorder:
        return self  # LightGBM deep-copies its parameters: keep recording here

    def __call__(
        self, first: Any, second: Any, *lightgbm_weight_group: Any, sample_weight: Any = None
    ) -> tuple[Any, Any]:
        """Forwards each library's call unchanged (see ``boostobj.adapters``)."""
        gradient, hessian = self.loss(
            first, second, *lightgbm_weight_group, sample_weight=sample_weight
        )
        predictions = first if hasattr(second, "get_label") else second
        self.calls.append((np.array(predictions), gradient.copy(), hessian.copy()))
        return gradient, hessian


def train(
    convention: str,
    objective: Any,
    X: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None,
    metric: Loss | None = None,
) -> tuple[np.ndarray, list[float]]:
    """Train ``N_TREES`` trees with ``objective`` in ``convention``; return the raw
    predictions on ``X`` and, with ``metric``, its history on the training set."""
    binary = getattr(objective, "loss", objective).binary_labels  # a Recorder's loss
    name = metric.name if metric is not None else None
    if convention == "xgboost-sklearn":
        estimator = xgb.XGBClassifier if binary else xgb.XGBRegressor
        model = estimator(
            objective=objective,
            n_estimators=N_TREES,
            n_jobs=1,
            eval_metric=None if metric is None else metric.xgb_metric,
            **XGB_PARAMS,
        )
        evaluation = {} if metric is None else {"eval_set": [(X, y)]}
        if metric is not None and weight is not None:
            evaluation["sample_weight_eval_set"] = [weight]
        model.fit(X, y, sample_weight=weight, verbose=False, **evaluation)
        history = [] if metric is None else model.evals_result()["validation_0"][name]
        return model.predict(X, output_margin=True), history
    if convention == "xgboost-train":
        data = xgb.DMatrix(X, y, weight=weight)
        results: dict = {}
        booster = xgb.train(
            {**XGB_PARAMS, "nthread": 1, "disable_default_eval_metric": 1},
            data,
            N_TREES,
            obj=objective,
            custom_metric=None if metric is None else metric.xgb_metric,
            evals=[(data, "train")] if metric is not None else (),
            evals_result=results,
            verbose_eval=False,
        )
        history = [] if metric is None else results["train"][name]
        return booster.predict(data, output_margin=True), history
    if convention == "lightgbm-sklearn":
        estimator = lgb.LGBMClassifier if binary else lgb.LGBMRegressor
        model = estimator(
            objective=objective, n_estimators=N_TREES, n_jobs=1, metric="None", **LGB_PARAMS
        )
        evaluation = {}
        if metric is not None:
            evaluation = {"eval_metric": metric.lgb_metric}
            if "eval_X" in inspect.signature(estimator.fit).parameters:  # eval_set deprecated
                evaluation.update(eval_X=(X,), eval_y=(y,))
            else:  # LightGBM 4.6, before eval_X
                evaluation.update(eval_set=[(X, y)])
            if weight is not None:
                evaluation["eval_sample_weight"] = [weight]
        model.fit(X, y, sample_weight=weight, **evaluation)
        history = []
        if metric is not None:  # one evaluation set ("training" or "valid_0")
            (history_by_metric,) = model.evals_result_.values()
            history = history_by_metric[name]
        return model.predict(X, raw_score=True), history
    data = lgb.Dataset(X, y, weight=weight)
    results = {}
    booster = lgb.train(
        {**LGB_PARAMS, "objective": objective, "metric": "None", "num_threads": 1},
        data,
        N_TREES,
        valid_sets=[data] if metric is not None else None,
        feval=None if metric is None else metric.lgb_metric,
        callbacks=[lgb.record_evaluation(results)],
    )
    history = [] if metric is None else results["training"][name]
    return booster.predict(X, raw_score=True), history


@pytest.fixture(params=[False, True], ids=["unweighted", "weighted"])
def weighted(request: pytest.FixtureRequest) -> bool:
    return request.param


def test_objective_hands_scaled_gradient_hessian(
    default_loss, convention, weighted, tiny_data, reference_mean_loss
):
    """Every call returns what ``handed_to_library`` says for the library calling —
    ``newton_scale`` × gradient_hessian, or for XGBoost and the secant and quantile
    curvatures the normalized pair — at the labels and weights of the training set, and
    training lowers the (weighted) mean loss."""
    X, y, weight = tiny_data(default_loss)
    weight = weight if weighted else None
    library = convention.split("-")[0]
    recorder = Recorder(default_loss)
    raw, _ = train(convention, recorder, X, y, weight)
    assert len(recorder.calls) == N_TREES
    for predictions, gradient, hessian in recorder.calls:
        *expected, factor = handed_to_library(default_loss, y, predictions, weight, library)
        for got, want in zip((gradient, hessian), expected, strict=True):
            assert got.dtype == LIBRARY_DTYPE  # what both libraries store, whatever preds are
            np.testing.assert_allclose(
                got,
                want,
                rtol=4 * np.finfo(LIBRARY_DTYPE).eps,
                atol=factor * np.finfo(LIBRARY_DTYPE).smallest_normal,
            )
        if library == "xgboost" and default_loss.xgboost_unit_rows is not None:
            total_weight = len(y) if weight is None else np.sum(weight)
            mean_hessian = np.sum(hessian, dtype=np.float64) / total_weight
            assert mean_hessian == pytest.approx(1 / default_loss.xgboost_unit_rows, rel=1e-5)
    start = recorder.calls[0][0]
    assert reference_mean_loss(default_loss, y, raw, weight) < reference_mean_loss(
        default_loss, y, start, weight
    )


def test_metric_is_mean_loss(default_loss, convention, weighted, tiny_data, reference_mean_loss):
    """The metric each library records equals the (weighted) mean loss at the model's raw
    predictions, computed independently (XGBoost logs 6 significant digits)."""
    X, y, weight = tiny_data(default_loss)
    weight = weight if weighted else None
    raw, history = train(convention, default_loss, X, y, weight, metric=default_loss)
    assert len(history) == N_TREES
    expected = reference_mean_loss(default_loss, y, raw, weight)
    np.testing.assert_allclose(history[-1], expected, rtol=1e-5)


def test_weight_counts_as_copies(default_loss, convention, tiny_data):
    """A row of weight k trains the model that k copies of the row train, and weights
    change the model."""
    X, y, weight = tiny_data(default_loss)
    copies = weight.astype(int)
    weighted, _ = train(convention, default_loss, X, y, weight)
    duplicated, _ = train(
        convention, default_loss, np.repeat(X, copies, axis=0), np.repeat(y, copies), None
    )
    np.testing.assert_allclose(
        weighted, duplicated[np.cumsum(copies) - 1], rtol=1e-5, atol=1e-6 * np.ptp(y)
    )
    unweighted, _ = train(convention, default_loss, X, y, None)
    assert not np.allclose(weighted, unweighted, rtol=1e-3, atol=1e-3 * np.ptp(y))


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.9])
def test_raw_quantile_objective_trains_at_any_target_scale(library, alpha, tiny_data):
    """The pinball loss has no scale, and neither has ``Quantile()`` as an objective: ε
    follows the residuals (``epsilon=None``). Labels times K (a power of two: exact in
    floating point, as are the square roots of the residuals) train the model of the
    labels, times K, in each library with its defaults, from a start of 0: K = 2^±20 in
    LightGBM; in XGBoost K = 2^20 only, whose minimum split gain (1e-6) is absolute, so
    that on labels of scale 1e-5 it stops splitting, as it does with its own
    ``reg:squarederror`` (README, "Scale"). (With a fixed ε = 1, on labels of scale 1e-5
    every row has about the same curvature and each tree oversteps many times.)"""
    X, y, _ = tiny_data(Quantile())

    def predictions(labels: np.ndarray) -> np.ndarray:
        if library == "xgboost":
            model = xgb.XGBRegressor(objective=Quantile(alpha), base_score=0.0, n_jobs=1)
            return model.fit(X, labels).predict(X, output_margin=True)
        model = lgb.LGBMRegressor(objective=Quantile(alpha), n_jobs=1, verbose=-1)
        return model.fit(X, labels).predict(X, raw_score=True)

    expected = predictions(y)
    assert loss_at(alpha, y, expected) < 0.7 * loss_at(alpha, y, np.zeros_like(y))
    for k in (2.0**20,) if library == "xgboost" else (2.0**-20, 2.0**20):
        np.testing.assert_allclose(predictions(k * y) / k, expected, rtol=1e-6, atol=1e-9)


def loss_at(alpha: float, y: np.ndarray, raw: np.ndarray) -> float:
    return Quantile(alpha).mean_loss(y, raw)
