"""Machinery shared by every loss: the ``Loss`` base class.

A loss, as in scikit-learn's ``sklearn/_loss``, is a small class composed with a link. A
subclass writes its formulas once, in two kernels on the raw margin, against the array
namespace of its inputs (NumPy, CuPy, ...):

- ``_value(xp, y, raw)``: per-sample loss;
- ``_gradient_hessian(xp, y, raw)``: unweighted gradient and a strictly positive
  curvature to hand to a Newton booster;

plus ``init_score``, the constant raw prediction that minimizes the loss. Everything else —
input checks, dtype handling, sample weights, output buffers, the calling conventions of
XGBoost and LightGBM, eval metrics, ``repr``, equality and pickling — lives here and in
``boostobj.adapters``, so a new loss is one short class in ``boostobj/losses.py``.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace

from boostobj._validation import check_labels, check_sample_weight
from boostobj.links import IdentityLink, LogitLink

#: Smallest Hessian handed to a booster. XGBoost's own ``binary:logistic`` floors its
#: Hessian at the same value (``kRtEps``): a zero Hessian would make a leaf's Newton step
#: ``-G / (H + lambda)`` depend on ``lambda`` alone and LightGBM refuse to split.
HESSIAN_FLOOR = 1e-16


class Loss(ABC):
    """Base class of all boostobj losses.

    A loss object is a custom objective for XGBoost and LightGBM as it stands: call it
    as ``obj(y_true, y_pred[, sample_weight])`` (the scikit-learn APIs of both libraries)
    or ``obj(preds, dtrain)`` (``xgb.train`` and ``lgb.train``), and it returns
    ``(grad, hess)`` in the shape and float dtype of the prediction.
    """

    #: Name used by estimators (``loss="..."``) and as the eval metric's name.
    name: ClassVar[str]
    #: Maps the raw margin to the prediction on the target scale (see ``transform``).
    link: ClassVar[Any] = IdentityLink()
    #: True for losses whose labels must be 0 or 1.
    binary_labels: ClassVar[bool] = False
    #: Constant by which the library adapters multiply gradient and Hessian. The Newton
    #: step ``-G / H`` of a leaf does not change, but the booster's absolute defaults
    #: (``reg_lambda=1``, ``min_child_weight=1``) shrink to nothing next to ``H``. It is a
    #: constant of the class, never a statistic of the data, so every Dask worker and
    #: every boosting round optimizes the same objective.
    newton_scale: ClassVar[float] = 1.0

    #: Every concrete loss by ``name``; filled in by ``__init_subclass__``.
    registry: ClassVar[dict[str, type[Loss]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            Loss.registry[cls.name] = cls

    # ------------------------------------------------------------------ kernels
    @abstractmethod
    def _value(self, xp: Any, y: Any, raw: Any) -> Any:
        """Per-sample loss on validated arrays of the prediction's dtype."""

    @abstractmethod
    def _gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        """Unweighted gradient and strictly positive Hessian, as new arrays."""

    @abstractmethod
    def init_score(self, y_true: Any, sample_weight: Any = None) -> Any:
        """The constant raw prediction that minimizes the (weighted) mean loss."""

    # --------------------------------------------------------------- public API
    def value(self, y_true: Any, raw_prediction: Any) -> Any:
        """Per-sample loss at the raw prediction, in the prediction's dtype."""
        xp, y, raw, _ = self._prepare(y_true, raw_prediction, None)
        return self._value(xp, y, raw)

    def mean_loss(self, y_true: Any, raw_prediction: Any, sample_weight: Any = None) -> float:
        """Weighted mean of ``value``: what the eval metrics report."""
        xp, y, raw, weight = self._prepare(y_true, raw_prediction, sample_weight)
        per_sample = self._value(xp, y, raw)
        if per_sample.ndim > 1:
            per_sample = xp.sum(per_sample, axis=1)
        per_sample = xp.astype(per_sample, xp.float64)
        if weight is None:
            return float(xp.mean(per_sample))
        weight = xp.astype(weight, xp.float64)
        return float(xp.sum(per_sample * weight) / xp.sum(weight))

    def gradient_hessian(
        self,
        y_true: Any,
        raw_prediction: Any,
        sample_weight: Any = None,
        *,
        gradient_out: Any = None,
        hessian_out: Any = None,
    ) -> tuple[Any, Any]:
        """Gradient and Hessian of the loss with respect to the raw prediction.

        Both have the shape and float dtype of ``raw_prediction`` (integers become
        float64) and are multiplied by ``sample_weight`` when it is given. The Hessian is
        the loss's curvature strategy (see the class docstring), always > 0. When
        ``gradient_out`` / ``hessian_out`` are given, the results are written into them
        and they are returned.
        """
        return self._weighted_gradient_hessian(
            y_true, raw_prediction, sample_weight, 1.0, gradient_out, hessian_out
        )

    def transform(self, raw_prediction: Any) -> Any:
        """Raw margin -> prediction on the target scale (the link's inverse)."""
        xp = array_namespace(raw_prediction)
        return self.link.inverse(xp, _as_float_array(xp, raw_prediction))

    def __call__(
        self, y_true_or_preds: Any, y_pred_or_dataset: Any, sample_weight: Any = None
    ) -> tuple[Any, Any]:
        """Custom-objective entry point for XGBoost and LightGBM (see ``adapters``)."""
        from boostobj.adapters import objective_call

        return objective_call(self, y_true_or_preds, y_pred_or_dataset, sample_weight)

    @property
    def xgb_metric(self) -> Any:
        """Mean (weighted) loss as an XGBoost ``eval_metric`` / ``custom_metric``."""
        from boostobj.adapters import XGBoostMetric

        return XGBoostMetric(self)

    @property
    def lgb_metric(self) -> Any:
        """Mean (weighted) loss as a LightGBM ``eval_metric`` / ``feval``."""
        from boostobj.adapters import LightGBMMetric

        return LightGBMMetric(self)

    # ------------------------------------------------- parameters, repr, equality
    def constructor_params(self) -> dict[str, Any]:
        """Constructor parameters, read back from the attributes of the same names.

        (Not ``get_params``: XGBoost's and scikit-learn's ``get_params(deep=True)`` would
        take the loss for a nested estimator and emit ``objective__scale`` parameters.)"""
        if type(self).__init__ is object.__init__:
            return {}
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.constructor_params().items())
        return f"{type(self).__name__}({params})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = self.constructor_params(), other.constructor_params()  # type: ignore[attr-defined]
        return all(np.array_equal(mine[k], theirs[k]) for k in mine)

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))

    # ------------------------------------------------------------------ helpers
    def _prepare(
        self, y_true: Any, raw_prediction: Any, sample_weight: Any
    ) -> tuple[Any, Any, Any, Any]:
        """Validate inputs; return the namespace and arrays in the prediction's dtype."""
        xp = array_namespace(raw_prediction)
        raw = _as_float_array(xp, raw_prediction)
        y = xp.asarray(y_true)
        if y.dtype != raw.dtype:
            y = xp.astype(y, raw.dtype)
        self._check_label_shape(y, raw)
        check_labels(xp, y, self.binary_labels)
        weight = None
        if sample_weight is not None and np.size(sample_weight) > 0:
            weight = xp.asarray(sample_weight)
            if weight.dtype != raw.dtype:
                weight = xp.astype(weight, raw.dtype)
            check_sample_weight(xp, weight, (raw.shape[0],))
        return xp, y, raw, weight

    def _check_label_shape(self, y: Any, raw: Any) -> None:
        """One label per prediction; multi-output losses override this."""
        if tuple(y.shape) != tuple(raw.shape):
            raise ValueError(
                f"y_true has shape {tuple(y.shape)} but the raw prediction has shape "
                f"{tuple(raw.shape)}; {type(self).__name__} expects one label per prediction"
            )

    def _weighted_gradient_hessian(
        self,
        y_true: Any,
        raw_prediction: Any,
        sample_weight: Any,
        scale: float,
        gradient_out: Any = None,
        hessian_out: Any = None,
    ) -> tuple[Any, Any]:
        xp, y, raw, weight = self._prepare(y_true, raw_prediction, sample_weight)
        gradient, hessian = self._gradient_hessian(xp, y, raw)
        if weight is not None:
            factor = weight * scale if scale != 1.0 else weight
            if gradient.ndim > 1:
                factor = factor[:, None]
            gradient *= factor
            hessian *= factor
        elif scale != 1.0:
            gradient *= scale
            hessian *= scale
        if gradient_out is not None:
            gradient_out[...] = gradient
            gradient = gradient_out
        if hessian_out is not None:
            hessian_out[...] = hessian
            hessian = hessian_out
        return gradient, hessian


def _as_float_array(xp: Any, values: Any) -> Any:
    array = xp.asarray(values)
    if not xp.isdtype(array.dtype, "real floating"):
        array = xp.astype(array, xp.float64)
    return array


class ScaledRobustLoss(Loss):
    """A symmetric robust regression loss ``L = s² f(r / s)``, ``r = raw - y``.

    ``s`` is the loss's scale parameter (``scale`` or ``delta``), below which the loss is
    quadratic. Subclasses give ``f`` and its first two derivatives, with ``f''(0) = 1``:

    - gradient: ``dL/draw = s f'(u)``, ``u = r / s`` (bounded: the loss is robust);
    - Hessian, ``hessian="secant"`` (default): ``f'(u) / u = ψ(r) / r``, the curvature of
      the tightest quadratic majorizer of a symmetric loss with ψ(r)/r non-increasing in
      |r| (the IRLS weight). It decays like ``s / |r|``, not to zero, so a leaf's Newton
      step ``-Σψ / Σ(ψ/r)`` is a weighted least-squares step that always decreases the
      loss and moves as far as the residuals are large, whatever the target's scale;
    - Hessian, ``hessian="exact"``: ``f''(u)``, floored at ``HESSIAN_FLOOR``. It vanishes
      for ``|r| >> s`` (exponentially for log-cosh, identically for Huber), which stalls
      boosting on targets far from the starting score; kept for comparison.
    """

    hessian_choices: ClassVar[tuple[str, ...]] = ("secant", "exact")
    #: ``newton_scale`` with the secant curvature, which decays like s/|r|: at the
    #: libraries' starting scores (0.5, 0) and a target in the thousands, ``reg_lambda=1``
    #: would otherwise dwarf a leaf's Hessian sum and shrink its step many times over.
    #: The exact Hessian keeps scale 1, the textbook behaviour it exists to reproduce.
    secant_newton_scale: ClassVar[float] = 1e6

    @property
    def newton_scale(self) -> float:  # type: ignore[override]
        return self.secant_newton_scale if self.hessian == "secant" else 1.0

    @property
    @abstractmethod
    def _scale(self) -> float:
        """The scale ``s`` of the quadratic zone."""

    @staticmethod
    @abstractmethod
    def _f(xp: Any, u: Any) -> Any:
        """The loss in units of the scale, ``f(u)``, with ``f(0) = 0``."""

    @staticmethod
    @abstractmethod
    def _df(xp: Any, u: Any) -> Any:
        """``f'(u)``."""

    @staticmethod
    @abstractmethod
    def _d2f(xp: Any, u: Any) -> Any:
        """``f''(u)``, with ``f''(0) = 1``."""

    def _value(self, xp: Any, y: Any, raw: Any) -> Any:
        s = self._scale
        return (s * s) * self._f(xp, (raw - y) / s)

    def _gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        s = self._scale
        u = (raw - y) / s
        slope = self._df(xp, u)
        if self.hessian == "secant":
            at_zero = u == 0
            # f'(u)/u -> f''(0) = 1 as u -> 0; divide by 1 there instead of 0.
            curvature = xp.where(at_zero, xp.ones_like(u), slope / xp.where(at_zero, 1.0, u))
        else:
            curvature = self._d2f(xp, u)
        return s * slope, xp.maximum(curvature, HESSIAN_FLOOR)

    def init_score(self, y_true: Any, sample_weight: Any = None) -> float:
        """Root of the weighted mean gradient, found by bisection: the loss is convex,
        so its mean gradient is non-decreasing in the constant prediction."""
        y, weight = host_labels_weights(y_true, sample_weight)
        s = self._scale

        def mean_gradient(c: float) -> float:
            return float(np.sum(weight * self._df(np, (c - y) / s)))

        return bisect_increasing(mean_gradient, float(np.min(y)), float(np.max(y)))


def bisect_increasing(function: Any, low: float, high: float, iterations: int = 200) -> float:
    """Root of a non-decreasing function on ``[low, high]`` to floating-point precision."""
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if function(middle) > 0:
            high = middle
        else:
            low = middle
    return 0.5 * (low + high)


def weighted_quantile(y: Any, weight: Any, alpha: float) -> float:
    """Smallest ``q`` with weighted fraction ``P(y <= q) >= alpha``: a minimizer of the
    weighted pinball loss (the weighted median for ``alpha = 0.5``)."""
    order = np.argsort(y, kind="stable")
    cumulative = np.cumsum(weight[order])
    index = int(np.searchsorted(cumulative, alpha * cumulative[-1], side="left"))
    return float(y[order][min(index, y.size - 1)])


def host_labels_weights(y_true: Any, sample_weight: Any, binary: bool = False) -> tuple[Any, Any]:
    """Labels and weights as float64 NumPy arrays, validated (init scores are host-side:
    both libraries keep labels on the host). Missing weights become ones."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    if y.size == 0:
        raise ValueError("cannot compute an init score from zero labels")
    check_labels(np, y, binary=binary)
    if sample_weight is None or np.size(sample_weight) == 0:
        return y, np.ones_like(y)
    weight = np.asarray(sample_weight, dtype=np.float64).ravel()
    check_sample_weight(np, weight, y.shape)
    if not weight.sum() > 0:
        raise ValueError("sample_weight must have a positive sum")
    return y, weight


class BinaryLoss(Loss):
    """A loss on the log-odds margin of binary labels {0, 1}; ``transform`` is the sigmoid,
    as in ``XGBClassifier.predict_proba``. ``init_score`` defaults to the weighted log-odds,
    the minimizer of every loss whose population minimizer is the log-odds."""

    link: ClassVar[Any] = LogitLink()
    binary_labels: ClassVar[bool] = True

    def init_score(self, y_true: Any, sample_weight: Any = None) -> float:
        y, weight = host_labels_weights(y_true, sample_weight, binary=True)
        positive = float(np.sum(weight * y))
        negative = float(np.sum(weight * (1 - y)))
        if positive == 0 or negative == 0:
            raise ValueError("y_true holds a single class: the log-odds are infinite")
        return float(np.log(positive / negative))
