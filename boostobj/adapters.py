"""Adapters from a loss to the calling conventions of XGBoost and LightGBM.

Objective (``Loss.__call__``), four conventions with one signature
``(y_true_or_preds, y_pred_or_dataset, *lightgbm_weight_group, sample_weight=None)``:

====================================  =========================================
``XGBRegressor(objective=obj).fit``   ``obj(y_true, y_pred[, sample_weight=w])``
``xgb.train(params, dtrain, obj=obj)`` ``obj(preds, dtrain)``
``LGBMRegressor(objective=obj).fit``  ``obj(y_true, y_pred, weight, group)``
``lgb.train({"objective": obj}, ds)``  ``obj(preds, train_set)``
====================================  =========================================

XGBoost's scikit-learn wrapper passes weights only to a parameter named ``sample_weight``,
by keyword; LightGBM's counts parameters (four here) and passes weight and group (or
``None``) by position. The training APIs pass the prediction first and a ``DMatrix`` /
``Dataset`` second, from which labels and weights are read. So the call tells which
library is training (``calling_library``); called by hand, ``obj(y, p[, sample_weight=w])``
answers as to XGBoost and ``obj(y, p, w)`` as to LightGBM.

What the libraries are handed, as float32 arrays for NumPy predictions that are reused
from round to round (see ``output_buffers``):

- LightGBM, and XGBoost for losses whose ``xgboost_unit_rows`` is None: ``newton_scale``
  times the loss's gradient and Hessian (see ``Loss.newton_scale``).
- XGBoost, for the others (the secant and quantile curvatures): gradient and Hessian
  divided by their mean Hessian per unit of weight over all training rows, times
  ``xgboost_unit_rows``, computed every round (``xgboost_normalization``). XGBoost's
  ``reg_lambda=1`` and ``min_child_weight=1`` count Hessian units; for its built-in
  regression objectives a unit is one row. With a constant scale they count nothing
  (``newton_scale``) and small data sets are fit without any leaf penalty: on
  ``diabetes`` (354 training rows) the robust losses ended 1.09× the built-in's error
  (BENCHMARKS.md). The sums behind the mean are summed over XGBoost's workers
  (``xgboost.collective``), so every worker of a distributed run divides by the same
  number. LightGBM's Python objectives get no such collective, and LightGBM needs none:
  its defaults count rows (``min_data_in_leaf``), it has no default L2 penalty, and the
  constant scale trains the same model as ×1 (BENCHMARKS.md).
- A loss's own statistics of the rows (``Loss.for_round``: ``Quantile``'s ε from the
  residuals) are summed over XGBoost's workers the same way; for LightGBM, each process
  takes them from its own rows.
- The estimators (``boostobj.backends``) set ``reg_lambda`` / ``min_child_weight``
  themselves, in units of ``newton_scale``: they train with ``ConstantScaleObjective``.

Metrics: ``XGBoostMetric`` and ``LightGBMMetric`` report the mean (weighted) loss on raw
margins, which is what both libraries pass to a custom metric when the objective is
custom.
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np

from boostobj.base import (
    OUTPUT_BUFFERS_ATTRIBUTE,
    Loss,
    SumOverWorkers,
    namespace_of,
    one_worker,
)

#: dtype of the gradient and Hessian handed to the libraries for NumPy predictions. Both
#: store float32 gradients (XGBoost's ``GradientPair``, LightGBM's ``score_t``): nothing
#: is lost, and LightGBM, whose predictions are float64, would otherwise convert both
#: arrays every round (one more pass and two new length-n arrays).
LIBRARY_DTYPE = np.float32

#: The calls an objective answers, for the errors of any other.
CALL_FORMS = (
    "a loss is called as obj(y_true, y_pred[, sample_weight=w]), "
    "obj(y_true, y_pred, weight[, group]) or obj(preds, dataset)"
)


def _is_library_dataset(obj: Any) -> bool:
    """True for ``xgboost.DMatrix`` and ``lightgbm.Dataset`` (both offer ``get_label``)."""
    return hasattr(obj, "get_label") and hasattr(obj, "get_weight")


def _dataset_labels_weights(dataset: Any) -> tuple[Any, Any]:
    labels = dataset.get_label()
    weight = dataset.get_weight()
    if weight is not None and np.size(weight) == 0:  # XGBoost: empty array = no weights
        weight = None
    return labels, weight


def split_arguments(first: Any, second: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
    """Return ``(y_true, raw_prediction, sample_weight)`` whatever the convention."""
    if _is_library_dataset(second):
        if sample_weight is not None:
            raise TypeError(f"sample_weight cannot be passed with a DMatrix/Dataset: {CALL_FORMS}")
        labels, weight = _dataset_labels_weights(second)
        return labels, first, weight
    if _is_library_dataset(first):
        raise TypeError(f"got (dataset, predictions): {CALL_FORMS}")
    return first, second, sample_weight


def calling_library(second: Any, lightgbm_weight_group: tuple[Any, ...]) -> str:
    """``"lightgbm"`` for a ``lightgbm.Dataset`` or weights passed by position (LightGBM's
    scikit-learn API), ``"xgboost"`` otherwise (a ``DMatrix``, or ``(y_true, y_pred)``
    with weights by keyword: XGBoost's scikit-learn API)."""
    lightgbm = sys.modules.get("lightgbm")
    if lightgbm_weight_group or (lightgbm is not None and isinstance(second, lightgbm.Dataset)):
        return "lightgbm"
    return "xgboost"


def objective_call(
    loss: Loss,
    first: Any,
    second: Any,
    lightgbm_weight_group: tuple[Any, ...] = (),
    sample_weight: Any = None,
) -> tuple[Any, Any]:
    """``(grad, hess)`` for any of the four calling conventions (module docstring)."""
    if lightgbm_weight_group:  # (weight[, group]); group does not enter a pointwise loss
        if len(lightgbm_weight_group) > 2 or sample_weight is not None:
            raise TypeError(CALL_FORMS)
        sample_weight = lightgbm_weight_group[0]
    y_true, raw_prediction, weight = split_arguments(first, second, sample_weight)
    if calling_library(second, lightgbm_weight_group) == "lightgbm":
        return _scaled_gradient_hessian(
            loss, y_true, raw_prediction, weight, loss.newton_scale, one_worker
        )
    unit_rows = loss.xgboost_unit_rows
    scale = loss.newton_scale if unit_rows is None else 1.0
    gradient, hessian = _scaled_gradient_hessian(
        loss, y_true, raw_prediction, weight, scale, sum_over_xgboost_workers
    )
    if unit_rows is None:
        return gradient, hessian
    factor = xgboost_normalization(hessian, weight, unit_rows)
    gradient *= factor
    hessian *= factor
    return gradient, hessian


def _scaled_gradient_hessian(
    loss: Loss,
    y_true: Any,
    raw_prediction: Any,
    weight: Any,
    scale: float,
    sum_over_workers: SumOverWorkers,
) -> tuple[Any, Any]:
    """``scale`` times the weighted gradient and Hessian, in ``output_buffers``, with the
    loss's statistics of the rows (``Loss.for_round``) summed by ``sum_over_workers``."""
    gradient_out, hessian_out = output_buffers(loss, raw_prediction)
    return loss._weighted_gradient_hessian(
        y_true, raw_prediction, weight, scale, gradient_out, hessian_out, sum_over_workers
    )


def xgboost_normalization(hessian: Any, sample_weight: Any, unit_rows: float) -> float:
    """``W / (Σ hessian × unit_rows)``, ``W`` the total weight of the Hessian's entries
    (rows, or ``Σw``, times outputs per row), both sums over every worker of a
    distributed XGBoost run: the factor that makes the mean Hessian per unit of weight
    ``1 / unit_rows`` (``hessian`` is already weighted). 1 when there is nothing to
    normalize (no weight at all)."""
    xp = namespace_of(hessian)
    outputs_per_row = math.prod(hessian.shape[1:])
    if sample_weight is None:
        total_weight = float(hessian.shape[0] * outputs_per_row)
    else:
        weight = xp.asarray(sample_weight, dtype=xp.float64)
        total_weight = float(xp.sum(weight)) * outputs_per_row
    hessian_sum = float(xp.sum(hessian, dtype=xp.float64))
    sums = sum_over_xgboost_workers(np.array([total_weight, hessian_sum]))
    total_weight, hessian_sum = float(sums[0]), float(sums[1])
    return total_weight / (hessian_sum * unit_rows) if hessian_sum > 0 else 1.0


def sum_over_xgboost_workers(values: np.ndarray) -> np.ndarray:
    """``values`` (float64) summed over the workers of XGBoost's collective
    (``xgboost.dask`` trains inside one); as they are on a single process."""
    collective = sys.modules.get("xgboost.collective")
    if collective is None or collective.get_world_size() <= 1:
        return values
    return np.asarray(collective.allreduce(values, collective.Op.SUM), dtype=np.float64)


class _LossWrapper:
    """A callable around ``loss``: picklable, with a readable repr, equal by loss."""

    def __init__(self, loss: Loss) -> None:
        self.loss = loss

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.loss!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.loss == self.loss  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.loss))


class ConstantScaleObjective(_LossWrapper):
    """``loss`` as an ``xgb.train`` objective, ``(preds, dtrain)``, that hands XGBoost
    ``newton_scale`` times the gradient and Hessian, never ``xgboost_unit_rows``'
    normalization: for the estimators, which set ``reg_lambda`` and
    ``min_child_weight`` in those units themselves."""

    def __call__(self, preds: Any, dtrain: Any) -> tuple[Any, Any]:
        y_true, raw_prediction, weight = split_arguments(preds, dtrain, None)
        return _scaled_gradient_hessian(
            self.loss,
            y_true,
            raw_prediction,
            weight,
            self.loss.newton_scale,
            sum_over_xgboost_workers,
        )


class _Buffers:
    """A gradient and a Hessian array of ``shape`` (column-major if 2-D: see
    ``output_buffers``), and their reference counts when nothing but this object holds
    them."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape
        order = "F" if len(shape) == 2 else "C"
        self.gradient = np.empty(shape, dtype=LIBRARY_DTYPE, order=order)
        self.hessian = np.empty(shape, dtype=LIBRARY_DTYPE, order=order)
        self._free_counts = self._counts()

    def _counts(self) -> tuple[int, int]:
        return sys.getrefcount(self.gradient), sys.getrefcount(self.hessian)

    def unused(self) -> bool:
        """True when no one but this object references the arrays."""
        return self._counts() == self._free_counts


_buffers_lock = threading.Lock()


def output_buffers(loss: Loss, raw_prediction: Any) -> tuple[Any, Any]:
    """``LIBRARY_DTYPE`` arrays shaped like a NumPy ``raw_prediction`` for the gradient
    and Hessian; ``(None, None)`` for other arrays (CuPy: the loss allocates in the
    prediction's namespace and dtype). (n, K) arrays are column-major, whatever the
    prediction's layout: the multiclass kernels compute column-major blocks
    (``boostobj.links.columns_contiguous``), LightGBM takes its gradients class by class
    (``ravel(order="F")``: no copy) and XGBoost reads strided arrays (the same model).

    The loss keeps the last pair and hands it out again once no one else holds it: both
    libraries copy (XGBoost) or use (LightGBM) the arrays within the round and drop them,
    so a training run writes every round into the same two arrays instead of new ones
    (no allocation, no page faults; BENCHMARKS.md). A pair still referenced — kept by a
    caller, or being filled in another thread — is never reused: a new pair replaces it.
    The pair is not part of the loss's state (``Loss.__getstate__``)."""
    if not isinstance(raw_prediction, np.ndarray) or not hasattr(sys, "getrefcount"):
        return None, None
    with _buffers_lock:
        buffers = loss.__dict__.get(OUTPUT_BUFFERS_ATTRIBUTE)
        if buffers is None or buffers.shape != raw_prediction.shape or not buffers.unused():
            buffers = _Buffers(raw_prediction.shape)
            setattr(loss, OUTPUT_BUFFERS_ATTRIBUTE, buffers)
        return buffers.gradient, buffers.hessian


class _Metric(_LossWrapper):
    """Mean (weighted) loss of ``loss`` on raw margins."""

    def __init__(self, loss: Loss) -> None:
        super().__init__(loss)
        self.__name__ = loss.name

    def _evaluate(self, first: Any, second: Any, sample_weight: Any) -> tuple[float, bool]:
        """The mean loss, and whether the call came from a training API."""
        y_true, raw_prediction, weight = split_arguments(first, second, sample_weight)
        return self.loss.mean_loss(y_true, raw_prediction, weight), _is_library_dataset(second)


class XGBoostMetric(_Metric):
    """``eval_metric=`` in the scikit-learn API (returns a float, smaller is better) and
    ``custom_metric=`` in ``xgb.train`` (returns ``(name, value)``)."""

    def __call__(
        self, y_true_or_preds: Any, y_pred_or_dmatrix: Any, sample_weight: Any = None
    ) -> Any:
        value, from_training_api = self._evaluate(y_true_or_preds, y_pred_or_dmatrix, sample_weight)
        return (self.__name__, value) if from_training_api else value


class LightGBMMetric(_Metric):
    """``eval_metric=`` in the scikit-learn API and ``feval=`` in ``lgb.train``; returns
    ``(name, value, is_higher_better=False)``."""

    def __call__(
        self, y_true_or_preds: Any, y_pred_or_dataset: Any, weight: Any = None
    ) -> tuple[str, float, bool]:
        value, _ = self._evaluate(y_true_or_preds, y_pred_or_dataset, weight)
        return self.__name__, value, False
