"""Distributed training: boostobj losses on a Dask cluster, end to end.

The data are a Dask DataFrame in several partitions, spread over the workers. Two ways
to train, on XGBoost and LightGBM:

- ``boostobj.dask.DaskBoostRegressor``: the estimator, fitted on the cluster;
- ``xgboost.dask.DaskXGBRegressor(objective=logcosh_obj)`` and
  ``lightgbm.dask.DaskLGBMRegressor(objective=logcosh_obj)``, started from
  ``global_init_score`` (the loss's starting score of *all* the labels).

Each is compared with the single-machine ``BoostRegressor`` trained on the same rows:
the same starting score, and about the same test error.

    python examples/dask_training.py            # a LocalCluster of 2 worker processes
    python examples/dask_training.py --quick    # a smaller run, for the test suite
    python examples/dask_training.py --scheduler tcp://10.0.0.5:8786   # your cluster

On a real cluster, ``--scheduler`` is the only change: ``Client(address)`` replaces the
LocalCluster, and the workers need boostobj installed (they unpickle the loss objects).
Read the data there with ``dask.dataframe.read_parquet`` instead of generating it.
"""

from __future__ import annotations

import argparse

import dask.dataframe as dd
import lightgbm.dask
import numpy as np
import xgboost.dask
from distributed import Client, LocalCluster

from boostobj import BoostRegressor, logcosh_obj
from boostobj.dask import DaskBoostRegressor, global_init_score, starting_margin_like
from boostobj.datasets import heavy_tailed_regression


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Train on the cluster and on one machine; print and return the test MAE and the
    starting score of each model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scheduler",
        help="address of a running scheduler (default: a "
        "LocalCluster of 2 worker processes on this machine)",
    )
    parser.add_argument("--quick", action="store_true", help="small data, few trees")
    args = parser.parse_args(argv)
    n_train, n_test, n_trees = (2000, 500, 30) if args.quick else (20000, 5000, 200)

    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        return _compare(n_train, n_test, n_trees)
    finally:
        client.close()
        if not args.scheduler:
            cluster.close()


def _compare(n_train: int, n_test: int, n_trees: int) -> dict[str, dict[str, float]]:
    data = heavy_tailed_regression(n_train + n_test, random_state=0)
    frame = data.frame("y")
    features = data.feature_names
    train = dd.from_pandas(frame.iloc[:n_train], npartitions=4).persist()
    X, y = train[features], train["y"]
    X_test, truth_test = frame[features].iloc[n_train:], data.truth[n_train:]

    results: dict[str, dict[str, float]] = {}

    def record(name: str, prediction: np.ndarray, init: float) -> None:
        mae = float(np.mean(np.abs(prediction - truth_test)))
        results[name] = {"mae": mae, "init": float(init)}
        print(f"{name:<40}{mae:>8.3f}{init:>14.6f}")

    print(f"{'model':<40}{'MAE':>8}{'start score':>14}   (MAE against the noiseless function)")
    for backend in ("xgboost", "lightgbm"):
        settings = {"loss": logcosh_obj, "backend": backend, "n_estimators": n_trees}
        local = BoostRegressor(**settings).fit(frame[features].iloc[:n_train], frame["y"][:n_train])
        record(
            f"{backend} BoostRegressor (one machine)",
            local.predict(X_test),
            local.boosters_[0].init_score,
        )
        remote = DaskBoostRegressor(**settings).fit(X, y)
        record(
            f"{backend} DaskBoostRegressor", remote.predict(X_test), remote.boosters_[0].init_score
        )

    # The libraries' own Dask estimators, with the loss object as objective: start them
    # from the starting score of all the labels, as a per-row margin partitioned like y.
    init = global_init_score(logcosh_obj, y)
    margin = starting_margin_like(y, init)
    # XGBoost's defaults need nothing: the loss hands it Hessians whose mean is one
    # per row, summed over the workers (README, "Scale").
    xgb_model = xgboost.dask.DaskXGBRegressor(
        objective=logcosh_obj, n_estimators=n_trees, learning_rate=0.1
    )
    xgb_model.fit(X, y, base_margin=margin)
    test_margin = np.full(n_test, init)
    booster = xgb_model.get_booster()
    record(
        "xgboost.dask.DaskXGBRegressor",
        booster.inplace_predict(X_test, base_margin=test_margin, predict_type="margin"),
        init,
    )
    lgb_model = lightgbm.dask.DaskLGBMRegressor(
        objective=logcosh_obj, n_estimators=n_trees, verbose=-1
    )
    lgb_model.fit(X, y, init_score=margin)
    record(
        "lightgbm.dask.DaskLGBMRegressor", lgb_model.to_local().predict(X_test) + init, init
    )  # LightGBM: add the start back
    return results


if __name__ == "__main__":
    main()
