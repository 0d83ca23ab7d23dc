"""scikit-learn estimators on the losses: ``BoostRegressor``, ``BoostClassifier`` and
``QuantileRegressor``, each on XGBoost or LightGBM (``backend=``).

What they do that the libraries' own wrappers with a loss object do not:

- start every booster from the loss's ``init_score`` (for the eval sets too) and add it
  back in ``predict``; ``predict_proba`` returns ``loss.transform`` of the raw margin on
  both libraries (LightGBM's returns raw scores for a callable objective);
- stop early on the loss's own metric and predict with the best iteration;
- encode any class labels, and check inputs with clear errors;
- ``QuantileRegressor``: non-crossing quantiles and conformalized intervals.

The library calls live in ``boostobj.backends``; the estimators hold validation, label
encoding, the quantile and conformal logic, and persistence.
"""

from __future__ import annotations

import json
import math
import numbers
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import d2_pinball_score
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from boostobj._validation import check_open_interval, check_positive, check_sample_weight
from boostobj.backends import TrainedBooster, check_device, get_backend, train_booster
from boostobj.base import Loss
from boostobj.losses import Quantile

__all__ = ["BoostClassifier", "BoostRegressor", "QuantileRegressor", "load_model"]

#: Version of the file format written by ``save_model``.
MODEL_FORMAT_VERSION = 1


class _BoostEstimator(BaseEstimator):
    """Shared machinery: parameters (including pass-through ``**backend_params``), input
    validation, training through ``boostobj.backends``, and ``save_model``/``load_model``.
    """

    def __init__(
        self,
        backend: str,
        n_estimators: int,
        learning_rate: float,
        device: str,
        random_state: Any,
        **backend_params: Any,
    ) -> None:
        self.backend = backend
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.device = device
        self.random_state = random_state
        self._backend_params = backend_params

    # ------------------------------------------------------------- parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the signature plus the pass-through ``**backend_params``."""
        return {**super().get_params(deep=deep), **self._backend_params}

    def set_params(self, **params: Any) -> _BoostEstimator:
        """Set parameters; names outside the signature become ``**backend_params``."""
        own = set(self._get_param_names())
        for name in [name for name in params if name not in own and "__" not in name]:
            self._backend_params[name] = params.pop(name)
        return super().set_params(**params)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values go to the boosters' default branch
        tags.input_tags.sparse = True
        return tags

    def _xfail_checks(self) -> dict[str, str]:
        """scikit-learn estimator checks this estimator may fail, with the reason (for
        ``parametrize_with_checks(expected_failed_checks=...)``)."""
        if self.backend != "xgboost":
            return {}
        reason = (
            "XGBoost stores leaf values in float32 and weighted rows add up the gradient "
            "sums in another order than repeated rows: predictions can differ in the last "
            "float32 bit (~1e-7 relative), above the check's rtol=1e-7 (tests/"
            "test_estimators.py checks the equivalence at float32 precision)"
        )
        return {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
        }

    def _training_options(self) -> dict[str, Any]:
        """Validated hyperparameters, as keyword arguments of ``train_booster``."""
        get_backend(self.backend)
        check_device(self.device)
        if self.random_state is None:
            seed = None
        elif isinstance(self.random_state, numbers.Integral):
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        return {
            "backend": self.backend,
            "n_estimators": _check_positive_integer("n_estimators", self.n_estimators),
            "learning_rate": check_positive("learning_rate", self.learning_rate),
            "device": self.device,
            "seed": seed,
            "params": dict(self._backend_params),
        }

    def _resolve_loss(self, loss: Any) -> Loss:
        """A loss object from a name or an object, checked by ``_accepts_loss``."""
        allowed = sorted(name for name, cls in Loss.registry.items() if self._accepts_loss(cls))
        if isinstance(loss, str):
            if loss not in Loss.registry:
                raise ValueError(
                    f"unknown loss {loss!r}; {type(self).__name__} accepts {allowed} "
                    "or a boostobj loss object"
                )
            loss = Loss.registry[loss]()
        if not isinstance(loss, Loss):
            raise TypeError(f"loss must be a name or a boostobj Loss, got {loss!r}")
        if not self._accepts_loss(type(loss)):
            raise ValueError(
                f"{type(self).__name__} cannot train loss {loss!r}; it accepts {allowed}"
            )
        return loss

    @staticmethod
    def _accepts_loss(cls: type[Loss]) -> bool:
        """Whether this estimator can train losses of class ``cls``."""
        return not cls.binary_labels and not cls.supports_multiclass

    # ------------------------------------------------------------ validation
    def _validate_X(self, X: Any, reset: bool) -> Any:
        """A pandas DataFrame with categorical columns passes through unchanged (both
        libraries read pandas categories); anything else becomes a float array or a
        CSR/CSC matrix, NaN allowed (missing), inf not."""
        if _has_categorical_columns(X):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError("Found array with 0 sample(s) (shape=(0, ...)); need >= 1")
            return X
        return validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
        )

    def _validate_y(self, y: Any, reset: bool) -> np.ndarray:
        """Regression targets: a finite float vector."""
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        return column_or_1d(y, warn=True)

    def _validate_fit_data(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        eval_set: Any,
        eval_sample_weight: Any,
        early_stopping_rounds: Any,
    ) -> tuple[Any, np.ndarray, np.ndarray | None, list[tuple[Any, Any, Any]]]:
        """``(X, y, sample_weight, eval sets)``, validated and with encoded labels."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X = self._validate_X(X, reset=True)
        y = self._validate_y(y, reset=True)
        check_consistent_length(X, y)
        sample_weight = _check_weight(sample_weight, y.shape[0])
        evals = []
        eval_set = list(eval_set or [])
        eval_weights = list(eval_sample_weight or [None] * len(eval_set))
        if len(eval_weights) != len(eval_set):
            raise ValueError("eval_sample_weight must have one entry per eval_set pair")
        for pair, weight in zip(eval_set, eval_weights, strict=True):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError("eval_set must be a list of (X, y) pairs")
            X_eval = self._validate_X(pair[0], reset=False)
            y_eval = self._validate_y(pair[1], reset=False)
            check_consistent_length(X_eval, y_eval)
            evals.append((X_eval, y_eval, _check_weight(weight, y_eval.shape[0])))
        if early_stopping_rounds is not None:
            _check_positive_integer("early_stopping_rounds", early_stopping_rounds)
            if not evals:
                raise ValueError("early_stopping_rounds needs an eval_set to watch")
        return X, y, sample_weight, evals

    # --------------------------------------------------------------- training
    def _train(
        self,
        losses: list[Loss],
        X: Any,
        y: np.ndarray,
        sample_weight: np.ndarray | None,
        evals: list[tuple[Any, Any, Any]],
        early_stopping_rounds: int | None,
    ) -> list[Loss]:
        """Fit one booster per loss, each ``loss.fitted_to`` the training labels; sets
        ``boosters_`` and returns the fitted losses."""
        options = self._training_options()
        losses = [loss.fitted_to(y, sample_weight) for loss in losses]
        self.boosters_ = [
            train_booster(
                loss,
                X,
                y,
                sample_weight,
                eval_sets=evals,
                early_stopping_rounds=early_stopping_rounds,
                **options,
            )
            for loss in losses
        ]
        return losses

    def _raw_predict(self, X: Any) -> np.ndarray:
        """Raw margin of the (single) booster on validated ``X``."""
        check_is_fitted(self)
        return self.boosters_[0].predict_raw(self._validate_X(X, reset=False))

    # ------------------------------------------------------------ persistence
    def _fitted_state(self) -> dict[str, Any]:
        """Fitted attributes besides ``boosters_``, JSON-serializable."""
        state: dict[str, Any] = {"n_features_in_": int(self.n_features_in_)}
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = self.feature_names_in_.tolist()
        if hasattr(self, "loss_"):
            state["loss_"] = _encode_loss(self.loss_)
        return state

    def _set_fitted_state(self, state: dict[str, Any]) -> None:
        """Inverse of ``_fitted_state``."""
        self.n_features_in_ = state["n_features_in_"]
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)
        if "loss_" in state:
            self.loss_ = _decode_loss(state["loss_"])

    def save_model(self, path: str | Path) -> None:
        """Write the fitted estimator to a JSON file that ``load_model`` reads back without
        pickle: its parameters, fitted attributes and each booster in the library's own
        format (``boosters_[i].booster`` could be rebuilt from ``model`` by the library)."""
        check_is_fitted(self)
        params = self.get_params(deep=False)
        if "loss" in params:
            params["loss"] = _encode_loss(params["loss"])
        document = {
            "format": "boostobj",
            "format_version": MODEL_FORMAT_VERSION,
            "estimator": type(self).__name__,
            "params": params,
            "fitted": self._fitted_state(),
            "boosters": [booster.to_dict() for booster in self.boosters_],
        }
        Path(path).write_text(json.dumps(document, default=_json_default), encoding="utf-8")

    @classmethod
    def load_model(cls, path: str | Path) -> Any:
        """Read an estimator written by ``save_model``; the file must hold this class."""
        estimator = load_model(path)
        if not isinstance(estimator, cls):
            raise ValueError(f"{path} holds a {type(estimator).__name__}, not a {cls.__name__}")
        return estimator


class BoostRegressor(RegressorMixin, _BoostEstimator):
    """Gradient-boosted regression with a boostobj loss on XGBoost or LightGBM.

    Parameters
    ----------
    loss : str or Loss, default="logcosh"
        "logcosh", "huber", "pseudo_huber", "quantile", "squared_error", or a regression
        loss object such as ``Huber(delta=2.0)``.
    backend : {"xgboost", "lightgbm"}, default="xgboost"
    n_estimators : int, default=100
        Boosting rounds.
    learning_rate : float, default=0.1
    device : {"cpu", "cuda", "cuda:<ordinal>"}, default="cpu"
        "cuda" trains on the GPU (XGBoost: CUDA; LightGBM: its OpenCL GPU learner) or
        raises ``GPUUnavailableError`` where there is none: never a silent CPU run.
    random_state : int, RandomState or None, default=None
        Seed of the booster's sampling (subsample, colsample_*).
    **backend_params
        Passed to the library unchanged (``max_depth``, ``num_leaves``, ``reg_lambda``,
        ``n_jobs``, ``tree_method``, ...). Names the library does not know raise its own
        error (XGBoost: "Parameters: { ... } are not used", unless ``verbosity=0``).
        Set from the loss unless given: XGBoost's ``min_child_weight`` (one row's largest
        Hessian, README "Hessian safeguards") and, for ``Quantile``, an L2 penalty on leaf values
        (``Quantile.leaf_prior_rows``).

    Attributes
    ----------
    loss_ : Loss
        The loss trained: ``loss.fitted_to`` the training labels, i.e. with the curvature
        settings left None (``residual_floor`` of the robust losses, ``epsilon`` of
        ``Quantile``) set from them.
    boosters_ : list of TrainedBooster
        One booster, with its ``init_score``, ``best_iteration`` and ``evals_result``.
    n_features_in_, feature_names_in_ : as in scikit-learn.
    """

    def __init__(
        self,
        loss: str | Loss = "logcosh",
        backend: str = "xgboost",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        device: str = "cpu",
        random_state: Any = None,
        **backend_params: Any,
    ) -> None:
        self.loss = loss
        super().__init__(
            backend, n_estimators, learning_rate, device, random_state, **backend_params
        )

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        eval_set: Any = None,
        eval_sample_weight: Any = None,
        early_stopping_rounds: int | None = None,
    ) -> BoostRegressor:
        """Fit from the loss's ``init_score``; with ``early_stopping_rounds``, stop when
        the loss's mean on ``eval_set`` has not improved for that many rounds and
        predict with the best round."""
        self.loss_ = self._resolve_loss(self.loss)
        X, y, sample_weight, evals = self._validate_fit_data(
            X, y, sample_weight, eval_set, eval_sample_weight, early_stopping_rounds
        )
        (self.loss_,) = self._train([self.loss_], X, y, sample_weight, evals, early_stopping_rounds)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions on the target scale (``loss_.transform`` of the raw margin)."""
        raw = self._raw_predict(X)
        return np.asarray(self.loss_.transform(raw))


class BoostClassifier(ClassifierMixin, _BoostEstimator):
    """Gradient-boosted classification with a boostobj loss on XGBoost or LightGBM.

    Parameters are those of ``BoostRegressor``, except:

    loss : str or Loss, default="logistic"
        "logistic", "focal", "exponential" (binary), a multiclass loss ("softmax", where
        available), or a classification loss object such as ``Focal(gamma=1.0)``.

    Labels may be anything ``numpy.unique`` sorts (strings, {-1, 1}, {3, 7}, ...). With
    two classes the booster has one margin (the log-odds of ``classes_[1]``); with K >= 3,
    K margins, which needs a loss with ``supports_multiclass``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    loss_, boosters_, n_features_in_, feature_names_in_ : as in ``BoostRegressor``.
    """

    def __init__(
        self,
        loss: str | Loss = "logistic",
        backend: str = "xgboost",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        device: str = "cpu",
        random_state: Any = None,
        **backend_params: Any,
    ) -> None:
        self.loss = loss
        super().__init__(
            backend, n_estimators, learning_rate, device, random_state, **backend_params
        )

    @staticmethod
    def _accepts_loss(cls: type[Loss]) -> bool:
        return cls.binary_labels or cls.supports_multiclass

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        loss = Loss.registry.get(self.loss) if isinstance(self.loss, str) else self.loss
        tags.classifier_tags.multi_class = bool(getattr(loss, "supports_multiclass", False))
        return tags

    def _validate_y(self, y: Any, reset: bool) -> np.ndarray:
        """Class labels -> indices into ``classes_`` (set when ``reset``)."""
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True)
        check_classification_targets(y)
        if reset:
            self.classes_, encoded = np.unique(y, return_inverse=True)
            return encoded.astype(np.float64)
        encoded = np.searchsorted(self.classes_, y).clip(0, len(self.classes_) - 1)
        if not np.all(self.classes_[encoded] == y):
            raise ValueError(f"eval_set y holds labels not seen in training {self.classes_}")
        return encoded.astype(np.float64)

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        eval_set: Any = None,
        eval_sample_weight: Any = None,
        early_stopping_rounds: int | None = None,
    ) -> BoostClassifier:
        """Fit as ``BoostRegressor.fit``, on the labels' indices into ``classes_``."""
        self.loss_ = self._resolve_loss(self.loss)
        X, y, sample_weight, evals = self._validate_fit_data(
            X, y, sample_weight, eval_set, eval_sample_weight, early_stopping_rounds
        )
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least two classes in y; got one class "
                f"({self.classes_[0]!r})"
            )
        if n_classes > 2 and not self.loss_.supports_multiclass:
            multiclass = sorted(n for n, c in Loss.registry.items() if c.supports_multiclass)
            raise ValueError(
                f"Only binary classification is supported by loss {self.loss_!r}, but y has "
                f"{n_classes} classes; "
                f"use a multiclass loss ({multiclass})"
            )
        (self.loss_,) = self._train([self.loss_], X, y, sample_weight, evals, early_stopping_rounds)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw margin, (n_samples, n_classes); with two classes, as scikit-learn has it,
        (n_samples,): the log-odds of ``classes_[1]`` (for a loss with one margin per
        class, such as softmax, the difference of the two margins)."""
        raw = self._raw_predict(X)
        if raw.ndim == 2 and raw.shape[1] == 2:
            return raw[:, 1] - raw[:, 0]
        return raw

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, (n_samples, n_classes): ``loss_.transform`` of the margin."""
        raw = self._raw_predict(X)
        probability = np.asarray(self.loss_.transform(raw))
        if raw.ndim == 1:
            return np.column_stack([1.0 - probability, probability])
        return probability

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class label, from ``classes_``."""
        probability = self.predict_proba(X)
        return self.classes_[np.argmax(probability, axis=1)]

    def _fitted_state(self) -> dict[str, Any]:
        return {**super()._fitted_state(), "classes_": _encode_array(self.classes_)}

    def _set_fitted_state(self, state: dict[str, Any]) -> None:
        super()._set_fitted_state(state)
        self.classes_ = _decode_array(state["classes_"])


class QuantileRegressor(RegressorMixin, _BoostEstimator):
    """One gradient-boosted quantile (pinball-loss) model per level in ``alphas``, with
    non-crossing predictions and optional conformal calibration of the intervals.

    Parameters
    ----------
    alphas : sequence of float, default=(0.05, 0.5, 0.95)
        Strictly increasing quantile levels in (0, 1).
    backend, n_estimators, learning_rate, device, random_state, **backend_params :
        As in ``BoostRegressor``. Unless ``backend_params`` set one (under any of the
        library's names), each level's model gets an L2 penalty on leaf values of
        ``Quantile.leaf_prior_rows`` rows (10 at α = 0.05 or 0.95): ``reg_lambda=0``
        turns it off.
    epsilon : float or None, default=None
        Smoothing of the quantile loss's curvature (see ``boostobj.Quantile``); None:
        set from the training labels (``Quantile.fitted_to``).
    conformal : bool, default=False
        If True, ``fit`` holds out ``calibration_size`` of the rows, fits on the rest and
        calls ``calibrate`` on the held-out rows (split conformal, Romano et al. 2019).
    calibration_size : float or int, default=0.25
        Fraction (or number) of rows held out when ``conformal=True``.

    Non-crossing: ``predict`` sorts each row's quantiles (monotone rearrangement,
    Chernozhukov, Fernández-Val & Galichon 2010). Sorting never increases the pinball
    loss summed over the levels, and leaves rows that do not cross unchanged.

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,)
    losses_ : list of Quantile, one per alpha: the losses trained, with their epsilon.
    boosters_ : list of TrainedBooster, one per alpha.
    conformal_offsets_ : dict
        ``{(alpha_low, alpha_high): offset}`` from ``calibrate`` (empty before it): the
        interval of that pair is widened by ``offset`` on both sides (narrowed if < 0).
    n_features_in_, feature_names_in_ : as in scikit-learn.
    """

    def __init__(
        self,
        alphas: Any = (0.05, 0.5, 0.95),
        backend: str = "xgboost",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        device: str = "cpu",
        random_state: Any = None,
        *,
        epsilon: float | None = None,
        conformal: bool = False,
        calibration_size: float | int = 0.25,
        **backend_params: Any,
    ) -> None:
        self.alphas = alphas
        self.epsilon = epsilon
        self.conformal = conformal
        self.calibration_size = calibration_size
        super().__init__(
            backend, n_estimators, learning_rate, device, random_state, **backend_params
        )

    def _xfail_checks(self) -> dict[str, str]:
        reason = (
            "predict returns one column per alpha, shape (n_samples, n_alphas), where the "
            "check expects the shape of y"
        )
        shape_checks = (
            "check_regressors_train",
            "check_estimator_sparse_array",
            "check_estimator_sparse_matrix",
        )
        return {**super()._xfail_checks(), **dict.fromkeys(shape_checks, reason)}

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        eval_set: Any = None,
        eval_sample_weight: Any = None,
        early_stopping_rounds: int | None = None,
    ) -> QuantileRegressor:
        """Fit one booster per alpha (each from its weighted alpha-quantile, each
        early-stopped on its own pinball loss); with ``conformal=True``, on part of the
        rows, then ``calibrate`` on the rest (unweighted: the coverage guarantee is for
        exchangeable, unweighted rows)."""
        self.alphas_ = _check_alphas(self.alphas)
        epsilon = None if self.epsilon is None else check_positive("epsilon", self.epsilon)
        X, y, sample_weight, evals = self._validate_fit_data(
            X, y, sample_weight, eval_set, eval_sample_weight, early_stopping_rounds
        )
        self.conformal_offsets_: dict[tuple[float, float], float] = {}
        if self.conformal:
            self._symmetric_pairs()
            rows = np.arange(y.shape[0])
            fit_rows, calibration_rows = train_test_split(
                rows, test_size=self.calibration_size, random_state=self.random_state
            )
            X_calibration = _safe_indexing(X, calibration_rows)
            y_calibration = y[calibration_rows]
            X, y = _safe_indexing(X, fit_rows), y[fit_rows]
            if sample_weight is not None:
                sample_weight = sample_weight[fit_rows]
        losses = [Quantile(alpha=float(alpha), epsilon=epsilon) for alpha in self.alphas_]
        self.losses_ = self._train(losses, X, y, sample_weight, evals, early_stopping_rounds)
        if self.conformal:
            self._calibrate(X_calibration, y_calibration)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Quantiles, shape (n_samples, n_alphas), columns in the order of ``alphas``,
        non-decreasing along each row (monotone rearrangement)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        raw = np.column_stack([booster.predict_raw(X) for booster in self.boosters_])
        return np.sort(raw, axis=1)

    def predict_interval(self, X: Any, coverage: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)``: the ``(1 - coverage)/2`` and ``(1 + coverage)/2`` quantiles
        (both must be in ``alphas``), conformally adjusted after ``calibrate``: then
        ``P(lower <= y <= upper) >= coverage`` on data exchangeable with the calibration
        rows. An adjusted interval that would be empty collapses to its midpoint."""
        coverage = check_open_interval("coverage", coverage)
        check_is_fitted(self)
        low, high = self._pair_for(coverage)
        quantiles = self.predict(X)
        lower, upper = quantiles[:, low], quantiles[:, high]
        offset = self.conformal_offsets_.get((float(self.alphas_[low]), float(self.alphas_[high])))
        if offset is not None:
            lower, upper = lower - offset, upper + offset
            middle = 0.5 * (lower + upper)
            lower, upper = np.minimum(lower, middle), np.maximum(upper, middle)
        return lower, upper

    def calibrate(self, X: Any, y: Any) -> QuantileRegressor:
        """Conformalized quantile regression (Romano, Patterson & Candès 2019) on held-out
        rows ``X, y`` not used in ``fit``: for each pair of alphas symmetric about 0.5
        (nominal coverage c = alpha_high - alpha_low), the conformity scores
        ``E_i = max(q_low(x_i) - y_i, y_i - q_high(x_i))`` give the offset
        ``Q = the ceil(c (n + 1))-th smallest E_i`` (+inf if that exceeds n), so that
        ``[q_low - Q, q_high + Q]`` covers a new exchangeable row with probability >= c."""
        check_is_fitted(self)
        self._symmetric_pairs()
        X = self._validate_X(X, reset=False)
        y = self._validate_y(y, reset=False)
        check_consistent_length(X, y)
        self._calibrate(X, y)
        return self

    def _calibrate(self, X: Any, y: np.ndarray) -> None:
        quantiles = self.predict(X)
        offsets = {}
        for low, high in self._symmetric_pairs():
            coverage = self.alphas_[high] - self.alphas_[low]
            scores = np.sort(np.maximum(quantiles[:, low] - y, y - quantiles[:, high]))
            rank = math.ceil(coverage * (y.size + 1))
            if rank > y.size:
                warnings.warn(
                    f"{y.size} calibration rows are too few for coverage {coverage:.3g}: "
                    "the conformal interval is infinite",
                    UserWarning,
                    stacklevel=3,
                )
                offset = math.inf
            else:
                offset = float(scores[rank - 1])
            offsets[(float(self.alphas_[low]), float(self.alphas_[high]))] = offset
        self.conformal_offsets_ = offsets

    def _symmetric_pairs(self) -> list[tuple[int, int]]:
        """Index pairs (low, high) of alphas with alpha_low + alpha_high = 1, low < high."""
        alphas = self.alphas_
        pairs = [
            (low, high)
            for low in range(alphas.size)
            for high in range(low + 1, alphas.size)
            if math.isclose(alphas[low] + alphas[high], 1.0, abs_tol=1e-9)
        ]
        if not pairs:
            raise ValueError(
                f"conformal calibration needs alphas symmetric about 0.5 (such as 0.05 and "
                f"0.95); got {list(alphas)}"
            )
        return pairs

    def _pair_for(self, coverage: float) -> tuple[int, int]:
        """Indices of the alphas ``(1 - coverage)/2`` and ``(1 + coverage)/2``."""
        wanted = ((1 - coverage) / 2, (1 + coverage) / 2)
        found = [np.flatnonzero(np.isclose(self.alphas_, a, rtol=0, atol=1e-9)) for a in wanted]
        if not all(index.size for index in found):
            raise ValueError(
                f"coverage={coverage} needs alphas {wanted[0]:.6g} and {wanted[1]:.6g}; "
                f"this model has alphas {self.alphas_.tolist()}"
            )
        return int(found[0][0]), int(found[1][0])

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """D² pinball score (``sklearn.metrics.d2_pinball_score``: 1 is perfect, 0 is the
        constant quantile) averaged over ``alphas``; higher is better."""
        quantiles = self.predict(X)
        return float(
            np.mean(
                [
                    d2_pinball_score(y, quantiles[:, j], alpha=alpha, sample_weight=sample_weight)
                    for j, alpha in enumerate(self.alphas_)
                ]
            )
        )

    def _fitted_state(self) -> dict[str, Any]:
        offsets = [[low, high, offset] for (low, high), offset in self.conformal_offsets_.items()]
        return {
            **super()._fitted_state(),
            "alphas_": self.alphas_.tolist(),
            "conformal_offsets_": offsets,
        }

    def _set_fitted_state(self, state: dict[str, Any]) -> None:
        super()._set_fitted_state(state)
        self.alphas_ = np.asarray(state["alphas_"], dtype=np.float64)
        self.conformal_offsets_ = {
            (low, high): offset for low, high, offset in state["conformal_offsets_"]
        }


ESTIMATORS: dict[str, type[_BoostEstimator]] = {
    cls.__name__: cls for cls in (BoostRegressor, BoostClassifier, QuantileRegressor)
}


def load_model(path: str | Path) -> Any:
    """Read any estimator written by ``save_model`` (``BoostRegressor``, ...)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if document.get("format") != "boostobj":
        raise ValueError(f"{path} is not a boostobj model file")
    if document.get("format_version") != MODEL_FORMAT_VERSION:
        raise ValueError(
            f"{path} has boostobj model format {document.get('format_version')}; this "
            f"version reads format {MODEL_FORMAT_VERSION}"
        )
    params = document["params"]
    if "loss" in params:
        params["loss"] = _decode_loss(params["loss"])
    if document.get("estimator") not in ESTIMATORS:
        raise ValueError(f"{path} holds an unknown estimator {document.get('estimator')!r}")
    estimator = ESTIMATORS[document["estimator"]](**params)
    estimator._set_fitted_state(document["fitted"])
    estimator.boosters_ = [TrainedBooster.from_dict(state) for state in document["boosters"]]
    return estimator


# ------------------------------------------------------------------ helpers
def _has_categorical_columns(X: Any) -> bool:
    """True for a pandas DataFrame with at least one ``category`` column."""
    dtypes = getattr(X, "dtypes", None)
    return (
        hasattr(X, "iloc")
        and dtypes is not None
        and any(getattr(dtype, "name", None) == "category" for dtype in dtypes)
    )


def _check_positive_integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_alphas(alphas: Any) -> np.ndarray:
    """Strictly increasing levels in (0, 1), as a float array."""
    try:
        values = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"alphas must be a sequence of floats, got {alphas!r}") from error
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D sequence of floats, got {alphas!r}")
    if not np.all((values > 0) & (values < 1)):
        raise ValueError(f"alphas must lie in (0, 1), got {values.tolist()}")
    if not np.all(np.diff(values) > 0):
        raise ValueError(
            f"alphas must be strictly increasing (sorted, no duplicates), got {values.tolist()}"
        )
    return values


def _check_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    weight = np.asarray(sample_weight, dtype=np.float64)
    check_sample_weight(np, weight, (n_samples,))
    if not weight.sum() > 0:
        raise ValueError("sample_weight is all zero: at least one weight must be > 0")
    return weight


def _encode_loss(loss: Any) -> Any:
    """A loss name as is; a loss object as ``{"name": ..., "params": {...}}``."""
    if isinstance(loss, Loss):
        return {"name": loss.name, "params": loss.constructor_params()}
    return loss


def _decode_loss(loss: Any) -> Any:
    if isinstance(loss, dict):
        return Loss.registry[loss["name"]](**loss["params"])
    return loss


def _encode_array(values: np.ndarray) -> dict[str, Any]:
    return {"values": values.tolist(), "dtype": values.dtype.str}


def _decode_array(state: dict[str, Any]) -> np.ndarray:
    return np.asarray(state["values"], dtype=np.dtype(state["dtype"]))


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays in parameters (``alphas=np.array(...)``)."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"cannot save the parameter value {value!r} of type {type(value).__name__}")
