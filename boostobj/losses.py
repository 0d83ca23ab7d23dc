"""The losses: one short class per loss, its formulas beside it.

Notation: ``raw`` is the booster's raw margin, ``y`` the label, ``r = raw - y`` the
residual. Gradients and Hessians are with respect to ``raw``. Shared machinery (input
checks, weights, calling conventions, metrics, the secant curvature of the robust losses)
lives in ``boostobj.base`` and ``boostobj.adapters``.

To add a loss: write a class here that subclasses ``Loss`` (or ``ScaledRobustLoss`` /
``BinaryLoss`` / ``MulticlassLoss``), give it a ``name``, ``_value``, ``_gradient_hessian``
and ``init_score``, and add it and a default instance to ``__all__``. Estimators find it
by ``name``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from numbers import Real
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from boostobj._validation import (
    check_choice,
    check_non_negative,
    check_open_interval,
    check_positive,
)
from boostobj.base import (
    HESSIAN_FLOOR,
    BinaryLoss,
    BinaryOrMulticlassLoss,
    Loss,
    MulticlassLoss,
    ScaledRobustLoss,
    SoftmaxTerms,
    SumOverWorkers,
    check_class_weights,
    class_totals,
    host_labels_weights,
    residual_scale,
    typical_residual,
    weighted_quantile,
)
from boostobj.links import sigmoid, softplus

__all__ = [
    "Exponential",
    "Focal",
    "Huber",
    "LogCosh",
    "Logistic",
    "PseudoHuber",
    "Quantile",
    "Softmax",
    "SquaredError",
    "exponential_obj",
    "focal_obj",
    "huber_obj",
    "logcosh_obj",
    "logistic_obj",
    "pseudo_huber_obj",
    "quantile_obj",
    "softmax_obj",
    "squared_error_obj",
]


class SquaredError(Loss):
    """L = ½ r²;  grad = r;  hess = 1;  init = weighted mean of y.

    The same gradients as XGBoost's ``reg:squarederror`` and LightGBM's ``l2``: the
    reference for measuring what the custom-objective path costs.
    """

    name = "squared_error"

    def _value(self, xp: Any, y: Any, raw: Any) -> Any:
        r = raw - y
        return 0.5 * r * r

    def _gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        return raw - y, xp.ones_like(raw)

    def init_score(self, y_true: Any, sample_weight: Any = None) -> float:
        y, weight = host_labels_weights(y_true, sample_weight)
        return float(np.average(y, weights=weight))


class LogCosh(ScaledRobustLoss):
    """L = s² log(cosh(r / s));  grad = s tanh(r / s);
    exact hess = sech²(r / s);  secant hess (default) = tanh(u) / u, u = r / s.

    Quadratic for |r| << s, absolute error (times s) for |r| >> s. Computed as
    ``|u| + log1p(exp(-2|u|)) - log 2`` so cosh never overflows.
    """

    name = "logcosh"

    def __init__(
        self, scale: float = 1.0, hessian: str = "secant", residual_floor: float | None = None
    ) -> None:
        self.scale = check_positive("scale", scale)
        self._set_curvature(hessian, residual_floor)

    @property
    def _scale(self) -> float:
        return self.scale

    @staticmethod
    def _f(xp: Any, u: Any) -> Any:
        a = xp.abs(u)
        return a + xp.log1p(xp.exp(-2 * a)) - math.log(2.0)

    @staticmethod
    def _df(xp: Any, u: Any) -> Any:
        return xp.tanh(u)

    @staticmethod
    def _d2f(xp: Any, u: Any) -> Any:
        # sech²(u) = 4e / (1 + e)², e = exp(-2|u|): 1 - tanh²(u) would cancel for |u| >> 1.
        e = xp.exp(-2 * xp.abs(u))
        return 4 * e / ((1 + e) * (1 + e))


class Huber(ScaledRobustLoss):
    """L = ½ r² if |r| <= δ else δ(|r| - ½δ);  grad = clip(r, -δ, δ);
    exact hess = 1 if |r| <= δ else 0 (floored);  secant hess (default) = min(1, δ / |r|).
    """

    name = "huber"

    def __init__(
        self, delta: float = 1.0, hessian: str = "secant", residual_floor: float | None = None
    ) -> None:
        self.delta = check_positive("delta", delta)
        self._set_curvature(hessian, residual_floor)

    @property
    def _scale(self) -> float:
        return self.delta

    @staticmethod
    def _f(xp: Any, u: Any) -> Any:
        a = xp.abs(u)
        m = xp.minimum(a, 1.0)  # ½u² for |u| <= 1 and |u| - ½ beyond, without a branch
        return m * (a - 0.5 * m)

    @staticmethod
    def _df(xp: Any, u: Any) -> Any:
        return xp.clip(u, -1.0, 1.0)

    @staticmethod
    def _d2f(xp: Any, u: Any) -> Any:
        return xp.astype(xp.abs(u) <= 1, u.dtype)


class PseudoHuber(ScaledRobustLoss):
    """L = δ²(√(1 + (r/δ)²) - 1);  grad = r / √(1 + (r/δ)²);
    exact hess = (1 + (r/δ)²)^(-3/2);  secant hess (default) = (1 + (r/δ)²)^(-1/2).

    ``√(1 + u²) - 1`` is computed as ``u² / (√(1 + u²) + 1)`` (no cancellation near 0) with
    ``hypot`` (no overflow of u²).
    """

    name = "pseudo_huber"

    def __init__(
        self, delta: float = 1.0, hessian: str = "secant", residual_floor: float | None = None
    ) -> None:
        self.delta = check_positive("delta", delta)
        self._set_curvature(hessian, residual_floor)

    @property
    def _scale(self) -> float:
        return self.delta

    @staticmethod
    def _f(xp: Any, u: Any) -> Any:
        root = xp.hypot(xp.ones_like(u), u)
        return u * (u / (root + 1))

    @staticmethod
    def _df(xp: Any, u: Any) -> Any:
        return u / xp.hypot(xp.ones_like(u), u)

    @staticmethod
    def _d2f(xp: Any, u: Any) -> Any:
        root = xp.hypot(xp.ones_like(u), u)
        return 1 / (root * root * root)


class Quantile(Loss):
    """Pinball loss L = α(y - raw) if y >= raw else (1 - α)(raw - y);
    grad = 1 - α if raw > y else -α;
    hess = (½ + |grad|) / (2(ε + |r|)), the mean of the Hunter–Lange (2000) majorizer
    curvature 1/(2(ε + |r|)) and the secant curvature |grad| / (ε + |r|).

    The exact Hessian is zero everywhere. A constant Hessian (the textbook choice) makes
    a leaf move about α per tree, which crawls when y is in the thousands. With a
    curvature ∝ 1/(ε + |r|) (IRLS for quantile regression) a leaf's step ``-Σg / Σh`` is
    a weighted average of its residuals, so it moves as far as the residuals are large at
    any target scale. At α = ½ the curvature is Hunter–Lange's: the quadratic
    ``r²/(4(ε+|r₀|))`` majorizes the ε-smoothed pinball loss at the current residual r₀.
    In the tails Hunter–Lange alone moves a leaf whose rows all lie on the majority side
    by only 2α(ε + |r|), which crawls with few trees; the secant curvature alone (the
    robust losses' choice) moves it by its residuals, as the built-in objectives' leaf
    refit does, and over-fits with many; the mean measured best at 100 and 300 trees on
    the synthetic data sets (BENCHMARKS.md, "Quantile curvature"). The gradient is the
    exact pinball one, so the fixed point is the true weighted α-quantile (not the
    smoothed one); the price is that a single step is not guaranteed to decrease the loss
    (it may overshoot the kink), which the learning rate damps.

    ε (``epsilon``) bounds the curvature of residuals sitting at the kink, and must be
    small next to the residuals: with ε far above them every row gets about the same
    curvature and a leaf steps by about ε per tree whatever the residuals, which on a
    target of scale 0.1 overshoots many times. ``None`` (default): ε follows the
    residuals, ε = c·S every round with S = (Σ w √|r| / Σ w)² (``residual_scale``, per
    output) and c = ``adaptive_epsilon_fraction`` = 0.04, XGBoost 3.4's statistic and
    constant for its own quantile curvature; at least ``min_epsilon``, so that rows all
    at the kink (S = 0) keep finite curvature. In XGBoost the sums run over every worker
    (``xgboost.collective``); LightGBM gives a Python objective no collective, so in
    ``lightgbm.dask`` each worker takes S of its own rows (set ``epsilon`` to make it one
    number). The estimators fix ε = τ, the robust losses' ``residual_floor`` from the
    training labels (``fitted_to``; why: see ``residual_floor`` in ``ScaledRobustLoss``).

    The estimators also penalize leaf values (``leaf_prior_rows``): 1 / (2 min(α, 1 - α))
    rows at the kink, one at the median and 10 at α = 0.05 or 0.95. A leaf's step moves
    it toward the α-quantile of its rows, which in the tails rests on the few rows on the
    minority side, about min(α, 1 - α) of the leaf: without the penalty, small leaves
    chase them (on ``diabetes``, 354 training rows, the α = 0.05 / 0.95 estimators ended
    1.6-1.7× the built-in's pinball loss after 300 trees); with it, about one
    minority-side row's worth of prior holds each leaf back (BENCHMARKS.md, "Quantile
    leaf penalty"). Used as an objective directly, the loss gets the same penalty from
    XGBoost's ``reg_lambda=1``, counted in average rows instead (``xgboost_unit_rows``;
    LightGBM's raw objective has no L2 penalty to give it).
    ``init_score`` is the weighted α-quantile. Measured against the built-in quantile
    objectives in BENCHMARKS.md.
    """

    name = "quantile"
    newton_scale: ClassVar[float] = ScaledRobustLoss.secant_newton_scale

    #: c in ε = c·S when ``epsilon`` is None (class docstring).
    adaptive_epsilon_fraction: ClassVar[float] = 0.04
    #: Smallest ε when ``epsilon`` is None: the curvature at the kink, ≤ 1/ε, stays finite
    #: in float32 times any weight up to 1e12 and ``newton_scale``.
    min_epsilon: ClassVar[float] = 1e-20
    #: ε that ``fitted_to`` takes when the labels' deviation is 0 (constant labels).
    default_epsilon: ClassVar[float] = 1.0

    def __init__(self, alpha: float = 0.5, epsilon: float | None = None) -> None:
        self.alpha = check_open_interval("alpha", alpha)
        self.epsilon = None if epsilon is None else check_positive("epsilon", epsilon)

    @property
    def max_row_curvature(self) -> float:  # type: ignore[override]
        """(½ + max(α, 1 - α)) / (2ε): the curvature of a residual at the kink."""
        if self.epsilon is None:
            raise ValueError(
                "Quantile(epsilon=None) sets epsilon from the residuals every round, so a "
                "row's curvature has no bound: fix epsilon (fitted_to or epsilon=...)"
            )
        return (0.5 + max(self.alpha, 1 - self.alpha)) / (2 * self.epsilon)

    @property
    def leaf_prior_rows(self) -> float:  # type: ignore[override]
        """1 / (2 min(α, 1 - α)) (see the class docstring)."""
        return 1 / (2 * min(self.alpha, 1 - self.alpha))

    @property
    def xgboost_unit_rows(self) -> float:  # type: ignore[override]
        """``leaf_prior_rows``, at least 1: the raw objective's leaf penalty in XGBoost,
        whose ``reg_lambda=1`` then weighs that many average rows (class docstring)."""
        return max(1.0, self.leaf_prior_rows)

    def fitted_to(self, y_true: Any, sample_weight: Any = None) -> Loss:
        if self.epsilon is not None:
            return self
        epsilon = typical_residual(y_true, sample_weight) or self.default_epsilon
        return Quantile(self.alpha, epsilon)

    def _for_round(
        self, xp: Any, y: Any, raw: Any, weight: Any, sum_over_workers: SumOverWorkers
    ) -> Loss:
        if self.epsilon is not None:
            return self
        scale = np.nan_to_num(residual_scale(xp, y, raw, weight, sum_over_workers))
        epsilon = np.maximum(self.adaptive_epsilon_fraction * scale, self.min_epsilon)
        round_loss = copy.copy(self)
        # One ε per output of a 2-D prediction, as an array of its namespace and dtype.
        round_loss.epsilon = (
            float(epsilon[0]) if raw.ndim < 2 else xp.asarray(epsilon, dtype=raw.dtype)
        )
        return round_loss

    def _value(self, xp: Any, y: Any, raw: Any) -> Any:
        r = y - raw
        return xp.maximum(self.alpha * r, (self.alpha - 1) * r)

    def _gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        r = raw - y  # ε: fixed for the round (``_for_round``)
        gradient = xp.astype(r > 0, raw.dtype) - self.alpha  # 1 - α if r > 0 else -α
        return gradient, (0.5 + xp.abs(gradient)) / (2 * (self.epsilon + xp.abs(r)))

    def init_score(self, y_true: Any, sample_weight: Any = None) -> float:
        y, weight = host_labels_weights(y_true, sample_weight)
        return weighted_quantile(y, weight, self.alpha)


class Logistic(BinaryLoss):
    """Binary cross-entropy on logits: L = log(1 + e^raw) - y raw;
    grad = σ(raw) - y;  hess = σ(raw)(1 - σ(raw)), floored at ``HESSIAN_FLOOR`` (as in
    XGBoost's ``binary:logistic``);  init = weighted log-odds.

    The same gradients as ``binary:logistic`` / LightGBM ``binary``. With
    ``e = exp(-|raw|)``, σ is ``exp(min(raw, 0)) / (1 + e)`` and σ(1-σ) is ``e / (1 + e)²``:
    free of cancellation, overflow and branches.
    """

    name = "logistic"

    def _value(self, xp: Any, y: Any, raw: Any) -> Any:
        return softplus(xp, raw) - y * raw

    def _gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        e = xp.exp(-xp.abs(raw))
        one_plus_e = 1 + e
        probability = xp.exp(xp.minimum(raw, 0.0)) / one_plus_e
        hessian = xp.maximum(e / (one_plus_e * one_plus_e), HESSIAN_FLOOR)
        return probability - y, hessian


class Exponential(BinaryLoss):
    """AdaBoost's exponential loss on the log-odds scale: with s = 2y - 1 and
    u = -s raw / 2,  L = e^u;  grad = -(s/2) e^u;  hess = e^u / 4;  init = log-odds.

    The population minimizer of e^(-s f) is f = ½ log-odds, so the margin is written as
    raw = 2f: ``transform`` is then the sigmoid, consistent with ``predict_proba``.
    Safeguard: for u > U = 50 (a margin of 100 on the wrong side) the loss continues
    linearly, ``e^U (1 + u - U)``, so nothing overflows; gradient and Hessian use e^min(u, U)
    and keep their ratio, hence the Newton step, exactly.
    """

    name = "exponential"
    exponent_cap: ClassVar[float] = 50.0

    def _exponent(self, xp: Any, y: Any, raw: Any) -> Any:
        return (0.5 - y) * raw  # = -(2y - 1) raw / 2

    def _value(self, xp: Any, y: Any, raw: Any) -> Any:
        u = self._exponent(xp, y, raw)
        capped = xp.exp(xp.minimum(u, self.exponent_cap))
        return capped * (1 + xp.maximum(u - self.exponent_cap, 0.0))

    def _gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        capped = xp.exp(xp.minimum(self._exponent(xp, y, raw), self.exponent_cap))
        return (y - 0.5) * -capped, xp.maximum(0.25 * capped, HESSIAN_FLOOR)


class Focal(BinaryOrMulticlassLoss):
    """Focal loss (Lin et al. 2017) on logits: binary on 1-D log-odds, multiclass on (n, K)
    logits (``raw.ndim`` decides; see ``BinaryOrMulticlassLoss``).

    **Binary** (labels 0/1). With s = 2y - 1, m = s raw, q = σ(m) the probability of the
    true class and α_t = α (y = 1) or 1 - α (y = 0):

    L = -α_t (1 - q)^γ log q;
    grad = s α_t [γ q (1 - q)^γ log q - (1 - q)^(γ+1)];
    exact hess = α_t q (1 - q)^γ [(2γ + 1)(1 - q) + γ log q (1 - q - γ q)].

    The exact Hessian is negative for badly misclassified points (q < 0.08 at γ = 2).
    There the Hessian used is ``α_t q (1 - q)^(γ+1)``: the curvature of cross-entropy
    weighted by the current focal factor α_t (1 - q)^γ, i.e. the IRLS view of focal loss
    as re-weighted logistic regression. The Hessian is ``max(exact, that)``, which is the
    logistic Hessian at γ = 0, so ``Focal(gamma=0)`` trains like ``Logistic``.
    ``init_score`` minimizes the mean loss numerically (there is no closed form).

    **Multiclass** (labels 0..K-1, ``alpha`` None or a length-K vector of positive class
    weights). With p = softmax(raw), q = p_y, α_y the label's weight (1 without alpha),
    M = (1 - q)^γ and ρ = log q / (1 - q) (-> -1 as q -> 1):

    L = -α_y M log q;
    grad_k = w (p_k - [k = y]),  w = α_y M (1 - γ q ρ) >= α_y M: the softmax gradient,
    re-weighted;
    exact hess_kk = w p_k (1 - p_k) + α_y γ q M [(1 - γ q) log q + 2(1 - q)] s_k²,
    s_y = 1, s_k = p_k / (1 - q) otherwise.

    The second term is negative for badly misclassified rows (small q), where the exact
    diagonal can be negative. The same bound as the binary loss is used: the diagonal is
    ``max(exact, α_y M p_k (1 - p_k))``, the softmax curvature weighted by the focal
    factor, times the multiclass factor 2 (see ``MulticlassLoss``). At γ = 0, w = α_y and
    the second term vanishes, so ``Focal(gamma=0)`` equals ``Softmax()`` exactly.
    ``init_score`` minimizes the mean loss numerically from the centred log-priors.
    """

    name = "focal"

    def __init__(self, gamma: float = 2.0, alpha: float | Sequence[float] | None = None) -> None:
        self.gamma = check_non_negative("gamma", gamma)
        if alpha is None or isinstance(alpha, Real):
            self.alpha = None if alpha is None else check_open_interval("alpha", alpha)
        else:
            self.alpha = check_class_weights("alpha", alpha)

    def _alpha(self, n_classes: int | None) -> Any:
        """``alpha`` checked against the problem: a float for binary (``n_classes`` None),
        a length-K vector for K classes; None stays None."""
        if self.alpha is None:
            return None
        if n_classes is None and isinstance(self.alpha, tuple):
            raise ValueError("binary focal loss takes alpha as a float in (0, 1), not a vector")
        if n_classes is not None and (
            not isinstance(self.alpha, tuple) or len(self.alpha) != n_classes
        ):
            raise ValueError(
                f"multiclass focal loss takes alpha as a vector of {n_classes} class weights "
                f"(one per class), got {self.alpha!r}"
            )
        return self.alpha

    # ------------------------------------------------------------------- binary
    def _terms(self, xp: Any, y: Any, raw: Any) -> tuple[Any, ...]:
        sign = 2 * y - 1
        margin = sign * raw
        q = sigmoid(xp, margin)
        miss = sigmoid(xp, -margin)  # 1 - q, without cancellation
        log_q = -softplus(xp, -margin)
        modulation = miss**self.gamma
        alpha = self._alpha(None)
        class_weight = 1.0
        if alpha is not None:  # α for y = 1, 1 - α for y = 0
            class_weight = alpha * y + (1 - alpha) * (1 - y)
        return sign, q, miss, log_q, modulation, class_weight

    def _binary_value(self, xp: Any, y: Any, raw: Any) -> Any:
        _, _, _, log_q, modulation, class_weight = self._terms(xp, y, raw)
        return -class_weight * modulation * log_q

    def _binary_gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        sign, q, miss, log_q, modulation, class_weight = self._terms(xp, y, raw)
        g = self.gamma
        gradient = sign * class_weight * (g * q * modulation * log_q - modulation * miss)
        exact = q * modulation * ((2 * g + 1) * miss + g * log_q * (miss - g * q))
        reweighted_logistic = q * modulation * miss
        hessian = class_weight * xp.maximum(exact, reweighted_logistic)
        return gradient, xp.maximum(hessian, HESSIAN_FLOOR)

    def _binary_init_score(self, y: Any, weight: Any) -> float:
        start = BinaryLoss.init_score(self, y, weight)

        def mean_loss(c: float) -> float:
            return float(np.sum(weight * self._binary_value(np, y, np.full_like(y, c))))

        bound = abs(start) + 10.0
        result = minimize_scalar(
            mean_loss, bounds=(-bound, bound), method="bounded", options={"xatol": 1e-10}
        )
        return float(result.x)

    # --------------------------------------------------------------- multiclass
    def _multiclass_terms(self, xp: Any, y: Any, raw: Any) -> tuple[SoftmaxTerms, Any, Any]:
        terms = SoftmaxTerms(xp, y, raw)
        alpha = self._alpha(raw.shape[1])
        class_weight = 1.0
        if alpha is not None:
            alpha = xp.asarray(alpha, dtype=raw.dtype)
            class_weight = xp.take(alpha, terms.label)
        return terms, terms.miss**self.gamma, class_weight

    def _multiclass_value(self, xp: Any, y: Any, raw: Any) -> Any:
        terms, modulation, class_weight = self._multiclass_terms(xp, y, raw)
        return -class_weight * modulation * terms.log_q

    def _multiclass_gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        t, modulation, class_weight = self._multiclass_terms(xp, y, raw)
        g = self.gamma
        has_miss = t.miss > 0
        safe_miss = xp.where(has_miss, t.miss, 1.0)
        rho = xp.where(has_miss, t.log_q / safe_miss, -1.0)  # log q / (1 - q)
        focal_weight = class_weight * modulation
        weight = focal_weight * (1 - g * t.q * rho)
        share = t.is_label + (1 - t.is_label) * t.p / safe_miss[:, None]  # 1 at the label
        weight_slope = focal_weight * (g * t.q) * ((1 - g * t.q) * t.log_q + 2 * t.miss)
        softmax_curvature = t.p * t.complement
        exact = weight[:, None] * softmax_curvature + weight_slope[:, None] * (share * share)
        bound = focal_weight[:, None] * softmax_curvature
        hessian = self._diagonal_factor(raw.shape[1]) * xp.maximum(exact, bound)
        return weight[:, None] * t.residual, xp.maximum(hessian, HESSIAN_FLOOR)

    def _multiclass_init_score(self, y: Any, weight: Any, n_classes: int) -> Any:
        start = super()._multiclass_init_score(y, weight, n_classes)
        totals = class_totals(y, weight, n_classes)
        present = np.flatnonzero(totals)
        labels = present.astype(np.float64)
        class_share = totals[present] / totals.sum()

        def logits(free: Any) -> Any:
            full = start.copy()
            full[present] = free
            return full

        def mean_loss_and_gradient(free: Any) -> tuple[float, Any]:
            raw = np.tile(logits(free), (present.size, 1))  # one row per present class
            value = class_share @ self._multiclass_value(np, labels, raw)
            gradient, _ = self._multiclass_gradient_hessian(np, labels, raw)
            return float(value), (class_share @ gradient)[present]

        result = minimize(
            mean_loss_and_gradient,
            start[present],
            jac=True,
            method="L-BFGS-B",
            options={"ftol": 1e-15, "gtol": 1e-12},
        )
        best = logits(result.x)
        return best - best.mean()


class Softmax(MulticlassLoss):
    """Multinomial cross-entropy on K logits (labels 0..K-1), p = softmax(raw):

    L = -log p_y;  grad_k = p_k - [k = y];  hess_k = c p_k (1 - p_k), floored at
    ``HESSIAN_FLOOR``;  init = centred log of the weighted class priors.

    ``hessian`` picks the factor c on the diagonal (the libraries disagree):

    - ``"bound"`` (default), c = 2: an upper bound of the full Hessian (proof in
      ``MulticlassLoss``), the curvature of XGBoost's ``multi:softprob``;
    - ``"friedman"``, c = K / (K - 1): Friedman's (2001) multiclass TreeBoost step, the
      exact Newton step at uniform probabilities (where ``diag(p) - p pᵀ`` acts as 1/K on
      the zero-sum gradients and its diagonal is (K - 1)/K²), the curvature of LightGBM's
      ``multiclass``. Smaller than 2 for K > 2: bolder steps.

    Each reproduces its library's built-in objective; the two differ in training.
    """

    name = "softmax"
    hessian_choices: ClassVar[tuple[str, ...]] = ("bound", "friedman")

    def __init__(self, hessian: str = "bound") -> None:
        self.hessian = check_choice("hessian", hessian, self.hessian_choices)

    def _diagonal_factor(self, n_classes: int) -> float:
        if self.hessian == "friedman":
            return n_classes / (n_classes - 1)
        return super()._diagonal_factor(n_classes)

    def _value(self, xp: Any, y: Any, raw: Any) -> Any:
        return -SoftmaxTerms(xp, y, raw).log_q

    def _gradient_hessian(self, xp: Any, y: Any, raw: Any) -> tuple[Any, Any]:
        t = SoftmaxTerms(xp, y, raw)
        hessian = self._diagonal_factor(raw.shape[1]) * (t.p * t.complement)
        return t.residual, xp.maximum(hessian, HESSIAN_FLOOR)


logcosh_obj = LogCosh()
huber_obj = Huber()
pseudo_huber_obj = PseudoHuber()
quantile_obj = Quantile()
focal_obj = Focal()
exponential_obj = Exponential()
logistic_obj = Logistic()
softmax_obj = Softmax()
squared_error_obj = SquaredError()
