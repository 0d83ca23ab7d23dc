"""Links between the raw margin the booster adds trees to and the prediction a user wants.

As in scikit-learn's ``sklearn/_loss/link.py``, a loss is composed with a link: the loss
is written on the raw margin, and ``link.inverse`` maps that margin to the target scale.
"""

from __future__ import annotations

from typing import Any


class IdentityLink:
    """Raw margin = prediction (regression losses)."""

    def inverse(self, xp: Any, raw_prediction: Any) -> Any:
        return raw_prediction

    def __repr__(self) -> str:
        return "IdentityLink()"


class LogitLink:
    """Raw margin = log-odds; ``inverse`` is the logistic sigmoid, as XGBoost's
    ``binary:logistic`` and LightGBM's ``binary`` apply it in ``predict_proba``."""

    def inverse(self, xp: Any, raw_prediction: Any) -> Any:
        return sigmoid(xp, raw_prediction)

    def __repr__(self) -> str:
        return "LogitLink()"


class SoftmaxLink:
    """Raw margin = K logits per row; ``inverse`` is the softmax over the classes (axis 1),
    as XGBoost's ``multi:softprob`` and LightGBM's ``multiclass`` apply it in
    ``predict_proba``."""

    def inverse(self, xp: Any, raw_prediction: Any) -> Any:
        if raw_prediction.ndim != 2:
            raise ValueError(
                f"the softmax needs raw predictions of shape (n, K), got shape "
                f"{tuple(raw_prediction.shape)}"
            )
        return softmax_parts(xp, raw_prediction)[1]

    def __repr__(self) -> str:
        return "SoftmaxLink()"


def row_max_argmax(xp: Any, x: Any) -> tuple[Any, Any]:
    """Row maximum of an (n, K) array and the first column holding it, both (n, 1).

    Written as K elementwise passes over columns rather than reductions over axis 1:
    NumPy reduces a short axis (K of a few) about 30 times slower per element than it
    runs an elementwise operation (benchmarks/bench_kernels.py, Softmax)."""
    top = x[:, :1]
    argmax = xp.zeros(top.shape, dtype=xp.int64)
    for k in range(1, x.shape[1]):
        column = x[:, k : k + 1]
        greater = column > top
        top = xp.where(greater, column, top)
        argmax = xp.where(greater, k, argmax)
    return top, argmax


def row_sum(xp: Any, x: Any) -> Any:
    """Row sums of an (n, K) array as (n, 1), by columns (see ``row_max_argmax``)."""
    total = x[:, :1]
    for k in range(1, x.shape[1]):
        total = total + x[:, k : k + 1]
    return total


def softmax_parts(xp: Any, x: Any) -> tuple[Any, Any, Any]:
    """``(log p, p, 1 - p)`` for ``p = softmax(x)`` over axis 1, without overflow or
    cancellation (log-sum-exp trick).

    With ``m`` the row maximum, ``e = exp(x - m)`` lies in [0, 1], and ``r`` sums ``e``
    over every class but one argmax ``a`` (whose ``e`` is 1): ``log p = x - m - log1p(r)``
    keeps full precision when ``p_a`` is near 1, and ``1 - p_a = r / (1 + r)`` has no
    cancellation. Every other class has ``p <= 1/2``, so ``1 - p`` is exact there.
    """
    top, argmax = row_max_argmax(xp, x)
    e = xp.exp(x - top)
    is_argmax = xp.arange(x.shape[1])[None, :] == argmax
    rest = row_sum(xp, xp.where(is_argmax, 0.0, e))
    log_p = (x - top) - xp.log1p(rest)
    p = xp.exp(log_p)
    complement = xp.where(is_argmax, rest / (1 + rest), 1 - p)
    return log_p, p, complement


def sigmoid(xp: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)) as exp(min(x, 0)) / (1 + exp(-|x|)): no overflow (exp is only
    taken of non-positive numbers), no cancellation, no branch."""
    return xp.exp(xp.minimum(x, 0.0)) / (1 + xp.exp(-xp.abs(x)))


def softplus(xp: Any, x: Any) -> Any:
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
