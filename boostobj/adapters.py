"""Adapters from a loss to the calling conventions of XGBoost and LightGBM.

Objective (``Loss.__call__``), four conventions with one signature
``(y_true_or_preds, y_pred_or_dataset, sample_weight=None)``:

====================================  =========================================
``XGBRegressor(objective=obj).fit``   ``obj(y_true, y_pred[, sample_weight=w])``
``xgb.train(params, dtrain, obj=obj)`` ``obj(preds, dtrain)``
``LGBMRegressor(objective=obj).fit``  ``obj(y_true, y_pred, weight)`` (3 parameters)
``lgb.train({"objective": obj}, ds)``  ``obj(preds, train_set)``
====================================  =========================================

XGBoost's scikit-learn wrapper passes weights only to a parameter named ``sample_weight``;
LightGBM's counts parameters and passes the weight (or ``None``) third. The training APIs
pass the prediction first and a ``DMatrix`` / ``Dataset`` second, from which labels and
weights are read. The adapter hands the libraries ``newton_scale`` times the loss's
gradient and Hessian (see ``Loss.newton_scale``), as float32 arrays for NumPy predictions
that it reuses from round to round (see ``output_buffers``).

Metrics: ``XGBoostMetric`` and ``LightGBMMetric`` report the mean (weighted) loss on raw
margins, which is what both libraries pass to a custom metric when the objective is
custom.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

from boostobj.base import OUTPUT_BUFFERS_ATTRIBUTE, Loss

#: dtype of the gradient and Hessian handed to the libraries for NumPy predictions. Both
#: store float32 gradients (XGBoost's ``GradientPair``, LightGBM's ``score_t``): nothing
#: is lost, and LightGBM, whose predictions are float64, would otherwise convert both
#: arrays every round (one more pass and two new length-n arrays).
LIBRARY_DTYPE = np.float32


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
            raise TypeError("sample_weight cannot be passed with a DMatrix/Dataset")
        labels, weight = _dataset_labels_weights(second)
        return labels, first, weight
    if _is_library_dataset(first):
        raise TypeError("got (dataset, predictions); the training APIs call obj(preds, dtrain)")
    return first, second, sample_weight


def objective_call(
    loss: Loss, first: Any, second: Any, sample_weight: Any = None
) -> tuple[Any, Any]:
    """``(grad, hess)`` for any of the four calling conventions."""
    y_true, raw_prediction, weight = split_arguments(first, second, sample_weight)
    gradient_out, hessian_out = output_buffers(loss, raw_prediction)
    return loss._weighted_gradient_hessian(
        y_true, raw_prediction, weight, loss.newton_scale, gradient_out, hessian_out
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


class _Metric:
    """Mean (weighted) loss of ``loss`` on raw margins; picklable, equal by loss."""

    def __init__(self, loss: Loss) -> None:
        self.loss = loss
        self.__name__ = loss.name

    def _evaluate(self, first: Any, second: Any, sample_weight: Any) -> tuple[float, bool]:
        """The mean loss, and whether the call came from a training API."""
        y_true, raw_prediction, weight = split_arguments(first, second, sample_weight)
        return self.loss.mean_loss(y_true, raw_prediction, weight), _is_library_dataset(second)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.loss!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.loss == self.loss  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.loss))


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
