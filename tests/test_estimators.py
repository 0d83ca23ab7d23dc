"""Behaviour of BoostRegressor, BoostClassifier and QuantileRegressor on both backends,
against the real libraries (scikit-learn's API checks are in test_estimator_checks.py)."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import subprocess
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from boostobj import (
    BoostClassifier,
    BoostRegressor,
    GPUUnavailableError,
    Huber,
    LogCosh,
    Logistic,
    Quantile,
    QuantileRegressor,
    load_model,
)

BACKENDS = ("xgboost", "lightgbm")
#: Small and single-threaded: the machine is shared.
FAST = {"n_estimators": 20, "n_jobs": 1}


def regression_data(n: int = 400, seed: int = 0, offset: float = 0.0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = 3 * X[:, 0] + np.sin(2 * X[:, 1]) + 0.5 * rng.normal(size=n) + offset
    return X, y


def heteroscedastic_data(n: int, seed: int) -> tuple[Any, Any]:
    """Noise standard deviation grows from 0.2 to 2.6 along the first feature."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 4, size=(n, 3))
    y = 2 * np.sin(X[:, 0]) + X[:, 1] + (0.2 + 0.6 * X[:, 0]) * rng.normal(size=n)
    return X, y


def binary_data(n: int = 400, seed: int = 0) -> tuple[Any, Any]:
    X, y = make_classification(n, 6, n_informative=4, weights=[0.7], random_state=seed)
    return X, y


def machine_has_cuda_gpu() -> bool:
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return False
    return subprocess.run([nvidia_smi, "-L"], capture_output=True).returncode == 0


# ---------------------------------------------------------------- starting score
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss", [LogCosh(), Huber(delta=2.0), Quantile(alpha=0.8)])
def test_starting_score_is_the_losss_weighted_init_score(backend: str, loss: Any) -> None:
    X, y = regression_data(offset=1000.0)
    weight = np.random.default_rng(1).uniform(0.1, 3.0, size=y.size)
    model = BoostRegressor(loss=loss, backend=backend, learning_rate=1e-9, **FAST)
    model.fit(X, y, sample_weight=weight)
    expected = loss.init_score(y, weight)
    assert model.boosters_[0].init_score == expected
    assert expected != loss.init_score(y)  # the weights mattered
    # With a negligible learning rate the trees add nothing: predict is the init score.
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_first_tree_starts_from_init_score_on_eval_data_too(backend: str) -> None:
    """Target around 1000: from 0 the first round's eval loss would be ~1000 per row."""
    X, y = regression_data(offset=1000.0)
    X_val, y_val = regression_data(seed=1, offset=1000.0)
    w_val = np.random.default_rng(2).uniform(0.5, 2.0, size=y_val.size)
    loss = LogCosh()
    model = BoostRegressor(loss=loss, backend=backend, **FAST)
    model.fit(X, y, eval_set=[(X_val, y_val)], eval_sample_weight=[w_val])
    history = model.boosters_[0].evals_result["validation_0"]["logcosh"]
    assert len(history) == FAST["n_estimators"]
    assert history[0] < 3.0
    # The recorded metric is the weighted mean loss of the model's own predictions
    # (init score included) after each round; XGBoost keeps its training-time margins in
    # float32 (a step of 6e-5 at 1000), hence the tolerance.
    one_round = BoostRegressor(loss=loss, backend=backend, n_estimators=1, n_jobs=1).fit(X, y)
    expected = loss.mean_loss(y_val, one_round.predict(X_val), w_val)
    np.testing.assert_allclose(history[0], expected, atol=1e-4)
    expected = loss.mean_loss(y_val, model.predict(X_val), w_val)
    np.testing.assert_allclose(history[-1], expected, atol=1e-4)


# ----------------------------------------------------------------- early stopping
@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopping_stops_on_the_loss_and_predicts_with_the_best_round(backend: str) -> None:
    X, y = regression_data(n=300)
    X_val, y_val = regression_data(n=300, seed=1)
    loss = Huber(delta=1.0)
    options = {"loss": loss, "backend": backend, "learning_rate": 0.5, "n_jobs": 1}
    model = BoostRegressor(n_estimators=300, **options)
    model.fit(X, y, eval_set=[(X_val, y_val)], early_stopping_rounds=5)
    booster = model.boosters_[0]
    history = booster.evals_result["validation_0"]["huber"]
    assert booster.best_iteration < 300
    assert len(history) == booster.best_iteration + 5  # stopped 5 rounds after the best
    assert booster.best_iteration == int(np.argmin(history)) + 1
    # predict uses exactly the best round: the same as training only that many rounds.
    truncated = BoostRegressor(n_estimators=booster.best_iteration, **options).fit(X, y)
    np.testing.assert_allclose(model.predict(X_val), truncated.predict(X_val), rtol=1e-6)
    assert loss.mean_loss(y_val, model.predict(X_val)) == pytest.approx(min(history), rel=1e-5)


def test_early_stopping_needs_an_eval_set() -> None:
    X, y = regression_data(n=50)
    with pytest.raises(ValueError, match="eval_set"):
        BoostRegressor(**FAST).fit(X, y, early_stopping_rounds=3)


# ------------------------------------------------------------------ sample weights
@pytest.mark.parametrize("estimator", [BoostRegressor, BoostClassifier, QuantileRegressor])
def test_integer_weight_equals_repeated_rows_on_xgboost(estimator: Any) -> None:
    """To float32 precision (XGBoost's leaf values). Not on LightGBM: there, even with
    its built-in objectives and min_data_in_leaf = min_data_in_bin = 1, a weight of 2 is
    not a repeated row (it estimates row counts from Hessian sums)."""
    X, y = binary_data(n=200) if estimator is BoostClassifier else regression_data(n=200)
    weight = np.random.default_rng(0).integers(1, 4, size=y.size)
    weighted = estimator(**FAST).fit(X, y, sample_weight=weight)
    repeated = estimator(**FAST).fit(np.repeat(X, weight, axis=0), np.repeat(y, weight))
    method = "predict_proba" if estimator is BoostClassifier else "predict"
    np.testing.assert_allclose(
        getattr(weighted, method)(X), getattr(repeated, method)(X), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_weights_as_the_builtin_objectives_use_them(backend: str) -> None:
    """Weighted fits equal the libraries' own weighted squared error and logistic fits
    (init score, gradients and metric all weighted)."""
    X, y = regression_data(n=400)
    Xc, yc = binary_data(n=400)
    weight = np.random.default_rng(0).uniform(0.0, 3.0, size=400)
    common = {"n_estimators": 20, "learning_rate": 0.3, "n_jobs": 1}
    if backend == "xgboost":
        builtin_regressor = xgb.XGBRegressor(objective="reg:squarederror", **common)
        builtin_classifier = xgb.XGBClassifier(objective="binary:logistic", **common)
    else:
        builtin_regressor = lgb.LGBMRegressor(objective="regression", verbose=-1, **common)
        builtin_classifier = lgb.LGBMClassifier(objective="binary", verbose=-1, **common)
    ours = BoostRegressor(loss="squared_error", backend=backend, **common)
    ours.fit(X, y, sample_weight=weight)
    builtin_regressor.fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(ours.predict(X), builtin_regressor.predict(X), atol=1e-4)
    ours = BoostClassifier(loss="logistic", backend=backend, **common)
    ours.fit(Xc, yc, sample_weight=weight)
    builtin_classifier.fit(Xc, yc, sample_weight=weight)
    difference = np.abs(ours.predict_proba(Xc) - builtin_classifier.predict_proba(Xc))
    assert difference.mean() < 1e-4
    unweighted = BoostClassifier(loss="logistic", backend=backend, **common).fit(Xc, yc)
    assert np.abs(unweighted.predict_proba(Xc) - ours.predict_proba(Xc)).mean() > 1e-2


# ------------------------------------------------------------------ classification
@pytest.mark.parametrize("backend", BACKENDS)
def test_logistic_reproduces_the_builtin_probabilities(backend: str) -> None:
    X, y = binary_data(n=1000)
    common = {"n_estimators": 50, "learning_rate": 0.1, "max_depth": 4, "n_jobs": 1}
    ours = BoostClassifier(loss="logistic", backend=backend, **common)
    if backend == "xgboost":
        builtin = xgb.XGBClassifier(objective="binary:logistic", **common)
    else:
        builtin = lgb.LGBMClassifier(objective="binary", verbose=-1, **common)
    difference = np.abs(ours.fit(X, y).predict_proba(X) - builtin.fit(X, y).predict_proba(X))
    assert difference.mean() < 1e-4


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "labels", [np.array(["no", "yes"]), np.array([-1, 1]), np.array([3, 7])], ids=str
)
@pytest.mark.parametrize("loss", ["logistic", "focal", "exponential"])
def test_any_two_labels(backend: str, labels: Any, loss: str) -> None:
    X, y01 = binary_data()
    y = labels[y01]
    model = BoostClassifier(loss=loss, backend=backend, **FAST).fit(X, y)
    np.testing.assert_array_equal(model.classes_, labels)
    probability = model.predict_proba(X)
    assert probability.shape == (y.size, 2)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0)
    assert np.all((probability >= 0) & (probability <= 1))
    # Column 1 is classes_[1]: it tracks the labels, and predict reads classes_.
    assert probability[y == labels[1], 1].mean() > probability[y == labels[0], 1].mean() + 0.3
    prediction = model.predict(X)
    assert set(prediction) <= set(labels)
    np.testing.assert_array_equal(prediction, labels[(probability[:, 1] > 0.5).astype(int)])
    assert np.mean(prediction == y) > 0.8


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss", ["softmax", "focal"])
def test_multiclass_through_the_multiclass_losses(backend: str, loss: str) -> None:
    X, y = make_classification(600, 6, n_informative=4, n_classes=3, random_state=0)
    labels = np.array([3, 7, 9])[y]
    X_val, labels_val = X[400:], labels[400:]
    model = BoostClassifier(loss=loss, backend=backend, **FAST)
    model.fit(X[:400], labels[:400], eval_set=[(X_val, labels_val)], early_stopping_rounds=5)
    assert model.boosters_[0].init_score.shape == (3,)
    assert model.decision_function(X_val).shape == (200, 3)
    probability = model.predict_proba(X_val)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X_val), model.classes_[probability.argmax(1)])
    assert model.score(X_val, labels_val) > 0.7


def test_softmax_reproduces_xgboost_multiclass_probabilities() -> None:
    X, y = make_classification(600, 6, n_informative=4, n_classes=3, random_state=0)
    common = {"n_estimators": 30, "learning_rate": 0.1, "max_depth": 3, "n_jobs": 1}
    ours = BoostClassifier(loss="softmax", **common).fit(X, y)
    builtin = xgb.XGBClassifier(objective="multi:softprob", **common)
    difference = np.abs(ours.predict_proba(X) - builtin.fit(X, y).predict_proba(X))
    assert difference.mean() < 1e-4


# ------------------------------------------------------------------------ quantiles
@pytest.mark.parametrize("backend", BACKENDS)
def test_quantiles_never_cross_by_rearrangement(backend: str) -> None:
    """Close levels and few rows: the separate boosters do cross; predict sorts them."""
    X, y = heteroscedastic_data(300, seed=0)
    alphas = (0.45, 0.5, 0.55)
    model = QuantileRegressor(alphas=alphas, backend=backend, learning_rate=0.5, **FAST).fit(X, y)
    X_test, y_test = heteroscedastic_data(300, seed=1)
    raw = np.column_stack([booster.predict_raw(X_test) for booster in model.boosters_])
    assert np.any(np.diff(raw, axis=1) < 0)  # the raw quantiles cross somewhere
    quantiles = model.predict(X_test)
    assert np.all(np.diff(quantiles, axis=1) >= 0)
    np.testing.assert_array_equal(quantiles, np.sort(raw, axis=1))

    def pinball(predictions: Any) -> float:
        return sum(
            Quantile(alpha=a).mean_loss(y_test, predictions[:, j]) for j, a in enumerate(alphas)
        )

    assert pinball(quantiles) <= pinball(raw)  # rearrangement never increases it


@pytest.mark.parametrize("backend", BACKENDS)
def test_interval_coverage_without_calibration(backend: str) -> None:
    X_test, y_test = heteroscedastic_data(3000, seed=1)
    size = {"xgboost": {"max_depth": 3}, "lightgbm": {"num_leaves": 8}}[backend]
    coverages = []
    for seed in (0, 2, 3):  # one training set's coverage scatters by about ±0.015
        X, y = heteroscedastic_data(3000, seed=seed)
        model = QuantileRegressor(backend=backend, n_estimators=100, n_jobs=1, **size).fit(X, y)
        lower, upper = model.predict_interval(X_test, coverage=0.9)
        coverages.append(np.mean((lower <= y_test) & (y_test <= upper)))
    assert abs(np.mean(coverages) - 0.9) <= 0.02, coverages
    # Heteroscedastic: the intervals widen with the noise.
    width = upper - lower
    assert width[X_test[:, 0] > 3].mean() > 2 * width[X_test[:, 0] < 1].mean()


def test_calibration_offset_is_the_conformal_rank() -> None:
    """Deterministic part of the guarantee: Q is the ceil(c (n + 1))-th smallest
    conformity score, so on the calibration rows themselves at least ceil(c (n + 1))
    of n are covered, and any smaller offset covers fewer."""
    X, y = heteroscedastic_data(600, seed=0)
    X_cal, y_cal = heteroscedastic_data(99, seed=1)
    model = QuantileRegressor(**FAST).fit(X, y).calibrate(X_cal, y_cal)
    quantiles = model.predict(X_cal)
    scores = np.maximum(quantiles[:, 0] - y_cal, y_cal - quantiles[:, 2])
    rank = int(np.ceil(0.9 * (y_cal.size + 1)))  # 90
    offset = model.conformal_offsets_[(0.05, 0.95)]
    assert offset == np.sort(scores)[rank - 1]
    lower, upper = model.predict_interval(X_cal, coverage=0.9)
    np.testing.assert_allclose(lower, quantiles[:, 0] - offset)
    np.testing.assert_allclose(upper, quantiles[:, 2] + offset)
    assert np.sum((lower <= y_cal) & (y_cal <= upper)) == rank


#: A quantile model that chases its training rows: a high learning rate, leaves of 2 rows
#: and no leaf penalty (``Quantile.leaf_prior_rows``), for the calibration tests.
OVERFITTED_LIGHTGBM = {
    "n_estimators": 100,
    "learning_rate": 0.3,
    "min_data_in_leaf": 2,
    "lambda_l2": 0.0,
    "n_jobs": 1,
}


def test_conformal_coverage_is_at_least_nominal_on_exchangeable_data() -> None:
    """The finite-sample guarantee, checked exactly rather than by sampling: in a pool
    of n + 1 exchangeable rows, calibrating on n and testing the one left out, in each
    of the n + 1 rotations, covers exactly k = ceil(c (n + 1)) of them (the left-out row
    is covered iff its conformity score ranks <= k among the n + 1), so the coverage
    averaged over the rotations is k / (n + 1) >= c: 10/11 for n = 10, c = 0.9 (an
    off-by-one rank would give 9/11). One random split would only scatter around it.
    The model is deliberately overfitted (leaves of 2 rows, no leaf penalty) and covers
    about half before calibration. The calibration is the estimator's, the same for both
    backends: LightGBM only."""
    X, y = heteroscedastic_data(300, seed=0)
    X_pool, y_pool = heteroscedastic_data(44, seed=1)
    model = QuantileRegressor(backend="lightgbm", **OVERFITTED_LIGHTGBM).fit(X, y)
    lower, upper = model.predict_interval(X_pool, coverage=0.9)
    assert np.mean((lower <= y_pool) & (y_pool <= upper)) < 0.7
    for pool in np.split(np.arange(44), 4):  # four pools of n + 1 = 11 rows
        covered = 0
        for left_out in pool:
            calibration = pool[pool != left_out]
            model.calibrate(X_pool[calibration], y_pool[calibration])
            lower, upper = model.predict_interval(X_pool[[left_out]], coverage=0.9)
            covered += int(lower[0] <= y_pool[left_out] <= upper[0])
        assert covered == 10  # of 11: coverage 10/11 >= 0.9


def test_conformal_coverage_on_held_out_data_is_at_least_nominal() -> None:
    """The guarantee on held-out data, averaged over 200 random calibration/test splits
    of a fixed pool (exchangeable given the pool): with n = 28 calibration rows the
    expected coverage is ceil(0.9 * 29) / 29 = 27/29 = 0.931 >= 0.9, and the average
    over the splits scatters by about 0.003 (the exact rank is pinned down by the
    leave-one-out test above). The model is overfitted: before calibration it covers
    well under 0.9."""
    X, y = heteroscedastic_data(300, seed=0)
    X_pool, y_pool = heteroscedastic_data(400, seed=2)
    model = QuantileRegressor(backend="lightgbm", **OVERFITTED_LIGHTGBM).fit(X, y)
    lower, upper = model.predict_interval(X_pool, coverage=0.9)
    assert np.mean((lower <= y_pool) & (y_pool <= upper)) < 0.8
    rng = np.random.default_rng(0)
    coverages = []
    for _ in range(200):
        order = rng.permutation(y_pool.size)
        calibration, test = order[:28], order[28:]
        model.calibrate(X_pool[calibration], y_pool[calibration])
        lower, upper = model.predict_interval(X_pool[test], coverage=0.9)
        coverages.append(np.mean((lower <= y_pool[test]) & (y_pool[test] <= upper)))
    assert np.mean(coverages) >= 0.9, np.mean(coverages)


@pytest.mark.parametrize("backend", BACKENDS)
def test_conformal_repairs_an_overfitted_model_on_held_out_data(backend: str) -> None:
    X, y = heteroscedastic_data(1000, seed=0)
    X_test, y_test = heteroscedastic_data(3000, seed=1)
    # an overfitted model: a high learning rate and no leaf penalty
    options = {"backend": backend, "n_estimators": 100, "learning_rate": 0.3, "n_jobs": 1}
    options["reg_lambda"] = 0.0  # an alias of lambda_l2 in LightGBM
    raw = QuantileRegressor(**options).fit(X[:500], y[:500])
    calibrated = QuantileRegressor(conformal=True, calibration_size=0.5, random_state=0, **options)
    calibrated.fit(X, y)

    def coverage(model: Any) -> float:
        lower, upper = model.predict_interval(X_test, coverage=0.9)
        return float(np.mean((lower <= y_test) & (y_test <= upper)))

    assert coverage(raw) < 0.8
    # 500 calibration rows: coverage 0.9 + 1/501 on average, scattered by about 0.013
    # between calibration sets (Beta(451, 50)) and 0.005 over 3000 test rows.
    assert abs(coverage(calibrated) - 0.9) <= 0.03


@pytest.mark.parametrize("backend", BACKENDS)
def test_conformal_fit_is_fit_on_a_split_then_calibrate(backend: str) -> None:
    X, y = heteroscedastic_data(800, seed=0)
    options = {"backend": backend, "random_state": 3, **FAST}
    model = QuantileRegressor(conformal=True, calibration_size=0.3, **options).fit(X, y)
    fit_rows, calibration_rows = train_test_split(np.arange(y.size), test_size=0.3, random_state=3)
    manual = QuantileRegressor(**options).fit(X[fit_rows], y[fit_rows])
    manual.calibrate(X[calibration_rows], y[calibration_rows])
    assert model.conformal_offsets_ == manual.conformal_offsets_
    for got, expected in zip(model.predict_interval(X), manual.predict_interval(X), strict=True):
        np.testing.assert_array_equal(got, expected)
    # fit again without conformal: the old calibration is gone.
    assert model.set_params(conformal=False).fit(X, y).conformal_offsets_ == {}


def test_interval_needs_its_two_quantiles_and_calibration_a_symmetric_pair() -> None:
    X, y = heteroscedastic_data(200, seed=0)
    model = QuantileRegressor(alphas=(0.1, 0.5, 0.9), **FAST).fit(X, y)
    lower, upper = model.predict_interval(X, coverage=0.8)
    np.testing.assert_array_equal(lower, model.predict(X)[:, 0])
    np.testing.assert_array_equal(upper, model.predict(X)[:, 2])
    with pytest.raises(ValueError, match=r"needs alphas 0\.05 and 0\.95"):
        model.predict_interval(X, coverage=0.9)
    for coverage in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="coverage"):
            model.predict_interval(X, coverage=coverage)
    with pytest.raises(ValueError, match="symmetric"):
        QuantileRegressor(alphas=(0.5, 0.9), **FAST).fit(X, y).calibrate(X, y)


# ---------------------------------------------------------------------- persistence
def fitted_models(backend: str) -> list[tuple[Any, Any]]:
    X, y = regression_data(n=200)
    Xc, yc = binary_data(n=200)
    labels = np.array(["cat", "dog"])[yc]
    return [
        (BoostRegressor(loss=Huber(delta=0.5), backend=backend, **FAST).fit(X, y), X),
        (BoostClassifier(loss="focal", backend=backend, **FAST).fit(Xc, labels), Xc),
        (QuantileRegressor(backend=backend, conformal=True, random_state=0, **FAST).fit(X, y), X),
    ]


def same_predictions(first: Any, second: Any, X: Any) -> None:
    methods = ("predict", "predict_proba", "predict_interval")
    for method in [m for m in methods if hasattr(first, m)]:
        got, expected = getattr(second, method)(X), getattr(first, method)(X)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


@pytest.mark.parametrize("backend", BACKENDS)
def test_pickle_and_joblib_round_trip(backend: str, tmp_path: Any) -> None:
    for model, X in fitted_models(backend):
        same_predictions(model, pickle.loads(pickle.dumps(model)), X)
        joblib.dump(model, tmp_path / "model.joblib")
        same_predictions(model, joblib.load(tmp_path / "model.joblib"), X)


@pytest.mark.parametrize("backend", BACKENDS)
def test_save_model_round_trip_without_pickle(backend: str, tmp_path: Any) -> None:
    for model, X in fitted_models(backend):
        path = tmp_path / f"{type(model).__name__}.json"
        model.save_model(path)
        loaded = type(model).load_model(path)
        assert type(loaded) is type(model)
        # JSON has no tuples: compare parameters as JSON (alphas=(...) reads back a list).
        assert json.dumps(loaded.get_params(), default=repr) == json.dumps(
            model.get_params(), default=repr
        )
        same_predictions(model, loaded, X)
        same_predictions(model, load_model(path), X)
        # Plain JSON; each booster is in its library's own format and loads without boostobj.
        document = json.loads(path.read_text())
        state = document["boosters"][0]
        if backend == "xgboost":
            raw_booster = xgb.Booster(model_file=bytearray(state["model"].encode()))
            trees = raw_booster.predict(
                xgb.DMatrix(X, base_margin=np.zeros(len(X))), output_margin=True
            )
        else:
            trees = lgb.Booster(model_str=state["model"]).predict(X, raw_score=True)
        raw = np.asarray(trees, dtype=np.float64) + np.asarray(state["init_score"])
        np.testing.assert_array_equal(raw, model.boosters_[0].predict_raw(X))
    with pytest.raises(ValueError, match="not a BoostRegressor"):
        BoostRegressor.load_model(tmp_path / "QuantileRegressor.json")


# ------------------------------------------------------------------- input formats
@pytest.mark.parametrize("backend", BACKENDS)
def test_pandas_with_names_and_categories(backend: str) -> None:
    rng = np.random.default_rng(0)
    n = 600
    colour = rng.choice(["red", "green", "blue", "grey"], size=n)
    size = rng.normal(size=n)
    effect = {"red": 0.0, "green": 5.0, "blue": -5.0, "grey": 10.0}
    y = np.array([effect[c] for c in colour]) + size + 0.1 * rng.normal(size=n)
    frame = pd.DataFrame({"colour": pd.Categorical(colour), "size": size})
    model = BoostRegressor(backend=backend, n_estimators=50, learning_rate=0.3, n_jobs=1)
    model.fit(frame, y)
    np.testing.assert_array_equal(model.feature_names_in_, ["colour", "size"])
    assert model.score(frame, y) > 0.95
    # A frame whose categories come in another order predicts the same.
    reordered = frame.assign(colour=frame["colour"].cat.reorder_categories(sorted(effect)[::-1]))
    np.testing.assert_allclose(model.predict(reordered), model.predict(frame))


@pytest.mark.parametrize("backend", BACKENDS)
def test_numeric_dataframe_and_array_give_the_same_model(backend: str) -> None:
    X, y = regression_data(n=200)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    from_frame = BoostRegressor(backend=backend, **FAST).fit(frame, y)
    from_array = BoostRegressor(backend=backend, **FAST).fit(X, y)
    np.testing.assert_array_equal(from_frame.predict(frame), from_array.predict(X))
    assert not hasattr(from_array, "feature_names_in_")


# ------------------------------------------------------------- backend parameters
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_params_pass_through(backend: str) -> None:
    X, y = regression_data(n=300)
    if backend == "xgboost":
        model = BoostRegressor(max_depth=1, tree_method="approx", **FAST).fit(X, y)
        booster = model.boosters_[0].booster
        config = json.loads(booster.save_config())
        assert config["learner"]["gradient_booster"]["gbtree_train_param"]["tree_method"] == (
            "approx"
        )
        assert all(tree.count("leaf=") == 2 for tree in booster.get_dump())
    else:
        model = BoostRegressor(backend="lightgbm", num_leaves=3, **FAST).fit(X, y)
        trees = model.boosters_[0].booster.dump_model()["tree_info"]
        assert max(tree["num_leaves"] for tree in trees) == 3
    assert model.get_params()["n_jobs"] == 1


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("xgboost", r"XGBoost: Parameters: \{ \"not_a_parameter\" \} are not used"),
        ("lightgbm", "LightGBM: Unknown parameter: not_a_parameter"),
    ],
)
def test_unknown_backend_params_fail_with_the_librarys_error(backend: str, message: str) -> None:
    X, y = regression_data(n=50)
    with pytest.raises(ValueError, match=message):
        BoostRegressor(backend=backend, not_a_parameter=1, **FAST).fit(X, y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_params_boostobj_sets_cannot_be_overridden(backend: str) -> None:
    X, y = regression_data(n=50)
    with pytest.raises(ValueError, match="set by boostobj"):
        BoostRegressor(backend=backend, objective="reg:squarederror", **FAST).fit(X, y)


# ------------------------------------------------------------------------------ GPU
@pytest.mark.skipif(machine_has_cuda_gpu(), reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("backend", BACKENDS)
def test_cuda_without_a_gpu_is_an_error_not_a_cpu_run(backend: str) -> None:
    X, y = regression_data(n=50)
    with pytest.raises(GPUUnavailableError, match="device='cuda' was requested"):
        BoostRegressor(backend=backend, device="cuda", **FAST).fit(X, y)


@pytest.mark.skipif(not machine_has_cuda_gpu(), reason="needs a CUDA GPU")
def test_cuda_trains_on_the_gpu_with_xgboost() -> None:
    X, y = regression_data(n=500)
    gpu = BoostRegressor(device="cuda", **FAST).fit(X, y)
    config = json.loads(gpu.boosters_[0].booster.save_config())
    assert config["learner"]["generic_param"]["device"].startswith("cuda")
    cpu = BoostRegressor(**FAST).fit(X, y)
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), atol=1e-3)


# ----------------------------------------------------------------------- bad input
def test_bad_inputs_get_clear_errors() -> None:
    X, y = regression_data(n=60)
    for bad in (np.nan, np.inf):
        y_bad = y.copy()
        y_bad[3] = bad
        for estimator in (BoostRegressor(**FAST), QuantileRegressor(**FAST)):
            with pytest.raises(ValueError, match=r"y contains (NaN|infinity)"):
                estimator.fit(X, y_bad)
    with pytest.raises(ValueError, match="one class"):
        BoostClassifier(**FAST).fit(X, np.ones(y.size))
    with pytest.raises(ValueError, match=r"Only binary classification.*3 classes"):
        BoostClassifier(loss="logistic", **FAST).fit(X, np.arange(y.size) % 3)
    for alphas in ((0.0, 0.5), (0.5, 1.0), (0.9, 0.1), (0.1, 0.1, 0.9), ()):
        with pytest.raises(ValueError, match="alphas"):
            QuantileRegressor(alphas=alphas, **FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"unknown loss 'l2'.*'logcosh'"):
        BoostRegressor(loss="l2").fit(X, y)
    with pytest.raises(ValueError, match="cannot train loss Logistic"):
        BoostRegressor(loss=Logistic()).fit(X, y)
    with pytest.raises(ValueError, match="cannot train loss LogCosh"):
        BoostClassifier(loss="logcosh").fit(X, y > 0)
    with pytest.raises(ValueError, match="backend must be one of"):
        BoostRegressor(backend="catboost").fit(X, y)
    with pytest.raises(ValueError, match="device must be"):
        BoostRegressor(device="gpu").fit(X, y)
    with pytest.raises(ValueError, match="labels not seen"):
        BoostClassifier(**FAST).fit(X, y > 0, eval_set=[(X, np.full(y.size, 2))])


# --------------------------------------------------------------- scikit-learn tools
@pytest.mark.parametrize("backend", BACKENDS)
def test_pipeline_grid_search_and_cross_validation(backend: str) -> None:
    X, y = regression_data(n=300)
    depth = {"xgboost": "max_depth", "lightgbm": "num_leaves"}[backend]
    for estimator, target, grid_value in [
        (BoostRegressor(backend=backend, learning_rate=0.3, **FAST), y, 2),
        (BoostClassifier(backend=backend, **FAST), np.where(y > 0, "up", "down"), 3),
        # 100 trees, the default: the quantile leaf penalty trades the first trees' speed
        # for less over-fitting (D² 0.44-0.48 after 20 trees here, 0.61-0.72 after 100)
        (QuantileRegressor(backend=backend, learning_rate=0.3, n_jobs=1), y, 4),
    ]:
        pipeline = make_pipeline(StandardScaler(), estimator)
        scores = cross_val_score(pipeline, X, target, cv=3)
        assert scores.shape == (3,) and np.all(scores > 0.5)
        search = GridSearchCV(
            pipeline, {f"{type(estimator).__name__.lower()}__{depth}": [grid_value, 6]}, cv=2
        )
        search.fit(X, target)
        assert search.best_estimator_[-1].get_params()[depth] in (grid_value, 6)
        assert search.best_score_ > 0.5


def _xgboost_min_child_weight(model: Any) -> float:
    config = json.loads(model.boosters_[0].booster.save_config())
    return float(config["learner"]["gradient_booster"]["tree_train_param"]["min_child_weight"])


def test_xgboost_min_child_weight_counts_effective_samples() -> None:
    """The adapters scale Hessians by ``newton_scale``, so the XGBoost default
    ``min_child_weight`` is scaled too: one effective sample, the largest Hessian of one
    row (the secant curvature at the fitted loss's residual floor), unless the user sets
    it."""
    X, y = heteroscedastic_data(500, seed=0)
    y = y + 100 * (np.arange(y.size) % 50 == 0)  # a few outliers
    scaled = BoostRegressor(loss="logcosh", max_depth=6, **FAST).fit(X, y)
    floor = scaled.loss_.residual_floor
    one_row = LogCosh().newton_scale * min(1.0, np.tanh(floor) / floor)  # ψ(τ)/τ, s = 1
    assert _xgboost_min_child_weight(scaled) == pytest.approx(one_row, rel=1e-6)
    quantile = QuantileRegressor(alphas=(0.9,), **FAST).fit(X, y)
    one_row_at_kink = Quantile.newton_scale * 1.4 / (2 * quantile.losses_[0].epsilon)
    assert _xgboost_min_child_weight(quantile) == pytest.approx(one_row_at_kink, rel=1e-6)
    unscaled = BoostRegressor(loss="logcosh", max_depth=6, min_child_weight=1, **FAST).fit(X, y)
    assert _xgboost_min_child_weight(unscaled) == 1
    assert not np.allclose(scaled.predict(X), unscaled.predict(X))
    logistic = BoostClassifier(loss="logistic", **FAST).fit(X, (y > np.median(y)).astype(int))
    assert _xgboost_min_child_weight(logistic) == 1  # newton_scale 1: XGBoost's default


@pytest.mark.parametrize("loss", ["logcosh", "quantile"])
def test_xgboost_estimators_hand_hessians_in_newton_scale_units(
    loss: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The estimators count ``min_child_weight`` and ``reg_lambda`` in units of
    ``newton_scale``: their objective hands XGBoost ``newton_scale`` times the Hessian,
    not the raw objective's per-round normalization (``xgboost_unit_rows``)."""
    handed = []
    real_train = xgb.train

    def recording_train(*args: Any, obj: Any, **kwargs: Any) -> Any:
        def recording_objective(predictions: Any, dtrain: Any) -> Any:
            gradient, hessian = obj(predictions, dtrain)
            handed.append((predictions.copy(), hessian.copy()))
            return gradient, hessian

        return real_train(*args, obj=recording_objective, **kwargs)

    monkeypatch.setattr(xgb, "train", recording_train)
    X, y = heteroscedastic_data(300, seed=0)
    model = BoostRegressor(loss=loss, **FAST).fit(X, y)
    assert len(handed) == FAST["n_estimators"]
    fitted = model.loss_
    for predictions, hessian in handed:
        want = fitted.newton_scale * fitted.gradient_hessian(y, predictions)[1]
        np.testing.assert_allclose(hessian, want, rtol=4 * np.finfo(np.float32).eps)


def _l2_penalty(trained: Any) -> float:
    """The L2 penalty on leaf values a trained booster used, from the library's own
    record of its configuration."""
    if trained.backend == "xgboost":
        config = json.loads(trained.booster.save_config())
        return float(config["learner"]["gradient_booster"]["tree_train_param"]["lambda"])
    model = trained.booster.model_to_string()
    return float(re.search(r"\[lambda_l2: ([^\]]+)\]", model).group(1))


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_quantile_leaf_penalty_counts_minority_side_rows(backend: str) -> None:
    """The quantile estimators penalize leaf values by 1 / (2 min(α, 1 - α)) rows at the
    kink (1 at the median, 10 at α = 0.05 and 0.95), unless the user sets a penalty under
    any of the library's names for it; other losses keep the library's default."""
    X, y = heteroscedastic_data(500, seed=0)
    alphas = (0.05, 0.5, 0.95)
    model = QuantileRegressor(alphas=alphas, backend=backend, **FAST).fit(X, y)
    trained_models = zip(alphas, (10, 1, 10), model.losses_, model.boosters_, strict=True)
    for alpha, rows, loss, trained in trained_models:
        one_row_at_kink = Quantile.newton_scale * (0.5 + max(alpha, 1 - alpha)) / (2 * loss.epsilon)
        # rel: LightGBM's model string prints parameters to 6 significant digits
        assert _l2_penalty(trained) == pytest.approx(rows * one_row_at_kink, rel=1e-5)
    names = ("reg_lambda", "lambda") if backend == "xgboost" else ("reg_lambda", "lambda_l2")
    for name in names:
        kept = QuantileRegressor(alphas=(0.95,), backend=backend, **{name: 3.0}, **FAST).fit(X, y)
        assert _l2_penalty(kept.boosters_[0]) == 3.0
    unpenalized = QuantileRegressor(alphas=(0.95,), backend=backend, reg_lambda=0.0, **FAST)
    assert not np.allclose(unpenalized.fit(X, y).predict(X)[:, 0], model.predict(X)[:, 2])
    robust = BoostRegressor(loss="logcosh", backend=backend, **FAST).fit(X, y)
    assert _l2_penalty(robust.boosters_[0]) == (1.0 if backend == "xgboost" else 0.0)


# ----------------------------------------------------------- curvature from the labels
def test_estimators_train_the_loss_fitted_to_the_labels() -> None:
    X, y = regression_data(offset=100.0)
    weight = np.random.default_rng(3).uniform(0.5, 2.0, size=y.shape[0])
    model = BoostRegressor(loss=Huber(delta=0.5), **FAST).fit(X, y, sample_weight=weight)
    assert model.loss_ == Huber(delta=0.5).fitted_to(y, weight)
    assert model.loss_.residual_floor > 0
    kept = BoostRegressor(loss=LogCosh(residual_floor=0.0), **FAST).fit(X, y)
    assert kept.loss_ == LogCosh(residual_floor=0.0)  # a value the user set stays
    quantiles = QuantileRegressor(alphas=(0.1, 0.9), **FAST).fit(X, y)
    assert quantiles.losses_ == [Quantile(a).fitted_to(y) for a in (0.1, 0.9)]
    fixed = QuantileRegressor(alphas=(0.1, 0.9), epsilon=2.0, **FAST).fit(X, y)
    assert [loss.epsilon for loss in fixed.losses_] == [2.0, 2.0]


def offset_heavy_tailed_data(n: int, seed: int) -> tuple[Any, Any, Any]:
    """``(X, y, truth)``: target mean 5000, signal spread 1000, Student-t(2) noise of
    scale 300 (the offset data of benchmarks/bench_quality.py)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    truth = 5000 + 1000 * (X[:, 0] + np.sin(2 * X[:, 1]) + X[:, 2] * X[:, 3]) / 1.6
    return X, truth + 300 * rng.standard_t(2, size=n), truth


@pytest.mark.parametrize("backend", BACKENDS)
def test_curvature_floor_keeps_boosting_from_the_init_score_fast(backend: str) -> None:
    """From the init score, with noise far above the loss's scale, the tight secant
    (``residual_floor=0``) leaves the model short of the truth after the same trees;
    the floor the estimator sets from the labels gets much closer."""
    X, y, _ = offset_heavy_tailed_data(4000, seed=0)
    X_test, _, truth = offset_heavy_tailed_data(2000, seed=1)
    settings = {"backend": backend, "n_estimators": 100, "n_jobs": 1}
    errors = {
        name: np.mean(
            np.abs(BoostRegressor(loss=loss, **settings).fit(X, y).predict(X_test) - truth)
        )
        for name, loss in (("floor", LogCosh()), ("tight", LogCosh(residual_floor=0.0)))
    }
    assert errors["floor"] < 0.8 * errors["tight"], errors
