"""boostobj: custom training objectives for XGBoost and LightGBM that train as well as
the built-ins — robust regression, quantiles and imbalanced classification."""

from boostobj.backends import GPUUnavailableError
from boostobj.base import Loss
from boostobj.estimators import BoostClassifier, BoostRegressor, QuantileRegressor, load_model
from boostobj.losses import *  # noqa: F403  (the losses and their default instances)
from boostobj.losses import __all__ as _losses_all

__version__ = "0.1.0"
__all__ = [
    "BoostClassifier",
    "BoostRegressor",
    "GPUUnavailableError",
    "Loss",
    "QuantileRegressor",
    "load_model",
    *_losses_all,
]
