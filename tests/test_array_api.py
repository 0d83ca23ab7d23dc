"""The losses are written once against the array namespace of their inputs.

``array-api-strict`` implements the array API standard and nothing more: a NumPy-only
call anywhere in a loss's ``gradient_hessian``, ``value``, ``mean_loss``, ``transform`` or
in the objective adapter raises there, so this CPU test guards the CuPy path without a
GPU. Its results must equal NumPy's.

The NumPy fast paths are checked here too: evaluation in blocks of rows equals
evaluation on whole arrays, and the objective's reusable float32 output arrays are never
handed out while someone still holds them.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from conftest import N_CLASSES, handed_to_library, loss_arrays

import boostobj.base
from boostobj import Focal, Loss, Softmax
from boostobj.adapters import LIBRARY_DTYPE

xp = pytest.importorskip("array_api_strict")

STRICT_ARRAY = type(xp.asarray(0.0))

#: The multiclass configurations, on (rows, N_CLASSES) logits.
MULTICLASS_LOSSES = [Softmax(), Softmax(hessian="friedman"), Focal(), Focal(alpha=[1, 2, 3])]


def _assert_same(strict_result: object, numpy_result: np.ndarray, dtype: type) -> None:
    """A strict array equal to the NumPy result: same dtype, values to a few ulps (NumPy's
    vectorized transcendental functions may differ in the last bit between array sizes)."""
    assert isinstance(strict_result, STRICT_ARRAY)
    got = np.asarray(strict_result)
    assert got.dtype == numpy_result.dtype == dtype
    np.testing.assert_allclose(got, numpy_result, rtol=16 * np.finfo(dtype).eps, atol=0)


def _check_against_numpy(loss: Loss, dtype: type[np.floating], multiclass: bool) -> None:
    y, raw, weight = loss_arrays(loss, dtype, multiclass)
    strict_inputs = [xp.asarray(array) for array in (y, raw, weight)]
    for strict_result, numpy_result in [
        *zip(
            loss.gradient_hessian(*strict_inputs),
            loss.gradient_hessian(y, raw, weight),
            strict=True,
        ),
        *zip(loss.gradient_hessian(*strict_inputs[:2]), loss.gradient_hessian(y, raw), strict=True),
        (loss.value(*strict_inputs[:2]), loss.value(y, raw)),
        (loss.transform(strict_inputs[1]), loss.transform(raw)),
    ]:
        _assert_same(strict_result, numpy_result, dtype)
    assert loss.mean_loss(*strict_inputs) == pytest.approx(
        loss.mean_loss(y, raw, weight), rel=1e-12
    )
    # The objective adapter, called as LightGBM and as XGBoost call it: strict in, strict
    # out, in the prediction's dtype.
    for library, called in [
        ("lightgbm", loss(*strict_inputs, None)),
        ("xgboost", loss(*strict_inputs[:2], sample_weight=strict_inputs[2])),
    ]:
        *expected, _ = handed_to_library(loss, y, raw, weight, library)
        for strict_result, numpy_result in zip(called, expected, strict=True):
            _assert_same(strict_result, numpy_result.astype(dtype), dtype)


def test_every_loss_runs_on_the_array_api_alone(loss: Loss, dtype: type[np.floating]) -> None:
    _check_against_numpy(loss, dtype, multiclass=False)


@pytest.mark.parametrize("loss", MULTICLASS_LOSSES, ids=repr)
def test_multiclass_losses_run_on_the_array_api_alone(loss: Loss, dtype: type[np.floating]) -> None:
    _check_against_numpy(loss, dtype, multiclass=True)


def test_invalid_labels_raise_on_the_array_api() -> None:
    loss = boostobj.Logistic()
    raw = xp.zeros(4, dtype=xp.float64)
    with pytest.raises(ValueError, match="only the labels 0 and 1"):
        loss.gradient_hessian(xp.asarray([0.0, 1.0, 2.0, 1.0]), raw)
    with pytest.raises(ValueError, match="NaN or infinite"):
        loss.gradient_hessian(xp.asarray([0.0, 1.0, xp.nan, 1.0]), raw)


# ------------------------------------------------------------ NumPy fast paths
@pytest.mark.parametrize("multiclass", [False, True], ids=["1d", "2d"])
def test_blocks_of_rows_equal_whole_arrays(
    loss: Loss, dtype: type[np.floating], multiclass: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small blocks (the last one partial) give the results of a single block, and
    invalid labels or weights in any block still raise."""
    if multiclass:
        loss = Softmax()
    y, raw, weight = loss_arrays(loss, dtype, multiclass)
    monkeypatch.setattr(boostobj.base, "BLOCK_BYTES", 10**12)
    whole = [*loss.gradient_hessian(y, raw, weight), loss.value(y, raw)]
    whole_mean = loss.mean_loss(y, raw, weight)
    monkeypatch.setattr(boostobj.base, "BLOCK_BYTES", 7 * raw.itemsize * N_CLASSES)
    blocked = [*loss.gradient_hessian(y, raw, weight), loss.value(y, raw)]
    for got, want in zip(blocked, whole, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=16 * np.finfo(dtype).eps, atol=0)
    assert loss.mean_loss(y, raw, weight) == pytest.approx(whole_mean, rel=1e-12)
    bad_weight = weight.copy()
    bad_weight[-1] = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        loss.gradient_hessian(y, raw, bad_weight)
    bad_y = y.copy()
    bad_y[-1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        loss.gradient_hessian(bad_y, raw)


def test_objective_reuses_float32_outputs_only_when_released(loss: Loss) -> None:
    """The adapter hands the libraries float32 arrays (what both store) and writes the
    next call into the same arrays, unless the caller still holds them."""
    loss = copy.deepcopy(loss)  # a fresh object: no outputs kept from other tests
    y, raw, _ = loss_arrays(loss, np.float64, multiclass=False)
    gradient, hessian = loss(y, raw)  # as XGBoost's scikit-learn API calls it
    assert gradient.dtype == hessian.dtype == LIBRARY_DTYPE
    *expected, _ = handed_to_library(loss, y, raw, None, "xgboost")
    for got, want in zip((gradient, hessian), expected, strict=True):
        np.testing.assert_allclose(got, want.astype(LIBRARY_DTYPE), rtol=1e-6)
    kept = gradient.copy()
    second_gradient, second_hessian = loss(y, raw + 1)  # first pair still held: new arrays
    assert second_gradient is not gradient and second_hessian is not hessian
    np.testing.assert_array_equal(gradient, kept)
    view = second_gradient[::2]  # a view holds its base
    del gradient, hessian, second_gradient, second_hessian
    third_gradient, _ = loss(y, raw)
    assert third_gradient.base is not view.base and third_gradient is not view.base
    address = third_gradient.ctypes.data
    del third_gradient, _
    fourth_gradient, _ = loss(y, raw)  # released: the same memory again
    assert fourth_gradient.ctypes.data == address


def test_multiclass_outputs_are_column_major_whatever_the_prediction_layout() -> None:
    """LightGBM hands multiclass predictions as a Fortran-ordered (n, K) view and ravels
    the gradient in Fortran order; XGBoost hands C-ordered ones and reads strided arrays.
    The kernels compute column-major blocks: the outputs are column-major for both (no
    copy for LightGBM) and hold the same numbers."""
    loss = Softmax()
    y, raw, _ = loss_arrays(loss, np.float64, multiclass=True)
    results = [loss(y, layout) for layout in (np.asfortranarray(raw), np.ascontiguousarray(raw))]
    for gradient, hessian in results:
        assert gradient.flags.f_contiguous and hessian.flags.f_contiguous
    for got, want in zip(results[1], loss.gradient_hessian(y, raw), strict=True):
        np.testing.assert_allclose(got, want.astype(LIBRARY_DTYPE), rtol=1e-6)
    np.testing.assert_array_equal(results[0][0], results[1][0])


def test_kept_outputs_are_not_state() -> None:
    """Pickles, copies and equality ignore the outputs kept for reuse."""
    loss = Softmax(hessian="friedman")
    y, raw, _ = loss_arrays(loss, np.float32, multiclass=True)
    loss(y, raw)
    for clone in (pickle.loads(pickle.dumps(loss)), copy.deepcopy(loss), copy.copy(loss)):
        assert clone == loss
        assert vars(clone) == {"hessian": "friedman"}
