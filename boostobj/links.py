"""Links between the raw margin the booster adds trees to and the prediction a user wants.

As in scikit-learn's ``sklearn/_loss/link.py``, a loss is composed with a link: the loss
is written on the raw margin, and ``link.inverse`` maps that margin to the target scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import is_numpy_namespace


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
        return softmax_parts(xp, columns_contiguous(xp, raw_prediction))[1]

    def __repr__(self) -> str:
        return "SoftmaxLink()"


def columns_contiguous(xp: Any, block: Any) -> Any:
    """A NumPy (n, K) block with each class's column contiguous, copied column-major if it
    is not (XGBoost passes row-major predictions, LightGBM column-major ones): the
    multiclass kernels run on its class-major view (``softmax_parts``), about 9 times
    faster than on a row-major block (BENCHMARKS.md). Other blocks are returned as they
    are."""
    if block.ndim == 2 and is_numpy_namespace(xp) and block.strides[0] != block.itemsize:
        return np.asfortranarray(block)
    return block


def softmax_parts(xp: Any, x: Any) -> tuple[Any, Any, Any]:
    """``(log p, p, 1 - p)`` for ``p = softmax(x)`` over axis 1, without overflow or
    cancellation (log-sum-exp trick).

    With ``m`` the row maximum, ``e = exp(x - m)`` lies in [0, 1] and is exactly 1 at a
    maximum. ``r``, the sum of ``e`` over every class but one maximum, is summed as
    ``Σ (e - [x = m]) + (number of maxima - 1)``: the terms of the maxima are exact
    zeros, so ``r`` keeps full precision when it is tiny. With ``S = 1 + r``:
    ``log p = x - m - log1p(r)``, ``p = e / S`` and ``1 - p = (r + (1 - e)) / S``, which
    has no cancellation (at a maximum ``1 - e`` is 0 and it is ``r / S``; elsewhere it
    is at least ``1 / S``).

    Computed on the transposed, class-major view ``x.T`` of shape (K, n): the maximum and
    the sums over classes are reductions over the outer axis, which NumPy runs as K
    elementwise passes along n (a reduction over a short inner axis runs about 30 times
    slower per element), and every (K, n) operation against a per-row (1, n) value has
    inner loops n long. That is fast when ``x`` is column-major, as ``Loss`` hands NumPy
    blocks of (n, K) predictions to the kernels (``columns_contiguous``)
    and as LightGBM passes them; the results are (n, K) views of class-major arrays.
    Masks enter as 0/1 factors, not ``where``: NumPy's ``where`` branches per element
    and runs about 10 times slower on masks that change from element to element.
    """
    xt = x.T
    shifted = xt - xp.max(xt, axis=0, keepdims=True)
    e = xp.exp(shifted)
    is_max = xp.astype(shifted == 0, x.dtype)
    rest = xp.sum(e - is_max, axis=0, keepdims=True) + (xp.sum(is_max, axis=0, keepdims=True) - 1)
    total = 1 + rest
    log_p = shifted - xp.log1p(rest)
    complement = (rest + (1 - e)) / total
    return log_p.T, (e / total).T, complement.T


def class_sum(xp: Any, x: Any) -> Any:
    """Sums over the classes (axis 1) of an (n, K) array, shape (n,): a reduction over the
    outer axis of its class-major view (see ``softmax_parts``)."""
    return xp.sum(x.T, axis=0)


def sigmoid(xp: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)) as exp(min(x, 0)) / (1 + exp(-|x|)): no overflow (exp is only
    taken of non-positive numbers), no cancellation, no branch."""
    return xp.exp(xp.minimum(x, 0.0)) / (1 + xp.exp(-xp.abs(x)))


def softplus(xp: Any, x: Any) -> Any:
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
