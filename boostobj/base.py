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
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from array_api_compat import array_namespace, is_numpy_namespace

from boostobj._validation import (
    check_choice,
    check_labels,
    check_non_negative,
    check_sample_weight,
)
from boostobj.links import (
    IdentityLink,
    LogitLink,
    SoftmaxLink,
    class_sum,
    columns_contiguous,
    softmax_parts,
)

#: Smallest Hessian handed to a booster. XGBoost's own ``binary:logistic`` floors its
#: Hessian at the same value (``kRtEps``): a zero Hessian would make a leaf's Newton step
#: ``-G / (H + lambda)`` depend on ``lambda`` alone and LightGBM refuse to split.
HESSIAN_FLOOR = 1e-16

#: Bytes of prediction per block when a loss is evaluated on NumPy arrays (see
#: ``row_blocks``): 131,072 float32 or 65,536 float64 values, fastest on 1,000,000 rows
#: (benchmarks/bench_kernels.py; BENCHMARKS.md).
BLOCK_BYTES = 1 << 19

#: Fraction of the labels' median absolute deviation that ``Loss.fitted_to`` takes as
#: the residual below which a majorizer's curvature stops growing (``residual_floor``
#: of the robust losses, ``epsilon`` of ``Quantile``). Measured in BENCHMARKS.md
#: ("Curvature floor"): 0.1-0.3 all beat the tight majorizer from the init score.
RESIDUAL_FLOOR_FRACTION = 0.2

#: Sums over the workers of a distributed run: a float64 array in, the element-wise sums
#: over every worker out (``boostobj.adapters`` passes XGBoost's collective all-reduce).
SumOverWorkers = Callable[[np.ndarray], np.ndarray]

#: Attribute under which ``boostobj.adapters.output_buffers`` keeps a loss's reusable
#: gradient and Hessian arrays: a cache, not state (see ``Loss.__getstate__``).
OUTPUT_BUFFERS_ATTRIBUTE = "_output_buffers"


def one_worker(values: np.ndarray) -> np.ndarray:
    """``SumOverWorkers`` of a single process: the values themselves."""
    return values


class Loss(ABC):
    """Base class of all boostobj losses.

    A loss object is a custom objective for XGBoost and LightGBM as it stands: the
    libraries call it as ``obj(y_true, y_pred[, sample_weight=w])`` (XGBoost's
    scikit-learn API), ``obj(y_true, y_pred, weight, group)`` (LightGBM's) or
    ``obj(preds, dataset)`` (``xgb.train`` and ``lgb.train``), and it returns
    ``(grad, hess)`` in the shape of the prediction: float32 for NumPy predictions, the
    libraries' own gradient dtype (``boostobj.adapters.output_buffers``), and the
    prediction's namespace and dtype otherwise (CuPy). ``gradient_hessian`` is the loss
    itself, without the libraries' scaling (``newton_scale``, ``xgboost_unit_rows``).
    """

    #: Name used by estimators (``loss="..."``) and as the eval metric's name.
    name: ClassVar[str]
    #: Maps the raw margin to the prediction on the target scale (see ``transform``).
    link: ClassVar[Any] = IdentityLink()
    #: True for losses whose labels must be 0 or 1.
    binary_labels: ClassVar[bool] = False
    #: True for losses that accept raw predictions of shape (n, K) and labels 0..K-1.
    supports_multiclass: ClassVar[bool] = False
    #: Constant by which the library adapters multiply gradient and Hessian (for the
    #: raw objective in XGBoost only when ``xgboost_unit_rows`` is None; the estimators
    #: always use it). The Newton step ``-G / H`` of a leaf
    #: does not change, but the booster's absolute defaults (``reg_lambda=1``,
    #: ``min_child_weight=1``) shrink to nothing next to ``H``. It is a constant of the
    #: class, never a statistic of the data, so every Dask worker and every boosting
    #: round optimizes the same objective.
    newton_scale: ClassVar[float] = 1.0

    #: XGBoost only (``boostobj.adapters``): when set, the objective hands XGBoost the
    #: gradient and Hessian divided, every round, by their mean Hessian per unit of
    #: weight over all training rows (summed over the workers of a distributed run),
    #: times this many rows: XGBoost's defaults ``reg_lambda=1`` and
    #: ``min_child_weight=1`` then weigh that many average rows, as they weigh one row
    #: for its unit-Hessian built-ins. For losses whose curvature has no natural unit (the
    #: secant and quantile curvatures). None: ``newton_scale``, as for LightGBM, whose
    #: defaults count rows, not Hessians.
    xgboost_unit_rows: float | None = None

    #: The largest Hessian one row gets (before ``newton_scale``): what XGBoost's
    #: ``min_child_weight`` is counted in when the estimators default it to one row.
    max_row_curvature: float = 1.0

    #: Rows of ``max_row_curvature`` that the estimators add to every leaf's Hessian sum
    #: as an L2 penalty on leaf values (XGBoost ``reg_lambda``, LightGBM ``lambda_l2``)
    #: unless one is set; 0: the library's own default.
    leaf_prior_rows: float = 0.0

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

    def fitted_to(self, y_true: Any, sample_weight: Any = None) -> Loss:
        """This loss with its data-dependent curvature settings (those left ``None``)
        fixed from the training labels; the estimators train this. The loss itself (its
        value, gradient and minimizer) does not change. Losses without such settings
        return ``self``."""
        return self

    def for_round(self, y_true: Any, raw_prediction: Any, sample_weight: Any = None) -> Loss:
        """This loss with the curvature settings that follow the current residuals (those
        left ``None`` and not fixed by ``fitted_to``) fixed at their values for these
        arrays: ``gradient_hessian(y, p, w)`` is ``for_round(y, p, w).gradient_hessian(y,
        p, w)``. Losses without such settings return ``self``."""
        xp, y, raw, weight = self._prepare(y_true, raw_prediction, sample_weight)
        return self._for_round(xp, y, raw, weight, one_worker)

    def _for_round(
        self, xp: Any, y: Any, raw: Any, weight: Any, sum_over_workers: SumOverWorkers
    ) -> Loss:
        """``for_round`` on prepared arrays; statistics of the rows are summed over the
        workers with ``sum_over_workers`` (XGBoost's collective in a distributed run)."""
        return self

    # --------------------------------------------------------------- public API
    def value(self, y_true: Any, raw_prediction: Any) -> Any:
        """Per-sample loss at the raw prediction, in the prediction's dtype."""
        xp, y, raw, _ = self._prepare(y_true, raw_prediction, None)
        blocks = self._blocks(xp, y, raw, None)
        parts = [self._value(xp, y_block, raw_block) for _, y_block, raw_block, _ in blocks]
        return parts[0] if len(parts) == 1 else xp.concat(parts)

    def mean_loss(self, y_true: Any, raw_prediction: Any, sample_weight: Any = None) -> float:
        """Weighted mean of ``value``: what the eval metrics report (summed in float64)."""
        xp, y, raw, weight = self._prepare(y_true, raw_prediction, sample_weight)
        total = total_weight = 0.0
        for _, y_block, raw_block, weight_block in self._blocks(xp, y, raw, weight):
            per_sample = xp.astype(self._value(xp, y_block, raw_block), xp.float64)
            if weight_block is None:
                total += float(xp.sum(per_sample))
                total_weight += per_sample.shape[0]
            else:
                weight_block = xp.astype(weight_block, xp.float64)
                total += float(xp.sum(per_sample * weight_block))
                total_weight += float(xp.sum(weight_block))
        return total / total_weight if total_weight else math.nan

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
        xp = namespace_of(raw_prediction)
        return self.link.inverse(xp, _as_float_array(xp, raw_prediction))

    def __call__(
        self,
        y_true_or_preds: Any,
        y_pred_or_dataset: Any,
        *lightgbm_weight_group: Any,
        sample_weight: Any = None,
    ) -> tuple[Any, Any]:
        """Custom-objective entry point for XGBoost and LightGBM (see ``adapters``):
        ``(y_true, y_pred[, sample_weight=w])`` from XGBoost's scikit-learn API,
        ``(y_true, y_pred, weight, group)`` from LightGBM's, ``(preds, dataset)`` from
        both training APIs."""
        from boostobj.adapters import objective_call

        return objective_call(
            self, y_true_or_preds, y_pred_or_dataset, lightgbm_weight_group, sample_weight
        )

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

    def __getstate__(self) -> dict[str, Any]:
        """The instance's attributes without caches: pickles and copies carry the
        parameters only."""
        state = self.__dict__.copy()
        state.pop(OUTPUT_BUFFERS_ATTRIBUTE, None)
        return state

    # ------------------------------------------------------------------ helpers
    def _prepare(
        self, y_true: Any, raw_prediction: Any, sample_weight: Any
    ) -> tuple[Any, Any, Any, Any]:
        """The namespace of the prediction, and the inputs as its arrays, shapes checked.

        Values are checked, and labels and weights cast to the prediction's dtype, block
        by block in ``_blocks``: a cast or check of a whole array would be one more
        length-n temporary and pass."""
        xp = namespace_of(raw_prediction)
        raw = _as_float_array(xp, raw_prediction)
        y = xp.asarray(y_true)
        self._check_label_shape(y, raw)
        weight = None
        if sample_weight is not None and np.size(sample_weight) > 0:
            weight = xp.asarray(sample_weight)
            if tuple(weight.shape) != (raw.shape[0],):
                check_sample_weight(xp, weight, (raw.shape[0],))  # raises the shape error
        return xp, y, raw, weight

    def _blocks(self, xp: Any, y: Any, raw: Any, weight: Any) -> Iterator[tuple[Any, ...]]:
        """``(rows, y, raw, weight)`` per block of rows (see ``row_blocks``): labels and
        weights cast to the prediction's dtype and checked, ``weight`` None if absent."""
        for rows in row_blocks(xp, raw):
            raw_block = columns_contiguous(xp, raw[rows])
            y_block = _as_dtype(xp, y[rows], raw.dtype)
            self._check_label_values(xp, y_block, raw_block)
            weight_block = None
            if weight is not None:
                weight_block = _as_dtype(xp, weight[rows], raw.dtype)
                check_sample_weight(xp, weight_block, tuple(weight_block.shape))
            yield rows, y_block, raw_block, weight_block

    def _check_label_shape(self, y: Any, raw: Any) -> None:
        """One label per prediction; multi-output losses override this."""
        if tuple(y.shape) != tuple(raw.shape):
            raise ValueError(
                f"y_true has shape {tuple(y.shape)} but the raw prediction has shape "
                f"{tuple(raw.shape)}; {type(self).__name__} expects one label per prediction"
            )

    def _check_label_values(self, xp: Any, y: Any, raw: Any) -> None:
        """Finite labels, and 0 or 1 for binary losses; multiclass losses override this."""
        check_labels(xp, y, self.binary_labels)

    def _weighted_gradient_hessian(
        self,
        y_true: Any,
        raw_prediction: Any,
        sample_weight: Any,
        scale: float,
        gradient_out: Any = None,
        hessian_out: Any = None,
        sum_over_workers: SumOverWorkers = one_worker,
    ) -> tuple[Any, Any]:
        """Gradient and Hessian times ``sample_weight`` times ``scale``, one fused pass of
        blocks written into the outputs (new arrays like the prediction when None), by the
        loss ``for_round`` these rows (its statistics summed with ``sum_over_workers``)."""
        xp, y, raw, weight = self._prepare(y_true, raw_prediction, sample_weight)
        loss = self._for_round(xp, y, raw, weight, sum_over_workers)
        if gradient_out is None:
            gradient_out = xp.empty_like(raw)
        if hessian_out is None:
            hessian_out = xp.empty_like(raw)
        for rows, y_block, raw_block, weight_block in self._blocks(xp, y, raw, weight):
            gradient, hessian = loss._gradient_hessian(xp, y_block, raw_block)
            factor = scale
            if weight_block is not None:
                factor = weight_block * scale if scale != 1.0 else weight_block
                if gradient.ndim > 1:
                    factor = factor[:, None]
            elif scale == 1.0:
                gradient_out[rows], hessian_out[rows] = gradient, hessian
                continue
            gradient_out[rows], hessian_out[rows] = gradient * factor, hessian * factor
        return gradient_out, hessian_out


def row_blocks(xp: Any, raw: Any) -> Iterator[Any]:
    """Indices that split ``raw`` (and arrays of its length) into blocks of rows.

    On NumPy a loss is evaluated ``BLOCK_BYTES`` of ``raw`` at a time. Each formula is a
    chain of elementwise operations, and every operation on whole arrays would allocate
    and stream a fresh length-n temporary; on blocks, the temporaries stay in the CPU
    cache and the allocator hands the same memory back block after block. Other
    namespaces (CuPy, array-api-strict) get one block, the whole array: a GPU wants few,
    long kernels."""
    if not is_numpy_namespace(xp) or raw.ndim == 0:
        yield ...
        return
    row_bytes = raw.dtype.itemsize * max(1, math.prod(raw.shape[1:]))
    step = max(1, BLOCK_BYTES // row_bytes)
    for start in range(0, max(raw.shape[0], 1), step):
        yield slice(start, start + step)


def residual_scale(
    xp: Any, y: Any, raw: Any, weight: Any, sum_over_workers: SumOverWorkers
) -> np.ndarray:
    """Per output (column of a 2-D ``raw``), ``S = (Σ w √|raw - y| / Σ w)²``: a typical
    residual size that a few huge residuals do not dominate (XGBoost's quantile objective
    takes the same statistic, since 3.4). Sums in float64, block by block, then over the
    workers; NaN for an output whose weights sum to 0.

    The weights are rounded to the prediction's dtype, as in the gradient and Hessian, but
    multiplied by the roots in float64: in float32 a small weight times a root can fall
    below the normal range, where rounding is no longer relative (``1.4e-45 * √2`` is
    ``1.4e-45``) and would bias S. In float64 that takes weights below about 1e-298."""
    outputs = math.prod(raw.shape[1:])
    root_sums, weight_sum = np.zeros(outputs), 0.0
    for rows in row_blocks(xp, raw):
        roots = xp.sqrt(xp.abs(raw[rows] - _as_dtype(xp, y[rows], raw.dtype)))
        if weight is not None:
            weight_block = _as_dtype(xp, _as_dtype(xp, weight[rows], raw.dtype), xp.float64)
            roots = _as_dtype(xp, roots, xp.float64)
            roots = roots * (weight_block[:, None] if roots.ndim > 1 else weight_block)
            weight_sum += float(xp.sum(weight_block))
        else:
            weight_sum += roots.shape[0]
        root_sums += _host_float64(xp, xp.sum(roots, axis=0, dtype=xp.float64))
    totals = sum_over_workers(np.concatenate([root_sums, [weight_sum]]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (totals[:-1] / totals[-1]) ** 2


def _host_float64(xp: Any, values: Any) -> np.ndarray:
    """A 0-d or 1-d array of any namespace as a flat float64 NumPy array."""
    if values.ndim == 0:
        return np.array([float(values)])
    return np.array([float(values[i]) for i in range(values.shape[0])])


def _as_dtype(xp: Any, array: Any, dtype: Any) -> Any:
    return array if array.dtype == dtype else xp.astype(array, dtype)


def namespace_of(values: Any) -> Any:
    """The array namespace of ``values``; NumPy's for lists, tuples and scalars."""
    try:
        return array_namespace(values)
    except TypeError:
        return array_namespace(np.asarray(values))


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

    ``residual_floor`` (secant only): residuals smaller than it get the secant curvature
    of a residual of that size, ``ψ(τ)/τ``. Why: near the fit, with a scale ``s`` far
    below the noise (the defaults, on a target in the thousands), rows with residuals
    near 0 carry curvature up to 1 against ``s/|r|`` for the others, dominate every
    leaf's Hessian sum and shorten its step by about ``log(noise / s)``: boosting from
    the init score crawls (BENCHMARKS.md). Only the curvature changes — the gradient is
    exact, so the fixed point is the loss's minimizer — but below ``τ`` the quadratic no
    longer majorizes the loss, so a step may overshoot there (the learning rate damps
    it). ``None`` (default) is the tight secant (``τ = 0``) when the loss is used as an
    objective directly; the estimators set ``τ`` from the training labels
    (``fitted_to``).
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
    def xgboost_unit_rows(self) -> float | None:  # type: ignore[override]
        """1 with the secant curvature: ``reg_lambda=1`` weighs one average row."""
        return 1.0 if self.hessian == "secant" else None

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

    def _set_curvature(self, hessian: str, residual_floor: Any) -> None:
        """Validate and set the constructor's ``hessian`` and ``residual_floor``."""
        self.hessian = check_choice("hessian", hessian, self.hessian_choices)
        if residual_floor is not None:
            if self.hessian != "secant":
                raise ValueError("residual_floor applies to hessian='secant' only")
            residual_floor = check_non_negative("residual_floor", residual_floor)
        self.residual_floor = residual_floor

    @property
    def max_row_curvature(self) -> float:  # type: ignore[override]
        """1, or with a floor τ beyond the quadratic zone the secant curvature at τ."""
        if not self.residual_floor:
            return 1.0
        at = self.residual_floor / self._scale
        return min(1.0, float(self._df(np, np.float64(at))) / at)

    def fitted_to(self, y_true: Any, sample_weight: Any = None) -> Loss:
        if self.hessian != "secant" or self.residual_floor is not None:
            return self
        params = self.constructor_params()
        params["residual_floor"] = typical_residual(y_true, sample_weight)
        return type(self)(**params)

    def _gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        s = self._scale
        u = (raw - y) / s
        slope = self._df(xp, u)
        if self.hessian == "secant" and self.residual_floor:
            at = xp.maximum(xp.abs(u), self.residual_floor / s)  # f'(u)/u is even in u
            curvature = self._df(xp, at) / at
        elif self.hessian == "secant":
            # f'(u)/u -> f''(0) = 1 as u -> 0. With z = 1 where u = 0 (else 0) and f'(0) = 0
            # (f' is odd), (f'(u) + z) / (u + z) is f'(u)/u, and 1/1 at u = 0: no branch.
            at_zero = xp.astype(u == 0, u.dtype)
            curvature = (slope + at_zero) / (u + at_zero)
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


def typical_residual(y_true: Any, sample_weight: Any = None) -> float:
    """``RESIDUAL_FLOOR_FRACTION`` times the weighted median absolute deviation of the
    labels: a residual size on the labels' own scale, from the labels alone (so it is the
    same on every Dask worker when computed on the client from all of them)."""
    y, weight = host_labels_weights(y_true, sample_weight)
    deviation = np.abs(y - weighted_quantile(y, weight, 0.5))
    return RESIDUAL_FLOOR_FRACTION * weighted_quantile(deviation, weight, 0.5)


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
        return float(np.log(positive) - np.log(negative))


#: Smallest class prior in a multiclass ``init_score``. A class absent from the labels
#: (possible when ``n_classes`` is given: a rare class missing from a fold) has log-prior
#: -inf; LightGBM's ``multiclass`` floors the prior at the same value (``kEpsilon`` in its
#: ``BoostFromScore``), a finite logit about 34.5 below the others.
PRIOR_FLOOR = 1e-15


def check_class_labels(xp: Any, y: Any, n_classes: int) -> None:
    """Raise ValueError unless every label is an integer in ``[0, n_classes)``."""
    if not bool(xp.all((y >= 0) & (y < n_classes) & (y == xp.floor(y)))):  # False for NaN
        check_labels(xp, y, binary=False)  # names NaN and infinite labels
        raise ValueError(
            f"y_true must hold integer class labels in [0, {n_classes}) for {n_classes} classes"
        )


def check_class_weights(name: str, values: Any) -> tuple[float, ...]:
    """Return ``values`` as a tuple of floats, or raise ValueError unless it is a 1-D
    sequence of at least two finite numbers > 0 (one weight per class)."""
    weights = np.asarray(values, dtype=np.float64)
    if weights.ndim != 1 or weights.size < 2 or not np.all(np.isfinite(weights) & (weights > 0)):
        raise ValueError(
            f"{name} must be a float or a vector of finite class weights > 0, got {values!r}"
        )
    return tuple(float(w) for w in weights)


def host_class_labels_weights(
    y_true: Any, sample_weight: Any, n_classes: int | None = None
) -> tuple[Any, Any, int]:
    """Labels, weights (as ``host_labels_weights``) and the number of classes K: given, or
    the largest label + 1. Labels must be integers in [0, K)."""
    y, weight = host_labels_weights(y_true, sample_weight)
    if n_classes is None:
        n_classes = int(np.max(y)) + 1
    elif isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise ValueError(f"n_classes must be an integer, got {n_classes!r}")
    check_class_labels(np, y, int(n_classes))
    return y, weight, int(n_classes)


def class_totals(y: Any, weight: Any, n_classes: int) -> Any:
    """Total weight of each class 0..K-1 (host labels and weights)."""
    return np.bincount(y.astype(np.intp), weights=weight, minlength=n_classes)


class SoftmaxTerms:
    """The softmax of rows of logits and its pieces at the labels y, all cancellation-free
    (see ``boostobj.links.softmax_parts``). Shapes: (n, K), except ``label`` and the
    values at the label, (n,). ``label``, the values at the label and the residual are
    computed when first used (Softmax's gradient needs only the residual).

    ``is_label`` is the one-hot label as 0/1 in the logits' dtype: masks enter the
    formulas as exact 0/1 factors, not ``where`` (see ``softmax_parts``)."""

    def __init__(self, xp: Any, y: Any, raw: Any) -> None:
        self._xp = xp
        self.log_p, self.p, self.complement = softmax_parts(xp, raw)
        classes = xp.arange(raw.shape[1], dtype=raw.dtype)
        is_label = (classes[:, None] == y[None, :]).T  # class-major, as softmax_parts
        self.is_label = xp.astype(is_label, raw.dtype)
        self._y = y

    @cached_property
    def label(self) -> Any:
        """The label as an integer class index (Focal's class weights)."""
        return self._xp.astype(self._y, self._xp.int64)

    def at_label(self, values: Any) -> Any:
        """``values[i, y_i]`` for each row: one nonzero term per row, so exact."""
        return class_sum(self._xp, self.is_label * values)

    @cached_property
    def residual(self) -> Any:
        """p - onehot(y), the cross-entropy gradient, as -(1 - p) at the label."""
        return self.p * (1 - self.is_label) - self.complement * self.is_label

    @cached_property
    def log_q(self) -> Any:
        """log p_y."""
        return self.at_label(self.log_p)

    @cached_property
    def q(self) -> Any:
        """p_y, the probability of the true class."""
        return self.at_label(self.p)

    @cached_property
    def miss(self) -> Any:
        """1 - p_y."""
        return self.at_label(self.complement)


class MulticlassLoss(Loss):
    """A loss on K >= 2 logits per sample: raw predictions of shape (n, K), integer labels
    0..K-1 of shape (n,), ``p = softmax(raw)`` (``transform``). XGBoost and LightGBM (>= 4)
    pass custom objectives this (n, K) array and take (n, K) gradients and Hessians back.

    Hessian: both libraries grow one tree per class from the diagonal of the Hessian only.
    The multinomial cross-entropy Hessian is ``diag(p) - p pᵀ``, whose diagonal
    ``p_k (1 - p_k)`` ignores the coupling ``-p_j p_k``; the losses hand the booster
    ``_diagonal_factor(K)`` times their diagonal curvature. The default factor 2 makes it an
    upper bound of the whole matrix, ``diag(p) - p pᵀ <= 2 diag(p (1 - p))``, because
    ``vᵀ(diag(p) - p pᵀ)v = ½ Σ_jk p_j p_k (v_j - v_k)² <= Σ_j≠k p_j p_k (v_j² + v_k²)
    = 2 Σ_k p_k (1 - p_k) v_k²`` (tight for K = 2): a step that decreases the diagonal
    quadratic decreases the loss's quadratic model. It is XGBoost's ``multi:softprob``.

    ``init_score`` is the minimizer of the mean cross-entropy over constant logits: the
    log of the weighted class priors, centred to sum to 0 (XGBoost's ``base_score`` for
    ``multi:softprob``; LightGBM starts from the uncentred log-priors, the same softmax).
    """

    link: ClassVar[Any] = SoftmaxLink()
    supports_multiclass: ClassVar[bool] = True

    def _check_label_shape(self, y: Any, raw: Any) -> None:
        if raw.ndim != 2 or raw.shape[1] < 2 or tuple(y.shape) != (raw.shape[0],):
            raise ValueError(
                f"{type(self).__name__} expects raw predictions of shape (n, K) with K >= 2 "
                f"and labels of shape (n,); got {tuple(raw.shape)} and {tuple(y.shape)}"
            )

    def _check_label_values(self, xp: Any, y: Any, raw: Any) -> None:
        check_class_labels(xp, y, raw.shape[1])

    def init_score(
        self, y_true: Any, sample_weight: Any = None, *, n_classes: int | None = None
    ) -> Any:
        """Length-K float64 vector of constant logits minimizing the (weighted) mean loss.

        K is ``n_classes`` when given (so classes missing from ``y_true`` get a logit),
        else the largest label + 1."""
        y, weight, n_classes = host_class_labels_weights(y_true, sample_weight, n_classes)
        return self._multiclass_init_score(y, weight, n_classes)

    def _multiclass_init_score(self, y: Any, weight: Any, n_classes: int) -> Any:
        """Centred log of the weighted class priors, floored at ``PRIOR_FLOOR``."""
        totals = class_totals(y, weight, n_classes)
        if np.count_nonzero(totals) < 2:
            raise ValueError("y_true holds a single class: the log-priors are infinite")
        log_prior = np.log(np.maximum(totals / totals.sum(), PRIOR_FLOOR))
        return log_prior - log_prior.mean()

    def _diagonal_factor(self, n_classes: int) -> float:
        """Factor on the diagonal curvature (see the class docstring)."""
        return 2.0


class BinaryOrMulticlassLoss(MulticlassLoss, BinaryLoss):
    """A loss with a binary form on 1-D log-odds (labels 0/1, sigmoid) and a multiclass
    form on (n, K) logits (labels 0..K-1, softmax), chosen by the raw prediction's ``ndim``.
    Subclasses write ``_binary_value``, ``_binary_gradient_hessian``, ``_binary_init_score``
    and ``_multiclass_value``, ``_multiclass_gradient_hessian``."""

    @abstractmethod
    def _binary_value(self, xp: Any, y: Any, raw: Any) -> Any:
        """Per-sample loss on 1-D log-odds."""

    @abstractmethod
    def _binary_gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        """Gradient and Hessian on 1-D log-odds."""

    @abstractmethod
    def _binary_init_score(self, y: Any, weight: Any) -> float:
        """Constant log-odds minimizing the mean binary loss."""

    @abstractmethod
    def _multiclass_value(self, xp: Any, y: Any, raw: Any) -> Any:
        """Per-sample loss on (n, K) logits."""

    @abstractmethod
    def _multiclass_gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        """(n, K) gradient and Hessian diagonal on (n, K) logits."""

    def _value(self, xp: Any, y: Any, raw: Any) -> Any:
        if raw.ndim == 2:
            return self._multiclass_value(xp, y, raw)
        return self._binary_value(xp, y, raw)

    def _gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        if raw.ndim == 2:
            return self._multiclass_gradient_hessian(xp, y, raw)
        return self._binary_gradient_hessian(xp, y, raw)

    def _check_label_shape(self, y: Any, raw: Any) -> None:
        if raw.ndim == 2:
            MulticlassLoss._check_label_shape(self, y, raw)
        else:
            Loss._check_label_shape(self, y, raw)

    def _check_label_values(self, xp: Any, y: Any, raw: Any) -> None:
        if raw.ndim == 2:
            MulticlassLoss._check_label_values(self, xp, y, raw)
        else:
            Loss._check_label_values(self, xp, y, raw)

    def transform(self, raw_prediction: Any) -> Any:
        """Sigmoid of 1-D log-odds (probability of class 1), softmax of (n, K) logits."""
        xp = namespace_of(raw_prediction)
        raw = _as_float_array(xp, raw_prediction)
        link = MulticlassLoss.link if raw.ndim == 2 else BinaryLoss.link
        return link.inverse(xp, raw)

    def init_score(
        self, y_true: Any, sample_weight: Any = None, *, n_classes: int | None = None
    ) -> Any:
        """The binary init score (a float) when ``n_classes`` is not given and the labels
        are 0/1; otherwise the multiclass one (a length-K float64 vector)."""
        if n_classes is None:
            y, weight = host_labels_weights(y_true, sample_weight)
            if np.all((y == 0) | (y == 1)):
                return self._binary_init_score(y, weight)
        return MulticlassLoss.init_score(self, y_true, sample_weight, n_classes=n_classes)
