"""Would fused Numba kernels pay? The speed issue's idea, measured before adopting it.

boostobj evaluates each loss as a chain of NumPy operations on blocks of rows (one
implementation, written against the array namespace, that also runs on CuPy). A Numba
kernel fuses the chain into one loop over the rows and, with ``parallel=True``, splits it
over the cores. This script writes such kernels for four losses — the same formulas as
boostobj's (checked: the outputs must agree to float32 precision before anything is
timed) — and measures:

1. one objective call at ``--rows`` rows, float32 and float64 predictions (what XGBoost
   and LightGBM pass), with reused float32 outputs, weighted and not: boostobj's
   objective, the Numba kernel on one thread and on all threads, and a NumPy copy of
   the same bytes (the memory-bandwidth floor);
2. end-to-end training through ``xgb.train`` / ``lgb.train`` (the setup of
   ``bench_training_speed.py``, squared error): the built-in objective, boostobj, and
   the parallel Numba objective.

Numba is not a dependency of boostobj; install it to rerun:

    pip install numba
    python benchmarks/bench_numba.py                 # 1,000,000 rows, a few minutes
    python benchmarks/bench_numba.py --rows 100000 --no-training
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from bench_kernels import make_inputs
from bench_training_speed import (
    LOSS_CASES,
    Trainer,
    environment,
    make_data,
    summarize,
    time_variants,
)

from boostobj import LogCosh, Logistic, Loss, Quantile, SquaredError
from boostobj.adapters import LIBRARY_DTYPE

QUANTILE_ALPHA = 0.9
#: A fixed ε for both sides: ``Quantile(epsilon=None)`` first takes ε from a pass over
#: the residuals, which a fused kernel would need as well; the kernels compared here are
#: the formulas of one round.
QUANTILE_EPSILON = 1.0


def fused(parallel: bool) -> dict[str, Callable[..., None]]:
    """Fused kernels ``kernel(raw, y, weight, gradient, hessian)`` (``weight`` may be an
    empty array: no weights), each the formula of the boostobj loss of the same name,
    with its ``newton_scale``."""
    jit = numba.njit(parallel=parallel, cache=False, fastmath=False)
    rows = numba.prange if parallel else range
    logcosh_scale = LogCosh.secant_newton_scale
    quantile_scale = Quantile.newton_scale
    alpha, epsilon = QUANTILE_ALPHA, QUANTILE_EPSILON
    floor = 1e-16  # boostobj.base.HESSIAN_FLOOR

    @jit
    def squared_error(raw, y, weight, gradient, hessian):  # type: ignore[no-untyped-def]
        weighted = weight.size > 0
        for i in rows(raw.size):
            w = weight[i] if weighted else 1.0
            gradient[i] = (raw[i] - y[i]) * w
            hessian[i] = w

    @jit
    def logcosh(raw, y, weight, gradient, hessian):  # type: ignore[no-untyped-def]
        weighted = weight.size > 0
        for i in rows(raw.size):
            w = (weight[i] if weighted else 1.0) * logcosh_scale
            u = raw[i] - y[i]  # scale 1
            slope = np.tanh(u)
            curvature = slope / u if u != 0 else 1.0
            gradient[i] = slope * w
            hessian[i] = max(curvature, floor) * w

    @jit
    def quantile(raw, y, weight, gradient, hessian):  # type: ignore[no-untyped-def]
        weighted = weight.size > 0
        for i in rows(raw.size):
            w = (weight[i] if weighted else 1.0) * quantile_scale
            r = y[i] - raw[i]
            slope = 1 - alpha if raw[i] > y[i] else -alpha
            gradient[i] = slope * w
            hessian[i] = (0.5 + abs(slope)) / (2 * (epsilon + abs(r))) * w

    @jit
    def logistic(raw, y, weight, gradient, hessian):  # type: ignore[no-untyped-def]
        weighted = weight.size > 0
        for i in rows(raw.size):
            w = weight[i] if weighted else 1.0
            e = np.exp(-abs(raw[i]))
            probability = np.exp(min(raw[i], 0.0)) / (1 + e)
            gradient[i] = (probability - y[i]) * w
            hessian[i] = max(e / ((1 + e) * (1 + e)), floor) * w

    return {
        "squared_error": squared_error,
        "logcosh": logcosh,
        "quantile": quantile,
        "logistic": logistic,
    }


LOSSES: dict[str, Loss] = {
    "squared_error": SquaredError(),
    "logcosh": LogCosh(),
    "quantile": Quantile(QUANTILE_ALPHA, epsilon=QUANTILE_EPSILON),
    "logistic": Logistic(),
}


def inputs(loss: Loss, rows: int, dtype: Any) -> tuple[Any, Any, Any]:
    """``bench_kernels``' predictions of ``dtype`` for ``loss``, its labels as float32 (as
    both libraries store them), and weights."""
    y, raw = make_inputs(loss, rows, dtype)
    weight = np.random.default_rng(1).uniform(0.5, 1.5, rows).astype(np.float32)
    return raw, y.astype(np.float32), weight


def best_ms(function: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Minimum and median milliseconds of ``repeats`` calls after one warm-up."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(1e3 * (time.perf_counter() - start))
    return min(times), statistics.median(times)


def time_case(
    loss: Loss,
    kernels: tuple[Callable[..., None], ...],
    raw: Any,
    y: Any,
    weights: Any,
    repeats: int,
) -> dict[str, float]:
    """Minimum ms of the copy floor, boostobj's objective and each kernel (1 thread, all
    threads) on one case, after checking the kernels' outputs against boostobj's."""
    rows = raw.size
    gradient, hessian = np.empty(rows, LIBRARY_DTYPE), np.empty(rows, LIBRARY_DTYPE)
    weight = np.empty(0, np.float32) if weights is None else weights
    want = [part.copy() for part in loss(y, raw, weights)]
    for kernel in kernels:
        kernel(raw, y, weight, gradient, hessian)
        for got, expected in zip((gradient, hessian), want, strict=True):
            # float32 outputs: relative 2e-6, and for the smallest values the float32
            # rounding of the largest (a difference of two rounded numbers)
            tolerance = 2e-7 * float(np.max(np.abs(expected)))
            np.testing.assert_allclose(got, expected, rtol=2e-6, atol=tolerance)
    copies = np.empty_like(raw), np.empty_like(raw)
    timings = {
        "floor": lambda: [np.copyto(copy, raw) for copy in copies],
        "boostobj": lambda: loss(y, raw, weights),
        **{
            f"kernel {k}": (lambda kernel=kernel: kernel(raw, y, weight, gradient, hessian))
            for k, kernel in enumerate(kernels)
        },
    }
    return {name: best_ms(function, repeats)[0] for name, function in timings.items()}


def kernel_rows(rows: int, repeats: int) -> None:
    """Table 1: one objective call per variant, interleaved by case."""
    serial, parallel = fused(parallel=False), fused(parallel=True)
    print(
        f"\n| loss | predictions | weighted | copy floor | boostobj | Numba, 1 thread | "
        f"Numba, {numba.get_num_threads()} threads | boostobj / Numba parallel |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for name, loss in LOSSES.items():
        for dtype in (np.float32, np.float64):
            raw, y, weight = inputs(loss, rows, dtype)
            for weights in (None, weight):
                ms = time_case(loss, (serial[name], parallel[name]), raw, y, weights, repeats)
                print(
                    f"| {name} | {np.dtype(dtype).name} | {weights is not None} "
                    f"| {ms['floor']:.2f} | {ms['boostobj']:.2f} | {ms['kernel 0']:.2f} "
                    f"| {ms['kernel 1']:.2f} | {ms['boostobj'] / ms['kernel 1']:.1f} |",
                    flush=True,
                )


def numba_objective(kernel: Callable[..., None]) -> Callable[[Any, Any], Any]:
    """A training-API objective (``obj(preds, dataset)``) around a fused kernel."""
    buffers: dict[int, tuple[Any, Any]] = {}

    def objective(preds: Any, dataset: Any) -> tuple[Any, Any]:
        weight = dataset.get_weight()
        weight = np.empty(0, np.float32) if weight is None else weight
        if preds.size not in buffers:
            buffers[preds.size] = np.empty(preds.size, np.float32), np.empty(preds.size, np.float32)
        gradient, hessian = buffers[preds.size]
        kernel(preds, dataset.get_label(), weight, gradient, hessian)
        return gradient, hessian

    return objective


def training_rows(rows: int, repeats: int, rounds: int, threads: int) -> None:
    """Table 2: squared error end to end, built-in vs boostobj vs the Numba objective."""
    case = LOSS_CASES["squared_error"]
    X, y = make_data(rows, 20, binary=False)
    kernel = fused(parallel=True)["squared_error"]
    print("\n| library | variant | min (s) | median (s) | ratio (min) | max |Δ| vs built-in |")
    print("|---|---|---:|---:|---:|---:|")
    for library in ("xgboost", "lightgbm"):
        trainer = Trainer(library, "train", X, y, case.loss.init_score(y), rounds, threads)
        builtin = case.xgboost if library == "xgboost" else case.lightgbm
        variants = {"built-in": builtin, "boostobj": case.loss, "numba": numba_objective(kernel)}
        for row in summarize(time_variants(trainer, variants, repeats)):
            print(
                f"| {library} | {row['variant']} | {row['min_s']:.2f} | {row['median_s']:.2f} "
                f"| {row['ratio_min']:.3f} | {row['max_abs_difference']:.2g} |",
                flush=True,
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7, help="calls per kernel timing")
    parser.add_argument("--training-repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-training", action="store_true")
    args = parser.parse_args(argv)
    numba.set_num_threads(args.threads)
    print(environment(), f"· Numba {numba.__version__}, {numba.get_num_threads()} threads")
    print(f"rows={args.rows:,}; times in ms, minimum of {args.repeats} calls")
    kernel_rows(args.rows, args.repeats)
    if not args.no_training:
        training_rows(args.rows, args.training_repeats, args.rounds, args.threads)


if __name__ == "__main__":
    main()
