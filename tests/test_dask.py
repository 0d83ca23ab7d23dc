"""Distributed training on a real ``distributed.LocalCluster`` (2 worker processes,
loopback only), started here: every loss as the objective of ``xgboost.dask`` and
``lightgbm.dask``, the ``boostobj.dask`` estimators against the single-machine ones, and
starting scores computed from all the labels, never per partition."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import dask.array as da
import dask.dataframe as dd
import lightgbm.dask
import numpy as np
import pandas as pd
import pytest
import xgboost.dask
from distributed import Client, LocalCluster, wait

from boostobj import (
    BoostClassifier,
    BoostRegressor,
    LogCosh,
    Logistic,
    Loss,
    Quantile,
    QuantileRegressor,
    Softmax,
    load_model,
)
from boostobj.dask import (
    DaskBoostClassifier,
    DaskBoostRegressor,
    DaskQuantileRegressor,
    global_init_score,
    starting_margin_like,
)

ROOT = Path(__file__).resolve().parents[1]
#: One default instance of every loss, plus the quantile level the issue names.
EVERY_LOSS = [cls() for cls in Loss.registry.values()] + [Quantile(alpha=0.9)]
N_TRAIN, N_TEST, N_PARTITIONS = 5000, 2000, 4


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two worker processes with one thread each, on the loopback interface."""
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _data(kind: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: 5 features; heavy-tailed regression targets around 50 ("regression"),
    0/1 labels ("binary") or 0..2 ("multiclass"). The features take 65 values each, fewer
    than the libraries' 255 bins, so that a worker's bins (found from its own rows) are
    those of the whole data: the comparison with one machine then measures the
    distributed training itself, not a difference in histogram binning."""
    rng = np.random.default_rng(seed)
    X = np.round(64 * rng.uniform(size=(n, 5))) / 64
    signal = 10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3]
    if kind == "regression":
        return X, 50 + signal + rng.standard_t(2, size=n)
    if kind == "binary":
        return X, (signal + 3 * rng.logistic(size=n) > 10).astype(np.float64)
    return X, np.digitize(signal + 2 * rng.logistic(size=n), [8.0, 12.0]).astype(np.float64)


def _kind(loss: Loss) -> str:
    if loss.supports_multiclass and not loss.binary_labels:
        return "multiclass"
    return "binary" if loss.binary_labels else "regression"


def _to_dask(X: np.ndarray, y: np.ndarray, collection: str) -> tuple[Any, Any]:
    """``X`` and ``y`` as Dask arrays or a Dask DataFrame/Series, in N_PARTITIONS."""
    if collection == "array":
        chunk = -(-len(y) // N_PARTITIONS)
        return da.from_array(X, chunks=(chunk, -1)), da.from_array(y, chunks=chunk)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]).assign(y=y)
    train = dd.from_pandas(frame, npartitions=N_PARTITIONS, sort=False)
    return train.drop(columns="y"), train["y"]


# ------------------------------------------------------------- pickling, objective
@pytest.mark.parametrize("loss", EVERY_LOSS, ids=repr)
def test_loss_objects_survive_pickle_and_cloudpickle(loss: Loss) -> None:
    _, y = _data(_kind(loss), 50)
    raw = np.zeros((50, 3)) if _kind(loss) == "multiclass" else np.zeros(50)
    for module in (pickle, cloudpickle):
        for obj in (loss, loss.xgb_metric, loss.lgb_metric):
            assert module.loads(module.dumps(obj)) == obj
        copy = module.loads(module.dumps(loss))
        for mine, theirs in zip(copy(y, raw), loss(y, raw), strict=True):
            np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("loss", EVERY_LOSS, ids=repr)
def test_objective_on_the_workers_equals_the_objective_on_all_rows(
    loss: Loss, client: Client
) -> None:
    """Each worker computes gradients and Hessians of its own rows only: they must be
    the rows of the whole-data result (no statistic of a partition enters them). So it is
    as LightGBM calls the objective, and as XGBoost does for losses without
    ``xgboost_unit_rows`` (for those, see the next test). ``Quantile(epsilon=None)``
    takes ε from the residuals of the rows it is given, which in ``lightgbm.dask`` are a
    worker's (its docstring): fixed from all rows (``for_round``), it is one loss again."""
    _, y = _data(_kind(loss), 400)
    rng = np.random.default_rng(1)
    raw = rng.normal(size=(400, 3) if _kind(loss) == "multiclass" else 400)
    sorted_rows = np.argsort(y, kind="stable")  # partitions of very different labels
    y, raw = y[sorted_rows], raw[sorted_rows]
    loss = loss.for_round(y, raw)
    partitions = np.array_split(np.arange(400), 4)
    calls = [lambda y, raw: loss(y, raw, None, None)]  # LightGBM: (y, pred, weight, group)
    if loss.xgboost_unit_rows is None:
        calls.append(loss)  # XGBoost: (y, pred)
    for call in calls:
        on_workers = client.gather([client.submit(call, y[rows], raw[rows]) for rows in partitions])
        for index, expected in enumerate(call(y, raw)):
            parts = [result[index] for result in on_workers]
            np.testing.assert_array_equal(np.concatenate(parts), expected)


@pytest.mark.parametrize("loss", [LogCosh(), Quantile(alpha=0.9)], ids=repr)
def test_xgboost_normalization_is_one_number_for_all_workers(loss: Loss, client: Client) -> None:
    """For XGBoost the objective divides the Hessians of losses with ``xgboost_unit_rows``
    by their mean over all rows, summed over the workers through XGBoost's collective:
    ``DaskXGBRegressor`` on partitions of very different labels trains the model that
    ``XGBRegressor`` trains on all rows at once. (With each worker's own mean, a worker
    whose residuals are 20× larger would hand 20× larger gradient sums.) The same holds
    for ``Quantile(epsilon=None)``'s ε, from the residuals of all workers' rows."""
    X, y = _data("regression", 4000)
    y = y + 1000 * (X[:, 4] > 0.5)  # residuals from the start: ~50 and ~1050
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    settings = {"objective": loss, "n_estimators": 10, "tree_method": "hist", "nthread": 1}
    local = xgboost.XGBRegressor(**settings).fit(X, y).predict(X)
    X_dask, y_dask = _to_dask(X, y, "array")
    X_dask, y_dask = client.persist([X_dask, y_dask])
    wait([X_dask, y_dask])
    holders = {worker for keys in client.who_has(y_dask).values() for worker in keys}
    assert len(holders) == 2  # both workers hold partitions
    remote = xgboost.dask.DaskXGBRegressor(**settings).fit(X_dask, y_dask).predict(X_dask)
    np.testing.assert_allclose(remote.compute(), local, rtol=1e-4, atol=1e-4 * np.std(y))


# ------------------------------------------------------- the libraries' Dask wrappers
def _library_model(library: str, loss: Loss) -> Any:
    classifier = loss.binary_labels or loss.supports_multiclass
    settings: dict[str, Any] = {"objective": loss, "n_estimators": 10, "learning_rate": 0.3}
    if library == "xgboost":
        cls = xgboost.dask.DaskXGBClassifier if classifier else xgboost.dask.DaskXGBRegressor
        return cls(tree_method="hist", **settings)
    cls = lightgbm.dask.DaskLGBMClassifier if classifier else lightgbm.dask.DaskLGBMRegressor
    return cls(verbose=-1, **settings)


# lightgbm.dask warns about its own default n_jobs=None on every fit.
@pytest.mark.filterwarnings("ignore:Parameter n_jobs will be ignored:UserWarning")
@pytest.mark.parametrize("collection", ["array", "dataframe"])
@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("loss", EVERY_LOSS, ids=repr)
def test_every_loss_trains_in_the_libraries_dask_estimators(
    loss: Loss, library: str, collection: str, client: Client
) -> None:
    """``objective=loss`` in Dask{XGB,LGBM}{Regressor,Classifier}, started from the
    global starting score: the training loss falls well below that of the start."""
    X, y = _data(_kind(loss), 1200)
    X_dask, y_dask = _to_dask(X, y, collection)
    init = global_init_score(loss, y_dask)
    np.testing.assert_array_equal(init, loss.init_score(y))
    margin = starting_margin_like(y_dask, init)
    model = _library_model(library, loss)
    if library == "xgboost":
        model.fit(X_dask, y_dask, base_margin=margin)
        raw = model.get_booster().inplace_predict(
            X_dask.compute(), base_margin=margin.compute(), predict_type="margin"
        )
    else:
        model.fit(X_dask, y_dask, init_score=margin)
        raw = model.to_local().predict(X_dask.compute(), raw_score=True) + init
    start = loss.mean_loss(y, np.asarray(margin.compute()))
    assert loss.mean_loss(y, np.asarray(raw)) < 0.9 * start


# ------------------------------------------------------------ boostobj.dask estimators
def _estimators(loss: Loss, backend: str) -> tuple[Any, Any]:
    """``(Dask estimator, single-machine estimator)`` with identical settings."""
    settings = {"loss": loss, "backend": backend, "n_estimators": 40, "random_state": 0}
    if loss.binary_labels:
        return DaskBoostClassifier(**settings), BoostClassifier(**settings)
    return DaskBoostRegressor(**settings), BoostRegressor(**settings)


def _test_loss(model: Any, loss: Loss, X: Any, y: np.ndarray) -> float:
    raw = model.decision_function(X) if loss.binary_labels else model.predict(X)
    return loss.mean_loss(y, np.asarray(raw))


def _check_matches_single_machine(
    loss: Loss, backend: str, X: np.ndarray, y: np.ndarray, X_dask: Any, y_dask: Any, **fit: Any
) -> tuple[Any, Any]:
    """Fit both estimators; the same starting score, and test losses within 2%."""
    X_test, y_test = _data(_kind(loss), N_TEST, seed=99)
    remote, local = _estimators(loss, backend)
    remote.fit(X_dask, y_dask, **{k: v[0] for k, v in fit.items()})
    local.fit(X, y, **{k: v[1] for k, v in fit.items()})
    assert remote.boosters_[0].init_score == local.boosters_[0].init_score
    local_weight = fit.get("sample_weight", (None, None))[1]
    assert remote.loss_ == local.loss_ == loss.fitted_to(y, local_weight)  # all labels
    remote_X_test = X_test
    if isinstance(X_dask, dd.DataFrame):  # fitted with feature names: predict with them
        remote_X_test = pd.DataFrame(X_test, columns=X_dask.columns)
    remote_loss = _test_loss(remote, loss, remote_X_test, y_test)
    local_loss = _test_loss(local, loss, X_test, y_test)
    assert remote_loss == pytest.approx(local_loss, rel=0.02)
    start = loss.mean_loss(y_test, np.full(N_TEST, float(local.boosters_[0].init_score)))
    assert local_loss < 0.9 * start  # the models learned something to compare
    return remote, local


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("loss", [LogCosh(), Quantile(alpha=0.9), Logistic()], ids=repr)
def test_dask_estimator_matches_the_single_machine_one(
    loss: Loss, backend: str, client: Client
) -> None:
    X, y = _data(_kind(loss), N_TRAIN)
    _check_matches_single_machine(loss, backend, X, y, *_to_dask(X, y, "array"))


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_partitions_sorted_by_label_use_the_global_starting_score(
    backend: str, client: Client
) -> None:
    """Rows sorted by label: every partition has its own weighted 0.9-quantile, far from
    the global one. The Dask model must start from the global one, and train as well as
    the single-machine model."""
    loss = Quantile(alpha=0.9)
    X, y = _data("regression", N_TRAIN)
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    weight = np.random.default_rng(2).integers(1, 4, size=N_TRAIN).astype(np.float64)
    X_dask, y_dask = _to_dask(X, y, "dataframe")
    w_dask = dd.from_pandas(pd.Series(weight), npartitions=N_PARTITIONS, sort=False)
    partitions = np.array_split(np.arange(N_TRAIN), N_PARTITIONS)
    per_partition = [loss.init_score(y[rows], weight[rows]) for rows in partitions]
    global_init = loss.init_score(y, weight)
    assert min(abs(p - global_init) for p in per_partition) > 0.1 * np.std(y)
    assert max(per_partition) - min(per_partition) > np.std(y)

    assert global_init_score(loss, y_dask, w_dask) == global_init
    remote, _ = _check_matches_single_machine(
        loss, backend, X, y, X_dask, y_dask, sample_weight=(w_dask, weight)
    )
    assert remote.boosters_[0].init_score == global_init


def test_dask_predictions_and_persistence_match_the_local_estimator(
    client: Client, tmp_path: Path
) -> None:
    """Dask X is predicted partition by partition; ``to_local`` and ``save_model`` give
    the single-machine estimator with the same predictions; string class labels work."""
    X, y = _data("regression", 1200)
    X_dask, y_dask = _to_dask(X, y, "dataframe")
    quantiles = DaskQuantileRegressor(alphas=(0.1, 0.5, 0.9), n_estimators=10).fit(X_dask, y_dask)
    assert [float(b.init_score) for b in quantiles.boosters_] == [
        Quantile(alpha=a).init_score(y) for a in (0.1, 0.5, 0.9)
    ]
    prediction = quantiles.predict(X_dask).compute()
    assert prediction.shape == (1200, 3)
    np.testing.assert_array_equal(prediction, quantiles.to_local().predict(X_dask.compute()))
    quantiles.save_model(tmp_path / "model.json")
    loaded = load_model(tmp_path / "model.json")
    assert type(loaded) is QuantileRegressor
    np.testing.assert_array_equal(loaded.predict(X_dask.compute()), prediction)

    X, y = _data("multiclass", 1200)
    labels = np.array(["low", "mid", "high"])[y.astype(int)]
    X_dask, labels_dask = da.from_array(X, chunks=300), da.from_array(labels, chunks=300)
    classifier = DaskBoostClassifier(loss=Softmax(), backend="lightgbm", n_estimators=10)
    classifier.fit(X_dask, labels_dask)
    assert classifier.classes_.tolist() == ["high", "low", "mid"]
    np.testing.assert_array_equal(
        classifier.boosters_[0].init_score,
        Softmax().init_score(np.unique(labels, return_inverse=True)[1]),
    )
    assert classifier.predict(X_dask).compute().tolist() == classifier.predict(X).tolist()
    assert classifier.predict_proba(X_dask).compute().shape == (1200, 3)


def test_dask_estimators_reject_what_they_cannot_do() -> None:
    X, y = _data("regression", 100)
    X_dask, y_dask = _to_dask(X, y, "array")
    with pytest.raises(TypeError, match="Dask array or DataFrame"):
        DaskBoostRegressor().fit(X, y)
    with pytest.raises(NotImplementedError, match="eval sets"):
        DaskBoostRegressor().fit(X_dask, y_dask, eval_set=[(X_dask, y_dask)])
    with pytest.raises(NotImplementedError, match="calibrate"):
        DaskQuantileRegressor(conformal=True).fit(X_dask, y_dask)


def test_import_boostobj_does_not_import_dask() -> None:
    """boostobj imports Dask only when its Dask interface is used. (LightGBM before 4.7
    imports Dask itself when it is installed, so the libraries are imported first.)"""
    code = (
        "import sys, lightgbm, xgboost; before = set(sys.modules); import boostobj; "
        "added = {name.partition('.')[0] for name in set(sys.modules) - before}; "
        "dask = {'dask', 'distributed'} & added; assert not dask, dask"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_example_runs_end_to_end(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "dask_training.py"), "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {
        line[:40].strip(): [float(v) for v in line[40:].split()]
        for line in done.stdout.splitlines()
        if line.startswith(("xgboost ", "lightgbm "))
    }
    for backend in ("xgboost", "lightgbm"):
        local_mae, local_init = rows[f"{backend} BoostRegressor (one machine)"]
        remote_mae, remote_init = rows[f"{backend} DaskBoostRegressor"]
        assert remote_init == local_init
        assert remote_mae == pytest.approx(local_mae, rel=0.02)
