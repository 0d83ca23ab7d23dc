"""XGBoost on a CUDA GPU: boostobj objectives against the built-ins, 1-10 million rows.

Needs a CUDA GPU, ``cupy`` (``pip install cupy-cuda12x``) and XGBoost's CUDA build (the
PyPI wheel on Linux x86_64). The setup of ``bench_training_speed`` (float32 features,
depth 6, 100 rounds, every model started from the loss's ``init_score``), with
``device="cuda", tree_method="hist"``. Variants, timed interleaved, ``--repeats`` times:

- ``built-in``: XGBoost's own objective on the GPU;
- ``host``: the loss object as the objective. XGBoost hands it the predictions as a host
  NumPy array even on the GPU; the loss computes on the CPU and returns float32 NumPy
  arrays, which XGBoost copies to the GPU;
- ``device``: the same loss on CuPy arrays: the predictions are copied to the GPU (the
  labels once, before training), the loss runs there and returns CuPy arrays, which
  XGBoost reads in place (``__cuda_array_interface__``). This shows whether returning
  device arrays saves time: one host-to-device copy of n floats instead of two, and the
  arithmetic on the GPU.

A second table times ``gradient_hessian`` alone on CuPy arrays against a device copy of
the same bytes (the GPU's memory-bandwidth floor). Rerun on a GPU machine:

    python benchmarks/bench_gpu.py                        # 1M, 3M, 10M rows
    python benchmarks/bench_gpu.py --rows 1000000 --repeats 3 --losses squared_error
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
from bench_training_speed import (
    DEFAULT_LOSSES,
    LOSS_CASES,
    Trainer,
    case_data,
    environment,
    summarize,
)

from boostobj import Loss


class DeviceObjective:
    """The loss evaluated on the GPU: labels copied there once, predictions every round;
    returns CuPy gradient and Hessian, scaled for XGBoost by the loss's adapter (called as
    XGBoost's scikit-learn API calls it: ``(y_true, y_pred)``)."""

    def __init__(self, loss: Loss, labels: Any) -> None:
        import cupy

        self.cupy = cupy
        self.loss = loss
        self.labels = cupy.asarray(labels)

    def __call__(self, predictions: Any, dtrain: Any) -> tuple[Any, Any]:
        return self.loss(self.labels, self.cupy.asarray(predictions))


def synchronized(function: Any, *args: Any) -> tuple[float, Any]:
    """Seconds for ``function(*args)``, the GPU's queued work included, and its result."""
    import cupy

    cupy.cuda.Device().synchronize()
    start = time.perf_counter()
    result = function(*args)
    cupy.cuda.Device().synchronize()
    return time.perf_counter() - start, result


def training_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Training time per (rows, loss, variant), interleaved repetitions."""
    rows_out = []
    for rows in args.rows:
        for name in args.losses:
            case = LOSS_CASES[name]
            X, y = case_data(case, rows, args.features)
            init = float(case.loss.init_score(y))
            trainer = Trainer("xgboost", "train", X, y, init, args.rounds, args.threads, "cuda")
            variants = {
                "built-in": case.xgboost,
                "host": case.loss,
                "device": DeviceObjective(case.loss, y),
            }
            results: dict[str, dict[str, Any]] = {v: {"seconds": []} for v in variants}
            for objective in variants.values():
                trainer.fit(objective, rounds=1)  # warm-up: CUDA context, histogram index
            names = list(variants)
            for repeat in range(args.repeats):
                shift = repeat % len(names)
                for variant in names[shift:] + names[:shift]:
                    seconds, model = synchronized(trainer.fit, variants[variant])
                    results[variant]["seconds"].append(seconds)
                    if repeat == 0:
                        results[variant]["predictions"] = trainer.raw_predictions(model)
            for row in summarize(results):
                rows_out.append({"rows": rows, "loss": name, **row})
    return rows_out


def time_kernel(loss: Loss, y: Any, raw: Any, repeats: int) -> dict[str, float]:
    """Minimum ms of a device copy of prediction-sized bytes into two buffers and of
    ``gradient_hessian`` into the same buffers; median ms of the latter."""
    import cupy

    gradient, hessian = cupy.empty_like(raw), cupy.empty_like(raw)

    def copy_floor() -> None:
        cupy.copyto(gradient, raw)
        cupy.copyto(hessian, raw)

    def call() -> None:
        loss.gradient_hessian(y, raw, gradient_out=gradient, hessian_out=hessian)

    copy_floor(), call()  # warm-up: kernel compilation
    copies = [synchronized(copy_floor)[0] for _ in range(repeats)]
    calls = [synchronized(call)[0] for _ in range(repeats)]
    return {
        "copy_ms": 1e3 * min(copies),
        "call_ms": 1e3 * min(calls),
        "call_median_ms": 1e3 * statistics.median(calls),
    }


def kernel_rows(rows: int, repeats: int) -> list[dict[str, Any]]:
    """``gradient_hessian`` on CuPy arrays against a device copy of the same bytes."""
    import cupy
    from bench_kernels import default_losses, make_inputs

    results = []
    for dtype in (np.float32, np.float64):
        for loss in default_losses():
            y, raw = (cupy.asarray(a) for a in make_inputs(loss, rows, dtype))
            timing = time_kernel(loss, y, raw, repeats)
            results.append({"loss": repr(loss), "dtype": np.dtype(dtype).name, **timing})
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (host objective)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--losses", nargs="+", choices=DEFAULT_LOSSES, default=DEFAULT_LOSSES)
    parser.add_argument("--kernel-rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    import cupy

    print(environment())
    print(f"GPU: {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    print(f"rounds={args.rounds} features={args.features} repeats={args.repeats}\n")
    print("| rows | loss | variant | min (s) | median (s) | ratio (min) | max |Δ| |")
    print("|---:|---|---|---:|---:|---:|---:|")
    for r in training_rows(args):
        print(
            f"| {r['rows']:,} | {r['loss']} | {r['variant']} | {r['min_s']:.2f} "
            f"| {r['median_s']:.2f} | {r['ratio_min']:.3f} | {r['max_abs_difference']:.2g} |",
            flush=True,
        )
    print(f"\ngradient_hessian on CuPy arrays, {args.kernel_rows:,} rows\n")
    print("| loss | dtype | device copy floor (ms) | gradient_hessian (ms) | ratio |")
    print("|---|---|---:|---:|---:|")
    for r in kernel_rows(args.kernel_rows, max(args.repeats, 5)):
        print(
            f"| `{r['loss']}` | {r['dtype']} | {r['copy_ms']:.3f} | {r['call_ms']:.3f} "
            f"| {r['call_ms'] / r['copy_ms']:.1f} |"
        )


if __name__ == "__main__":
    main()
