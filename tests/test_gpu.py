"""GPU tests: the losses on CuPy arrays, and training on a CUDA GPU.

Skipped unless CuPy imports and sees a CUDA device: the test suite never needs a GPU.
(``tests/test_array_api.py`` covers the namespace-generic code path on the CPU.) Run on a
GPU machine with ``pip install cupy-cuda12x`` and ``python -m pytest tests/test_gpu.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb
from conftest import loss_arrays

from boostobj import BoostClassifier, BoostRegressor, Loss, Softmax

cupy = pytest.importorskip("cupy")
try:
    _devices = cupy.cuda.runtime.getDeviceCount()
except cupy.cuda.runtime.CUDARuntimeError:  # driver present but no device, or none
    _devices = 0
if _devices == 0:
    pytest.skip("no CUDA device visible to CuPy", allow_module_level=True)


@pytest.mark.parametrize("multiclass", [False, True], ids=["binary-or-regression", "softmax"])
def test_losses_on_cupy_equal_numpy(loss: Loss, dtype: type, multiclass: bool) -> None:
    """Same formulas on the device: CuPy in, CuPy out, NumPy's values to a few ulps."""
    if multiclass:
        loss = Softmax()
    y, raw, weight = loss_arrays(loss, dtype, multiclass, rows=1000)
    on_device = [cupy.asarray(a) for a in (y, raw, weight)]
    pairs = [
        *zip(loss.gradient_hessian(*on_device), loss.gradient_hessian(y, raw, weight), strict=True),
        (loss.value(*on_device[:2]), loss.value(y, raw)),
        (loss.transform(on_device[1]), loss.transform(raw)),
    ]
    for got, want in pairs:
        assert isinstance(got, cupy.ndarray) and got.dtype == want.dtype == dtype
        np.testing.assert_allclose(cupy.asnumpy(got), want, rtol=64 * np.finfo(dtype).eps)
    gradient, hessian = loss(*on_device)  # the objective: device arrays, the input's dtype
    assert isinstance(gradient, cupy.ndarray) and gradient.dtype == dtype
    assert bool(cupy.all(hessian > 0))


def _regression_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5000, 5)).astype(np.float32)
    y = (5000 + 1000 * X[:, 0] + 300 * rng.standard_t(2, 5000)).astype(np.float32)
    return X, y


def test_xgboost_cuda_accepts_device_gradients(loss: Loss) -> None:
    """``xgb.train`` on the GPU with the loss returning CuPy arrays grows the same trees
    as with the loss returning NumPy arrays (XGBoost passes host predictions)."""
    if loss.binary_labels:
        X, y = _regression_data()
        y = (y > np.median(y)).astype(np.float32)
    else:
        X, y = _regression_data()
    margin = np.full(len(y), float(loss.init_score(y)), dtype=np.float32)
    data = xgb.DMatrix(X, label=y, base_margin=margin)
    labels_on_device = cupy.asarray(y)
    params = {"device": "cuda", "tree_method": "hist", "max_depth": 4}

    def device_objective(predictions: np.ndarray, dtrain: xgb.DMatrix) -> tuple:
        return loss(labels_on_device, cupy.asarray(predictions))

    host = xgb.train(params, data, 20, obj=loss).predict(data, output_margin=True)
    device = xgb.train(params, data, 20, obj=device_objective).predict(data, output_margin=True)
    np.testing.assert_allclose(device, host, rtol=1e-4, atol=1e-3 * np.std(y))


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_estimators_train_on_the_gpu(backend: str) -> None:
    """``device="cuda"`` trains on the GPU and predicts like the CPU model (histograms on
    the GPU may round differently: compared by error, not bit for bit). LightGBM's GPU
    learner is OpenCL: where its wheel has no OpenCL device, the estimator must say so."""
    from boostobj import GPUUnavailableError

    X, y = _regression_data()
    cpu = BoostRegressor(backend=backend, n_estimators=50, random_state=0).fit(X, y)
    try:
        gpu = BoostRegressor(backend=backend, n_estimators=50, device="cuda", random_state=0)
        gpu.fit(X, y)
    except GPUUnavailableError:
        if backend == "xgboost":
            raise
        pytest.skip("LightGBM's OpenCL GPU learner has no device here")
    cpu_error = np.mean(np.abs(cpu.predict(X) - y))
    gpu_error = np.mean(np.abs(gpu.predict(X) - y))
    assert gpu_error == pytest.approx(cpu_error, rel=0.05)
    labels = (y > np.median(y)).astype(int)
    classifier = BoostClassifier(backend=backend, n_estimators=20, device="cuda").fit(X, labels)
    np.testing.assert_allclose(classifier.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)
