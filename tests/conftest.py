"""Shared fixtures: the loss configurations under test, a tiny training set, and reference
formulas of every loss written independently of boostobj (in mpmath)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest

from boostobj import (
    Exponential,
    Focal,
    Huber,
    LogCosh,
    Logistic,
    Loss,
    PseudoHuber,
    Quantile,
    SquaredError,
    exponential_obj,
    focal_obj,
    huber_obj,
    logcosh_obj,
    logistic_obj,
    pseudo_huber_obj,
    quantile_obj,
    squared_error_obj,
)

#: The default instance of every binary and regression loss.
DEFAULT_LOSSES = [
    squared_error_obj,
    logcosh_obj,
    huber_obj,
    pseudo_huber_obj,
    quantile_obj,
    logistic_obj,
    exponential_obj,
    focal_obj,
]

#: Every binary and regression loss with default and non-default parameters, and every
#: curvature choice.
LOSS_CONFIGURATIONS = [
    *DEFAULT_LOSSES,
    LogCosh(scale=3.0, hessian="exact"),
    LogCosh(scale=0.05),
    Huber(delta=2.5, hessian="exact"),
    Huber(delta=0.1),
    PseudoHuber(delta=0.3, hessian="exact"),
    PseudoHuber(delta=4.0),
    LogCosh(scale=0.5, residual_floor=7.0),
    Huber(residual_floor=0.5),  # below delta: the curvature is 1 there anyway
    Huber(delta=0.2, residual_floor=30.0),
    PseudoHuber(delta=2.0, residual_floor=30.0),
    Quantile(alpha=0.1, epsilon=0.01),
    Quantile(alpha=0.9, epsilon=5.0),
    Focal(gamma=0.5, alpha=0.25),
    Focal(gamma=5.0, alpha=0.9),
    Focal(gamma=0.0),
]


@pytest.fixture(scope="session", params=LOSS_CONFIGURATIONS, ids=repr)
def loss(request: pytest.FixtureRequest) -> Loss:
    """Every loss configuration of ``LOSS_CONFIGURATIONS``."""
    return request.param


@pytest.fixture(scope="session", params=DEFAULT_LOSSES, ids=repr)
def default_loss(request: pytest.FixtureRequest) -> Loss:
    """The default instance of every binary and regression loss."""
    return request.param


@pytest.fixture(scope="session", params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request: pytest.FixtureRequest) -> type[np.floating]:
    """Both float dtypes the boosters hand to an objective."""
    return request.param


@pytest.fixture(
    scope="session",
    params=["xgboost-sklearn", "xgboost-train", "lightgbm-sklearn", "lightgbm-train"],
)
def convention(request: pytest.FixtureRequest) -> str:
    """The four ways to train with a custom objective: ``XGBRegressor/XGBClassifier``,
    ``xgb.train``, ``LGBMRegressor/LGBMClassifier`` and ``lgb.train``."""
    return request.param


TinyData = tuple[np.ndarray, np.ndarray, np.ndarray]


@pytest.fixture(scope="session")
def tiny_data() -> Callable[[Loss], TinyData]:
    """Factory of a tiny training set for a loss: ``(X, y, sample_weight)`` with 300 rows
    and 3 integer features (few distinct values, so both libraries bin them identically
    whatever the weights), labels 0/1 for binary losses and heavy-tailed regression
    targets otherwise, and weights 1, 2 or 4. Labels and weights are exact in float32,
    the dtype in which both libraries store them, and powers of two multiply a float32
    gradient exactly: a row of weight k hands the tree learner exactly the sums that k
    copies of it do. (With weight 3, the rounding of 3g decides between two splits whose
    gains tie, which the quantized labels make common, and the models part.)"""
    rng = np.random.default_rng(20240611)
    X = rng.integers(0, 8, size=(300, 3)).astype(np.float64)
    signal = X @ np.array([1.0, -0.5, 0.25])
    regression = np.round(8 * (signal + rng.standard_t(2, size=300))) / 8
    binary = (signal + rng.logistic(size=300) > 2.5).astype(np.float64)
    weight = 2.0 ** rng.integers(0, 3, size=300)

    def make(loss: Loss) -> TinyData:
        return X, binary if loss.binary_labels else regression, weight

    return make


def _reference_loss(loss: Loss, y: mpmath.mpf, raw: mpmath.mpf, shift: int = 0) -> mpmath.mpf:
    """Per-sample loss at the raw prediction ``raw + shift`` (the sum is never rounded to
    a float: regression losses use the residual ``(raw - y) + shift``), from the textbook
    formulas, in forms accurate to mpmath's working precision relative to the result."""
    y, raw = mpmath.mpf(y), mpmath.mpf(raw)
    r = (raw - y) + shift
    margin = (2 * y - 1) * (raw + shift)
    match loss:
        case SquaredError():
            return r * r / 2
        case LogCosh():
            s = mpmath.mpf(loss.scale)
            return s * s * mpmath.log1p(2 * mpmath.sinh(r / (2 * s)) ** 2)  # log cosh(r/s)
        case Huber():
            d = mpmath.mpf(loss.delta)
            return r * r / 2 if abs(r) <= d else d * (abs(r) - d / 2)
        case PseudoHuber():
            d = mpmath.mpf(loss.delta)
            return d * d * mpmath.expm1(mpmath.log1p((r / d) ** 2) / 2)  # √(1 + u²) - 1
        case Quantile():
            a = mpmath.mpf(loss.alpha)
            return a * -r if r <= 0 else (1 - a) * r
        case Logistic():
            return mpmath.log1p(mpmath.exp(-margin))  # -log σ(margin)
        case Exponential():
            exponent, cap = -margin / 2, mpmath.mpf(loss.exponent_cap)
            if exponent <= cap:
                return mpmath.exp(exponent)
            return mpmath.exp(cap) * (1 + exponent - cap)
        case Focal():
            miss = 1 / (1 + mpmath.exp(margin))  # 1 - σ(margin)
            log_q = -mpmath.log1p(mpmath.exp(-margin))
            if loss.alpha is None:
                class_weight = 1
            else:
                class_weight = loss.alpha if y == 1 else 1 - mpmath.mpf(loss.alpha)
            return -class_weight * miss**loss.gamma * log_q
    raise NotImplementedError(f"no reference formula for {loss!r}")


def reference_round_epsilon(
    loss: Quantile, y: np.ndarray, raw: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """The ε of ``Quantile(epsilon=None)`` for these rows, per output (column), from its
    documented definition in exact arithmetic: max(c S, min_epsilon), S = (Σ w √|raw - y|
    / Σ w)² over the exact residuals; ``min_epsilon`` where the weights sum to 0."""
    y2 = np.reshape(y, (len(y), -1)).tolist()
    raw2 = np.reshape(raw, (len(raw), -1)).tolist()
    weights = [1.0] * len(y2) if weight is None else np.asarray(weight).tolist()
    epsilons = []
    with mpmath.workprec(200):
        total_weight = mpmath.fsum(mpmath.mpf(w) for w in weights)
        for column in range(len(y2[0])):
            roots = mpmath.fsum(
                mpmath.mpf(w) * mpmath.sqrt(abs(mpmath.mpf(p[column]) - mpmath.mpf(t[column])))
                for w, t, p in zip(weights, y2, raw2, strict=True)
            )
            epsilon = (
                0
                if total_weight == 0
                else loss.adaptive_epsilon_fraction * (roots / total_weight) ** 2
            )
            epsilons.append(float(max(epsilon, loss.min_epsilon)))
    return np.array(epsilons)


@pytest.fixture(scope="session")
def reference_loss() -> Callable[..., mpmath.mpf]:
    """``reference_loss(loss, y, raw, shift=0)``: the loss at one sample, in mpmath at its
    working precision, written independently of boostobj (see ``_reference_loss``)."""
    return _reference_loss


@pytest.fixture(scope="session")
def reference_mean_loss() -> Callable[..., float]:
    """``reference_mean_loss(loss, y, raw, sample_weight=None)``: the (weighted) mean of
    ``reference_loss`` over arrays, as a float."""

    def mean(
        loss: Loss, y: np.ndarray, raw: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        pairs = zip(y.tolist(), raw.tolist(), strict=True)
        values = [float(_reference_loss(loss, label, prediction)) for label, prediction in pairs]
        return float(np.average(values, weights=sample_weight))

    return mean


#: Classes of the multiclass inputs of ``loss_arrays``.
N_CLASSES = 3


def loss_arrays(
    loss: Loss, dtype: type[np.floating], multiclass: bool, rows: int = 257
) -> tuple[np.ndarray, ...]:
    """Labels, raw predictions (with a few exact zeros of the residual) and weights of
    ``dtype`` that suit ``loss``; (rows, N_CLASSES) logits when ``multiclass``. Shared by
    the array-namespace tests (array-api-strict, CuPy)."""
    rng = np.random.default_rng(0)
    if multiclass:
        raw = rng.normal(0, 3, size=(rows, N_CLASSES)).astype(dtype)
        y = rng.integers(0, N_CLASSES, size=rows).astype(dtype)
    else:
        raw = rng.normal(0, 3, size=rows).astype(dtype)
        if loss.binary_labels:
            y = (rng.random(rows) < 0.5).astype(dtype)
        else:
            y = (raw + rng.normal(0, 2, size=rows)).astype(dtype)
            y[:5] = raw[:5]  # r = 0: the secant curvature's special case
    weight = rng.uniform(0, 2, size=rows).astype(dtype)
    return y, raw, weight


def handed_to_library(
    loss: Loss, y: Any, raw: Any, weight: Any, library: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """What the objective must hand ``library`` (``boostobj.adapters``, written out from
    ``gradient_hessian``, summed in float64): ``newton_scale`` times the weighted gradient and
    Hessian, or for XGBoost and a loss with ``xgboost_unit_rows`` both divided by their
    mean Hessian per unit of weight times ``xgboost_unit_rows``; and that factor."""
    gradient, hessian = (
        np.asarray(part, dtype=np.float64) for part in loss.gradient_hessian(y, raw, weight)
    )
    if library == "lightgbm" or loss.xgboost_unit_rows is None:
        factor = loss.newton_scale
    elif not np.any(hessian):  # every weight 0: nothing to normalize
        factor = 1.0
    else:
        rows = len(gradient) if weight is None else np.sum(weight, dtype=np.float64)
        total_weight = rows * gradient.size / len(gradient)  # times outputs per row
        factor = total_weight / (np.sum(hessian) * loss.xgboost_unit_rows)
    return gradient * factor, hessian * factor, factor
