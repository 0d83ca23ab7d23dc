"""Backend glue: train and predict with XGBoost or LightGBM, from a loss.

One ``Backend`` per library turns the same request — a loss, data, a starting margin,
hyperparameters — into that library's calls. Both are driven through their training APIs
(``xgboost.train``, ``lightgbm.train``), with the loss object as objective and its mean
loss as eval metric:

=====================  ====================================  ===================================
                       XGBoost                               LightGBM
=====================  ====================================  ===================================
starting margin        ``DMatrix(base_margin=...)``          ``Dataset(init_score=...)``
early stopping         ``callback.EarlyStopping``: last      ``early_stopping``: stops when any
                       eval set                              eval set stops improving
GPU                    ``device="cuda"``                     ``device_type="gpu"`` (OpenCL)
no usable GPU          XGBoost warns and trains on the       LightGBM raises; re-raised as
                       CPU: detected before the first tree   ``GPUUnavailableError``
                       from the configured device, raised
                       as ``GPUUnavailableError``
unknown parameter      XGBoost's warning "Parameters: {...}  checked against LightGBM's own
                       are not used." raised as ValueError   parameter table (names + aliases)
=====================  ====================================  ===================================

The starting margin (``loss.init_score``: a float, or one value per class) is passed per
row for the training and every eval set, so the first tree and the eval metric both see
it; prediction sums the trees from a zero margin and adds the starting score back in
float64 (``TrainedBooster.predict_raw``). This is the same on both libraries, for 1-D
(n,) and multiclass (n, K) margins, and needs neither XGBoost's ``base_score`` (not
estimated for a callable objective) nor LightGBM's ``boost_from_average``.
"""

from __future__ import annotations

import json
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import xgboost as xgb

from boostobj.adapters import ConstantScaleObjective
from boostobj.base import Loss

#: ``(X, y, sample_weight)`` of an eval set; ``sample_weight`` may be None.
EvalSet = tuple[Any, Any, Any]


class GPUUnavailableError(RuntimeError):
    """``device="cuda"`` was requested but the library cannot train on a GPU here."""


@dataclass
class TrainedBooster:
    """A trained booster and what prediction needs besides it.

    Attributes
    ----------
    backend : {"xgboost", "lightgbm"}
    booster : xgboost.Booster or lightgbm.Booster
        Trained from a zero margin plus ``init_score``; predicting with the library
        directly needs ``init_score`` added back (``predict_raw`` does it).
    init_score : ndarray of shape () or (n_classes,)
        The loss's starting score.
    best_iteration : int
        Number of boosting rounds ``predict_raw`` uses: the best round (1-based) under
        early stopping, every round otherwise.
    evals_result : dict
        ``{eval set name: {metric name: [value per round]}}``.
    """

    backend: str
    booster: Any
    init_score: np.ndarray
    best_iteration: int
    evals_result: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    @property
    def n_outputs(self) -> int:
        """Raw margins per row: 1, or the number of classes of a multiclass loss."""
        return int(self.init_score.size) if self.init_score.ndim else 1

    def predict_raw(self, X: Any) -> np.ndarray:
        """Raw margin, float64: ``init_score`` plus the first ``best_iteration`` trees;
        shape (n_samples,) or (n_samples, n_classes)."""
        trees = get_backend(self.backend).predict_trees(
            self.booster, X, self.best_iteration, self.n_outputs
        )
        return np.asarray(trees, dtype=np.float64).reshape(_margin_shape(X, self)) + self.init_score

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form; the model is the library's own text format."""
        return {
            "backend": self.backend,
            "model": get_backend(self.backend).dumps(self.booster),
            "init_score": self.init_score.tolist(),
            "best_iteration": self.best_iteration,
            "evals_result": self.evals_result,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> TrainedBooster:
        """Inverse of ``to_dict``."""
        return cls(
            backend=state["backend"],
            booster=get_backend(state["backend"]).loads(state["model"]),
            init_score=np.asarray(state["init_score"], dtype=np.float64),
            best_iteration=int(state["best_iteration"]),
            evals_result=state["evals_result"],
        )


def _margin_shape(X: Any, booster: TrainedBooster) -> tuple[int, ...]:
    n = X.shape[0]
    return (n,) if booster.n_outputs == 1 else (n, booster.n_outputs)


def starting_margin(init_score: np.ndarray, n_rows: int) -> np.ndarray:
    """``init_score`` repeated for ``n_rows`` rows: shape (n,) or (n, K)."""
    if init_score.ndim == 0:
        return np.full(n_rows, float(init_score))
    return np.tile(init_score, (n_rows, 1))


def check_device(device: Any) -> str:
    """Return ``device`` unless it is not "cpu", "cuda" or "cuda:<ordinal>"."""
    if isinstance(device, str) and (
        device in ("cpu", "cuda") or (device.startswith("cuda:") and device[5:].isdigit())
    ):
        return device
    raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:<ordinal>', got {device!r}")


def train_booster(
    loss: Loss,
    X: Any,
    y: Any,
    sample_weight: Any = None,
    *,
    backend: str,
    n_estimators: int,
    learning_rate: float,
    device: str = "cpu",
    seed: int | None = None,
    params: dict[str, Any] | None = None,
    eval_sets: Sequence[EvalSet] = (),
    early_stopping_rounds: int | None = None,
) -> TrainedBooster:
    """Train one booster with ``loss`` as objective and eval metric, from its init score.

    ``y`` holds the loss's labels (floats; 0/1 for a binary loss; 0..K-1 for a multiclass
    loss, whose ``init_score`` has one value per class). ``params`` are the library's own
    parameters, passed through after a check that none of them is one boostobj sets.
    Early stopping, when ``early_stopping_rounds`` is given, watches the loss's metric on
    ``eval_sets`` (see the module docstring for each library's rule).
    """
    library = get_backend(backend)
    init_score = np.asarray(loss.init_score(y, sample_weight), dtype=np.float64)
    config = training_config(
        library, loss, init_score, params, learning_rate=learning_rate, device=device, seed=seed
    )
    train = (X, y, sample_weight, starting_margin(init_score, X.shape[0]))
    evals = [(Xe, ye, we, starting_margin(init_score, Xe.shape[0])) for Xe, ye, we in eval_sets]
    booster, best_iteration, evals_result = library.train(
        loss, config, train, evals, n_estimators, early_stopping_rounds
    )
    return TrainedBooster(backend, booster, init_score, best_iteration, evals_result)


def training_config(
    library: Backend,
    loss: Loss,
    init_score: np.ndarray,
    params: dict[str, Any] | None,
    *,
    learning_rate: float,
    device: str,
    seed: int | None,
) -> dict[str, Any]:
    """The library's parameters to train ``loss`` from ``init_score``: the user's
    ``params`` plus boostobj's own (shared by ``train_booster`` and ``boostobj.dask``)."""
    config = library.parameters(
        dict(params or {}),
        learning_rate=learning_rate,
        device=check_device(device),
        seed=seed,
        n_outputs=int(init_score.size) if init_score.ndim else 1,
    )
    row_hessian = loss.newton_scale * loss.max_row_curvature
    defaults = library.curvature_defaults(row_hessian)
    if loss.leaf_prior_rows:
        defaults[library.l2_penalty] = loss.leaf_prior_rows * row_hessian
    for name, value in defaults.items():
        if not library.aliases(name) & config.keys():
            config[name] = value
    return config


def eval_set_names(n: int) -> list[str]:
    """Names of the eval sets in ``evals_result``, as XGBoost's scikit-learn API has them."""
    return [f"validation_{i}" for i in range(n)]


class Backend(ABC):
    """How one library trains, predicts, saves and loads."""

    name: ClassVar[str]
    #: Parameter names (with their aliases) that boostobj sets itself.
    reserved: ClassVar[frozenset[str]]
    #: The library's L2 penalty on leaf values (``Loss.leaf_prior_rows``).
    l2_penalty: ClassVar[str]

    @abstractmethod
    def aliases(self, name: str) -> frozenset[str]:
        """``name`` and the library's other names for the same parameter."""

    def parameters(
        self,
        params: dict[str, Any],
        *,
        learning_rate: float,
        device: str,
        seed: int | None,
        n_outputs: int,
    ) -> dict[str, Any]:
        """The library's parameter dict: the user's ``params`` plus boostobj's own."""
        clash = sorted(set(params) & self.reserved)
        if clash:
            raise ValueError(
                f"{self.name} parameter(s) {clash} are set by boostobj (from loss, "
                "n_estimators, learning_rate, device or random_state); set those instead"
            )
        config = {**params, "learning_rate": learning_rate, **self.device_parameters(device)}
        if seed is not None:
            config["seed"] = seed
        if n_outputs > 1:
            config["num_class"] = n_outputs
        return config

    def curvature_defaults(self, row_hessian: float) -> dict[str, Any]:
        """Defaults, unless the user sets them, for limits counted in Hessian units;
        ``row_hessian`` is the largest Hessian one row hands the library
        (``loss.newton_scale * loss.max_row_curvature``)."""
        return {}

    @abstractmethod
    def device_parameters(self, device: str) -> dict[str, Any]:
        """Parameters that select ``device`` ("cpu", "cuda" or "cuda:<ordinal>")."""

    @abstractmethod
    def train(
        self,
        loss: Loss,
        params: dict[str, Any],
        train: tuple[Any, Any, Any, np.ndarray],
        evals: list[tuple[Any, Any, Any, np.ndarray]],
        n_estimators: int,
        early_stopping_rounds: int | None,
    ) -> tuple[Any, int, dict[str, dict[str, list[float]]]]:
        """``(booster, rounds to predict with, evals_result)``; data as ``(X, y, w, margin)``."""

    @abstractmethod
    def predict_trees(self, booster: Any, X: Any, n_iterations: int, n_outputs: int) -> Any:
        """Sum of the first ``n_iterations`` rounds of trees, from a zero margin."""

    @abstractmethod
    def dumps(self, booster: Any) -> str:
        """The booster in the library's own text format."""

    @abstractmethod
    def loads(self, model: str) -> Any:
        """Inverse of ``dumps``."""


class XGBoostBackend(Backend):
    """``xgboost.train`` with ``obj=ConstantScaleObjective(loss)`` (the Hessian units
    ``training_config`` counts in), ``custom_metric=loss.xgb_metric``."""

    name = "xgboost"
    reserved = frozenset(
        {
            "objective",
            "num_class",
            "base_score",
            "eval_metric",
            "disable_default_eval_metric",
            "device",
            "seed",
            "random_state",
            "learning_rate",
            "eta",
            "n_estimators",
            "num_boost_round",
            "early_stopping_rounds",
        }
    )

    l2_penalty = "reg_lambda"

    def aliases(self, name: str) -> frozenset[str]:
        return frozenset({"reg_lambda", "lambda"} if name in ("reg_lambda", "lambda") else {name})

    def device_parameters(self, device: str) -> dict[str, Any]:
        return {"device": device}

    def curvature_defaults(self, row_hessian: float) -> dict[str, Any]:
        """``min_child_weight`` = one row's largest Hessian, i.e. one effective sample:
        the secant curvature is at its largest for a residual within the loss's scale
        (or its ``residual_floor``) and s/|r| for an outlier, so a lone outlier cannot
        have a leaf of its own (as with XGBoost's own squared error, whose Hessian is 1
        per sample). LightGBM needs no such default: its ``min_data_in_leaf=20`` counts
        rows."""
        return {"min_child_weight": row_hessian}

    def parameters(self, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        config = super().parameters(params, **kwargs)
        config.setdefault("tree_method", "hist")
        config["disable_default_eval_metric"] = 1
        return config

    @staticmethod
    def _matrix(X: Any, y: Any = None, weight: Any = None, margin: Any = None) -> xgb.DMatrix:
        return xgb.DMatrix(X, label=y, weight=weight, base_margin=margin, enable_categorical=True)

    def train(
        self,
        loss: Loss,
        params: dict[str, Any],
        train: tuple[Any, Any, Any, np.ndarray],
        evals: list[tuple[Any, Any, Any, np.ndarray]],
        n_estimators: int,
        early_stopping_rounds: int | None,
    ) -> tuple[Any, int, dict[str, dict[str, list[float]]]]:
        watchlist = [
            (self._matrix(*data), name)
            for data, name in zip(evals, eval_set_names(len(evals)), strict=True)
        ]
        evals_result: dict[str, dict[str, list[float]]] = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            callbacks: list[xgb.callback.TrainingCallback] = [
                _XGBoostConfigurationCheck(params["device"], caught)
            ]
            if early_stopping_rounds is not None:
                callbacks.append(
                    xgb.callback.EarlyStopping(rounds=early_stopping_rounds, maximize=False)
                )
            booster = xgb.train(
                params,
                self._matrix(*train),
                num_boost_round=n_estimators,
                evals=watchlist,
                obj=ConstantScaleObjective(loss),
                custom_metric=loss.xgb_metric if watchlist else None,
                evals_result=evals_result,
                verbose_eval=False,
                callbacks=callbacks,
            )
        for warning in caught:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
        if early_stopping_rounds is not None:
            best_iteration = booster.best_iteration + 1
        else:
            best_iteration = booster.num_boosted_rounds()
        return booster, best_iteration, evals_result

    def predict_trees(self, booster: Any, X: Any, n_iterations: int, n_outputs: int) -> Any:
        zero = np.zeros(X.shape[0] if n_outputs == 1 else (X.shape[0], n_outputs))
        return booster.predict(
            self._matrix(X, margin=zero),
            output_margin=True,
            iteration_range=(0, n_iterations),
            validate_features=False,
        )

    def dumps(self, booster: Any) -> str:
        return booster.save_raw(raw_format="json").decode("utf-8")

    def loads(self, model: str) -> Any:
        return xgb.Booster(model_file=bytearray(model.encode("utf-8")))


class _XGBoostConfigurationCheck(xgb.callback.TrainingCallback):
    """Before the first tree, raise what XGBoost only warns about: parameters it does not
    use, and a CUDA device it replaced by the CPU (it reports the device it configured)."""

    def __init__(self, device: str, caught: list[warnings.WarningMessage]) -> None:
        super().__init__()
        self.device = device
        self.caught = caught

    def before_training(self, model: Any) -> Any:
        configured = json.loads(model.save_config())["learner"]["generic_param"]["device"]
        messages = [str(warning.message).strip() for warning in self.caught]
        if self.device.startswith("cuda") and not configured.startswith("cuda"):
            said = " ".join(m for m in messages if "GPU" in m)
            raise GPUUnavailableError(
                f"device={self.device!r} was requested but XGBoost found no usable CUDA GPU "
                f"and would train on the CPU instead ({said or 'no GPU visible'}); "
                "use device='cpu' on this machine"
            )
        unused = [m[m.index("Parameters:") :] for m in messages if "are not used" in m]
        if unused:
            raise ValueError(f"XGBoost: {unused[0]}")
        return model


class LightGBMBackend(Backend):
    """``lightgbm.train`` with ``params["objective"] = loss``, ``feval=loss.lgb_metric``."""

    name = "lightgbm"

    @property
    def reserved(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset(
            lgb.basic._ConfigAliases.get(
                "objective",
                "num_class",
                "metric",
                "device_type",
                "gpu_device_id",
                "seed",
                "learning_rate",
                "num_iterations",
                "early_stopping_round",
                "init_score",
                "boost_from_average",
            )
        )

    l2_penalty = "lambda_l2"

    def aliases(self, name: str) -> frozenset[str]:
        return frozenset(lgb.basic._ConfigAliases.get(name))

    def device_parameters(self, device: str) -> dict[str, Any]:
        if device == "cpu":
            return {"device_type": "cpu"}
        ordinal = int(device[5:]) if ":" in device else 0
        return {"device_type": "gpu", "gpu_device_id": ordinal}

    def parameters(self, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        unknown = sorted(set(params) - _lightgbm_parameter_names())
        if unknown:
            raise ValueError(f"LightGBM: Unknown parameter: {', '.join(unknown)}")
        quiet = {} if set(params) & lgb.basic._ConfigAliases.get("verbosity") else {"verbosity": -1}
        return {**quiet, **super().parameters(params, **kwargs), "metric": "None"}

    def train(
        self,
        loss: Loss,
        params: dict[str, Any],
        train: tuple[Any, Any, Any, np.ndarray],
        evals: list[tuple[Any, Any, Any, np.ndarray]],
        n_estimators: int,
        early_stopping_rounds: int | None,
    ) -> tuple[Any, int, dict[str, dict[str, list[float]]]]:
        try:
            return self._train(loss, params, train, evals, n_estimators, early_stopping_rounds)
        except lgb.basic.LightGBMError as error:
            message = str(error)
            if params["device_type"] == "gpu" and any(
                word in message.lower() for word in ("opencl", "gpu", "cuda")
            ):
                raise GPUUnavailableError(
                    f"device='cuda' was requested but LightGBM cannot train on a GPU here "
                    f"({message}); use device='cpu' on this machine"
                ) from error
            raise

    @staticmethod
    def _train(
        loss: Loss,
        params: dict[str, Any],
        train: tuple[Any, Any, Any, np.ndarray],
        evals: list[tuple[Any, Any, Any, np.ndarray]],
        n_estimators: int,
        early_stopping_rounds: int | None,
    ) -> tuple[Any, int, dict[str, dict[str, list[float]]]]:
        X, y, weight, margin = train
        params = {**params, "objective": "none"}  # the loss replaces it in lgb.train
        train_set = lgb.Dataset(X, y, weight=weight, init_score=margin, params=params).construct()
        if not any(train_set.feature_num_bin(i) for i in range(train_set.num_feature())):
            # No feature can be split (constant, or too few rows for min_data_in_leaf):
            # LightGBM's trees would all be constant 0 on top of the starting score, but
            # its custom-objective path (Booster.update -> reset_parameter) aborts with
            # "Check failed: num_features() > 0" instead. A booster without trees is that
            # model.
            return lgb.Booster(params, train_set), 0, {}
        valid_sets = [
            lgb.Dataset(Xe, ye, weight=we, init_score=me, reference=train_set)
            for Xe, ye, we, me in evals
        ]
        evals_result: dict[str, dict[str, list[float]]] = {}
        callbacks = [lgb.record_evaluation(evals_result)]
        if early_stopping_rounds is not None:
            callbacks.append(lgb.early_stopping(early_stopping_rounds, verbose=False))
        booster = lgb.train(
            {**params, "objective": loss},
            train_set,
            num_boost_round=n_estimators,
            valid_sets=valid_sets,
            valid_names=eval_set_names(len(valid_sets)),
            feval=loss.lgb_metric if valid_sets else None,
            callbacks=callbacks,
        )
        return booster, booster.best_iteration or booster.current_iteration(), evals_result

    def predict_trees(self, booster: Any, X: Any, n_iterations: int, n_outputs: int) -> Any:
        return booster.predict(X, raw_score=True, num_iteration=n_iterations)

    def dumps(self, booster: Any) -> str:
        return booster.model_to_string(num_iteration=-1)

    def loads(self, model: str) -> Any:
        return lgb.Booster(model_str=model)


@lru_cache(maxsize=1)
def _lightgbm_parameter_names() -> frozenset[str]:
    """Every parameter name and alias LightGBM knows (its ``LGBM_DumpParamAliases``)."""
    table = lgb.basic._ConfigAliases._get_all_param_aliases()
    return frozenset(table) | frozenset(alias for aliases in table.values() for alias in aliases)


BACKENDS: dict[str, Backend] = {
    backend.name: backend for backend in (XGBoostBackend(), LightGBMBackend())
}


def get_backend(name: Any) -> Backend:
    """The backend called ``name``, or a ValueError that lists them."""
    if not isinstance(name, str) or name not in BACKENDS:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {name!r}")
    return BACKENDS[name]
