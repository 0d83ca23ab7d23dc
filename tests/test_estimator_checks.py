"""scikit-learn's estimator checks for the three estimators on both backends.

Checks an estimator may fail are listed, with the reason, by the estimator's own
``_xfail_checks()`` and reported as xfail (or xpass: the float32 rounding one depends on
the data and the build).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sklearn.utils.estimator_checks import parametrize_with_checks

from boostobj import BoostClassifier, BoostRegressor, QuantileRegressor

#: Small, fast boosters; scikit-learn's checks cap n_estimators at 5 themselves.
FAST = {"n_estimators": 5, "learning_rate": 0.3, "n_jobs": 1}

ESTIMATORS = [
    estimator(backend=backend, **FAST)
    for backend in ("xgboost", "lightgbm")
    for estimator in (
        BoostRegressor,
        BoostClassifier,
        partial(BoostClassifier, loss="softmax"),  # multi_class tag: multiclass checks run
        QuantileRegressor,
    )
]


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda estimator: estimator._xfail_checks()
)
def test_sklearn_compatible_estimator(estimator: Any, check: Any) -> None:
    check(estimator)
