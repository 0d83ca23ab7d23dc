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


def sigmoid(xp: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)) without overflow: exp is only taken of -|x|."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def softplus(xp: Any, x: Any) -> Any:
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
