"""``init_score`` is the constant raw prediction that minimizes the (weighted) mean loss.

The oracle is scipy's bounded scalar minimizer on ``mean_loss`` (whose per-sample values
are checked against independent formulas in ``test_loss_derivatives``). Loss values are
compared, not minimizers, since pinball minimizers are not unique.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from boostobj import Loss, exponential_obj, focal_obj, logistic_obj

#: Binary losses' minimizers are log-odds; the data below keep them within ±log(62e5).
LOGIT_BOUND = 30.0


@st.composite
def labels_and_weights(
    draw: st.DrawFn, loss: Loss, weighted: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Up to 62 labels (both classes for binary losses, heavy-tailed and tied values for
    regression) and, if ``weighted``, weights 0 or in [1e-3, 100] with a positive sum (a
    positive sum per class for binary losses)."""
    n = draw(st.integers(1, 60))
    if loss.binary_labels:
        y = np.array([0.0, 1.0, *draw(st.lists(st.sampled_from([0.0, 1.0]), max_size=n))])
    else:
        values = st.one_of(st.floats(-10, 10), st.floats(-1e4, 1e4), st.integers(-3, 3))
        y = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
    if not weighted:
        return y, None
    weights = st.one_of(st.just(0.0), st.floats(1e-3, 100))
    weight = np.array(draw(st.lists(weights, min_size=y.size, max_size=y.size)))
    classes = [y == 0, y == 1] if loss.binary_labels else [np.ones(y.size, dtype=bool)]
    assume(all(weight[members].sum() > 0 for members in classes))
    return y, weight


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_init_score_minimizes_mean_loss(loss, weighted, data):
    y, weight = data.draw(labels_and_weights(loss, weighted))

    def mean_loss(constant: float) -> float:
        return loss.mean_loss(y, np.full_like(y, constant), weight)

    if loss.binary_labels:
        bounds = (-LOGIT_BOUND, LOGIT_BOUND)
    else:
        bounds = (float(y.min()) - 1.0, float(y.max()) + 1.0)
    oracle = minimize_scalar(mean_loss, bounds=bounds, method="bounded", options={"xatol": 1e-9})
    assert oracle.success
    init = loss.init_score(y, weight)
    assert np.isscalar(init) and np.isfinite(init)
    assert mean_loss(init) <= oracle.fun + 1e-12 * (1 + abs(oracle.fun))


def test_init_score_rejects_empty_labels(loss):
    with pytest.raises(ValueError, match="zero labels"):
        loss.init_score(np.array([]))


@pytest.mark.parametrize(
    ("y", "weight"),
    [
        ([1.0, 1.0, 1.0], None),
        ([0.0, 0.0], None),
        ([0.0, 1.0, 1.0], [0.0, 1.0, 2.0]),  # the only negative has weight 0
    ],
    ids=["all-positive", "all-negative", "one-class-by-weight"],
)
@pytest.mark.parametrize("loss", [logistic_obj, exponential_obj, focal_obj], ids=repr)
def test_binary_init_score_rejects_one_class(loss, y, weight):
    with pytest.raises(ValueError, match="single class"):
        loss.init_score(np.array(y), weight)
