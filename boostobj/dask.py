"""Distributed training on a Dask cluster: ``xgboost.dask`` and ``lightgbm.dask``.

A loss object is a custom objective on a cluster as it is on one machine
(``DaskXGBRegressor(objective=logcosh_obj)``, ``DaskLGBMClassifier(objective=focal_obj)``):
the workers unpickle it and call it on their own rows. Its gradients and Hessians are
row by row, times ``newton_scale``, a constant of the class, or (XGBoost, losses with
``xgboost_unit_rows``) divided by a mean Hessian summed over all workers through
XGBoost's collective (``boostobj.adapters``), so every worker optimizes the same
objective. What must not be computed per worker is the starting score
(the weighted median, α-quantile, log-odds, ... of *all* labels). This module computes it
once, from the label column brought to the client (one column, small next to ``X``):

- ``global_init_score(loss, y, sample_weight)``: ``loss.init_score`` of all the labels;
- ``starting_margin_like(rows, init_score)``: that score as a per-row Dask collection
  partitioned like ``rows``, for ``base_margin=`` (XGBoost) or ``init_score=`` (LightGBM);
- ``train_dask_booster``: ``boostobj.backends.train_booster`` on the cluster;
- ``DaskBoostRegressor``, ``DaskBoostClassifier``, ``DaskQuantileRegressor``: the
  estimators of ``boostobj.estimators`` fitted on Dask arrays or DataFrames. Their fitted
  boosters are ordinary ``TrainedBooster`` objects: ``predict`` takes NumPy/pandas input
  (answered on the client) or Dask input (answered partition by partition on the
  workers), and ``to_local()`` returns the single-machine estimator.

Every function here runs on the active ``distributed.Client`` (``Client(address)``), as
``xgboost.dask`` and ``lightgbm.dask`` do.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import dask
import dask.array as da
import dask.dataframe as dd
import lightgbm.dask
import numpy as np
import pandas as pd
import xgboost.dask
from distributed import Client, default_client
from sklearn.utils.validation import validate_data

from boostobj.adapters import ConstantScaleObjective
from boostobj.backends import TrainedBooster, get_backend, starting_margin, training_config
from boostobj.base import Loss
from boostobj.estimators import (
    BoostClassifier,
    BoostRegressor,
    QuantileRegressor,
    _BoostEstimator,
    _check_weight,
)

__all__ = [
    "DaskBoostClassifier",
    "DaskBoostRegressor",
    "DaskQuantileRegressor",
    "global_init_score",
    "starting_margin_like",
    "train_dask_booster",
]


def global_init_score(loss: Loss, y: Any, sample_weight: Any = None, **kwargs: Any) -> Any:
    """``loss.init_score`` of all the labels (and weights) of a Dask collection, computed
    on the client: the same number as on one machine, whatever the partitioning.
    ``kwargs`` go to ``init_score`` (``n_classes=`` for a multiclass loss)."""
    labels, weights = dask.compute(y, sample_weight)
    return loss.init_score(np.asarray(labels), weights, **kwargs)


def starting_margin_like(rows: Any, init_score: Any) -> Any:
    """``init_score`` repeated for every row of ``rows`` (a Dask array, Series or
    DataFrame), partitioned like it: a Dask array of shape (n,) or (n, K) for an array,
    a Series or a K-column DataFrame with the same index for a Dask DataFrame/Series.
    Pass it as ``base_margin=`` to ``xgboost.dask`` and ``init_score=`` to
    ``lightgbm.dask``, at fit and, for LightGBM, add ``init_score`` to raw predictions."""
    init = np.asarray(init_score, dtype=np.float64)
    if isinstance(rows, da.Array):
        column = rows if rows.ndim == 1 else rows[:, 0]
        if init.ndim == 0:
            return column.map_blocks(_margin_block, init, dtype=np.float64)
        return column.map_blocks(
            _margin_block,
            init,
            dtype=np.float64,
            new_axis=1,
            chunks=(column.chunks[0], (init.size,)),
        )
    if isinstance(rows, (dd.DataFrame, dd.Series)):
        meta = _margin_frame(rows._meta, init)
        return rows.map_partitions(_margin_frame, init, meta=meta)
    raise TypeError(f"rows must be a Dask array, DataFrame or Series, got {type(rows).__name__}")


def _margin_block(block: np.ndarray, init_score: np.ndarray) -> np.ndarray:
    return starting_margin(init_score, block.shape[0])


def _margin_frame(part: pd.DataFrame | pd.Series, init_score: np.ndarray) -> Any:
    margin = starting_margin(init_score, len(part))
    if margin.ndim == 1:
        return pd.Series(margin, index=part.index)
    return pd.DataFrame(margin, index=part.index)


def train_dask_booster(
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
    init_score: Any = None,
    client: Client | None = None,
) -> TrainedBooster:
    """``boostobj.backends.train_booster`` on a Dask cluster, without eval sets.

    ``X`` is a Dask array or DataFrame; ``y`` and ``sample_weight`` Dask arrays or Series
    with the same row partitions. ``init_score`` defaults to ``global_init_score`` (pass
    it when the labels are already on the client). The returned booster is an ordinary
    ``TrainedBooster``: ``predict_raw`` adds the starting score back, as on one machine.
    """
    client = client or default_client()
    if init_score is None:
        init_score = global_init_score(loss, y, sample_weight)
    init = np.asarray(init_score, dtype=np.float64)
    config = training_config(
        get_backend(backend),
        loss,
        init,
        params,
        learning_rate=learning_rate,
        device=device,
        seed=seed,
    )
    margin = starting_margin_like(y, init)
    trainer = _DASK_TRAINERS[backend]
    booster, rounds = trainer(client, loss, config, X, y, sample_weight, margin, n_estimators)
    return TrainedBooster(backend, booster, init, rounds)


def _train_xgboost(
    client: Client,
    loss: Loss,
    config: dict[str, Any],
    X: Any,
    y: Any,
    weight: Any,
    margin: Any,
    n_estimators: int,
) -> tuple[Any, int]:
    """``xgboost.dask.train`` with ``obj=ConstantScaleObjective(loss)`` (as
    ``backends.XGBoostBackend``) from the per-row ``margin``."""
    train = xgboost.dask.DaskDMatrix(
        client, X, y, weight=weight, base_margin=margin, enable_categorical=True
    )
    output = xgboost.dask.train(
        client,
        config,
        train,
        num_boost_round=n_estimators,
        obj=ConstantScaleObjective(loss),
        verbose_eval=False,
    )
    booster = output["booster"]
    return booster, booster.num_boosted_rounds()


def _train_lightgbm(
    client: Client,
    loss: Loss,
    config: dict[str, Any],
    X: Any,
    y: Any,
    weight: Any,
    margin: Any,
    n_estimators: int,
) -> tuple[Any, int]:
    """``lightgbm.dask.DaskLGBMRegressor(objective=loss)`` from the per-row ``margin``
    (the labels are already those of the loss, so the regressor serves every loss)."""
    model = lightgbm.dask.DaskLGBMRegressor(
        client=client, objective=loss, n_estimators=n_estimators, **config
    )
    with warnings.catch_warnings():
        # lightgbm.dask sets the threads per worker itself and says so about its own
        # default n_jobs=None, on every fit.
        warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored", UserWarning)
        model.fit(X, y, sample_weight=weight, init_score=margin)
    booster = model.booster_
    return booster, booster.current_iteration()


_DASK_TRAINERS: dict[str, Callable[..., tuple[Any, int]]] = {
    "xgboost": _train_xgboost,
    "lightgbm": _train_lightgbm,
}


# -------------------------------------------------------------------- estimators
class _Column(NamedTuple):
    """A label or weight column: on the workers (a Dask array partitioned like ``X``)
    and on the client (a NumPy array, validated, for the starting score)."""

    workers: Any
    client: np.ndarray


class _DaskEstimator(_BoostEstimator):
    """Dask fitting and prediction for a single-machine estimator class.

    ``fit`` reuses the single-machine ``fit`` unchanged: only the two steps it delegates
    are replaced, ``_validate_fit_data`` (Dask collections, labels gathered once on the
    client for validation, label encoding and the starting score) and ``_train``
    (``train_dask_booster``). Prediction methods take Dask input partition by partition.
    """

    #: The single-machine estimator class (see ``to_local``).
    local_class: ClassVar[type[_BoostEstimator]]

    def _validate_fit_data(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        eval_set: Any,
        eval_sample_weight: Any,
        early_stopping_rounds: Any,
    ) -> tuple[Any, _Column, _Column | None, list[tuple[Any, Any, Any]]]:
        if eval_set is not None or eval_sample_weight is not None or early_stopping_rounds:
            raise NotImplementedError(
                f"{type(self).__name__} does not take eval sets or early stopping; fix "
                "n_estimators (for instance from a single-machine run on a sample)"
            )
        if getattr(self, "conformal", False):
            raise NotImplementedError(
                f"{type(self).__name__} does not hold out calibration rows itself: fit with "
                "conformal=False, then call calibrate() with held-out rows in memory"
            )
        if not isinstance(X, (da.Array, dd.DataFrame)):
            raise TypeError(
                f"{type(self).__name__}.fit takes a Dask array or DataFrame X, got "
                f"{type(X).__name__}; use {self.local_class.__name__} for in-memory data"
            )
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but y is None")
        if isinstance(X, da.Array):
            validate_data(self, X, reset=True, skip_check_array=True)  # n_features_in_
            X = X.rechunk({1: -1})  # the libraries take whole rows per partition
        else:  # the empty pandas frame of its columns: feature_names_in_ as well
            validate_data(self, X._meta, reset=True, skip_check_array=True)
        labels = _gather_column(y, X, "y")
        host_y = self._validate_y(labels.client, reset=True)  # sets classes_ if any
        workers_y = labels.workers.map_blocks(
            self._validate_y, reset=False, dtype=np.float64, drop_axis=_extra_axes(labels)
        )
        weight = None
        if sample_weight is not None:
            weights = _gather_column(sample_weight, X, "sample_weight")
            host_weight = _check_weight(weights.client, host_y.shape[0])
            weight = _Column(weights.workers.astype(np.float64), host_weight)
        return X, _Column(workers_y, host_y), weight, []

    def _train(
        self,
        losses: list[Loss],
        X: Any,
        y: _Column,
        sample_weight: _Column | None,
        evals: list[tuple[Any, Any, Any]],
        early_stopping_rounds: int | None,
    ) -> list[Loss]:
        """As on one machine; ``fitted_to`` and ``init_score`` read all the labels on the
        client, so every worker trains the same loss from the same start."""
        options = self._training_options()
        host_weight = None if sample_weight is None else sample_weight.client
        workers_weight = None if sample_weight is None else sample_weight.workers
        losses = [loss.fitted_to(y.client, host_weight) for loss in losses]
        self.boosters_ = [
            train_dask_booster(
                loss,
                X,
                y.workers,
                workers_weight,
                init_score=loss.init_score(y.client, host_weight),
                **options,
            )
            for loss in losses
        ]
        return losses

    def _per_partition(
        self, method: Callable[..., Any], X: Any, columns: int | None, dtype: Any
    ) -> Any:
        """``method(self, X)`` of the single-machine class: directly for in-memory ``X``,
        on each partition of a Dask ``X`` (a Dask array of shape (n,) or (n, columns))."""
        if not isinstance(X, (da.Array, dd.DataFrame)):
            return method(self, X)
        if isinstance(X, da.Array):
            X = X.rechunk({1: -1})
            lengths = X.chunks[0]
        else:
            lengths = (np.nan,) * X.npartitions
        apply = dask.delayed(partial(method, self), pure=True)
        trailing = () if columns is None else (columns,)
        blocks = [
            da.from_delayed(apply(part), shape=(rows, *trailing), dtype=dtype)
            for part, rows in zip(np.ravel(X.to_delayed()), lengths, strict=True)
        ]
        return da.concatenate(blocks)

    def to_local(self) -> _BoostEstimator:
        """The fitted single-machine estimator (same parameters, same boosters)."""
        local = self.local_class(**self.get_params(deep=False))
        local._set_fitted_state(self._fitted_state())
        local.boosters_ = self.boosters_
        return local

    def save_model(self, path: str | Path) -> None:
        """``to_local().save_model(path)``: ``load_model`` reads it back as the
        single-machine estimator."""
        self.to_local().save_model(path)


def _gather_column(column: Any, X: Any, name: str) -> _Column:
    """A Dask label/weight column as a Dask array with the row chunks of ``X``, and its
    values on the client, computed in one pass."""
    if not isinstance(column, (da.Array, dd.Series, dd.DataFrame)):
        raise TypeError(f"{name} must be a Dask array or Series, got {type(column).__name__}")
    parts = dask.compute(*np.ravel(column.to_delayed()))
    values = np.concatenate([np.asarray(part) for part in parts])
    lengths = tuple(len(part) for part in parts)
    workers = column if isinstance(column, da.Array) else column.to_dask_array(lengths=lengths)
    if isinstance(X, da.Array):
        workers = workers.rechunk({0: X.chunks[0]})
    elif len(lengths) != X.npartitions:
        raise ValueError(
            f"{name} has {len(lengths)} partitions and X {X.npartitions}; they must be "
            "partitioned alike (such as columns of one Dask DataFrame)"
        )
    return _Column(workers, values)


def _extra_axes(column: _Column) -> tuple[int, ...]:
    """Axes beyond the first of a label column ((n, 1) labels become (n,))."""
    return tuple(range(1, column.workers.ndim))


class DaskBoostRegressor(_DaskEstimator, BoostRegressor):
    """``BoostRegressor`` fitted on a Dask cluster; parameters as ``BoostRegressor``.

    ``fit(X, y, sample_weight=None)`` takes a Dask array or DataFrame ``X`` and Dask
    labels and weights partitioned like it (no eval sets). The starting score is the
    loss's ``init_score`` of all the labels; ``predict`` takes Dask or in-memory ``X``.
    """

    local_class = BoostRegressor

    def predict(self, X: Any) -> Any:
        """As ``BoostRegressor.predict``; a Dask array for Dask ``X``."""
        return self._per_partition(BoostRegressor.predict, X, None, np.float64)


class DaskBoostClassifier(_DaskEstimator, BoostClassifier):
    """``BoostClassifier`` fitted on a Dask cluster; parameters as ``BoostClassifier``,
    ``fit`` as ``DaskBoostRegressor.fit`` (``classes_`` from all the labels)."""

    local_class = BoostClassifier

    def decision_function(self, X: Any) -> Any:
        """As ``BoostClassifier.decision_function``; a Dask array for Dask ``X``."""
        columns = None if len(self.classes_) == 2 else len(self.classes_)
        return self._per_partition(BoostClassifier.decision_function, X, columns, np.float64)

    def predict_proba(self, X: Any) -> Any:
        """As ``BoostClassifier.predict_proba``; a Dask array for Dask ``X``."""
        columns = len(self.classes_)
        return self._per_partition(BoostClassifier.predict_proba, X, columns, np.float64)

    def predict(self, X: Any) -> Any:
        """As ``BoostClassifier.predict``; a Dask array for Dask ``X``."""
        return self._per_partition(BoostClassifier.predict, X, None, self.classes_.dtype)


class DaskQuantileRegressor(_DaskEstimator, QuantileRegressor):
    """``QuantileRegressor`` fitted on a Dask cluster (one booster per alpha, each from
    the α-quantile of all the labels); parameters as ``QuantileRegressor`` but
    ``conformal=False``: call ``calibrate`` with held-out rows in memory instead."""

    local_class = QuantileRegressor

    def predict(self, X: Any) -> Any:
        """As ``QuantileRegressor.predict``; a Dask array for Dask ``X``."""
        return self._per_partition(QuantileRegressor.predict, X, len(self.alphas_), np.float64)
