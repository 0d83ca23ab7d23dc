"""Gradients and Hessians of every loss against an independent oracle, and their numerics.

The oracle is ``reference_loss`` (conftest): each loss's textbook formula in mpmath.
Derivatives are central differences of it at 80 significant digits, with a step far
below every length scale of the loss and the distance to its kinks, so they are exact to
many more digits than a float holds. Exact Hessians are compared with the second
difference; the surrogate curvatures with their documented definitions, and the
quadratic models they define are checked to majorize the loss where the docstrings say so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import mpmath
import numpy as np
import pytest
from conftest import handed_to_library, reference_round_epsilon
from hypothesis import example, given, settings
from hypothesis import strategies as st

from boostobj import (
    Exponential,
    Focal,
    Huber,
    LogCosh,
    Logistic,
    Loss,
    PseudoHuber,
    Quantile,
)
from boostobj.adapters import LIBRARY_DTYPE
from boostobj.base import HESSIAN_FLOOR

#: Labels and residuals each range over ±HALF_RANGE: |raw - y| reaches 1e6.
HALF_RANGE = 5e5
#: Logits range over ±LOGIT_RANGE.
LOGIT_RANGE = 1e4
#: Central-difference step relative to the loss's length scales: truncation errors of
#: order 1e-50, far below a float's resolution.
RELATIVE_STEP = mpmath.mpf("1e-25")

derivative_settings = settings(max_examples=30, deadline=None)


@st.composite
def loss_inputs(
    draw: st.DrawFn, loss: Loss, dtype: type[np.floating], max_size: int = 6, columns: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and raw predictions of one shape, in ``dtype``, over the extreme ranges:
    logits up to ±1e4 with labels 0/1, or |raw - y| up to 1e6 (with small residuals
    drawn often). ``columns`` > 0 gives shape (n, columns), else (n,)."""
    n = draw(st.integers(1, max_size))
    size = n * max(columns, 1)
    floats = partial(st.floats, width=np.finfo(dtype).bits)

    def vector(elements: st.SearchStrategy[float]) -> np.ndarray:
        return np.asarray(draw(st.lists(elements, min_size=size, max_size=size)))

    if loss.binary_labels:
        y = vector(st.sampled_from([0.0, 1.0]))
        raw = vector(floats(-LOGIT_RANGE, LOGIT_RANGE))
    else:
        y = vector(floats(-HALF_RANGE, HALF_RANGE))
        residual = vector(st.one_of(floats(-10, 10), floats(-HALF_RANGE, HALF_RANGE)))
        raw = y + residual
    shape = (n, columns) if columns else (n,)
    return y.astype(dtype).reshape(shape), raw.astype(dtype).reshape(shape)


# ----------------------------------------------------------------------- the oracle
def _exact_bits(*values: float) -> int:
    """Binary precision in which sums and differences of these floats are exact."""
    exponents = [math.frexp(value)[1] for value in values if value != 0]
    return 54 + (max(exponents) - min(exponents) if exponents else 0)


def _step(loss: Loss, y: mpmath.mpf, raw: mpmath.mpf, rounding: float) -> mpmath.mpf | None:
    """Central-difference step at (y, raw): RELATIVE_STEP times the smallest length scale
    of the loss there and distance to a kink; None within ``rounding`` of a kink, where
    the derivative does not exist or the rounded residual may lie on its other side."""
    r = raw - y
    match loss:
        case Quantile():
            lengths, kinks = [], [abs(r)]
        case Huber():
            lengths, kinks = [loss.delta], [abs(abs(r) - loss.delta)]
        case LogCosh():
            lengths, kinks = [loss.scale], []
        case PseudoHuber():
            lengths, kinks = [loss.delta], []
        case Exponential():  # the exponent (1/2 - y) raw reaches its cap at raw = ±2 cap
            lengths, kinks = [1], [abs(raw - loss.exponent_cap / (mpmath.mpf(0.5) - y))]
        case _:
            lengths, kinks = [1], []
    if not loss.binary_labels and r != 0:
        lengths.append(abs(r))  # keeps the differences accurate relative to tiny residuals
    if any(distance <= rounding for distance in kinks):
        return None
    return RELATIVE_STEP * min(lengths + kinks)


def _difference_bits(y: float, raw: float, step: mpmath.mpf) -> int:
    """Precision for central differences with ``step`` at (y, raw): raw - y and the
    shifted arguments exact, and 300 bits to spare for the cancellation."""
    size = max(1.0, abs(y), abs(raw))
    return _exact_bits(y, raw) + int(mpmath.log(size / step, 2)) + 300


def _differences(
    function: Callable[[mpmath.mpf], mpmath.mpf], step: mpmath.mpf
) -> tuple[mpmath.mpf, mpmath.mpf]:
    """First and second central differences of ``function(shift)`` at shift 0."""
    minus, centre, plus = function(-step), function(0), function(step)
    return (plus - minus) / (2 * step), (plus - 2 * centre + minus) / (step * step)


def _focal_reweighted_logistic(value: mpmath.mpf, y: mpmath.mpf, raw: mpmath.mpf) -> mpmath.mpf:
    """α_t q (1 - q)^(γ+1), cross-entropy's curvature q (1 - q) times the focal factor
    α_t (1 - q)^γ = value / (-log q), from the reference ``value`` at (y, raw)."""
    margin = (2 * y - 1) * raw
    q, miss = 1 / (1 + mpmath.exp(-margin)), 1 / (1 + mpmath.exp(margin))
    return value / mpmath.log1p(mpmath.exp(-margin)) * q * miss


def _secant_curvature(loss: Loss, t: mpmath.mpf) -> mpmath.mpf:
    """ψ(t)/t of a robust loss, from its documented gradient ψ, at a residual t > 0."""
    match loss:
        case LogCosh():
            return loss.scale * mpmath.tanh(t / loss.scale) / t
        case Huber():
            return min(mpmath.mpf(1), loss.delta / t)
    return 1 / mpmath.sqrt(1 + (t / loss.delta) ** 2)  # PseudoHuber


def _expected_hessian(
    loss: Loss,
    y: mpmath.mpf,
    raw: mpmath.mpf,
    value: mpmath.mpf,
    first: Any,
    second: Any,
    epsilon: float | None,
) -> mpmath.mpf | None:
    """The documented Hessian, from the reference value and derivatives ``first`` and
    ``second`` (None at a kink), before the floor; None where it needs a missing one.
    ``epsilon``: Quantile's ε for the whole array (``reference_round_epsilon``)."""
    r = raw - y
    match loss:
        case LogCosh() | Huber() | PseudoHuber() if loss.hessian == "secant":
            if abs(r) < (loss.residual_floor or 0):
                return _secant_curvature(loss, mpmath.mpf(loss.residual_floor))
            if r == 0:
                return mpmath.mpf(1)  # ψ(r)/r -> L''(0) = 1
            return None if first is None else first / r  # ψ(r) / r
        case Quantile():
            slope = -loss.alpha if r == 0 else first  # raw == y counts as raw below y
            if slope is None:
                return None
            return (mpmath.mpf(0.5) + abs(slope)) / (2 * (epsilon + abs(r)))
        case Exponential() if (mpmath.mpf(0.5) - y) * raw > loss.exponent_cap:
            return mpmath.exp(loss.exponent_cap) / 4  # the capped exponent's curvature
        case Focal():
            if second is None:
                return None
            return max(second, _focal_reweighted_logistic(value, y, raw))
    return second


def _reference(reference_loss: Callable[..., Any], loss: Loss, y: Any, raw: Any) -> dict:
    """Float64 arrays of the reference value, gradient and documented Hessian (floored),
    NaN where undefined (near a kink)."""
    eps = float(np.finfo(raw.dtype).eps)
    epsilon = None
    if isinstance(loss, Quantile):
        epsilon = loss.epsilon or float(reference_round_epsilon(loss, y, raw)[0])
    table: dict[str, list[float]] = {"value": [], "gradient": [], "hessian": []}
    for label, prediction in zip(y.ravel().tolist(), raw.ravel().tolist(), strict=True):
        bits = _exact_bits(label, prediction) + 300
        with mpmath.workprec(bits):
            y_mp, raw_mp = mpmath.mpf(label), mpmath.mpf(prediction)
            step = _step(loss, y_mp, raw_mp, 4 * eps * (abs(label) + abs(prediction)))
            if step is not None:
                bits = _difference_bits(label, prediction, step)
        with mpmath.workprec(bits):
            value = reference_loss(loss, y_mp, raw_mp)
            first = second = None
            if step is not None:
                first, second = _differences(partial(reference_loss, loss, y_mp, raw_mp), step)
            hessian = _expected_hessian(loss, y_mp, raw_mp, value, first, second, epsilon)
            table["value"].append(float(value))
            table["gradient"].append(np.nan if first is None else float(first))
            table["hessian"].append(
                np.nan if hessian is None else float(max(hessian, HESSIAN_FLOOR))
            )
    return {key: np.reshape(values, y.shape) for key, values in table.items()}


def _assert_matches(
    got: np.ndarray,
    expected: np.ndarray,
    dtype: type[np.floating],
    magnitude: Any = 0.0,
    what: str = "",
) -> None:
    """``got`` equals ``expected`` (NaN: not checked) to 256 ulps of ``dtype`` relative to
    ``|expected| + magnitude`` (the size of the terms the formula cancels), or to 16
    times the smallest normal number (results that underflow)."""
    info = np.finfo(dtype)
    tolerance = 256 * info.eps * (np.abs(expected) + magnitude) + 16 * info.smallest_normal
    error = np.abs(np.asarray(got, dtype=np.float64) - expected)
    bad = ~np.isnan(expected) & ~(error <= tolerance)
    assert not bad.any(), f"{what}: got {got[bad]}, expected {expected[bad]}"


def _error_scales(loss: Loss, raw: np.ndarray) -> dict[str, Any]:
    """Absolute error scales of the formulas: Logistic's value softplus(raw) - y raw and
    gradient σ(raw) - y cancel for confident right answers, and log-cosh's value
    |u| + log1p(e^-2|u|) - log 2 near u = 0."""
    scales: dict[str, Any] = {"value": 0.0, "gradient": 0.0, "hessian": 0.0}
    match loss:
        case Logistic():
            scales.update(value=1 + np.abs(raw.astype(np.float64)), gradient=1.0)
        case LogCosh():
            scales.update(value=loss.scale**2)
    return scales


# ----------------------------------------------------------- against the reference
@derivative_settings
@given(data=st.data())
def test_value_gradient_hessian_match_reference(loss, dtype, reference_loss, data):
    """``value`` is the loss; the gradient its derivative. Exact Hessians equal its second
    derivative (SquaredError, Logistic, ``hessian="exact"``, Exponential below its cap);
    the secant curvature is ψ(r)/r; Quantile's is (½ + |grad|)/(2(ε + |r|)), with ε from
    ``reference_round_epsilon`` when it is None; Exponential's beyond the
    cap is e^cap/4; Focal's is max(exact, α_t q (1 - q)^(γ+1)). Hessians are floored at
    HESSIAN_FLOOR."""
    y, raw = data.draw(loss_inputs(loss, dtype))
    expected = _reference(reference_loss, loss, y, raw)
    gradient, hessian = loss.gradient_hessian(y, raw)
    scales = _error_scales(loss, raw)
    for what, got in [("value", loss.value(y, raw)), ("gradient", gradient), ("hessian", hessian)]:
        _assert_matches(got, expected[what], dtype, scales[what], what)


# --------------------------------------------------------- surrogate curvatures
def _assert_majorizes(
    function: Callable[[mpmath.mpf], mpmath.mpf],
    slope: float,
    curvature: float,
    shift: float,
    bits: int,
    slope_error: float = 0.0,
) -> None:
    """``function(shift) <= function(0) + slope shift + curvature shift² / 2``, up to the
    rounding of the terms, evaluated at ``bits`` of precision. ``slope_error`` is an
    absolute error of ``slope`` beyond its relative rounding (subnormal gradients)."""
    with mpmath.workprec(bits):
        shift = mpmath.mpf(shift)
        terms = [function(0), slope * shift, curvature * shift * shift / 2]
        rounding = 1e-12 * sum(abs(term) for term in terms) + slope_error * abs(shift)
        bound = sum(terms) + rounding
        assert function(shift) <= bound, f"{function(shift)} > {sum(terms)}"


majorizer_settings = settings(max_examples=60, deadline=None)
moderate = st.floats(-1e3, 1e3)


@pytest.mark.parametrize(
    "loss",
    [
        LogCosh(),
        LogCosh(scale=0.05),
        Huber(),
        Huber(delta=2.5),
        PseudoHuber(),
        PseudoHuber(delta=0.3),
    ],
    ids=repr,
)
@majorizer_settings
@given(y=moderate, raw0=moderate, raw=moderate)
@example(y=2.2250738585e-313, raw0=0.0, raw=2.2250738585e-313)  # subnormal residual
def test_quadratic_model_majorizes_loss(loss, reference_loss, y, raw0, raw):
    """The quadratic with the gradient and (secant) Hessian handed to the booster at raw0
    lies above the loss everywhere, so a Newton step on it never increases the loss."""
    (gradient,), (hessian,) = loss.gradient_hessian(np.array([y]), np.array([raw0]))
    shift = raw - raw0
    # Where r is subnormal, u = r / s and the gradient s f'(u) (= s u there) are rounded
    # to multiples of the smallest subnormal, an absolute error of up to (s + 1) of them
    # (e.g. y = 2.2250738585e-313, raw0 = 0, s = 2.5: the quadratic's minimum at raw = y
    # came out -1.1e-636 instead of 0).
    _assert_majorizes(
        partial(reference_loss, loss, y, raw0),
        float(gradient),
        float(hessian),
        shift,
        _exact_bits(y, raw0, shift) + 300,
        slope_error=(loss._scale + 1) * math.ulp(0.0),
    )


def test_quantile_quadratic_does_not_majorize_the_pinball_loss(reference_loss):
    """By design (Quantile docstring): the booster gets the exact pinball gradient with the
    Hunter-Lange curvature 1/(2(ε + |r0|)), which majorizes the ε-smoothed loss only, so a
    step may overshoot the kink; its fixed point is still the true quantile. The
    documented counterexample: α = 0.5, ε = 1, r0 = 0.5, step to r = -1."""
    loss = Quantile(alpha=0.5, epsilon=1.0)
    (gradient,), (hessian,) = loss.gradient_hessian(np.array([0.0]), np.array([0.5]))
    with pytest.raises(AssertionError):
        _assert_majorizes(
            partial(reference_loss, loss, 0.0, 0.5), float(gradient), float(hessian), -1.5, 400
        )


@majorizer_settings
@given(epsilon=st.floats(1e-3, 1e3), y=moderate, raw0=moderate, raw=moderate)
def test_median_hessian_majorizes_smoothed_pinball(reference_loss, epsilon, y, raw0, raw):
    """Quantile's docstring (Hunter & Lange 2000): at α = ½ the curvature is
    1/(2(ε + |r0|)), whose quadratic majorizes the ε-smoothed pinball loss
    ρ(r) - (ε/2) log(ε + |r|), with that loss's gradient, at the current residual r0.
    (In the tails the curvature is smaller on the majority side: no majorizer.)"""
    loss = Quantile(alpha=0.5, epsilon=epsilon)
    _, (hessian,) = loss.gradient_hessian(np.array([y]), np.array([raw0]))

    def smoothed(shift: mpmath.mpf) -> mpmath.mpf:
        residual = (mpmath.mpf(raw0) - y) + shift
        return reference_loss(loss, y, raw0, shift) - epsilon / 2 * mpmath.log(
            epsilon + abs(residual)
        )

    step = RELATIVE_STEP * epsilon  # ρ_ε is C¹: its slope needs no care at the kink
    with mpmath.workprec(_difference_bits(y, raw0, step)):
        slope, _ = _differences(smoothed, step)
    shift = raw - raw0
    _assert_majorizes(smoothed, slope, float(hessian), shift, _exact_bits(y, raw0, shift) + 300)


binary_inputs = st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: loss_inputs(Logistic(), dtype, max_size=20)
)


@settings(max_examples=60, deadline=None)
@given(inputs=binary_inputs)
def test_focal_with_gamma_zero_is_logistic(inputs):
    y, raw = inputs
    focal, logistic = Focal(gamma=0.0), Logistic()
    dtype = raw.dtype.type
    scales = _error_scales(logistic, raw)
    for what, got, expected in [
        ("value", focal.value(y, raw), logistic.value(y, raw)),
        *zip(
            ["gradient", "hessian"],
            focal.gradient_hessian(y, raw),
            logistic.gradient_hessian(y, raw),
            strict=True,
        ),
    ]:
        assert got.dtype == expected.dtype
        _assert_matches(got, expected.astype(np.float64), dtype, scales[what], what)


@settings(max_examples=60, deadline=None)
@given(inputs=binary_inputs)
def test_exponential_newton_step_is_uncapped(inputs):
    """Gradient / Hessian is -2(2y - 1), the uncapped ratio, exactly, wherever the Hessian
    is not floored; beyond the cap the Hessian stays at the cap's (checked above)."""
    y, raw = inputs
    gradient, hessian = Exponential().gradient_hessian(y, raw)
    unfloored = hessian > HESSIAN_FLOOR
    np.testing.assert_array_equal(
        gradient[unfloored] / hessian[unfloored], (-2 * (2 * y - 1))[unfloored]
    )


# --------------------------------------------------- Quantile's ε from the residuals
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_quantile_round_epsilon_matches_reference(dtype, data):
    """``Quantile(epsilon=None)`` fixes ε = max(c S, min_epsilon) per output for the rows it
    is given, S = (Σ w √|r| / Σ w)², weights included (``reference_round_epsilon``), over
    the extreme inputs, with weights of 0 (all of them too) and for (n, 2) predictions;
    the gradient and Hessian are those of the loss with that ε."""
    loss = Quantile(alpha=data.draw(st.sampled_from([0.05, 0.5, 0.9])))
    columns = data.draw(st.sampled_from([0, 2]))
    y, raw = data.draw(loss_inputs(loss, dtype, max_size=10, columns=columns))
    # Weights below 1e-298 are drawn as 0: in float64 their products with a root can fall
    # below the normal range, where rounding is not relative (``residual_scale``).
    weights = st.floats(0, 1e3).map(lambda w: w if w >= 1e-298 else 0.0)
    weight = data.draw(
        st.one_of(
            st.none(),
            st.lists(weights, min_size=len(raw), max_size=len(raw)).map(np.array),
        )
    )
    round_loss = loss.for_round(y, raw, weight)
    # Weights enter in the prediction's dtype, as in the kernels (1e-186 is 0 in float32).
    in_dtype = None if weight is None else weight.astype(dtype)
    expected = reference_round_epsilon(loss, y, raw, in_dtype)
    got = np.reshape(round_loss.epsilon, -1)
    assert got.shape == expected.shape
    # Error bound: residual and square root rounded in ``dtype`` (≤ 3/4 eps on the root,
    # doubled by the square: within 4 eps), plus the float64 weight products, sums of n
    # terms and division, doubled by the square (≤ (2n + 4) float64 eps).
    rtol = 4 * np.finfo(dtype).eps + (2 * len(raw) + 4) * np.finfo(np.float64).eps
    np.testing.assert_allclose(got, expected, rtol=rtol)
    if columns == 0:
        assert round_loss == Quantile(loss.alpha, epsilon=round_loss.epsilon)  # a float
    for got_part, expected_part in zip(
        loss.gradient_hessian(y, raw, weight),
        round_loss.gradient_hessian(y, raw, weight),
        strict=True,
    ):
        np.testing.assert_array_equal(got_part, expected_part)


def test_quantile_round_epsilon_keeps_tiny_float32_weights_relative():
    """A float32 weight of 1.4e-45 (the smallest) times √2 is not rounded back to 1.4e-45:
    the products are formed in float64, so S = 2 for one row of residual 2 (found by the
    property test above when the products were float32, which made S = 1)."""
    loss = Quantile(alpha=0.05)
    y, raw = np.zeros(2, np.float32), np.array([0.0, 2.0], np.float32)
    weight = np.array([0.0, float(np.finfo(np.float32).smallest_subnormal)])
    epsilon = loss.for_round(y, raw, weight).epsilon
    assert epsilon == pytest.approx(loss.adaptive_epsilon_fraction * 2, rel=1e-6)


def test_quantile_round_epsilon_follows_the_target_scale():
    """ε is c S of the residuals, so scaling labels and predictions by K scales ε by K and
    the Hessian by 1/K: the Newton step -G/H scales with the target, as the loss does."""
    rng = np.random.default_rng(3)
    y, raw = rng.standard_t(2, size=500), rng.normal(size=500)
    loss = Quantile(alpha=0.9)
    gradient, hessian = loss.gradient_hessian(y, raw)
    for k in (1e-6, 1e-3, 1e3, 1e6):
        scaled_gradient, scaled_hessian = loss.gradient_hessian(k * y, k * raw)
        np.testing.assert_array_equal(scaled_gradient, gradient)
        np.testing.assert_allclose(scaled_hessian, hessian / k, rtol=1e-12)


def test_fixed_curvature_losses_are_their_own_round_loss(loss):
    """``for_round`` only fixes settings that follow the residuals (Quantile's ε when
    None); every other configuration is returned as is."""
    y, raw = np.array([1.0, 2.0, 0.0]), np.array([0.5, 0.0, 1.0])
    adaptive = isinstance(loss, Quantile) and loss.epsilon is None
    assert (loss.for_round(y, raw) is loss) is not adaptive


# ------------------------------------------------------------------------ numerics
@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_finite_positive_and_shaped_like_prediction(loss, dtype, data):
    """Finite values, gradients and Hessians > 0 for any input in range, in the dtype and
    shape of the prediction, with no warning; weights multiply both, and the objective
    hands each library what ``handed_to_library`` says;
    output buffers are filled and returned. Shapes (n,) and, for losses whose 2-D input
    is several outputs rather than multiclass logits, (n, 2)."""
    columns = data.draw(st.sampled_from([0] if loss.supports_multiclass else [0, 2]))
    y, raw = data.draw(loss_inputs(loss, dtype, max_size=10, columns=columns))
    weight = np.asarray(
        data.draw(st.lists(st.floats(0, 1e3), min_size=len(raw), max_size=len(raw)))
    )
    gradient, hessian = loss.gradient_hessian(y, raw)
    for result in (gradient, hessian, loss.value(y, raw), loss.transform(raw)):
        assert result.dtype == raw.dtype
        assert result.shape == raw.shape
        assert np.all(np.isfinite(result))
    assert np.all(hessian > 0)

    factor = weight.astype(dtype).reshape(len(raw), *([1] * (raw.ndim - 1)))
    buffers = np.full_like(raw, np.nan), np.full_like(raw, np.nan)
    weighted = loss.gradient_hessian(
        y, raw, weight, gradient_out=buffers[0], hessian_out=buffers[1]
    )
    unweighted = loss.for_round(y, raw, weight).gradient_hessian(y, raw)
    for got, buffer, plain in zip(weighted, buffers, unweighted, strict=True):
        assert got is buffer
        np.testing.assert_array_equal(got, plain * factor)
    # The objective, called as LightGBM and as XGBoost call it.
    for library, called in [
        ("lightgbm", loss(y, raw, weight, None)),
        ("xgboost", loss(y, raw, sample_weight=weight)),
    ]:
        *expected, scale = handed_to_library(loss, y, raw, weight, library)
        for got, want in zip(called, expected, strict=True):
            assert got.dtype == LIBRARY_DTYPE  # the objective hands the libraries float32
            assert np.all(np.isfinite(got))
            np.testing.assert_allclose(
                got,
                want,
                rtol=4 * np.finfo(LIBRARY_DTYPE).eps,
                # Subnormals: in the float32 buffers before the scale, and in the float32
                # result after it (1e-53 is 0 in float32 whatever the scale).
                atol=(scale + 1) * np.finfo(LIBRARY_DTYPE).smallest_normal,
            )
