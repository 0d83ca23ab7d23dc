"""Time ``gradient_hessian`` of every loss against the memory-bandwidth floor.

One call at 1,000,000 rows (``--rows``), float32 and float64, next to ``numpy.copyto`` of
the same bytes: the prediction copied into the gradient and the Hessian buffers reads and
writes as much memory as the call must (prediction and labels in, gradient and Hessian
out). Variants, timed interleaved (every variant of every case once per repetition) and
reported as the minimum and median over ``--repeats`` repetitions:

- ``out``: ``gradient_hessian(y, raw, gradient_out=g, hessian_out=h)``, buffers reused
  and laid out as the objective hands them to the libraries (column-major for (n, K)
  logits, ``boostobj.adapters.output_buffers``): the steady state of a training run;
- ``fresh``: ``gradient_hessian(y, raw)``, new output arrays each call;
- ``whole``: like ``out`` but evaluated on whole arrays instead of blocks of rows
  (``boostobj.base.BLOCK_BYTES`` set above the array size): what blocking saves;
- ``xgboost`` / ``lightgbm``: the objective called as each library's scikit-learn API
  calls it, ``loss(y, raw)`` / ``loss(y, raw, None, None)``: float32 outputs reused from
  call to call, times ``newton_scale``, or for XGBoost and the losses with
  ``xgboost_unit_rows`` normalized by the mean Hessian (one more sum and scaling).

Multiclass losses (Softmax) run on (rows, 3) row-major logits, as XGBoost passes them
(LightGBM's are column-major). Rerun:

    python benchmarks/bench_kernels.py            # about a minute on 2 cores
    python benchmarks/bench_kernels.py --rows 100000 --repeats 3 --json kernels.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np

import boostobj
import boostobj.base
from boostobj import Loss

#: Columns of the multiclass losses' logits.
N_CLASSES = 3


def default_losses() -> list[Loss]:
    """One instance of every registered loss, default parameters."""
    return [cls() for cls in Loss.registry.values()]


def make_inputs(loss: Loss, rows: int, dtype: Any, seed: int = 0) -> tuple[Any, Any]:
    """Labels and raw predictions of ``dtype`` that suit ``loss``."""
    rng = np.random.default_rng(seed)
    if loss.supports_multiclass and not loss.binary_labels:
        raw = rng.normal(0.0, 2.0, size=(rows, N_CLASSES))
        y = rng.integers(0, N_CLASSES, size=rows)
    else:
        raw = rng.normal(0.0, 2.0, size=rows)
        if loss.binary_labels:
            y = rng.random(rows) < 1 / (1 + np.exp(-raw))
        else:
            y = raw + rng.standard_normal(rows)
    return y.astype(dtype), raw.astype(dtype)


@contextmanager
def whole_arrays() -> Any:
    """Evaluate losses on whole arrays (one block) inside the ``with``."""
    saved = boostobj.base.BLOCK_BYTES
    boostobj.base.BLOCK_BYTES = sys.maxsize
    try:
        yield
    finally:
        boostobj.base.BLOCK_BYTES = saved


def variants(loss: Loss, y: Any, raw: Any) -> dict[str, Callable[[], Any]]:
    """The timed calls of one case, by variant name."""
    copies = np.empty_like(raw), np.empty_like(raw)
    layout = "F" if raw.ndim == 2 else "C"
    gradient, hessian = np.empty_like(raw, order=layout), np.empty_like(raw, order=layout)

    def copy_floor() -> None:
        for copy in copies:
            np.copyto(copy, raw)

    def out() -> Any:
        return loss.gradient_hessian(y, raw, gradient_out=gradient, hessian_out=hessian)

    def whole() -> Any:
        with whole_arrays():
            return out()

    return {
        "copy": copy_floor,
        "out": out,
        "fresh": lambda: loss.gradient_hessian(y, raw),
        "whole": whole,
        "xgboost": lambda: loss(y, raw),
        "lightgbm": lambda: loss(y, raw, None, None),
    }


def measure(rows: int, repeats: int, losses: list[Loss]) -> list[dict[str, Any]]:
    """Times in ms per (loss, dtype) case and variant: min and median of ``repeats``."""
    cases = []
    for dtype in (np.float32, np.float64):
        for loss in losses:
            y, raw = make_inputs(loss, rows, dtype)
            calls = variants(loss, y, raw)
            for call in calls.values():  # warm up: first-touch page faults, imports
                call()
            cases.append({"loss": loss, "dtype": np.dtype(dtype).name, "calls": calls})
    samples: dict[tuple[int, str], list[float]] = {}
    for _ in range(repeats):
        for index, case in enumerate(cases):
            for name, call in case["calls"].items():
                start = time.perf_counter()
                call()
                samples.setdefault((index, name), []).append(time.perf_counter() - start)
    results = []
    for index, case in enumerate(cases):
        row: dict[str, Any] = {"loss": repr(case["loss"]), "dtype": case["dtype"]}
        for name in case["calls"]:
            times = samples[(index, name)]
            row[f"{name}_min_ms"] = 1e3 * min(times)
            row[f"{name}_median_ms"] = 1e3 * statistics.median(times)
        row["out_over_copy"] = row["out_min_ms"] / row["copy_min_ms"]
        row["whole_over_out"] = row["whole_min_ms"] / row["out_min_ms"]
        results.append(row)
    return results


def markdown_table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table (minimum times)."""
    lines = [
        "| loss | dtype | copy floor (ms) | gradient_hessian, reused outputs (ms) | ratio to "
        "floor | new outputs (ms) | whole arrays, no blocks (ms) | whole / blocked | "
        "objective as XGBoost calls it (ms) | as LightGBM (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| `{r['loss']}` | {r['dtype']} | {r['copy_min_ms']:.2f} | {r['out_min_ms']:.2f} "
            f"| {r['out_over_copy']:.1f} | {r['fresh_min_ms']:.2f} | {r['whole_min_ms']:.2f} "
            f"| {r['whole_over_out']:.1f} | {r['xgboost_min_ms']:.2f} "
            f"| {r['lightgbm_min_ms']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--losses", nargs="*", help="loss names (default: all)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    losses = default_losses()
    if args.losses:
        losses = [loss for loss in losses if loss.name in args.losses]
    results = measure(args.rows, args.repeats, losses)
    print(
        f"rows={args.rows} repeats={args.repeats} boostobj {boostobj.__version__} numpy "
        f"{np.__version__} python {platform.python_version()} {platform.machine()} "
        f"{platform.processor() or ''} BLOCK_BYTES={boostobj.base.BLOCK_BYTES}"
    )
    print(markdown_table(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rows": args.rows, "repeats": args.repeats, "results": results}, handle)


if __name__ == "__main__":
    main()
