"""90% prediction intervals with ``QuantileRegressor``, before and after conformal calibration.

The noise of the data grows with the feature ``x0``, so a good interval is narrow on the
left and wide on the right. ``QuantileRegressor`` fits the 5%, 50% and 95% quantiles;
``calibrate`` then widens (or narrows) the interval by the amount that makes it cover 90%
of held-out calibration rows (conformalized quantile regression), which guarantees the
coverage on new data whatever the model got wrong. The plot shows both intervals against
the true quantiles.

    python examples/quantile_intervals.py --plot intervals.png
    python examples/quantile_intervals.py --quick --plot intervals.png   # for the tests
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")  # write files, never open windows
import matplotlib.pyplot as plt
import numpy as np

from boostobj import QuantileRegressor
from boostobj.datasets import heteroscedastic_quantile, heteroscedastic_regression


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Fit, calibrate, print coverage and width, save the plot; return the coverages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", default="quantile_intervals.png", help="PNG file to write")
    parser.add_argument("--backend", default="lightgbm", choices=("xgboost", "lightgbm"))
    parser.add_argument("--quick", action="store_true", help="small data, few trees")
    args = parser.parse_args(argv)
    n_train, n_calibration, n_test, n_trees = (
        (800, 400, 1000, 150) if args.quick else (4000, 1000, 2000, 200)
    )

    data = heteroscedastic_regression(
        n_train + n_calibration + n_test, n_noise_features=0, random_state=0
    )
    X_train, y_train = data.X[:n_train], data.y[:n_train]
    X_cal, y_cal = (
        data.X[n_train : n_train + n_calibration],
        data.y[n_train : n_train + n_calibration],
    )
    X_test, y_test = data.X[-n_test:], data.y[-n_test:]

    model = QuantileRegressor(
        alphas=(0.05, 0.5, 0.95), backend=args.backend, n_estimators=n_trees, random_state=0
    )
    model.fit(X_train, y_train)
    intervals = {"quantile regression": model.predict_interval(X_test, coverage=0.9)}
    model.calibrate(X_cal, y_cal)  # conformal step, on rows the model has not seen
    intervals["+ conformal calibration"] = model.predict_interval(X_test, coverage=0.9)
    x0 = X_test[:, 0]
    intervals["true quantiles"] = (
        heteroscedastic_quantile(x0, 0.05),
        heteroscedastic_quantile(x0, 0.95),
    )

    print(f"{'90% interval':<26}{'coverage':>9}{'mean width':>12}")
    coverage = {}
    order = np.argsort(x0)
    figure, axis = plt.subplots(figsize=(8, 5))
    axis.scatter(x0, y_test, s=3, color="0.7", label="test data")
    for (name, (lower, upper)), style in zip(intervals.items(), ("C0-", "C3-", "k--"), strict=True):
        coverage[name] = float(np.mean((lower <= y_test) & (y_test <= upper)))
        print(f"{name:<26}{coverage[name]:>9.1%}{np.mean(upper - lower):>12.2f}")
        axis.plot(x0[order], lower[order], style, lw=1, label=f"{name} ({coverage[name]:.1%})")
        axis.plot(x0[order], upper[order], style, lw=1)
    axis.set(xlabel="x0", ylabel="y", title=f"90% prediction intervals ({args.backend})")
    axis.legend(loc="upper left", fontsize=8)
    figure.savefig(args.plot, dpi=110)
    print(f"plot written to {args.plot}")
    return coverage


if __name__ == "__main__":
    main()
