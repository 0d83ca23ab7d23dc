"""Multiclass losses (issue 7): ``Softmax`` and ``Focal`` on (n, K) logits.

Oracles are independent of the code under test: the loss is re-written in mpmath at 50
digits from its definition, and its gradient and Hessian diagonal are taken by mpmath's
numerical differentiation; class priors come from ``np.bincount``; log-losses from
scikit-learn; the built-in objectives are XGBoost's ``multi:softprob`` and LightGBM's
``multiclass``.
"""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import array_api_strict
import lightgbm as lgb
import mpmath
import numpy as np
import pytest
import xgboost as xgb
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, log_loss
from sklearn.model_selection import train_test_split

from boostobj import Focal, Softmax
from boostobj.base import HESSIAN_FLOOR

EXTREME = 1e4
#: Below this, the 50-digit numerical derivatives are noise (about 1e-109 at 1e4 logits).
ORACLE_ATOL = 1e-90


# ------------------------------------------------------------------- mpmath oracle
def oracle_loss(logits: Any, label: int, gamma: float, alpha_y: float) -> Any:
    """Focal loss -α_y (1 - q)^γ log q of one row at 50 digits (γ = 0: cross-entropy)."""
    log_total = mpmath.log(mpmath.fsum(mpmath.exp(z) for z in logits))
    log_q = logits[label] - log_total
    miss = mpmath.fsum(mpmath.exp(z - log_total) for j, z in enumerate(logits) if j != label)
    return -alpha_y * miss**gamma * log_q


def oracle_values(raw: np.ndarray, y: np.ndarray, gamma: float, alpha: Any) -> list[float]:
    """Per-row loss, as floats."""
    values = []
    with mpmath.workdps(50):
        for row, label in zip(raw.tolist(), y.astype(int).tolist(), strict=True):
            alpha_y = 1 if alpha is None else alpha[label]
            values.append(float(oracle_loss([mpmath.mpf(v) for v in row], label, gamma, alpha_y)))
    return values


def oracle(
    raw: np.ndarray, y: np.ndarray, gamma: float, alpha: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient, exact Hessian diagonal and the focal bound α_y (1 - q)^γ p_k (1 - p_k)."""
    n, k = raw.shape
    gradient, diagonal, bound = (np.empty((n, k)) for _ in range(3))
    with mpmath.workdps(50):
        for i in range(n):
            label = int(y[i])
            alpha_y = 1 if alpha is None else mpmath.mpf(alpha[label])
            logits = [mpmath.mpf(float(v)) for v in raw[i]]

            def loss(*z: Any, label: int = label, alpha_y: Any = alpha_y) -> Any:
                return oracle_loss(list(z), label, gamma, alpha_y)

            log_total = mpmath.log(mpmath.fsum(mpmath.exp(z) for z in logits))
            p = [mpmath.exp(z - log_total) for z in logits]
            modulation = mpmath.fsum(p[j] for j in range(k) if j != label) ** gamma
            for c in range(k):
                order = tuple(int(j == c) for j in range(k))
                gradient[i, c] = mpmath.diff(loss, logits, order)
                diagonal[i, c] = mpmath.diff(loss, logits, tuple(2 * o for o in order))
                complement = mpmath.fsum(p[j] for j in range(k) if j != c)
                bound[i, c] = alpha_y * modulation * p[c] * complement
    return gradient, diagonal, bound


def expected_hessian(diagonal: np.ndarray, bound: np.ndarray, factor: float) -> np.ndarray:
    """The documented Hessian: factor * max(exact diagonal, focal bound), floored."""
    return np.maximum(factor * np.maximum(diagonal, bound), HESSIAN_FLOOR)


@st.composite
def problems(draw: Any, low: float = -30.0, high: float = 30.0) -> tuple[np.ndarray, ...]:
    k = draw(st.integers(3, 5))
    n = draw(st.integers(1, 3))
    values = st.floats(low, high, allow_nan=False)
    raw = np.array(draw(st.lists(values, min_size=n * k, max_size=n * k))).reshape(n, k)
    y = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), dtype=float)
    return raw, y


def extreme_rows(k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Every label against logits in {-1e4, 0, 1e4}: certain right, certain wrong, ties."""
    grid = np.array(np.meshgrid(*[[-EXTREME, 0.0, EXTREME]] * k)).reshape(k, -1).T
    raw = np.repeat(grid, k, axis=0)
    y = np.tile(np.arange(k, dtype=float), grid.shape[0])
    return raw, y


def strict_numerics() -> Any:
    """Overflow, division by zero and invalid operations raise (underflow of exp(-2e4)
    to 0 is expected and exact enough)."""
    return np.errstate(over="raise", divide="raise", invalid="raise")


# ------------------------------------------------------------- formulas vs oracle
@settings(max_examples=40, deadline=None)
@given(problem=problems(), hessian=st.sampled_from(["bound", "friedman"]))
def test_softmax_gradient_hessian_match_finite_differences(problem: Any, hessian: str) -> None:
    raw, y = problem
    loss = Softmax(hessian=hessian)
    gradient, hess = loss.gradient_hessian(y, raw)
    want_gradient, diagonal, bound = oracle(raw, y, gamma=0.0, alpha=None)
    k = raw.shape[1]
    factor = 2.0 if hessian == "bound" else k / (k - 1)
    np.testing.assert_allclose(gradient, want_gradient, rtol=1e-9, atol=ORACLE_ATOL)
    # for cross-entropy the exact diagonal is p(1 - p): the bound coincides with it
    np.testing.assert_allclose(diagonal, bound, rtol=1e-9, atol=ORACLE_ATOL)
    np.testing.assert_allclose(hess, expected_hessian(diagonal, bound, factor), rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    problem=problems(),
    gamma=st.floats(0.0, 5.0),
    alpha_seed=st.one_of(st.none(), st.integers(0, 2**16)),
)
def test_focal_gradient_hessian_match_finite_differences(
    problem: Any, gamma: float, alpha_seed: int | None
) -> None:
    raw, y = problem
    k = raw.shape[1]
    alpha = None
    if alpha_seed is not None:
        alpha = np.random.default_rng(alpha_seed).uniform(0.1, 10.0, k).tolist()
    gradient, hess = Focal(gamma=gamma, alpha=alpha).gradient_hessian(y, raw)
    want_gradient, diagonal, bound = oracle(raw, y, gamma, alpha)
    np.testing.assert_allclose(gradient, want_gradient, rtol=1e-8, atol=ORACLE_ATOL)
    np.testing.assert_allclose(hess, expected_hessian(diagonal, bound, 2.0), rtol=1e-7)
    assert np.all(hess > 0)


@pytest.mark.parametrize(
    "loss", [Softmax(), Softmax(hessian="friedman"), Focal(), Focal(0.5, alpha=[1, 5, 20])]
)
def test_extreme_logits_are_finite_silent_and_exact(loss: Any) -> None:
    raw, y = extreme_rows()
    with warnings.catch_warnings(), strict_numerics():
        warnings.simplefilter("error")
        gradient, hess = loss.gradient_hessian(y, raw)
        value = loss.value(y, raw)
        probability = loss.transform(raw)
        gradient32, hess32 = loss.gradient_hessian(y, raw.astype(np.float32))
    for array in (gradient, hess, value, probability, gradient32, hess32):
        assert np.all(np.isfinite(array))
    assert gradient32.dtype == hess32.dtype == np.float32
    assert np.all(hess > 0) and np.all(hess32 > 0)
    gamma = getattr(loss, "gamma", 0.0)
    alpha = getattr(loss, "alpha", None)
    factor = 3 / 2 if getattr(loss, "hessian", "") == "friedman" else 2.0
    want_gradient, diagonal, bound = oracle(raw, y, gamma, alpha)
    np.testing.assert_allclose(gradient, want_gradient, rtol=1e-9, atol=ORACLE_ATOL)
    np.testing.assert_allclose(hess, expected_hessian(diagonal, bound, factor), rtol=1e-9)
    np.testing.assert_allclose(value, oracle_values(raw, y, gamma, alpha), rtol=1e-12)


def test_focal_bound_replaces_a_negative_exact_diagonal() -> None:
    """A badly misclassified row: the exact diagonal is negative, the Hessian is the
    re-weighted softmax curvature (times 2), strictly positive."""
    raw, y = np.array([[4.0, 0.0, -4.0]]), np.array([2.0])
    _, diagonal, bound = oracle(raw, y, gamma=2.0, alpha=None)
    assert diagonal[0, 2] < 0
    _, hess = Focal(gamma=2.0).gradient_hessian(y, raw)
    assert hess[0, 2] > 0
    np.testing.assert_allclose(hess[0, 2], 2 * bound[0, 2], rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(problem=problems(low=-50.0, high=50.0))
def test_focal_gamma_zero_equals_softmax_exactly(problem: Any) -> None:
    raw, y = problem
    for rows, labels in ((raw, y), extreme_rows()):
        focal, softmax = Focal(gamma=0.0), Softmax()
        mine_and_theirs = (
            focal.gradient_hessian(labels, rows),
            softmax.gradient_hessian(labels, rows),
        )
        for mine, theirs in zip(*mine_and_theirs, strict=True):
            np.testing.assert_array_equal(mine, theirs)
        np.testing.assert_array_equal(focal.value(labels, rows), softmax.value(labels, rows))
        np.testing.assert_array_equal(focal.transform(rows), softmax.transform(rows))


@settings(max_examples=30, deadline=None)
@given(problem=problems(low=-10.0, high=10.0))
def test_bound_hessian_majorizes_the_full_softmax_hessian(problem: Any) -> None:
    """2 diag(p(1-p)) - (diag(p) - p pᵀ) is positive semi-definite, row by row."""
    raw, y = problem
    _, hess = Softmax().gradient_hessian(y, raw)
    for p, h in zip(Softmax().transform(raw), hess, strict=True):
        full = np.diag(p) - np.outer(p, p)
        assert np.linalg.eigvalsh(np.diag(h) - full).min() >= -1e-12


def test_friedman_step_is_exact_newton_at_uniform_probabilities() -> None:
    for k in (3, 5):
        raw, y = np.zeros((k, k)), np.arange(k, dtype=float)
        gradient, hess = Softmax(hessian="friedman").gradient_hessian(y, raw)
        full = np.eye(k) / k - np.ones((k, k)) / k**2  # diag(p) - p pᵀ at p = 1/K
        for g, h in zip(gradient, hess, strict=True):
            np.testing.assert_allclose(full @ (g / h), g, rtol=1e-12)


def test_weights_broadcast_over_classes() -> None:
    rng = np.random.default_rng(0)
    raw, y, w = rng.normal(size=(6, 4)), rng.integers(0, 4, 6), rng.uniform(0, 3, 6)
    loss = Focal(gamma=1.5, alpha=[1, 2, 3, 4])
    gradient, hess = loss.gradient_hessian(y, raw)
    weighted_gradient, weighted_hess = loss.gradient_hessian(y, raw, w)
    np.testing.assert_allclose(weighted_gradient, gradient * w[:, None], rtol=1e-15)
    np.testing.assert_allclose(weighted_hess, hess * w[:, None], rtol=1e-15)
    per_row = loss.value(y, raw)
    assert loss.mean_loss(y, raw, w) == pytest.approx(np.sum(per_row * w) / np.sum(w))


# ---------------------------------------------------------------- init, transform
def test_softmax_init_score_is_centred_log_prior() -> None:
    rng = np.random.default_rng(1)
    y = rng.choice(3, size=500, p=[0.9, 0.08, 0.02])
    w = rng.uniform(0.5, 2.0, y.size)
    init = Softmax().init_score(y, w)
    assert init.dtype == np.float64 and init.shape == (3,)
    assert init.sum() == pytest.approx(0.0, abs=1e-12)
    prior = np.bincount(y, weights=w) / w.sum()
    np.testing.assert_allclose(Softmax().transform(init[None, :])[0], prior, rtol=1e-12)


@pytest.mark.parametrize("loss", [Focal(gamma=2.0), Focal(gamma=1.0, alpha=[0.2, 2.0, 8.0])])
def test_focal_init_score_minimizes_the_mean_loss(loss: Focal) -> None:
    rng = np.random.default_rng(2)
    y = rng.choice(3, size=400, p=[0.9, 0.08, 0.02])
    w = rng.uniform(0.5, 2.0, y.size)
    init = loss.init_score(y, w)
    assert init.shape == (3,) and init.sum() == pytest.approx(0.0, abs=1e-12)
    raw = np.tile(init, (y.size, 1))
    # stationary: the weighted mean gradient vanishes ...
    gradient, _ = loss.gradient_hessian(y, raw, w)
    np.testing.assert_allclose(gradient.sum(axis=0) / w.sum(), 0.0, atol=1e-7)
    # ... at a minimum: no nearby constant does better
    best = loss.mean_loss(y, raw, w)
    for step in rng.normal(scale=0.05, size=(20, 3)):
        assert loss.mean_loss(y, raw + step, w) >= best - 1e-12
    # and γ = 0 gives the cross-entropy's log-priors
    np.testing.assert_allclose(Focal(gamma=0.0).init_score(y, w), Softmax().init_score(y, w))


@pytest.mark.parametrize("loss", [Softmax(), Focal(gamma=2.0, alpha=[1.0, 2.0, 3.0])])
def test_init_score_with_a_class_missing_from_the_labels(loss: Any) -> None:
    y = np.array([0, 0, 0, 1, 1])
    init = loss.init_score(y, n_classes=3)
    assert init.shape == (3,) and np.all(np.isfinite(init))
    probability = loss.transform(init[None, :])[0]
    assert probability[2] < 1e-13
    with pytest.raises(ValueError, match="integer class labels"):
        loss.init_score(y, n_classes=1)


def test_focal_init_score_stays_binary_for_binary_labels() -> None:
    y = np.array([0, 1, 1, 0, 1])
    init = Focal().init_score(y)
    assert isinstance(init, float)
    assert Focal().init_score(y, n_classes=2).shape == (2,)


def test_transform_is_the_softmax() -> None:
    raw, _ = extreme_rows(4)
    probability = Softmax().transform(raw)
    with mpmath.workdps(30):
        for row, p in zip(raw, probability, strict=True):
            total = mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in row)
            want = [float(mpmath.exp(mpmath.mpf(v)) / total) for v in row]
            np.testing.assert_allclose(p, want, rtol=1e-14)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.parametrize("loss", [Softmax(), Focal(gamma=1.0, alpha=[1.0, 2.0, 3.0])])
def test_array_api_namespace(loss: Any) -> None:
    """The kernels use only the array API standard: array-api-strict gives NumPy's results."""
    raw, y = extreme_rows()
    raw = raw + np.random.default_rng(3).normal(size=raw.shape)
    weight = np.linspace(0.5, 2.0, len(y))
    xp = array_api_strict
    mine = loss.gradient_hessian(xp.asarray(y), xp.asarray(raw), xp.asarray(weight))
    for strict, reference in zip(mine, loss.gradient_hessian(y, raw, weight), strict=True):
        np.testing.assert_allclose(np.asarray(strict), reference, rtol=1e-14)
    np.testing.assert_allclose(
        np.asarray(loss.transform(xp.asarray(raw))), loss.transform(raw), rtol=1e-14
    )


# --------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("loss", "y", "raw", "match"),
    [
        (Softmax(), [0, 1, 3], np.zeros((3, 3)), r"integer class labels in \[0, 3\)"),
        (Softmax(), [0, 1, -1], np.zeros((3, 3)), "integer class labels"),
        (Softmax(), [0, 1.5, 2], np.zeros((3, 3)), "integer class labels"),
        (Softmax(), [0, np.nan, 2], np.zeros((3, 3)), "NaN"),
        (Softmax(), np.eye(3), np.zeros((3, 3)), r"shape \(n, K\)"),
        (Softmax(), [0, 1, 0], np.zeros(3), r"shape \(n, K\)"),
        (Focal(alpha=0.25), [0, 1, 2], np.zeros((3, 3)), "vector of 3 class weights"),
        (Focal(alpha=[1, 2]), [0, 1, 2], np.zeros((3, 3)), "vector of 3 class weights"),
        (Focal(alpha=[1, 2, 3]), [0, 1, 0], np.zeros(3), "float in"),
        (Focal(), [0, 1, 2], np.zeros(3), "only the labels 0 and 1"),
    ],
)
def test_invalid_labels_and_shapes_raise(loss: Any, y: Any, raw: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        loss.gradient_hessian(np.asarray(y, dtype=float), raw)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Focal(alpha=[1, -1, 2]),
        lambda: Focal(alpha=[[1, 2]]),
        lambda: Focal(alpha=[1, np.inf]),
        lambda: Softmax(hessian="exact"),
    ],
)
def test_invalid_parameters_raise(make: Any) -> None:
    with pytest.raises(ValueError):
        make()


def test_init_score_validation() -> None:
    with pytest.raises(ValueError, match="single class"):
        Softmax().init_score([2, 2, 2], n_classes=3)
    with pytest.raises(ValueError, match="integer"):
        Softmax().init_score([0, 1, 2], n_classes=3.0)
    with pytest.raises(ValueError, match=r"integer class labels in \[0, 2\)"):
        Focal().init_score([0, 1, 2], n_classes=2)
    with pytest.raises(ValueError):
        Softmax().transform(np.zeros(3))


def test_pickle_repr_equality() -> None:
    loss = Focal(gamma=1.5, alpha=[1, 5, 20])
    assert repr(loss) == "Focal(gamma=1.5, alpha=(1.0, 5.0, 20.0))"
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss and hash(clone) == hash(loss)
    assert loss != Focal(gamma=1.5, alpha=[1, 5, 21]) and loss != Focal(gamma=1.5)
    assert Softmax() == Softmax("bound") != Softmax("friedman")
    assert Softmax.supports_multiclass and Focal.supports_multiclass


# ------------------------------------------------------------ training, both libraries
@pytest.fixture(scope="module")
def imbalanced() -> tuple[np.ndarray, ...]:
    """Three classes, about 90/8/2%: train and test halves."""
    X, y = make_classification(
        4000,
        12,
        n_informative=6,
        n_classes=3,
        weights=[0.9, 0.08, 0.02],
        class_sep=1.0,
        flip_y=0.01,
        random_state=7,
    )
    return tuple(train_test_split(X, y, test_size=0.5, random_state=0, stratify=y))


def tiled(init: np.ndarray, n: int) -> np.ndarray:
    return np.tile(init, (n, 1))


def fit_raw(convention: str, loss: Any, X: np.ndarray, y: np.ndarray, X_test: np.ndarray) -> Any:
    """Train with one of the four calling conventions (started at ``init_score``); return
    the raw (n_test, K) margins on the test set."""
    init, k = loss.init_score(y), int(y.max()) + 1
    rounds = 40
    if convention == "XGBClassifier":
        model = xgb.XGBClassifier(objective=loss, n_estimators=rounds, max_depth=3, n_jobs=1)
        model.fit(X, y, base_margin=tiled(init, len(y)))
        return model.predict(X_test, output_margin=True, base_margin=tiled(init, len(X_test)))
    if convention == "xgb.train":
        train = xgb.DMatrix(X, y, base_margin=tiled(init, len(y)))
        params = {"num_class": k, "max_depth": 3, "nthread": 1}
        booster = xgb.train(params, train, rounds, obj=loss)
        test = xgb.DMatrix(X_test, base_margin=tiled(init, len(X_test)))
        return booster.predict(test, output_margin=True)
    if convention == "LGBMClassifier":
        model = lgb.LGBMClassifier(
            objective=loss, n_estimators=rounds, num_leaves=8, n_jobs=1, verbose=-1
        )
        model.fit(X, y, init_score=tiled(init, len(y)))
        return model.predict(X_test, raw_score=True) + init
    params = {"objective": loss, "num_class": k, "num_leaves": 8, "num_threads": 1}
    train = lgb.Dataset(X, y, init_score=tiled(init, len(y)), params={"verbose": -1})
    booster = lgb.train({**params, "verbose": -1}, train, rounds)
    return booster.predict(X_test, raw_score=True) + init


CONVENTIONS = ["XGBClassifier", "xgb.train", "LGBMClassifier", "lgb.train"]


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("loss", [Softmax(), Focal(gamma=2.0, alpha=[1.0, 4.0, 8.0])])
def test_both_libraries_train_on_imbalanced_three_classes(
    imbalanced: Any, convention: str, loss: Any
) -> None:
    X, X_test, y, y_test = imbalanced
    raw = fit_raw(convention, loss, X, y, X_test)
    assert raw.shape == (len(y_test), 3) and np.all(np.isfinite(raw))
    probability = loss.transform(raw)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0, rtol=1e-6)
    # better than the constant start on held-out data, in the loss and in ranking
    start = tiled(loss.init_score(y), len(y_test))
    assert loss.mean_loss(y_test, raw) < 0.8 * loss.mean_loss(y_test, start)
    for c, prevalence in enumerate(np.bincount(y_test) / len(y_test)):
        # a quarter of the way or more from a chance ranking (AP = prevalence) to a perfect one
        skill = average_precision_score(y_test == c, probability[:, c]) - prevalence
        assert skill > 0.25 * (1 - prevalence)


def test_softmax_reproduces_the_builtin_objectives(imbalanced: Any) -> None:
    """Same data, same hyperparameters: XGBoost's multi:softprob against Softmax() (both
    use 2 p(1-p)), LightGBM's multiclass against Softmax("friedman") (K/(K-1) p(1-p))."""
    X, X_test, y, y_test = imbalanced
    init = Softmax().init_score(y)
    xgb_params = {"num_class": 3, "max_depth": 3, "eta": 0.1, "nthread": 1}
    builtin = xgb.train({**xgb_params, "objective": "multi:softprob"}, xgb.DMatrix(X, y), 60)
    custom = xgb.train(
        xgb_params, xgb.DMatrix(X, y, base_margin=tiled(init, len(y))), 60, obj=Softmax()
    )
    test = xgb.DMatrix(X_test, base_margin=tiled(init, len(X_test)))
    want = log_loss(y_test, builtin.predict(xgb.DMatrix(X_test)))
    got = log_loss(y_test, Softmax().transform(custom.predict(test, output_margin=True)))
    assert got == pytest.approx(want, rel=0.01)

    lgb_params = {"num_class": 3, "num_leaves": 8, "num_threads": 1, "verbose": -1}
    builtin = lgb.train({**lgb_params, "objective": "multiclass"}, lgb.Dataset(X, y), 60)
    friedman = Softmax(hessian="friedman")
    custom = lgb.train(
        {**lgb_params, "objective": friedman},
        lgb.Dataset(X, y, init_score=tiled(init, len(y))),
        60,
    )
    want = log_loss(y_test, builtin.predict(X_test))
    got = log_loss(y_test, friedman.transform(custom.predict(X_test, raw_score=True) + init))
    assert got == pytest.approx(want, rel=0.01)


def test_eval_metrics_report_the_multiclass_log_loss(imbalanced: Any) -> None:
    X, X_test, y, y_test = imbalanced
    loss = Softmax()
    init = loss.init_score(y)
    train = xgb.DMatrix(X, y, base_margin=tiled(init, len(y)))
    test = xgb.DMatrix(X_test, y_test, base_margin=tiled(init, len(y_test)))
    history: dict[str, Any] = {}
    booster = xgb.train(
        {"num_class": 3, "max_depth": 3, "nthread": 1, "disable_default_eval_metric": 1},
        train,
        10,
        obj=loss,
        custom_metric=loss.xgb_metric,
        evals=[(test, "test")],
        evals_result=history,
        verbose_eval=False,
    )
    want = log_loss(y_test, loss.transform(booster.predict(test, output_margin=True)))
    assert history["test"]["softmax"][-1] == pytest.approx(want, rel=1e-5)

    valid = lgb.Dataset(X_test, y_test, init_score=tiled(init, len(y_test)))
    history = {}
    booster = lgb.train(
        {"objective": loss, "num_class": 3, "num_threads": 1, "verbose": -1, "metric": "None"},
        lgb.Dataset(X, y, init_score=tiled(init, len(y))),
        10,
        valid_sets=[valid],
        valid_names=["test"],
        feval=loss.lgb_metric,
        callbacks=[lgb.record_evaluation(history)],
    )
    want = log_loss(y_test, loss.transform(booster.predict(X_test, raw_score=True) + init))
    assert history["test"]["softmax"][-1] == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("loss", ["softmax", Focal(gamma=2.0, alpha=[1.0, 4.0, 8.0])])
def test_boost_classifier_with_arbitrary_labels(imbalanced: Any, backend: str, loss: Any) -> None:
    from boostobj.estimators import BoostClassifier

    X, X_test, y, y_test = imbalanced
    names = np.array(["ok", "chargeback", "account-takeover"])  # sorted: a-t, chargeback, ok
    threads = {"xgboost": {"nthread": 1}, "lightgbm": {"num_threads": 1}}[backend]
    model = BoostClassifier(loss=loss, backend=backend, n_estimators=40, random_state=0, **threads)
    model.fit(X, names[y])
    np.testing.assert_array_equal(model.classes_, np.sort(names))
    probability = model.predict_proba(X_test)
    assert probability.shape == (len(y_test), 3)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0, rtol=1e-12)
    assert set(model.predict(X_test)) <= set(names)
    prior = np.bincount(np.searchsorted(model.classes_, names[y]), minlength=3) / len(y)
    truth = names[y_test]
    assert log_loss(truth, probability, labels=model.classes_) < 0.8 * log_loss(
        truth, np.tile(prior, (len(y_test), 1)), labels=model.classes_
    )
