"""Robust regression: ``objective=logcosh_obj`` in XGBoost and LightGBM, on data with outliers.

The training targets carry heavy-tailed noise and 5% gross outliers (one-sided spikes).
Squared error chases the spikes; log-cosh is quadratic for small residuals and linear for
large ones, so it learns the noiseless function much better. Both models are scored on a
test set against that noiseless function.

    python examples/robust_regression.py            # a few seconds
    python examples/robust_regression.py --quick    # a smaller run, for the test suite
"""

from __future__ import annotations

import argparse

import lightgbm as lgb
import numpy as np
import xgboost as xgb

from boostobj import logcosh_obj
from boostobj.datasets import heavy_tailed_regression


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train the four models, print their errors and return the test MAE of each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, few trees")
    args = parser.parse_args(argv)
    n_train, n_test, n_trees = (1500, 500, 60) if args.quick else (6000, 2000, 200)

    data = heavy_tailed_regression(n_train + n_test, random_state=0)
    X_train, y_train = data.X[:n_train], data.y[:n_train]
    X_test, truth_test = data.X[n_train:], data.truth[n_train:]

    # A callable objective starts XGBoost at 0.5 and LightGBM at 0: hand both the
    # loss's own starting score (the log-cosh M-estimate of location of y), with the
    # loss fitted to the labels (its curvature floor, README "Hessian safeguards").
    loss = logcosh_obj.fitted_to(y_train)
    init = loss.init_score(y_train)
    predictions = {
        "xgboost log-cosh": xgb.XGBRegressor(objective=loss, base_score=init, n_estimators=n_trees)
        .fit(X_train, y_train)
        .predict(X_test),
        "xgboost squared error": xgb.XGBRegressor(
            objective="reg:squarederror", n_estimators=n_trees
        )
        .fit(X_train, y_train)
        .predict(X_test),
        # LightGBM returns raw scores with a callable objective: add the start back.
        "lightgbm log-cosh": lgb.LGBMRegressor(objective=loss, n_estimators=n_trees, verbose=-1)
        .fit(X_train, y_train, init_score=np.full(n_train, init))
        .predict(X_test)
        + init,
        "lightgbm squared error": lgb.LGBMRegressor(
            objective="l2", n_estimators=n_trees, verbose=-1
        )
        .fit(X_train, y_train)
        .predict(X_test),
    }

    print(f"{'model':<24}{'MAE':>8}{'RMSE':>8}   (against the noiseless function)")
    mae = {}
    for name, prediction in predictions.items():
        error = prediction - truth_test
        mae[name] = float(np.mean(np.abs(error)))
        print(f"{name:<24}{mae[name]:>8.3f}{np.sqrt(np.mean(error**2)):>8.3f}")
    return mae


if __name__ == "__main__":
    main()
